"""What a checkpoint costs: seconds per checkpoint.save and per end-to-end run.

  python benchmarks/checkpoint_cost.py                      # default corpus sizes, ~30 s
  python benchmarks/checkpoint_cost.py --vocab=100000 --dim=300 --repeats=3

1. checkpoint.save alone on tables of the given size (skip-gram-NS: emb_in and emb_out,
   [V, D] float32 each, V = 9,775 and D = 100 as the default corpus at min_count 5):
   copy to the host, finiteness check, write, fsync, rename. Median of --repeats.
2. With --runs (default on): the main job for one epoch on the default corpus with the
   default --checkpoint_every_secs (one checkpoint, at the epoch end) and with
   --checkpoint_every_secs=0 (one after every compiled call, each stalling the device
   until its tables are on the host): the difference per checkpoint is the whole cost,
   stall included.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags
import jax
import numpy as np

from w2v_jax import checkpoint
from w2v_jax import model as model_lib

flags.DEFINE_integer("vocab", 9775, "Rows V of each table.")
flags.DEFINE_integer("dim", 100, "Dimension D.")
flags.DEFINE_integer("repeats", 5, "Saves timed.")
flags.DEFINE_bool("runs", True, "Also time whole runs with and without a checkpoint per call.")
FLAGS = flags.FLAGS
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def time_saves(vocab: int, dim: int, repeats: int) -> float:
  tx = model_lib.make_optimizer(0.025)
  params = model_lib.init_params(jax.random.PRNGKey(0), vocab, dim, "ns")
  state = model_lib.init_state(params, tx)
  seconds = []
  with tempfile.TemporaryDirectory() as workdir:
    for _ in range(repeats):
      start = time.perf_counter()
      host = jax.device_get(state)
      assert all(np.isfinite(t).all() for t in host.params.values())
      checkpoint.save(workdir, host, jax.random.PRNGKey(0), {"note": "benchmark"})
      seconds.append(time.perf_counter() - start)
    size = os.path.getsize(checkpoint.path(workdir))
  print(f"checkpoint.save, V={vocab} D={dim}: {size / 2**20:.1f} MiB, median "
        f"{np.median(seconds) * 1e3:.1f} ms over {repeats} (min {min(seconds) * 1e3:.1f}, "
        f"max {max(seconds) * 1e3:.1f})")
  return float(np.median(seconds))


def run(every: str, workdir: str) -> dict:
  cmd = [sys.executable, os.path.join(ROOT, "run.py"), "--epochs=1", "--noevaluate",
         f"--workdir={workdir}", f"--checkpoint_every_secs={every}"]
  subprocess.run(cmd, check=True, capture_output=True)
  with open(os.path.join(workdir, "summary.json")) as f:
    return json.load(f)


def main(argv):
  del argv
  time_saves(FLAGS.vocab, FLAGS.dim, FLAGS.repeats)
  if not FLAGS.runs:
    return
  with tempfile.TemporaryDirectory() as tmp:
    run("600", os.path.join(tmp, "warm"))  # builds the default corpus and its cache
    base = run("600", os.path.join(tmp, "a"))
    each = run("0", os.path.join(tmp, "b"))
  # Every batch is full but the epoch's last (batches.py); a call runs 32 of them
  # (--steps_per_call); batch 512 is --loss=ns's default.
  calls = -(-(-(-base["examples"] // 512)) // 32)
  extra = each["train_seconds"] - base["train_seconds"]
  print(f"one epoch of the default corpus: {base['train_seconds']:.2f} s with 1 checkpoint, "
        f"{each['train_seconds']:.2f} s with one after each of ~{calls} calls: "
        f"{extra / max(calls, 1) * 1e3:.1f} ms per extra checkpoint, stall included")


if __name__ == "__main__":
  app.run(main)
