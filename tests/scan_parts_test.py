"""Reading a corpus in parts on several processes gives the one-pass scan's files byte for byte."""

import filecmp
import gzip
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from w2v_jax import corpus as corpus_lib
from w2v_jax import scan_parts

STAGE_FILES = ("words.txt", "counts.npy", "offsets.npy", "raw_ids.bin")


def _text(seed=0, lines=400):
  """Lines of varied length (some empty, some past a 12-token limit), multi-byte words,
  stray invalid bytes, mixed case, and no newline at the very end."""
  rng = np.random.default_rng(seed)
  words = ["a", "The", "the", "bb", "d\u00e9j\u00e0", "\u65e5\u672c", "x" * 9, "Zz"]
  out = []
  for i in range(lines):
    n = int(rng.integers(0, 30))
    line = " ".join(rng.choice(words, size=n)).encode()
    if i % 37 == 5:
      line += b" bad\xff"
    out.append(line)
  return b"\n".join(out) + b"\nlast line without newline"


def _scan(path, folder, parts, monkeypatch, lowercase=False, max_len=12):
  monkeypatch.setattr(scan_parts, "PART_BYTES", 1 if parts > 1 else 1 << 40)
  monkeypatch.setattr(scan_parts, "_cores", lambda: parts)
  corpus_lib.scan(str(path), lowercase, max_len, str(folder))
  with open(folder / "stats.json") as f:
    return json.load(f)


@pytest.mark.parametrize("lowercase", [False, True])
def test_parts_give_the_one_pass_files(tmp_path, monkeypatch, lowercase):
  path = tmp_path / "corpus.txt"
  path.write_bytes(_text())
  one = _scan(path, tmp_path / "one", 1, monkeypatch, lowercase)
  merged, real_merge = [], scan_parts.merge
  monkeypatch.setattr(scan_parts, "merge", lambda child, *a: (merged.append(child.start),
                                                             real_merge(child, *a)))
  four = _scan(path, tmp_path / "four", 4, monkeypatch, lowercase)
  assert one["parts"] == 1 and four["parts"] == 4
  assert len(merged) == 3  # the three child processes' parts, not read here after a failure
  for name in STAGE_FILES:
    assert filecmp.cmp(tmp_path / "one" / name, tmp_path / "four" / name, shallow=False), name
  for key in ("lines", "tokens", "sentences", "split_lines", "invalid_bytes", "unique_words"):
    assert one[key] == four[key], key
  assert one["split_lines"] > 0 and one["invalid_bytes"] > 0  # the text exercises both
  assert sorted(os.listdir(tmp_path / "four")) == sorted(STAGE_FILES + ("stats.json",))


def test_a_failed_child_is_read_in_this_process(tmp_path, monkeypatch):
  path = tmp_path / "corpus.txt"
  path.write_bytes(_text(seed=1))
  _scan(path, tmp_path / "one", 1, monkeypatch)
  real_start = scan_parts.start_children

  def failing(*args):
    children = real_start(*args)
    for child in children:
      child.process.wait()
      child.process = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(3)"],
                                       stderr=subprocess.PIPE)
    return children
  monkeypatch.setattr(scan_parts, "start_children", failing)
  stats = _scan(path, tmp_path / "failed", 3, monkeypatch)
  assert stats["parts"] == 3
  for name in STAGE_FILES:
    assert filecmp.cmp(tmp_path / "one" / name, tmp_path / "failed" / name, shallow=False)


def test_split_cuts_only_after_newlines(tmp_path):
  path = tmp_path / "a.txt"
  data = b"one two\nthree\n\nfour five six\nseven\n" * 50
  path.write_bytes(data)
  ranges = scan_parts.split(str(path), parts=5)
  assert len(ranges) == 5 and ranges[0][0] == 0 and ranges[-1][1] is None
  for (_, end), (start, _) in zip(ranges, ranges[1:]):
    assert end == start and data[start - 1:start] == b"\n"


def test_one_part_without_a_newline_compressed_or_small(tmp_path):
  one_line = tmp_path / "text8"
  one_line.write_bytes(b"word " * 10_000)
  assert scan_parts.split(str(one_line), parts=4) == [(0, None)]
  packed = tmp_path / "a.txt.gz"
  with gzip.open(packed, "wb") as f:
    f.write(b"a b\n" * 10_000)
  assert scan_parts.split(str(packed), parts=4) == [(0, None)]
  small = tmp_path / "small.txt"
  small.write_bytes(b"a b\n" * 100)
  assert scan_parts.split(str(small)) == [(0, None)]  # below PART_BYTES


def test_an_error_here_stops_the_children(tmp_path, monkeypatch):
  path = tmp_path / "corpus.txt"
  path.write_bytes(_text(seed=2))
  started = []
  real_start, real_range = scan_parts.start_children, corpus_lib.scan_range

  def start(*args):
    started.extend(real_start(*args))
    for child in started:  # children that would outlive the error
      child.process.kill()
      child.process.wait()
      child.process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                       stderr=subprocess.PIPE)
    return started

  def failing_range(*args):
    raise OSError("disk gone")
  monkeypatch.setattr(scan_parts, "start_children", start)
  monkeypatch.setattr(corpus_lib, "scan_range", failing_range)
  with pytest.raises(OSError):
    _scan(path, tmp_path / "out", 3, monkeypatch)
  assert len(started) == 2 and all(c.process.poll() is not None for c in started)
  monkeypatch.setattr(corpus_lib, "scan_range", real_range)
