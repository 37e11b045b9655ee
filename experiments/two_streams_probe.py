"""Quality of two training streams whose tables merge after every call: which merge rule?

Two streams each train on half of the corpus (stream s of 2, as pipeline.grouped_batches
gives process s of 2), from the same tables, one compiled call at a time; after each
call the tables become W0 + merge(dA, dB), W0 the tables both started the call from:
  sum      dA + dB: word2vec.c's threads, which write the same rows, do this
  avg      (dA + dB) / 2
  sat:U    f (dA + dB) per row, f = (1 - rA rB) / (2 - rA - rB), r = exp(-n / U) for the
           n uses the row had in that stream's call: on a row's local quadratic, where
           each use moves it a fraction of the way to its target, applying B's uses
           after A's gives (1 - rA rB) of the way; f is 1 for a row one stream used (or
           both, rarely), 1/2 for one both used far more than U times
then trains 3 epochs and scores the tables as run.py does (analogies at 30k, WS353,
SimLex-999). --streams=1 is the plain stream, for reference.

  python experiments/two_streams_probe.py --model=cbow --rule=sum
  python experiments/two_streams_probe.py --model=cbow --streams=1

This measures quality only: the streams run in one process on two simulated CPU
devices, whose XLA pools have two threads each (slow; benchmarks/two_streams.py says
why and measures the speed). Appends a JSON line per run to --out.
"""

import os
import sys

os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                           + " --xla_force_host_platform_device_count=2").strip()
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import json  # noqa: E402  pylint: disable=wrong-import-position
import time  # noqa: E402  pylint: disable=wrong-import-position
from concurrent.futures import ThreadPoolExecutor  # noqa: E402  pylint: disable=wrong-import-position

import jax  # noqa: E402  pylint: disable=wrong-import-position
import jax.numpy as jnp  # noqa: E402  pylint: disable=wrong-import-position
import numpy as np  # noqa: E402  pylint: disable=wrong-import-position
from absl import app  # noqa: E402  pylint: disable=wrong-import-position
from absl import flags  # noqa: E402  pylint: disable=wrong-import-position
from jax.sharding import Mesh  # noqa: E402  pylint: disable=wrong-import-position

from experiments import common  # noqa: E402  pylint: disable=wrong-import-position
from w2v_jax import config as config_lib  # noqa: E402  pylint: disable=wrong-import-position
from w2v_jax import metrics  # noqa: E402  pylint: disable=wrong-import-position
from w2v_jax import parallel  # noqa: E402  pylint: disable=wrong-import-position
from w2v_jax import pipeline  # noqa: E402  pylint: disable=wrong-import-position
from w2v_jax import trainer as trainer_lib  # noqa: E402  pylint: disable=wrong-import-position
from w2v_jax.output_layers import LAYERS  # noqa: E402  pylint: disable=wrong-import-position

flags.DEFINE_enum("model", "cbow", ["skipgram", "cbow"], "model (loss hs)")
flags.DEFINE_string("rule", "sum", "sum, avg or sat:U (module docstring)")
flags.DEFINE_integer("streams", 2, "1 (the plain stream) or 2")
flags.DEFINE_integer("epochs", 3, "epochs")
flags.DEFINE_integer("seed", 0, "seed")
flags.DEFINE_string("corpus", "offline-prose", "corpus")
flags.DEFINE_string("out", "experiments/results/two_streams.jsonl", "JSON lines appended here")
FLAGS = flags.FLAGS


def uses(arrays, tree, model, rows_V):
  """Per table, how often a call's real examples use each row: [V] emb_in, [V - 1] the
  tree's nodes."""
  slots = arrays["context_mask"] & arrays["mask"][..., None]
  n_in = np.bincount(arrays["context"][slots], minlength=rows_V)
  centre = arrays["centre"][arrays["mask"]]
  weight = slots.sum(-1)[arrays["mask"]] if model == "skipgram" else np.ones(len(centre))
  points = tree.points_VxL[centre]
  real = np.arange(points.shape[1])[None] < tree.lengths_V[centre][:, None]
  n_nodes = np.bincount(points[real], weights=np.broadcast_to(weight[:, None], points.shape)[real],
                        minlength=rows_V)
  return {"emb_in": n_in.astype(np.float32),
          LAYERS["hs"].table: n_nodes[:rows_V - 1].astype(np.float32)}


def merge(rule: str):
  """(W0, [WA, WB], [uses A, uses B]) -> the merged tables (module docstring)."""
  saturation = float(rule.split(":")[1]) if rule.startswith("sat:") else None

  def fn(w0, ws, ns):
    out = {}
    for k, start in w0.items():
      total = sum(w[k] - start for w in ws)
      if rule == "sum":
        out[k] = start + total
      elif rule == "avg":
        out[k] = start + total / len(ws)
      else:
        r_a, r_b = (jnp.exp(-n[k] / saturation)[:, None] for n in ns)
        apart = 2.0 - r_a - r_b
        f = jnp.where(apart > 1e-6, (1.0 - r_a * r_b) / jnp.maximum(apart, 1e-6), 1.0)
        out[k] = start + f * total
    return out
  if rule not in ("sum", "avg") and saturation is None:
    raise app.UsageError(f"--rule={rule}: sum, avg or sat:U")
  return jax.jit(fn)


def main(argv):
  del argv
  config = common.resolve(config_lib.Config(
      corpus=FLAGS.corpus, model=FLAGS.model, loss="hs", sample=1e-4, platform="cpu",
      epochs=FLAGS.epochs, seed=FLAGS.seed))
  data = pipeline.prepare_data(config)
  n_streams, rows_V = FLAGS.streams, len(data.corpus.vocab)
  devices = jax.devices()[:n_streams]
  meshes = [Mesh(np.asarray([d]), (parallel.AXIS,)) for d in devices]
  trainers = [trainer_lib.build_trainer(config, data, mesh=m) for m in meshes]
  copy_to = lambda tree, d: jax.device_put(jax.tree_util.tree_map(jnp.copy, tree), d)
  initial = trainers[0].init_state()
  states = [copy_to(initial, d) for d in devices]
  train_key = trainer_lib.split_key(config.seed)[1]
  keys = [jax.device_put(jax.random.fold_in(train_key, s), d) for s, d in enumerate(devices)]
  w0, merged = copy_to(initial.params, devices[0]), merge(FLAGS.rule)
  pool, start = ThreadPoolExecutor(n_streams), time.time()

  def call(s, chunk):
    state, _ = trainers[s].train_chunk(states[s], chunk.arrays, keys[s], chunk.path_slots)
    return jax.block_until_ready(state)

  for epoch in range(config.epochs):
    streams = [pipeline.placed_chunks(pipeline.grouped_batches(
        config, data, epoch, s, n_streams), meshes[s]) for s in range(n_streams)]
    while True:
      chunks = [next(stream, None) for stream in streams]
      if all(c is None for c in chunks):
        break
      active = [s for s, c in enumerate(chunks) if c is not None]
      for s, state in zip(active, pool.map(lambda s: call(s, chunks[s]), active)):
        states[s] = state
      if n_streams == 1:
        continue
      ws = [jax.device_put(states[s].params, devices[0]) if s in active else w0
            for s in range(n_streams)]
      ns = [uses(jax.device_get(chunks[s].arrays), data.tree, config.model, rows_V)
            if s in active and FLAGS.rule.startswith("sat:") else None for s in range(n_streams)]
      w0 = merged(w0, ws, ns)
      for s in range(n_streams):
        states[s] = states[s].replace(params=copy_to(w0, devices[s]))
  params = jax.device_get(states[0].params if n_streams == 1 else w0)
  result = metrics.evaluate_all(list(data.corpus.vocab.words), np.asarray(params["emb_in"]))
  record = dict(model=config.model, loss="hs", rule=FLAGS.rule if n_streams > 1 else "-",
                streams=n_streams, seed=config.seed, epochs=config.epochs,
                seconds=round(time.time() - start, 1),
                analogy=round(100 * result["analogy"]["total"], 2),
                ws353=round(result["ws353"]["spearman"], 3),
                simlex=round(result["simlex"]["spearman"], 3))
  print(json.dumps(record), flush=True)
  with open(FLAGS.out, "a", encoding="utf-8") as f:
    f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
  app.run(main)
