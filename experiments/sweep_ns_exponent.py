"""The negative-sampling noise exponent: counts^alpha for alpha in {0, 0.25, 0.5, 0.75, 1}.

  taskset -c 1 .venv/bin/python experiments/sweep_ns_exponent.py

(from the repository root; `taskset -c 1` pins it to one core, optional; ~20
minutes on one core of the development machine, a busy one). Skip-gram and CBOW with
negative sampling on offline-prose (dim 100, window 5, negative 5, sample
1e-4, 2 epochs, seeds 1-3). The five exponents of one model and seed train
side by side in one compiled program (`run.py --sweep=ns_exponent=0,0.25,0.5,
0.75,1`, w2v_jax/sweep.py): they share the data stream (batches made once)
and differ only in the alias table their negatives are drawn from. As a check of that shortcut, one
variant (skip-gram, alpha 0.75, seed 1) is also trained as a separate run, and
the .md puts the two side by side. Writes results/sweep_ns_exponent.{md,png,jsonl}.

What it should show (Mikolov et al. 2013b; Levy, Goldberg & Dagan 2015): the
smoothed unigram, alpha = 0.75, beats the uniform (0) and the unigram (1)
distributions on the analogies. Time is one sweep program's wall time for all
five variants, so it is the same in each row of a model and not a per-variant
cost.

  --quick: the default corpus (~0.5M tokens), 1 epoch, 1 seed, written to
  results/sweep_ns_exponent_quick.*; a smoke test of the script, not a result.
"""

import dataclasses
import os


import common  # experiments/common.py

NAME = "sweep_ns_exponent"
COMMAND = "taskset -c 1 .venv/bin/python experiments/sweep_ns_exponent.py"
EXPONENTS = (0.0, 0.25, 0.5, 0.75, 1.0)
MODELS = ("skipgram", "cbow")
CHECK = ("skipgram", 0.75)  # the variant also trained as a separate run (first seed)


def main():
  size = common.script_size(NAME, __doc__, epochs=2)
  sweep = "ns_exponent=" + ",".join(f"{x:g}" for x in EXPONENTS)
  groups = {}
  check = None
  for model in MODELS:
    by_exponent = {x: [] for x in EXPONENTS}
    for seed in size.seeds:
      config = common.base_config(size.corpus, size.scratch, model=model, loss="ns", dim=100,
                                  window=5, negative=5, sample=1e-4, epochs=size.epochs,
                                  seed=seed, sweep=sweep)
      for record in common.run_sweep(size.name, config, {"model": model, "seed": seed},
                                     rerun=size.rerun):
        by_exponent[record["ns_exponent"]].append(record)
      if (model, size.seeds[0]) == (CHECK[0], seed):
        separate = dataclasses.replace(config, sweep="", ns_exponent=CHECK[1])
        check = common.run(size.name, separate, {"model": model, "seed": seed,
                                                 "ns_exponent": CHECK[1], "separate": True},
                           rerun=size.rerun)
    groups[model] = [by_exponent[x] for x in EXPONENTS]
  write_results(size.name, groups, check, size.corpus, size.epochs, sweep, size.quick)


def write_results(name, groups, check, corpus, epochs, sweep, quick):
  every = [r for per_x in groups.values() for records in per_x for r in records]
  tokens = every[0]["tokens"]
  tables = []
  for model, per_x in groups.items():
    rows = [(f"{x:g}", records) for x, records in zip(EXPONENTS, per_x)]
    tables.append(f"### {model}, negative sampling\n\n"
                  + common.metric_table(rows, "exponent alpha"))

  def mean(model, x, key, scale=100.0):
    return common.mean_std(groups[model][EXPONENTS.index(x)], key, scale)[0]

  findings = ["## What reproduces", "",
              f"Corpus: {corpus}, {tokens:,} tokens in the vocabulary, {epochs} epoch(s): about "
              f"{100 * tokens / 1e9:.1f}% of the ~1B words of the paper's news corpus, and not "
              "news. Each model and seed is one `--sweep` program training all five exponents.",
              ""]
  for model in MODELS:
    best = max(EXPONENTS, key=lambda x: mean(model, x, "analogy_total"))
    std = {x: common.mean_std(groups[model][EXPONENTS.index(x)], "analogy_total", 100.0)[1]
           for x in EXPONENTS}
    verdict = []
    for other in (0.0, 1.0):
      diff = mean(model, 0.75, "analogy_total") - mean(model, other, "analogy_total")
      spread = max(std[0.75], std[other])
      word = ("beats" if diff > 2 * spread else "does not clearly beat" if diff > 0 else
              "does not beat")
      verdict.append(f"0.75 {word} {other:g} ({diff:+.1f} points; seed std up to "
                     f"{spread:.1f})")
    findings.append(
        f"* **{model}**: analogy total by alpha: " + ", ".join(
            f"{x:g}: {mean(model, x, 'analogy_total'):.1f}%" for x in EXPONENTS)
        + f"; best alpha {best:g}. " + "; ".join(verdict) + ". WS353: " + ", ".join(
            f"{mean(model, x, 'ws353', 1.0):.3f}" for x in EXPONENTS)
        + "; SimLex: " + ", ".join(f"{mean(model, x, 'simlex', 1.0):.3f}" for x in EXPONENTS)
        + ".")
  findings += ["",
               "The paper's claim is reproduced for a model when 0.75 beats both 0 and 1 by "
               "more than twice the larger seed standard deviation (the wording above).",
               "", verdict_line(groups)]
  check_lines = []
  if check is not None:
    swept = next(r for r in groups[CHECK[0]][EXPONENTS.index(CHECK[1])]
                 if r["seed"] == check["seed"])
    check_lines = [
        "## The --sweep shortcut against a separate run", "",
        f"{CHECK[0]}, alpha {CHECK[1]:g}, seed {check['seed']}: inside the sweep, separate run.",
        "",
        "| | analogy total % | semantic % | syntactic % | WS353 | SimLex | final epoch loss |",
        "|---|---|---|---|---|---|---|",
    ] + [f"| {label} | {100 * r['analogy_total']:.2f} | {100 * r['analogy_semantic']:.2f} | "
         f"{100 * r['analogy_syntactic']:.2f} | {r['ws353']:.4f} | {r['simlex']:.4f} | "
         f"{r['final_epoch_loss']:.5f} |" for label, r in (("sweep", swept), ("separate", check))
         ] + ["",
              f"The sweep program trained its five variants in {swept['train_seconds']:.0f} s; "
              f"the separate run of this one variant took {check['train_seconds']:.0f} s "
              "(both on the same busy machine; experiments/results/sweep_speedup.md compares "
              "the two ways with repeats).", "",
              "The same settings, seed and batches: a variant in a `--sweep` program runs the "
              "same computation as its separate run, so the two should agree to the last digit "
              "(tests/sweep_test.py holds their tables equal bit for bit on a tiny corpus)."]
  notes = ["## Notes", "",
           "dim 100, window 5, negative 5, sample 1e-4, min_count 5, the library's defaults "
           "otherwise (batch 512, negatives shared by 32 examples, shuffled chunks; alpha "
           "0.025 skip-gram, 0.05 CBOW). Time is the wall time of the one program that "
           f"trained all five exponents (`--sweep={sweep}`), compilation included, "
           "evaluation excluded.", "", common.busy_note(every)]
  sections = ["## Results\n\n" + "\n\n".join(tables) + f"\n\n![plot]({name}.png)",
              "\n".join(findings) if not quick else "(quick smoke run: no verdict)",
              "\n".join(check_lines), "\n".join(notes)]
  common.write_markdown(name, "Noise distribution exponent (Mikolov et al. 2013b)",
                        COMMAND + (" --quick" if quick else ""), [s for s in sections if s])
  common.plot_metrics(name, list(EXPONENTS), groups, "noise exponent alpha (counts^alpha)",
                      f"negative sampling, {corpus}, {epochs} epoch(s): quality vs alpha",
                      time_axis=False)


def verdict_line(groups) -> str:
  """One line: for which models 0.75 beats both 0 and 1 on the analogies (beyond 2 seed stds)."""
  parts = []
  for model in MODELS:
    stats = {x: common.mean_std(groups[model][EXPONENTS.index(x)], "analogy_total", 100.0)
             for x in (0.0, 0.75, 1.0)}
    wins = all(stats[0.75][0] - stats[x][0] > 2 * max(stats[0.75][1], stats[x][1])
               for x in (0.0, 1.0))
    parts.append(f"{model}: {'reproduces' if wins else 'does not reproduce'}")
  similarity = []
  for model in MODELS:
    for key, label in (("ws353", "WS353"), ("simlex", "SimLex")):
      (a, sa), (b, sb) = (common.mean_std(groups[model][EXPONENTS.index(x)], key)
                          for x in (0.75, 1.0))
      similarity.append(f"{model} {label} {a - b:+.3f} (seed std up to {max(sa, sb):.3f})")
  return ("**Verdict** (0.75 beats 0 and 1 on the analogy total by more than two seed stds): "
          + "; ".join(parts) + ". On word similarity, 0.75 minus 1: " + ", ".join(similarity)
          + ".")


if __name__ == "__main__":
  main()
