"""The corpus cache's folders (corpus.py): their names, and checking a stage as it is opened.

`file_key` names a corpus file's folder: a hash of everything that changes
when its content can have changed (real path, device, inode, size, mtime and
ctime in nanoseconds, a fingerprint of the bytes) and of the reading settings.
Folders named by the key of earlier versions (path, size and mtime only) are
simply never found again: a cache miss, the text read once more (delete them
to free the space). FORMAT_VERSION is that of the stages' files.

`cached(folder, build, check)` opens a stage (corpus.scan's or corpus.encode's
folder), building it if missing. `check_scan` and `check_encoded` read its
files and hold them against each other (counts against stats.json, ids
against the vocabulary, sizes against offsets); a stage that fails (a file cut
short, overwritten or deleted since it was built) is logged in one warning
line, removed and rebuilt. A stage damaged again right after its rebuild is a
disk problem: UserError.
"""

import hashlib
import json
import logging
import os
import shutil

import numpy as np

from w2v_jax import files
from w2v_jax import vocab as vocab_lib
from w2v_jax.errors import UserError

FORMAT_VERSION = 1
READ_BYTES = 1 << 20
# The content fingerprint hashes files up to this size whole, larger ones in
# FINGERPRINT_BLOCKS samples (fingerprint).
FINGERPRINT_WHOLE_BYTES = 64 << 20
FINGERPRINT_BLOCKS = 16


def read_words(path: str) -> list[str]:
  """corpus.scan's words.txt: one word a line."""
  with open(path, encoding="utf-8", newline="\n") as f:
    return f.read().split("\n")[:-1]


def _count_lines(path: str) -> int:
  """Newlines in a file, read as bytes (no decoding: a check that costs little)."""
  with open(path, "rb") as f:
    return sum(block.count(b"\n") for block in iter(lambda: f.read(READ_BYTES), b""))


def fingerprint(path: str, size: int) -> str:
  """sha256 of the file's bytes: all of them up to FINGERPRINT_WHOLE_BYTES, else the
  first and last MiB and 14 blocks of 64 KiB evenly spaced between.

  ctime, which no utime() can set back, is the main guard against an edit in
  place; the fingerprint also catches a file whose metadata says nothing
  (a filesystem with coarse or missing ctime).
  Cost, measured on a 60 MB file in the page cache (2-core AMD EPYC): 48 ms
  whole (so every corpus up to 64 MiB is hashed whole), 3 ms sampled; from a
  cold disk, about the time to read those bytes once.
  """
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    if size <= FINGERPRINT_WHOLE_BYTES:
      while block := f.read(READ_BYTES):
        digest.update(block)
    else:
      ends, sample = 1 << 20, 1 << 16
      for k in range(FINGERPRINT_BLOCKS):
        last = k == FINGERPRINT_BLOCKS - 1
        f.seek(size - ends if last else (size - ends) * k // (FINGERPRINT_BLOCKS - 1))
        digest.update(f.read(ends if k == 0 or last else sample))
  return digest.hexdigest()


def file_key(path: str, lowercase: bool, max_sentence_length: int) -> str:
  """The cache folder's name: changes whenever the file's content can have changed."""
  st = os.stat(path)
  ident = {"path": os.path.realpath(path), "device": st.st_dev, "inode": st.st_ino,
           "size": st.st_size, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns,
           "content": fingerprint(path, st.st_size),
           "lowercase": lowercase, "max_sentence_length": max_sentence_length,
           "format": FORMAT_VERSION}
  digest = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]
  name = "".join(c if c.isalnum() or c in "-_." else "_" for c in os.path.basename(path))
  return f"{name[:40]}-{digest}"


class Damaged(Exception):
  """A cache stage that exists but does not hold what its build wrote."""


# What reading a damaged cache file raises: a missing or short file (OSError,
# EOFError), a bad .npy header or JSON (ValueError), a missing key (KeyError),
# a vocab.txt line that is not `word count` (UserError, a ValueError).
_READ_ERRORS = (OSError, EOFError, ValueError, KeyError, TypeError)


def check_scan(scan_dir: str) -> dict:
  """Stage 1's stats, once its files are found to agree with each other; else Damaged."""
  try:
    with open(os.path.join(scan_dir, "stats.json")) as f:
      stats = json.load(f)
    tokens, unique = int(stats["tokens"]), int(stats["unique_words"])
    words = _count_lines(os.path.join(scan_dir, "words.txt"))
    counts = np.load(os.path.join(scan_dir, "counts.npy"), mmap_mode="r")
    offsets = np.load(os.path.join(scan_dir, "offsets.npy"), mmap_mode="r")
    raw_bytes = os.path.getsize(os.path.join(scan_dir, "raw_ids.bin"))
  except _READ_ERRORS as e:
    raise Damaged(f"{type(e).__name__}: {e}") from None
  problems = [what for what, bad in (
      ("words.txt", words != unique),
      ("counts.npy", counts.shape != (unique,) or int(counts.sum()) != tokens),
      ("offsets.npy", offsets.ndim != 1 or len(offsets) < 1 or int(offsets[0]) != 0
       or int(offsets[-1]) != tokens),
      ("raw_ids.bin", raw_bytes != 4 * tokens)) if bad]
  if problems:
    raise Damaged(f"{', '.join(problems)} disagree(s) with stats.json")
  return stats


def check_encoded(enc_dir: str):
  """Stage 2's (vocab or None, ids, offsets), checked against each other; else Damaged."""
  try:
    vocab_path = os.path.join(enc_dir, "vocab.txt")
    vocab = vocab_lib.load(vocab_path) if os.path.getsize(vocab_path) else None
    ids = np.load(os.path.join(enc_dir, "ids.npy"), mmap_mode="r")
    offsets = np.load(os.path.join(enc_dir, "offsets.npy"))
  except _READ_ERRORS as e:
    raise Damaged(f"{type(e).__name__}: {e}") from None
  size = len(vocab) if vocab else 0
  if (ids.dtype != np.int32 or ids.ndim != 1 or len(ids) != (vocab.total if vocab else 0)
      or offsets.ndim != 1 or len(offsets) < 1 or int(offsets[0]) != 0
      or int(offsets[-1]) != len(ids) or np.any(np.diff(offsets) <= 0)):
    raise Damaged("vocab.txt, ids.npy and offsets.npy disagree")
  # An id out of range would be clamped by the device's gather, silently:
  # a pass over the ids (6 ms per 10M tokens in the page cache) rules it out.
  if len(ids) and not 0 <= int(ids.min()) <= int(ids.max()) < size:
    raise Damaged(f"ids.npy holds ids outside the vocabulary of {size} words")
  return vocab, ids, offsets


def cached(folder: str, build, check):
  """check(folder) of the cache stage `folder`, built first if missing, and rebuilt
  (with one warning line) if what is there is damaged."""
  files.build_folder(folder, build)
  try:
    return check(folder)
  except Damaged as e:
    logging.warning("cache entry %s was damaged (%s); rebuilt it", folder, e)
  shutil.rmtree(folder, ignore_errors=True)
  files.build_folder(folder, build)
  try:
    return check(folder)
  except Damaged as e:
    raise UserError(f"cache entry {folder} is damaged again right after being rebuilt "
                    f"({e}): check the disk, or pass another --cache_dir") from None
