"""A run owns its workdir: one run at a time, and outputs that appear as a whole set.

What a workdir holds:
  vectors.bin, vocab.txt, params.npz, config.json, metrics.jsonl, summary.json,
  eval.json, training.png, vectors.txt, tensorboard/ (a sweep: config.json,
  summary.json, sweep.md, sweep.png and a FIELD=V/ folder per variant)
                  the outputs of the last run that finished: one set, never a mix
  checkpoint.npz  the checkpoint of an unfinished run (checkpoint.py)
  staging/        the unfinished run's files: config.json, metrics.jsonl and
                  tensorboard/ while it trains, then every output
  .lock           only while a run holds the workdir

One run at a time. A run holds an exclusive flock on .lock from its first
look at the workdir to its last write; a second run is refused at once. The
kernel releases a flock when its process ends, kill -9 included, so a crashed
run leaves no stuck lock. The holder removes .lock while still holding it, and
a run that locks a file no longer at that name tries again, so two runs never
hold two different files.

Outputs appear as a whole set or not at all. A run writes only into staging/
(each file whole, files.atomic_write). Once every output is there it writes
staging/COMPLETE, the list of the set's entries, and then moves the set into
place: removes the entries of the earlier set that the new one lacks (an old
eval.json beside --noevaluate vectors), renames each new entry over its old
one, deletes the checkpoint, and removes staging/. No file system renames
several files at once, so these few renames (milliseconds) can be cut short by
a kill; staging/COMPLETE then says the new set is whole, and the next run in
the workdir finishes the moves before it reads anything (a --resume of that
run then just reports it finished). A staging/ without COMPLETE belongs to an
unfinished run: kept while its checkpoint is (a --resume writes on into it),
removed otherwise. So a refused, diverged, interrupted or crashed run leaves
the earlier set as it was, and eval.json is never older than the vectors
beside it. The paths stay plain files (no links), so gensim, a copy to
another machine or Windows read WORKDIR/vectors.bin as ever.

A finished set is not silently reused: a new run (not --resume) in a workdir
that holds one is refused unless --overwrite, and even then the earlier set
stays until the new one is complete.
"""

import contextlib
import json
import logging
import os
import shutil
import signal
from typing import Optional

try:
  import fcntl
except ImportError:  # Windows: no flock; one run at a time is then the user's to keep
  fcntl = None

from w2v_jax import checkpoint
from w2v_jax import files
from w2v_jax.errors import Interrupted
from w2v_jax.errors import UserError

STAGING, COMPLETE, LOCK = "staging", "COMPLETE", ".lock"
# What a finished run leaves in its workdir (loop.py's module docstring).
OUTPUTS = ("vectors.bin", "vectors.txt", "vocab.txt", "params.npz", "config.json",
           "metrics.jsonl", "summary.json", "eval.json", "training.png", "tensorboard",
           "sweep.md", "sweep.png")
RUN_FILES = ("config.json", "metrics.jsonl", "tensorboard")  # written while it trains


def staging(workdir: str) -> str:
  return os.path.join(workdir, STAGING)


def staged(config, path: str) -> str:
  """Where the unfinished run of config.workdir writes what will be `path` (the workdir
  itself or a sweep variant's folder in it)."""
  return os.path.normpath(os.path.join(staging(config.workdir),
                                       os.path.relpath(path, config.workdir)))


def outputs(workdir: str) -> list:
  """The entries of the finished set in `workdir`, [] if none."""
  if not os.path.isdir(workdir):
    return []
  return sorted(n for n in os.listdir(workdir) if n in OUTPUTS or (
      "=" in n and os.path.isfile(os.path.join(workdir, n, "config.json"))))  # FIELD=V


@contextlib.contextmanager
def owned(config):
  """Holds config.workdir for this run; a write that fails (a full disk, no permission)
  or a second Ctrl-C ends it with one line saying what the workdir holds now."""
  if not config.workdir:  # "" means "beside --vectors" only to the scoring modes (run.py)
    raise UserError("--workdir must name a folder (the default is runs/default)")
  with _lock(config.workdir):
    try:
      yield
    except BaseException as e:
      _drop_unresumable(config.workdir)
      if isinstance(e, files.WriteError):
        held, nxt = left_behind(config)
        raise UserError(f"{e}; {held}; make room or fix the permissions, then {nxt}") from None
      if isinstance(e, KeyboardInterrupt) and isinstance(e.__context__, Interrupted):
        raise e.__context__ from None  # it came while a requested stop was unwinding
      if isinstance(e, KeyboardInterrupt):  # the second Ctrl-C or SIGTERM: at once
        signum = e.args[0] if e.args and isinstance(e.args[0], int) else signal.SIGINT
        held, nxt = left_behind(config)
        raise Interrupted(f"at once; {held}; {nxt}", 128 + signum) from None
      raise


def _drop_unresumable(workdir: str) -> None:
  """Removes the staging/ of a run that ended without a checkpoint to resume or a whole set
  to move in: nothing in it can be used, and the workdir is left as the run found it."""
  stage = staging(workdir)
  if (os.path.isdir(stage) and not os.path.exists(os.path.join(stage, COMPLETE))
      and not os.path.exists(checkpoint.path(workdir))):
    shutil.rmtree(stage, ignore_errors=True)


def left_behind(config) -> tuple:
  """(what the workdir holds now, what to do next) for a message that ends a run early:
  read from the disk, so it is true however the run ended."""
  workdir = config.workdir
  meta = None
  if os.path.exists(checkpoint.path(workdir)):
    with contextlib.suppress(UserError):
      meta = checkpoint.read_meta(workdir)
  if meta:
    held = f"the last good checkpoint (step {meta['step']}) is kept in {checkpoint.path(workdir)}"
    nxt = "continue with the same flags and --resume"
  else:
    held = ("a sweep keeps no checkpoint" if config.sweep
            else "no checkpoint had been written yet")
    nxt = "start the run again"
  found = outputs(workdir)
  held += (f"; the earlier outputs in {workdir} are as they were" if found
           else f"; no outputs were written to {workdir}")
  return held, nxt


def recover(config) -> Optional[dict]:
  """Tidies up after a run that ended early, before this one reads the workdir.

  Removes temporary files of interrupted writes, finishes moving a complete set
  into place, removes an unfinished run's staging/ that has no checkpoint to
  resume. Returns that run's summary when this run is its --resume and it had
  finished (its outputs were being moved); None otherwise.
  """
  workdir = config.workdir
  for folder, names, file_names in os.walk(workdir):
    for name in names + file_names:
      if files.is_temporary(name):
        _remove(os.path.join(folder, name))
  stage = staging(workdir)
  if os.path.exists(os.path.join(stage, COMPLETE)):
    if config.resume and os.path.exists(checkpoint.path(workdir)):
      checkpoint.check_workdir(config)  # refuses other settings, as for any --resume
    _move_into_place(workdir)
    logging.info("finished moving the outputs of the run that stopped while moving them "
                 "into %s", workdir)
    if config.resume:
      logging.info("that run had finished: nothing is left to train")
      return _finished_summary(workdir)
  else:
    _drop_unresumable(workdir)
  return None


def _finished_summary(workdir: str) -> dict:
  """What loop.train returns, read back from a finished run's summary.json and eval.json."""
  with open(os.path.join(workdir, "summary.json"), encoding="utf-8") as f:
    summary = json.load(f)
  results = {}
  if os.path.exists(os.path.join(workdir, "eval.json")):
    with open(os.path.join(workdir, "eval.json"), encoding="utf-8") as f:
      results = {k: v for k, v in json.load(f).items() if k != "vectors"}
  return dict(summary, eval=results)


def check_reuse(config, meta: Optional[dict]) -> None:
  """Refuses a new run in a workdir that holds a finished run's outputs, unless --overwrite."""
  found = outputs(config.workdir)
  if meta is None and found and not config.overwrite:
    raise UserError(
        f"{config.workdir} holds the outputs of a finished run ({', '.join(found[:3])}"
        f"{', ...' if len(found) > 3 else ''}); pass --overwrite (overwrite=True in Python) "
        "to replace them once the new outputs are complete, or use another --workdir")


def begin(config, meta: Optional[dict]) -> None:
  """Makes staging/ for this run: new, or for a --resume the interrupted run's, with only
  what it writes while it trains (a resumed run may export other vectors)."""
  stage = staging(config.workdir)
  if meta is None:
    shutil.rmtree(stage, ignore_errors=True)
  elif os.path.isdir(stage):
    for name in os.listdir(stage):
      if name not in RUN_FILES:
        _remove(os.path.join(stage, name))
  try:
    os.makedirs(stage, exist_ok=True)
  except OSError as e:
    raise files.WriteError(f"cannot create {stage} ({e.strerror})") from None


def commit(workdir: str) -> None:
  """Marks staging/ as a whole set, then moves it into place (module docstring)."""
  stage = staging(workdir)
  entries = sorted(n for n in os.listdir(stage) if n != COMPLETE)
  files.write_json(os.path.join(stage, COMPLETE), {"entries": entries})
  files.fsync_folder(stage)
  _move_into_place(workdir)


def abandon(workdir: str) -> None:
  """Removes an unfinished run's checkpoint and staging/ (a run that trained nothing)."""
  with contextlib.suppress(FileNotFoundError):
    os.remove(checkpoint.path(workdir))
  shutil.rmtree(staging(workdir), ignore_errors=True)


def _move_into_place(workdir: str) -> None:
  """Moves the set staging/COMPLETE lists into place; safe to repeat after a kill."""
  stage = staging(workdir)
  with open(os.path.join(stage, COMPLETE), encoding="utf-8") as f:
    entries = json.load(f)["entries"]
  try:
    for name in outputs(workdir):
      if name not in entries:
        _remove(os.path.join(workdir, name))
    for name in entries:
      new, old = os.path.join(stage, name), os.path.join(workdir, name)
      if not os.path.lexists(new):
        continue  # moved before an interruption
      if os.path.isdir(old) and not os.path.islink(old):
        shutil.rmtree(old)  # a rename cannot replace a folder that holds files
      os.replace(new, old)
    files.fsync_folder(workdir)
    with contextlib.suppress(FileNotFoundError):
      os.remove(checkpoint.path(workdir))  # the outputs hold its tables now
    for name in os.listdir(stage):  # COMPLETE last: until then a kill is finished later
      if name != COMPLETE:
        _remove(os.path.join(stage, name))
    os.remove(os.path.join(stage, COMPLETE))
    os.rmdir(stage)
  except OSError as e:
    raise UserError(f"cannot move the new outputs from {stage} into {workdir} "
                    f"({e.strerror or e}); {stage}/{COMPLETE} lists them, and the next run "
                    "in this --workdir finishes the move once it can") from None


def _remove(path: str) -> None:
  if os.path.isdir(path) and not os.path.islink(path):
    shutil.rmtree(path, ignore_errors=True)
  else:
    with contextlib.suppress(FileNotFoundError):
      os.remove(path)


@contextlib.contextmanager
def _lock(workdir: str):
  """Holds WORKDIR/.lock (flock, exclusive) within; UserError if another run holds it."""
  path = os.path.join(workdir, LOCK)
  fd = _acquire(path, workdir) if fcntl else None
  try:
    yield
  finally:
    if fd is not None:
      with contextlib.suppress(OSError):
        os.remove(path)  # while still holding it: see _acquire
      os.close(fd)


def _acquire(path: str, workdir: str) -> Optional[int]:
  while True:
    try:
      fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
      raise files.WriteError(f"cannot write {path} ({e.strerror})") from None
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
      os.close(fd)
      raise UserError(f"another run (process {holder}) is using --workdir {workdir}; wait "
                      "for it to end, or pass another --workdir") from None
    except OSError as e:  # a file system without locks (some network mounts)
      os.close(fd)
      logging.warning("cannot lock %s (%s): a second run started in this workdir at the same "
                      "time would not be stopped", path, e.strerror)
      return None
    try:
      here = os.stat(path)
      mine = os.fstat(fd)
      same = (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)
    except FileNotFoundError:
      same = False
    if same:
      os.ftruncate(fd, 0)
      os.write(fd, f"{os.getpid()}\n".encode())
      return fd
    os.close(fd)  # its holder removed it as it ended; lock the file now at that name
