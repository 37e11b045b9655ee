"""word2vec.c's vector formats and an npz of every table; all writes atomic.

Binary (word2vec.c `-binary 1`): a header line "V D\\n", then per word its UTF-8
bytes, a space, D little-endian float32 values and a newline. Text: the same
header, then "word v1 v2 ... vD\\n" per word. gensim's load_word2vec_format
reads both.
"""

import numpy as np

from w2v_jax import files


def write_word2vec(path: str, words, vectors_VxD: np.ndarray, binary: bool = True) -> None:
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


def export_vectors(params: dict, which: str) -> np.ndarray:
  """The vectors to export: emb_in ("in"), emb_out ("out") or their sum ("in+out",
  as Levy, Goldberg & Dagan 2015 suggest)."""
  if which == "in":
    return np.asarray(params["emb_in"])
  if "emb_out" not in params:
    raise ValueError("no per-word output vectors (hierarchical softmax)")
  if which == "out":
    return np.asarray(params["emb_out"])
  return np.asarray(params["emb_in"]) + np.asarray(params["emb_out"])


# params.npz's `words` is a fixed-width array, V x the longest word x 4 bytes:
# written only while no word is longer than this (word2vec.c's MAX_STRING). A
# vocabulary with a longer word (a run of '=' kept by min_count, a URL) would
# make it GiBs at the end of a run; `words_utf8` is always written.
FIXED_WIDTH_WORD_CHARS = 100


def write_params(path: str, params: dict, words, counts) -> None:
  """Every table plus the vocabulary, in one .npz.

  The vocabulary: `counts`, `words_utf8` (the words joined by newlines, UTF-8
  bytes; read_words) and, while no word is longer than FIXED_WIDTH_WORD_CHARS,
  `words` as a NumPy string array.
  """
  arrays = {k: np.asarray(v) for k, v in params.items()}
  vocab = {"words_utf8": np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8),
           "counts": np.asarray(counts)}
  if max(map(len, words), default=0) <= FIXED_WIDTH_WORD_CHARS:
    vocab["words"] = np.asarray(words, dtype=str)
  with files.atomic_write(path) as f:  # a file object: np.savez appends .npz to a name
    np.savez(f, **vocab, **arrays)


def read_words(npz) -> list[str]:
  """The vocabulary of a loaded params.npz (np.load), whatever its words' lengths."""
  text = npz["words_utf8"].tobytes().decode("utf-8")
  return text.split("\n") if text or len(npz["counts"]) else []
