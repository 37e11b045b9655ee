"""Speed of the compiled training step alone, on real batches, and where its time goes.

  python benchmarks/profile_step.py --model=skipgram --loss=ns              # steady examples/s
  python benchmarks/profile_step.py --model=skipgram --loss=hs --trace      # + time per XLA op
  python benchmarks/profile_step.py --loss=ns --batch_size=512 --share_negatives=1
  python benchmarks/profile_step.py --loss=hs --path_buckets=1 --path_slots=16  # time vs L

Builds a few hundred batches of the corpus (default offline-prose, sample 1e-4: the settings of
compare.py) on the host first (and counts the epoch's examples, to turn
examples/s into corpus words/s), then times only the compiled calls (train_chunk, one call per
--steps_per_call batches), best of --repeats passes, each call waited for. Prints examples/s and
the corpus words/s that rate means. --trace records one pass with jax.profiler and prints the
XLA operations that took the most time (from the Perfetto trace; names are XLA's fusion names,
look them up in an HLO dump: XLA_FLAGS=--xla_dump_to=DIR --xla_dump_hlo_as_text).

Run it pinned like the benchmarks, e.g. `taskset -c 0,1 python benchmarks/profile_step.py`.
"""

import collections
import glob
import gzip
import itertools
import json
import os
import tempfile
import time

from absl import app
from absl import flags
import jax
import numpy as np

from w2v_jax import batches as batches_lib
from w2v_jax import config as config_lib
from w2v_jax import pipeline
from w2v_jax import resolve as resolve_lib
from w2v_jax import trainer as trainer_lib
from w2v_jax.output_layers import LAYERS

flags.DEFINE_string("corpus", "offline-prose", "Corpus (as run.py's --corpus).")
flags.DEFINE_enum("model", "skipgram", list(config_lib.MODELS), "Model.")
flags.DEFINE_enum("loss", "ns", list(config_lib.LOSSES), "Output layer.")
flags.DEFINE_integer("dim", 100, "Embedding dimension.")
flags.DEFINE_integer("batch_size", 0, "Examples per step (0 = the loss's default).")
flags.DEFINE_integer("share_negatives", 0, "As run.py (0 = the default).")
flags.DEFINE_enum("skipgram_layout", "auto", list(config_lib.choices("skipgram_layout")),
                  "As run.py.")
flags.DEFINE_integer("path_buckets", 0, "As run.py (0 = the default).")
flags.DEFINE_integer("path_slots", 0,
                     "hs, timing only: train every batch with this many path slots (the paths "
                     "cut to it: the time of that shape, not a correct step); 0 = the batches' "
                     "own. How docs/log/SPEED.md measured the step against L.")
flags.DEFINE_integer("steps_per_call", 32, "Batches per compiled call (0 = run.py's default).")
flags.DEFINE_float("sample", 1e-4, "Subsampling threshold.")
flags.DEFINE_integer("calls", 60, "Compiled calls per timed pass.")
flags.DEFINE_integer("repeats", 3, "Timed passes; the best is reported.")
flags.DEFINE_bool("trace", False, "Also profile one pass and print the slowest XLA ops.")
FLAGS = flags.FLAGS


def top_ops(trace_dir: str, count: int = 15):
  """(total ms, calls, name) of the longest-running events in a Perfetto trace."""
  path = sorted(glob.glob(os.path.join(trace_dir, "**", "perfetto_trace.json.gz"),
                          recursive=True))[-1]
  with gzip.open(path) as f:
    events = json.load(f)
  events = events["traceEvents"] if isinstance(events, dict) else events
  total, calls = collections.Counter(), collections.Counter()
  for event in events:
    name = event.get("name", "")
    # XLA's own operations only: not the Python frames, the executor or the wait.
    if event.get("ph") == "X" and not name.startswith(("$", "Thunk", "Pjit", "while")):
      total[name] += event.get("dur", 0) / 1e3
      calls[name] += 1
  return [(ms, calls[name], name) for name, ms in total.most_common(count)]


def main(argv):
  del argv
  config = resolve_lib.resolve(config_lib.Config(
      corpus=FLAGS.corpus, model=FLAGS.model, loss=FLAGS.loss, dim=FLAGS.dim,
      batch_size=FLAGS.batch_size,
      share_negatives=FLAGS.share_negatives, skipgram_layout=FLAGS.skipgram_layout,
      path_buckets=FLAGS.path_buckets,
      steps_per_call=FLAGS.steps_per_call,
      sample=FLAGS.sample, platform="cpu", epochs=1))  # the schedule spans the one epoch timed
  data = pipeline.prepare_data(config)
  total_words = data.corpus.stats["vocab_tokens"]
  chunks = []
  for chunk in itertools.islice(pipeline.grouped_batches(config, data, 0), FLAGS.calls + 1):
    chunks.append((chunk.arrays, FLAGS.path_slots or chunk.path_slots))
  examples = sum(int(batches_lib.example_mask(c, config.model).sum()) for c, _ in chunks[1:])
  # Corpus words per example over the whole epoch: with path buckets the chunks
  # do not cover one stretch of the corpus (pipeline.grouped_batches).
  epoch_examples = sum(int(batches_lib.example_mask(b, config.model).sum())
                       for b in pipeline.epoch_batches(config, data, 0))
  words = examples * total_words / epoch_examples
  trainer = trainer_lib.build_trainer(config, data)
  train_chunk, state = trainer.train_chunk, trainer.place(trainer.init_state())
  key = jax.random.PRNGKey(0)
  for slots in dict.fromkeys(slots for _, slots in chunks):  # compiles each shape
    state, out = train_chunk(state, next(c for c, s in chunks if s == slots), key, slots)
    jax.block_until_ready(out)

  def one_pass(state):
    for chunk, slots in chunks[1:]:
      state, out = train_chunk(state, chunk, key, slots)
      jax.block_until_ready(out)
    return state

  best = float("inf")
  for _ in range(FLAGS.repeats):
    start = time.perf_counter()
    state = one_pass(state)
    best = min(best, time.perf_counter() - start)
  print(f"{config.model}-{config.loss}, dim {config.dim}, batch {config.batch_size}"
        + f" ({config.batch_rows}"
        + (f", path buckets {data.path_bounds}" if data.path_bounds else "")
        + (f", timed with {FLAGS.path_slots} path slots" if FLAGS.path_slots else "") + ")"
        + (f", negatives shared by {config.share_negatives}"
           if LAYERS[config.loss].needs_noise else "")
        + f": {examples / best / 1e6:.2f}M examples/s, {words / best / 1e3:.0f}k corpus words/s "
        f"({len(chunks) - 1} calls of {config.steps_per_call} steps, best of {FLAGS.repeats}, "
        f"on {jax.devices()[0].device_kind})")
  if FLAGS.trace:
    with tempfile.TemporaryDirectory() as trace_dir:
      with jax.profiler.trace(trace_dir, create_perfetto_trace=True):
        one_pass(state)
      steps = (len(chunks) - 1) * config.steps_per_call
      print(f"slowest XLA ops over {steps} steps (profiled, so slower than above):")
      for ms, calls, name in top_ops(trace_dir):
        print(f"  {ms:8.1f} ms  {1e3 * ms / steps:7.1f} us/step  {calls:6d} calls  {name}")


if __name__ == "__main__":
  app.run(main)
