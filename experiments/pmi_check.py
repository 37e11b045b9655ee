"""Levy & Goldberg (2014): does skip-gram with negative sampling factorise shifted PMI?

  taskset -c 0 .venv/bin/python experiments/pmi_check.py

(from the repository root; `taskset -c 0` pins it to one core, optional; about
10 minutes on one core of the development machine). Trains skip-gram with
negative sampling (k = 5) on the default corpus (~0.5M tokens, no --corpus)
for EPOCHS epochs at several dimensions, with no subsampling (sample 0) so that
the pairs it trains on are exactly the pairs counted here. Writes
results/pmi_check.{md,png,jsonl} and results/pmi_check_dots.npz (each run's
u.v over the counted pairs, for the plot).

What is compared. In our skip-gram the context word c is the input (row v_c of
emb_in) and the centre word o is predicted (row u_o of emb_out), with K
negatives from Pn(o) = count(o)^0.75 / Z. Let #(c, o) be the expected number of
times the pair is trained in one epoch and #(c) = sum_o #(c, o). Setting the
derivative of SGNS's expected loss for the pair to zero (docs/MATH.md, NCE
section) gives the optimum
  v_c.u_o = log(#(c, o) / (#(c) Pn(o))) - log k     (target)
which with the unigram Pn (ns_exponent 1) is PMI(c, o) - log k, Levy &
Goldberg's shifted PMI; with the 0.75 exponent it is their PMI with "context
distribution smoothing" (2015). The target above is the one for our settings;
the plain shifted PMI (unigram, no smoothing) is reported beside it.

What is counted. Pairs within a sentence, at distance d <= window = 5 in the
tokens left after removing words under min_count (as the trainer does). The
trainer draws each centre word's half-width b uniformly from 1..5 (word2vec.c's
dynamic window), so a pair at distance d is trained with probability
(5 - d + 1) / 5 per occurrence; #(c, o) is that expected count. Only pairs seen
at least MIN_COUNT times (expected) are compared: rarer pairs' PMI estimates
and SGD's solution for them are both noisy, and pairs never seen have
PMI = -inf, which no finite u.v reaches (Levy & Goldberg's point about the
dense factorisation). Negatives equal to the target are skipped and groups of
32 examples share negatives (the trainer's defaults); neither changes the
expectation much. Saturated terms (|u.v| >= 6) make no update
(--skip_saturated=all), which caps what the model can fit at 6 in absolute
value; the targets of the counted pairs rarely reach that.

What it should show: a positive, not perfect, correlation between u.v and the
target, rising with the dimension (the factorisation is exact only when the
dimension is large enough to fit every pair and training reaches the
optimum), and u.v closest to the target for the most frequent pairs.

  --quick: 1 epoch, one dimension, written to results/pmi_check_quick.*
"""

import dataclasses
import os

import numpy as np


import common  # experiments/common.py
from w2v_jax import loop
from w2v_jax import metrics
from w2v_jax import pipeline

NAME = "pmi_check"
COMMAND = "taskset -c 0 .venv/bin/python experiments/pmi_check.py"
DIMS, EPOCHS, SEEDS = (25, 100, 300), 10, (1,)
K, WINDOW = 5, 5
MIN_COUNT = 5.0          # expected pair count per epoch for a pair to be compared
BANDS = (5.0, 20.0, 100.0)  # correlations also over pairs seen at least this often


def pair_counts(ids_N: np.ndarray, offsets_S: np.ndarray, vocab_size: int, window: int):
  """Expected pair counts per epoch under the dynamic window: (c_P, o_P, count_P), #(c) [V].

  A pair at distance d within a sentence is trained with probability
  (window - d + 1) / window, in both directions (each word is once the
  centre). Pairs never cross a sentence end.
  """
  sentence_N = np.repeat(np.arange(len(offsets_S) - 1), np.diff(offsets_S))
  keys, weights = [], []
  for d in range(1, window + 1):
    same = sentence_N[d:] == sentence_N[:-d]
    left, right = ids_N[:-d][same].astype(np.int64), ids_N[d:][same].astype(np.int64)
    w = (window - d + 1) / window
    keys += [left * vocab_size + right, right * vocab_size + left]
    weights += [np.full(2 * len(left), w)]
  keys = np.concatenate(keys)
  unique, inverse = np.unique(keys, return_inverse=True)
  count_P = np.bincount(inverse, weights=np.concatenate(weights))
  c_P, o_P = unique // vocab_size, unique % vocab_size
  per_context_V = np.bincount(c_P, weights=count_P, minlength=vocab_size)
  return c_P, o_P, count_P, per_context_V


def targets(c_P, o_P, count_P, per_context_V, counts_V, exponent: float):
  """log(#(c, o) / (#(c) Pn(o))) - log k with Pn = counts^exponent / Z."""
  noise_V = counts_V.astype(np.float64) ** exponent
  noise_V /= noise_V.sum()
  return np.log(count_P) - np.log(per_context_V[c_P]) - np.log(noise_V[o_P]) - np.log(K)



def dots_path(name: str) -> str:
  return os.path.join(common.RESULTS_DIR, name + "_dots.npz")


def counted_pairs(config):
  """The compared pairs of the config's corpus: (c_P, o_P, count_P, target_P, pmi_P, counts_V)."""
  data = pipeline.prepare_data(dataclasses.replace(config, sample=0.0))
  counts_V = data.corpus.vocab.counts
  c_P, o_P, count_P, per_context_V = pair_counts(np.asarray(data.corpus.ids),
                                                 np.asarray(data.corpus.offsets),
                                                 len(counts_V), config.window)
  keep = count_P >= MIN_COUNT
  c_P, o_P, count_P = c_P[keep], o_P[keep], count_P[keep]
  target_P = targets(c_P, o_P, count_P, per_context_V, counts_V, config.ns_exponent)
  pmi_P = targets(c_P, o_P, count_P, per_context_V, counts_V, 1.0)
  return c_P, o_P, count_P, target_P, pmi_P, counts_V


def trainer_keeping_dots(name: str, pairs):
  """loop.train, then u.v over the counted pairs, saved for the report."""
  def trainer(config):
    summary = loop.train(config)
    params = np.load(os.path.join(summary["workdir"], "params.npz"))
    c_P, o_P = pairs[0], pairs[1]
    dot_P = np.einsum("pd,pd->p", params["emb_in"][c_P], params["emb_out"][o_P])
    common.save_run_array(dots_path(name), config, dot_P.astype(np.float32))
    return summary
  return trainer


def correlations(dot_P, target_P, count_P) -> dict:
  out = {}
  for band in BANDS:
    sel = count_P >= band
    if sel.sum() < 3:
      continue
    diff = dot_P[sel] - target_P[sel]
    out[band] = {"pairs": int(sel.sum()),
                 "pearson": metrics.pearson(dot_P[sel], target_P[sel]),
                 "spearman": metrics.spearman(dot_P[sel], target_P[sel]),
                 "mean_diff": float(diff.mean()), "rms_diff": float(np.sqrt((diff ** 2).mean()))}
  return out


def plot(name: str, panels, title: str) -> str:
  """Hexbins of u.v against the target, one panel per dimension."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4.4), squeeze=False)
  for ax, (label, dot_P, target_P, stats) in zip(axes[0], panels):
    ax.hexbin(target_P, dot_P, gridsize=60, bins="log", cmap="viridis", mincnt=1)
    lo, hi = np.percentile(np.concatenate([target_P, dot_P]), [0.5, 99.5])
    ax.plot([lo, hi], [lo, hi], "r--", linewidth=1, label="u.v = target")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("log(#(c,o) / (#(c) Pn(o))) - log k")
    ax.set_ylabel("u_o . v_c (trained)")
    ax.set_title(f"{label}: Pearson {stats['pearson']:.2f}, Spearman {stats['spearman']:.2f}",
                 fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
  fig.suptitle(common.marked_title(name, title), fontsize=10)
  fig.tight_layout()
  path = os.path.join(common.RESULTS_DIR, name + ".png")
  fig.savefig(path, dpi=110)
  plt.close(fig)
  print(f"wrote {path}", flush=True)
  return path


def main():
  size = common.script_size(NAME, __doc__, EPOCHS, SEEDS)
  name, epochs = size.name, size.epochs
  dims = (100,) if size.quick else DIMS
  # The default corpus at both sizes: --quick only shortens training.
  base = common.base_config("default", size.scratch, model="skipgram", loss="ns", negative=K,
                            window=WINDOW, sample=0.0, epochs=epochs)
  pairs = counted_pairs(base)
  c_P, o_P, count_P, target_P, pmi_P, counts_V = pairs
  trainer = trainer_keeping_dots(name, pairs)
  runs = []
  for dim in dims:
    for seed in size.seeds:
      config = dataclasses.replace(base, dim=dim, seed=seed)
      record = common.run(name, config, {"dim": dim, "seed": seed}, rerun=size.rerun,
                          trainer=trainer)
      runs.append((dim, seed, record, dict(np.load(dots_path(name)))[common.run_key(config)]))

  lines = ["| dim | seed | pairs (#(c,o) >= n) | Pearson | Spearman | mean u.v - target | "
           "rms u.v - target | Pearson with PMI - log k (unigram) | WS353 | SimLex |",
           "|---|---|---|---|---|---|---|---|---|---|"]
  panels = []
  for dim, seed, record, dot_P in runs:
    stats = correlations(dot_P, target_P, count_P)
    plain = correlations(dot_P, pmi_P, count_P)
    for band, s in stats.items():
      lines.append(f"| {dim} | {seed} | {s['pairs']:,} (n = {band:g}) | {s['pearson']:.3f} | "
                   f"{s['spearman']:.3f} | {s['mean_diff']:+.2f} | {s['rms_diff']:.2f} | "
                   f"{plain[band]['pearson']:.3f} | {record['ws353']:.3f} | "
                   f"{record['simlex']:.3f} |")
    if seed == size.seeds[0]:
      panels.append((f"dim {dim}", dot_P, target_P, stats[BANDS[0]]))
  plot(name, panels, f"SGNS u.v against shifted PMI, default corpus, {epochs} epoch(s), k = {K}")
  best = max(runs, key=lambda r: correlations(r[3], target_P, count_P)[BANDS[0]]["pearson"])
  best_stats = correlations(best[3], target_P, count_P)
  first = runs[0][2]
  common.write_markdown(name, "Levy & Goldberg: SGNS and shifted PMI",
                        COMMAND + (" --quick" if size.quick else ""), [
      f"Corpus: the default corpus ({first['tokens']:,} tokens in the vocabulary of "
      f"{first['vocab_size']:,} words at min_count 5). Skip-gram, negative sampling with "
      f"k = {K} from unigram^0.75, window {WINDOW} (dynamic), no subsampling, {epochs} "
      f"epoch(s), the trainer's defaults otherwise; dims {', '.join(map(str, dims))}. "
      f"Compared: the {len(count_P):,} (context, centre) pairs trained at least "
      f"{MIN_COUNT:g} times per epoch (expected count under the dynamic window), out of "
      "all pairs seen; u.v is input row of the context word times output row of the centre "
      "word. The target is SGNS's optimum for these settings, log(#(c,o) / (#(c) Pn(o))) - "
      "log k (the script's docstring derives it); the column 'PMI - log k (unigram)' uses "
      "Pn = unigram instead, Levy & Goldberg's 2014 form.",
      "## Correlation of trained u.v with the target\n\n" + "\n".join(lines),
      "![hexbin](" + name + ".png)",
      "## What this shows\n\n" + verdict(runs, target_P, count_P, best, best_stats),
      "## Machine\n\n" + common.busy_note([r[2] for r in runs]),
  ])


def verdict(runs, target_P, count_P, best, best_stats) -> str:
  """Plain sentences from the numbers."""
  by_dim = [(dim, correlations(dot_P, target_P, count_P)[BANDS[0]]["pearson"])
            for dim, _, _, dot_P in runs]
  rising = all(b[1] >= a[1] - 0.01 for a, b in zip(by_dim, by_dim[1:]))
  bands = sorted(best_stats)
  out = [f"- The trained u.v correlates with the shifted-PMI target: Pearson "
         f"{best_stats[bands[0]]['pearson']:.2f}, Spearman {best_stats[bands[0]]['spearman']:.2f} "
         f"over {best_stats[bands[0]]['pairs']:,} pairs at dim {best[0]} (the best here). "
         + ("That is a strong but not exact agreement." if best_stats[bands[0]]["pearson"] > 0.7
            else "That is a partial agreement: training does not reach the optimum for "
            "every pair.")]
  if len(by_dim) > 1:
    out.append("- By dimension (Pearson, pairs seen >= "
               f"{BANDS[0]:g} times): " + ", ".join(f"dim {d} {p:.2f}" for d, p in by_dim) + ". "
               + ("It rises (or holds) with the dimension, as the theory expects: a "
                  "low-dimensional factorisation cannot fit every pair." if rising else
                  "It does not rise steadily with the dimension here."))
  freq = [best_stats[b]["pearson"] for b in bands]
  out.append("- By pair frequency at dim " + str(best[0]) + ": " + ", ".join(
      f"pairs seen >= {b:g} times {best_stats[b]['pearson']:.2f} "
      f"(u.v - target {best_stats[b]['mean_diff']:+.2f} on average)" for b in bands) + ". "
      + ("Frequent pairs agree better." if freq[-1] > freq[0] else
         "Frequent pairs do not agree better here."))
  return "\n".join(out)


if __name__ == "__main__":
  main()
