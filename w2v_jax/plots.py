"""The pictures: a run's training curves, a 2-D map of words, a sweep's quality.

  training(metrics_path, png)  loss and words/s against words processed, with
                               epoch ends marked, and the learning rate: every
                               run writes WORKDIR/training.png (loop.py)
  words(emb_words, vectors, queries, png, method)
                               PCA (or t-SNE, where scikit-learn is installed)
                               of the query words with labels; "a:b" pairs
                               are drawn as arrows a -> b, Mikolov et al.
                               2013b Figure 2 (--mode=plot, Embeddings.plot);
                               project() and word_map() are its two halves
  sweep(rows, field, png)      analogy and word similarity against the swept
                               value (a --sweep's WORKDIR/sweep.png)
matplotlib draws with its file-only Agg backend, so no screen is needed.
"""

import json

import numpy as np

from w2v_jax import files
from w2v_jax.errors import UserError


def _pyplot():
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  return plt


def warm() -> None:
  """Imports pyplot (~0.5 s): the loop calls it in a thread while the device trains, so
  that the training plot at the end does not wait for it."""
  _pyplot()


def _label(ax, xlabel: str, ylabel: str) -> None:
  ax.set_xlabel(xlabel)
  ax.set_ylabel(ylabel)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8)


def _save(fig, title: str, png: str) -> str:
  fig.suptitle(title)
  fig.tight_layout()
  try:
    with files.atomic_write(png) as f:  # whole or not at all; a full disk is one error line
      fig.savefig(f, format="png", dpi=100)
  finally:
    _pyplot().close(fig)
  return png


def training(metrics_path: str, png: str) -> str:
  """Three panels over raw words processed: loss (recent and epoch mean), words/s
  (raw and after subsampling), learning rate; epoch ends as dotted lines."""
  with open(metrics_path, encoding="utf-8") as f:
    records = [json.loads(line) for line in f if line.strip()]
  if not records:
    return ""
  plt = _pyplot()
  words = np.array([r["words"] for r in records], np.float64)
  epoch_ends = [r["words"] for r in records if r["kind"] == "epoch"]
  fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
  panels = ((axes[0], (("loss", "recent"), ("epoch_loss", "epoch mean")), "loss per example"),
            (axes[1], (("words_per_s", "raw"), ("kept_words_per_s", "after subsampling")),
             "words/s"),
            (axes[2], (("lr", "learning rate"),), "learning rate"))
  for ax, series, ylabel in panels:
    for key, label in series:
      ax.plot(words, [r[key] for r in records], marker=".", label=label)
    for end in epoch_ends:
      ax.axvline(end, color="grey", linestyle=":", linewidth=0.8)
    _label(ax, "words processed", ylabel)
  return _save(fig, f"training: {len(epoch_ends)} epoch(s), {int(words[-1]):,} words", png)


def project(points_NxD: np.ndarray, method: str = "pca") -> np.ndarray:
  """2-D coordinates: the top two principal components, or t-SNE."""
  if method == "tsne":
    try:
      from sklearn.manifold import TSNE  # pylint: disable=import-outside-toplevel
    except ImportError:
      raise UserError("--plot_method=tsne needs scikit-learn (pip install scikit-learn); "
                      "--plot_method=pca needs nothing more") from None
    perplexity = max(1.0, min(30.0, (len(points_NxD) - 1) / 3))
    return TSNE(n_components=2, perplexity=perplexity, init="pca",
                random_state=0).fit_transform(points_NxD)
  centred_NxD = points_NxD - points_NxD.mean(axis=0)
  _, _, vt_DxD = np.linalg.svd(centred_NxD, full_matrices=False)
  return centred_NxD @ vt_DxD[:2].T


def parse_queries(query: str) -> tuple[list, list]:
  """"w1,w2" or "a:b,c:d" -> (words in order, (a, b) pairs)."""
  words, pairs = [], []
  for item in (q.strip() for q in query.split(",")):
    if not item:
      continue
    parts = item.split(":")
    if len(parts) > 2 or not all(parts):
      raise UserError(f"--query items are words or word:word pairs, got {item!r}")
    if len(parts) == 2:
      pairs.append(tuple(parts))
    words += [p for p in parts if p not in words]
  if len(words) < 2:
    raise UserError("a plot needs at least two words (--query=w1,w2,... or a:b,c:d)")
  return words, pairs


def words(vocab_words, vectors_VxD, query: str, png: str, method: str = "pca") -> str:
  """Scatter of the query words in 2-D with labels, arrows for a:b pairs."""
  wanted, pairs = parse_queries(query)
  index = {w: i for i, w in reversed(list(enumerate(vocab_words)))}
  missing = [w for w in wanted if w not in index]
  if missing:
    raise UserError(f"not in the vocabulary: {', '.join(missing)}")
  points_Nx2 = project(np.asarray(vectors_VxD, np.float64)[[index[w] for w in wanted]], method)
  return word_map(wanted, points_Nx2, pairs, png,
                  f"{len(wanted)} words, {method.upper()} of their vectors"
                  + (f"; arrows: {len(pairs)} pairs" if pairs else ""))


def word_map(labels, points_Nx2, pairs, png: str, title: str) -> str:
  """Labelled 2-D points with an arrow a -> b for each (a, b) pair: `words`' picture, or one
  drawn later from coordinates a script kept (experiments/paper_pictures.py)."""
  points_Nx2 = np.asarray(points_Nx2, np.float64)
  at = dict(zip(labels, points_Nx2))
  plt = _pyplot()
  fig, ax = plt.subplots(figsize=(7, 6))
  ax.scatter(points_Nx2[:, 0], points_Nx2[:, 1], s=14, color="tab:blue")
  for word, (x, y) in at.items():
    ax.annotate(word, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=9)
  for a, b in pairs:
    ax.annotate("", xy=at[b], xytext=at[a],
                arrowprops={"arrowstyle": "->", "color": "grey", "linewidth": 0.8})
  ax.set_title(title)
  ax.grid(alpha=0.3)
  fig.tight_layout()
  try:
    with files.atomic_write(png) as f:
      fig.savefig(f, format="png", dpi=110)
  finally:
    plt.close(fig)
  return png


def sweep(rows: list, field: str, png: str) -> str:
  """Analogy accuracy and word-similarity Spearman against the swept value."""
  plt = _pyplot()
  xs = [r[field] for r in rows]
  fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
  for key, label in (("analogy_total", "analogy total (%)"),):
    axes[0].plot(xs, [100 * r[key] for r in rows], marker="o", label=label)
  for key, label in (("ws353", "WS353"), ("simlex", "SimLex-999")):
    axes[1].plot(xs, [r[key] for r in rows], marker="o", label=label)
  for ax, ylabel in zip(axes, ("accuracy (%)", "Spearman")):
    _label(ax, field, ylabel)
  return _save(fig, f"--sweep over {field}", png)
