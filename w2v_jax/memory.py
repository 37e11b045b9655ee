"""What a run will hold in memory, estimated before its tables are allocated.

The estimate counts what grows with the vocabulary, the dimension and the
corpus, in bytes:
  tables      the float32 tables: emb_in [V, D] and the output layer's
              (output_layers.py: emb_out [V, D] or nodes [V - 1, D])
  optimizer   per-row optimizer state: none, plain SGD keeps a step count
              and the learning rate (model.TrainState)
  corpus_ids  the encoded corpus, int32 per token, memory-mapped
  batches     the host chunks in flight: the prefetch queue
              (pipeline.prefetch_depth), the one being made and the one being
              trained on (pipeline.chunk_bytes each)
  batch_maker the examples of one chunk of the corpus while they are made and
              shuffled: batches.maker_bytes, which the batch maker owns
  rows        the rows one step gathers, their gradients and updates:
              B (output rows + context slots) x D, the output rows per example
              being the layer's rows_per_example
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
from w2v_jax import losses
from w2v_jax import pipeline
from w2v_jax.errors import UserError
from w2v_jax.output_layers import LAYERS
from w2v_jax.resolve import Resolved

GIB = 1 << 30


def estimate(config: Resolved, vocab_size: int, tokens: int) -> dict:
  """Bytes per item (module docstring) for this config on a V-word, N-token corpus."""
  v, d, b = vocab_size, config.dim, config.batch_size
  layer = LAYERS[config.loss]
  # Output rows, then context slots, per example.
  gathered = layer.rows_per_example(config) + pipeline.row_slots(config)
  return {
      "tables": 4 * d * (v + layer.table_rows(v)),
      "batch_maker": batches_lib.maker_bytes(
          config.batch_rows, min(batches_lib.CHUNK_TOKENS, tokens), config.window,
          config.shrink_window, config.shuffle, config.path_buckets > 1),
      "optimizer": 0,
      "corpus_ids": 4 * tokens,
      "batches": (pipeline.prefetch_depth(config) + 2) * pipeline.chunk_bytes(config),
      "rows": 3 * 4 * b * gathered * d,
      "softmax": (4 * v * d + 3 * 4 * b * min(v, losses.SOFTMAX_BLOCK_ROWS)
                  if layer.dense else 0),
  }


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
