"""Words/s of the four models against batch size on one accelerator, and the bytes each step moves.

  python benchmarks/accelerator.py                 # on the device at hand: the table below
  python benchmarks/accelerator.py --estimate      # no device: what the CPU-compiled step implies
  python benchmarks/accelerator.py --smoke         # CPU, seconds: a tiny corpus, two small batches

For each model (skip-gram and CBOW, ns and hs) and batch size it builds one
epoch of batches of --corpus on the host first (so the host's batch maker does
not set the pace), places them on the device, and times the compiled calls
alone; the first call, which compiles, is not timed. It reports
  words/s          corpus words per second of compiled calls;
  bytes/example    what the compiled step reads and writes per example;
  flops/example    XLA's count;
  of peak          the bandwidth the step's bytes at that speed would take, over
                   the device's peak (H100 3.35 TB/s, H200 4.8 TB/s);
and, at the largest batch, the analogy accuracy after that one epoch (a
slice of a corpus trains only so far; compare batch sizes, not corpora).

Bytes are XLA's cost analysis of the step compiled with one step per call,
corrected for how it counts sparse rows: it charges a gather or a
scatter-add the whole table it indexes (V x D floats, a sparse in-place
update touches only the indexed rows). The step is therefore compiled twice,
with the tables at V rows and at V + PAD_ROWS, the part that grows with the
rows is removed, and the rows a step gathers (read) and scatter-adds (read
and written) are added back. --estimate divides a device's peak bandwidth by
those bytes: an upper bound on words/s for a step that is bound by memory,
from the program XLA makes for a CPU (a GPU's fusions differ).

On the GPU machine (nothing there reaches the internet): carry the corpus
slice (made here by --make_slice) and the gensim test files:
  python benchmarks/accelerator.py --make_slice          # benchmarks/results/slice-accel.txt
  run: python benchmarks/accelerator.py --corpus=benchmarks/results/slice-accel.txt
"""

import dataclasses
import functools
import itertools
import json
import os
import tempfile
import time

from absl import app
from absl import flags
import jax
import jax.numpy as jnp
import numpy as np

from w2v_jax import batches as batches_lib
from w2v_jax import config as config_lib
from w2v_jax import datasets
from w2v_jax import metrics
from w2v_jax import model as model_lib
from w2v_jax import pipeline
from w2v_jax import resolve as resolve_lib
from w2v_jax import trainer as trainer_lib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLICE = os.path.join(ROOT, "benchmarks", "results", "slice-accel.txt")
MODELS = {"sg-ns": ("skipgram", "ns"), "cbow-ns": ("cbow", "ns"),
          "sg-hs": ("skipgram", "hs"), "cbow-hs": ("cbow", "hs")}
PEAK_BYTES_PER_S = {"H100": 3.35e12, "H200": 4.8e12}
PAD_ROWS = 1 << 14

flags.DEFINE_string("corpus", SLICE, "Corpus file (or run.py's names).")
flags.DEFINE_list("models", list(MODELS), "Models to measure.")
flags.DEFINE_list("batches", ["512", "4096", "32768", "65536", "262144"], "Batch sizes.")
flags.DEFINE_integer("dim", 100, "Embedding dimension.")
flags.DEFINE_integer("steps_per_call", 0, "Steps per compiled call (0 = run.py's default).")
flags.DEFINE_string("row_update", "", "--row_update for every run ('' = the default).")
flags.DEFINE_float("max_seconds", 20.0, "Stop timing a (model, batch) after this long.")
flags.DEFINE_bool("estimate", False, "Only the cost analysis and what it implies on H100/H200.")
flags.DEFINE_bool("smoke", False, "A few seconds on the CPU: a generated corpus, small batches.")
flags.DEFINE_bool("make_slice", False, "Write the first --slice_tokens of offline-prose to "
                  "benchmarks/results/slice-accel.txt and stop.")
flags.DEFINE_integer("slice_tokens", 3_000_000, "Tokens in the slice --make_slice writes.")
flags.DEFINE_string("out", "", "Also write the rows as JSON lines here.")
FLAGS = flags.FLAGS


def make_slice(tokens: int, path: str = SLICE) -> str:
  """The first `tokens` tokens of offline-prose, by whole lines."""
  source = datasets.resolve(resolve_lib.resolve(config_lib.Config(corpus="offline-prose")))
  written = 0
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(source, encoding="utf-8") as f, open(path, "w", encoding="utf-8") as out:
    for line in f:
      out.write(line)
      written += len(line.split())
      if written >= tokens:
        break
  return path


def smoke_corpus(folder: str) -> str:
  """A Zipf-ish corpus of 20k tokens over 300 words, made from a seed."""
  rng = np.random.default_rng(0)
  words = np.array([f"w{i}" for i in range(300)])
  p = 1.0 / np.arange(1, 301)
  ids = rng.choice(300, size=20_000, p=p / p.sum())
  path = os.path.join(folder, "smoke.txt")
  with open(path, "w", encoding="utf-8") as f:
    for line in np.array_split(words[ids], 1000):
      f.write(" ".join(line) + "\n")
  return path


def _config(name: str, batch: int, corpus: str, workdir: str):
  model, loss = MODELS[name]
  extra = {"row_update": FLAGS.row_update} if FLAGS.row_update else {}
  return resolve_lib.resolve(config_lib.Config(
      corpus=corpus, model=model, loss=loss, dim=FLAGS.dim, batch_size=batch, epochs=1,
      sample=1e-4, min_count=1 if FLAGS.smoke else 5, steps_per_call=FLAGS.steps_per_call,
      workdir=workdir, cache_dir=os.path.join(workdir, "cache"), **extra))


def _padded(state, name: str, rows: int):
  return state.replace(params=dict(state.params, **{
      name: jnp.pad(state.params[name], ((0, rows), (0, 0)))}))


def step_cost(config, data, chunk) -> dict:
  """Bytes and FLOPs of one step on `chunk`'s first batch, sparse rows counted as touched."""
  trainer = trainer_lib.build_trainer(dataclasses.replace(config, steps_per_call=1), data)
  state = trainer.init_state()
  batch = {k: v[:1] for k, v in chunk.arrays.items()}
  fn = trainer.train_chunk

  def analysed(state):
    compiled = fn.func.lower(state, batch, jax.random.PRNGKey(0), chunk.path_slots,
                             **fn.keywords).compile()
    cost = compiled.cost_analysis()
    return cost[0] if isinstance(cost, list) else cost
  base = analysed(state)
  table_bytes = 0.0  # what XLA charges in proportion to each table's rows
  for name, table in state.params.items():
    per_row = (analysed(_padded(state, name, PAD_ROWS))["bytes accessed"]
               - base["bytes accessed"]) / PAD_ROWS
    table_bytes += per_row * table.shape[0]
  example = {k: jnp.asarray(v[0]) for k, v in batch.items()}
  ids, _, _ = jax.eval_shape(functools.partial(
      model_lib._gather, model=config.model, loss=config.loss, negative=config.negative,
      share_negatives=config.share_negatives), state.params,
      model_lib.device_tables(config.loss, data.noise_V, data.tree), example,
      jax.random.PRNGKey(0))
  touched_rows = sum(int(np.prod(v.shape)) for v in ids.values())
  row_bytes = 4 * config.dim
  sparse = base["bytes accessed"] - table_bytes + 3 * touched_rows * row_bytes
  return {"bytes": sparse, "flops": base.get("flops", 0.0), "xla_bytes": base["bytes accessed"],
          "touched_rows": touched_rows}


def measure(name: str, batch: int, corpus: str, evaluate: bool) -> dict:
  with tempfile.TemporaryDirectory() as workdir:
    config = _config(name, batch, corpus, workdir)
    data = pipeline.prepare_data(config)
    chunks = list(pipeline.grouped_batches(config, data, 0))
    examples = sum(int(batches_lib.example_mask(c.arrays, config.model).sum()) for c in chunks)
    words = data.corpus.stats["vocab_tokens"]
    cost = step_cost(config, data, chunks[0])
    # A full step's examples (pairs for skip-gram, also when a row holds a centre's
    # contexts), and the corpus words that many examples stand for.
    per_step = int(batches_lib.example_mask({k: v[0] for k, v in chunks[0].arrays.items()},
                                            config.model).sum())
    row = {"model": name, "batch": batch, "layout": config.batch_rows,
           "row_update": config.row_update, "device": jax.devices()[0].device_kind,
           "examples_per_step": per_step,
           "bytes_per_example": cost["bytes"] / per_step,
           "flops_per_example": cost["flops"] / per_step,
           "words_per_example": words / examples}
    if FLAGS.estimate:
      return row
    trainer = trainer_lib.build_trainer(config, data)
    placed = list(pipeline.placed_chunks(chunks, trainer.mesh))
    key = jax.random.PRNGKey(0)
    warm = trainer.place(trainer.init_state())  # compiles each path bucket's program
    for slots in dict.fromkeys(c.path_slots for c in placed):
      warm, out = trainer.train_chunk(warm, next(c for c in placed if c.path_slots == slots)
                                      .arrays, key, slots)
    jax.block_until_ready(out)
    del warm
    state = trainer.place(trainer.init_state())
    start, done = time.perf_counter(), 0
    for chunk in placed:
      state, out = trainer.train_chunk(state, chunk.arrays, key, chunk.path_slots)
      done += 1
      if time.perf_counter() - start > FLAGS.max_seconds:
        break
    jax.block_until_ready(out)
    seconds = time.perf_counter() - start
    timed = sum(int(batches_lib.example_mask(c.arrays, config.model).sum())
                for c in chunks[:done])
    row["words_per_s"] = timed * row["words_per_example"] / max(seconds, 1e-9)
    row["bytes_per_s"] = row["words_per_s"] / row["words_per_example"] * row["bytes_per_example"]
    if evaluate and done == len(placed):  # the whole epoch was trained
      vectors = trainer.tables(jax.device_get(state))[0]["emb_in"]
      result = metrics.evaluate_all(data.corpus.vocab.words, np.asarray(vectors))
      row["analogy"] = 100 * result["analogy"]["total"]
      row["analogy_seen"] = result["analogy"]["seen"]
    return row


def _peak(kind: str):
  return next((bw for name, bw in PEAK_BYTES_PER_S.items() if name in kind), None)


def lines(rows) -> list:
  out = ["| model | batch | bytes/example | flops/example | words/s | of peak | implied H100 "
         "| implied H200 | analogy, 1 epoch |", "|---|---|---|---|---|---|---|---|---|"]
  for r in rows:
    per_word = r["bytes_per_example"] / r["words_per_example"]
    peak = _peak(r["device"])
    speed = r.get("words_per_s")
    out.append("| {} | {} | {:.0f} | {:.0f} | {} | {} | {:.1f}M | {:.1f}M | {} |".format(
        r["model"], r["batch"], r["bytes_per_example"], r["flops_per_example"],
        f"{speed / 1e6:.2f}M" if speed else "-",
        f"{r['bytes_per_s'] / peak:.0%}" if speed and peak else "-",
        PEAK_BYTES_PER_S["H100"] / per_word / 1e6, PEAK_BYTES_PER_S["H200"] / per_word / 1e6,
        f"{r['analogy']:.1f}%" if "analogy" in r else "-"))
  return out


def main(argv):
  del argv
  if FLAGS.make_slice:
    print(make_slice(FLAGS.slice_tokens))
    return
  with tempfile.TemporaryDirectory() as folder:
    corpus = FLAGS.corpus
    batches = [int(b) for b in FLAGS.batches]
    if FLAGS.smoke:
      corpus, batches = smoke_corpus(folder), [128]
      FLAGS.max_seconds, FLAGS.steps_per_call = 2.0, 4
    elif corpus == SLICE and not os.path.exists(SLICE):
      make_slice(FLAGS.slice_tokens)
    rows = []
    for name, batch in itertools.product(FLAGS.models, batches):
      rows.append(measure(name, batch, corpus, evaluate=batch == max(batches)))
      print(json.dumps(rows[-1]), flush=True)
      if FLAGS.out:
        with open(FLAGS.out, "a", encoding="utf-8") as f:
          f.write(json.dumps(rows[-1]) + "\n")
  print(f"\n{jax.devices()[0].device_kind}, corpus {corpus}, dim {FLAGS.dim}")
  print("\n".join(lines(rows)))


if __name__ == "__main__":
  app.run(main)
