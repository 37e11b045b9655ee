"""Vocabulary: exact counts, min_count / max_vocab, a deterministic order.

Order is count descending, then the word (Python string order, i.e. by code
point), so id 0 is the most frequent word and equal counts never depend on the
order in which words were first seen. word2vec.c sorts by count only (qsort, so
ties fall in an unspecified order) and keeps a `</s>` sentence marker at id 0;
we keep sentence boundaries out of the vocabulary (see corpus.py) instead.
"""

import dataclasses
import logging
from typing import Sequence

import numpy as np

from w2v_jax import files
from w2v_jax.errors import UserError


@dataclasses.dataclass(frozen=True)
class Vocab:
  words: tuple[str, ...]   # [V], id -> word
  counts: np.ndarray       # [V] int64, id -> corpus count

  def __len__(self) -> int:
    return len(self.words)

  def index(self) -> dict[str, int]:
    """word -> id (built on demand; callers that look up often should keep it)."""
    return {w: i for i, w in enumerate(self.words)}

  @property
  def total(self) -> int:
    """Tokens of the corpus covered by this vocabulary."""
    return int(self.counts.sum())


def build(words: Sequence[str], counts: np.ndarray, min_count: int,
          max_vocab: int = 0) -> tuple[Vocab, np.ndarray]:
  """Selects and orders the vocabulary from exact counts.

  Args:
    words: [M] the distinct words of the corpus, in any order.
    counts: [M] their counts.
    min_count: drop words seen fewer times.
    max_vocab: keep only the most frequent `max_vocab` words after min_count
      (exact top-K, ties broken by the word); 0 = no cap.

  Returns:
    (vocab, kept) where kept[i] is the index into `words` of vocabulary id i.
  """
  counts = np.asarray(counts, dtype=np.int64)
  survivors = np.flatnonzero(counts >= min_count)
  # Sort (-count, word) pairs: exact and deterministic; done once per vocabulary.
  order = sorted(survivors.tolist(), key=lambda i: (-counts[i], words[i]))
  if max_vocab:
    order = order[:max_vocab]
  kept = np.asarray(order, dtype=np.int64)
  vocab = Vocab(words=tuple(words[i] for i in order), counts=counts[kept])
  total = int(counts.sum())
  covered = vocab.total
  logging.info("%d unique words kept of %d, covering %.2f%% of %d tokens "
               "(min_count=%d, max_vocab=%d)", len(vocab), len(words),
               100.0 * covered / max(total, 1), total, min_count, max_vocab)
  return vocab, kept


def save(vocab: Vocab, path: str) -> None:
  """Writes word2vec.c's `-save-vocab` format: `word count` per line, UTF-8."""
  with files.atomic_write(path, "w", encoding="utf-8", newline="\n") as f:
    for word, count in zip(vocab.words, vocab.counts.tolist()):
      f.write(f"{word} {count}\n")


def load(path: str) -> Vocab:
  """Reads a `word count` per line file (ours, word2vec.c's or gensim's)."""
  words, counts = [], []
  try:
    with open(path, encoding="utf-8", errors="strict") as f:
      for lineno, line in enumerate(f, 1):
        parts = line.split()
        if not parts:
          continue
        if len(parts) != 2 or not parts[1].isdigit():
          raise UserError(f"{path}:{lineno}: expected 'word count', got "
                          f"{line.strip()[:80]!r}; is it a vocabulary file, and whole?")
        words.append(parts[0])
        counts.append(int(parts[1]))
  except UnicodeDecodeError as e:
    raise UserError(f"vocabulary file {path} is not UTF-8 text ({e.reason}): it is damaged "
                    "or not a vocabulary; write it again or pass another") from None
  except OSError as e:
    raise UserError(f"cannot read vocabulary file {path} ({e.strerror or e})") from None
  if not words:
    raise UserError(f"vocabulary file {path} holds no words")
  return Vocab(words=tuple(words), counts=np.asarray(counts, dtype=np.int64))
