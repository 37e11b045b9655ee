"""How far one batched step moves each row from where the same examples applied one at a time would.

For one batch of B real examples (offline-prose) and one state (the initial
tables, or a trained params.npz), this runs
  * the sequential reference: a lax.scan of batch-1 steps over the batch's
    examples in order, word2vec.c's rule;
  * one batched step with each --row_update rule,
all at the same learning rate, and reports, per table and per class of rows
(the hottest rows by in-batch multiplicity, the rest), the relative error
|batched - sequential| / |sequential| of the rows' displacements, their gain
<batched, sequential> / |sequential|^2 (below 1: the rule holds the rows back), and
how many examples touch the hottest rows.

  python experiments/large_batch_probe.py --model=skipgram --loss=ns --batch=65536
  python experiments/large_batch_probe.py --params=runs/default/params.npz ...
  python experiments/large_batch_probe.py --rules=newton,newton+alternate   # tables in turn
  python experiments/large_batch_probe.py --rules=shuffled,sum,krylov   # shuffled: the noise
      # floor, the same examples applied one at a time in another order
"""

import json

import jax
import jax.numpy as jnp
import numpy as np
from absl import app
from absl import flags

from w2v_jax import model as model_lib
from w2v_jax import pipeline
from w2v_jax.config import Config
from w2v_jax.output_layers import LAYERS
from w2v_jax.resolve import resolve

flags.DEFINE_string("model", "skipgram", "skipgram or cbow")
flags.DEFINE_string("loss", "ns", "ns or hs")
flags.DEFINE_integer("batch", 65536, "examples in the probed batch")
flags.DEFINE_string("params", "", "a params.npz to start from (else the initial tables)")
flags.DEFINE_string("corpus", "offline-prose", "corpus")
flags.DEFINE_float("lr", 0.025, "learning rate of every step")
flags.DEFINE_list("rules", ["sum", "cap", "newton"], "rules to compare; RULE+alternate "
                  "updates the output table first, then the input table from it")
flags.DEFINE_float("sample", 1e-4, "subsampling threshold of the probed batch")
flags.DEFINE_integer("krylov_dims", 3, "--krylov_dims of the krylov rule")
flags.DEFINE_integer("hot", 100, "rows counted as hot: the most used in the batch")
FLAGS = flags.FLAGS


def _batch(config, data):
  """The first batch of epoch 0, with its negatives or paths looked up."""
  chunk = next(pipeline.grouped_batches(config, data, 0))
  batch = {k: jnp.asarray(v[:1]) for k, v in chunk.arrays.items()}
  tables = model_lib.device_tables(config.loss, data.noise_V, data.tree)
  batch.update(LAYERS[config.loss].chunk_inputs(batch, tables, jax.random.PRNGKey(3),
                                               jnp.int32(0), config, chunk.path_slots))
  return {k: v[0] for k, v in batch.items()}, tables


def _step(config, tables, rule):
  tx = model_lib.make_optimizer(FLAGS.lr, rule, config.row_cap, config.krylov_dims)
  kwargs = dict(model=config.model, loss=config.loss, negative=config.negative,
                cbow_mean=config.cbow_mean, cbow_update=config.cbow_update, tx=tx,
                total_words=1 << 40, alpha=FLAGS.lr, min_ratio=1e-4,
                skip_beyond=config.skip_beyond, share_negatives=1)
  return tx, jax.jit(lambda state, batch: model_lib.train_step(
      state, batch, jax.random.PRNGKey(0), tables, **kwargs)[0].params)


def main(argv):
  del argv
  config = resolve(Config(corpus=FLAGS.corpus, model=FLAGS.model, loss=FLAGS.loss,
                          batch_size=FLAGS.batch, share_negatives=1, seed=1, epochs=1,
                          sample=FLAGS.sample, krylov_dims=FLAGS.krylov_dims))
  data = pipeline.prepare_data(config)
  batch, tables = _batch(config, data)
  vocab = len(data.corpus.vocab)
  if FLAGS.params:
    with np.load(FLAGS.params) as f:
      params = {k: jnp.asarray(f[k]) for k in ("emb_in", LAYERS[config.loss].table)}
  else:
    params = model_lib.init_params(jax.random.PRNGKey(1), vocab, config.dim, config.loss)
  batch["words_done"] = jnp.float32(0)

  tx, seq_step = _step(config, tables, "sum")
  state = model_lib.init_state(params, tx)

  def sequential(params, order):
    def body(params, example):
      one = {k: v[None] for k, v in example.items()}
      one["words_done"] = jnp.float32(0)
      return seq_step(model_lib.init_state(params, tx), one), None
    per_example = {k: v[order] for k, v in batch.items() if k != "words_done"}
    return jax.lax.scan(body, params, per_example)[0]
  reference = jax.jit(sequential)(params, jnp.arange(FLAGS.batch))
  ids, _, _ = model_lib._gather(params, tables, batch, jax.random.PRNGKey(0),
                                model=config.model, loss=config.loss, negative=config.negative)
  report = {"model": config.model, "loss": config.loss, "batch": FLAGS.batch,
            "start": FLAGS.params or "init"}
  seq_move = {k: np.asarray(reference[k] - params[k]) for k in ids}
  out_table = LAYERS[config.loss].table
  live = {"emb_in": np.asarray(batch["context_mask"] if "context_mask" in batch
                               else batch["mask"])}
  for rule in FLAGS.rules:
    # "RULE+alternate": the output table's step first, then the input table's, computed
    # with the output rows that step left (the order one example's update has).
    base, alternate = rule.split("+")[0], rule.endswith("+alternate")
    if base == "shuffled":  # the noise floor: the same examples one at a time, in another order
      moved = jax.jit(sequential)(params, jax.random.permutation(jax.random.PRNGKey(7),
                                                                 FLAGS.batch))
    else:
      tx_r, step = _step(config, tables, base)
      moved = step(model_lib.init_state(params, tx_r), batch)
    if alternate:
      second = step(model_lib.init_state(dict(params, **{out_table: moved[out_table]}), tx_r),
                    batch)
      moved = dict(moved, emb_in=second["emb_in"])
    for name, ids_ in ids.items():
      weights = live.get(name, np.ones(ids_.shape, bool)).ravel()
      counts = np.bincount(np.asarray(ids_).ravel(), weights=weights,
                           minlength=params[name].shape[0])
      order = np.argsort(-counts)
      hot, used = order[:FLAGS.hot], np.flatnonzero(counts)
      cold = np.setdiff1d(used, hot)
      move = np.asarray(moved[name] - params[name])
      for label, rows in (("hot", hot), ("rest", cold)):
        err = np.linalg.norm(move[rows] - seq_move[name][rows])
        ref = np.linalg.norm(seq_move[name][rows])
        report[f"{rule}/{name}/{label}"] = round(float(err / max(ref, 1e-30)), 3)
        # The least-squares gain of the batched displacement on the sequential one: 1 moves
        # the rows as far along the sequential pass as it goes, below 1 holds them back.
        along = np.sum(move[rows] * seq_move[name][rows])
        report[f"{rule}/{name}/{label}/gain"] = round(float(along / max(ref * ref, 1e-30)), 3)
      report[f"uses/{name}/top1"] = int(counts[order[0]])  # live occurrences only
      report[f"uses/{name}/top{FLAGS.hot}"] = int(counts[order[FLAGS.hot - 1]])
  print(json.dumps(report, indent=1))


if __name__ == "__main__":
  app.run(main)
