"""Host memory after each piece of a training run's start, in the trainer's order.

  python benchmarks/memory_steps.py --corpus=PATH --loss=hs --sample=0 --min_count=1

Prints the process's VmRSS (now) and VmHWM (peak so far) from /proc/self/status after: starting
JAX, loading the corpus and building its tables (pipeline.prepare_data), putting the loss's lookup
tables on the device, dropping the host's copy of the Huffman tree, model.init_params, and each of
making the first chunk of batches (the batch maker's first corpus chunk), and each of the first
--calls compiled calls on the epoch's real chunks (the first ones compiling). After loading the
corpus it also prints what the vocabulary's Python strings take (sys.getsizeof).

With --batch_maker it instead makes one epoch of the trainer's grouped batches
(pipeline.grouped_batches) with tracemalloc on, and prints their NumPy and Python allocations' peak:
the batch maker's own memory, without what the allocator keeps. Linux only. docs/log/SCALING_CURVES.md
used it on the V = 1M corpus that benchmarks/scaling.py generates (its --scratch folder keeps it).
"""

import dataclasses
import gc
import os
import sys
import tracemalloc

from absl import app
from absl import flags
import jax

from w2v_jax import config as config_lib
from w2v_jax import model as model_lib
from w2v_jax import pipeline
from w2v_jax import resolve as resolve_lib

flags.DEFINE_string("corpus", "default", "Corpus (as run.py's --corpus).")
flags.DEFINE_string("cache_dir", "", "As run.py.")
flags.DEFINE_enum("model", "skipgram", list(config_lib.MODELS), "Model.")
flags.DEFINE_enum("loss", "hs", list(config_lib.LOSSES), "Output layer.")
flags.DEFINE_integer("dim", 100, "Embedding dimension.")
flags.DEFINE_float("sample", 0.0, "Subsampling threshold.")
flags.DEFINE_integer("min_count", 1, "As run.py.")
flags.DEFINE_integer("calls", 3, "Compiled calls to make.")
flags.DEFINE_bool("batch_maker", False,
                  "Only the traced peak of one epoch's batches (see the module docstring).")
FLAGS = flags.FLAGS


def report(what: str) -> None:
  with open("/proc/self/status", encoding="ascii") as f:
    fields = dict(line.split(":", 1) for line in f)
  mib = lambda name: int(fields[name].split()[0]) // 1024
  print(f"{what:40s} VmRSS {mib('VmRSS'):6d} MiB   VmHWM {mib('VmHWM'):6d} MiB", flush=True)


def main(argv):
  del argv
  jax.numpy.zeros(1).block_until_ready()
  report("JAX started")
  config = resolve_lib.resolve(config_lib.Config(
      corpus=FLAGS.corpus, cache_dir=FLAGS.cache_dir, model=FLAGS.model, loss=FLAGS.loss,
      dim=FLAGS.dim, sample=FLAGS.sample, min_count=FLAGS.min_count, platform="cpu"))
  data = pipeline.prepare_data(config)
  report("corpus loaded, tables built")
  words = data.corpus.vocab.words
  strings = sys.getsizeof(words) + sum(map(sys.getsizeof, words))
  print(f"{'  of which the vocabulary strings':40s} {strings / 2**20:6.0f} MiB", flush=True)
  if FLAGS.batch_maker:
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    for _ in pipeline.grouped_batches(config, data, 0):
      pass
    peak = tracemalloc.get_traced_memory()[1] - start
    print(f"{'one epoch of batches, traced peak':40s} {peak / 2**20:6.0f} MiB", flush=True)
    return
  tables = model_lib.device_tables(config.loss, data.noise_V, data.tree)
  jax.block_until_ready(tables)
  report("lookup tables on the device")
  data = dataclasses.replace(data, noise_V=None, tree=None)
  gc.collect()
  report("host copies dropped")
  params = model_lib.init_params(jax.random.PRNGKey(0), len(data.corpus.vocab), config.dim,
                                 config.loss)
  jax.block_until_ready(params)
  report("init_params")
  tx, train_chunk = model_lib.make_train_chunk(
      config, tables, config.epochs * data.corpus.stats["vocab_tokens"], config.alpha)
  state = model_lib.init_state(params, tx)
  del params
  chunks = pipeline.grouped_batches(config, data, 0)
  for i in range(FLAGS.calls):
    chunk = next(chunks)
    if i == 0:
      report("first chunk made")
    slots = chunk.path_slots
    state, out = train_chunk(state, chunk.arrays, jax.random.PRNGKey(0), slots)
    jax.block_until_ready(out)
    report(f"compiled call {i + 1}" + (f" ({slots} path slots)" if slots else ""))


if __name__ == "__main__":
  app.run(main)
