"""How a step applies the updates of rows that many examples of its batch share (--row_update).

word2vec.c applies one example at a time: a row used by n examples moves n
times, each step computed from the row as the previous one left it. A batched
step computes all n per-occurrence gradients g_o from the row's value before
the batch. Rows used once are unaffected; the rows that suffer are the hot
ones: the top nodes of the Huffman tree (the root is on every hs example's
path), frequent words as CBOW context, as ns targets and as negatives. At
the CPU defaults (a few hundred examples per step) the difference does not
show in the scores; at tens of thousands it does (docs/RESULTS.md, "Large
batches").

Each rule is an optax GradientTransformation over the per-occurrence
gradients of the gathered rows (model.train_step chains it before SGD). Its
extra arguments, per gathered table: the row ids of every occurrence and the
table's row count; for newton and krylov, the loss's curvature along a direction.

  sum     the per-occurrence updates are added: word2vec.c's rule applied as
          if the examples did not see each other's changes. What auto picks at
          the default batch sizes, and exact for a row used once.
  cap     a row used by n > c occurrences moves as if used c times
          (each update scaled by min(1, c / n)); --row_cap = c.
  newton  a row's n occurrences move it as n sequential word2vec.c steps on a
          quadratic model of their summed loss along the summed gradient G
          would. With rho the curvature of that loss along G (one
          Hessian-vector product over all tables, forward over reverse mode) and
          x = lr * rho, n sequential steps of lr on n terms of curvature
          rho / n each move the row by lr * G * phi, where
            phi(x, n) = (1 - (1 - x / n)^n) / x    (x / n clipped to <= 1),
          which is 1 for n = 1 (the sum rule, exactly), tends to
          (1 - exp(-x)) / x (gradient flow for time lr) as n grows, and to
          1 / x (the Newton step along G, no overshoot) as x grows. A row
          whose n gradients mostly cancel (a hot row near its optimum) has a
          small G and a large rho: its step is small, where the sum rule
          would add sqrt(n) times one example's noise.
  krylov  newton with the row's curvature resolved in m = --krylov_dims
          directions: the Krylov space span{G, H G, .., H^(m-1) G} of the row's
          Hessian H (per-table Hessian-vector products, m per table per step),
          in which the row moves by phi(lr H, n) G, phi applied to each
          eigenvalue of H restricted there. newton is m = 1; its one factor is
          set by the largest curvature along G, which also shrinks G's weak
          directions. On one CBOW-ns step of 65,536 examples, m = 3 put the hot
          rows as near the sequential result as the same examples applied one
          at a time in another order are (docs/RESULTS.md, "Large batches").
  auto    (resolve.py) sum up to the batch sizes where it held the quality bar,
          above them krylov for ns, newton for skip-gram hs, and krylov in one
          direction for CBOW hs (which scored best there; docs/RESULTS.md).
The count n of a row is its occurrences with a non-zero gradient, so padding
(masked context slots, path slots past a code's end, padded examples) is not
counted.
"""

import jax
import jax.numpy as jnp
import optax

RULES = ("sum", "cap", "newton", "krylov")


def _row_counts(ids, update, table_rows: int):
  """Each row's occurrences with a non-zero update [R] (padding has none)."""
  live_N = jnp.any(update != 0, axis=-1).reshape(-1).astype(jnp.float32)
  return jnp.zeros((table_rows,), jnp.float32).at[ids.reshape(-1)].add(live_N)


def occurrence_counts(ids, update, table_rows: int):
  """For every occurrence (ids' shape), how many occurrences of its row in the batch have a
  non-zero update."""
  return _row_counts(ids, update, table_rows)[ids.reshape(-1)].reshape(ids.shape)


def _row_sums(ids, update, table_rows: int):
  """The summed update of every row [R, D], and each occurrence's row sum (update's shape).

  Dense over the table's rows: cheap beside a large batch at tens of thousands of words,
  but R x D floats written and read every step (400 MB at V = 1M, D = 100); a sort-based
  segment sum over the batch's occurrences would make it O(B D) if the rule stays."""
  d = update.shape[-1]
  ids_N = ids.reshape(-1)
  sums_RxD = jnp.zeros((table_rows, d), update.dtype).at[ids_N].add(update.reshape(-1, d))
  return sums_RxD, sums_RxD[ids_N].reshape(update.shape)


def sequential_factor(x, n):
  """phi(x, n) = (1 - (1 - min(x / n, 1))^n) / x: the distance n sequential steps of a
  quadratic of total curvature x (in units of 1 / lr) cover, over the summed step's.
  1 at x = 0 or n = 1; 1 / x once x >= n."""
  n = jnp.maximum(n, 1.0)
  y = jnp.clip(x / n, 0.0, 1.0)
  remaining = jnp.where(y < 1.0, jnp.exp(n * jnp.log1p(-jnp.minimum(y, 1.0 - 1e-7))), 0.0)
  small = x < 1e-4
  return jnp.where(small, 1.0 - 0.5 * x * (n - 1.0) / n,
                   (1.0 - remaining) / jnp.where(small, 1.0, x))


def _stateless(update_fn) -> optax.GradientTransformationExtraArgs:
  return optax.GradientTransformationExtraArgs(lambda params: optax.EmptyState(), update_fn)


def cap(c: float) -> optax.GradientTransformationExtraArgs:
  """Scales each occurrence's update by min(1, c / n), n its row's occurrences."""
  def update(updates, state, params=None, *, ids, table_rows, **extra):  # pylint: disable=unused-argument
    out = dict(updates)
    for name, ids_ in ids.items():
      n = occurrence_counts(ids_, updates[name], table_rows[name])
      out[name] = updates[name] * jnp.minimum(1.0, c / jnp.maximum(n, 1.0))[..., None]
    return out, state
  return _stateless(update)


def newton() -> optax.GradientTransformationExtraArgs:
  """Scales each row's summed update by sequential_factor(lr * rho, n) (module docstring).

  `curvature(name, direction)` returns H @ direction for the gathered rows
  of table `name` (the other tables held fixed), in the gathered rows' shape.
  """
  def update(updates, state, params=None, *, ids, table_rows, curvature, lr, **extra):  # pylint: disable=unused-argument
    sums, directions = {}, {}
    for name, ids_ in ids.items():
      sums[name], directions[name] = _row_sums(ids_, updates[name], table_rows[name])
    curved = curvature(directions)
    out = dict(updates)
    for name, ids_ in ids.items():
      g, rows, ids_N = updates[name], table_rows[name], ids_.reshape(-1)
      along_N = jnp.sum(directions[name] * curved[name], axis=-1).reshape(-1)
      curvature_R = jnp.zeros((rows,), jnp.float32).at[ids_N].add(along_N)
      norm2_R = jnp.sum(sums[name] * sums[name], axis=-1)
      rho_R = jnp.maximum(curvature_R, 0.0) / jnp.maximum(norm2_R, 1e-30)
      factor_R = sequential_factor(lr * rho_R, _row_counts(ids_, g, rows))
      out[name] = g * factor_R[ids_N].reshape(ids_.shape)[..., None]
    return out, state
  return _stateless(update)


def _orthonormal_step(basis, v_RxD):
  """v with its components along the (orthonormal) basis rows removed, normalised per row;
  0 where what is left is rounding (v already in the basis' span)."""
  before_R = jnp.linalg.norm(v_RxD, axis=-1, keepdims=True)
  for b_RxD in basis:
    v_RxD = v_RxD - jnp.sum(v_RxD * b_RxD, axis=-1, keepdims=True) * b_RxD
  norm_R = jnp.linalg.norm(v_RxD, axis=-1, keepdims=True)
  return jnp.where(norm_R > 1e-3 * before_R, v_RxD / jnp.maximum(norm_R, 1e-30), 0.0)


JACOBI_SWEEPS = 8  # cyclic Jacobi converges quadratically: 8 sweeps reach float32 rounding


def symmetric_eigh(a_RxMxM, sweeps: int = JACOBI_SWEEPS):
  """Eigenvalues [R, M] and eigenvectors (columns) [R, M, M] of a batch of small symmetric
  matrices, by cyclic Jacobi rotations in plain array operations.

  Not jnp.linalg.eigh: on the CPU its LAPACK kernel spreads a batch over XLA's
  intra-op pool from inside that pool, and with two decompositions in one program
  (one per table) and two cores it deadlocked (an in-process experiment hung for
  minutes with every thread waiting); on accelerators a few hundred fused element
  ops on [R, M, M] beat a batched solver call for M of 2-8.
  """
  m = a_RxMxM.shape[-1]
  pairs = jnp.asarray([(p, q) for p in range(m) for q in range(p + 1, m)] or [(0, 0)],
                      jnp.int32)
  eye = jnp.eye(m, dtype=a_RxMxM.dtype)

  def rotate(i, av):
    a, v = av
    p, q = pairs[i % len(pairs), 0], pairs[i % len(pairs), 1]
    app, aqq, apq = a[:, p, p], a[:, q, q], a[:, p, q]
    live = jnp.abs(apq) > 1e-30 * (jnp.abs(app) + jnp.abs(aqq)) + 1e-37
    theta = (aqq - app) / jnp.where(live, 2.0 * apq, 1.0)
    t = jnp.sign(theta) / (jnp.abs(theta) + jnp.sqrt(1.0 + jnp.minimum(theta * theta, 1e30)))
    t = jnp.where(live, jnp.where(theta == 0, 1.0, t), 0.0)
    c = jax.lax.rsqrt(1.0 + t * t)
    s = t * c
    e_p, e_q = eye[p], eye[q]
    rot = (eye + (c - 1.0)[:, None, None] * (jnp.outer(e_p, e_p) + jnp.outer(e_q, e_q))
           + s[:, None, None] * (jnp.outer(e_p, e_q) - jnp.outer(e_q, e_p)))
    a = jnp.einsum("rji,rjk,rkl->ril", rot, a, rot)
    return a, jnp.einsum("rij,rjk->rik", v, rot)

  v0 = jnp.broadcast_to(eye, a_RxMxM.shape)
  if m == 1:
    return a_RxMxM[..., 0], v0
  a, v = jax.lax.fori_loop(0, sweeps * len(pairs), rotate, (a_RxMxM, v0))
  return jnp.diagonal(a, axis1=-2, axis2=-1), v


def krylov(m: int) -> optax.GradientTransformationExtraArgs:
  """Moves each row by phi(lr H, n) G within span{G, H G, .., H^(m-1) G} (module docstring).

  The basis is orthonormalised per row as it grows (Gram-Schmidt); a direction
  already in the span is dropped (zeroed), and its eigenvalue 0 contributes nothing.
  G is in the span, so a row used once (phi = 1 where lr H <= 1) moves by G, as with
  sum. Occurrences share their row's step equally, so model.py's scatter-add puts the
  step back together. Each table's products hold the other tables fixed: where both
  partners of an example are hot that misses their coupling (the tests' one pair used
  64 times at lr 0.5: 6.4 from the sequential result against newton's joint 3.4).
  """
  def update(updates, state, params=None, *, ids, table_rows, curvature, lr, **extra):  # pylint: disable=unused-argument
    out = dict(updates)
    for name, ids_ in ids.items():
      g, rows, ids_N = updates[name], table_rows[name], ids_.reshape(-1)
      sums_RxD, _ = _row_sums(ids_, g, rows)
      basis, images = [_orthonormal_step([], sums_RxD)], []
      for i in range(m):
        d_occ = basis[-1][ids_N].reshape(g.shape)
        hd_occ = curvature({name: d_occ})[name]
        hd_RxD = jnp.zeros_like(sums_RxD).at[ids_N].add(hd_occ.reshape(-1, g.shape[-1]))
        images.append(hd_RxD)
        if i < m - 1:
          basis.append(_orthonormal_step(basis, hd_RxD))
      k_RxMxD, hk_RxMxD = jnp.stack(basis, 1), jnp.stack(images, 1)
      t_RxMxM = jnp.einsum("rmd,rnd->rmn", k_RxMxD, hk_RxMxD)
      t_RxMxM = 0.5 * (t_RxMxM + jnp.swapaxes(t_RxMxM, 1, 2))
      lam_RxM, w_RxMxM = symmetric_eigh(t_RxMxM)
      n_R = _row_counts(ids_, g, rows)
      phi_RxM = sequential_factor(lr * jnp.maximum(lam_RxM, 0.0), n_R[:, None])
      c_RxM = jnp.einsum("rmd,rd->rm", k_RxMxD, sums_RxD)
      coef_RxM = jnp.einsum("rmk,rk,rnk,rn->rm", w_RxMxM, phi_RxM, w_RxMxM, c_RxM)
      step_RxD = jnp.einsum("rm,rmd->rd", coef_RxM, k_RxMxD)
      # Spread the row's step over its occurrences (padding included): their scatter-add
      # gives the step back.
      occ_R = jnp.zeros((rows,), jnp.float32).at[ids_N].add(1.0)
      share_N = (1.0 / jnp.maximum(occ_R, 1.0))[ids_N]
      out[name] = (step_RxD[ids_N] * share_N[:, None]).reshape(g.shape)
    return out, state
  return _stateless(update)


def make(rule: str, row_cap: float, krylov_dims: int) -> optax.GradientTransformationExtraArgs:
  if rule == "cap":
    return cap(row_cap)
  if rule == "newton":
    return newton()
  if rule == "krylov":
    return krylov(krylov_dims)
  raise ValueError(rule)


def curvature_fn(summed_loss, rows: dict, scales: dict):
  """{table: direction} -> {table: H @ direction}, H the Hessian of summed_loss(rows) with
  respect to the gathered rows of every table at once, times each table's update scale
  (model.py's CBOW word2vec update multiplies the input rows' gradients by the context size).

  Joint rather than table by table (the other tables held fixed, one product per table):
  one product instead of two, and the two scored alike on skip-gram-NS at 65,536 (one
  epoch, analogy 3.9% joint against 4.3% per table, seed 1).
  """
  linear = []  # grad linearised at rows once, on first use: each product then costs one
               # pass of the linear map, not a new primal pass (krylov takes several)

  def curvature(directions):
    if not linear:
      linear.append(jax.linearize(jax.grad(summed_loss), rows)[1])
    tangent = {k: directions.get(k, jnp.zeros_like(v)) for k, v in rows.items()}
    curved = linear[0](tangent)
    return {name: curved[name] * scales.get(name, 1.0) for name in directions}
  return curvature
