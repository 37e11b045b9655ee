import collections
import logging

import numpy as np
import pytest

from w2v_jax import vocab as vocab_lib
from w2v_jax.errors import UserError

TEXT = "the cat sat on the mat the dog sat on the log a cat a dog".split()


def _counts(tokens):
  c = collections.Counter(tokens)
  words = list(c)
  return words, np.array([c[w] for w in words])


def test_min_count_one_keeps_every_token():
  words, counts = _counts(TEXT)
  vocab, _ = vocab_lib.build(words, counts, min_count=1)
  assert vocab.total == len(TEXT)
  assert sorted(vocab.words) == sorted(set(TEXT))


def test_order_is_count_desc_then_word_and_independent_of_input_order():
  words, counts = _counts(TEXT)
  vocab, kept = vocab_lib.build(words, counts, min_count=1)
  assert vocab.words[:4] == ("the", "a", "cat", "dog")  # 4, then 2,2,2 in word order
  pairs = list(zip((-vocab.counts).tolist(), vocab.words))
  assert pairs == sorted(pairs)
  assert [words[i] for i in kept] == list(vocab.words)
  perm = np.random.default_rng(0).permutation(len(words))
  vocab2, _ = vocab_lib.build([words[i] for i in perm], counts[perm], min_count=1)
  assert vocab2.words == vocab.words
  np.testing.assert_array_equal(vocab2.counts, vocab.counts)


def test_min_count_and_exact_max_vocab():
  words, counts = _counts(TEXT)
  vocab, _ = vocab_lib.build(words, counts, min_count=2)
  assert set(vocab.words) == {"the", "a", "cat", "dog", "on", "sat"}
  top3, _ = vocab_lib.build(words, counts, min_count=1, max_vocab=3)
  assert top3.words == ("the", "a", "cat")  # the tie at count 2 is cut by word order


def test_logs_what_was_kept(caplog):
  words, counts = _counts(TEXT)
  with caplog.at_level(logging.INFO):
    vocab_lib.build(words, counts, min_count=2)
  assert "6 unique words kept of 8, covering 87.50% of 16 tokens" in caplog.text


def test_save_load_round_trip(tmp_path):
  words, counts = _counts(TEXT + ["naïve", "日本"])
  vocab, _ = vocab_lib.build(words, counts, min_count=1)
  path = str(tmp_path / "vocab.txt")
  vocab_lib.save(vocab, path)
  lines = open(path, encoding="utf-8").read().splitlines()
  assert lines[0] == "the 4"
  loaded = vocab_lib.load(path)
  assert loaded.words == vocab.words
  np.testing.assert_array_equal(loaded.counts, vocab.counts)


def test_load_rejects_wrong_format(tmp_path):
  path = tmp_path / "bad.txt"
  path.write_text("the 4\nthis is not a vocab line\n")
  with pytest.raises(UserError, match="expected 'word count'"):
    vocab_lib.load(str(path))
