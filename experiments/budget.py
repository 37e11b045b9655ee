"""What a script's runs will cost, from the records of comparable runs (--estimate).

  recorded_rates()             seconds per token and epoch of every separate run that
                               results/*.jsonl holds, with how busy the machine was
  rate_for(config, rates)      the rate for a planned run, and which record it comes from
  estimate(name, runs, ...)    the runs not yet recorded and their time, arm by arm, as text

A run's time is close to proportional to the tokens it trains (words x epochs; the host
reads every token, the steps see those that subsampling keeps), so a record's
train_seconds / (tokens x epochs) carries over to another corpus size, as long as the
model, the output layer, the dim and the subsampling threshold are the same.
"""

import dataclasses
import glob
import json
import os

import common  # experiments/common.py
from w2v_jax import datasets

# Per run, beyond its training time: data preparation, evaluation and a script's own
# numbers. Between consecutive records of table_2013b (offline-prose, a busy machine) 2-10 s
# pass beyond train_seconds, median 3.9; phrases_2013b's quiet runs 1.5 s.
OVERHEAD_S = 6.0
# Per corpus file not yet built (a slice): writing it and its token cache; table_2013a's
# first run on its half spent 64 s beyond its training there (a busy machine).
NEW_FILE_S = 60.0
# Above this many examples a step is a large batch (docs/RESULTS.md), priced apart.
LARGE_BATCH = 1024


def _cost_key(fields: dict) -> tuple:
  # Large batches and their shared-row rules change the step's program: at 65,536 with
  # krylov a skip-gram-hs token cost 36 us against 3-8 at the default batch of 24 or 32.
  return (fields["model"], fields["loss"], fields["dim"], fields["sample"],
          fields["batch_size"] > LARGE_BATCH, fields["row_update"])


def recorded_rates() -> list:
  """(cost key, seconds per token per epoch, other cores, finished, file) of every separate
  run recorded in results/*.jsonl; sweeps (one time for all their variants) and --quick
  runs (mostly compilation) left out."""
  rates = []
  for path in sorted(glob.glob(os.path.join(common.RESULTS_DIR, "*.jsonl"))):
    name = os.path.basename(path)[:-len(".jsonl")]
    if name.endswith(common.QUICK_SUFFIX):
      continue
    for record in common.load_records(name):
      if "sweep" in record or not record.get("tokens") or "train_seconds" not in record:
        continue
      fields = {**common._ADDED_LATER, **json.loads(record["identity"])}  # as it ran
      rates.append((_cost_key(fields),
                    record["train_seconds"] / record["tokens"] / fields["epochs"],
                    record.get("other_cores", 0.0), record.get("finished", ""), name))
  return rates


def _least_disturbed(rates: list) -> tuple:
  """Fewest other cores busy while it ran, then the latest (today's code)."""
  return min(rates, key=lambda r: (r[2], -_stamp(r[3])))


def _stamp(finished: str) -> float:
  """'2026-12-01 23:30:18' -> a number that grows with time; 0 for none."""
  digits = "".join(ch for ch in finished if ch.isdigit())
  return float(digits) if digits else 0.0


def rate_for(config, rates: list) -> tuple:
  """(seconds per token per epoch, where it comes from) for a run like `config`.

  The least disturbed record of the same model, loss, dim and sample; else one of them at
  another dim, scaled in proportion where ours is larger (an upper bound: per token the
  cost grows more slowly than the dim) and kept where ours is smaller; else the slowest
  record of all.
  """
  key = _cost_key(dataclasses.asdict(common.resolve(config)))
  same = [r for r in rates if r[0] == key]
  if same:
    best = _least_disturbed(same)
    return best[1], f"{best[4]} ({best[2]:.2f} other cores)"
  other_dim = [r for r in rates if r[0][:2] + r[0][3:] == key[:2] + key[3:]]
  if other_dim:
    best = _least_disturbed(other_dim)
    scale = max(1.0, key[2] / best[0][2])
    return best[1] * scale, (f"{best[4]} at dim {best[0][2]}, x{scale:g} "
                             f"({best[2]:.2f} other cores)")
  if not rates:
    raise SystemExit("error: no records in experiments/results/*.jsonl to estimate from")
  slowest = max(rates, key=lambda r: r[1])
  return slowest[1], f"no comparable record: the slowest of all ({slowest[4]})"


def corpus_tokens(corpus: str) -> int:
  """Tokens of the whole corpus: its manifest's count where it has one, else counted."""
  path = datasets.resolve(common.resolve(common.base_config(corpus, "")))
  manifest = os.path.join(os.path.dirname(path), "manifest.json")
  if os.path.exists(manifest):
    with open(manifest, encoding="utf-8") as f:
      return int(json.load(f)["tokens"])
  with open(path, encoding="utf-8") as f:
    return sum(len(line.split()) for line in f)


def estimate(name: str, runs: list, what: str, new_files: list = ()) -> str:
  """The text --estimate prints. `runs`: (arm, config, tokens it reads per epoch) for every
  planned run; those results/<name>.jsonl has are done. `new_files`: the files the runs
  read, each counted NEW_FILE_S while it does not exist yet."""
  rates = recorded_rates()
  rows, left, seconds = {}, 0, 0.0
  for arm, config, tokens in runs:
    if common.recorded(name, config):
      continue
    rate, basis = rate_for(config, rates)
    run_s = rate * tokens * config.epochs + OVERHEAD_S
    row = rows.setdefault(arm, [0, 0.0, rate, basis])
    row[0] += 1
    row[1] += run_s
    left += 1
    seconds += run_s
  missing = [path for path in new_files if not os.path.exists(path)]
  seconds += NEW_FILE_S * len(missing)
  lines = [f"{name}: {len(runs)} runs ({what}); {len(runs) - left} recorded, {left} to train",
           "", f"{'arm':34} {'runs':>4} {'minutes':>8} {'us/token':>9}  rate from"]
  for arm, (count, arm_s, rate, basis) in rows.items():
    lines.append(f"{arm:34} {count:4d} {arm_s / 60:8.1f} {rate * 1e6:9.3f}  {basis}")
  lines += ["", f"files to build: {len(missing)} of {len(new_files)} (~{NEW_FILE_S:.0f} s "
            f"each); {OVERHEAD_S:.0f} s a run for data, evaluation and its own numbers",
            f"estimated time left: {seconds / 60:.0f} minutes"]
  return "\n".join(lines)
