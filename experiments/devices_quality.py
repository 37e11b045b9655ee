"""One device against 8 simulated CPU devices and two processes: the same quality, up to seed noise.

  python experiments/devices_quality.py                  # 3 seeds x 4 layouts, default corpus
  python experiments/devices_quality.py --seeds=0 --layouts=8-rows,2-processes
  python experiments/devices_quality.py --layouts=1,8-replicated --flags='--batch_size=65536'

Each run is `python run.py --seed=S --num_devices=N --table_sharding=L` on the default corpus
(skip-gram NS, every other flag at its default) in a process of its own started with
XLA_FLAGS=--xla_force_host_platform_device_count=8, so the one-device runs see 8 devices too and
use one. "2-processes" is two run.py processes joined by jax.distributed on localhost, one CPU
device each, each reading half of the corpus; over gloo on TCP every collective of every step
costs milliseconds, so on the development machine one such run takes hours, and it is not in the
default set. "2-processes-joined" stands in for it: one process on 2 simulated devices whose loop
is fed what the two processes would feed together (pipeline.joined_process_chunks: each half's
batches, padded to the same count, joined along B, the most advanced learning-rate position);
tests/parallel_test.py holds a real two-process run to it. It should show the analogy accuracy
and WS353 / SimLex-999 Spearman of every layout within the spread of the one-device runs over
seeds: splitting a batch across devices changes only the order in which the same updates are
summed, and splitting the corpus across processes changes which examples share a batch. It
prints a Markdown table (the one in docs/SCALING.md) and appends one JSON line per run to --out.

The words/s it reports are not a speed measurement: 8 simulated devices share the machine's
cores (2 on the development machine, often shared with other work), so they measure the cost of
simulating devices, not of using them.
"""

import argparse
import json
import os
import shlex
import socket
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYOUTS = {"1": (1, "replicated"), "8-replicated": (8, "replicated"), "8-rows": (8, "rows"),
           "2-processes-joined": (2, "rows"), "2-processes": (-1, "rows")}
DEFAULT_LAYOUTS = "1,8-replicated,8-rows,2-processes-joined"
# run.py, with the loop fed what two processes would feed (pipeline.joined_process_chunks).
JOINED = ("import sys; sys.argv = {argv!r}; import run; "
          "from w2v_jax import pipeline; pipeline.epoch_chunks = lambda config, data, epoch: "
          "pipeline.joined_process_chunks(config, data, epoch, 2); run.run()")


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


def run_one(layout: str, seed: int, workroot: str, flags: tuple = ()) -> dict:
  devices, tables = LAYOUTS[layout]
  workdir = os.path.join(workroot, f"{layout}-seed{seed}")
  cmd = [sys.executable, os.path.join(ROOT, "run.py"), f"--seed={seed}",
         f"--num_devices={devices}", f"--table_sharding={tables}", "--platform=cpu", *flags]
  start = time.time()
  if layout == "2-processes":  # one CPU device each, on this machine
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    address = f"localhost:{_free_port()}"
    procs = [subprocess.Popen(cmd + [f"--workdir={workdir}" + ("" if p == 0 else "-p1"),
                                     "--num_processes=2", f"--process_id={p}",
                                     f"--coordinator_address={address}"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for p in (0, 1)]
    if any(proc.wait() for proc in procs):
      raise RuntimeError(f"{layout} seed {seed} failed")
  else:
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8")
    if layout == "2-processes-joined":
      argv = cmd[1:] + [f"--workdir={workdir}"]
      cmd = [sys.executable, "-c", JOINED.format(argv=argv)]
    else:
      cmd = cmd + [f"--workdir={workdir}"]
    subprocess.run(cmd, env=env, check=True, capture_output=True, cwd=ROOT)
  with open(os.path.join(workdir, "eval.json")) as f:
    results = json.load(f)
  with open(os.path.join(workdir, "summary.json")) as f:
    summary = json.load(f)
  return {"layout": layout, "seed": seed, "flags": " ".join(flags),
          "analogy": results["analogy"]["total"],
          "ws353": results["ws353"]["spearman"], "simlex": results["simlex"]["spearman"],
          "final_epoch_loss": summary["final_epoch_loss"], "words_per_s": summary["words_per_s"],
          "wall_s": round(time.time() - start, 1)}


def table(rows: list[dict]) -> str:
  lines = ["| layout | seeds | analogy % | WS353 | SimLex-999 | final loss |",
           "|---|---|---|---|---|---|"]
  for layout in LAYOUTS:
    mine = [r for r in rows if r["layout"] == layout]
    if not mine:
      continue
    def cell(key, scale=1.0, digits=3):
      values = [scale * r[key] for r in mine]
      return (f"{np.mean(values):.{digits}f} ({min(values):.{digits}f} to "
              f"{max(values):.{digits}f})")
    lines.append(f"| {layout} | {','.join(str(r['seed']) for r in mine)} | "
                 f"{cell('analogy', 100, 2)} | {cell('ws353')} | {cell('simlex')} | "
                 f"{cell('final_epoch_loss', digits=4)} |")
  return "\n".join(lines)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--seeds", default="0,1,2")
  parser.add_argument("--layouts", default=DEFAULT_LAYOUTS)
  parser.add_argument("--workroot", default="runs/devices_quality")
  parser.add_argument("--flags", default="", help="more run.py flags for every run, e.g. "
                      "'--batch_size=65536 --corpus=offline-prose'")
  parser.add_argument("--out", default=os.path.join(ROOT, "experiments", "results",
                                                    "devices_quality.jsonl"))
  args = parser.parse_args()
  os.makedirs(os.path.dirname(args.out), exist_ok=True)
  rows = []
  for seed in [int(s) for s in args.seeds.split(",")]:
    for layout in args.layouts.split(","):
      row = run_one(layout, seed, args.workroot, tuple(shlex.split(args.flags)))
      print(json.dumps(row), flush=True)
      with open(args.out, "a") as f:
        f.write(json.dumps(row) + "\n")
      rows.append(row)
  print(table(rows))


if __name__ == "__main__":
  main()
