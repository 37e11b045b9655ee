"""The rules for rows a batch shares (w2v_jax/row_updates.py), against sequential steps."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from w2v_jax import model as model_lib
from w2v_jax import row_updates
from w2v_jax.output_layers import LAYERS


@pytest.mark.parametrize("n", [1, 2, 7, 100, 10_000])
@pytest.mark.parametrize("x", [1e-6, 0.01, 0.5, 3.0, 50.0, 1e4])
def test_sequential_factor_is_what_n_sequential_steps_cover(n, x):
  # n identical terms of curvature c = x / (lr n) pulling w towards 0: n sequential steps
  # of lr contract w by (1 - lr c) each; the summed step moves it by x times w.
  lr = 0.025
  c = x / (lr * n)
  w = 1.0
  for _ in range(n):
    w -= lr * c * w if lr * c <= 1 else w  # a step past the minimum stops at it (the clip)
  expected = (1.0 - w) / x
  got = float(row_updates.sequential_factor(jnp.float32(x), jnp.float32(n)))
  assert got == pytest.approx(expected, rel=2e-3, abs=1e-6)
  if n == 1 and x <= 1:
    assert got == pytest.approx(1.0, abs=1e-6)  # one use: the sum rule exactly


def _setup(loss, examples, vocab=50, dim=8, seed=0):
  """A skip-gram state with trained-looking tables and a batch of given (context, centre)."""
  k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
  params = {"emb_in": 0.3 * jax.random.normal(k1, (vocab, dim)),
            LAYERS[loss].table: 0.3 * jax.random.normal(k2, (LAYERS[loss].table_rows(vocab), dim))}
  context, centre = map(jnp.asarray, zip(*examples))
  batch = {"context": context.astype(jnp.int32), "centre": centre.astype(jnp.int32),
           "mask": jnp.ones(len(examples), bool), "words_done": jnp.float32(0)}
  rng = np.random.default_rng(seed)
  batch["negatives"] = jnp.asarray(rng.integers(0, vocab, (len(examples), 3)), jnp.int32)
  noise = np.full(vocab, 1.0 / vocab)
  tables = model_lib.device_tables(loss, noise)
  return params, batch, tables


def _moved(params, batch, tables, rule, lr=0.5, cap=4.0):
  tx = model_lib.make_optimizer(lr, rule, cap)
  state = model_lib.init_state(params, tx)
  new, _ = model_lib.train_step(state, batch, jax.random.PRNGKey(0), tables, model="skipgram",
                                loss="ns", negative=3, cbow_mean=True, cbow_update="word2vec",
                                tx=tx, total_words=1 << 30, alpha=lr, min_ratio=1e-4)
  return {k: np.asarray(new.params[k] - params[k]) for k in params}


def _sequential(params, batch, tables, lr=0.5):
  for i in range(batch["mask"].shape[0]):
    one = {k: (v[i:i + 1] if k != "words_done" else v) for k, v in batch.items()}
    params = {k: params[k] + v for k, v in _moved(params, one, tables, "sum", lr).items()}
  return params


def test_rules_equal_the_sum_where_every_row_is_used_once():
  params, batch, tables = _setup("ns", [(1, 2)])
  batch["negatives"] = jnp.asarray([[5, 6, 7]], jnp.int32)
  summed = _moved(params, batch, tables, "sum")
  for rule in ("cap", "newton"):
    moved = _moved(params, batch, tables, rule)
    for name in summed:
      np.testing.assert_allclose(moved[name], summed[name], rtol=1e-5, atol=1e-7)


def test_cap_scales_a_row_used_more_than_c_times():
  # Row 3 is the centre of 10 examples; other rows are each used at most 3 times.
  examples = [(10 + i, 3) for i in range(10)]
  params, batch, tables = _setup("ns", examples)
  batch["negatives"] = jnp.asarray([[30 + (i % 3), 40 + i, 20 + i] for i in range(10)], jnp.int32)
  summed, capped = _moved(params, batch, tables, "sum"), _moved(params, batch, tables, "cap")
  np.testing.assert_allclose(capped["emb_out"][3], 0.4 * summed["emb_out"][3], rtol=1e-5)
  others = np.setdiff1d(np.arange(50), [3])
  np.testing.assert_allclose(capped["emb_out"][others], summed["emb_out"][others], rtol=1e-5,
                             atol=1e-7)
  np.testing.assert_allclose(capped["emb_in"], summed["emb_in"], rtol=1e-5, atol=1e-7)


def test_newton_is_nearer_sequential_steps_than_the_sum_on_a_hot_row():
  # One pair repeated 64 times at a large learning rate: the summed step overshoots.
  params, batch, tables = _setup("ns", [(1, 2)] * 64)
  batch["negatives"] = jnp.tile(jnp.asarray([[5, 6, 7]], jnp.int32), (64, 1))
  reference = _sequential(params, batch, tables)
  error = {}
  for rule in ("sum", "newton"):
    moved = _moved(params, batch, tables, rule)
    error[rule] = sum(np.linalg.norm(params[k] + moved[k] - reference[k]) for k in params)
  assert error["newton"] < 0.5 * error["sum"], error
