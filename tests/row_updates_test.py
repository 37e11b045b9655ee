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


def _moved(params, batch, tables, rule, lr=0.5, cap=4.0, krylov_dims=3):
  tx = model_lib.make_optimizer(lr, rule, cap, krylov_dims)
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
  for rule in ("cap", "newton", "krylov"):
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
  for rule in ("sum", "newton", "krylov"):
    moved = _moved(params, batch, tables, rule)
    error[rule] = sum(np.linalg.norm(params[k] + moved[k] - reference[k]) for k in params)
  assert error["newton"] < 0.5 * error["sum"], error
  assert error["krylov"] < 0.5 * error["sum"], error


def _quadratic_errors(dims_list, lr=0.1, n=10, d=6):
  """One row used by n occurrences of identical quadratic terms 0.5 e' (A / n) e, e = w - w*,
  A with eigenvalues 0.5 .. 50: n sequential steps of lr move e to (I - lr A / n)^n e, which
  krylov(m) reaches exactly once m = d. The relative error of each rule's step."""
  rng = np.random.default_rng(0)
  q, _ = np.linalg.qr(rng.normal(size=(d, d)))
  a = (q * np.geomspace(0.5, 50.0, d)) @ q.T
  e = rng.normal(size=d)
  target = (np.linalg.matrix_power(np.eye(d) - lr * a / n, n) - np.eye(d)) @ e
  ids = {"t": jnp.zeros((n,), jnp.int32)}
  grads = {"t": jnp.asarray(np.tile(a @ e / n, (n, 1)), jnp.float32)}
  curvature = lambda dirs: {"t": dirs["t"] @ jnp.asarray(a / n, jnp.float32)}
  errors = {}
  for m in dims_list:
    if m == "sum":
      step = -lr * np.asarray(grads["t"]).sum(0)
    else:
      rule = row_updates.krylov(m) if m else row_updates.newton()
      out, _ = rule.update(grads, rule.init(grads), ids=ids, table_rows={"t": 1},
                           curvature=curvature, lr=lr)
      step = -lr * np.asarray(out["t"]).sum(0)
    errors[m] = np.linalg.norm(step - target) / np.linalg.norm(target)
  return errors


def test_krylov_reaches_sequential_steps_on_a_quadratic_as_its_dims_grow():
  errors = _quadratic_errors(["sum", 0, 1, 3, 6])
  assert errors[6] < 1e-3, errors  # the whole space: exact up to float32
  assert errors[3] < 0.5 * errors[1], errors
  assert errors[1] < errors["sum"] and errors[0] < errors["sum"], errors
  assert errors[1] == pytest.approx(errors[0], rel=1e-3), errors  # one direction: newton's


@pytest.mark.parametrize("m", [1, 2, 3, 5])
def test_symmetric_eigh_decomposes_small_symmetric_matrices(m):
  rng = np.random.default_rng(m)
  a = rng.normal(size=(64, m, m)).astype(np.float32)
  a = a + np.swapaxes(a, 1, 2)
  a[:8] = 0.0                                   # a degenerate row (a closed Krylov space)
  a[8:16] *= 1e-6
  lam, v = map(np.asarray, row_updates.symmetric_eigh(jnp.asarray(a)))
  np.testing.assert_allclose(np.einsum("rij,rj,rkj->rik", v, lam, v), a, atol=2e-5)
  np.testing.assert_allclose(np.einsum("rji,rjk->rik", v, v), np.broadcast_to(np.eye(m), a.shape),
                             atol=2e-5)
  np.testing.assert_allclose(np.sort(lam, 1), np.linalg.eigvalsh(a), atol=2e-5)
