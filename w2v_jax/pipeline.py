"""The data pipeline: corpus -> tables -> epoch -> chunks -> processes -> devices.

  prepare_data      the encoded corpus (corpus.py) and what the loss samples
                    from: subsampling keep probabilities, the noise
                    distribution (ns, nce), the Huffman tree and its path
                    buckets (hs)
  epoch_batches     one epoch's fixed-shape batches (batches.py), or of several
                    processes, one process's share
  grouped_batches   those batches, made in blocks of many (batches.iterate_blocks),
                    grouped into Chunks of steps_per_call steps, one compiled
                    call each, with their global schedule position
  process_chunks    with several processes, padded to the same count in each
  placed_chunks     on the mesh's devices (parallel.place_chunk)
  prefetch          all of the above in a background thread, so that making
                    batches overlaps training
  describe          --mode=data: what the pipeline finds, without training
A Chunk keeps apart what the compiled step reads (`arrays`) and what only the
host needs (examples, progress, the static path slots of a bucket).
"""

import dataclasses
import functools
import logging
import queue
import threading
import time
from typing import Optional

import jax
import numpy as np

from w2v_jax import batches as batches_lib
from w2v_jax import corpus as corpus_lib
from w2v_jax import datasets
from w2v_jax import huffman
from w2v_jax import parallel
from w2v_jax import sampling
from w2v_jax.errors import UserError
from w2v_jax.output_layers import LAYERS
from w2v_jax.resolve import Resolved

# The prefetch queue holds up to this many bytes of chunks (at least 3 chunks):
# enough for the batches of one corpus chunk (batches.CHUNK_TOKENS tokens), so
# that the batch maker works a corpus chunk ahead. It makes a corpus chunk's
# examples in one burst (0.1-0.5 s) before cutting any batch from them; with a
# queue of 3 calls (~4 ms of skip-gram-HS steps) the step waited for it a
# quarter of the time (docs/log/SPEED.md).
PREFETCH_BYTES = 32 << 20

NO_EXAMPLES = ("no training examples: every sentence has a single word after min_count and "
               "subsampling; use a corpus with longer lines")


@dataclasses.dataclass(frozen=True)
class Data:
  corpus: corpus_lib.Corpus
  keep_V: np.ndarray                    # subsampling keep probability per word
  noise_V: Optional[np.ndarray]         # noise distribution (loss=ns, nce)
  tree: Optional[huffman.HuffmanTree]   # Huffman tree (loss=hs)
  # loss=hs with --path_buckets > 1: each bucket's path slots (ascending, the
  # last the longest code) and each word's bucket; () and None otherwise.
  path_bounds: tuple = ()
  bucket_V: Optional[np.ndarray] = None


def prepare_data(config: Resolved) -> Data:
  corpus = corpus_lib.load(
      datasets.resolve(config), lowercase=config.lowercase,
      max_sentence_length=config.max_sentence_length, min_count=config.min_count,
      max_vocab=config.max_vocab, cache_dir=config.cache_dir)
  corpus_lib.report(corpus.stats)
  counts_V = corpus.vocab.counts
  keep_V = sampling.keep_probabilities(counts_V, config.sample, config.subsample_formula)
  noise_V = (sampling.noise_distribution(counts_V, config.ns_exponent)
             if LAYERS[config.loss].needs_noise else None)
  tree = huffman.build(counts_V) if LAYERS[config.loss].needs_tree else None
  buckets = config.path_buckets if tree is not None else 1
  bounds = huffman.bucket_bounds(tree.lengths_V, counts_V * keep_V, buckets) if buckets > 1 else ()
  path_bounds = bounds if len(bounds) > 1 else ()  # one bucket: the longest code, as without
  bucket_V = (np.searchsorted(np.asarray(path_bounds), tree.lengths_V).astype(np.int32)
              if path_bounds else None)
  return Data(corpus=corpus, keep_V=keep_V, noise_V=noise_V, tree=tree,
              path_bounds=path_bounds, bucket_V=bucket_V)


def epoch_batches(config: Resolved, data: Data, epoch: int, process: int = 0,
                  processes: int = 1, group: int = 0):
  """The epoch's batches, or of several processes, process `process`'s share; with
  `group`, as blocks of up to that many (batches.iterate_blocks).

  A share (parallel.py) is B / processes examples per batch, from the
  process's own slice of the corpus, with a random stream of its own. Batches
  are bucketed by path length (data.bucket_V) only in one process: processes
  must train the same shapes at every call.
  """
  ids_N, offsets = data.corpus.ids, data.corpus.offsets
  stream = ()
  if processes > 1:
    s0, s1 = parallel.corpus_shard(offsets, process, processes)
    ids_N, offsets = ids_N[offsets[s0]:offsets[s1]], offsets[s0:s1 + 1] - offsets[s0]
    stream = (process,)
  make = (functools.partial(batches_lib.iterate_blocks, group=group) if group
          else batches_lib.iterate_epoch)
  return make(
      ids_N, offsets, data.keep_V, model=config.model,
      window=config.window, shrink_window=config.shrink_window,
      batch_size=config.batch_size // processes, seed=config.seed, epoch=epoch,
      shuffle=config.shuffle, stream=stream, layout=config.skipgram_layout,
      bucket_V=data.bucket_V if processes == 1 else None)


def describe(config: Resolved) -> dict:
  """Builds the data pipeline, makes one epoch of batches, reports what it found."""
  start = time.time()
  data = prepare_data(config)
  prepared = time.time() - start
  corpus, counts_V = data.corpus, data.corpus.vocab.counts
  summary = {k: corpus.stats[k] for k in
             ("tokens", "lines", "sentences", "split_lines", "invalid_bytes", "unique_words",
              "vocab_size", "vocab_tokens", "vocab_sentences", "cache")}
  summary["coverage"] = corpus.stats["vocab_tokens"] / corpus.stats["tokens"]
  summary["expected_kept_fraction"] = float((data.keep_V * counts_V).sum() / counts_V.sum())
  if data.tree is not None:
    summary["max_code_length"] = int(data.tree.lengths_V.max())
    summary["mean_code_length"] = float((data.tree.lengths_V * counts_V).sum() / counts_V.sum())
    kept_V = data.keep_V * counts_V  # the code length of a centre that survives subsampling
    summary["kept_mean_code_length"] = float((data.tree.lengths_V * kept_V).sum() / kept_V.sum())
  start = time.time()
  examples = num_batches = rows = slots = 0
  for batch in epoch_batches(config, data, epoch=0):
    examples += int(batches_lib.example_mask(batch, config.model).sum())
    num_batches += 1
    rows_here = int(batch["mask"].sum())
    rows += rows_here
    slots += rows_here * (batch["context"].shape[1] if batch["context"].ndim == 2 else 1)
  seconds = time.time() - start
  filled = round(examples / max(slots, 1), 4) if config.model == "skipgram" else None
  summary.update(prepare_seconds=round(prepared, 3), epoch_examples=examples,
                 epoch_batches=num_batches, epoch_rows=rows, context_slots_filled=filled,
                 batch_seconds=round(seconds, 3),
                 batch_tokens_per_second=round(corpus.stats["vocab_tokens"] / max(seconds, 1e-9)))
  if examples == 0:
    raise UserError(NO_EXAMPLES)
  logging.info(
      "corpus: %d tokens in %d sentences; vocabulary: %d words covering %.2f%% of tokens; "
      "subsampling keeps %.1f%% of tokens",
      summary["tokens"], summary["sentences"], summary["vocab_size"],
      100 * summary["coverage"], 100 * summary["expected_kept_fraction"])
  logging.info("one epoch: %d %s examples in %d batches of %d, generated in %.2f s "
               "(%.2fM corpus tokens/s)", examples, config.model, num_batches,
               config.batch_size, seconds, summary["batch_tokens_per_second"] / 1e6)
  if config.batch_rows == "centres":
    logging.info("by centre: %d rows, %.1f%% of their context slots hold a word",
                 rows, 100 * summary["context_slots_filled"])
  return summary

@dataclasses.dataclass(frozen=True)
class Chunk:
  """One compiled call's batches (grouped_batches)."""
  arrays: dict       # [T, B, ...] batches and words_done [T] (float32): what the step reads
  examples: int      # training examples in it (batches.example_mask)
  words_done: float  # global raw words done at its last step (the progress shown)
  kept_done: int     # tokens kept by subsampling up to its last batch, this epoch
  path_slots: Optional[int] = None  # hs path buckets: its bucket's path slots (static)


def grouped_batches(config: Resolved, data: Data, epoch: int, process: int = 0,
                    processes: int = 1):
  """Yields the epoch's Chunks of [T, B] arrays; words_done made global.

  Of several processes, words_done is this process's fraction of its slice
  done, times the corpus's N: each process's estimate of the global position.
  With path buckets, a chunk holds batches of one bucket and its path_slots
  say how many path slots its steps need; a chunk is emitted when
  its bucket has T batches, so the chunks of a bucket with fewer rows lag a
  little behind in the corpus (each step's learning rate is its own batch's).
  """
  n = data.corpus.stats["vocab_tokens"]
  offsets = data.corpus.offsets
  s0, s1 = parallel.corpus_shard(offsets, process, processes) if processes > 1 else (0, -1)
  shard = int(offsets[s1] - offsets[s0])
  steps = config.steps_per_call
  blocks = epoch_batches(config, data, epoch, process, processes, group=steps)
  for bucket, arrays in batches_lib.group_blocks(blocks, steps):
    kept_done = int(arrays.pop("kept_done")[-1])
    done = arrays["words_done"] if shard == n else arrays["words_done"] * (n / shard)
    arrays["words_done"] = (epoch * n + done).astype(np.float32)
    yield Chunk(arrays, examples=int(batches_lib.example_mask(arrays, config.model).sum()),
                words_done=arrays["words_done"][-1], kept_done=kept_done,
                path_slots=None if bucket is None else data.path_bounds[bucket])


def process_chunks(config: Resolved, data: Data, epoch: int, process: int = 0,
                   processes: int = 1, most: Optional[int] = None):
  """Process `process`'s grouped chunks of the epoch, as many as any other process has.

  With several processes, each counts its chunks first (making its batches
  once more) and agrees on the largest count (`most`) with the others; a
  process with fewer ends with fully masked chunks, which change nothing. Call
  it from the main thread: the agreement is a collective.
  """
  chunks = grouped_batches(config, data, epoch, process, processes)
  if processes == 1:
    return chunks
  mine = sum(1 for _ in grouped_batches(config, data, epoch, process, processes))
  most = parallel.agree_max(mine) if most is None else most
  if mine == 0 and most:
    raise UserError(f"process {process}'s slice of the corpus makes no training examples; "
                    "use fewer processes or a larger corpus")

  def padded():
    last = None
    for last in chunks:
      yield last
    for _ in range(most - mine):
      yield dataclasses.replace(last, examples=0, arrays=dict(
          {k: np.zeros_like(v) for k, v in last.arrays.items()},
          words_done=last.arrays["words_done"]))
  return padded()


def epoch_chunks(config: Resolved, data: Data, epoch: int):
  """This process's chunks of the epoch: process_chunks for JAX's process index and count."""
  return process_chunks(config, data, epoch, jax.process_index(), jax.process_count())


def joined_process_chunks(config: Resolved, data: Data, epoch: int, processes: int):
  """What `processes` processes feed a step together, as one process's chunks.

  Each process's chunks (process_chunks), joined along B as place_chunk
  joins them across processes, with the most advanced position, which is the
  one the step takes. One process training on these computes what a run of
  that many processes computes, without their network: how
  experiments/devices_quality.py measures the quality of a multi-host run on
  one machine, and what tests/parallel_test.py holds a real two-process run to.
  """
  most = max(sum(1 for _ in grouped_batches(config, data, epoch, p, processes))
             for p in range(processes))
  for chunks in zip(*(process_chunks(config, data, epoch, p, processes, most)
                      for p in range(processes))):
    arrays = {k: np.concatenate([c.arrays[k] for c in chunks], axis=1)
              for k in chunks[0].arrays if k != "words_done"}
    arrays["words_done"] = np.max([c.arrays["words_done"] for c in chunks], axis=0)
    yield Chunk(arrays, examples=sum(c.examples for c in chunks),
                words_done=arrays["words_done"][-1],
                kept_done=sum(c.kept_done for c in chunks))


def placed_chunks(chunks, mesh):
  """Each chunk with its arrays on the mesh's devices (parallel.place_chunk).

  Run inside `prefetch`, so the host-to-device copy overlaps training too.
  """
  for chunk in chunks:
    yield dataclasses.replace(chunk, arrays=parallel.place_chunk(chunk.arrays, mesh))


def row_slots(config: Resolved) -> int:
  """Context slots per batch row (config.batch_rows)."""
  return {"pairs": 1, "cbow": 2 * config.window,
          "centres": config.window}[config.batch_rows]


def chunk_bytes(config: Resolved) -> int:
  """Host bytes of one Chunk's arrays (memory.py counts those in flight)."""
  slots = row_slots(config)
  example_bytes = 4 + 4 * slots + slots + 1  # centre, context ids, context mask, row mask
  return config.steps_per_call * config.batch_size * example_bytes


def prefetch_depth(config: Resolved) -> int:
  """Chunks the prefetch queue may hold (PREFETCH_BYTES, at least 3)."""
  return max(3, PREFETCH_BYTES // chunk_bytes(config))


def prefetch(iterator, depth: int = 3):
  """Runs a generator in a background thread so batch making overlaps training.

  Closing the returned generator (a loop left early: Ctrl-C, divergence)
  stops the thread after the item it is making instead of leaving it blocked
  on a full queue, and waits for it.
  """
  q = queue.Queue(maxsize=depth)
  done = object()
  stop = threading.Event()

  def put(item) -> bool:
    while not stop.is_set():
      try:
        q.put(item, timeout=0.1)
        return True
      except queue.Full:
        pass
    return False

  def worker():
    try:
      for item in iterator:
        if not put(item):
          return
    except BaseException as e:  # pylint: disable=broad-except
      put(e)
      return
    put(done)

  thread = threading.Thread(target=worker, daemon=True)
  thread.start()
  try:
    while True:
      item = q.get()
      if item is done:
        return
      if isinstance(item, BaseException):
        raise item
      yield item
  finally:
    stop.set()
    # Waits for the item in the making: a thread still inside JAX (placing a
    # chunk on the devices) when the interpreter exits aborts the process.
    thread.join(timeout=60)


def check_inputs(config: Resolved, corpus: corpus_lib.Corpus) -> None:
  """Refuses, before anything is trained or written, a corpus that makes no pairs at all.

  Only sentences of a single word (after --min_count) make none. A window wider
  than a sentence is no mistake: as in word2vec.c and gensim, the centre then
  sees the whole sentence (batches.context_windows stops at its ends).
  """
  longest = int(np.diff(corpus.offsets).max())
  if longest < 2:
    raise UserError(NO_EXAMPLES)
