"""build_trainer: the compiled training function, its initial state and its layout.

What the loop (loop.py), the tests and the benchmarks all need before the
first step, built one way: the loss's lookup tables on the devices, the
jitted chunk function (model.make_train_chunk, or for --sweep one program
training every variant, sweep.py), the initial state, where it lives on the
mesh, and how to read each output's tables back. A sweep is another Trainer,
not branches in the loop: its state is a list of the variants' states, its
losses [T, S], and it has S outputs and keeps no checkpoint.

The memory a run will hold is estimated and checked here, before any table
is allocated (memory.py).
"""

import dataclasses
import functools
import logging
from typing import Callable, Optional

import jax
from jax.sharding import Mesh

from w2v_jax import memory
from w2v_jax import model as model_lib
from w2v_jax import parallel
from w2v_jax import sweep as sweep_lib
from w2v_jax.pipeline import Data
from w2v_jax.resolve import Resolved
from w2v_jax.resolve import sweep_variants


@dataclasses.dataclass(frozen=True)
class Trainer:
  """Everything the loop needs to train `config` on `mesh` (module docstring)."""
  config: Resolved
  outputs: tuple            # one resolved config per folder of outputs: (config,) or variants
  mesh: Mesh
  # (state, chunk arrays, key, path_slots) -> (state, (loss, lr)), [T] each ([T, S] for
  # a sweep); the state is donated.
  train_chunk: Callable
  init_state: Callable      # () -> the initial state, on the host's default device
  place: Callable           # state -> the state laid out on the mesh
  tables: Callable          # host state -> [each output's tables, without padding rows]
  keeps_checkpoints: bool   # a sweep keeps none
  # (state, chunk arrays, key, path_slots), abstract or concrete -> train_chunk's program
  # lowered for them (.compile() it ahead of its first call); None for a sweep
  lower: Optional[Callable] = None


def build_trainer(config: Resolved, data: Data, mesh: Optional[Mesh] = None,
                  init_key=None) -> Trainer:
  """The Trainer for `config` on `data`'s corpus; refuses a run that would not fit.

  `mesh` defaults to parallel.make_mesh(config); `init_key` to the first half of
  PRNGKey(config.seed)'s split (the second is the training key, loop.py).
  """
  mesh = mesh if mesh is not None else parallel.make_mesh(config)
  init_key = init_key if init_key is not None else split_key(config.seed)[0]
  vocab_size, n = len(data.corpus.vocab), data.corpus.stats["vocab_tokens"]
  total_words = config.epochs * n
  device = next(d for d in mesh.devices.flat if d.process_index == jax.process_index())
  variants = sweep_variants(config)
  if variants:
    check_memory(sweep_lib.largest(config, variants), vocab_size, n, device,
                 copies=len(variants))
    txs, train_chunk = sweep_lib.make_train_chunk(variants, data.corpus.vocab.counts, data.tree,
                                                  total_words)
    return Trainer(
        config=config, outputs=tuple(variants), mesh=mesh, train_chunk=train_chunk,
        init_state=lambda: sweep_lib.init_state(variants, init_key, vocab_size, txs),
        place=lambda state: state,  # a sweep runs on one device (resolve.sweep_variants)
        tables=lambda host: [sweep_lib.variant_params(host, s) for s in range(len(variants))],
        keeps_checkpoints=False)
  check_memory(config, vocab_size, n, device)
  multiple = parallel.row_multiple(config, mesh, vocab_size)
  tables = model_lib.device_tables(config.loss, data.noise_V, data.tree)
  tx, train_chunk = model_lib.make_train_chunk(config, tables, total_words, config.alpha, mesh)
  init = lambda: model_lib.init_state(
      _initial_params(init_key, vocab_size, config.dim, config.loss, multiple), tx)
  place = lambda state: parallel.place(
      state, parallel.state_shardings(state, mesh, config.table_sharding))
  return Trainer(config=config, outputs=(config,), mesh=mesh, train_chunk=train_chunk,
                 init_state=init, place=place,
                 tables=lambda host: [parallel.strip_rows(host.params, vocab_size)],
                 keeps_checkpoints=True,
                 lower=lambda *args: train_chunk.func.lower(*args, **train_chunk.keywords))


def split_key(seed: int):
  """(initialisation key, training key) of a seed."""
  return _split_seed(seed)


# One program each, shared by every trainer of the same shapes: made op by op, the tables
# and the keys took a dozen tiny programs (~0.5 s of compiling a run).
@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4))
def _initial_params(key, vocab_size: int, dim: int, loss: str, multiple: int) -> dict:
  return parallel.pad_rows(model_lib.init_params(key, vocab_size, dim, loss), multiple)


# The seed static: PRNGKey of a Python int takes seeds up to 2**63 (resolve.py), a traced
# int32 would not.
_split_seed = jax.jit(lambda seed: jax.random.split(jax.random.PRNGKey(seed)), static_argnums=0)


def check_memory(config: Resolved, vocab_size: int, tokens: int, device,
                 copies: int = 1) -> None:
  """Refuses a run that would not fit; `copies`: a --sweep's variants (tables and rows S times)."""
  est = memory.estimate(config, vocab_size, tokens)
  est["tables"] *= copies
  est["rows"] *= copies
  host_free, device_free = memory.available_host(), memory.available_device(device)
  on_host = device.platform == "cpu"
  logging.info("memory estimate: %s; free: host %s%s", memory.describe(est),
               "unknown" if host_free is None else memory.format_bytes(host_free),
               "" if device_free is None else
               f", {device.platform} {memory.format_bytes(device_free)}")
  memory.check(est, on_host, host_free, None if on_host else device_free,
               devices=config.num_devices, rows_sharded=config.table_sharding == "rows")
