"""word2vec.c's vector files, binary and text: the one place that reads and writes them.

Binary (word2vec.c `-binary 1`): a header line "V D\\n", then per word its UTF-8
bytes, a space, D little-endian float32 values and a newline. Text: the same
header, then "word v1 v2 ... vD\\n" per word. gensim's load_word2vec_format
reads both, and `read_word2vec` reads ours, gensim's, word2vec.c's and
fastText's .vec files, the format detected from the first row.

What a file holds is checked as it is read, so nothing is scored silently
wrong (each a UserError: one error line, exit 2, from run.py):
  * a header claiming 0 rows, or a count that is not the rows present (fewer:
    cut short; more: rows after the V the header names);
  * NaN or infinite values (refuse_non_finite: how many rows, a few of their
    words). Refused rather than skipped: one such row turns every cosine
    against it into NaN, and a file holding them comes from a diverged run or
    damage, so no score on it means what it says.
A word that occurs twice is not an error: gensim's load_word2vec_format keeps
its first row and drops the later ones (warning once per word); so do we,
with one warning line for the file.
"""

import logging
import mmap
import os

import numpy as np

from w2v_jax import files
from w2v_jax.errors import UserError


# ------------------------------------------------------------------ writing


def write_word2vec(path: str, words, vectors_VxD: np.ndarray, binary: bool = True) -> None:
  """Writes words[i] with row i of vectors_VxD, binary or text, atomically (files.py).

  Text values have 6 significant digits, so only the binary file round-trips exactly.
  """
  vectors_VxD = np.asarray(vectors_VxD, dtype=np.float32)
  v, d = vectors_VxD.shape
  if len(words) != v:
    raise ValueError(f"{len(words)} words for {v} vectors")
  with files.atomic_write(path) as f:
    f.write(f"{v} {d}\n".encode())
    for word, row in zip(words, vectors_VxD):
      if binary:
        f.write(word.encode("utf-8") + b" " + row.astype("<f4").tobytes() + b"\n")
      else:
        f.write((word + " " + " ".join(f"{x:.6g}" for x in row) + "\n").encode("utf-8"))


# ------------------------------------------------------------------ reading


def _parse_header(line: bytes, path: str) -> tuple[int, int]:
  parts = line.split()
  try:
    v, d = (int(p) for p in parts)
  except ValueError:
    v = d = -1
  if v < 0 or d <= 0:
    shown = line[:40].decode("utf-8", "replace").strip()
    raise UserError(f"{path}: expected 'V D' header (vector count and dimension), "
                    f"found {shown!r}; is this a word2vec vectors file?")
  return v, d


def _text_row(line: bytes, d: int) -> tuple[str, np.ndarray] | None:
  """One "word v1 .. vD" row, or None if `line` is not one."""
  parts = line.decode("utf-8", "replace").rstrip().split(" ")
  if len(parts) != d + 1:
    return None
  try:
    return parts[0], np.asarray(parts[1:], dtype=np.float32)
  except ValueError:
    return None


def _looks_like_text(data, start: int, d: int) -> bool:
  """Whether the first row after the header parses as a text row.

  A binary row holds 4*D raw bytes after "word "; the chance that they read as
  D decimal numbers ending in a newline is nil.
  """
  end = data.find(b"\n", start)
  line = data[start:end if end >= 0 else len(data)]
  return _text_row(line, d) is not None


def _read_binary(data, pos: int, v: int, d: int, path: str):
  words, chunks = [], []
  row_bytes = 4 * d
  size = len(data)
  for _ in range(v):
    # word2vec.c writes "\n" after each vector, older versions did not.
    while pos < size and data[pos:pos + 1] == b"\n":
      pos += 1
    space = data.find(b" ", pos)
    if space < 0 or space + 1 + row_bytes > size:
      break
    words.append(data[pos:space].decode("utf-8", "replace"))
    chunks.append(data[space + 1:space + 1 + row_bytes])
    pos = space + 1 + row_bytes
  if len(words) < v:
    raise UserError(f"{path} holds {len(words)} of {v} vectors (truncated?); "
                    "re-export or re-download it")
  vectors_VxD = np.frombuffer(b"".join(chunks), dtype="<f4").reshape(v, d)
  return words, vectors_VxD.astype(np.float32), pos


def _read_text(data, pos: int, v: int, d: int, path: str, line_no: int):
  words = []
  vectors_VxD = np.empty((v, d), np.float32)
  size = len(data)
  while len(words) < v and pos < size:
    end = data.find(b"\n", pos)
    end = size if end < 0 else end
    line = data[pos:end]
    pos = end + 1
    line_no += 1
    if not line.strip():
      continue
    row = _text_row(line, d)
    if row is None:
      n = len(line.decode("utf-8", "replace").rstrip().split(" ")) - 1
      if end == size and n < d:
        break  # a cut-off last line: reported as a truncated file below
      raise UserError(f"{path}:{line_no}: expected a word and {d} numbers, found {n} values; "
                      "the file does not match its 'V D' header")
    vectors_VxD[len(words)] = row[1]
    words.append(row[0])
  if len(words) < v:
    raise UserError(f"{path} holds {len(words)} of {v} vectors (truncated?); "
                    "re-export or re-download it")
  return words, vectors_VxD, pos


def refuse_non_finite(words, vectors_VxD: np.ndarray, source: str) -> None:
  """UserError naming how many rows of `source` hold NaN or infinite values, and a few
  of their words (module docstring: why refused)."""
  bad_V = ~np.isfinite(vectors_VxD).all(axis=1)
  if bad_V.any():
    rows = np.flatnonzero(bad_V)
    named = ", ".join(repr(words[i]) for i in rows[:5]) + (", ..." if len(rows) > 5 else "")
    raise UserError(f"{source}: {len(rows)} of {len(bad_V)} vectors hold NaN or infinite "
                    f"values ({named}), which no score can use; they come from a diverged "
                    "run (train again, e.g. with a lower --alpha) or a damaged file")


def _first_of_each(words: list, vectors_VxD: np.ndarray, path: str):
  """Drops the later rows of a word that occurs twice, with one warning (gensim keeps
  the first)."""
  first = {}
  keep = [i for i, w in enumerate(words) if first.setdefault(w, i) == i]
  if len(keep) == len(words):
    return words, vectors_VxD
  repeated = list(dict.fromkeys(words[i] for i in sorted(set(range(len(words))) - set(keep))))
  logging.warning("%s: %d word(s) occur more than once (%s%s); kept the first row of each, "
                  "as gensim does", path, len(repeated), ", ".join(map(repr, repeated[:5])),
                  ", ..." if len(repeated) > 5 else "")
  return [words[i] for i in keep], vectors_VxD[keep]


def read_word2vec(path: str, max_words: int = 0) -> tuple[list[str], np.ndarray]:
  """Reads word2vec.c binary or text vectors; max_words > 0 keeps the first ones.

  Returns (words, vectors_VxD float32), in file order, each word once (its
  first row). Invalid UTF-8 in words is replaced by U+FFFD. A missing final
  newline is fine. UserError for what the module docstring lists.
  """
  if not os.path.isfile(path):
    raise UserError(f"vectors file {path} does not exist; check the path")
  with open(path, "rb") as f:
    if os.fstat(f.fileno()).st_size == 0:
      raise UserError(f"{path}: expected 'V D' header, found an empty file; "
                      "is this a word2vec vectors file?")
    with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
      end = data.find(b"\n")
      if end < 0:
        end = len(data)
      v, d = _parse_header(data[:end], path)
      if v == 0:
        raise UserError(f"{path}: its header says it holds 0 vectors, so there is nothing "
                        "to score; is it the file you meant?")
      header_v, v = v, min(v, max_words) if max_words > 0 else v
      pos = end + 1
      if _looks_like_text(data, pos, d):
        words, vectors_VxD, pos = _read_text(data, pos, v, d, path, line_no=1)
      else:
        words, vectors_VxD, pos = _read_binary(data, pos, v, d, path)
      more = v == header_v and bool(data[pos:].strip())  # only a newline may follow
  if more:
    raise UserError(f"{path} holds more rows than the {header_v} its 'V D' header says: "
                    "the header is wrong or two files were joined; fix the header or "
                    "re-export it")
  words, vectors_VxD = _first_of_each(words, vectors_VxD, path)
  refuse_non_finite(words, vectors_VxD, path)
  return words, vectors_VxD
