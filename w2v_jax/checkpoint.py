"""Checkpoints of a training run: one .npz in the workdir, replaced atomically.

`WORKDIR/checkpoint.npz` holds everything needed to continue a run exactly:
  state.<i>   the leaves of the training state (model.TrainState: optimizer
              state, tables, global step) in jax.tree_util order
  key         the training key every step's randomness is folded from
  meta        JSON: the run's settings, the corpus it trains on, the data
              position (epoch, compiled calls done in it), the host-side
              progress counters and the metrics.jsonl size at that moment.
A run deletes its checkpoint once its outputs are written (params.npz holds the
same tables), so a checkpoint in a workdir always means an unfinished run; one
taken after the last epoch (epoch == epochs) resumes straight to the outputs.

The host batches of an epoch are a pure function of (seed, epoch), so the data
position needs no generator state: a resumed run regenerates the epoch and
skips the calls already done, which puts every later batch, key and learning
rate where the uninterrupted run had them. Checkpoints are only taken between
compiled calls, so the chunk boundaries are the same too.

Writes go to a temporary file that is flushed, fsync'ed and renamed over the
old checkpoint (files.atomic_write), then the folder is fsync'ed: a run killed
at any moment leaves either the old or the new checkpoint, never half of one
(its temporary file is removed at the next start, workdir.recover). A full
disk or a refused permission while saving raises files.WriteError, the
temporary file removed and the old checkpoint as it was.
"""

import dataclasses
import json
import os
import zipfile
import zlib

import jax
import numpy as np

from w2v_jax import config as config_lib
from w2v_jax import files
from w2v_jax.resolve import Resolved
from w2v_jax.errors import UserError

NAME = "checkpoint.npz"
FORMAT_VERSION = 1
# Settings a resumed run may change (config.py's roles other than "train"):
# where files go, how often it logs or checkpoints, the device, what is
# exported and how it is scored, where the processes of a multi-host run meet.
FREE_ON_RESUME = frozenset(config_lib.names_with_role("device", "output", "run"))


def path(workdir: str) -> str:
  return os.path.join(workdir, NAME)


def settings(config: Resolved) -> dict:
  """The settings a resumed run must share with the run that wrote the checkpoint."""
  return {k: v for k, v in dataclasses.asdict(config).items() if k not in FREE_ON_RESUME}


@dataclasses.dataclass(frozen=True)
class Checkpoint:
  state_leaves: list        # numpy arrays, jax.tree_util order
  key: np.ndarray           # the training key's data
  meta: dict


def save(workdir: str, state, key, meta: dict) -> str:
  """Writes the checkpoint atomically; `state` may live on the device."""
  leaves = jax.tree_util.tree_leaves(jax.device_get(state))
  arrays = {f"state.{i}": np.asarray(leaf) for i, leaf in enumerate(leaves)}
  arrays["key"] = np.asarray(key)
  arrays["meta"] = np.asarray(json.dumps(dict(meta, format=FORMAT_VERSION)))
  final = path(workdir)
  with files.atomic_write(final) as f:  # a file object: np.savez would append .npz to a name
    np.savez(f, **arrays)
  files.fsync_folder(workdir)
  return final


# What reading a damaged .npz raises: cut short or not a zip at all (BadZipFile,
# EOFError), a CRC error (BadZipFile), a bad member (ValueError, OSError), a
# missing key (KeyError).
_DAMAGED = (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error)
# What resuming reads from meta (loop.py, describe, check_corpus).
_META_KEYS = ("settings", "epoch", "epochs", "calls", "step", "examples", "total_words",
              "progress", "corpus")


def _damaged(p: str, what) -> UserError:
  """The one error for a checkpoint that cannot be read; `what`: a reason or the exception."""
  if isinstance(what, BaseException):
    what = f"{type(what).__name__}: {what}" if str(what) else type(what).__name__
  return UserError(f"checkpoint {p} is damaged ({what}): delete it to start this run over "
                   "(or move it away to keep it), and check the disk if it happens again")


def read_meta(workdir: str) -> dict | None:
  """The checkpoint's meta, None if there is none; UserError if it is unreadable."""
  p = path(workdir)
  if not os.path.exists(p):
    return None
  try:
    with np.load(p, allow_pickle=False) as z:
      meta = json.loads(str(z["meta"]))
  except _DAMAGED as e:
    raise _damaged(p, e) from None
  if not isinstance(meta, dict):
    raise _damaged(p, "its meta is not a JSON object")
  if meta.get("format") != FORMAT_VERSION:
    raise UserError(f"checkpoint {p} has format {meta.get('format')}, this version reads "
                    f"{FORMAT_VERSION}; use another --workdir")
  missing = [k for k in _META_KEYS if k not in meta]
  if missing:
    raise _damaged(p, f"its meta lacks {', '.join(missing)}")
  return meta


def load(workdir: str) -> Checkpoint:
  """The whole checkpoint, every array read (and so CRC-checked); UserError if damaged."""
  p = path(workdir)
  meta = read_meta(workdir)
  if meta is None:
    raise UserError(f"no checkpoint in {workdir}")
  try:
    with np.load(p, allow_pickle=False) as z:
      n = sum(name.startswith("state.") for name in z.files)
      leaves = [z[f"state.{i}"] for i in range(n)]
      key = z["key"]
  except _DAMAGED as e:
    raise _damaged(p, e) from None
  if not n:
    raise _damaged(p, "it holds no training state")
  if key.dtype != np.uint32 or key.ndim != 1:  # a jax.random key's data (trainer.split_key)
    raise _damaged(p, f"its key is {key.dtype} {key.shape}, not a uint32 vector")
  return Checkpoint(state_leaves=leaves, key=key, meta=meta)


def restore_state(leaves: list, template, where: str):
  """The saved leaves in the structure of `template` (arrays or ShapeDtypeStructs)."""
  expected, treedef = jax.tree_util.tree_flatten(template)
  if len(leaves) != len(expected) or any(
      a.shape != e.shape or a.dtype != e.dtype for a, e in zip(leaves, expected)):
    raise UserError(f"checkpoint {where} does not match this model's tables (the number, "
                    "shapes or types of its arrays differ, though its settings match): it is "
                    "damaged or from another version; delete it to start this run over")
  return jax.tree_util.tree_unflatten(treedef, [jax.numpy.asarray(a) for a in leaves])


def _flag_value(value) -> str:
  return str(value).lower() if isinstance(value, bool) else str(value)


def differences(saved: dict, current: dict) -> list[str]:
  """'--name=saved there, current here' for each setting that differs."""
  out = []
  for name in sorted(set(saved) | set(current)):
    a, b = saved.get(name), current.get(name)
    if a != b:
      out.append(f"--{name}={_flag_value(a)} there, {_flag_value(b)} here")
  return out


def check_workdir(config: Resolved) -> dict | None:
  """Decides, before anything is written, whether this run may use config.workdir.

  A checkpoint exists only while a run is unfinished: a run deletes it once
  its outputs are written. Returns the checkpoint's meta when the run resumes,
  None when it starts afresh. Refuses (UserError):
    * a checkpoint whose settings differ from this run's (with or without
      --resume), naming the differences;
    * a checkpoint without --resume, which a new run would overwrite;
    * --resume without a checkpoint; when the workdir holds exported vectors,
      saying that they lack what a run continues from: fine-tuning from
      vectors is not resuming.
  """
  workdir = config.workdir
  meta = read_meta(workdir)
  if meta is None:
    if not config.resume:
      return None
    if os.path.exists(os.path.join(workdir, "params.npz")):
      raise UserError(
          f"--resume needs {path(workdir)}, but {workdir} holds only a finished run's tables "
          "(params.npz), without the optimizer state and data position a run continues "
          "from; drop --resume to start a new run")
    exported = [n for n in ("vectors.bin", "vectors.txt")
                if os.path.exists(os.path.join(workdir, n))]
    if exported:
      raise UserError(
          f"--resume needs {path(workdir)}, but {workdir} holds only word vectors "
          f"({', '.join(exported)}): the output tables, optimizer state and data position "
          "are missing, and fine-tuning from vectors is not resuming; drop --resume to "
          "start a new run")
    raise UserError(f"--resume: no checkpoint in {workdir} to continue from; "
                    "drop --resume to start a new run, or pass the --workdir of the run")
  diffs = differences(meta["settings"], settings(config))
  if diffs:
    raise UserError(
        f"{workdir} holds the checkpoint of an unfinished run with other settings "
        f"({'; '.join(diffs)}); pass the same flags with --resume to continue it, "
        "or use another --workdir")
  if not config.resume:
    raise UserError(
        f"{workdir} holds the checkpoint of an unfinished run ({describe(meta)}); pass "
        "--resume to continue it, or use another --workdir")
  return meta


def describe(meta: dict) -> str:
  done = meta["progress"]["words"] / max(meta["total_words"], 1)
  epoch = min(meta["epoch"] + 1, meta["epochs"])
  return f"step {meta['step']}, epoch {epoch}, {100 * done:.1f}% done"


def check_corpus(meta: dict, corpus: dict, where: str) -> None:
  """Refuses a checkpoint written for another corpus or vocabulary."""
  diffs = [f"{k} {meta['corpus'].get(k)} there, {v} here"
           for k, v in corpus.items() if meta["corpus"].get(k) != v]
  if diffs:
    raise UserError(f"the checkpoint in {where} was written for another corpus "
                    f"({'; '.join(diffs)}); resume on the same file, or use another --workdir")
