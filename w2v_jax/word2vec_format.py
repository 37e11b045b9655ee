"""word2vec.c's vector files, binary and text: the one place that reads and writes them.

Binary (word2vec.c `-binary 1`): a header line "V D\\n", then per word its UTF-8
bytes, a space, D little-endian float32 values and a newline. Text: the same
header, then "word v1 v2 ... vD\\n" per word. gensim's load_word2vec_format
reads both, and `read_word2vec` reads ours, gensim's, word2vec.c's and
fastText's .vec files, the format detected from the first row.
"""

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
  return words, vectors_VxD.astype(np.float32)


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
  return words, vectors_VxD


def read_word2vec(path: str, max_words: int = 0) -> tuple[list[str], np.ndarray]:
  """Reads word2vec.c binary or text vectors; max_words > 0 keeps the first ones.

  Returns (words, vectors_VxD float32), in file order. Invalid UTF-8 in words
  is replaced by U+FFFD. A missing final newline is fine.
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
      if max_words > 0:
        v = min(v, max_words)
      pos = end + 1
      if v == 0:
        return [], np.zeros((0, d), np.float32)
      if _looks_like_text(data, pos, d):
        return _read_text(data, pos, v, d, path, line_no=1)
      return _read_binary(data, pos, v, d, path)
