"""Files and folders written whole or not at all.

Every output of a run (vectors, tables, vocabulary, JSON records, the
checkpoint) and every cached corpus stage is written under a temporary name
beside its final one and renamed into place when complete: the rename is
atomic within a folder, so a reader, a resumed run or a run killed at any
moment sees the old file or the new one, never half of one.

* `atomic_write(path, mode)`: a context manager giving the open temporary
  file; it is flushed, fsync'ed and renamed over `path` when the body ends,
  and removed if the body raises. An OSError while writing (a full disk, no
  permission) becomes a `WriteError`, a UserError naming the file: one
  `error:` line, not a chain of tracebacks.
* `write_json(path, obj)`: the run records (config.json, summary.json, ...).
* `build_folder(final_dir, build)`: the same for a folder (the corpus caches).
* `fsync_folder(folder)`: makes a rename itself durable (the checkpoint).
* `is_temporary(name)`, `sha256(path)`: what a cleanup removes; what eval.json
  records of the file it scored.
"""

import contextlib
import hashlib
import json
import os
import re
import shutil
import time

from w2v_jax.errors import UserError

_TEMPORARY = re.compile(r"\.tmp-\d+(-\d+)?$")  # atomic_write's and build_folder's names


class WriteError(UserError):
  """A file could not be written (disk full, no permission, read-only); it keeps its old
  content and no temporary file is left."""


@contextlib.contextmanager
def atomic_write(path: str, mode: str = "wb", **open_kwargs):
  """Yields a file open on `path`.tmp-PID; renames it over `path` when the body ends.

  fsync before the rename: without it a crash soon after could leave the new
  name pointing at data still in the page cache, i.e. an empty or short file.
  If the body raises (Ctrl-C included), the temporary file is removed and
  `path` keeps whatever it held before. `open_kwargs` go to open() (encoding,
  newline). The temporary file is created by open(), so it gets the same
  permissions as a file written directly (tempfile.mkstemp would make it 0600).
  """
  tmp = f"{path}.tmp-{os.getpid()}"
  try:
    with open(tmp, mode, **open_kwargs) as f:
      yield f
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
  except BaseException as e:
    with contextlib.suppress(OSError):
      os.remove(tmp)
    if isinstance(e, OSError):
      raise WriteError(f"cannot write {path} ({e.strerror or e})") from None
    raise


def is_temporary(name: str) -> bool:
  """Whether `name` is a temporary file or folder of an interrupted atomic_write or build_folder."""
  return bool(_TEMPORARY.search(name))


def sha256(path: str) -> str:
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      digest.update(block)
  return digest.hexdigest()


def write_json(path: str, obj) -> None:
  """`obj` as JSON (indent 1, sorted keys, a final newline), written atomically."""
  with atomic_write(path, "w") as f:
    json.dump(obj, f, indent=1, sort_keys=True)
    f.write("\n")


def build_folder(final_dir: str, build) -> None:
  """Runs build(tmp_dir), then renames tmp_dir to final_dir.

  A folder that exists is complete. If another process finishes first, its
  copy is kept and ours is removed, as is a half-built one if `build` raises.
  `build` creates tmp_dir itself.
  """
  if os.path.isdir(final_dir):
    return
  tmp = f"{final_dir}.tmp-{os.getpid()}-{time.time_ns()}"
  try:
    build(tmp)
    try:
      os.rename(tmp, final_dir)
    except OSError:  # another process finished first; theirs is as good
      if not os.path.isdir(final_dir):
        raise
  finally:
    shutil.rmtree(tmp, ignore_errors=True)


def fsync_folder(folder: str) -> None:
  """Makes a rename in `folder` durable (not possible on every platform)."""
  try:
    fd = os.open(folder, os.O_RDONLY)
  except OSError:
    return
  try:
    os.fsync(fd)
  except OSError:
    pass
  finally:
    os.close(fd)
