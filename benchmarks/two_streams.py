"""Would a second training stream use the second core? Two processes against one.

  python benchmarks/two_streams.py --model=skipgram --loss=hs      # offline-prose, sample 1e-4

Each round starts one worker process and times it alone, then two at once. A worker is
a training stream as the loop runs one: a one-device JAX client with one XLA thread
(run.py's --cpu_threads=1 for hs), its own batch maker in the prefetch thread, and half
of the corpus (stream s of 2, as pipeline.grouped_batches gives process s of 2); it
compiles on one chunk, waits until the other worker is ready too, and then times
--calls compiled calls, reading each call's losses one call late as the loop does. The
parent prints each time, the CPU seconds each worker used meanwhile, and the calls/s of
the two together over one alone. Nothing merges the two streams' tables (a trainer of
two streams would), so this bounds what two streams could gain from above.

Why processes, not two simulated devices in one process: XLA's CPU client sizes its
thread pools to max(cores, devices), so with
XLA_FLAGS=--xla_force_host_platform_device_count=2 each device's program runs on pools of
two threads, however few the process is given when the client starts; one stream in
such a client took 1.5x as long as in a one-device client (--client_devices=2;
docs/log/SPEED.md, "Batches in blocks").
"""

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def worker(args) -> None:
  """One stream: compile, say ready, wait for the go, time --calls calls, print JSON."""
  if args.client_devices > 1:  # before JAX starts
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_"
                               f"device_count={args.client_devices}").strip()
  import itertools  # pylint: disable=import-outside-toplevel
  import jax  # pylint: disable=import-outside-toplevel
  import numpy as np  # pylint: disable=import-outside-toplevel
  from w2v_jax import config as config_lib  # pylint: disable=import-outside-toplevel
  from w2v_jax import pipeline  # pylint: disable=import-outside-toplevel
  from w2v_jax import resolve as resolve_lib  # pylint: disable=import-outside-toplevel
  from w2v_jax import runtime  # pylint: disable=import-outside-toplevel
  from w2v_jax import trainer as trainer_lib  # pylint: disable=import-outside-toplevel
  runtime.limit_cpu_threads(1)
  config = resolve_lib.resolve(config_lib.Config(
      corpus=args.corpus, model=args.model, loss=args.loss, sample=1e-4, platform="cpu",
      epochs=1))
  data = pipeline.prepare_data(config)
  trainer = trainer_lib.build_trainer(config, data)
  state = trainer.place(trainer.init_state())
  key = trainer_lib.split_key(config.seed)[1]
  chunks = lambda: pipeline.placed_chunks(pipeline.grouped_batches(
      config, data, 0, args.worker, 2), trainer.mesh)
  for chunk in itertools.islice(chunks(), 2):  # compiles both path buckets' programs
    state, out = trainer.train_chunk(state, chunk.arrays, key, chunk.path_slots)
  jax.block_until_ready(out)
  print("ready", flush=True)
  sys.stdin.readline()
  cpu, start = os.times(), time.perf_counter()
  stream = pipeline.prefetch(chunks(), depth=pipeline.prefetch_depth(config))
  waiting = None
  for chunk in itertools.islice(stream, args.calls):
    state, out = trainer.train_chunk(state, chunk.arrays, key, chunk.path_slots)
    if waiting is not None:
      np.asarray(waiting[0])
    waiting = out
  jax.block_until_ready(state)
  seconds, done = time.perf_counter() - start, os.times()
  stream.close()
  print(json.dumps({"seconds": seconds, "cpu_seconds": done.user + done.system
                    - cpu.user - cpu.system}), flush=True)


def run_together(args, streams: int) -> list:
  """Starts `streams` workers, lets them go at once, returns their JSON results."""
  command = [sys.executable, os.path.abspath(__file__), f"--model={args.model}",
             f"--loss={args.loss}", f"--corpus={args.corpus}", f"--calls={args.calls}",
             f"--client_devices={args.client_devices}"]
  procs = [subprocess.Popen(command + [f"--worker={s}"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True) for s in range(streams)]
  for p in procs:
    if p.stdout.readline().strip() != "ready":
      raise SystemExit(f"a worker failed (exit {p.wait()})")
  for p in procs:
    p.stdin.write("go\n")
    p.stdin.flush()
  results = [json.loads(p.stdout.readline()) for p in procs]
  for p in procs:
    p.wait()
  return results


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--model", default="skipgram", choices=("skipgram", "cbow"))
  parser.add_argument("--loss", default="hs", choices=("ns", "hs", "nce", "softmax"))
  parser.add_argument("--corpus", default="offline-prose")
  parser.add_argument("--calls", type=int, default=40, help="timed calls per stream")
  parser.add_argument("--rounds", type=int, default=2)
  parser.add_argument("--client_devices", type=int, default=1,
                      help="CPU devices each worker's JAX client simulates (it trains on the "
                      "first): 2 shows what a second device costs a stream")
  parser.add_argument("--worker", type=int, default=-1, help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.worker >= 0:
    worker(args)
    return
  for r in range(args.rounds):
    (alone,) = run_together(args, 1)
    both = run_together(args, 2)
    wall = max(b["seconds"] for b in both)
    print(f"round {r + 1}, {args.model}-{args.loss}, {args.calls} calls per stream: alone "
          f"{alone['seconds']:.2f} s ({alone['cpu_seconds']:.1f} s CPU); two at once "
          + ", ".join(f"{b['seconds']:.2f} s ({b['cpu_seconds']:.1f} s CPU)" for b in both)
          + f": {2 * alone['seconds'] / wall:.2f}x the calls/s of one", flush=True)


if __name__ == "__main__":
  main()
