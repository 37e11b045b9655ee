"""The output-layer records: each loss's tables, gathered rows and batch loss agree."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from w2v_jax import config as config_lib
from w2v_jax import huffman
from w2v_jax import memory
from w2v_jax import model as model_lib
from w2v_jax import resolve as resolve_lib
from w2v_jax import sampling
from w2v_jax.output_layers import LAYERS

V, D, B, W = 40, 6, 8, 4


def test_every_loss_has_one_record():
  assert tuple(LAYERS) == config_lib.LOSSES
  assert all(layer.name == name for name, layer in LAYERS.items())


def _lookup(layer):
  counts_V = np.arange(V, 0, -1) * 10
  noise_V = sampling.noise_distribution(counts_V, 0.75) if layer.needs_noise else None
  tree = huffman.build(counts_V) if layer.needs_tree else None
  return layer.lookup(noise_V, tree)


@pytest.mark.parametrize("model", config_lib.MODELS)
@pytest.mark.parametrize("loss", config_lib.LOSSES)
def test_a_record_trains_its_own_tables_within_its_memory_terms(model, loss):
  layer = LAYERS[loss]
  config = resolve_lib.resolve(config_lib.Config(model=model, loss=loss, negative=3, dim=D,
                                                 batch_size=B, share_negatives=1))
  params = model_lib.init_params(jax.random.PRNGKey(0), V, D, loss)
  assert set(params) == {"emb_in", layer.table}
  assert params[layer.table].shape == (layer.table_rows(V), D)
  est = memory.estimate(config, V, 1000)
  assert est["tables"] == 4 * D * (V + layer.table_rows(V))
  assert (est["softmax"] > 0) == layer.dense
  rng = np.random.default_rng(0)
  batch = {"centre": jnp.asarray(rng.integers(0, V, B), jnp.int32)}
  if model == "cbow":
    batch["context"] = jnp.asarray(rng.integers(0, V, (B, 2 * W)), jnp.int32)
    batch["context_mask"] = jnp.asarray(rng.random((B, 2 * W)) < 0.7).at[:, 0].set(True)
  else:
    batch["context"] = jnp.asarray(rng.integers(0, V, B), jnp.int32)
  tables = _lookup(layer)
  params = dict(params, **{layer.table: 0.1 * jax.random.normal(
      jax.random.PRNGKey(1), params[layer.table].shape)})
  ids, rows, extra = model_lib._gather(params, tables, batch, jax.random.PRNGKey(2),
                                       model=model, loss=loss, negative=config.negative,
                                       share_negatives=1)
  if not layer.dense:  # the output rows a step gathers are what memory.py counts
    out_ids = np.asarray(ids[layer.table])
    assert out_ids.size <= B * layer.rows_per_example(config)
    assert 0 <= out_ids.min() and out_ids.max() < layer.table_rows(V)
  else:
    assert layer.table not in ids and rows[layer.table].shape == (V, D)
  loss_B = model_lib._per_example_loss(rows, extra, model=model, loss=loss, cbow_mean=True,
                                       skip_beyond=config.skip_beyond)
  assert loss_B.shape == (B,)
  assert np.all(np.isfinite(np.asarray(loss_B))) and np.all(np.asarray(loss_B) > 0)
