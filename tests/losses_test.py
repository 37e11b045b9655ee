"""Tests for w2v_jax.losses: gradients, probabilities, masks and batch forms.

The hand-derived gradients below are those of docs/MATH.md, written in numpy,
so that the document and the code are held against each other. Gradient and
probability tests run in float64 (inside `jax.enable_x64(True)`, which is
restored on exit so that other test files keep float32).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import test_util as jtu

from w2v_jax import huffman
from w2v_jax import losses

V, D, K, L, W = 7, 4, 3, 3, 4


@pytest.fixture
def x64():
  with jax.enable_x64(True):
    yield


def _sigmoid(x):
  return 1.0 / (1.0 + np.exp(-x))


def _example(seed=0):
  """Random float64 parameters for one example of every loss, with masks that bite."""
  rng = np.random.default_rng(seed)
  return {
      "h_D": rng.normal(size=D),
      "emb_out_VxD": rng.normal(size=(V, D)),
      "target": 2,
      "target_row_D": rng.normal(size=D),
      "negative_rows_KxD": rng.normal(size=(K, D)),
      "negative_mask_K": np.array([True, False, True]),
      "node_rows_LxD": rng.normal(size=(L, D)),
      "codes_L": np.array([0, 1, 1], dtype=np.int8),
      "path_mask_L": np.array([True, True, False]),
      "context_rows_WxD": rng.normal(size=(W, D)),
      "context_mask_W": np.array([True, False, True, True]),
      # nce's log(K Pn(w)) of the target and of each negative (any reals).
      "target_log_kpn": rng.normal() - 3.0,
      "negative_log_kpn_K": rng.normal(size=K) - 3.0,
  }


# Hand-derived gradients (docs/MATH.md), numpy only.

def _ns_grads(h, u_o, u_neg, m):
  """Returns (dL/dh, dL/du_o, dL/du_k) for negative sampling."""
  g_o = 1.0 - _sigmoid(u_o @ h)                    # word2vec.c's g / alpha, label 1
  g_k = (0.0 - _sigmoid(u_neg @ h)) * m            # label 0, masked negatives give 0
  dh = -(g_o * u_o + g_k @ u_neg)
  return dh, -g_o * h, -g_k[:, None] * h[None, :]


def _nce_grads(h, u_o, u_neg, c_o, c_k):
  """Returns (dL/dh, dL/du_o, dL/du_k) for nce: ns's with logits shifted by -log(K Pn)."""
  g_o = 1.0 - _sigmoid(u_o @ h - c_o)              # label 1
  g_k = 0.0 - _sigmoid(u_neg @ h - c_k)            # label 0, no mask
  dh = -(g_o * u_o + g_k @ u_neg)
  return dh, -g_o * h, -g_k[:, None] * h[None, :]


def _hs_grads(h, n, codes, m):
  """Returns (dL/dh, dL/dn_j) for hierarchical softmax."""
  g = (1.0 - codes - _sigmoid(n @ h)) * m          # label = 1 - code
  return -(g @ n), -g[:, None] * h[None, :]


def _softmax_grads(h, e, o):
  """Returns (dL/dh, dL/dE) for the full softmax."""
  logits = e @ h
  p = np.exp(logits - logits.max())
  p /= p.sum()
  err = p.copy()
  err[o] -= 1.0                                    # p - onehot(o)
  return err @ e, err[:, None] * h[None, :]


def _cbow_h(rows, mask, mean):
  total = mask.astype(float) @ rows
  return total / max(mask.sum(), 1) if mean else total


def _cbow_input_grad(dh, mask, mean):
  """Exact dL/dv_c for every context slot: m_c dL/dh / n (mean) or m_c dL/dh (sum)."""
  scale = 1.0 / max(mask.sum(), 1) if mean else 1.0
  return mask.astype(float)[:, None] * dh[None, :] * scale


def _numerical_grad(f, x, eps=1e-6):
  """Central differences of a scalar f at every coordinate of x (float64)."""
  x = np.array(x, dtype=np.float64)
  grad = np.zeros_like(x)
  for i in np.ndindex(x.shape):
    step = np.zeros_like(x)
    step[i] = eps
    grad[i] = (float(f(x + step)) - float(f(x - step))) / (2 * eps)
  return grad


# Closures over the integer/boolean arguments: (loss of float args, float args).

def _float_forms(ex):
  return {
      "skipgram_ns": (
          lambda h, u, n: losses.skipgram_ns(h, u, n, ex["negative_mask_K"]),
          (ex["h_D"], ex["target_row_D"], ex["negative_rows_KxD"])),
      "skipgram_hs": (
          lambda h, n: losses.skipgram_hs(h, n, ex["codes_L"], ex["path_mask_L"]),
          (ex["h_D"], ex["node_rows_LxD"])),
      "skipgram_softmax": (
          lambda h, e: losses.skipgram_softmax(h, e, ex["target"]),
          (ex["h_D"], ex["emb_out_VxD"])),
      "cbow_ns": (
          lambda c, u, n: losses.cbow_ns(c, ex["context_mask_W"], u, n,
                                         ex["negative_mask_K"]),
          (ex["context_rows_WxD"], ex["target_row_D"], ex["negative_rows_KxD"])),
      "cbow_hs": (
          lambda c, n: losses.cbow_hs(c, ex["context_mask_W"], n, ex["codes_L"],
                                      ex["path_mask_L"]),
          (ex["context_rows_WxD"], ex["node_rows_LxD"])),
      "cbow_softmax": (
          lambda c, e: losses.cbow_softmax(c, ex["context_mask_W"], e, ex["target"]),
          (ex["context_rows_WxD"], ex["emb_out_VxD"])),
      "skipgram_nce": (
          lambda h, u, n: losses.skipgram_nce(h, u, n, ex["target_log_kpn"],
                                              ex["negative_log_kpn_K"]),
          (ex["h_D"], ex["target_row_D"], ex["negative_rows_KxD"])),
      "cbow_nce": (
          lambda c, u, n: losses.cbow_nce(c, ex["context_mask_W"], u, n, ex["target_log_kpn"],
                                          ex["negative_log_kpn_K"]),
          (ex["context_rows_WxD"], ex["target_row_D"], ex["negative_rows_KxD"])),
  }


NAMES = ["skipgram_ns", "skipgram_hs", "skipgram_softmax", "cbow_ns", "cbow_hs",
         "cbow_softmax", "skipgram_nce", "cbow_nce"]


@pytest.mark.usefixtures("x64")
@pytest.mark.parametrize("name", NAMES)
def test_check_grads_against_finite_differences(name):
  f, args = _float_forms(_example(1))[name]
  args = tuple(jnp.asarray(a) for a in args)
  assert all(a.dtype == jnp.float64 for a in args)
  jtu.check_grads(f, args, order=1, modes=["rev"], atol=1e-6, rtol=1e-6)


@pytest.mark.usefixtures("x64")
@pytest.mark.parametrize("name", NAMES)
def test_every_coordinate_against_central_differences(name):
  f, args = _float_forms(_example(2))[name]
  f = jax.jit(f)
  autodiff = jax.grad(f, argnums=tuple(range(len(args))))(*args)
  for i, (arg, grad) in enumerate(zip(args, autodiff)):
    def f_i(x, i=i):
      return f(*args[:i], x, *args[i + 1:])
    numeric = _numerical_grad(f_i, arg)
    assert np.abs(numeric).max() > 1e-3  # the check is not vacuous
    np.testing.assert_allclose(np.asarray(grad), numeric, rtol=1e-6, atol=1e-8)


# The derivations of docs/MATH.md equal jax.grad.

@pytest.mark.usefixtures("x64")
def test_skipgram_ns_gradient_matches_derivation():
  ex = _example(3)
  args = (ex["h_D"], ex["target_row_D"], ex["negative_rows_KxD"])
  grads = jax.grad(losses.skipgram_ns, argnums=(0, 1, 2))(*args, ex["negative_mask_K"])
  expected = _ns_grads(*args, ex["negative_mask_K"])
  for got, want in zip(grads, expected):
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
  np.testing.assert_array_equal(grads[2][1], 0.0)  # the masked negative gets nothing


@pytest.mark.usefixtures("x64")
def test_skipgram_hs_gradient_matches_derivation():
  ex = _example(4)
  args = (ex["h_D"], ex["node_rows_LxD"])
  grads = jax.grad(losses.skipgram_hs, argnums=(0, 1))(*args, ex["codes_L"],
                                                       ex["path_mask_L"])
  expected = _hs_grads(*args, ex["codes_L"], ex["path_mask_L"])
  for got, want in zip(grads, expected):
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
  np.testing.assert_array_equal(grads[1][2], 0.0)  # past the code length


@pytest.mark.usefixtures("x64")
def test_skipgram_softmax_gradient_matches_derivation():
  ex = _example(5)
  args = (ex["h_D"], ex["emb_out_VxD"])
  grads = jax.grad(losses.skipgram_softmax, argnums=(0, 1))(*args, ex["target"])
  expected = _softmax_grads(*args, ex["target"])
  for got, want in zip(grads, expected):
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
  assert np.all(np.abs(grads[1]) > 0)  # every output row is touched


@pytest.mark.usefixtures("x64")
@pytest.mark.parametrize("mean", [True, False])
def test_cbow_ns_gradient_matches_derivation(mean):
  ex = _example(6)
  rows, mask = ex["context_rows_WxD"], ex["context_mask_W"]
  grads = jax.grad(losses.cbow_ns, argnums=(0, 2, 3))(
      rows, mask, ex["target_row_D"], ex["negative_rows_KxD"], ex["negative_mask_K"], mean)
  h = _cbow_h(rows, mask, mean)
  dh, du_o, du_k = _ns_grads(h, ex["target_row_D"], ex["negative_rows_KxD"],
                             ex["negative_mask_K"])
  np.testing.assert_allclose(grads[0], _cbow_input_grad(dh, mask, mean), rtol=1e-12,
                             atol=1e-12)
  np.testing.assert_allclose(grads[1], du_o, rtol=1e-12, atol=1e-12)
  np.testing.assert_allclose(grads[2], du_k, rtol=1e-12, atol=1e-12)
  # word2vec.c applies the whole dL/dh to each real context word: count times the
  # exact gradient of the mean (model.py's cbow_update="word2vec").
  if mean:
    np.testing.assert_allclose(grads[0][mask] * mask.sum(), np.tile(dh, (mask.sum(), 1)),
                               rtol=1e-12)


@pytest.mark.usefixtures("x64")
@pytest.mark.parametrize("mean", [True, False])
def test_cbow_hs_gradient_matches_derivation(mean):
  ex = _example(7)
  rows, mask = ex["context_rows_WxD"], ex["context_mask_W"]
  grads = jax.grad(losses.cbow_hs, argnums=(0, 2))(
      rows, mask, ex["node_rows_LxD"], ex["codes_L"], ex["path_mask_L"], mean)
  h = _cbow_h(rows, mask, mean)
  dh, dn = _hs_grads(h, ex["node_rows_LxD"], ex["codes_L"], ex["path_mask_L"])
  np.testing.assert_allclose(grads[0], _cbow_input_grad(dh, mask, mean), rtol=1e-12,
                             atol=1e-12)
  np.testing.assert_allclose(grads[1], dn, rtol=1e-12, atol=1e-12)
  np.testing.assert_array_equal(grads[0][~mask], 0.0)  # padded slots get nothing


@pytest.mark.usefixtures("x64")
@pytest.mark.parametrize("mean", [True, False])
def test_cbow_softmax_gradient_matches_derivation(mean):
  ex = _example(8)
  rows, mask = ex["context_rows_WxD"], ex["context_mask_W"]
  grads = jax.grad(losses.cbow_softmax, argnums=(0, 2))(
      rows, mask, ex["emb_out_VxD"], ex["target"], mean)
  h = _cbow_h(rows, mask, mean)
  dh, de = _softmax_grads(h, ex["emb_out_VxD"], ex["target"])
  np.testing.assert_allclose(grads[0], _cbow_input_grad(dh, mask, mean), rtol=1e-12,
                             atol=1e-12)
  np.testing.assert_allclose(grads[1], de, rtol=1e-12, atol=1e-12)


@pytest.mark.usefixtures("x64")
def test_skipgram_nce_gradient_matches_derivation():
  ex = _example(13)
  args = (ex["h_D"], ex["target_row_D"], ex["negative_rows_KxD"])
  corrections = (ex["target_log_kpn"], ex["negative_log_kpn_K"])
  grads = jax.grad(losses.skipgram_nce, argnums=(0, 1, 2))(*args, *corrections)
  expected = _nce_grads(*args, *corrections)
  for got, want in zip(grads, expected):
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
  assert np.all(np.abs(grads[2]) > 0)  # no negative is masked


@pytest.mark.usefixtures("x64")
@pytest.mark.parametrize("mean", [True, False])
def test_cbow_nce_gradient_matches_derivation(mean):
  ex = _example(14)
  rows, mask = ex["context_rows_WxD"], ex["context_mask_W"]
  corrections = (ex["target_log_kpn"], ex["negative_log_kpn_K"])
  grads = jax.grad(losses.cbow_nce, argnums=(0, 2, 3))(
      rows, mask, ex["target_row_D"], ex["negative_rows_KxD"], *corrections, mean)
  h = _cbow_h(rows, mask, mean)
  dh, du_o, du_k = _nce_grads(h, ex["target_row_D"], ex["negative_rows_KxD"], *corrections)
  np.testing.assert_allclose(grads[0], _cbow_input_grad(dh, mask, mean), rtol=1e-12,
                             atol=1e-12)
  np.testing.assert_allclose(grads[1], du_o, rtol=1e-12, atol=1e-12)
  np.testing.assert_allclose(grads[2], du_k, rtol=1e-12, atol=1e-12)


@pytest.mark.usefixtures("x64")
def test_nce_is_ns_without_the_correction():
  ex = _example(15)
  args = (ex["h_D"], ex["target_row_D"], ex["negative_rows_KxD"])
  every_K = np.ones(K, bool)
  nce = lambda h, u, n, c_o, c_k: losses.nce_loss(h, u, n, c_o, c_k)
  ns = lambda h, u, n: losses.ns_loss(h, u, n, every_K)
  zero = (0.0, np.zeros(K))
  assert float(nce(*args, *zero)) == pytest.approx(float(ns(*args)), rel=1e-14)
  for got, want in zip(jax.grad(nce, argnums=(0, 1, 2))(*args, *zero),
                       jax.grad(ns, argnums=(0, 1, 2))(*args)):
    np.testing.assert_allclose(got, want, rtol=1e-14)
  # The correction changes it; and it is exactly a shift of every logit by -log(K Pn).
  corrections = (ex["target_log_kpn"], ex["negative_log_kpn_K"])
  value = float(nce(*args, *corrections))
  assert value != pytest.approx(float(ns(*args)), rel=1e-3)
  h, u, n = args
  want = (np.log1p(np.exp(-(u @ h - corrections[0])))
          + np.sum(np.log1p(np.exp(n @ h - corrections[1]))))
  assert value == pytest.approx(want, rel=1e-12)


@pytest.mark.usefixtures("x64")
def test_nce_optimum_is_the_data_log_probability():
  # For one context h, with data distribution p over V words and noise Pn, the
  # expected nce loss E_{o~p}[-log s(x_o)] + K E_{w~Pn}[-log s(-x_w)] is
  # minimised by x_w = log p(w) - log(K Pn(w)), i.e. u_w.h = log p(w) (Z = 1);
  # ns's (no correction) by u_w.h = log(p(w) / (K Pn(w))).
  rng = np.random.default_rng(0)
  p, pn = rng.dirichlet(np.ones(V)), rng.dirichlet(np.ones(V))
  log_kpn = np.log(K * pn)

  def expected_loss(scores_V, correction_V):
    x = scores_V - correction_V
    return (p @ -jax.nn.log_sigmoid(x)) + K * (pn @ -jax.nn.log_sigmoid(-x))

  for correction, optimum in ((log_kpn, np.log(p)), (np.zeros(V), np.log(p) - log_kpn)):
    gradient = jax.grad(expected_loss)(jnp.asarray(optimum), jnp.asarray(correction))
    np.testing.assert_allclose(gradient, 0.0, atol=1e-12)
    assert float(jnp.abs(jax.grad(expected_loss)(jnp.asarray(optimum) + 0.1,
                                                 jnp.asarray(correction))).max()) > 1e-3


@pytest.mark.usefixtures("x64")
def test_cbow_mean_and_sum_hidden_vectors():
  ex = _example(9)
  rows, mask = ex["context_rows_WxD"], ex["context_mask_W"]
  np.testing.assert_allclose(losses.cbow_hidden(rows, mask, mean=True),
                             rows[mask].mean(axis=0), rtol=1e-12)
  np.testing.assert_allclose(losses.cbow_hidden(rows, mask, mean=False),
                             rows[mask].sum(axis=0), rtol=1e-12)
  np.testing.assert_array_equal(losses.cbow_hidden(rows, np.zeros(W, bool)), 0.0)


# Probabilities.

@pytest.mark.usefixtures("x64")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_softmax_probabilities_sum_to_one(seed):
  rng = np.random.default_rng(seed)
  h, e = rng.normal(size=D) * 2.0, rng.normal(size=(V, D))
  p = np.array([np.exp(-float(losses.softmax_loss(h, e, w))) for w in range(V)])
  assert np.all(p > 0)
  assert p.sum() == pytest.approx(1.0, abs=1e-12)


def _hs_word_inputs(tree, nodes, w):
  length = tree.points_VxL.shape[1]
  return (nodes[tree.points_VxL[w]], tree.codes_VxL[w],
          np.arange(length) < tree.lengths_V[w])


@pytest.mark.usefixtures("x64")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hs_probabilities_sum_to_one_over_a_real_tree(seed):
  counts = np.array([40, 21, 13, 13, 8, 5, 3, 2, 1])
  v = len(counts)
  tree = huffman.build(counts)
  assert tree.lengths_V.max() > tree.lengths_V.min()  # paths of different lengths
  rng = np.random.default_rng(seed)
  nodes, h = rng.normal(size=(v - 1, D)), rng.normal(size=D)
  p = np.array([np.exp(-float(losses.hs_loss(h, *_hs_word_inputs(tree, nodes, w))))
                for w in range(v)])
  assert np.all(p > 0)
  assert p.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.usefixtures("x64")
def test_hs_on_two_words_is_binary_logistic_loss():
  tree = huffman.build(np.array([3, 1]))
  np.testing.assert_array_equal(tree.lengths_V, [1, 1])
  np.testing.assert_array_equal(tree.points_VxL, [[0], [0]])
  assert sorted(tree.codes_VxL[:, 0].tolist()) == [0, 1]
  rng = np.random.default_rng(0)
  node_D, h = rng.normal(size=D), rng.normal(size=D)
  x = float(node_D @ h)
  for w in range(2):
    c = int(tree.codes_VxL[w, 0])
    got = float(losses.hs_loss(h, node_D[None, :], tree.codes_VxL[w], np.array([True])))
    want = np.log1p(np.exp(-(1 - 2 * c) * x))        # -log s((1 - 2c) x)
    assert got == pytest.approx(want, rel=1e-12)
  # Code 0 is the positive label: p(word with code 0) = s(n.h).
  w0 = int(np.flatnonzero(tree.codes_VxL[:, 0] == 0)[0])
  got = np.exp(-float(losses.hs_loss(h, node_D[None, :], tree.codes_VxL[w0],
                                     np.array([True]))))
  assert got == pytest.approx(_sigmoid(x), rel=1e-12)


# CBOW with one real context word is skip-gram on that pair.

@pytest.mark.usefixtures("x64")
@pytest.mark.parametrize("mean", [True, False])
@pytest.mark.parametrize("slot", [0, 3])
def test_cbow_with_one_context_word_is_skipgram(mean, slot):
  ex = _example(10)
  rows = ex["context_rows_WxD"]  # the other slots hold non-zero garbage
  mask = np.arange(W) == slot
  v = rows[slot]
  pairs = [
      (lambda r: losses.cbow_ns(r, mask, ex["target_row_D"], ex["negative_rows_KxD"],
                                ex["negative_mask_K"], mean),
       lambda x: losses.skipgram_ns(x, ex["target_row_D"], ex["negative_rows_KxD"],
                                    ex["negative_mask_K"])),
      (lambda r: losses.cbow_hs(r, mask, ex["node_rows_LxD"], ex["codes_L"],
                                ex["path_mask_L"], mean),
       lambda x: losses.skipgram_hs(x, ex["node_rows_LxD"], ex["codes_L"],
                                    ex["path_mask_L"])),
      (lambda r: losses.cbow_softmax(r, mask, ex["emb_out_VxD"], ex["target"], mean),
       lambda x: losses.skipgram_softmax(x, ex["emb_out_VxD"], ex["target"])),
  ]
  for cbow, skipgram in pairs:
    assert float(cbow(rows)) == pytest.approx(float(skipgram(v)), rel=1e-12)
    g_cbow, g_sg = jax.grad(cbow)(rows), jax.grad(skipgram)(v)
    np.testing.assert_allclose(g_cbow[slot], g_sg, rtol=1e-12)
    np.testing.assert_array_equal(np.delete(np.asarray(g_cbow), slot, axis=0), 0.0)


# Masks.

@pytest.mark.usefixtures("x64")
def test_ns_ignores_masked_negatives():
  ex = _example(11)
  mask = ex["negative_mask_K"]
  args = (ex["h_D"], ex["target_row_D"])
  base = float(losses.ns_loss(*args, ex["negative_rows_KxD"], mask))
  changed = ex["negative_rows_KxD"].copy()
  changed[~mask] = 100.0
  assert float(losses.ns_loss(*args, changed, mask)) == base
  # ... while changing a real negative does change it (the test can fail).
  changed = ex["negative_rows_KxD"].copy()
  changed[np.flatnonzero(mask)[0]] += 1.0
  assert float(losses.ns_loss(*args, changed, mask)) != pytest.approx(base, rel=1e-6)
  # With every negative masked only the positive term remains.
  alone = float(losses.ns_loss(*args, ex["negative_rows_KxD"], np.zeros(K, bool)))
  assert alone == pytest.approx(-np.log(_sigmoid(args[1] @ args[0])), rel=1e-12)


@pytest.mark.usefixtures("x64")
def test_hs_ignores_path_entries_past_the_length():
  ex = _example(12)
  mask = ex["path_mask_L"]
  h, nodes, codes = ex["h_D"], ex["node_rows_LxD"], ex["codes_L"]
  base = float(losses.hs_loss(h, nodes, codes, mask))
  changed_nodes, changed_codes = nodes.copy(), codes.copy()
  changed_nodes[~mask] = -100.0
  changed_codes[~mask] = 1 - changed_codes[~mask]
  assert float(losses.hs_loss(h, changed_nodes, changed_codes, mask)) == base
  changed_nodes = nodes.copy()
  changed_nodes[0] += 1.0
  assert float(losses.hs_loss(h, changed_nodes, codes, mask)) != pytest.approx(base, rel=1e-6)
  want = -sum(np.log(_sigmoid((1 - 2 * codes[j]) * nodes[j] @ h)) for j in range(L) if mask[j])
  assert base == pytest.approx(want, rel=1e-12)


# Batch forms (float32, as trained): vmap equals a loop; jit equals no jit.

B = 5


def _batch(seed=0):
  rng = np.random.default_rng(seed)
  f32 = lambda *shape: rng.normal(size=shape).astype(np.float32)
  context_mask = rng.random((B, W)) < 0.6
  context_mask[:, 0] = True
  return {
      "input_BxD": f32(B, D),
      "target_row_BxD": f32(B, D),
      "negative_rows_BxKxD": f32(B, K, D),
      "negative_mask_BxK": rng.random((B, K)) < 0.7,
      "node_rows_BxLxD": f32(B, L, D),
      "codes_BxL": rng.integers(0, 2, size=(B, L)).astype(np.int8),
      "path_mask_BxL": np.arange(L)[None, :] < rng.integers(1, L + 1, size=(B, 1)),
      "emb_out_VxD": f32(V, D),
      "target_B": rng.integers(0, V, size=B).astype(np.int32),
      "context_rows_BxWxD": f32(B, W, D),
      "context_mask_BxW": context_mask,
      "target_log_kpn_B": rng.normal(size=B).astype(np.float32) - 3.0,
      "negative_log_kpn_BxK": rng.normal(size=(B, K)).astype(np.float32) - 3.0,
  }


def _batch_cases(b, mean):
  """(batch fn, per-example fn, mapped args, unmapped trailing args, static argnums)."""
  ns = (b["target_row_BxD"], b["negative_rows_BxKxD"], b["negative_mask_BxK"])
  hs = (b["node_rows_BxLxD"], b["codes_BxL"], b["path_mask_BxL"])
  ctx = (b["context_rows_BxWxD"], b["context_mask_BxW"])
  nce = (b["target_row_BxD"], b["negative_rows_BxKxD"], b["target_log_kpn_B"],
         b["negative_log_kpn_BxK"])
  return {
      "skipgram_nce": (losses.skipgram_nce_batch, losses.skipgram_nce,
                       (b["input_BxD"],) + nce, (0.0,), ()),
      "cbow_nce": (losses.cbow_nce_batch, losses.cbow_nce, ctx + nce, (mean, 0.0), (6, 7)),
      "skipgram_ns": (losses.skipgram_ns_batch, losses.skipgram_ns,
                      (b["input_BxD"],) + ns, (0.0,), ()),
      "skipgram_hs": (losses.skipgram_hs_batch, losses.skipgram_hs,
                      (b["input_BxD"],) + hs, (0.0,), ()),
      "skipgram_softmax": (
          lambda x, t, e: losses.skipgram_softmax_batch(x, e, t),
          lambda x, t, e: losses.skipgram_softmax(x, e, t),
          (b["input_BxD"], b["target_B"]), (b["emb_out_VxD"],), ()),
      "cbow_ns": (losses.cbow_ns_batch, losses.cbow_ns, ctx + ns, (mean, 0.0), (5, 6)),
      "cbow_hs": (losses.cbow_hs_batch, losses.cbow_hs, ctx + hs, (mean, 0.0), (5, 6)),
      "cbow_softmax": (
          lambda c, m, t, e, mean: losses.cbow_softmax_batch(c, m, e, t, mean),
          lambda c, m, t, e, mean: losses.cbow_softmax(c, m, e, t, mean),
          ctx + (b["target_B"],), (b["emb_out_VxD"], mean), (4,)),
  }


@pytest.mark.parametrize("name,mean", [(n, True) for n in NAMES]
                         + [(n, False) for n in NAMES if n.startswith("cbow")])
def test_batch_form_equals_loop_jitted_and_not(name, mean):
  batch_fn, one_fn, mapped, unmapped, static = _batch_cases(_batch(), mean)[name]
  got = np.asarray(batch_fn(*mapped, *unmapped))
  assert got.shape == (B,) and got.dtype == np.float32
  loop = np.array([float(one_fn(*(a[i] for a in mapped), *unmapped)) for i in range(B)])
  assert np.all(np.isfinite(loop)) and np.ptp(loop) > 0  # examples differ
  np.testing.assert_allclose(got, loop, rtol=1e-5, atol=1e-6)
  jitted = np.asarray(jax.jit(batch_fn, static_argnums=static)(*mapped, *unmapped))
  np.testing.assert_allclose(jitted, got, rtol=1e-5, atol=1e-6)


def test_x64_context_is_restored():
  # The float64 tests above must not leak float64 into other test files.
  assert jnp.asarray(1.0).dtype == jnp.float32


def test_skip_beyond_freezes_only_saturated_terms():
  # h . u = 8 for the target (saturated), -1 for the negative (not saturated).
  h_D = jnp.array([1.0, 0.0])
  target_D = jnp.array([8.0, 0.0])
  negatives_KxD = jnp.array([[-1.0, 0.0]])
  mask_K = jnp.array([True])
  exact = jax.grad(losses.ns_loss, argnums=(1, 2))(h_D, target_D, negatives_KxD, mask_K)
  skipped = jax.grad(losses.ns_loss, argnums=(1, 2))(h_D, target_D, negatives_KxD, mask_K, 6.0)
  assert float(jnp.abs(exact[0]).sum()) > 0
  np.testing.assert_array_equal(skipped[0], 0.0)            # saturated target: no update
  np.testing.assert_allclose(skipped[1], exact[1])          # the other term is untouched
  np.testing.assert_allclose(losses.ns_loss(h_D, target_D, negatives_KxD, mask_K, 6.0),
                             losses.ns_loss(h_D, target_D, negatives_KxD, mask_K))
  # Hierarchical softmax: node 0 saturated (|x| = 7), node 1 not.
  nodes_LxD = jnp.array([[7.0, 0.0], [0.5, 0.0]])
  codes_L = jnp.array([1, 0], jnp.int8)
  path_L = jnp.array([True, True])
  g = jax.grad(losses.hs_loss, argnums=1)(h_D, nodes_LxD, codes_L, path_L, 6.0)
  g_exact = jax.grad(losses.hs_loss, argnums=1)(h_D, nodes_LxD, codes_L, path_L)
  np.testing.assert_array_equal(g[0], 0.0)
  np.testing.assert_allclose(g[1], g_exact[1])
  assert float(jnp.abs(g_exact[0]).sum()) > 0


def test_skip_saturated_setting_maps_to_losses():
  from w2v_jax import config as config_lib  # pylint: disable=import-outside-toplevel
  from w2v_jax import resolve as resolve_lib  # pylint: disable=import-outside-toplevel
  beyond = lambda loss, skip: resolve_lib.resolve(
      config_lib.Config(loss=loss, skip_saturated=skip)).skip_beyond
  assert beyond("hs", "hs") == beyond("hs", "all") == beyond("ns", "all") == 6.0
  assert beyond("ns", "hs") == beyond("ns", "none") == beyond("hs", "none") == 0.0
  assert beyond("softmax", "all") == 0.0
  # nce is never skipped: -log(K Pn) alone puts a rare word's logits beyond 6.
  assert beyond("nce", "all") == beyond("nce", "hs") == 0.0


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_grouped_ns_equals_batch_form_with_the_negatives_repeated(model):
  # Q groups of G examples; each group's K negative rows are shared.
  Q, G = 3, 4
  rng = np.random.default_rng(7)
  f32 = lambda *shape: rng.normal(size=shape).astype(np.float32)
  target_QxGxD, negatives_QxKxD = f32(Q, G, D), f32(Q, K, D)
  mask_QxGxK = rng.random((Q, G, K)) < 0.8
  _check_grouped_against_batch(Q, G, target_QxGxD, negatives_QxKxD, *_grouped_ns_forms(
      model, rng, f32, Q, G, mask_QxGxK))


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_grouped_nce_equals_batch_form_with_the_negatives_repeated(model):
  # As for ns; a group also shares its negatives' log(K Pn), the targets keep theirs.
  Q, G = 3, 4
  rng = np.random.default_rng(8)
  f32 = lambda *shape: rng.normal(size=shape).astype(np.float32)
  target_QxGxD, negatives_QxKxD = f32(Q, G, D), f32(Q, K, D)
  c_QxG, c_QxK = f32(Q, G) - 3.0, f32(Q, K) - 3.0
  c_BxK = np.repeat(c_QxK, G, axis=0)
  if model == "skipgram":
    x_QxGxD = f32(Q, G, D)
    grouped = lambda t, n: losses.skipgram_nce_grouped(x_QxGxD, t, n, c_QxG, c_QxK, 0.0)
    batch = lambda t, n: losses.skipgram_nce_batch(x_QxGxD.reshape(Q * G, D), t, n,
                                                   c_QxG.reshape(-1), c_BxK, 0.0)
  else:
    context_mask = rng.random((Q, G, W)) < 0.6
    context_mask[..., 0] = True
    c_QxGxWxD = f32(Q, G, W, D)
    grouped = lambda t, n: losses.cbow_nce_grouped(c_QxGxWxD, context_mask, t, n, c_QxG, c_QxK,
                                                   True, 0.0)
    batch = lambda t, n: losses.cbow_nce_batch(
        c_QxGxWxD.reshape(Q * G, W, D), context_mask.reshape(Q * G, W), t, n,
        c_QxG.reshape(-1), c_BxK, True, 0.0)
  _check_grouped_against_batch(Q, G, target_QxGxD, negatives_QxKxD, grouped, batch)


def _grouped_ns_forms(model, rng, f32, Q, G, mask_QxGxK):
  """(grouped, batch) ns losses of (targets, negatives) on random inputs."""
  if model == "skipgram":
    inputs = (f32(Q, G, D),)
    grouped = lambda t, n: losses.skipgram_ns_grouped(*inputs, t, n, mask_QxGxK, 0.0)
    batch = lambda t, n: losses.skipgram_ns_batch(
        inputs[0].reshape(Q * G, D), t, n, mask_QxGxK.reshape(Q * G, K), 0.0)
  else:
    context_mask = rng.random((Q, G, W)) < 0.6
    context_mask[..., 0] = True
    inputs = (f32(Q, G, W, D), context_mask)
    grouped = lambda t, n: losses.cbow_ns_grouped(*inputs, t, n, mask_QxGxK, True, 0.0)
    batch = lambda t, n: losses.cbow_ns_batch(
        inputs[0].reshape(Q * G, W, D), context_mask.reshape(Q * G, W), t, n,
        mask_QxGxK.reshape(Q * G, K), True, 0.0)
  return grouped, batch


def _check_grouped_against_batch(Q, G, target_QxGxD, negatives_QxKxD, grouped, batch):
  """Grouped losses equal the batch form with each group's negatives repeated, gradients too."""
  repeated_BxKxD = np.repeat(negatives_QxKxD, G, axis=0)
  want = batch(target_QxGxD.reshape(Q * G, D), repeated_BxKxD)
  got = grouped(target_QxGxD, negatives_QxKxD)
  assert got.shape == (Q, G)
  np.testing.assert_allclose(np.asarray(got).ravel(), want, rtol=1e-5, atol=1e-6)
  # A shared row's gradient is the sum of its group's per-example gradients.
  g_shared = jax.grad(lambda n: grouped(target_QxGxD, n).sum())(negatives_QxKxD)
  g_each = jax.grad(lambda n: batch(target_QxGxD.reshape(Q * G, D), n).sum())(repeated_BxKxD)
  np.testing.assert_allclose(g_shared, np.asarray(g_each).reshape(Q, G, K, D).sum(axis=1),
                             rtol=1e-4, atol=1e-6)
  assert float(jnp.abs(g_shared).sum()) > 0


@pytest.mark.parametrize("v,block_rows", [(10, 4), (12, 4), (7, 16), (300, 32)])
def test_blocked_softmax_equals_the_plain_batch_form(v, block_rows):
  """Values and gradients, with blocks that divide V, overlap at the end, or exceed V."""
  rng = np.random.default_rng(v)
  h_BxD = jnp.asarray(rng.normal(size=(6, 4)), jnp.float32)
  emb_VxD = jnp.asarray(rng.normal(size=(v, 4)), jnp.float32)
  target_B = jnp.asarray(rng.integers(0, v, 6))
  g_B = jnp.asarray(rng.normal(size=6), jnp.float32)
  plain = lambda h, e: losses.skipgram_softmax_batch(h, e, target_B)
  blocked = lambda h, e: losses.softmax_batch_blocked(h, e, target_B, block_rows)
  np.testing.assert_allclose(blocked(h_BxD, emb_VxD), plain(h_BxD, emb_VxD), rtol=1e-5)
  weighted = lambda f: jax.jit(jax.grad(lambda h, e: jnp.dot(g_B, f(h, e)), argnums=(0, 1)))
  for got, want in zip(weighted(blocked)(h_BxD, emb_VxD), weighted(plain)(h_BxD, emb_VxD)):
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def _hs_plain(h_BxWxD, h_mask_BxW, node_rows_BxLxD, codes_BxL, path_mask_BxL, skip_beyond):
  """hs_batch written plainly, for autodiff: what its hand-written VJP must equal."""
  sign_BxL = 1.0 - 2.0 * codes_BxL.astype(h_BxWxD.dtype)
  logits_BxWxL = jnp.einsum("bwd,bld->bwl", h_BxWxD, node_rows_BxLxD)
  terms = losses._log_sigmoid(sign_BxL[:, None, :] * logits_BxWxL, skip_beyond)
  mask = h_mask_BxW[:, :, None] & path_mask_BxL[:, None, :]
  return -jnp.sum(jnp.where(mask, terms, 0.0), axis=(1, 2))


@pytest.mark.usefixtures("x64")
@pytest.mark.parametrize("skip_beyond", [0.0, 1.5])
def test_hs_batch_vjp_equals_autodiff_of_the_plain_form(skip_beyond):
  rng = np.random.default_rng(11)
  b, w = 5, 4
  args = (2.0 * rng.normal(size=(b, w, D)), rng.random((b, w)) < 0.7,
          rng.normal(size=(b, L, D)), rng.integers(0, 2, size=(b, L)).astype(np.int8),
          np.arange(L)[None, :] < rng.integers(1, L + 1, size=(b, 1)))
  weights_B = rng.normal(size=b)  # a cotangent that is not all ones
  def total(fn):
    return lambda h, n: jnp.dot(weights_B, fn(h, args[1], n, args[3], args[4], skip_beyond))
  np.testing.assert_allclose(losses.hs_batch(*args, skip_beyond),
                             _hs_plain(*args, skip_beyond), rtol=1e-12)
  got = jax.grad(total(losses.hs_batch), argnums=(0, 1))(args[0], args[2])
  want = jax.grad(total(_hs_plain), argnums=(0, 1))(args[0], args[2])
  for g, e in zip(got, want):
    assert np.abs(e).max() > 1e-3
    np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)
  assert not np.asarray(got[0])[~args[1]].any()  # masked slots get nothing
  if skip_beyond:  # some terms are frozen, so the check above covers freezing
    logits = np.einsum("bwd,bld->bwl", args[0], args[2])
    assert (np.abs(logits) >= skip_beyond).any() and (np.abs(logits) < skip_beyond).any()


def test_skipgram_hs_centres_equal_the_sum_over_their_pairs():
  rng = np.random.default_rng(12)
  b, w = 6, 4
  ctx, mask = rng.normal(size=(b, w, D)).astype(np.float32), rng.random((b, w)) < 0.6
  nodes = rng.normal(size=(b, L, D)).astype(np.float32)
  codes = rng.integers(0, 2, size=(b, L)).astype(np.int8)
  path_mask = np.arange(L)[None, :] < rng.integers(1, L + 1, size=(b, 1))
  by_centre = losses.hs_batch(ctx, mask, nodes, codes, path_mask, 6.0)
  rep = lambda a: np.repeat(a, w, axis=0)
  per_pair = losses.skipgram_hs_batch(ctx.reshape(b * w, D), rep(nodes), rep(codes),
                                      rep(path_mask), 6.0).reshape(b, w)
  np.testing.assert_allclose(by_centre, np.where(mask, per_pair, 0.0).sum(axis=1), rtol=1e-5)
