"""What a run will hold in memory, estimated before its tables are allocated.

The estimate counts what grows with the vocabulary, the dimension and the
corpus, in bytes:
  tables      the float32 tables: emb_in [V, D] and emb_out [V, D] (softmax,
              ns, nce) or nodes [V - 1, D] (hs)
  optimizer   per-row optimizer state: none, plain SGD keeps a step count
              and the learning rate (model.init_state)
  corpus_ids  the encoded corpus, int32 per token, memory-mapped
  batches     the host chunks in flight: the prefetch queue (prefetch_depth),
              the one being made and the one being trained on
  batch_maker the examples of one chunk of the corpus (batches.CHUNK_TOKENS
              tokens) while they are made and shuffled: per token of a piece
              (batches.PIECE_TOKENS) its 2W context slots and their masks,
              and per example its ids (plus an int32 position with shuffle;
              batches are gathered from them as they are yielded)
  rows        the rows one step gathers, their gradients and updates:
              B (K + 1 + context slots) x D for ns and nce, B (L + slots) x D for hs
              (L counted as 40, a deep Huffman path), B x slots x D for softmax
  softmax     the full softmax's dense [V, D] gradient of emb_out, and the
              logits, probabilities and gradient of one block of output rows
              [B, min(V, losses.SOFTMAX_BLOCK_ROWS)]
The tables live on the device; the host needs one more copy of them while a
checkpoint or the outputs are written. On a CPU the device is the host. On
several devices (`needs`) the step's terms split across them, and so do the
tables when row-sharded; replicated tables are whole on every device.
Compiled-program buffers and Python itself are not counted, so the estimate is
a lower bound; a run that does not fit it is refused, with the flags that
shrink the largest term.
"""

import os

from w2v_jax import batches as batches_lib
from w2v_jax.output_layers import LAYERS
from w2v_jax.resolve import Resolved
from w2v_jax import losses
from w2v_jax.errors import UserError

# The prefetch queue holds up to this many bytes of chunks (at least 3 chunks):
# enough for the batches of one corpus chunk (batches.CHUNK_TOKENS tokens), so
# that the batch maker works a corpus chunk ahead. It makes a corpus chunk's
# examples in one burst (0.1-0.5 s) before cutting any batch from them; with a
# queue of 3 calls (~4 ms of skip-gram-HS steps) the step waited for it a
# quarter of the time (docs/log/SPEED.md).
PREFETCH_BYTES = 32 << 20
GIB = 1 << 30


def _slots(config: Resolved) -> int:
  """Context slots per batch row (config.batch_rows)."""
  return {"pairs": 1, "cbow": 2 * config.window,
          "centres": config.window}[config.batch_rows]


def chunk_bytes(config: Resolved) -> int:
  """Host bytes of one compiled call's chunk of batches."""
  slots = _slots(config)
  example_bytes = 4 + 4 * slots + slots + 1  # centre, context ids, context mask, row mask
  return config.steps_per_call * config.batch_size * example_bytes


def prefetch_depth(config: Resolved) -> int:
  """Chunks the prefetch queue may hold (PREFETCH_BYTES, at least 3)."""
  return max(3, PREFETCH_BYTES // chunk_bytes(config))


def estimate(config: Resolved, vocab_size: int, tokens: int) -> dict:
  """Bytes per item (module docstring) for this config on a V-word, N-token corpus."""
  v, d, b = vocab_size, config.dim, config.batch_size
  layer = LAYERS[config.loss]
  slots = _slots(config)
  gathered = layer.rows_per_example(config) + slots  # output rows, then context slots
  return {
      "tables": 4 * d * (v + layer.table_rows(v)),
      "batch_maker": _batch_maker(config, tokens),
      "optimizer": 0,
      "corpus_ids": 4 * tokens,
      "batches": (prefetch_depth(config) + 2) * chunk_bytes(config),
      "rows": 3 * 4 * b * gathered * d,
      "softmax": (4 * v * d + 3 * 4 * b * min(v, losses.SOFTMAX_BLOCK_ROWS)
                  if layer.dense else 0),
  }


def _batch_maker(config: Resolved, tokens: int) -> int:
  """Bytes batches.iterate_epoch holds for one chunk (module docstring); no subsampling."""
  chunk, w = min(batches_lib.CHUNK_TOKENS, tokens), config.window
  # The windows of one piece (batches.PIECE_TOKENS): int32 ids, a bool mask and
  # a bool temporary per slot, and by centre int32 index arrays.
  piece = min(batches_lib.PIECE_TOKENS, chunk) * 2 * w
  order = 4 if config.shuffle else 0  # an int32 position per example
  kind = config.batch_rows
  # The examples, plus their largest array once more while the pieces are joined.
  if kind == "pairs":
    pairs = chunk * (w + 1 if config.shrink_window else 2 * w)  # 2 E[half-width] per centre
    return piece * 6 + pairs * (8 + 4 + order)
  if kind == "cbow":
    return piece * 6 + chunk * (4 + 5 * 2 * w + 4 * 2 * w + order)
  # Up to 2 rows of W per centre, and with path buckets each bucket's positions
  # and rows (int32).
  buckets = 8 if config.path_buckets > 1 else 0
  return piece * (6 + 8) + 2 * chunk * (4 + 5 * w + 4 * w + order + buckets)


def needs(est: dict, device_is_host: bool, devices: int = 1,
          rows_sharded: bool = False) -> tuple[int, int]:
  """(host bytes, bytes per device) the run needs; on a CPU both are the host's.

  On `devices` devices (parallel.py) each holds 1/devices of a step's examples
  and, with row-sharded tables, of the tables; replicated tables are whole on
  each. Simulated CPU devices all live in the host's memory.
  """
  host = (est["corpus_ids"] + est["batches"] + est["batch_maker"]
          + est["tables"])  # the host copy of the tables
  tables = est["tables"] // devices if rows_sharded else est["tables"]
  placed = 0 if device_is_host else est["batches"]  # the queued chunks, on the device
  device = (tables + est["optimizer"]
            + (est["rows"] + est["softmax"] + placed) // devices)
  return (host + devices * device, 0) if device_is_host else (host, device)


def available_host() -> int | None:
  """MemAvailable from /proc/meminfo (Linux), else free physical pages, else None."""
  try:
    with open("/proc/meminfo") as f:
      for line in f:
        if line.startswith("MemAvailable:"):
          return int(line.split()[1]) * 1024
  except (OSError, ValueError, IndexError):
    pass
  try:
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
  except (ValueError, OSError, AttributeError):
    return None


def available_device(device) -> int | None:
  """Free bytes on an accelerator from its memory_stats(), None where it has none (CPU)."""
  try:
    stats = device.memory_stats()
  except Exception:  # pylint: disable=broad-except  # backends without the call raise various
    return None
  if not stats or "bytes_limit" not in stats:
    return None
  return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))


def format_bytes(n: float) -> str:
  for unit, scale in (("TiB", 1 << 40), ("GiB", GIB), ("MiB", 1 << 20), ("KiB", 1 << 10)):
    if n >= scale:
      return f"{n / scale:.1f} {unit}"
  return f"{int(n)} B"


def describe(est: dict) -> str:
  return ", ".join(f"{k.replace('_', ' ')} {format_bytes(v)}" for k, v in est.items() if v)


_ADVICE = {
    "tables": "raise --min_count, set --max_vocab or lower --dim",
    "corpus_ids": "train on a smaller corpus or raise --min_count",
    "batches": "lower --steps_per_call or --batch_size",
    "batch_maker": "lower --window",
    "rows": "lower --batch_size or --dim",
    "softmax": "use --loss=ns or --loss=hs, or set --max_vocab",
}


def check(est: dict, device_is_host: bool, host_free: int | None,
          device_free: int | None, devices: int = 1, rows_sharded: bool = False) -> None:
  """Refuses a run whose estimate exceeds the free host or device memory."""
  host, device = needs(est, device_is_host, devices, rows_sharded)
  largest = max(_ADVICE, key=est.get)
  for where, need, free in (("host", host, host_free), ("device", device, device_free)):
    if free is not None and need > free:
      raise UserError(
          f"this run needs at least {format_bytes(need)} of {where} memory ({describe(est)}) "
          f"but {format_bytes(free)} is free; the largest part is "
          f"{largest.replace('_', ' ')}: {_ADVICE[largest]}")
