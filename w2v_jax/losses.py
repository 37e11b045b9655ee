"""The word2vec objectives as pure per-example functions, and their batch forms.

Each model computes a hidden vector h_D from input-table rows, and an output
layer scores the target word against h_D:

  model     h_D                                        target
  skipgram  v_in[context]                              the centre word
  cbow      mean (or sum) of v_in[c] over the context  the centre word

Skip-gram direction: as word2vec.c (and gensim), the context word is the input
and the centre word is predicted; the paper describes the reverse. Over an epoch
the same pairs occur either way except for the dynamic window's asymmetry.

Output layers, for one example with target word o (shapes per example):
  softmax  -log p(o | h) = -u_o.h + logsumexp_w(u_w.h)       O(V D)
  ns       -log s(u_o.h) - sum_k m_k log s(-u_nk.h)          O(K D)
  hs       -sum_j m_j log s((1 - 2 c_j) n_j.h)               O(L D), L ~ log2 V
  nce      -log s(x_o) - sum_k log s(-x_k),                  O(K D)
           x_w = u_w.h - log(K Pn(w))
where s is the logistic sigmoid, u rows of `emb_out`, n rows of `nodes` on the
Huffman path of o, c_j its code bits, Pn the noise distribution the negatives
are drawn from, and m masks (negatives equal to the target, padding past the
code length). `log_sigmoid` and `logsumexp` are used
because log(s(x)) underflows to -inf for x below about -88 in float32 and
exp overflows above about 88; word2vec.c instead reads s(x) from a table on
[-6, 6], skipping hierarchical-softmax nodes outside it and saturating s to 0
or 1 for negative sampling; we do not copy the table. The skipping is a choice
that changes the vectors, so it is a parameter: `skip_beyond` > 0 leaves every
term whose logit has |x| >= skip_beyond out of the gradient (its value still
counts in the loss). word2vec.c does that for hs terms only, gensim for hs and
ns terms, both at 6 (config.skip_saturated picks which).

The per-example losses take gathered rows (not whole tables) so that gradients
are taken only with respect to the rows an example touches (model.py). The
batch forms are `jax.vmap` of these and return per-example losses; model.py
sums them (it does not average), so a learning rate means what it means in
word2vec.c.

Derivations of every gradient: docs/MATH.md.
"""

import jax
import jax.numpy as jnp


# Output layers: score target against h_D.

def _log_sigmoid(x, skip_beyond):
  """log s(x), with no gradient where |x| >= skip_beyond (when skip_beyond > 0)."""
  value = jax.nn.log_sigmoid(x)
  frozen = (skip_beyond > 0) & (jnp.abs(x) >= skip_beyond)
  return jnp.where(frozen, jax.lax.stop_gradient(value), value)


def _data_versus_noise(target_logit, negative_logits_K, negative_mask_K, skip_beyond):
  """-log s(x_o) - sum_k m_k log s(-x_k): a logistic classifier of data against noise.

  The target is labelled data (1) and each negative noise (0); m_k = 1 for
  every k when negative_mask_K is None.
  """
  positive = _log_sigmoid(target_logit, skip_beyond)
  negatives_K = _log_sigmoid(-negative_logits_K, skip_beyond)
  if negative_mask_K is not None:
    negatives_K = jnp.where(negative_mask_K, negatives_K, 0.0)
  return -positive - jnp.sum(negatives_K)


def ns_loss(h_D, target_row_D, negative_rows_KxD, negative_mask_K, skip_beyond=0.0):
  """Negative sampling: -log s(u_o.h) - sum_k m_k log s(-u_k.h)."""
  return _data_versus_noise(jnp.dot(target_row_D, h_D), negative_rows_KxD @ h_D,
                            negative_mask_K, skip_beyond)


def nce_loss(h_D, target_row_D, negative_rows_KxD, target_log_kpn, negative_log_kpn_K,
             skip_beyond=0.0):
  """Noise-contrastive estimation: -log s(x_o) - sum_k log s(-x_k), x_w = u_w.h - log(K Pn(w)).

  Shapes: h_D, target_row_D [D]; negative_rows_KxD [K, D]; target_log_kpn []
  and negative_log_kpn_K [K] hold log(K Pn(w)) of the target and of each
  negative, where Pn is the distribution the K negatives were drawn from
  (unigram^ns_exponent, the alias table of ns).

  NCE (Gutmann & Hyvarinen 2010; Mnih & Teh 2012, as Mikolov et al. 2013b
  describe it) fits an unnormalised model p(w | h) = exp(u_w.h) / Z by
  logistic regression of "data" against K noise words: the posterior that w
  came from the data is
    P(D = 1 | w, h) = p(w | h) / (p(w | h) + K Pn(w)) = s(u_w.h - log Z - log(K Pn(w))).
  Its optimum is p(w | h) = p_data(w | h), so u_w.h estimates a log
  probability; negative sampling is the same classifier without the
  -log(K Pn(w)) term (ns_loss equals nce_loss with log(K Pn) = 0), whose
  optimum is instead u_w.h = log(p_data(w | h) / (K Pn(w))) (Levy & Goldberg
  2014, shifted PMI).

  Design decisions:
  * Z = 1, no normalising constant or per-word bias is learnt: Mnih & Teh
    found that fixing Z = 1 works (the model learns to self-normalise), and
    word2vec has no biases; u_w.h then has to reach log p(w | h) itself.
  * Negatives equal to the target are kept (no mask), unlike ns, where
    word2vec.c skips them. NCE's estimator is consistent only if the K noise
    words are i.i.d. draws from Pn, and the -log(K Pn(w)) correction assumes
    exactly that; dropping the draws that equal the target would make the noise
    distribution depend on the target (Pn without o) and bias the frequent
    words, the only ones drawn often enough for it to matter.
  * `skip_beyond` works as for ns, but config.skip_beyond never sets it for
    nce: the correction starts a rare word's logits far beyond 6
    (-log(5 Pn) = 12 for Pn = 1e-6), so skipping would freeze its output row.
  """
  return _data_versus_noise(jnp.dot(target_row_D, h_D) - target_log_kpn,
                            negative_rows_KxD @ h_D - negative_log_kpn_K, None, skip_beyond)


def hs_loss(h_D, node_rows_LxD, codes_L, path_mask_L, skip_beyond=0.0):
  """Hierarchical softmax: -sum_j m_j log s((1 - 2 c_j) n_j.h).

  Code bit 0 means "go to the first child" and is the positive label, as in
  word2vec.c (its gradient is (1 - code - s(n.h))).
  """
  return hs_batch(h_D[None, None], jnp.ones((1, 1), bool), node_rows_LxD[None], codes_L[None],
                  path_mask_L[None], skip_beyond)[0]


@jax.custom_vjp
def hs_batch(h_BxWxD, h_mask_BxW, node_rows_BxLxD, codes_BxL, path_mask_BxL, skip_beyond=0.0):
  """Per-example hs losses [B]; example b sums hs_loss over its W hidden vectors h_bw
  (those with h_mask_BxW set), all scored against the same path.

  W = 1 for skip-gram pairs and CBOW. With skip-gram's "centres" layout the W
  hidden vectors are one centre's context words, which all predict the
  centre and so share its path: the logits are one [L, D] x [D, W] product
  per example, and each node row's gradient one [L, W] x [W, D] product.

  The gradient is written by hand, as autodiff of log_sigmoid with the masks
  and _log_sigmoid's freezing would give it (docs/MATH.md: dL/dx = -(1 - c -
  s(x)) for a logit x with code bit c; zero where masked and, with
  skip_beyond > 0, where |x| >= skip_beyond), because of how XLA:CPU runs it:
  * the elementwise work is done on flat arrays: a 1-D loop of exp is ~5x
    faster than the same loop over [B, L, W];
  * the transposed [B, W, L] copy of the logit gradients is made explicitly
    and kept (optimization_barrier): fed the [B, L, W] array with a
    contraction over L instead, XLA:CPU used its slow generic batched
    product, about a fifth of the step.
  Together ~1.5x the words/s of the step for skip-gram "centres" batches
  (docs/log/SPEED.md, benchmarks/profile_step.py).
  """
  return _hs_batch_fwd(h_BxWxD, h_mask_BxW, node_rows_BxLxD, codes_BxL, path_mask_BxL,
                       skip_beyond)[0]


def _hs_batch_fwd(h_BxWxD, h_mask_BxW, node_rows_BxLxD, codes_BxL, path_mask_BxL, skip_beyond):
  b, l, w = node_rows_BxLxD.shape[0], node_rows_BxLxD.shape[1], h_BxWxD.shape[1]
  logits_BxLxW = jnp.einsum("bld,bwd->blw", node_rows_BxLxD, h_BxWxD)
  sign_BxL = 1.0 - 2.0 * codes_BxL.astype(h_BxWxD.dtype)
  flat = lambda a: jnp.broadcast_to(a, (b, l, w)).reshape(-1)  # [N], N = B L W
  x_N = logits_BxLxW.reshape(-1)
  z_N = flat(sign_BxL[:, :, None]) * x_N     # each term is -log s(z)
  mask_N = flat(path_mask_BxL[:, :, None] & h_mask_BxW[:, None, :])
  e_N = jnp.exp(-jnp.abs(z_N))
  loss_N = jnp.where(mask_N, jnp.maximum(-z_N, 0.0) + jnp.log1p(e_N), 0.0)
  sigmoid_minus_z_N = jnp.where(z_N >= 0, e_N, 1.0) / (1.0 + e_N)
  frozen_N = (skip_beyond > 0) & (jnp.abs(x_N) >= skip_beyond)
  dlogits_N = jnp.where(mask_N & ~frozen_N, -flat(sign_BxL[:, :, None]) * sigmoid_minus_z_N, 0.0)
  return (loss_N.reshape(b, -1).sum(axis=1),
          (dlogits_N.reshape(b, l, w), h_BxWxD, node_rows_BxLxD))


def _hs_batch_bwd(residuals, g_B):
  dlogits_BxLxW, h_BxWxD, node_rows_BxLxD = residuals
  b, l, w = dlogits_BxLxW.shape
  dlogits_BxLxW = (dlogits_BxLxW.reshape(b, -1) * g_B[:, None]).reshape(b, l, w)
  dlogits_BxWxL = jax.lax.optimization_barrier(jnp.swapaxes(dlogits_BxLxW, 1, 2))
  return (jnp.einsum("bwl,bld->bwd", dlogits_BxWxL, node_rows_BxLxD), None,
          jnp.einsum("blw,bwd->bld", dlogits_BxLxW, h_BxWxD), None, None, None)


hs_batch.defvjp(_hs_batch_fwd, _hs_batch_bwd)


def softmax_loss(h_D, emb_out_VxD, target):
  """Full softmax: -u_o.h + logsumexp_w(u_w.h), exact over the vocabulary."""
  logits_V = emb_out_VxD @ h_D
  return jax.nn.logsumexp(logits_V) - logits_V[target]


SOFTMAX_BLOCK_ROWS = 4096  # [256, 4096] float32 blocks: 4 MiB each


def softmax_batch_blocked(h_BxD, emb_out_VxD, target_B, block_rows=SOFTMAX_BLOCK_ROWS):
  """Full softmax for a batch, -u_o.h + logsumexp_w(u_w.h) [B], in blocks of output rows.

  The same value as vmap(softmax_loss) but never holds a [B, V] array: the
  forward pass keeps a running max and sum of exponentials over blocks of
  `block_rows` rows of emb_out (the log-sum-exp of each block folded into the
  total), and the custom gradient recomputes each block's logits:
    dL/dh_b = sum_w p_bw u_w - u_o(b),   dL/du_w = sum_b (p_bw - [w = o(b)]) h_b,
  with p_bw = exp(u_w.h_b - lse_b). The [B, block] temporaries fit in a cache
  where the [B, V] ones of the plain form stream from memory at large V (the
  reason its time per word grew faster than V: docs/log/SCALING_CURVES.md). A
  table of at most block_rows rows is one block. The last block is placed to
  end at the last row; its rows already covered by the block before are
  masked out.
  """
  return _softmax_blocked(h_BxD, emb_out_VxD, target_B, block_rows)


def _blocks(v, block_rows):
  """(number of blocks, rows per block, the start of block i, mask of its new rows).

  The fewest blocks of at most block_rows rows, made as even as possible, so
  that the last block overlaps the one before by fewer than `count` rows.
  """
  count = -(-v // block_rows)
  rows = -(-v // count)

  def start_and_mask(i):
    start = jnp.minimum(i * rows, v - rows)
    return start, start + jnp.arange(rows) >= i * rows  # rows not seen in block i - 1
  return count, rows, start_and_mask


def _block_logits(h_BxD, emb_out_VxD, i, rows, start_and_mask):
  start, new_R = start_and_mask(i)
  block_RxD = jax.lax.dynamic_slice_in_dim(emb_out_VxD, start, rows)
  return start, new_R, block_RxD, h_BxD @ block_RxD.T


def _softmax_blocked_fwd(h_BxD, emb_out_VxD, target_B, block_rows):
  count, rows, start_and_mask = _blocks(emb_out_VxD.shape[0], block_rows)

  def fold(carry, i):
    max_B, sum_B = carry
    _, new_R, _, logits_BxR = _block_logits(h_BxD, emb_out_VxD, i, rows, start_and_mask)
    logits_BxR = jnp.where(new_R[None, :], logits_BxR, -jnp.inf)
    new_max_B = jnp.maximum(max_B, logits_BxR.max(axis=1))
    sum_B = (sum_B * jnp.exp(max_B - new_max_B)
             + jnp.exp(logits_BxR - new_max_B[:, None]).sum(axis=1))
    return (new_max_B, sum_B), None
  b = h_BxD.shape[0]
  init = (jnp.full((b,), -jnp.inf, h_BxD.dtype), jnp.zeros((b,), h_BxD.dtype))
  (max_B, sum_B), _ = jax.lax.scan(fold, init, jnp.arange(count))
  lse_B = max_B + jnp.log(sum_B)
  loss_B = lse_B - jnp.sum(h_BxD * emb_out_VxD[target_B], axis=1)
  return loss_B, (h_BxD, emb_out_VxD, target_B, lse_B)


def _softmax_blocked_bwd(block_rows, residuals, g_B):
  h_BxD, emb_out_VxD, target_B, lse_B = residuals
  count, rows, start_and_mask = _blocks(emb_out_VxD.shape[0], block_rows)

  def block_grads(carry, i):
    dh_BxD, demb_VxD = carry
    start, new_R, block_RxD, logits_BxR = _block_logits(h_BxD, emb_out_VxD, i, rows,
                                                         start_and_mask)
    p_BxR = jnp.where(new_R[None, :], jnp.exp(logits_BxR - lse_B[:, None]), 0.0) * g_B[:, None]
    dh_BxD = dh_BxD + p_BxR @ block_RxD
    seen_RxD = jax.lax.dynamic_slice_in_dim(demb_VxD, start, rows)
    demb_VxD = jax.lax.dynamic_update_slice_in_dim(demb_VxD, seen_RxD + p_BxR.T @ h_BxD,
                                                   start, 0)
    return (dh_BxD, demb_VxD), None
  init = (jnp.zeros_like(h_BxD), jnp.zeros_like(emb_out_VxD))
  (dh_BxD, demb_VxD), _ = jax.lax.scan(block_grads, init, jnp.arange(count))
  dh_BxD = dh_BxD - g_B[:, None] * emb_out_VxD[target_B]
  demb_VxD = demb_VxD.at[target_B].add(-g_B[:, None] * h_BxD)
  return dh_BxD, demb_VxD, None


_softmax_blocked = jax.custom_vjp(
    lambda h_BxD, emb_out_VxD, target_B, block_rows: _softmax_blocked_fwd(
        h_BxD, emb_out_VxD, target_B, block_rows)[0], nondiff_argnums=(3,))
_softmax_blocked.defvjp(_softmax_blocked_fwd, _softmax_blocked_bwd)


# Models: the hidden vector.

def cbow_hidden(context_rows_WxD, context_mask_W, mean=True):
  """Sum of the real context rows, divided by their count when mean=True."""
  mask_W = context_mask_W.astype(context_rows_WxD.dtype)
  total_D = mask_W @ context_rows_WxD
  return total_D / jnp.maximum(mask_W.sum(), 1.0) if mean else total_D


# The per-example losses: {skipgram, cbow} x {ns, hs, softmax, nce}.

def skipgram_ns(input_row_D, target_row_D, negative_rows_KxD, negative_mask_K,
                skip_beyond=0.0):
  return ns_loss(input_row_D, target_row_D, negative_rows_KxD, negative_mask_K, skip_beyond)


def skipgram_hs(input_row_D, node_rows_LxD, codes_L, path_mask_L, skip_beyond=0.0):
  return hs_loss(input_row_D, node_rows_LxD, codes_L, path_mask_L, skip_beyond)


def skipgram_softmax(input_row_D, emb_out_VxD, target):
  return softmax_loss(input_row_D, emb_out_VxD, target)


def skipgram_nce(input_row_D, target_row_D, negative_rows_KxD, target_log_kpn,
                 negative_log_kpn_K, skip_beyond=0.0):
  return nce_loss(input_row_D, target_row_D, negative_rows_KxD, target_log_kpn,
                  negative_log_kpn_K, skip_beyond)


def cbow_ns(context_rows_WxD, context_mask_W, target_row_D, negative_rows_KxD,
            negative_mask_K, mean=True, skip_beyond=0.0):
  h_D = cbow_hidden(context_rows_WxD, context_mask_W, mean)
  return ns_loss(h_D, target_row_D, negative_rows_KxD, negative_mask_K, skip_beyond)


def cbow_hs(context_rows_WxD, context_mask_W, node_rows_LxD, codes_L, path_mask_L,
            mean=True, skip_beyond=0.0):
  h_D = cbow_hidden(context_rows_WxD, context_mask_W, mean)
  return hs_loss(h_D, node_rows_LxD, codes_L, path_mask_L, skip_beyond)


def cbow_softmax(context_rows_WxD, context_mask_W, emb_out_VxD, target, mean=True):
  h_D = cbow_hidden(context_rows_WxD, context_mask_W, mean)
  return softmax_loss(h_D, emb_out_VxD, target)


def cbow_nce(context_rows_WxD, context_mask_W, target_row_D, negative_rows_KxD, target_log_kpn,
             negative_log_kpn_K, mean=True, skip_beyond=0.0):
  h_D = cbow_hidden(context_rows_WxD, context_mask_W, mean)
  return nce_loss(h_D, target_row_D, negative_rows_KxD, target_log_kpn, negative_log_kpn_K,
                  skip_beyond)


# Batch forms: per-example losses [B]; the shared softmax table is not mapped.
# The hs forms call hs_batch, which is written for a batch, instead of mapping hs_loss;
# skip-gram's "centres" rows (a centre and up to W of its context words) call it directly.

def skipgram_hs_batch(input_rows_BxD, node_rows_BxLxD, codes_BxL, path_mask_BxL,
                      skip_beyond=0.0):
  return hs_batch(input_rows_BxD[:, None], jnp.ones((input_rows_BxD.shape[0], 1), bool),
                  node_rows_BxLxD, codes_BxL, path_mask_BxL, skip_beyond)


def cbow_hs_batch(context_rows_BxWxD, context_mask_BxW, node_rows_BxLxD, codes_BxL,
                  path_mask_BxL, mean=True, skip_beyond=0.0):
  h_BxD = jax.vmap(cbow_hidden, in_axes=(0, 0, None))(context_rows_BxWxD, context_mask_BxW, mean)
  return hs_batch(h_BxD[:, None], jnp.ones((h_BxD.shape[0], 1), bool), node_rows_BxLxD,
                  codes_BxL, path_mask_BxL, skip_beyond)


skipgram_ns_batch = jax.vmap(skipgram_ns, in_axes=(0, 0, 0, 0, None))
skipgram_softmax_batch = jax.vmap(skipgram_softmax, in_axes=(0, None, 0))
cbow_ns_batch = jax.vmap(cbow_ns, in_axes=(0, 0, 0, 0, 0, None, None))
cbow_softmax_batch = jax.vmap(cbow_softmax, in_axes=(0, 0, None, 0, None))
skipgram_nce_batch = jax.vmap(skipgram_nce, in_axes=(0, 0, 0, 0, 0, None))
cbow_nce_batch = jax.vmap(cbow_nce, in_axes=(0, 0, 0, 0, 0, 0, None, None))


# Shared negatives (Ji et al. 2016): [Q] groups of G examples, each group with
# one set of K negative rows; per-example losses [Q, G]. The inner vmap maps the
# shared rows (and, for nce, their log(K Pn)) with in_axes=None, so the negative
# logits of a group are one [G, D] x [D, K] product and autodiff sums the
# group's gradients per row.

skipgram_ns_grouped = jax.vmap(jax.vmap(skipgram_ns, in_axes=(0, 0, None, 0, None)),
                               in_axes=(0, 0, 0, 0, None))
cbow_ns_grouped = jax.vmap(jax.vmap(cbow_ns, in_axes=(0, 0, 0, None, 0, None, None)),
                           in_axes=(0, 0, 0, 0, 0, None, None))
skipgram_nce_grouped = jax.vmap(jax.vmap(skipgram_nce, in_axes=(0, 0, None, 0, None, None)),
                                in_axes=(0, 0, 0, 0, 0, None))
cbow_nce_grouped = jax.vmap(
    jax.vmap(cbow_nce, in_axes=(0, 0, 0, None, 0, None, None, None)),
    in_axes=(0, 0, 0, 0, 0, 0, None, None))
