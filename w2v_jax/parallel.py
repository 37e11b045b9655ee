"""Several devices and hosts on JAX's own runtime: one mesh, two table layouts.

Training runs one program over a 1-D mesh of `num_devices` devices (axis
"data"), the same compiled chunk as on one device (model.make_train_chunk):
  batches   every [T, B, ...] chunk array is split along B,
            PartitionSpec(None, "data"): each device holds B / n examples;
  tables    "replicated": every device holds whole tables, PartitionSpec();
            "rows": each device holds V / n rows, PartitionSpec("data", None).
The layouts are NamedShardings pinned on the state with sharding constraints,
so XLA's SPMD partitioner writes the collectives. Replicated tables: each
device gathers its examples' rows from its own copy, and the step's sparse
updates are all-gathered (`replicate`) so that every device applies all of
them. Row-sharded tables: each device gathers, for the whole batch, the rows
it owns, an all-reduce makes the gathered rows whole everywhere, and the
updates are all-gathered and each device adds those that fall in its rows.
docs/SCALING.md has the volumes (benchmarks/sharding.py reads them from the
compiled step). Nothing here computes on its own; one device is the mesh of
one, and gives the very same numbers as no mesh at all (tests/parallel_test.py).

Row sharding needs V divisible by n, so the tables are padded with zero rows to
a multiple of n. Row ids never reach the padding (ids, negatives and tree
nodes are all < V), so those rows stay zero; `strip_rows` removes them before
anything is exported. Checkpoints keep the padded tables, and a resumed run
must use the same --num_devices and --table_sharding anyway (checkpoint.py).

Several hosts: `initialize` calls jax.distributed.initialize, after which
jax.devices() lists every process's devices and the mesh spans them. Process
p of P reads only its slice of the id array (`corpus_shard`: contiguous
sentences, about N / P tokens) and makes batches of B / P examples from it
with a random stream of its own (pipeline.epoch_batches); `place_chunk` joins the
processes' [T, B / P] chunks into the global [T, B] one, each process's part
on its own devices. The slices yield slightly different numbers of batches,
so every epoch each process counts its own first and all run the largest
count, the short ones finishing with fully masked batches (`agree_max`). The
learning rate runs on the most advanced process's position: each passes its
own (its slice's fraction done, times N) per device, and the step takes the
maximum. With one process all of this is the plain single-process data path.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from w2v_jax import batches as batches_lib
from w2v_jax.output_layers import LAYERS
from w2v_jax.resolve import Resolved
from w2v_jax.errors import UserError

AXIS = "data"


def initialize(config) -> None:
  """Joins the processes of a multi-host run; before anything touches a device."""
  if config.num_processes == 1:
    return
  # The CPU backend has no cross-process collectives unless told to use gloo;
  # the setting does not touch the other backends.
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  try:
    jax.distributed.initialize(coordinator_address=config.coordinator_address,
                               num_processes=config.num_processes,
                               process_id=config.process_id)
  except (RuntimeError, ValueError) as e:
    raise UserError(f"jax.distributed.initialize failed for process {config.process_id} of "
                    f"{config.num_processes} at {config.coordinator_address} "
                    f"({str(e).splitlines()[0]})") from None


def make_mesh(config: Resolved) -> Mesh:
  """The 1-D mesh of the first --num_devices devices (resolved: -1 became all, on every host)."""
  available = jax.devices(config.platform)
  n = config.num_devices
  if n > len(available):
    hint = (" (on a CPU, XLA_FLAGS=--xla_force_host_platform_device_count=N set before the "
            "run starts simulates N devices)" if available[0].platform == "cpu" else "")
    raise UserError(f"--num_devices={n}, but JAX sees {len(available)} "
                    f"{available[0].platform} device(s){hint}")
  if jax.process_count() > 1 and n != len(available):
    raise UserError(f"--num_devices={n} leaves out devices of some processes; with several "
                    "processes pass --num_devices=-1")
  return Mesh(np.asarray(available[:n]), (AXIS,))


def row_multiple(config: Resolved, mesh: Mesh, vocab_size: int) -> int:
  """Tables are padded to a multiple of this many rows (1 unless row-sharded).

  Not for the full softmax, whose every step reads every output row: a zero
  row would join the normaliser with logit 0.
  """
  if config.table_sharding != "rows":
    return 1
  if LAYERS[config.loss].dense and vocab_size % mesh.size:
    raise UserError(f"--loss=softmax --table_sharding=rows needs a vocabulary divisible by the "
                    f"{mesh.size} devices, but it has {vocab_size} words: set --max_vocab to a "
                    f"multiple of {mesh.size}, or use --table_sharding=replicated")
  return mesh.size


def pad_rows(params: dict, multiple: int) -> dict:
  """Appends zero rows so that every table's row count is a multiple of `multiple`.

  A table that needs none is passed on as it is (jnp.pad would copy it).
  """
  return {name: jnp.pad(t, ((0, -t.shape[0] % multiple), (0, 0))) if t.shape[0] % multiple
          else t for name, t in params.items()}


def strip_rows(params: dict, vocab_size: int) -> dict:
  """The tables without pad_rows' padding: V rows, or V - 1 for the tree's nodes."""
  return {name: t[:vocab_size - 1 if name == "nodes" else vocab_size]
          for name, t in params.items()}


def everywhere(mesh: Mesh) -> NamedSharding:
  """Whole on every device of the mesh."""
  return NamedSharding(mesh, P())


def state_shardings(state, mesh: Mesh, table_sharding: str):
  """Where each leaf of the training state lives: tables per layout, the rest everywhere."""
  table = NamedSharding(mesh, P(AXIS, None)) if table_sharding == "rows" else everywhere(mesh)
  return jax.tree_util.tree_map(lambda _: everywhere(mesh), state).replace(
      params={name: table for name in state.params})


def replicate(mesh: Mesh, *arrays):
  """The arrays made whole on every device of the mesh (inside jit).

  Replicated tables: the step's sparse updates [N, D] (N = rows a batch
  touches) are computed where their examples are, then all-gathered, and each
  device scatter-adds all of them into its copy. Left to itself, XLA
  all-reduced both whole [V, D] tables every step instead: 12.6 GB against
  12.5 MB per device and step at V = 3M, D = 300 on 8 devices (docs/SCALING.md).
  """
  return jax.lax.with_sharding_constraint(arrays, everywhere(mesh))


def chunk_shardings(chunk: dict, mesh: Mesh) -> dict:
  """[T, B, ...] arrays split along B; per-step scalars ([T]: words_done) everywhere."""
  return {k: NamedSharding(mesh, P(None, AXIS)) if np.ndim(v) >= 2 else everywhere(mesh)
          for k, v in chunk.items()}


def corpus_shard(offsets, process: int, processes: int) -> tuple[int, int]:
  """Sentences [s0, s1) of process `process`: contiguous, about N / processes tokens."""
  n = int(offsets[-1])
  s0, s1 = (int(np.searchsorted(offsets, p * n // processes)) for p in (process, process + 1))
  if s1 <= s0:
    raise UserError(f"the corpus has too few sentences ({len(offsets) - 1}) to give each of "
                    f"{processes} processes its own")
  return s0, s1


def place_chunk(chunk: dict, mesh: Mesh) -> dict:
  """This process's [T, B / P, ...] chunk as its part of the global [T, B, ...] chunk.

  words_done [T] becomes [T, devices], this process's position on each of its
  devices (model.make_train_chunk takes the largest).
  """
  local = sum(d.process_index == jax.process_index() for d in mesh.devices.flat)
  chunk = dict(chunk, words_done=np.repeat(np.asarray(chunk["words_done"])[:, None], local, 1))
  sharding = NamedSharding(mesh, P(None, AXIS))
  return {k: jax.make_array_from_process_local_data(
              sharding, v, (v.shape[0], v.shape[1] * jax.process_count()) + v.shape[2:])
          for k, v in chunk.items()}


def count_examples(mesh: Mesh, model: str):
  """A compiled count of a global chunk's examples (batches.example_mask), on every process."""
  return jax.jit(lambda chunk: jnp.sum(batches_lib.example_mask(chunk, model), dtype=jnp.int32),
                 out_shardings=everywhere(mesh))


def agree_max(value: int) -> int:
  """The largest of every process's value (a small collective); the value itself alone."""
  if jax.process_count() == 1:
    return value
  return int(np.max(multihost_utils.process_allgather(np.asarray(value))))


def place(tree, shardings):
  """Host (or single-device) arrays as global arrays with the given shardings.

  Each process builds only the slices its own devices hold, so with several
  hosts every process passes the same global values and none sends another's.
  In one process, jax.device_put: an array already laid out as asked (one
  device) is not copied. Going through the host here (as before) held a host
  copy and a new device copy of the tables beside the old one: at V = 1M,
  D = 100, ns peaked at 2.09 GiB instead of 1.42 (benchmarks/scaling.py).
  """
  if jax.process_count() == 1:
    return jax.device_put(tree, shardings)

  def one(x, sharding):
    host = np.asarray(x)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])
  return jax.tree_util.tree_map(one, tree, shardings)


def to_host(tree):
  """NumPy copies of (possibly sharded, possibly multi-host) arrays, whole on every process."""
  if jax.process_count() == 1:
    return jax.device_get(tree)
  return multihost_utils.process_allgather(tree, tiled=True)
