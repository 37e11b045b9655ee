"""Corpus size: which of the papers' effects grow toward the published ones (issue 25).

  .venv/bin/python experiments/corpus_size.py --estimate   # what is left and how long; no training
  .venv/bin/python experiments/corpus_size.py              # the grid, ~1 hour (--estimate says)

(from the repository root, on an otherwise quiet machine: the times are part of the
result). The papers trained on 1B-6B words, ours on offline-prose's 10M, and several
effects come out with the opposite sign here (table_2013b.md, sweep_subsample.md). This
trains the tables' key contrasts on nested slices of offline-prose, the first 1/8, 1/4,
1/2 and all of it by whole passages (each slice a prefix of the next; common.corpus_slice),
2 seeds each, with the two tables' own recipes, so that the full-corpus points are
table_2013a's and table_2013b's rows again and each run serves every contrast it is a
side of:

  recipe A (table_2013a: hs, dim 100, window 5, t = 1e-4, 3 epochs)
    skip-gram - CBOW, semantic and syntactic              2013a Table 4
    dim 300 - dim 50, CBOW                                2013a Table 2
    1 epoch on a slice - 3 epochs on its first third,     2013a Table 5, at equal words
    skip-gram and CBOW                                    processed
  recipe B (table_2013b: skip-gram, dim 100, window 5, t = 0, 1 epoch)
    NEG-5 - HS-Huffman, total                             2013b Table 1
    t = 1e-5 - t = 0 (total, semantic), t = 1e-4 - t = 0  2013b Table 1

For each contrast results/corpus_size.md gives its value per slice with each side's
training time, a least-squares trend on log2(size) with its standard error
(experiments/trends.py), whether the trend points toward the paper's sign and where it
would cross zero, or that the extrapolation is not warranted, and the contrast at equal
training time where the slices allow it (the faster side on a larger slice). It also
draws 2013b Figure 2 and 2013a Table 8 from the best full-corpus vectors
(experiments/paper_pictures.py). Writes results/corpus_size.{md,png,jsonl} and
results/corpus_size_figure2.png; a stopped run continues where it stopped.

What it should show, if our opposite signs are the papers' effects seen on too little
data: trends that point toward the papers' signs, with crossings within reach of a larger
corpus. A trend within its error of flat says nothing either way.

  --estimate: the runs not yet recorded and their time, from the records of comparable
  runs in results/*.jsonl (experiments/budget.py); trains nothing.
  --quick: the default corpus (~0.5M tokens, sliced by line), slices 1/4, 1/2 and all,
  seed 1, written to results/corpus_size_quick.*; a smoke test of the script, not a result.
"""

import dataclasses
import math
import os

import numpy as np

import budget  # experiments/budget.py
import common  # experiments/common.py
import paper_pictures  # experiments/paper_pictures.py
import trends  # experiments/trends.py
from w2v_jax import loop
from w2v_jax import word2vec_format
from w2v_jax.corpora import offline

NAME = "corpus_size"
COMMAND = ".venv/bin/python experiments/corpus_size.py"
FRACTIONS, QUICK_FRACTIONS, SEEDS = (1 / 8, 1 / 4, 1 / 2, 1.0), (1 / 4, 1 / 2, 1.0), (1, 2)
RECIPE_A = dict(loss="hs", dim=100, window=5, min_count=5, sample=1e-4, epochs=3)
RECIPE_B = dict(model="skipgram", dim=100, window=5, min_count=5, sample=0.0, epochs=1)
# Each side of a contrast: its config, and the share of a size's slice it trains on (the
# 3-epoch side of an equal-words pair reads a third of it, three times).
ARMS = {
    "skip-gram hs": (dict(RECIPE_A, model="skipgram"), 1.0),
    "CBOW hs": (dict(RECIPE_A, model="cbow"), 1.0),
    "CBOW hs dim 50": (dict(RECIPE_A, model="cbow", dim=50), 1.0),
    "CBOW hs dim 300": (dict(RECIPE_A, model="cbow", dim=300), 1.0),
    "skip-gram hs 1 epoch": (dict(RECIPE_A, model="skipgram", epochs=1), 1.0),
    "skip-gram hs 3 epochs on a third": (dict(RECIPE_A, model="skipgram"), 1 / 3),
    "CBOW hs 1 epoch": (dict(RECIPE_A, model="cbow", epochs=1), 1.0),
    "CBOW hs 3 epochs on a third": (dict(RECIPE_A, model="cbow"), 1 / 3),
    "NEG-5": (dict(RECIPE_B, loss="ns", negative=5), 1.0),
    "HS-Huffman": (dict(RECIPE_B, loss="hs"), 1.0),
    "NEG-5 t=1e-5": (dict(RECIPE_B, loss="ns", negative=5, sample=1e-5), 1.0),
    "NEG-5 t=1e-4": (dict(RECIPE_B, loss="ns", negative=5, sample=1e-4), 1.0),
}


@dataclasses.dataclass(frozen=True)
class Contrast:
  """a - b in points of `metric`, against corpus size."""
  key: str         # its section's anchor in corpus_size.md: the paper tables link to it
  title: str
  a: str
  b: str
  metric: str
  paper: tuple     # ((training words, value), ...): the paper's contrast at its sizes
  source: str
  claim_sign: int = 0  # the sign the paper's text claims where it gives no number


CONTRASTS = (
    Contrast("sg-cbow-semantic", "skip-gram - CBOW, semantic %", "skip-gram hs", "CBOW hs",
             "analogy_semantic", ((783e6, 34.5),), "2013a Table 4: 50.0 - 15.5 (783M words, "
             "300 dims, 3 epochs)"),
    Contrast("sg-cbow-syntactic", "skip-gram - CBOW, syntactic %", "skip-gram hs", "CBOW hs",
             "analogy_syntactic", ((783e6, 2.8),), "2013a Table 4: 55.9 - 53.1"),
    Contrast("dim-300-50", "CBOW: dim 300 - dim 50, total %", "CBOW hs dim 300",
             "CBOW hs dim 50", "analogy_total", ((24e6, 9.8), (783e6, 22.7)),
             "2013a Table 2 (CBOW): 23.2 - 13.4 at 24M words, 45.9 - 23.2 at 783M"),
    Contrast("epochs-skipgram", "skip-gram: 1 epoch - 3 epochs on a third (equal words), "
             "total %", "skip-gram hs 1 epoch", "skip-gram hs 3 epochs on a third",
             "analogy_total", ((1.6e9, 0.5),), "2013a Table 5: 53.8 (1 epoch, 1.6B) - 53.3 "
             "(3 epochs, 783M): twice the data, not three times"),
    Contrast("epochs-cbow", "CBOW: 1 epoch - 3 epochs on a third (equal words), total %",
             "CBOW hs 1 epoch", "CBOW hs 3 epochs on a third", "analogy_total",
             ((1.6e9, 0.0),), "2013a Table 5: 36.1 - 36.1"),
    Contrast("neg-hs", "NEG-5 - HS-Huffman, total %", "NEG-5", "HS-Huffman", "analogy_total",
             ((1e9, 12.0),), "2013b Table 1: 59 - 47 (1B words)"),
    Contrast("subsample-1e-5", "NEG-5: t = 1e-5 - t = 0, total %", "NEG-5 t=1e-5", "NEG-5",
             "analogy_total", ((1e9, 1.0),), "2013b Table 1: 60 - 59"),
    Contrast("subsample-1e-5-semantic", "NEG-5: t = 1e-5 - t = 0, semantic %",
             "NEG-5 t=1e-5", "NEG-5", "analogy_semantic", ((1e9, 4.0),),
             "2013b Table 1: 58 - 54"),
    Contrast("subsample-1e-4", "NEG-5: t = 1e-4 - t = 0, total %", "NEG-5 t=1e-4", "NEG-5",
             "analogy_total", (), "none: 2013b has no 1e-4 row; its text claims equal or "
             "better accuracy", claim_sign=1),
)


def fractions(size: common.Size) -> tuple:
  return QUICK_FRACTIONS if size.quick else FRACTIONS


def plan(size: common.Size) -> list:
  """Every run: (arm, fraction, seed, config), smallest slice first."""
  by_passage = size.corpus == offline.NAME
  runs = []
  for fraction in fractions(size):
    for arm, (overrides, share) in ARMS.items():
      corpus = common.slice_path(size.corpus, fraction * share, by_passage)
      for seed in size.seeds:
        runs.append((arm, fraction, seed,
                     common.base_config(corpus, size.scratch, seed=seed, **overrides)))
  return runs


def trainer(config):
  """loop.train, then what the two pictures need from its vectors (paper_pictures.py)."""
  summary = loop.train(config)
  words, vectors_VxD = word2vec_format.read_word2vec(os.path.join(config.workdir, "vectors.bin"))
  summary["eval"]["pictures"] = paper_pictures.picture_data(words, vectors_VxD)
  return summary


def main():
  size = common.script_size(NAME, __doc__, epochs=1, seeds=SEEDS, switches={
      "estimate": "print the runs not yet recorded and their estimated time; train nothing"})
  runs = plan(size)
  if size.options["estimate"]:
    print(estimate(size, runs))
    return
  for fraction in fractions(size):  # every slice first: the runs read them by path
    for _, share in ARMS.values():
      common.corpus_slice(size.corpus, fraction * share, size.corpus == offline.NAME)
  records = {}
  for arm, fraction, seed, config in runs:
    records.setdefault((arm, fraction), []).append(common.run(
        size.name, config, {"arm": arm, "fraction": fraction, "seed": seed},
        rerun=size.rerun, trainer=trainer, extra=("pictures",)))
  write_results(size, records)


# ------------------------------------------------------------------ what the runs show


@dataclasses.dataclass
class Curve:
  """One contrast against corpus size: per slice, its seeds' values and each side's means."""
  contrast: Contrast
  fractions: tuple
  tokens: list      # tokens of side a's slice (for the equal-words pairs: the 1-epoch side)
  diffs: list       # per slice, a - b per seed (paired by seed), in points
  means: list       # per slice, (a mean, b mean) in points
  seconds: list     # per slice, (a mean, b mean) training seconds
  trend: trends.Trend
  matched: list     # per slice, trends.at_matched_time's (contrast, faster side's tokens)


def curve(contrast: Contrast, records: dict, fractions_: tuple) -> Curve:
  scale = 100.0
  tokens, diffs, means, seconds = [], [], [], []
  for fraction in fractions_:
    a, b = records[(contrast.a, fraction)], records[(contrast.b, fraction)]
    b_by_seed = {r["seed"]: r for r in b}
    tokens.append(a[0]["tokens"])
    diffs.append([scale * (r[contrast.metric] - b_by_seed[r["seed"]][contrast.metric])
                  for r in a if r["seed"] in b_by_seed])
    means.append(tuple(common.mean_std(side, contrast.metric, scale)[0] for side in (a, b)))
    seconds.append(tuple(common.mean_std(side, "train_seconds")[0] for side in (a, b)))
  points = [(t, d) for t, ds in zip(tokens, diffs) for d in ds]
  trend = trends.fit([t for t, _ in points], [d for _, d in points])
  b_tokens = [records[(contrast.b, f)][0]["tokens"] for f in fractions_]
  matched = trends.at_matched_time(
      [(t, sa, ma) for t, (sa, _), (ma, _) in zip(tokens, seconds, means)],
      [(t, sb, mb) for t, (_, sb), (_, mb) in zip(b_tokens, seconds, means)])
  return Curve(contrast, fractions_, tokens, diffs, means, seconds, trend, matched)


def _paper_value(contrast: Contrast):
  return contrast.paper[-1][1] if contrast.paper else None


def _fraction_text(fraction: float) -> str:
  return "all" if fraction == 1 else f"1/{round(1 / fraction)}"


def _signed(values: list) -> str:
  mean = float(np.mean(values))
  return (f"{mean:+.1f} ± {float(np.std(values, ddof=1)):.1f}" if len(values) > 1
          else f"{mean:+.1f}")


def contrast_section(c: Curve) -> str:
  k = c.contrast
  lines = [f"### {k.key}", "", f"**{k.title}**; paper: {k.source}.", "",
           f"| slice | tokens | {k.a} | {k.b} | a - b, points | time a / b, s | "
           "a - b at equal time |", "|---|---|---|---|---|---|---|"]
  for i, fraction in enumerate(c.fractions):
    matched, fast_tokens = c.matched[i]
    at_time = (f"{matched:+.1f} (faster side on ~{trends.tokens_text(fast_tokens)})"
               if matched is not None else "-")
    lines.append(f"| {_fraction_text(fraction)} | {trends.tokens_text(c.tokens[i])} | "
                 f"{c.means[i][0]:.1f} | {c.means[i][1]:.1f} | {_signed(c.diffs[i])} | "
                 f"{c.seconds[i][0]:.0f} / {c.seconds[i][1]:.0f} | {at_time} |")
  _, sentence = trends.verdict(c.trend, _paper_value(k), c.tokens[-1], k.claim_sign)
  lines += ["", sentence]
  if len(k.paper) >= 2:
    (w0, v0), (w1, v1) = k.paper[0], k.paper[-1]
    lines[-1] += (f" The paper's own values move {(v1 - v0) / math.log2(w1 / w0):+.2f} "
                  f"points per doubling between {trends.tokens_text(w0)} and "
                  f"{trends.tokens_text(w1)} words.")
  return "\n".join(lines)


def summary_table(curves: list) -> str:
  lines = ["| contrast | paper | ours, slice by slice | trend, points per doubling | reading |",
           "|---|---|---|---|---|"]
  for c in curves:
    k = c.contrast
    paper = f"{_paper_value(k):+.1f}" if k.paper else "no number"
    ours = " · ".join(f"{np.mean(d):+.1f}" for d in c.diffs)
    slope = (f"{c.trend.slope:+.2f} ± {c.trend.slope_se:.2f}" if np.isfinite(c.trend.slope_se)
             else f"{c.trend.slope:+.2f}")
    short, _ = trends.verdict(c.trend, _paper_value(k), c.tokens[-1], k.claim_sign)
    lines.append(f"| [{k.title}](#{k.key}) | {paper} | {ours} | {slope} | {short} |")
  return "\n".join(lines)


def plot_curves(name: str, curves: list, title: str) -> str:
  """One panel per contrast: seeds, means, the trend with its 2-standard-error band over
  the data and dashed beyond it to the paper's size, and the paper's value(s)."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  cols = 3
  rows = -(-len(curves) // cols)
  fig, axes = plt.subplots(rows, cols, figsize=(5.0 * cols, 3.7 * rows), squeeze=False)
  for ax, c in zip(axes.flat, curves):
    k = c.contrast
    for t, ds in zip(c.tokens, c.diffs):
      ax.scatter([t] * len(ds), ds, s=10, color="grey", zorder=3)
    ax.plot(c.tokens, [np.mean(d) for d in c.diffs], "o", color="tab:blue", zorder=4,
            label="ours (mean of seeds)")
    reach = max([c.tokens[-1]] + [w for w, _ in k.paper])
    for lo, hi, style in ((c.tokens[0], c.tokens[-1], "-"), (c.tokens[-1], reach, "--")):
      xs = np.geomspace(lo, hi, 30)
      line = np.array([c.trend.at(x) for x in xs])
      band = np.array([2 * c.trend.se_at(x) for x in xs]) if np.isfinite(
          c.trend.slope_se) else np.zeros_like(xs)
      ax.plot(xs, line, style, color="tab:blue", label="trend" if style == "-" else None)
      ax.fill_between(xs, line - band, line + band, color="tab:blue",
                      alpha=0.2 if style == "-" else 0.08)
    for words, value in k.paper:
      ax.plot(words, value, "*", color="tab:red", markersize=11, zorder=5)
    if k.paper:
      ax.axhline(_paper_value(k), color="tab:red", linestyle=":", label="paper")
    ax.axhline(0, color="black", linewidth=0.6)
    values = [d for ds in c.diffs for d in ds] + [v for _, v in k.paper] + [
        c.trend.at(c.tokens[0]), c.trend.at(reach)]
    span = max(values) - min(values) or 1.0
    ax.set_ylim(min(values) - 0.15 * span, max(values) + 0.15 * span)
    ax.set_xscale("log")
    ax.set_title(k.title, fontsize=9)
    ax.set_xlabel("tokens in the slice (log)")
    ax.set_ylabel("a - b, points")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
  for ax in list(axes.flat)[len(curves):]:
    ax.axis("off")
  fig.suptitle(common.marked_title(name, title))
  fig.tight_layout()
  path = os.path.join(common.RESULTS_DIR, name + ".png")
  os.makedirs(common.RESULTS_DIR, exist_ok=True)
  fig.savefig(path, dpi=100)
  plt.close(fig)
  print(f"wrote {path}", flush=True)
  return path


def pictures(size: common.Size, records: dict) -> str:
  """Figure 2 and Table 8 from the largest slice's best arm (analogy total), first seed."""
  largest = fractions(size)[-1]
  arm = max(ARMS, key=lambda a: common.mean_std(records[(a, largest)], "analogy_total")[0])
  record = min(records[(arm, largest)], key=lambda r: r["seed"])
  png = os.path.join(common.RESULTS_DIR, f"{NAME}_figure2"
                     f"{common.QUICK_SUFFIX if size.quick else ''}.png")
  os.makedirs(common.RESULTS_DIR, exist_ok=True)
  drawn = paper_pictures.figure2(png, record["pictures"], common.marked_title(
      size.name, "2013b Figure 2") + f"\nfrom ours: {arm}, {size.corpus}, seed {record['seed']}")
  missing = record["pictures"]["figure2"]["missing"]
  figure = (f"![countries and capitals]({os.path.basename(drawn)})" if drawn else
            "(fewer than two of its words are in this vocabulary: no figure)") + (
                f"\n\nNot in the vocabulary, so left out: {', '.join(missing)}." if missing
                else "")
  return (f"From the vectors with the best analogy total on the whole corpus: {arm}, seed "
          f"{record['seed']} ({100 * record['analogy_total']:.1f}%).\n\n"
          "### 2013b Figure 2: countries and capitals, PCA of their vectors\n\n" + figure
          + "\n\n### 2013a Table 8: a is to b as c is to ?\n\n"
          + paper_pictures.table8(record["pictures"]))


def write_results(size: common.Size, records: dict) -> None:
  curves = [curve(k, records, fractions(size)) for k in CONTRASTS]
  every = [r for rs in records.values() for r in rs]
  slices = ", ".join(f"{_fraction_text(f)} {trends.tokens_text(records[('NEG-5', f)][0]['tokens'])}"
                     for f in fractions(size))
  minutes = sum(r["train_seconds"] for r in every) / 60
  recipe = lambda r: ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}"
                               for k, v in r.items())
  smoke = " (a smoke run: these readings are no result)" if size.quick else ""
  sections = [
      "Each contrast is a - b between two runs that read the same slice of the corpus for "
      "the same number of epochs (equal words processed; the epoch contrasts read three "
      "times a third), paired by seed. The trend is the least-squares line of a - b on "
      "log2(tokens) through every (slice, seed) point; its standard error comes from their "
      f"scatter about the line. A slope within {trends.SLOPE_SE:.0f} standard errors of 0 "
      f"claims nothing, and a crossing more than {trends.FAR:.0f}x beyond our largest slice "
      "is not extrapolated." + smoke,
      "## Summary\n\n" + summary_table(curves) + f"\n\n![trends]({size.name}.png)",
      "## Contrast by contrast\n\nTime is each side's mean training time; 'at equal time' "
      "gives the faster side the slower side's time, on the larger slice it would read in "
      "it (interpolated between our slices in log time; '-' where that lies beyond them).\n\n"
      + "\n\n".join(contrast_section(c) for c in curves),
      "## Two of the papers' pictures from our vectors\n\n" + pictures(size, records),
      "## Notes\n\n"
      f"Corpus: {size.corpus}, sliced "
      f"{'by whole passages' if size.corpus == offline.NAME else 'by line'}"
      f" into nested prefixes ({slices} tokens in the vocabulary), the 3-epoch sides of the "
      "equal-words pairs on the first third of each. Recipe A (table_2013a.py): "
      f"{recipe(RECIPE_A)}; recipe B (table_2013b.py): {recipe(RECIPE_B)}; the library's "
      f"defaults otherwise; seeds {', '.join(map(str, size.seeds))}; analogies restricted to "
      f"the 30,000 most frequent words. {len(every)} runs, {minutes:.0f} minutes of training "
      "in all. "
      + common.busy_note(every)]
  common.write_markdown(size.name, "Corpus size: which of the papers' effects grow toward "
                        "the published ones", COMMAND + (" --quick" if size.quick else ""),
                        sections)
  plot_curves(size.name, curves, f"contrasts against corpus size ({size.corpus})")


def estimate(size: common.Size, runs: list) -> str:
  """--estimate's text: budget.estimate over the planned runs, each reading its slice."""
  tokens = budget.corpus_tokens(size.corpus)
  return budget.estimate(size.name, [
      (arm, config, tokens * fraction * ARMS[arm][1]) for arm, fraction, _, config in runs],
      f"{len(ARMS)} arms x {len(runs) // len(ARMS) // len(size.seeds)} slices x "
      f"{len(size.seeds)} seeds on {size.corpus} ({tokens:,} tokens)",
      new_files=sorted({c.corpus for _, _, _, c in runs if c.corpus != size.corpus}))


if __name__ == "__main__":
  main()
