"""Would a second training stream use a second core? The step alone, one stream against two.

  python benchmarks/two_streams.py --model=skipgram --loss=hs      # offline-prose, sample 1e-4

Simulates two CPU devices (XLA_FLAGS=--xla_force_host_platform_device_count=2, set here
before JAX starts), each with XLA pools of one thread (run.py's --cpu_threads=1), and builds
one trainer per device with the same state and the same pre-made chunks (one path bucket).
Each round times --calls compiled calls on device 0 alone, on device 1 alone, then both at
once from two Python threads, every call waited for. Prints each time and the aggregate
rate of the two streams over one alone. This is the step only: no batch maker (which wants
a third of a core per stream for skip-gram-HS, docs/log/SPEED.md) and no merging of the
streams' tables, so it bounds what two streams could gain; it trains nothing useful.
"""

import argparse
import itertools
import os
import sys
import threading
import time

os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                           + " --xla_force_host_platform_device_count=2").strip()
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402  pylint: disable=wrong-import-position
import numpy as np  # noqa: E402  pylint: disable=wrong-import-position
from jax.sharding import Mesh  # noqa: E402  pylint: disable=wrong-import-position

from w2v_jax import config as config_lib  # noqa: E402  pylint: disable=wrong-import-position
from w2v_jax import parallel  # noqa: E402  pylint: disable=wrong-import-position
from w2v_jax import pipeline  # noqa: E402  pylint: disable=wrong-import-position
from w2v_jax import resolve as resolve_lib  # noqa: E402  pylint: disable=wrong-import-position
from w2v_jax import runtime  # noqa: E402  pylint: disable=wrong-import-position
from w2v_jax import trainer as trainer_lib  # noqa: E402  pylint: disable=wrong-import-position


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--model", default="skipgram", choices=config_lib.MODELS)
  parser.add_argument("--loss", default="hs", choices=config_lib.LOSSES)
  parser.add_argument("--corpus", default="offline-prose")
  parser.add_argument("--calls", type=int, default=40, help="timed calls per stream and round")
  parser.add_argument("--rounds", type=int, default=3)
  args = parser.parse_args()
  runtime.limit_cpu_threads(1)
  config = resolve_lib.resolve(config_lib.Config(
      corpus=args.corpus, model=args.model, loss=args.loss, sample=1e-4, platform="cpu",
      epochs=1, path_buckets=1))
  data = pipeline.prepare_data(config)
  chunks = [c.arrays for c in itertools.islice(pipeline.grouped_batches(config, data, 0),
                                               args.calls + 1)]
  streams = []
  for device in jax.devices()[:2]:
    trainer = trainer_lib.build_trainer(config, data, mesh=Mesh(np.asarray([device]),
                                                                (parallel.AXIS,)))
    state = trainer.place(trainer.init_state())
    placed = [jax.device_put(c, device) for c in chunks]
    key = jax.device_put(jax.random.PRNGKey(0), device)
    state, out = trainer.train_chunk(state, placed[0], key, None)  # compiles
    jax.block_until_ready(out)
    streams.append({"train": trainer.train_chunk, "state": state, "chunks": placed[1:],
                    "key": key})

  def run(stream, seconds, i):
    start = time.perf_counter()
    for chunk in stream["chunks"]:
      stream["state"], out = stream["train"](stream["state"], chunk, stream["key"], None)
      jax.block_until_ready(out)
    seconds[i] = time.perf_counter() - start

  steps = args.calls * config.steps_per_call
  for r in range(args.rounds):
    alone = {}
    run(streams[0], alone, 0)
    run(streams[1], alone, 1)
    both = {}
    threads = [threading.Thread(target=run, args=(s, both, i)) for i, s in enumerate(streams)]
    start = time.perf_counter()
    for t in threads:
      t.start()
    for t in threads:
      t.join()
    together = time.perf_counter() - start
    print(f"round {r + 1}, {config.model}-{config.loss}, {steps} steps of {config.batch_size} "
          f"per stream: alone {alone[0]:.2f} s (device 0), {alone[1]:.2f} s (device 1); both "
          f"at once {together:.2f} s: {(alone[0] + alone[1]) / together:.2f}x the steps/s of "
          "one", flush=True)


if __name__ == "__main__":
  main()
