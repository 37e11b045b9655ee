"""--sweep against separate runs: five variants in one compiled program vs five processes.

  taskset -c 1 .venv/bin/python experiments/sweep_speedup.py

(from the repository root; ~7 minutes on one core). Trains skip-gram with
negative sampling on offline-prose (dim 100, sample 1e-4, 1 epoch, no
evaluation) at ns_exponent 0, 0.25, 0.5, 0.75 and 1, three times over: as five
`run.py` processes one after another, and as one `run.py
--sweep=ns_exponent=0,0.25,0.5,0.75,1` process; the two alternate, so that a
change in how busy the machine is falls on both. Writes
results/sweep_speedup.{md,jsonl}.

What it should show: the sweep is faster by what the separate runs repeat,
JAX start-up, corpus loading, compilation and batch making (once instead of
five times); the training arithmetic itself is the same five models' worth
either way, so the speed-up is well below 5x. "process" is the wall time of the commands; "training" is the
summary.json train_seconds (compilation included, start-up and writing the
outputs excluded).

  --quick: the default corpus and 1 repeat, written to results/sweep_speedup_quick.*.
"""

import json
import os
import subprocess
import sys
import time


import common  # experiments/common.py
from w2v_jax import record

NAME = "sweep_speedup"
COMMAND = "taskset -c 1 .venv/bin/python experiments/sweep_speedup.py"
VALUES = ("0", "0.25", "0.5", "0.75", "1")
RUN = os.path.join(common.ROOT, "run.py")


def timed(commands: list) -> dict:
  """Runs the commands one after another: wall time, and CPU seconds of the machine and of them."""
  busy0, own0, start = record.busy_cpu_seconds(), _children_cpu_seconds(), time.time()
  for command in commands:
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode:
      sys.exit(f"failed: {' '.join(command)}\n{proc.stderr[-2000:]}")
  wall = time.time() - start
  others = record.busy_cpu_seconds() - busy0 - (_children_cpu_seconds() - own0)
  return {"wall": wall, "other_cores": max(others, 0.0) / wall}


def _children_cpu_seconds() -> float:
  times = os.times()
  return times.children_user + times.children_system


def train_seconds(workdirs: list) -> float:
  total = 0.0
  for workdir in workdirs:
    with open(os.path.join(workdir, "summary.json"), encoding="utf-8") as f:
      total += json.load(f)["train_seconds"]
  return total


def main():
  size = common.script_size(NAME, __doc__, epochs=1)
  repeats = 1 if size.quick else 3
  flags = [f"--corpus={size.corpus}", "--model=skipgram", "--loss=ns", "--dim=100",
           "--sample=1e-4", f"--epochs={size.epochs}", "--noevaluate"]
  sweep_flag = "--sweep=ns_exponent=" + ",".join(VALUES)
  rows = []
  for repeat in range(repeats):
    for kind in ("separate", "sweep"):
      base = os.path.join(size.scratch, f"{kind}-{repeat}")
      if kind == "separate":
        workdirs = [f"{base}/ns_exponent={v}" for v in VALUES]
        commands = [[sys.executable, RUN, *flags, f"--ns_exponent={v}", f"--workdir={w}"]
                    for v, w in zip(VALUES, workdirs)]
      else:
        workdirs = [f"{base}/ns_exponent={v}" for v in VALUES]
        commands = [[sys.executable, RUN, *flags, sweep_flag, f"--workdir={base}"]]
      t = timed(commands)
      record = {"repeat": repeat + 1, "kind": kind, "process_s": round(t["wall"], 2),
                "train_s": round(train_seconds(workdirs) if kind == "separate"
                                 else train_seconds(workdirs[:1]), 2),
                "other_cores": round(t["other_cores"], 2),
                "finished": time.strftime("%Y-%m-%d %H:%M:%S")}
      rows.append(record)
      print(record, flush=True)
  os.makedirs(common.RESULTS_DIR, exist_ok=True)
  with open(os.path.join(common.RESULTS_DIR, size.name + ".jsonl"), "w", encoding="utf-8") as f:
    for record in rows:
      f.write(json.dumps(record, sort_keys=True) + "\n")
  write_markdown(size, rows, flags, sweep_flag)


def write_markdown(size, rows, flags, sweep_flag):
  lines = ["| repeat | 5 separate runs: process s | training s | one --sweep: process s | "
           "training s | speed-up, process | speed-up, training | other processes, cores |",
           "|---|---|---|---|---|---|---|---|"]
  speedups = []
  for repeat in sorted({r["repeat"] for r in rows}):
    sep = next(r for r in rows if r["repeat"] == repeat and r["kind"] == "separate")
    swp = next(r for r in rows if r["repeat"] == repeat and r["kind"] == "sweep")
    speedups.append((sep["process_s"] / swp["process_s"], sep["train_s"] / swp["train_s"]))
    lines.append(f"| {repeat} | {sep['process_s']:.0f} | {sep['train_s']:.0f} | "
                 f"{swp['process_s']:.0f} | {swp['train_s']:.0f} | {speedups[-1][0]:.2f}x | "
                 f"{speedups[-1][1]:.2f}x | {sep['other_cores']:.2f} / {swp['other_cores']:.2f} |")
  process = [p for p, _ in speedups]
  training = [t for _, t in speedups]
  text = [
      "## Results", "", "\n".join(lines), "",
      f"Speed-up of one `--sweep` program over five separate runs: {min(process):.2f}x to "
      f"{max(process):.2f}x in process wall time, {min(training):.2f}x to {max(training):.2f}x "
      "in training time.", "",
      "The separate runs:", "", "```bash",
      *[f".venv/bin/python run.py {' '.join(flags)} --ns_exponent={v} --workdir=W/ns_exponent={v}"
        for v in VALUES], "```", "", "The sweep:", "", "```bash",
      f".venv/bin/python run.py {' '.join(flags)} {sweep_flag} --workdir=W", "```", "",
      "Both on one core (`taskset -c 1`). Where the time goes: a separate run pays the JAX "
      "import, corpus loading, compilation and batch making once per variant, the sweep once "
      "for all five; the arithmetic of the steps (gathers, gradients, scatters of five models) "
      "is the same. That the training time drops too shows how much of a one-core run goes to "
      "making batches on the host, which here shares the core with the steps. "
      "On a GPU, where one model's steps leave the device mostly idle, the sweep should gain "
      "more; that is not measured here.", "",
      "Other processes' cores: separate / sweep, while each ran (the machine is shared).",
  ]
  path = common.write_markdown(size.name, "--sweep against separate runs",
                               COMMAND + (" --quick" if size.quick else ""), ["\n".join(text)])
  return path


if __name__ == "__main__":
  main()
