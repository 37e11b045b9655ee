"""Reading a large corpus file in parts on several cores (corpus.scan, stage 1).

Tokenising is Python work (str.split and a dict lookup per token, ~2-3M tokens/s
on one core), so on a machine with spare cores a large uncompressed file is cut
at line ends into up to MAX_PARTS byte ranges of at least PART_BYTES each; the
first range is read in this process, each other one by a child process
(`python -m w2v_jax.corpus --read_part ...`, which imports numpy, not JAX),
and the parts are merged in order. The merge gives each part's new words the
next ids in that part's first-seen order, so the words, counts, ids and
sentence offsets are byte for byte those of reading the file in one pass
(tests/scan_parts_test.py). Cuts fall only after a newline, where a line, and so
--max_sentence_length's chunking of it, begins afresh; a file with no newline
in the second half (text8 is one line), a compressed file or one core means
one part. A child that fails is not an error: its range is read here instead.
"""

import contextlib
import dataclasses
import json
import logging
import os
import subprocess
import sys
from typing import Optional

import numpy as np

from w2v_jax import corpus_cache

PART_BYTES = 16 << 20   # a child costs ~0.2 s to start; below this a part does not pay
MAX_PARTS = 8
_FIND_BYTES = 1 << 16
_REMAP_IDS = 1 << 24    # a part's ids are remapped this many at a time (bounded memory)


def _cores() -> int:
  try:
    return len(os.sched_getaffinity(0))
  except AttributeError:  # not on Linux
    return os.cpu_count() or 1


def compression(path: str) -> Optional[str]:
  """"gzip", "bzip2" or None (plain), by the file's magic bytes: what corpus.open_binary
  opens it with, and whether it can be cut here (a compressed stream cannot be sought)."""
  with open(path, "rb") as f:
    magic = f.read(3)
  if magic[:2] == b"\x1f\x8b":
    return "gzip"
  return "bzip2" if magic == b"BZh" else None


def split(path: str, parts: Optional[int] = None) -> list:
  """[(start, end)] byte ranges covering the file, cut after newlines; the last end
  is None (to the end). One range unless the file is large, plain and cores are spare."""
  size = os.path.getsize(path)
  if parts is None:
    parts = min(_cores(), MAX_PARTS, size // PART_BYTES)
  if parts < 2 or compression(path):
    return [(0, None)]
  cuts = []
  with open(path, "rb") as f:
    for i in range(1, parts):
      pos = max(i * size // parts, cuts[-1] + 1 if cuts else 1)
      f.seek(pos - 1)  # a newline just before the target is a cut at it
      while True:
        block = f.read(_FIND_BYTES)
        newline = block.find(b"\n")
        if newline >= 0 or not block:
          break
        pos += len(block)
      cut = pos + newline if newline >= 0 else size
      if cut < size and (not cuts or cut > cuts[-1]):
        cuts.append(cut)
  bounds = [0] + cuts
  return [(a, b) for a, b in zip(bounds, cuts + [None])]


@dataclasses.dataclass
class Child:
  start: int
  end: Optional[int]
  folder: str
  process: Optional[subprocess.Popen]


def start_children(path: str, lowercase: bool, max_sentence_length: int, ranges: list,
                   out_dir: str) -> list:
  """One child process per range, each writing its part into out_dir/part-K/."""
  package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(
      p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p))
  children = []
  for k, (start, end) in enumerate(ranges, 1):
    folder = os.path.join(out_dir, f"part-{k}")
    try:
      process = subprocess.Popen(
          [sys.executable, "-m", "w2v_jax.corpus", "--read_part", path, str(start), str(end),
           str(int(lowercase)), str(max_sentence_length), folder],
          env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except OSError as e:  # no process to be had: read the range here
      logging.info("could not start a process to read part %d of %s (%s)", k, path, e)
      process = None
    children.append(Child(start, end, folder, process))
  return children


@contextlib.contextmanager
def stopped_at_exit(children: list):
  """Within: the children run; leaving early (an error, Ctrl-C) kills those still running."""
  try:
    yield
  finally:
    for child in children:
      if child.process is not None and child.process.poll() is None:
        child.process.kill()
        child.process.communicate()


def finished(child: Child) -> bool:
  """Waits for the child; whether its part is there to merge."""
  if child.process is None:
    return False
  _, err = child.process.communicate()
  if child.process.returncode != 0 or not os.path.exists(os.path.join(child.folder, "done")):
    last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
    logging.info("reading bytes %d-%s in a child process failed (%s); read them here",
                 child.start, child.end, last[0])
    return False
  return True


def merge(child: Child, lookup, ids_file, stats, lengths_all: list) -> None:
  """Appends a child's part: its words take the next ids in its first-seen order."""
  folder = child.folder
  words = corpus_cache.read_words(os.path.join(folder, "words.txt"))
  remap = np.fromiter(map(lookup, words), dtype=np.int32, count=len(words))
  raw_path = os.path.join(folder, "raw_ids.bin")
  if os.path.getsize(raw_path):
    local = np.memmap(raw_path, dtype=np.int32, mode="r")
    for a in range(0, len(local), _REMAP_IDS):
      remap[local[a:a + _REMAP_IDS]].tofile(ids_file)
    del local
  lengths_all.append(np.load(os.path.join(folder, "lengths.npy")))
  with open(os.path.join(folder, "stats.json")) as f:
    add_stats(stats, json.load(f))


def add_stats(stats, part: dict) -> None:
  """Adds a part's counts (corpus.ReadStats' fields, all sums) into stats."""
  for name, value in part.items():
    setattr(stats, name, getattr(stats, name) + value)
