"""Quality against batch size, for each rule for rows a batch shares (--row_update) and model.

  .venv/bin/python experiments/large_batch.py            # resumes where it stopped
  .venv/bin/python experiments/large_batch.py --quick    # smoke test of the script
  .venv/bin/python experiments/large_batch.py --only=cbow-ns:65536:krylov:1,sg-ns:0:sum:2
  .venv/bin/python experiments/large_batch.py --only=sg-hs:65536:newton:1:0.04   # alpha 0.04

Trains the four models of the parity bar (docs/RESULTS.md: offline-prose,
dim 100, window 5, negative 5, sample 1e-4, min_count 5, 3 epochs, seeds 1 and
2) at each model's default batch and at 4,096, 65,536 and (negative sampling)
262,144 examples per step, with each rule of w2v_jax/row_updates.py. Every run
is recorded in results/large_batch.jsonl as it ends, and the .md and .png are
rewritten after each, so a stopped run leaves the table so far; the runs go
seed 1 first, the largest batches first within it. The mechanism (how many
examples of a batch touch the hottest rows, and how far one batched step is
from the same examples applied one at a time) is measured by
experiments/large_batch_probe.py.

The bar (issue "Large batches"): within 1 analogy point and 0.02 of WS353
and SimLex-999 of gensim on LineSentence (docs/RESULTS.md's table) and of our
own default batch.

The whole grid is ~90 runs of 1-20 minutes on 2 cores; --only=MODEL:BATCH:RULE:SEED,...
trains just those cells (BATCH 0 = the model's default batch; rule sum there; an
optional fifth part sets --alpha, else the default, which follows the batch:
resolve.alpha) and writes the table of every run recorded so far. The table's
rows name each run's learning rate, so runs from before the default followed
the batch stay apart from those after.
"""

import json
import math
import sys

import common  # experiments/common.py

NAME = "large_batch"
COMMAND = ".venv/bin/python experiments/large_batch.py"
MODELS = {"sg-ns": ("skipgram", "ns"), "cbow-ns": ("cbow", "ns"),
          "sg-hs": ("skipgram", "hs"), "cbow-hs": ("cbow", "hs")}
BATCHES = {"ns": (0, 4096, 65536, 262144), "hs": (0, 4096, 65536)}
RULES = ("sum", "cap", "newton", "krylov")
# gensim on LineSentence, offline-prose, seeds 1-2 (docs/RESULTS.md): analogy %, WS353, SimLex.
GENSIM = {"sg-ns": (12.4, 0.448, 0.218), "cbow-ns": (12.2, 0.462, 0.190),
          "sg-hs": (12.3, 0.491, 0.194), "cbow-hs": (10.2, 0.451, 0.190)}
# Ours at the default batch, the same table's 2-seed means.
DEFAULT_BATCH = {"sg-ns": (12.0, 0.442, 0.217), "cbow-ns": (11.6, 0.446, 0.180),
                 "sg-hs": (13.1, 0.512, 0.192), "cbow-hs": (10.2, 0.471, 0.191)}
MARGINS = (1.0, 0.02, 0.02)  # analogy points, WS353, SimLex-999
BAR_KEYS = (("analogy_total", 100.0, "analogy"), ("ws353", 1.0, "WS353"),
            ("simlex", 1.0, "SimLex"))


def grid(seeds):
  """(model, batch, rule, seed, alpha) in the order they train: seed by seed, largest batch
  first; alpha None, the default."""
  for seed in seeds:
    for name, (_, loss) in MODELS.items():
      for batch in sorted(BATCHES[loss], reverse=True):
        for rule in (("sum",) if batch == 0 else RULES):
          yield name, batch, rule, seed, None


def parse_only(text: str) -> list:
  """--only's cells as (model, batch, rule, seed, alpha or None); SystemExit(2) with one line if malformed."""
  cells = []
  for item in filter(None, (t.strip() for t in text.split(","))):
    parts = item.split(":")
    ok = (len(parts) in (4, 5) and parts[0] in MODELS and parts[1].isdigit()
          and parts[3].isdigit() and (len(parts) == 4 or _positive(parts[4])))
    if ok:
      model, batch, rule, seed = parts[0], int(parts[1]), parts[2], int(parts[3])
      ok = (batch in BATCHES[MODELS[model][1]] and rule in RULES
            and (batch != 0 or rule == "sum"))
    if not ok:
      print(f"error: --only takes MODEL:BATCH:RULE:SEED[:ALPHA] items (MODEL one of "
            f"{', '.join(MODELS)}; BATCH one of the grid's, 0 = default, with rule sum; RULE "
            f"one of {', '.join(RULES)}; ALPHA > 0), got {item!r}", file=sys.stderr)
      raise SystemExit(2)
    cells.append((model, batch, rule, seed, float(parts[4]) if len(parts) == 5 else None))
  return cells


def _positive(text: str) -> bool:
  try:
    return float(text) > 0 and math.isfinite(float(text))
  except ValueError:
    return False


def shortfall(model: str, records: list) -> list:
  """What the records' means lack of the bar, as ["analogy 1.5", ...] ([] = it holds):
  within MARGINS of both gensim and our default batch (above them counts as within)."""
  short = []
  for (key, scale, name), margin, g, d in zip(BAR_KEYS, MARGINS, GENSIM[model],
                                              DEFAULT_BATCH[model]):
    mean = scale * sum(r[key] for r in records) / len(records)
    lack = max(g, d) - margin - mean
    if lack > 1e-9:  # not float rounding at the edge
      short.append(f"{name} {lack:.1f}" if scale > 1 else f"{name} {lack:.3f}")
  return short


def _alpha(record: dict) -> float:
  return json.loads(record["identity"])["alpha"]


def _label(record: dict) -> str:
  if record["batch"] == 0:
    return "default batch"
  rule, identity = record["rule"], json.loads(record["identity"])
  dims = identity.get("krylov_dims", 3)  # absent: 3, before it varied
  if rule == "krylov" and dims != 3:
    rule += f" in {dims} direction{'s' * (dims > 1)}"
  # Skip-gram by centre counts rows of up to `window` pairs: name it, as the sizes differ.
  by_centre = record["model"].startswith("sg") and identity.get("skipgram_layout") == "centres"
  rows = " rows by centre" if by_centre else ""
  return f"{record['batch']:,}{rows}, {rule}, alpha {_alpha(record):g}"


def write_results(name: str, records: list, quick: bool) -> None:
  sections = []
  for model in MODELS:
    mine = [r for r in records if r["model"] == model]
    if not mine:
      continue
    groups = {}
    for r in mine:
      groups.setdefault(_label(r), []).append(r)
    order = sorted(groups, key=lambda k: (k != "default batch", k))
    sections.append(f"## {model}\n")
    sections.append(common.metric_table([(k, groups[k]) for k in order], "batch, rule"))
    if not quick:
      (a, w, s), (da, dw, ds) = GENSIM[model], DEFAULT_BATCH[model]
      sections.append(f"\ngensim (LineSentence): analogy {a}, WS353 {w:.3f}, SimLex {s:.3f}; "
                      f"ours at the default batch (docs/RESULTS.md's parity table): {da}, "
                      f"{dw:.3f}, {ds:.3f}. The bar: within 1 analogy point and 0.02 of both.\n")
      for label in order[1:] if order and order[0] == "default batch" else order:
        short = shortfall(model, groups[label])
        seeds = len(groups[label])
        sections.append(f"- {label} ({seeds} seed{'s' * (seeds > 1)}): "
                        + (f"short of the bar by {', '.join(short)}" if short else "holds the bar")
                        + "\n")
  sections.append(common.busy_note(records))
  common.write_markdown(name, "Quality against batch size and --row_update", COMMAND, sections)
  xs = sorted({r["batch"] for r in records if r["batch"]})
  series = {}
  alphas = sorted({_alpha(r) for r in records})
  for model in MODELS:
    for rule in RULES:
      for alpha in alphas:
        per_x = [[r for r in records if r["model"] == model and r["rule"] == rule
                  and _alpha(r) == alpha and r["batch"] == x] for x in xs]
        if any(per_x):
          series[f"{model} {rule}, alpha {alpha:g}"] = per_x
  if xs and series:
    common.plot_metrics(name, xs, series, "examples per step", "Quality against batch size",
                        metrics=(common.METRICS[0],) + common.METRICS[3:], log_x=True, time_axis=False)


def main():
  size = common.script_size(NAME, __doc__, epochs=3, seeds=(1, 2),
                            options={"only": "MODEL:BATCH:RULE:SEED,... : train only these"})
  cells = parse_only(size.options["only"]) if size.options["only"] else list(grid(size.seeds))
  records = [] if not size.options["only"] else list(  # the last record of each identity
      {r["identity"]: r for r in common.load_records(size.name)}.values())
  for model, batch, rule, seed, alpha in cells:
    arch, loss = MODELS[model]
    if size.quick and batch > 4096:
      continue
    config = common.base_config(size.corpus, size.scratch, model=arch, loss=loss, dim=100,
                                window=5, negative=5, sample=1e-4, min_count=5,
                                epochs=size.epochs, seed=seed, batch_size=batch,
                                row_update=rule, alpha=alpha)
    record = common.run(size.name, config,
                        {"model": model, "batch": batch, "rule": rule, "seed": seed},
                        rerun=size.rerun)
    records = [r for r in records if r["identity"] != record["identity"]] + [record]
    write_results(size.name, records, size.quick)


if __name__ == "__main__":
  main()
