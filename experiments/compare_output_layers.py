"""Full softmax, negative sampling, hierarchical softmax and NCE on the same data and budget.

  taskset -c 0 .venv/bin/python experiments/compare_output_layers.py

(from the repository root; `taskset -c 0` pins it to one core, optional; about
45 minutes on one core of the development machine, most of it the two
skip-gram full-softmax runs). Trains skip-gram and CBOW with each output layer
(--loss=softmax, ns, hs, nce) on the first SLICE_TOKENS tokens of offline-prose
with the vocabulary capped at its MAX_VOCAB most frequent words (the full
softmax costs O(V) per prediction: on the whole corpus and vocabulary one
skip-gram epoch would take hours on one core), dim 100, window 5, negative 5,
sample 1e-4, EPOCHS epochs, the trainer's defaults otherwise; seeds 1-3 (1-2 for
the full softmax). Writes results/compare_output_layers.{md,png,jsonl} and
results/compare_output_layers_neighbours.npz (each run's 10 nearest neighbours
of the 1,000 most frequent words).

It answers two questions readers of the papers ask:
* Do the speed-ups change the vectors? Besides the scores, the .md gives the
  mean overlap of the 10 nearest neighbours (cosine, input vectors) of the
  1,000 most frequent words between each model and the full softmax of the same
  architecture, next to the overlap between two seeds of the same model (how
  much the vectors change when nothing but the seed does).
* Which come closest to human similarity judgements? The WS353 and SimLex-999
  Spearman columns.
What it should show: NS, HS and NCE train many times faster than the full
softmax; if the approximations did not change the vectors, their neighbour
overlap with the softmax would be as high as the softmax's with itself.
Times are training wall time on a shared machine (see the busy note); compare
them only within this table.

  --quick: the first 200,000 tokens of the default corpus, 2,000 words, 1
  seed, written to results/compare_output_layers_quick.*; a smoke test.
"""

import dataclasses
import itertools
import os

import numpy as np


import common  # experiments/common.py
from w2v_jax import config as config_lib
from w2v_jax import datasets
from w2v_jax import files
from w2v_jax import loop
from w2v_jax import metrics

NAME = "compare_output_layers"
COMMAND = "taskset -c 0 .venv/bin/python experiments/compare_output_layers.py"
SLICE_TOKENS, MAX_VOCAB, EPOCHS = 1_000_000, 5_000, 3
SEEDS, SOFTMAX_SEEDS = (1, 2, 3), 2  # the full softmax takes the first two seeds only
LOSSES = ("softmax", "ns", "hs", "nce")
TOP_WORDS, NEIGHBOURS = 1_000, 10
OVERLAP = ("overlap_softmax", "top-10 overlap with softmax %", 100.0)
SELF = ("overlap_seeds", "top-10 overlap across seeds %", 100.0)


def slice_corpus(source: str, tokens: int, cache_dir: str) -> str:
  """The first `tokens` tokens of `source` (whole lines), written once to cache_dir."""
  path = os.path.join(cache_dir, "slices",
                      f"{os.path.basename(os.path.dirname(source))}-first{tokens}.txt")
  if os.path.exists(path):
    return path
  os.makedirs(os.path.dirname(path), exist_ok=True)
  n = 0
  with open(source, encoding="utf-8") as f, files.atomic_write(path, "w", encoding="utf-8") as out:
    for line in f:
      out.write(line)
      n += len(line.split())
      if n >= tokens:
        break
  return path



def neighbours_path(name: str) -> str:
  return os.path.join(common.RESULTS_DIR, name + "_neighbours.npz")


def trainer_keeping_neighbours(name: str):
  """loop.train, then the run's top-10 neighbours of the 1,000 most frequent words, saved."""
  def trainer(config):
    summary = loop.train(config)
    params = np.load(os.path.join(summary["workdir"], "params.npz"))
    unit_VxD = metrics.unit_rows(params["emb_in"])  # rows in descending frequency
    scores_TxV = unit_VxD[:TOP_WORDS] @ unit_VxD.T
    scores_TxV[np.arange(len(scores_TxV)), np.arange(len(scores_TxV))] = -np.inf
    best_TxN = metrics.top_k(scores_TxV, NEIGHBOURS).astype(np.int32)
    common.save_run_array(neighbours_path(name), config, best_TxN)
    return summary
  return trainer


def overlap(a_TxN: np.ndarray, b_TxN: np.ndarray) -> float:
  """Mean fraction of shared neighbours, word by word."""
  return float(np.mean([len(set(a) & set(b)) / a_TxN.shape[1] for a, b in zip(a_TxN, b_TxN)]))


def add_overlaps(name: str, rows: dict, configs: dict) -> None:
  """Puts overlap_softmax and overlap_seeds into each record (from the saved neighbours)."""
  saved = dict(np.load(neighbours_path(name))) if os.path.exists(neighbours_path(name)) else {}
  for (model, loss), records in rows.items():
    mine = [saved.get(common.run_key(c)) for c in configs[model, loss]]
    reference = [saved.get(common.run_key(c)) for c in configs[model, "softmax"]]
    for i, record in enumerate(records):
      if mine[i] is None:
        continue
      others = [r for j, r in enumerate(reference) if r is not None and
                (loss != "softmax" or j != i)]
      if others:
        record["overlap_softmax"] = np.mean([overlap(mine[i], r) for r in others])
      same = [m for j, m in enumerate(mine) if m is not None and j != i]
      if same:
        record["overlap_seeds"] = np.mean([overlap(mine[i], m) for m in same])


def main():
  size = common.script_size(NAME, __doc__, EPOCHS, SEEDS)
  name, named, scratch = size.name, size.corpus, size.scratch
  tokens, vocab = (200_000, 2_000) if size.quick else (SLICE_TOKENS, MAX_VOCAB)
  seeds = {loss: size.seeds[:SOFTMAX_SEEDS] if loss == "softmax" else size.seeds
           for loss in LOSSES}
  source_config = config_lib.Config(corpus=named, workdir=scratch)
  common.ensure_corpus(source_config)
  corpus = slice_corpus(datasets.resolve(source_config), tokens,
                        common.resolve(source_config).cache_dir)
  trainer = trainer_keeping_neighbours(name)
  rows, configs = {}, {}
  for model, loss in itertools.product(("skipgram", "cbow"), LOSSES):
    base = common.base_config(corpus, scratch, model=model, loss=loss, dim=100, window=5,
                              negative=5, sample=1e-4, min_count=5, max_vocab=vocab,
                              epochs=size.epochs)
    configs[model, loss] = [dataclasses.replace(base, seed=s) for s in seeds[loss]]
    rows[model, loss] = [common.run(name, c, {"model": model, "loss": loss, "seed": c.seed},
                                    rerun=size.rerun, trainer=trainer)
                         for c in configs[model, loss]]
  add_overlaps(name, rows, configs)

  first = rows["skipgram", "ns"][0]
  speed = ("words_per_s", "k words/s", 1e-3)
  columns = common.METRICS + (common.TIME, speed)
  tables = []
  for model in ("skipgram", "cbow"):
    groups = [(loss, rows[model, loss]) for loss in LOSSES]
    tables.append(f"### {model}\n\n" + common.metric_table(groups, "output layer", columns))
  overlap_lines = ["| model | " + OVERLAP[1] + " | " + SELF[1] + " |", "|---|---|---|"]
  for (model, loss), records in rows.items():
    cells = []
    for key, _, scale in (OVERLAP, SELF):
      have = [r for r in records if key in r]
      cells.append(common.cell(have, key, scale) + f" ({len(have)} runs)" if have else "-")
    overlap_lines.append(f"| {model} {loss} | " + " | ".join(cells) + " |")
  overlap_table = "\n".join(overlap_lines)
  common.plot_metrics(
      name, list(range(len(LOSSES))),
      {model: [rows[model, loss] for loss in LOSSES] for model in ("skipgram", "cbow")},
      "output layer", f"Output layers on the first {tokens:,} tokens, {vocab:,} words",
      metrics=common.METRICS, xticklabels=list(LOSSES))
  all_records = [r for records in rows.values() for r in records]
  common.write_markdown(name, "Output layers compared: full softmax, NS, HS and NCE",
                        COMMAND + (" --quick" if size.quick else ""), [
      f"Corpus: the first {tokens:,} tokens of {named} (whole lines), vocabulary capped at its "
      f"{vocab:,} most frequent words (`--max_vocab={vocab}`, min_count 5; words outside it "
      f"are dropped from the text), {first['tokens']:,} tokens in all. Same settings for "
      f"every run: dim 100, window 5 (shrinking), negative 5 for NS and NCE, sample 1e-4, "
      f"{size.epochs} epoch(s), word2vec.c's learning rates (0.025 skip-gram, 0.05 CBOW), batch "
      "and negative sharing at the trainer's defaults (softmax 256, NS/NCE 512 with "
      "negatives shared by 32, HS 32, skip-gram HS by pair before 2026-11-23 and 24 rows "
      "by centre since). Analogies are scored over the questions whose four "
      f"words are all among the {vocab:,} (`seen` in the records), so they are few and the "
      "accuracies small; WS353 and SimLex are scored over their in-vocabulary pairs. The "
      "budget is what one CPU core affords for the full softmax, so every model here is far "
      "from converged: read the orders and the overlaps against their seed noise, not the "
      "absolute values.",
      "## Scores and time\n\n" + "\n\n".join(tables),
      "![scores](" + name + ".png)",
      "## Do the speed-ups change the vectors?\n\nMean overlap of the 10 nearest neighbours "
      f"(cosine, input vectors) of the {TOP_WORDS:,} most frequent words: against every "
      "full-softmax run of the same architecture (other seeds only, for the softmax itself), "
      "and against the other seeds of the same model.\n\n" + overlap_table,
      "## What this shows\n\n" + findings(rows),
      "## Machine\n\n" + common.busy_note(all_records),
  ])


def findings(rows: dict) -> str:
  """Plain sentences from the numbers: speed, similarity judgements, neighbour overlap."""
  mean = lambda records, key, scale=1.0: common.mean_std(records, key, scale)[0]
  out = []
  for model in ("skipgram", "cbow"):
    softmax_time = mean(rows[model, "softmax"], "train_seconds")
    out.append(f"- {model}: the full softmax took {softmax_time:.0f} s; " + ", ".join(
        f"{loss} {softmax_time / mean(rows[model, loss], 'train_seconds'):.1f}x faster"
        for loss in LOSSES[1:]) + ".")
    for key, title in (("ws353", "WS353"), ("simlex", "SimLex-999")):
      ranked = sorted(LOSSES, key=lambda loss: -mean(rows[model, loss], key))
      top, second = ranked[0], ranked[1]
      gap = mean(rows[model, top], key) - mean(rows[model, second], key)
      noise = max(common.mean_std(rows[model, loss], key)[1] for loss in (top, second))
      out.append(f"  - closest to {title}: {top} ({mean(rows[model, top], key):.3f}), then "
                 f"{second} ({mean(rows[model, second], key):.3f}); the gap {gap:.3f} is "
                 + ("larger than" if gap > noise else "within") +
                 f" the larger seed std ({noise:.3f}). Order: " + " > ".join(ranked) + ".")
    soft_self = [r[SELF[0]] for r in rows[model, "softmax"] if SELF[0] in r]
    for loss in LOSSES[1:]:
      with_softmax = [r[OVERLAP[0]] for r in rows[model, loss] if OVERLAP[0] in r]
      own = [r[SELF[0]] for r in rows[model, loss] if SELF[0] in r]
      if not (with_softmax and own and soft_self):
        continue
      floor = min(np.mean(own), np.mean(soft_self))
      out.append(f"  - {loss}: {100 * np.mean(with_softmax):.0f}% of its top-10 neighbours are "
                 f"the softmax's, against {100 * np.mean(own):.0f}% between two of its own "
                 f"seeds and {100 * np.mean(soft_self):.0f}% between two softmax seeds: "
                 + ("it changes the vectors beyond what a new seed does."
                    if np.mean(with_softmax) < floor - 0.02 else
                    "no more different from the softmax than a new seed is."))
  return "\n".join(out)


if __name__ == "__main__":
  main()
