"""--sweep: S variants of one run trained side by side in one compiled program.

Variants that differ only in ns_exponent, alpha, negative or dim consume the
same batches in the same order: the data stream is a function of the corpus,
the subsampling and window settings, the batch size and the seed, none of
which a sweep may change (config.SWEEPABLE). So the host makes each batch
once, and the device trains every variant on it: the parameter tables get a
leading [S] axis and model.train_step, unchanged, is jax.vmap-ed over it
inside the same jitted lax.scan that a single run uses. What differs per
variant rides along that axis:
  ns_exponent  the alias tables of counts^alpha: each variant draws its own
               negatives from its own table, with the seed a single run would
               use, so variant s sees exactly the negatives of a separate run;
  alpha        the starting learning rate (a traced scalar; the linear decay
               is the same function of the words done);
  negative     one static K = the largest value; variant s draws its own k_s
               negatives exactly as a separate run with K = k_s would (same
               seed, same shape) and pads them to K; the padding is masked out
               (model._gather's negative_count) and so gives no loss term, no
               gradient and a zero update;
  dim          one static D = the largest value; variant s starts from the
               [V, d_s] tables a separate run would draw, padded with zero
               columns. Nothing couples columns: every score is a dot product
               over D, so a zero column adds nothing to it, and its gradient,
               the error times the matching column of the other table, is
               zero too, so the padding stays exactly zero and the first d_s
               columns are the d_s-dimensional model. Only the order of float
               additions differs (summing zeros), hence "up to rounding".
Each variant is therefore the separate run with the same settings, up to
float rounding (tests/sweep_test.py holds them against each other). The cost
of padding: negative and dim sweeps do the largest variant's work S times.

Time is not attributable per variant: a variant's summary.json records the
one program's wall time for all S variants (`train_seconds`) and says so
(`sweep`).
"""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from w2v_jax import config as config_lib
from w2v_jax import model as model_lib
from w2v_jax import sampling


def largest(config: config_lib.Config, variants: list) -> config_lib.Config:
  """The config whose shapes hold every variant: the largest dim and negative."""
  return dataclasses.replace(config, sweep="", dim=max(v.dim for v in variants),
                             negative=max(v.negative for v in variants))


def _stack(trees: list):
  return jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *trees)


def init_state(config, variants, key, vocab_size: int, tx) -> dict:
  """Each variant's initial tables (its own dim, zero-padded to the largest) stacked on [S]."""
  dim = largest(config, variants).dim

  def padded(params):
    return {name: jnp.pad(table, ((0, 0), (0, dim - table.shape[1])))
            for name, table in params.items()}
  params_S = _stack([padded(model_lib.init_params(key, vocab_size, v.dim, config.loss))
                     for v in variants])
  opt_state_S = _stack([tx.init({}) for _ in variants])
  return {"params": params_S, "opt_state": opt_state_S, "step": jnp.zeros((), jnp.int32)}


def variant_params(params_S: dict, s: int, variant: config_lib.Config) -> dict:
  """Variant s's tables, host arrays, cut back to its own dim."""
  return {name: np.asarray(table[s][:, :variant.dim]) for name, table in params_S.items()}


def make_train_chunk(config, variants, counts_V, tree, total_words: int):
  """model.make_train_chunk for S variants: (state_S, chunk, key) -> (state_S, (loss_TxS, lr_TxS)).

  The state is donated; its tables and optimizer state carry the [S] axis,
  its step does not (all variants step together).
  """
  big = largest(config, variants)
  share = config_lib.share_negatives(config)
  # The learning rate is set by train_step on every step; this alpha only
  # shapes the optimizer state.
  tx = model_lib.make_optimizer(config_lib.learning_rate(variants[0]))
  field, _ = config_lib.sweep_values(config)
  tables = model_lib.device_tables(config.loss, tree=tree) if config.loss == "hs" else {}
  noise_tables = [
      model_lib.device_tables("ns", sampling.noise_distribution(counts_V, v.ns_exponent))
      for v in variants] if config.loss == "ns" else []
  alpha_S = jnp.asarray([config_lib.learning_rate(v) for v in variants], jnp.float32)
  count_S = jnp.asarray([v.negative for v in variants], jnp.int32)
  step = functools.partial(
      model_lib.train_step, tables=tables, model=config.model, loss=config.loss,
      negative=big.negative, cbow_mean=config.cbow_mean, cbow_update=config.cbow_update,
      tx=tx, total_words=total_words, min_ratio=config.min_alpha_ratio,
      skip_beyond=config_lib.skip_beyond(config), share_negatives=share)

  def variant_step(state, batch, key, alpha, count):
    return step(state, batch, key, alpha=alpha,
                negative_count=count if field == "negative" else None)

  def chunk_fn(state, chunk, key):
    chunk = dict(chunk)
    per_variant = {}
    if config.loss == "ns":  # each variant's own draws, padded to the largest K
      per_variant["negatives"] = jnp.stack([
          jnp.pad(model_lib.chunk_negatives(key, state["step"], chunk["mask"].shape, t, share,
                                            v.negative),
                  ((0, 0), (0, 0), (0, big.negative - v.negative)))
          for v, t in zip(variants, noise_tables)], axis=1)          # [T, S, Q, K]
    if config.loss == "hs":
      chunk.update(jax.vmap(lambda target_B: model_lib.tree_paths(tables, target_B))(
          chunk["centre"]))
    batch_axes = dict({name: None for name in chunk}, **{name: 0 for name in per_variant})
    vstep = jax.vmap(variant_step, in_axes=(0, batch_axes, None, 0, 0))

    def body(state, xs):
      batch, own = xs
      step_key = jax.random.fold_in(key, state["step"])  # only read when not drawn above
      tables_S = {"params": state["params"], "opt_state": state["opt_state"]}
      new, out = vstep(tables_S, dict(batch, **own), step_key, alpha_S, count_S)
      return dict(new, step=state["step"] + 1), out
    return jax.lax.scan(body, state, (chunk, per_variant))

  return tx, jax.jit(chunk_fn, donate_argnums=0)
