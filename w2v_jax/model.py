"""Parameters, the compiled training step, and the learning-rate schedule.

Parameters are a dict of arrays:
  emb_in   [V, D]    input vectors, U[-0.5/D, 0.5/D) as word2vec.c
  emb_out  [V, D]    output vectors (softmax, ns and nce), zeros
  nodes    [V-1, D]  Huffman inner nodes (hs), zeros
Only the tables the chosen loss uses are created.

A step gathers the rows its batch touches, takes the gradient of the summed
per-example loss with respect to those gathered rows, transforms it with an
optax GradientTransformation and scatter-adds the result back. Duplicate rows
in a batch get the sum of their per-occurrence updates, as if the examples had
been applied one after another without seeing each other's changes. Nothing is
proportional to V * D per step except the full-softmax output layer, which is
O(V) by definition.

word2vec.c semantics by default:
  * plain SGD on the summed (not averaged) loss, so `alpha` is word2vec.c's
    alpha: each pair moves its rows by alpha times its own gradient;
  * the learning rate decays linearly with the raw corpus words processed,
    alpha * max(1 - words / (epochs * N + 1), min_alpha_ratio), where each
    batch carries its global words_done (float32, from the host);
  * CBOW (cbow_update="word2vec") adds the whole error gradient of h to every
    context word, as word2vec.c and gensim (cbow_mean=1) do even when h is a
    mean; "exact" gives the true gradient of the mean (error / number of
    context words), which neither tool uses.
"""

import functools

import jax
import jax.numpy as jnp
import optax
from flax import struct

from w2v_jax import parallel
from w2v_jax import row_updates
from w2v_jax.output_layers import LAYERS


INIT_BLOCK_ROWS = 1 << 16


@struct.dataclass
class TrainState:
  """What a compiled call carries and donates: a pytree (flax.struct) of three leaves' kinds.

  Its fields are in the order a checkpoint stores their leaves
  (checkpoint.py), which is the sorted order of the dict the state once was.
  """
  opt_state: optax.OptState  # SGD's: a step count and the injected learning rate
  params: dict               # {"emb_in": [V, D], the output layer's table}
  step: jax.Array            # the global step, int32: every step's randomness folds it in


def init_params(key, vocab_size: int, dim: int, loss: str,
                block_rows: int = INIT_BLOCK_ROWS) -> dict:
  """emb_in uniform as word2vec.c's, and the loss's output table (output_layers.py) zero."""
  layer = LAYERS[loss]
  return {"emb_in": uniform_rows(key, vocab_size, dim, -0.5 / dim, 0.5 / dim, block_rows),
          layer.table: jnp.zeros((layer.table_rows(vocab_size), dim), jnp.float32)}


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4, 5))
def uniform_rows(key, rows: int, dim: int, low: float, high: float, block_rows: int):
  """U[low, high) float32 [rows, dim], made `block_rows` rows at a time.

  One jax.random.uniform over the whole table peaks at twice its size (its
  random bits and the floats); filling a zero table block by block inside one
  compiled loop peaks at the table plus a block. Block i draws from
  fold_in(key, i); the last block is placed to end at the last row and
  overwrites the rows it shares with the one before. A table of at most
  `block_rows` rows is one uniform(key, (rows, dim)), as before blocks were used.
  """
  if rows <= block_rows:
    return jax.random.uniform(key, (rows, dim), jnp.float32, low, high)

  def fill(i, table):
    block = jax.random.uniform(jax.random.fold_in(key, i), (block_rows, dim), jnp.float32,
                               low, high)
    start = jnp.minimum(i * block_rows, rows - block_rows)
    return jax.lax.dynamic_update_slice(table, block, (start, 0))
  return jax.lax.fori_loop(0, -(-rows // block_rows), fill, jnp.zeros((rows, dim), jnp.float32))


def learning_rate(words_done, total_words: int, alpha: float, min_ratio: float,
                  warmup: float = 0.0):
  """word2vec.c's linear decay, as a function of raw words processed; with warmup > 0,
  the rate first rises linearly over that fraction of the words (Goyal et al. 2017)."""
  fraction = 1.0 - words_done / (total_words + 1.0)
  if warmup > 0:
    fraction = jnp.minimum(fraction, words_done / (warmup * (total_words + 1.0)))
  return alpha * jnp.maximum(fraction, min_ratio)


def make_optimizer(alpha: float, row_update: str = "sum", row_cap: float = 64.0,
                   krylov_dims: int = 3) -> optax.GradientTransformation:
  """SGD whose learning rate train_step sets from the schedule every step, after the
  rule for rows a batch shares (row_updates.py) unless that is "sum"."""
  sgd = optax.with_extra_args_support(optax.inject_hyperparams(optax.sgd)(learning_rate=alpha))
  if row_update == "sum":
    return sgd
  return optax.chain(row_updates.make(row_update, row_cap, krylov_dims), sgd)


def _set_learning_rate(opt_state, lr):
  """The optimizer state with SGD's injected learning rate set to lr."""
  if type(opt_state) is tuple:  # a chain's states (named tuples are single states)
    return tuple(_set_learning_rate(s, lr) for s in opt_state)
  if hasattr(opt_state, "hyperparams"):
    return opt_state._replace(hyperparams=dict(opt_state.hyperparams, learning_rate=lr))
  return opt_state


def _gather(params, tables, batch, key, *, model, loss, negative, share_negatives=1):
  """Row ids and gathered rows for one batch, plus the loss's static inputs.

  The input side is the batch's context ids ([B] pairs, or [B, W] slots per
  centre with their mask); the output side is the output layer's
  (output_layers.py).
  """
  del model  # the batch's arrays say which layout it is
  ids, extra = LAYERS[loss].gather(tables, batch, key, negative=negative,
                                   share_negatives=share_negatives)
  ids = dict(ids, emb_in=batch["context"])
  if "context_mask" in batch:          # CBOW, skip-gram's "centres" layout
    extra["context_mask"] = batch["context_mask"]
  rows = {name: params[name][i] for name, i in ids.items()}
  if LAYERS[loss].dense:
    rows[LAYERS[loss].table] = params[LAYERS[loss].table]  # read whole, by definition
  return ids, rows, extra


def _per_example_loss(rows, extra, *, model, loss, cbow_mean, skip_beyond):
  """Per-example losses [B] from gathered rows (the output layer's batch_loss)."""
  return LAYERS[loss].batch_loss(rows, extra, model=model, cbow_mean=cbow_mean,
                                 skip_beyond=skip_beyond)


def train_step(state, batch, key, tables, *, model, loss, negative, cbow_mean, cbow_update,
               tx, total_words, alpha, min_ratio, warmup=0.0, skip_beyond=0.0,
               share_negatives=1, share_updates=None):
  """One SGD step on one batch. Returns (new state, summed loss of the batch).

  `share_updates(ids, rows)`, where given, places the sparse updates before
  they are scatter-added (parallel.py: on a mesh with replicated tables, every
  device receives all of them, so no device needs the others' whole tables).
  """
  params = state.params
  ids, rows, extra = _gather(params, tables, batch, key, model=model, loss=loss,
                             negative=negative, share_negatives=share_negatives)
  mask_B = batch["mask"].astype(jnp.float32)

  def summed_loss(rows):
    per_example = _per_example_loss(rows, extra, model=model, loss=loss, cbow_mean=cbow_mean,
                                    skip_beyond=skip_beyond)
    return jnp.sum(per_example * mask_B)

  loss_value, grads = jax.value_and_grad(summed_loss)(rows)
  scales = {}
  if model == "cbow" and cbow_mean and cbow_update == "word2vec":
    count_B = jnp.maximum(extra["context_mask"].sum(axis=1), 1).astype(jnp.float32)
    scales["emb_in"] = count_B[:, None, None]
    grads["emb_in"] = grads["emb_in"] * scales["emb_in"]
  lr = learning_rate(batch["words_done"], total_words, alpha, min_ratio, warmup)
  opt_state = _set_learning_rate(state.opt_state, lr)
  updates, opt_state = tx.update(  # ids: the gathered tables only (not a dense softmax's)
      grads, opt_state, ids=ids, table_rows={name: params[name].shape[0] for name in ids},
      lr=lr, curvature=row_updates.curvature_fn(summed_loss, rows, scales))
  new_params = dict(params)
  for name, update in updates.items():
    if name in ids:
      d = update.shape[-1]
      ids_N, update_NxD = ids[name].reshape(-1), update.reshape(-1, d)
      if share_updates is not None:
        ids_N, update_NxD = share_updates(ids_N, update_NxD)
      new_params[name] = params[name].at[ids_N].add(update_NxD)
    else:  # the dense softmax output table
      new_params[name] = params[name] + update
  return state.replace(params=new_params, opt_state=opt_state), (loss_value, lr)


def make_train_chunk(config, tables, total_words: int, alpha: float, mesh=None):
  """A jitted function running `train_step` over [T, B] batches with lax.scan.

  (state, chunk, key, path_slots=None) -> (state, (loss_T, lr_T)); the state
  is donated; path_slots (static, one compiled program per value) is the
  chunk's path bucket's (pipeline.grouped_batches), None = the longest code. Every
  step's randomness derives from (key, global step). With a `mesh`
  (parallel.py) the state keeps config.table_sharding's layout through the
  loop, and the chunk is expected split along B; the step itself is
  unchanged, and XLA inserts the collectives.

  The lookup tables go in as an argument of the compiled function (bound
  here), not as constants it closes over: XLA kept a copy of closed-over
  tables in every compiled program (hs at V = 1M, whose [V, L] paths are the
  large ones: 240 MiB more peak memory with one program, 450 MiB with a path
  bucket's second).
  """
  tx, chunk_fn = chunk_function(config, total_words, alpha, mesh)
  if mesh is not None:  # whole on every device, once, rather than moved at every call
    tables = parallel.place(tables, jax.tree_util.tree_map(
        lambda _: parallel.everywhere(mesh), tables))
  return tx, functools.partial(jax.jit(chunk_fn, donate_argnums=0, static_argnums=3),
                               tables=tables)


def chunk_function(config, total_words: int, alpha: float, mesh=None):
  """(optimizer, make_train_chunk's function before jit, which takes the tables as
  the keyword argument `tables`): sweep.py puts several in one program."""
  tx = make_optimizer(alpha, config.row_update, config.row_cap, config.krylov_dims)
  make_step = lambda tables: functools.partial(
      train_step, tables=tables, model=config.model, loss=config.loss,
      negative=config.negative, cbow_mean=config.cbow_mean, cbow_update=config.cbow_update,
      tx=tx, total_words=total_words, alpha=alpha, min_ratio=config.min_alpha_ratio,
      warmup=config.lr_warmup,
      skip_beyond=config.skip_beyond,
      share_negatives=config.share_negatives,
      share_updates=(functools.partial(parallel.replicate, mesh) if mesh is not None
                     and config.table_sharding == "replicated" else None))

  def constrain(state):
    """Pins the tables' layout on every step's output, so the loop carry keeps it."""
    if mesh is None:
      return state
    return jax.lax.with_sharding_constraint(
        state, parallel.state_shardings(state, mesh, config.table_sharding))

  def chunk_fn(state, chunk, key, path_slots=None, *, tables):
    step = make_step(tables)
    chunk = dict(chunk)
    if chunk["words_done"].ndim == 2:  # [T, devices]: each process's position (parallel.py)
      chunk["words_done"] = chunk["words_done"].max(axis=1)
    # The output layer's per-step inputs (negatives, tree paths), looked up for
    # the whole chunk before the loop (output_layers.py says why).
    chunk.update(LAYERS[config.loss].chunk_inputs(chunk, tables, key, state.step, config,
                                                  path_slots))

    def body(state, batch):
      step_key = jax.random.fold_in(key, state.step)  # only read when not drawn above
      state, out = step(state, batch, step_key)
      return constrain(state.replace(step=state.step + 1)), out
    return jax.lax.scan(body, state, chunk)

  return tx, chunk_fn


def init_state(params, tx):
  """Training state: params, optimizer state and the global step.

  The optimizer sees gathered rows, never whole tables, so its state must not
  hold anything per row: plain SGD (with injected learning rate) holds only a
  count and the learning rate.
  """
  return TrainState(opt_state=tx.init({}), params=params, step=jnp.zeros((), jnp.int32))


def device_tables(loss: str, noise_V=None, tree=None) -> dict:
  """The loss's constant lookup tables, as device arrays (output_layers.py)."""
  return LAYERS[loss].lookup(noise_V, tree)
