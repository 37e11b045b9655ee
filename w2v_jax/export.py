"""What a run exports besides word2vec.c's vector files: which vectors, and params.npz.

`export_vectors` picks the input, output or summed vectors that go into
vectors.bin (written by word2vec_format.py); `write_params` writes every table
plus the vocabulary into one .npz, atomically, and `read_words` reads its
vocabulary back.
"""

import numpy as np

from w2v_jax import files


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
