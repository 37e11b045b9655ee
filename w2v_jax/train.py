"""The training loop: data -> compiled chunks of steps -> tables -> files.

`train(config)` trains one model and writes, in config.workdir:
  vectors.bin   emb_in in word2vec.c's binary format
  vocab.txt     `word count` per line
  params.npz    every table plus the vocabulary
  config.json   the run record: resolved configuration, seed, package
                versions, git commit, devices (written once the inputs are
                checked, so a refused run changes nothing in the workdir)
  metrics.jsonl one JSON object per progress line and per epoch
  tensorboard/  the same as TensorBoard event files (--tensorboard)
  summary.json  training time, words/s (also after compilation), final loss
  eval.json     the evaluation (evaluate.py)
and, while it runs, checkpoint.npz (checkpoint.py): every
--checkpoint_every_secs, at each epoch end and on Ctrl-C. The checkpoint is
deleted once the outputs are written.

With --sweep=FIELD=V1,V2,... (sweep.py) one compiled program trains every
variant; each gets the files above in WORKDIR/FIELD=V, and WORKDIR/config.json
and summary.json describe the whole sweep. A sweep keeps no checkpoint.

A non-finite loss stops the run at the first compiled call that has one (its
losses are read one call late, so that reading them does not stall the
device), before that call's tables are checkpointed or exported: the last good
checkpoint and any earlier outputs stay as they were.
"""

import contextlib
import dataclasses
import itertools
import json
import logging
import os
import queue
import signal
import threading
import time
from typing import Optional

import jax
import numpy as np

from w2v_jax import batches as batches_lib
from w2v_jax import checkpoint
from w2v_jax import config as config_lib
from w2v_jax import corpus as corpus_lib
from w2v_jax import datasets
from w2v_jax import evaluate
from w2v_jax import export
from w2v_jax import files
from w2v_jax import gensim_data
from w2v_jax import huffman
from w2v_jax import memory
from w2v_jax import model as model_lib
from w2v_jax import parallel
from w2v_jax import record
from w2v_jax import sampling
from w2v_jax import sweep as sweep_lib
from w2v_jax import vocab as vocab_lib
from w2v_jax import word2vec_format
from w2v_jax.errors import Interrupted
from w2v_jax.errors import UserError


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


def prepare_data(config: config_lib.Config) -> Data:
  cache_dir = config_lib.cache_dir(config)
  corpus = corpus_lib.load(
      datasets.resolve(config), lowercase=config.lowercase,
      max_sentence_length=config.max_sentence_length, min_count=config.min_count,
      max_vocab=config.max_vocab, cache_dir=cache_dir)
  corpus_lib.report(corpus.stats)
  counts_V = corpus.vocab.counts
  keep_V = sampling.keep_probabilities(counts_V, config.sample, config.subsample_formula)
  noise_V = (sampling.noise_distribution(counts_V, config.ns_exponent)
             if config.loss in config_lib.SAMPLED_LOSSES else None)
  tree = huffman.build(counts_V) if config.loss == "hs" else None
  buckets = config_lib.path_buckets(config) if tree is not None else 1
  bounds = huffman.bucket_bounds(tree.lengths_V, counts_V * keep_V, buckets) if buckets > 1 else ()
  path_bounds = bounds if len(bounds) > 1 else ()  # one bucket: the longest code, as without
  bucket_V = (np.searchsorted(np.asarray(path_bounds), tree.lengths_V).astype(np.int32)
              if path_bounds else None)
  return Data(corpus=corpus, keep_V=keep_V, noise_V=noise_V, tree=tree,
              path_bounds=path_bounds, bucket_V=bucket_V)


def epoch_batches(config: config_lib.Config, data: Data, epoch: int, process: int = 0,
                  processes: int = 1):
  """The epoch's batches, or of several processes, process `process`'s share.

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
  return batches_lib.iterate_epoch(
      ids_N, offsets, data.keep_V, model=config.model,
      window=config.window, shrink_window=config.shrink_window,
      batch_size=config_lib.batch_size(config) // processes, seed=config.seed, epoch=epoch,
      shuffle=config.shuffle, stream=stream, layout=config_lib.skipgram_layout(config),
      bucket_V=data.bucket_V if processes == 1 else None)


def describe(config: config_lib.Config) -> dict:
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
               config_lib.batch_size(config), seconds, summary["batch_tokens_per_second"] / 1e6)
  if config_lib.batch_rows(config) == "centres":
    logging.info("by centre: %d rows, %.1f%% of their context slots hold a word",
                 rows, 100 * summary["context_slots_filled"])
  return summary


def grouped_batches(config: config_lib.Config, data: Data, epoch: int, process: int = 0,
                    processes: int = 1):
  """Yields (chunk of [T, B] arrays, examples in it); words_done made global.

  Of several processes, words_done is this process's fraction of its slice
  done, times the corpus's N: each process's estimate of the global position.
  With path buckets, a chunk holds batches of one bucket and its "path_slots"
  (an int) says how many path slots its steps need; a chunk is emitted when
  its bucket has T batches, so the chunks of a bucket with fewer rows lag a
  little behind in the corpus (each step's learning rate is its own batch's).
  """
  n = data.corpus.stats["vocab_tokens"]
  offsets = data.corpus.offsets
  s0, s1 = parallel.corpus_shard(offsets, process, processes) if processes > 1 else (0, -1)
  shard = int(offsets[s1] - offsets[s0])
  pending = {}  # bucket (None without buckets) -> batches
  steps = config_lib.steps_per_call(config)
  def emit(bucket):
    chunk = batches_lib.stack(pending.pop(bucket), steps)
    examples = int(batches_lib.example_mask(chunk, config.model).sum())
    chunk["kept_done"] = int(chunk["kept_done"][-1])
    done = chunk["words_done"] if shard == n else chunk["words_done"] * (n / shard)
    chunk["words_done"] = (epoch * n + done).astype(np.float32)
    if bucket is not None:
      chunk["path_slots"] = data.path_bounds[bucket]
    return chunk, examples
  for batch in epoch_batches(config, data, epoch, process, processes):
    bucket = batch.pop("bucket", None)
    pending.setdefault(bucket, []).append(batch)
    if len(pending[bucket]) == steps:
      yield emit(bucket)
  for bucket in list(pending):
    yield emit(bucket)


def process_chunks(config: config_lib.Config, data: Data, epoch: int, process: int = 0,
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
    chunk, _ = last
    for _ in range(most - mine):
      yield dict({k: np.zeros_like(v) for k, v in chunk.items() if k != "kept_done"},
                 words_done=chunk["words_done"], kept_done=chunk["kept_done"]), 0
  return padded()


def epoch_chunks(config: config_lib.Config, data: Data, epoch: int):
  """This process's chunks of the epoch: process_chunks for JAX's process index and count."""
  return process_chunks(config, data, epoch, jax.process_index(), jax.process_count())


def joined_process_chunks(config: config_lib.Config, data: Data, epoch: int, processes: int):
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
  for parts in zip(*(process_chunks(config, data, epoch, p, processes, most)
                     for p in range(processes))):
    chunks = [chunk for chunk, _ in parts]
    joined = {k: np.concatenate([c[k] for c in chunks], axis=1) for k in chunks[0]
              if k not in ("words_done", "kept_done")}
    joined["words_done"] = np.max([c["words_done"] for c in chunks], axis=0)
    joined["kept_done"] = sum(c["kept_done"] for c in chunks)
    yield joined, sum(examples for _, examples in parts)


def placed_chunks(chunks, mesh):
  """(chunk on the mesh's devices, examples, words done, kept done, path slots or
  None) per grouped chunk.

  Run inside `prefetch`, so the host-to-device copy overlaps training too.
  """
  for chunk, examples in chunks:
    chunk = dict(chunk)
    kept_done = chunk.pop("kept_done")  # host-side progress only
    path_slots = chunk.pop("path_slots", None)  # static: the step's shape
    words_done = chunk["words_done"][-1]
    yield parallel.place_chunk(chunk, mesh), examples, words_done, kept_done, path_slots


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


def _fmt_secs(secs: float) -> str:
  secs = int(max(secs, 0))
  return f"{secs // 3600}h{secs % 3600 // 60:02d}m" if secs >= 3600 else f"{secs // 60}m{secs % 60:02d}s"


class Progress:
  """Loss sums in float64 on the host; a line every few seconds and per epoch.

  `counters()` is what a checkpoint keeps; `saved` (a checkpoint's meta)
  restores them and cuts metrics.jsonl back to its size at that checkpoint,
  so a resumed run's metrics read as if it had never stopped.
  """
  COUNTERS = ("words", "epoch_kept", "kept_total", "epoch_loss", "epoch_examples",
              "window_loss", "window_examples", "lr", "epoch")

  def __init__(self, config, total_words: int, metrics_path: str, saved: Optional[dict] = None,
               label: str = ""):
    self.config, self.total_words = config, total_words
    self.label = label  # a --sweep variant's FIELD=V, opening its log lines
    self.start = self.last_log = time.time()
    self.words = 0          # global raw words done
    self.epoch_kept = 0
    self.kept_total = 0
    self.epoch_loss = self.epoch_examples = 0.0
    self.window_loss = self.window_examples = 0.0
    self.lr = float("nan")
    self.epoch = 0
    if saved:
      for name in self.COUNTERS:
        setattr(self, name, saved["progress"][name])
      self.start -= saved["progress"]["elapsed_s"]
    self.metrics = _open_metrics(metrics_path, saved["metrics_bytes"] if saved else None)
    self.writer = None
    if config.tensorboard:
      import tensorboardX  # pylint: disable=import-outside-toplevel
      # purge_step: TensorBoard hides what a killed run logged after the checkpoint.
      self.writer = tensorboardX.SummaryWriter(
          os.path.join(config.workdir, "tensorboard"),
          purge_step=int(self.words) + 1 if saved else None)

  def counters(self) -> dict:
    return dict({name: getattr(self, name) for name in self.COUNTERS},
                elapsed_s=time.time() - self.start)

  def metrics_bytes(self) -> int:
    self.metrics.flush()
    return self.metrics.tell()

  def close(self):
    self.metrics.close()
    if self.writer is not None:
      self.writer.close()

  def new_epoch(self, epoch: int):
    self.kept_total += self.epoch_kept
    self.epoch, self.epoch_kept = epoch, 0
    self.epoch_loss = self.epoch_examples = 0.0

  def update(self, loss_T, lr_T, examples: int, words_done: float, kept_done: int):
    loss = float(np.sum(np.asarray(loss_T, dtype=np.float64)))
    self.epoch_loss += loss
    self.window_loss += loss
    self.epoch_examples += examples
    self.window_examples += examples
    self.lr = float(np.asarray(lr_T)[-1])
    self.words = max(self.words, float(words_done))  # a lagging path bucket's chunk
    self.epoch_kept = kept_done
    if time.time() - self.last_log >= self.config.log_every_secs:
      self.log()

  def record(self, kind: str) -> dict:
    elapsed = max(time.time() - self.start, 1e-9)
    rate = self.words / elapsed
    epoch_loss = self.epoch_loss / max(self.epoch_examples, 1)
    return {"kind": kind, "epoch": self.epoch + 1, "elapsed_s": round(elapsed, 3),
            "progress": self.words / self.total_words, "words": int(self.words),
            "words_per_s": rate, "kept_words_per_s": (self.kept_total + self.epoch_kept) / elapsed,
            "lr": self.lr,
            "loss": (self.window_loss / self.window_examples if self.window_examples
                     else epoch_loss),  # nothing new since the last line
            "epoch_loss": epoch_loss,
            "eta_s": (self.total_words - self.words) / max(rate, 1e-9)}

  def log(self, kind: str = "progress"):
    r = self.record(kind)
    self.metrics.write(json.dumps(r) + "\n")
    self.metrics.flush()
    if self.writer is not None:
      step = int(self.words)  # raw corpus words: comparable across batch sizes
      names = ("epoch_loss",) if kind == "epoch" else ("loss", "lr", "words_per_s",
                                                       "kept_words_per_s", "progress")
      for name in names:
        self.writer.add_scalar(f"{kind}/{name}", r[name], step)
      if kind == "epoch":
        self.writer.flush()
    logging.info("%sepoch %d/%d %5.1f%% | %.0fk words/s (%.0fk after subsampling) | lr %.3g | "
                 "loss %.4f recent, %.4f epoch | ETA %s", self.label and self.label + " ",
                 r["epoch"], self.config.epochs,
                 100 * r["progress"], r["words_per_s"] / 1e3, r["kept_words_per_s"] / 1e3,
                 r["lr"], r["loss"], r["epoch_loss"], _fmt_secs(r["eta_s"]))
    self.last_log = time.time()
    self.window_loss = self.window_examples = 0.0
    return r


def _open_metrics(path: str, keep_bytes: Optional[int]):
  """metrics.jsonl for writing: new, or cut back to `keep_bytes` (a resumed run)."""
  if keep_bytes is None or not os.path.exists(path):
    return open(path, "w", encoding="utf-8")
  f = open(path, "r+", encoding="utf-8")
  f.truncate(min(keep_bytes, os.path.getsize(path)))
  f.seek(0, os.SEEK_END)
  return f


def check_inputs(config: config_lib.Config, corpus: corpus_lib.Corpus) -> None:
  """Refuses, before anything is trained or written, sentences no window can use."""
  longest = int(np.diff(corpus.offsets).max())
  if longest < 2:
    raise UserError(NO_EXAMPLES)
  if config.window >= longest:
    raise UserError(
        f"--window={config.window} reaches past every sentence (the longest has {longest} "
        f"words after --min_count): is the corpus one sentence a line? use --window below "
        f"{longest}")


def check_eval_files(config: config_lib.Config) -> None:
  """Reads the evaluation files now, so a wrong one is refused before training, not after."""
  if not config.evaluate:
    return
  evaluate.read_analogies(config.analogies or gensim_data.find(evaluate.ANALOGIES))
  for path in (config.ws353, config.simlex):
    if path:
      evaluate.read_word_pairs(path)


def check_memory(config: config_lib.Config, vocab_size: int, tokens: int, device,
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


class _StopRequest:
  """Set by the first Ctrl-C; the loop then checkpoints and stops."""
  requested = False


@contextlib.contextmanager
def _ctrl_c_checkpoints(enabled: bool = True):
  """Within: Ctrl-C asks the loop for a checkpoint and a clean stop; twice stops at once."""
  stop = _StopRequest()
  if not enabled or threading.current_thread() is not threading.main_thread():
    yield stop  # signal handlers can only be set from the main thread
    return

  def handler(signum, frame):  # pylint: disable=unused-argument
    if stop.requested:
      raise KeyboardInterrupt
    stop.requested = True
    logging.warning("Ctrl-C: writing a checkpoint after the current call (again to stop now)")

  previous = signal.signal(signal.SIGINT, handler)
  try:
    yield stop
  finally:
    signal.signal(signal.SIGINT, previous)


def _diverged(config, step, what, lr, epoch, last_good) -> UserError:
  kept = (f"the last good checkpoint (step {last_good}) is kept in "
          f"{checkpoint.path(config.workdir)}" if last_good is not None
          else "no checkpoint had been written yet")
  return UserError(
      f"training diverged at step {step} (epoch {epoch + 1}): {what} at learning rate "
      f"{lr:.4g} with batch size {config_lib.batch_size(config)}; {kept} and earlier outputs "
      "are untouched; lower --alpha or --batch_size and train in another --workdir")


def train(config: config_lib.Config) -> dict:
  """Trains one model and writes its outputs (module docstring). Returns a summary.

  Everything that can refuse the run (checkpoint in the workdir, evaluation
  files, corpus, window, memory) is checked before the first file is written.
  With config.resume, continues from WORKDIR/checkpoint.npz and ends with the
  tables the uninterrupted run would have had, bit for bit on a CPU. With
  config.sweep, trains every variant in one program (sweep.py) and returns
  the sweep's summary with each variant's under "variants".

  The run spans config.num_devices devices (parallel.py); the config it
  records, checkpoints and resumes against holds the resolved number (-1 =
  all becomes the count), so a resumed run must see as many.
  """
  mesh = parallel.make_mesh(config)
  config = dataclasses.replace(config, num_devices=mesh.size)
  workdir = config.workdir
  variants = config_lib.sweep_variants(config)  # [] without --sweep
  meta = checkpoint.check_workdir(config)
  check_eval_files(config)
  data = prepare_data(config)
  corpus = data.corpus
  check_inputs(config, corpus)
  vocab_size, n = len(corpus.vocab), corpus.stats["vocab_tokens"]
  corpus_id = {"tokens": n, "vocab_size": vocab_size, "cache": os.path.basename(
      os.path.dirname(corpus.stats["cache"]))}  # the file's identity digest (corpus.py)
  if meta:
    checkpoint.check_corpus(meta, corpus_id, workdir)
  device = next(d for d in mesh.devices.flat if d.process_index == jax.process_index())
  multiple = parallel.row_multiple(config, mesh, vocab_size)
  alpha = config_lib.learning_rate(config)
  total_words = config.epochs * n

  init_key, train_key = jax.random.split(jax.random.PRNGKey(config.seed))
  if variants:
    check_memory(sweep_lib.largest(config, variants), vocab_size, n, device,
                 copies=len(variants))
    tx, train_chunk = sweep_lib.make_train_chunk(variants, corpus.vocab.counts, data.tree,
                                                 total_words)
    init = lambda: sweep_lib.init_state(variants, init_key, vocab_size, tx)
  else:
    check_memory(config, vocab_size, n, device)
    tables = model_lib.device_tables(config.loss, data.noise_V, data.tree)
    tx, train_chunk = model_lib.make_train_chunk(config, tables, total_words, alpha, mesh)
    init = lambda: model_lib.init_state(parallel.pad_rows(
        model_lib.init_params(init_key, vocab_size, config.dim, config.loss), multiple), tx)
  data = dataclasses.replace(data, noise_V=None, tree=None)  # the tables hold copies now
  if meta:
    saved = checkpoint.load(workdir)
    state = checkpoint.restore_state(saved.state_leaves, jax.eval_shape(init),
                                     checkpoint.path(workdir))
    train_key = jax.numpy.asarray(saved.key)
    logging.info("resuming from %s (%s)", checkpoint.path(workdir), checkpoint.describe(meta))
  else:
    state = init()
  if not variants:  # a sweep runs on one device (config.validate)
    state = parallel.place(state, parallel.state_shardings(state, mesh, config.table_sharding))
  train_key = parallel.place(train_key, parallel.everywhere(mesh))
  files.write_json(os.path.join(workdir, "config.json"),
             record.run_record(config, corpus.stats["cache"], alpha, meta["step"] if meta else None))
  outputs = variants or [config]  # one folder of outputs each
  for variant in variants:
    os.makedirs(variant.workdir, exist_ok=True)
    files.write_json(os.path.join(variant.workdir, "config.json"),
               dict(record.run_record(variant, corpus.stats["cache"], config_lib.learning_rate(variant)),
                    sweep=config.sweep))
  logging.info("training %s-%s: %d words x %d epochs, vocabulary %d, dim %d, batch %d, "
               "alpha %g, on %d %s device(s), tables %s%s", config.model, config.loss, n,
               config.epochs, vocab_size, config.dim, config_lib.batch_size(config), alpha,
               mesh.size, mesh.devices.flat[0].platform, config.table_sharding,
               f"; --sweep={config.sweep}: {len(variants)} variants in one program"
               if variants else "")

  progresses = [Progress(c, total_words, os.path.join(c.workdir, "metrics.jsonl"), meta,
                         label=os.path.basename(c.workdir) if variants else "")
                for c in outputs]
  progress = progresses[0]  # the clock and the counters a checkpoint keeps
  start = time.time()
  start_words = progress.words
  compiled = None  # when the first call returned: compiled, its work dispatched
  epoch0, calls0 = (meta["epoch"], meta["calls"]) if meta else (0, 0)
  step = meta["step"] if meta else 0  # global step, on the host
  examples_total = meta["examples"] if meta else 0
  last_good = meta["step"] if meta else None  # the step of the checkpoint on disk
  steps_per_call = config_lib.steps_per_call(config)

  def read(waiting):
    """Reads a call's losses ([T]; [T, S] in a sweep): stops at a non-finite one, else counts."""
    nonlocal examples_total
    first_step, epoch, (loss, lr), examples, words_done, kept_done = waiting
    examples = int(examples)
    examples_total += examples
    loss_TxS = np.asarray(loss).reshape(len(loss), -1)
    lr_TxS = np.asarray(lr).reshape(len(lr), -1)
    for c, p, loss_T, lr_T in zip(outputs, progresses, loss_TxS.T, lr_TxS.T):
      bad_T = ~np.isfinite(loss_T)
      if bad_T.any():
        t = int(np.argmax(bad_T))
        raise _diverged(c, first_step + t, f"loss {loss_T[t]}", float(lr_T[t]), epoch,
                        last_good)
      p.update(loss_T, lr_T, examples, words_done, kept_done)

  def save(epoch, calls):
    host = parallel.to_host(state)
    tables = [t for s in (host if variants else [host]) for t in s["params"].values()]
    if not all(np.isfinite(t).all() for t in tables):
      raise _diverged(config, step, "a table holds non-finite values", progress.lr,
                      epoch if calls else epoch - 1, last_good)
    if variants:
      return None  # a sweep keeps no checkpoint (config.sweep_variants refuses --resume)
    checkpoint.save(workdir, host, train_key, {
        "settings": checkpoint.settings(config), "corpus": corpus_id, "epoch": epoch,
        "epochs": config.epochs, "calls": calls, "step": step, "examples": examples_total,
        "total_words": total_words, "progress": progress.counters(),
        "metrics_bytes": progress.metrics_bytes()})
    return step

  # Several processes must checkpoint at the same calls (gathering the tables
  # is a collective): at epoch ends, or after every call with
  # --checkpoint_every_secs=0, never by each one's clock or Ctrl-C.
  several = jax.process_count() > 1
  count_examples = parallel.count_examples(mesh, config.model)
  due = lambda last_save: (config.checkpoint_every_secs == 0 if several else
                           time.time() - last_save >= config.checkpoint_every_secs)
  try:
    with _ctrl_c_checkpoints(enabled=not several) as stop:
      last_save = time.time()
      epoch_records = [p.record("epoch") for p in progresses]  # replaced after each epoch
      for epoch in range(epoch0, config.epochs):
        calls = calls0 if epoch == epoch0 else 0
        if calls == 0:
          for p in progresses:
            p.new_epoch(epoch)
        waiting = None  # read the previous call's losses after dispatching the next
        chunks = prefetch(placed_chunks(
            itertools.islice(epoch_chunks(config, data, epoch), calls, None), mesh),
            depth=memory.prefetch_depth(config))
        try:
          for chunk, examples, words_done, kept_done, path_slots in chunks:
            state, out = train_chunk(state, chunk, train_key, path_slots)
            compiled = compiled or time.time()
            if several:  # every process's examples, counted on the devices
              examples = count_examples(chunk)
            if waiting is not None:
              read(waiting)
            waiting = (step, epoch, out, examples, words_done, kept_done)
            step += steps_per_call
            calls += 1
            if stop.requested or due(last_save):
              read(waiting)
              waiting = None
              last_good = save(epoch, calls)
              last_save = time.time()
              if stop.requested and variants:
                raise Interrupted(f"sweep stopped at step {step} (epoch {epoch + 1}); a "
                                  "sweep keeps no checkpoint, so start it again")
              if stop.requested:
                raise Interrupted(
                    f"checkpoint written at step {step} (epoch {epoch + 1}, "
                    f"{100 * progress.words / total_words:.1f}% done) to "
                    f"{checkpoint.path(workdir)}; continue with the same flags and --resume")
        finally:
          chunks.close()
        if waiting is not None:
          read(waiting)
        epoch_records = [p.log("epoch") for p in progresses]
        last_good = save(epoch + 1, 0)
        last_save = time.time()
  finally:
    for p in progresses:
      p.close()
  if examples_total == 0:
    if not variants:
      os.remove(checkpoint.path(workdir))  # nothing was trained; nothing to resume
    raise UserError(NO_EXAMPLES)
  host = parallel.to_host(state)
  seconds = time.time() - progress.start  # all sessions of the run
  segment = time.time() - start
  compiled = compiled or start + segment
  timing = {"tokens": n, "vocab_size": vocab_size, "epochs": config.epochs,
            "train_seconds": round(seconds, 3), "words_per_s": total_words / seconds,
            "compile_seconds": round(compiled - start, 3),
            "steady_words_per_s": (total_words - start_words) / max(start + segment - compiled,
                                                                    1e-9),
            "examples": examples_total, "resumed_at_step": meta["step"] if meta else None}
  if not variants:
    summary = write_outputs(config, corpus, parallel.strip_rows(host["params"], vocab_size), dict(
        timing, final_epoch_loss=epoch_records[0]["epoch_loss"]))
    os.remove(checkpoint.path(workdir))  # the outputs hold the tables now
    return summary
  field, _ = config_lib.sweep_values(config)
  sweep_note = {"sweep": config.sweep, "variants": len(variants),
                "time": "train_seconds and words/s are the one program's wall time for all "
                        "variants together"}
  summaries = [write_outputs(v, corpus, sweep_lib.variant_params(host, s), dict(
      timing, final_epoch_loss=record["epoch_loss"], sweep=sweep_note))
               for s, (v, record) in enumerate(zip(variants, epoch_records))]
  summary = dict(timing, sweep=sweep_note, workdir=workdir, variants=[
      {field: getattr(v, field), "workdir": v.workdir, "final_epoch_loss": r["epoch_loss"]}
      for v, r in zip(variants, epoch_records)])
  files.write_json(os.path.join(workdir, "summary.json"), summary)
  return dict(summary, variants=summaries)


def write_outputs(config: config_lib.Config, corpus, params: dict, summary: dict) -> dict:
  """Writes vectors, vocabulary, tables, evaluation and summary.json to config.workdir."""
  workdir, vocab = config.workdir, corpus.vocab
  vectors_VxD = export.export_vectors(params, config.export)
  word2vec_format.write_word2vec(os.path.join(workdir, "vectors.bin"), vocab.words, vectors_VxD)
  if config.save_text:
    word2vec_format.write_word2vec(os.path.join(workdir, "vectors.txt"), vocab.words, vectors_VxD,
                          binary=False)
  vocab_lib.save(vocab, os.path.join(workdir, "vocab.txt"))
  export.write_params(os.path.join(workdir, "params.npz"), params, vocab.words, vocab.counts)
  results = evaluate_and_report(config, vocab.words, vectors_VxD) if config.evaluate else {}
  summary = dict(summary, workdir=workdir)
  files.write_json(os.path.join(workdir, "summary.json"), summary)
  logging.info("summary\ncorpus             %d tokens (%d in the vocabulary of %d words)\n"
               "training           %.1f s, %.0fk words/s (%.0fk from the end of the first "
               "call, which compiled, at %.1f s), final epoch loss %.4f\n%s\n"
               "files in           %s", corpus.stats["tokens"], summary["tokens"],
               summary["vocab_size"], summary["train_seconds"], summary["words_per_s"] / 1e3,
               summary["steady_words_per_s"] / 1e3, summary["compile_seconds"],
               summary["final_epoch_loss"], evaluate.format_summary(results), workdir)
  return dict(summary, eval=results)


def evaluate_and_report(config: config_lib.Config, words, vectors_VxD) -> dict:
  """Runs the evaluation suite and writes WORKDIR/eval.json."""
  results = evaluate.evaluate_all(
      list(words), vectors_VxD, analogies_path=config.analogies or None,
      ws353_path=config.ws353 or None, simlex_path=config.simlex or None,
      restrict_vocab=config.restrict_vocab, method=config.analogy_method)
  files.write_json(os.path.join(config.workdir, "eval.json"), results)
  return results


def evaluate_file(config: config_lib.Config) -> dict:
  """--mode=eval: evaluates any word2vec-format vectors file."""
  if not config.vectors:
    raise UserError("--mode=eval needs --vectors=PATH (a word2vec binary or text file)")
  words, vectors_VxD = word2vec_format.read_word2vec(config.vectors)
  results = evaluate_and_report(config, words, vectors_VxD)
  logging.info("%s: %d words x %d dims\n%s\n  written to %s", config.vectors, len(words),
               vectors_VxD.shape[1], evaluate.format_summary(results),
               os.path.join(config.workdir, "eval.json"))
  return results


def print_neighbors(config: config_lib.Config) -> dict:
  """--mode=neighbors: the --topk nearest words by cosine of each --query word."""
  if not config.vectors or not config.query:
    raise UserError("--mode=neighbors needs --vectors=PATH and --query=word1,word2")
  words, vectors_VxD = word2vec_format.read_word2vec(config.vectors)
  queries = [q for q in config.query.split(",") if q]
  found = evaluate.nearest_neighbors(words, vectors_VxD, queries, k=config.topk)
  for query, neighbours in found.items():
    if query == "_unknown":
      print(f"not in the vocabulary: {', '.join(neighbours)}")
      continue
    print(f"{query}: " + ", ".join(f"{w} {c:.3f}" for w, c in neighbours))
  return found
