"""word2vec.c's vector formats and an npz of every table; all writes atomic.

Binary (word2vec.c `-binary 1`): a header line "V D\\n", then per word its UTF-8
bytes, a space, D little-endian float32 values and a newline. Text: the same
header, then "word v1 v2 ... vD\\n" per word. gensim's load_word2vec_format
reads both.
"""

import os

import numpy as np


def _atomic_path(path: str) -> str:
  return f"{path}.tmp-{os.getpid()}"


def write_word2vec(path: str, words, vectors_VxD: np.ndarray, binary: bool = True) -> None:
  vectors_VxD = np.asarray(vectors_VxD, dtype=np.float32)
  v, d = vectors_VxD.shape
  if len(words) != v:
    raise ValueError(f"{len(words)} words for {v} vectors")
  tmp = _atomic_path(path)
  with open(tmp, "wb") as f:
    f.write(f"{v} {d}\n".encode())
    for word, row in zip(words, vectors_VxD):
      if binary:
        f.write(word.encode("utf-8") + b" " + row.astype("<f4").tobytes() + b"\n")
      else:
        f.write((word + " " + " ".join(f"{x:.6g}" for x in row) + "\n").encode("utf-8"))
  os.replace(tmp, path)


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


def write_params(path: str, params: dict, words, counts) -> None:
  """Every table plus the vocabulary, in one .npz."""
  tmp = _atomic_path(path) + ".npz"  # np.savez appends .npz to names without it
  arrays = {k: np.asarray(v) for k, v in params.items()}
  np.savez(tmp, words=np.asarray(words, dtype=str), counts=np.asarray(counts), **arrays)
  os.replace(tmp, path)
