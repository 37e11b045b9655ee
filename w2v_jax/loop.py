"""The training loop: data -> compiled chunks of steps -> tables -> files.

`train(config)` trains one model and writes, in config.workdir:
  vectors.bin   emb_in in word2vec.c's binary format
  vocab.txt     `word count` per line
  params.npz    every table plus the vocabulary
  config.json   the run record: resolved configuration, seed, package
                versions, git commit, devices
  metrics.jsonl one JSON object per progress line and per epoch
  tensorboard/  the same as TensorBoard event files (--tensorboard)
  summary.json  training time, words/s (also after compilation), final loss
  eval.json     the evaluation (metrics.py) and the file it scored
  training.png  loss, words/s and learning rate over the run
and, while it runs, checkpoint.npz (checkpoint.py): every
--checkpoint_every_secs, at each epoch end and on Ctrl-C or SIGTERM.

A run owns its workdir (workdir.py): one run at a time (a flock that a killed
run does not leave stuck); everything it writes goes to WORKDIR/staging/ and
moves into place as one set once complete (staging/COMPLETE, written last,
says the set is whole; a kill during the moves is finished by the next run in
the workdir), which also deletes the checkpoint. So a refused, diverged,
interrupted or crashed run leaves the earlier outputs as they were, never a
mix of two runs, and a new run in a workdir that holds a finished run's
outputs needs --overwrite.

With --sweep=FIELD=V1,V2,... (sweep.py) one compiled program trains every
variant; each gets the files above in WORKDIR/FIELD=V, and WORKDIR/config.json
and summary.json describe the whole sweep. A sweep keeps no checkpoint.

A non-finite loss, or a loss per example 100 times the first step's (a
diverging run long before it overflows), stops the run at the first compiled call that
has one (its losses are read one call late, so that reading them does not
stall the device), before that call's tables are checkpointed or exported;
the tables are checked at every checkpoint too. A full disk or a refused
permission while writing ends the run with one line; the temporary file is
removed (or, after a kill, at the next start), and the last good checkpoint
and the earlier outputs stay as they were.
"""
import contextlib
import dataclasses
import itertools
import logging
import os
import signal
import threading
import time
from typing import Optional

import jax
import numpy as np

from w2v_jax import checkpoint
from w2v_jax import export
from w2v_jax import files
from w2v_jax import metrics
from w2v_jax import parallel
from w2v_jax import pipeline
from w2v_jax import plots
from w2v_jax import progress as progress_lib
from w2v_jax import record
from w2v_jax import scoring
from w2v_jax import sweep as sweep_lib
from w2v_jax import trainer as trainer_lib
from w2v_jax import vocab as vocab_lib
from w2v_jax import word2vec_format
from w2v_jax import workdir as workdir_lib
from w2v_jax.config import Config
from w2v_jax.errors import Interrupted
from w2v_jax.errors import UserError
from w2v_jax.resolve import Resolved
from w2v_jax.resolve import quality_note
from w2v_jax.resolve import resolve


def train(config: Config) -> dict:
  """Trains one model (or a --sweep's variants) and writes its outputs. Returns a summary.

  Everything that can refuse the run (another run in the workdir, a checkpoint
  or a finished run's outputs there, evaluation files, corpus, window, memory)
  is checked before the first file is written. With config.resume, continues
  from WORKDIR/checkpoint.npz and ends with the tables the uninterrupted run
  would have had, bit for bit on a CPU. A sweep returns the sweep's summary
  with each variant's under "variants".
  """
  config = resolve(config)  # once; everything below reads concrete values
  with workdir_lib.owned(config):
    finished = workdir_lib.recover(config)
    if finished is not None:
      return finished  # a --resume of a run that had finished
    meta = checkpoint.check_workdir(config)
    workdir_lib.check_reuse(config, meta)
    scoring.check_eval_files(config)
    data = pipeline.prepare_data(config)
    pipeline.check_inputs(config, data.corpus)
    corpus_id = _corpus_id(data.corpus)
    if meta:
      checkpoint.check_corpus(meta, corpus_id, config.workdir)
    trainer = trainer_lib.build_trainer(config, data)
    data = dataclasses.replace(data, noise_V=None, tree=None)  # the tables hold copies now
    state, train_key = _start(trainer, meta)
    workdir_lib.begin(config, meta)  # the first write
    _write_records(trainer, data.corpus.stats["cache"], meta)
    n = data.corpus.stats["vocab_tokens"]
    total_words = config.epochs * n
    _log_start(trainer, data.corpus, n)
    progresses = [progress_lib.Progress(
        c, total_words, os.path.join(workdir_lib.staged(config, c.workdir), "metrics.jsonl"),
        meta, label=os.path.basename(c.workdir) if config.sweep else "")
                  for c in trainer.outputs]
    progress = progresses[0]  # the clock and the counters a checkpoint keeps
    start, start_words, compiled = time.time(), progress.words, None
    call = _Calls(trainer, data.path_bounds)  # trainer.train_chunk, readying what comes later
    epoch0, calls0 = (meta["epoch"], meta["calls"]) if meta else (0, 0)
    step, examples = (meta["step"], meta["examples"]) if meta else (0, 0)
    # Several processes must checkpoint at the same calls (gathering the tables is
    # a collective): at epoch ends, or after every call with
    # --checkpoint_every_secs=0, never by each one's clock or a signal.
    several = jax.process_count() > 1
    count_examples = parallel.count_examples(trainer.mesh, config.model)
    due = lambda last_save: (config.checkpoint_every_secs == 0 if several else
                             time.time() - last_save >= config.checkpoint_every_secs)
    try:
      with _stop_on_signals(enabled=not several) as stop:
        last_save = time.time()
        epoch_records = [p.record("epoch") for p in progresses]  # replaced after each epoch
        for epoch in range(epoch0, config.epochs):
          calls = calls0 if epoch == epoch0 else 0
          if calls == 0:
            for p in progresses:
              p.new_epoch(epoch)
          waiting = None  # read a call's losses after dispatching the next: no device stall
          chunks = pipeline.prefetch(pipeline.placed_chunks(itertools.islice(
              pipeline.epoch_chunks(config, data, epoch), calls, None), trainer.mesh),
              depth=pipeline.prefetch_depth(config))
          try:
            for chunk in chunks:
              state, out = call(state, chunk, train_key)
              compiled = compiled or time.time()
              if waiting is not None:
                examples += _read(trainer, progresses, waiting)
              waiting = (step, epoch, out, count_examples(chunk.arrays) if several  # every
                         else chunk.examples, chunk.words_done, chunk.kept_done)  # process's
              step += config.steps_per_call
              calls += 1
              if stop.requested or due(last_save):
                examples += _read(trainer, progresses, waiting)
                waiting = None
                position = dict(corpus=corpus_id, epoch=epoch, calls=calls, step=step)
                _save(trainer, state, train_key, progress, position, examples)
                last_save = time.time()
                if stop.requested:
                  raise _interrupted(trainer, step, epoch, progress.words / total_words,
                                     stop.signum)
          finally:
            chunks.close()
          if waiting is not None:
            examples += _read(trainer, progresses, waiting)
          epoch_records = [p.log("epoch") for p in progresses]
          position = dict(corpus=corpus_id, epoch=epoch + 1, calls=0, step=step)
          _save(trainer, state, train_key, progress, position, examples)
          last_save = time.time()
        if examples == 0:
          workdir_lib.abandon(config.workdir)  # nothing was trained; nothing to resume
          raise UserError(pipeline.NO_EXAMPLES)
        for p in progresses:
          p.close()  # before the outputs move into place
        stop.exporting = True
        timing = _timing(config, data.corpus, meta, examples,
                         (start, start_words, compiled, progress.start))
        return _finish(trainer, data.corpus, parallel.to_host(state), timing, epoch_records)
    finally:
      for p in progresses:
        p.close()
      call.join()  # an interpreter that exits while a thread is inside XLA aborts


class _Calls:
  """trainer.train_chunk(state, chunk.arrays, key, chunk.path_slots), and while the first
  call trains, on the core the trainer leaves to the batch maker, a thread readies what
  would otherwise stall the loop later with the device idle: with path buckets (hs), the
  other buckets' programs (~1 s to compile each; a chunk of another bucket waits for the
  thread, and its call finds its program compiled), and pyplot for the training plot."""

  def __init__(self, trainer: trainer_lib.Trainer, path_bounds: tuple):
    self.trainer, self.path_bounds = trainer, path_bounds
    self.first_slots, self.thread, self.started = None, None, False

  def __call__(self, state, chunk, key):
    first = not self.started
    if self.thread is not None and chunk.path_slots != self.first_slots:
      self.join()
    abstract = jax.tree_util.tree_map(lambda x: jax.ShapeDtypeStruct(  # the call donates
        x.shape, x.dtype, sharding=getattr(x, "sharding", None)), (state, chunk.arrays, key)
    ) if first else None
    out = self.trainer.train_chunk(state, chunk.arrays, key, chunk.path_slots)
    if first:
      self.first_slots, self.started = chunk.path_slots, True
      others = [s for s in self.path_bounds if s != chunk.path_slots]
      self.thread = threading.Thread(target=self._ready, args=(abstract, others), daemon=True)
      self.thread.start()
    return out

  def _ready(self, abstract, others):
    for slots in others if self.trainer.lower is not None else ():
      try:
        self.trainer.lower(*abstract, slots).compile()
      except Exception as e:  # pylint: disable=broad-except  # its first call compiles it
        logging.debug("compiling the %d-slot program ahead failed: %s", slots, e)
    plots.warm()

  def join(self):
    if self.thread is not None:
      self.thread.join()
      self.thread = None


def _log_start(trainer: trainer_lib.Trainer, corpus, n: int) -> None:
  config = trainer.config
  logging.info("training %s-%s: %d words x %d epochs, vocabulary %d, dim %d, batch %d "
               "(shared rows: %s), alpha %g, on %d %s device(s), tables %s%s", config.model,
               config.loss, n, config.epochs, len(corpus.vocab), config.dim, config.batch_size,
               config.row_update, config.alpha, trainer.mesh.size, config.platform,
               config.table_sharding,
               f"; --sweep={config.sweep}: {len(trainer.outputs)} variants in one program"
               if config.sweep else "")
  note = quality_note(config.model, config.loss, config.batch_size, config.batch_rows)
  if note:
    logging.warning("%s", note)


def _timing(config: Resolved, corpus, meta, examples: int, clock: tuple) -> dict:
  """summary.json's counts and times. `clock`: this session's start, the words done
  then, the end of its first (compiling) call, and the first session's start."""
  start, start_words, compiled, first_start = clock
  n = corpus.stats["vocab_tokens"]
  total_words = config.epochs * n
  now = time.time()
  seconds, compiled = now - first_start, compiled or now
  return {"tokens": n, "vocab_size": len(corpus.vocab), "epochs": config.epochs,
          "train_seconds": round(seconds, 3), "words_per_s": total_words / seconds,
          "compile_seconds": round(compiled - start, 3),
          "steady_words_per_s": (total_words - start_words) / max(now - compiled, 1e-9),
          "examples": examples, "resumed_at_step": meta["step"] if meta else None}


def _corpus_id(corpus) -> dict:
  """What a checkpoint's corpus must match: size, vocabulary and the file's identity digest."""
  return {"tokens": corpus.stats["vocab_tokens"], "vocab_size": len(corpus.vocab),
          "cache": os.path.basename(os.path.dirname(corpus.stats["cache"]))}


def _start(trainer: trainer_lib.Trainer, meta: Optional[dict]):
  """(state on the mesh, training key on every device): new, or the checkpoint's."""
  train_key = trainer_lib.split_key(trainer.config.seed)[1]
  if meta:
    workdir = trainer.config.workdir
    saved = checkpoint.load(workdir)
    state = checkpoint.restore_state(saved.state_leaves, jax.eval_shape(trainer.init_state),
                                     checkpoint.path(workdir))
    train_key = jax.numpy.asarray(saved.key)
    logging.info("resuming from %s (%s)", checkpoint.path(workdir), checkpoint.describe(meta))
  else:
    state = trainer.init_state()
  return (trainer.place(state),
          parallel.place(train_key, parallel.everywhere(trainer.mesh)))


def _write_records(trainer: trainer_lib.Trainer, corpus_path: str, meta: Optional[dict]) -> None:
  """config.json in the run's staging/ and, for a sweep, in each variant's folder there."""
  config = trainer.config
  files.write_json(os.path.join(workdir_lib.staging(config.workdir), "config.json"),
                   record.run_record(config, corpus_path, meta["step"] if meta else None))
  for variant in trainer.outputs if config.sweep else ():
    folder = workdir_lib.staged(config, variant.workdir)
    os.makedirs(folder, exist_ok=True)
    files.write_json(os.path.join(folder, "config.json"),
                     dict(record.run_record(variant, corpus_path), sweep=config.sweep))


# A call's loss per example this many times the first step's (of this session) is
# divergence, not noise: a healthy run's loss falls from its start, and a diverging one
# (a huge --alpha) grows by orders of magnitude for a long while before it overflows.
LOSS_GROWTH_LIMIT = 100.0


def _read(trainer: trainer_lib.Trainer, progresses: list, waiting: tuple) -> int:
  """Reads a call's losses ([T]; [T, S] in a sweep) into the progress; returns its examples.

  Stops the run at the first non-finite loss, or at a call whose loss per example
  is LOSS_GROWTH_LIMIT times the first step's.
  """
  first_step, epoch, (loss, lr), examples, words_done, kept_done = waiting
  loss_TxS = np.asarray(loss).reshape(len(loss), -1)
  lr_TxS = np.asarray(lr).reshape(len(lr), -1)
  for c, p, loss_T, lr_T in zip(trainer.outputs, progresses, loss_TxS.T, lr_TxS.T):
    bad_T = ~np.isfinite(loss_T)
    if bad_T.any():
      t = int(np.argmax(bad_T))
      raise _diverged(c, first_step + t, f"loss {loss_T[t]}", float(lr_T[t]), epoch)
    growth = p.growth(loss_T, int(examples))
    if growth > LOSS_GROWTH_LIMIT:
      t = int(np.argmax(loss_T))
      raise _diverged(c, first_step + t, f"the loss per example is {growth:.3g} times the "
                      "first step's", float(lr_T[t]), epoch)
    p.update(loss_T, lr_T, int(examples), words_done, kept_done)
  return int(examples)


def _save(trainer: trainer_lib.Trainer, state, key, progress, position: dict,
          examples: int) -> None:
  """Checks the tables are finite and writes the checkpoint (none for a sweep).

  `position`: corpus, epoch and calls done in it (the data position), global step.
  """
  config = trainer.config
  host = parallel.to_host(state)
  if not all(np.isfinite(t).all() for tables in trainer.tables(host) for t in tables.values()):
    epoch = position["epoch"] if position["calls"] else position["epoch"] - 1
    raise _diverged(config, position["step"], "a table holds non-finite values", progress.lr,
                    epoch)
  if trainer.keeps_checkpoints:
    checkpoint.save(config.workdir, host, key, dict(
        position, settings=checkpoint.settings(config), epochs=config.epochs,
        examples=examples, total_words=progress.total_words, progress=progress.counters(),
        metrics_bytes=progress.metrics_bytes()))


def _interrupted(trainer: trainer_lib.Trainer, step: int, epoch: int, done: float,
                 signum: int) -> Interrupted:
  if not trainer.keeps_checkpoints:
    return Interrupted(f"sweep stopped at step {step} (epoch {epoch + 1}); a sweep keeps no "
                       "checkpoint, so start it again", 128 + signum)
  return Interrupted(f"checkpoint written at step {step} (epoch {epoch + 1}, {100 * done:.1f}% "
                     f"done) to {checkpoint.path(trainer.config.workdir)}; continue with the "
                     "same flags and --resume", 128 + signum)


def _finish(trainer: trainer_lib.Trainer, corpus, host_state, timing: dict,
            epoch_records: list) -> dict:
  """Writes every output's files to staging/, then moves them into place as one set
  (workdir.commit), which deletes the checkpoint, whose tables they now hold."""
  config = trainer.config
  if not config.sweep:
    summary = write_outputs(config, corpus, trainer.tables(host_state)[0],
                            dict(timing, final_epoch_loss=epoch_records[0]["epoch_loss"]),
                            folder=workdir_lib.staging(config.workdir))
    workdir_lib.commit(config.workdir)
    _log_summary(corpus, summary, config.workdir)
    return summary
  field = config.sweep.partition("=")[0]
  sweep_note = {"sweep": config.sweep, "variants": len(trainer.outputs),
                "time": "train_seconds and words/s are the one program's wall time for all "
                        "variants together"}
  summaries = [write_outputs(v, corpus, params, dict(
      timing, final_epoch_loss=r["epoch_loss"], sweep=sweep_note),
                             folder=workdir_lib.staged(config, v.workdir))
               for v, params, r in zip(trainer.outputs, trainer.tables(host_state), epoch_records)]
  summary = dict(timing, sweep=sweep_note, workdir=config.workdir, variants=[
      {field: getattr(v, field), "workdir": v.workdir, "final_epoch_loss": r["epoch_loss"]}
      for v, r in zip(trainer.outputs, epoch_records)])
  stage = workdir_lib.staging(config.workdir)
  files.write_json(os.path.join(stage, "summary.json"), summary)
  sweep_lib.report(config, field, [getattr(v, field) for v in trainer.outputs], summaries,
                   folder=stage)
  workdir_lib.commit(config.workdir)
  return dict(summary, variants=summaries)


def write_outputs(config: Resolved, corpus, params: dict, summary: dict,
                  folder: Optional[str] = None) -> dict:
  """Writes vectors, vocabulary, tables, evaluation, summary.json and training.png to
  `folder` (default config.workdir), from the metrics.jsonl there; returns the summary
  with the evaluation. The files say where they will be read: config.workdir."""
  folder, vocab = folder or config.workdir, corpus.vocab
  vectors_VxD = export.export_vectors(params, config.export)
  vectors_path = os.path.join(folder, "vectors.bin")
  word2vec_format.write_word2vec(vectors_path, vocab.words, vectors_VxD)
  if config.save_text:
    word2vec_format.write_word2vec(os.path.join(folder, "vectors.txt"), vocab.words,
                                   vectors_VxD, binary=False)
  vocab_lib.save(vocab, os.path.join(folder, "vocab.txt"))
  export.write_params(os.path.join(folder, "params.npz"), params, vocab.words, vocab.counts)
  results = scoring.evaluate_and_report(
      config, vocab.words, vectors_VxD, os.path.join(folder, "eval.json"),
      scoring.scored_file(vectors_path, os.path.join(config.workdir, "vectors.bin"))
  ) if config.evaluate else {}
  summary = dict(summary, workdir=config.workdir)
  files.write_json(os.path.join(folder, "summary.json"), summary)
  plots.training(os.path.join(folder, "metrics.jsonl"), os.path.join(folder, "training.png"))
  return dict(summary, eval=results)


def _log_summary(corpus, summary: dict, workdir: str) -> None:
  logging.info("summary\ncorpus             %d tokens (%d in the vocabulary of %d words)\n"
               "training           %.1f s, %.0fk words/s (%.0fk from the end of the first "
               "call, which compiled, at %.1f s), final epoch loss %.4f\n%s\n"
               "files in           %s", corpus.stats["tokens"], summary["tokens"],
               summary["vocab_size"], summary["train_seconds"], summary["words_per_s"] / 1e3,
               summary["steady_words_per_s"] / 1e3, summary["compile_seconds"],
               summary["final_epoch_loss"], metrics.format_summary(summary["eval"]), workdir)


def _diverged(config: Resolved, step, what, lr, epoch) -> UserError:
  """The one line that stops a diverging run; what it says it keeps is read from the disk."""
  held, _ = workdir_lib.left_behind(config)
  return UserError(
      f"training diverged at step {step} (epoch {epoch + 1}): {what} at learning rate "
      f"{lr:.4g} with batch size {config.batch_size}; {held}; lower --alpha (or "
      "--batch_size, which raises the step) and start again"
      + (" in another --workdir, or delete that checkpoint" if os.path.exists(
          checkpoint.path(config.workdir)) else ""))


class _StopRequest:
  """Set by the first Ctrl-C or SIGTERM; the loop then checkpoints and stops."""
  requested = False
  exporting = False  # the outputs are being written: they are finished first
  signum = signal.SIGINT


_SIGNALS = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


@contextlib.contextmanager
def _stop_on_signals(enabled: bool = True):
  """Within: Ctrl-C or SIGTERM (what batch schedulers send before they kill) asks the loop
  for a checkpoint and a clean stop; a second one stops at once (KeyboardInterrupt with
  the signal's number, which workdir.owned turns into one line)."""
  stop = _StopRequest()
  if not enabled or threading.current_thread() is not threading.main_thread():
    yield stop  # signal handlers can only be set from the main thread
    return

  def handler(signum, frame):  # pylint: disable=unused-argument
    if stop.requested:
      raise KeyboardInterrupt(signum)
    stop.requested, stop.signum = True, signum
    logging.warning("%s: %s (again to stop now)", _SIGNALS[signum],
                    "finishing the outputs first" if stop.exporting
                    else "writing a checkpoint after the current call")

  previous = {s: signal.signal(s, handler) for s in _SIGNALS}
  try:
    yield stop
  finally:
    for s, h in previous.items():
      signal.signal(s, h)
