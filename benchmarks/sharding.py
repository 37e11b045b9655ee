"""Communication per step of each table layout, read from XLA's compiled program, and scaled.

  XLA_FLAGS=--xla_force_host_platform_device_count=8 python benchmarks/sharding.py --dim=300 \
      --examples_per_s=...   # the one-device rate profile_step.py measured (docs/SCALING.md)

1. Compiles one step (`--steps_per_call=1`) of the real training chunk, skip-gram NS on the
   default corpus unless told otherwise, on a mesh of every device JAX sees (8 simulated CPU
   devices with the XLA_FLAGS above), for --table_sharding=replicated and rows, and lists the
   collectives XLA's SPMD partitioner put in it: operation, shape, and the bytes each device
   receives per step in a ring implementation (all-gather and reduce-scatter: S (n-1)/n of the
   result size S; all-reduce: 2 S (n-1)/n; all-to-all: S (n-1)/n; collective-permute: S).
2. Scales those bytes to n = 8, 64 and 512 accelerators (--scale_to) for the same per-device
   batch: every collective in the step carries the rows the whole (global) batch touches, so the
   bytes per device grow as n (n-1)/n times the per-device batch. Then the time per step:
   communication at --intra_host_gbps within a host of --devices_per_host, --inter_host_gbps
   across hosts (the slowest link of the ring), plus compute at the measured
   --examples_per_s per device, not overlapped (the collectives sit on the step's critical
   path) plus --latency_us per collective; and the time for --corpus_tokens (one epoch,
   --examples_per_token examples each).
   For negative sampling also a layout not built: rows sharded, and each device exchanging only
   its own examples' rows with their owners (two all-to-alls), whose bytes do not grow with n.
Prints Markdown tables (those in docs/SCALING.md). Nothing is timed here: the step's speed comes
from profile_step.py, the bandwidths are assumptions stated in the flags.
"""

import collections
import dataclasses
import os
import re

from absl import app
from absl import flags
import jax
import numpy as np

from w2v_jax import config as config_lib
from w2v_jax import parallel
from w2v_jax import pipeline
from w2v_jax import resolve as resolve_lib
from w2v_jax import trainer as trainer_lib

flags.DEFINE_string("corpus", "", "Corpus (as run.py's --corpus); the batches' shapes matter.")
flags.DEFINE_enum("model", "skipgram", list(config_lib.MODELS), "Model.")
flags.DEFINE_enum("loss", "ns", list(config_lib.LOSSES), "Output layer.")
flags.DEFINE_integer("dim", 300, "Embedding dimension.")
flags.DEFINE_integer("batch_size", 0, "Examples per device per step (0 = the loss's default).")
flags.DEFINE_list("scale_to", ["8", "64", "512"], "Accelerator counts to scale to.")
flags.DEFINE_float("examples_per_s", 0.0, "Measured one-device examples/s (profile_step.py).")
flags.DEFINE_float("examples_per_token", 4.19, "Training examples per corpus token.")
flags.DEFINE_float("corpus_tokens", 1e9, "Corpus size for the time per epoch.")
flags.DEFINE_integer("vocab", 3_000_000, "V for the table sizes per device.")
flags.DEFINE_integer("devices_per_host", 8, "Accelerators per host.")
flags.DEFINE_float("intra_host_gbps", 450.0, "GB/s per device and direction inside a host "
                   "(H100 NVLink: 900 GB/s both directions).")
flags.DEFINE_float("inter_host_gbps", 50.0, "GB/s per device across hosts (400 Gb/s InfiniBand "
                   "per GPU).")
flags.DEFINE_float("latency_us", 20.0, "Fixed cost of one collective, microseconds.")
FLAGS = flags.FLAGS

ALL_TO_ALL = "rows, all-to-all (not built)"
COLLECTIVE = re.compile(r"= (.*?) (all-reduce|all-gather|all-to-all|collective-permute|"
                        r"reduce-scatter)(?:-start)?\(")
SHAPE = re.compile(r"(f32|s32|u32|pred|f16|bf16)\[([0-9,]*)\]")
BYTES = {"f32": 4, "s32": 4, "u32": 4, "f16": 2, "bf16": 2, "pred": 1}
RING = {"all-gather": lambda n: (n - 1) / n, "reduce-scatter": lambda n: (n - 1) / n,
        "all-to-all": lambda n: (n - 1) / n, "all-reduce": lambda n: 2 * (n - 1) / n,
        "collective-permute": lambda n: 1.0}


def shape_bytes(text: str) -> int:
  return sum(BYTES[t] * int(np.prod([int(d) for d in dims.split(",") if d]))
             for t, dims in SHAPE.findall(text))


def collectives(config, data, mesh) -> list[tuple[str, str, float]]:
  """(operation, result shape, bytes received per device) of one compiled step."""
  chunk = next(pipeline.grouped_batches(config, data, 0)).arrays
  trainer = trainer_lib.build_trainer(config, data, mesh)
  fn, state = trainer.train_chunk, trainer.place(trainer.init_state())
  chunk = parallel.place(chunk, parallel.chunk_shardings(chunk, mesh))
  text = fn.func.lower(state, chunk, jax.random.PRNGKey(0), **fn.keywords).compile().as_text()
  found = []
  for line in text.splitlines():
    match = COLLECTIVE.search(line)
    if match:
      size = shape_bytes(match.group(1))
      found.append((match.group(2), match.group(1), size * RING[match.group(2)](mesh.size)))
  return found


def duration(seconds: float) -> str:
  if seconds < 120:
    return f"{seconds:.0f} s"
  return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def main(argv):
  del argv
  n = jax.device_count()
  per_device_batch = FLAGS.batch_size or resolve_lib.batch_size(config_lib.Config(loss=FLAGS.loss))
  base = resolve_lib.resolve(config_lib.Config(
      corpus=FLAGS.corpus, model=FLAGS.model, loss=FLAGS.loss, dim=FLAGS.dim,
      batch_size=per_device_batch * n, steps_per_call=1, num_devices=n, platform="cpu"))
  data = pipeline.prepare_data(base)
  mesh = parallel.make_mesh(base)
  print(f"{base.model}-{base.loss}, dim {base.dim}, {per_device_batch} examples per device, "
        f"global batch {base.batch_size} on {n} {jax.devices()[0].platform} devices")
  per_example = {}  # bytes per device per step, per global example, without the (n-1)/n
  count = {}  # collectives per step
  for layout in config_lib.choices("table_sharding"):
    config = dataclasses.replace(base, table_sharding=layout)  # resolved; layout-free defaults
    found = collectives(config, data, mesh)
    print(f"\n{layout}: collectives in one step\n\n| operation | result | MB per device |\n"
          "|---|---|---|")
    grouped = collections.Counter()
    for op, shape, received in found:
      grouped[(op, shape)] += received
    for (op, shape), received in sorted(grouped.items(), key=lambda x: -x[1]):
      print(f"| {op} | `{shape}` | {received / 1e6:.3f} |")
    total = sum(r for _, _, r in found)
    print(f"| **total** | | **{total / 1e6:.2f}** |")
    per_example[layout] = total / ((n - 1) / n) / base.batch_size
    count[layout] = len(found)
  if base.loss == "ns":
    # On paper: row-sharded tables where each device sends its examples' row ids to the rows'
    # owners and gets the rows back (all-to-all), then sends the updates the same way.
    rows = (1 if base.model == "skipgram" else 2 * base.window) + 1 + (
        base.negative / base.share_negatives)
    per_example[ALL_TO_ALL] = 2 * rows * (4 * base.dim + 4)
    count[ALL_TO_ALL] = 4  # ids out, rows back, updates out (with their ids)
    print(f"\n{ALL_TO_ALL}: {rows:.3f} rows per example out and back, "
          f"{per_example[ALL_TO_ALL] / 1e3:.2f} kB per example")
  if not FLAGS.examples_per_s:
    return
  print(f"\nscaled: {per_device_batch} examples per device per step, "
        f"{FLAGS.examples_per_s / 1e3:.0f}k examples/s per device computing, "
        f"V = {FLAGS.vocab:,}, D = {FLAGS.dim}, {FLAGS.corpus_tokens:.3g} tokens\n")
  print("| devices | layout | MB per device per step | collectives | comm ms | compute ms | "
        "tables GB per device | examples/s (all) | one epoch |\n"
        "|---|---|---|---|---|---|---|---|---|")
  compute_s = per_device_batch / FLAGS.examples_per_s
  table_bytes = 4 * FLAGS.dim * (2 * FLAGS.vocab - (FLAGS.loss == "hs"))
  for devices in [int(c) for c in FLAGS.scale_to]:
    gbps = FLAGS.intra_host_gbps if devices <= FLAGS.devices_per_host else FLAGS.inter_host_gbps
    for layout, coefficient in per_example.items():
      volume = coefficient * per_device_batch * devices * (devices - 1) / devices
      if layout == ALL_TO_ALL:  # each device's own rows only: no growth with the count
        volume = coefficient * per_device_batch * (devices - 1) / devices
      comm_s = volume / (gbps * 1e9) + count[layout] * FLAGS.latency_us / 1e6
      rate = devices * per_device_batch / (compute_s + comm_s)
      tables = table_bytes / (1 if layout == "replicated" else devices)
      epoch_s = FLAGS.corpus_tokens * FLAGS.examples_per_token / rate
      print(f"| {devices} | {layout} | {volume / 1e6:.1f} | {count[layout]} | "
            f"{1e3 * comm_s:.2f} | {1e3 * compute_s:.2f} | {tables / 1e9:.2f} | "
            f"{rate / 1e6:.1f}M | {duration(epoch_s)} |")


if __name__ == "__main__":
  app.run(main)
