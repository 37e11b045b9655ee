"""word2vec.c's vector files: gensim reads what we write; we read ours, gensim's and old ones."""

import os

import numpy as np
import pytest
from gensim.models import KeyedVectors

from w2v_jax import word2vec_format
from w2v_jax.errors import UserError

WORDS = ["the", "naïve", "日本", "x-y", "</s>"]


# ------------------------------------------------------------------ writing


@pytest.mark.parametrize("binary", [True, False])
def test_gensim_reads_what_we_write(tmp_path, binary):
  vectors = np.random.default_rng(0).normal(size=(5, 7)).astype(np.float32)
  path = str(tmp_path / ("v.bin" if binary else "v.txt"))
  word2vec_format.write_word2vec(path, WORDS, vectors, binary=binary)
  kv = KeyedVectors.load_word2vec_format(path, binary=binary)
  assert kv.index_to_key == WORDS
  if binary:
    np.testing.assert_array_equal(kv.vectors, vectors)
  else:
    np.testing.assert_allclose(kv.vectors, vectors, rtol=1e-5)
  raw = open(path, "rb").read()
  assert raw.startswith(b"5 7\n") and raw.endswith(b"\n")
  if binary:  # each record: word, space, 7 float32, newline
    assert len(raw) == 4 + sum(len(w.encode()) + 1 + 4 * 7 + 1 for w in WORDS)
    offset = 4 + len(WORDS[0].encode()) + 1
    np.testing.assert_array_equal(np.frombuffer(raw[offset:offset + 28], "<f4"), vectors[0])
    assert raw[offset + 28:offset + 29] == b"\n"
  else:
    assert raw.count(b"\n") == 6  # header + one newline after every vector
  assert os.listdir(tmp_path) == [os.path.basename(path)]  # no temporary file left


# ------------------------------------------------------------------ reading


@pytest.fixture
def small():
  rng = np.random.default_rng(4)
  words = ["</s>", "the", "Öl", "naïve", "x" * 30, "a.b"]
  return words, rng.standard_normal((len(words), 7)).astype(np.float32)


@pytest.mark.parametrize("binary", [True, False])
def test_round_trip(tmp_path, small, binary):
  words, vectors_VxD = small
  path = str(tmp_path / ("v.bin" if binary else "v.txt"))
  word2vec_format.write_word2vec(path, words, vectors_VxD, binary=binary)
  got_words, got_VxD = word2vec_format.read_word2vec(path)
  assert got_words == words
  assert got_VxD.dtype == np.float32
  if binary:  # the file holds the float32 bytes themselves
    np.testing.assert_array_equal(got_VxD, vectors_VxD)
  else:  # 6 significant digits
    np.testing.assert_allclose(got_VxD, vectors_VxD, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("binary", [True, False])
def test_reads_gensim_files(tmp_path, small, binary):
  words, vectors_VxD = small
  kv = KeyedVectors(vector_size=vectors_VxD.shape[1])
  kv.add_vectors(words, vectors_VxD)
  path = str(tmp_path / "g")
  kv.save_word2vec_format(path, binary=binary)
  got_words, got_VxD = word2vec_format.read_word2vec(path)
  assert got_words == words
  np.testing.assert_allclose(got_VxD, vectors_VxD, rtol=0 if binary else 1e-6)


@pytest.mark.parametrize("binary", [True, False])
def test_missing_final_newline_and_max_words(tmp_path, small, binary):
  words, vectors_VxD = small
  path = tmp_path / "v"
  word2vec_format.write_word2vec(str(path), words, vectors_VxD, binary=binary)
  path.write_bytes(path.read_bytes()[:-1])
  got_words, got_VxD = word2vec_format.read_word2vec(str(path))
  assert got_words == words
  np.testing.assert_allclose(got_VxD, vectors_VxD, rtol=1e-5)
  got_words, got_VxD = word2vec_format.read_word2vec(str(path), max_words=2)
  assert got_words == words[:2] and got_VxD.shape == (2, 7)


def test_binary_without_newlines_between_rows_and_bad_utf8(tmp_path, small):
  words, vectors_VxD = small
  body = b"".join(w.encode() + b" " + v.tobytes() for w, v in zip(words, vectors_VxD))
  path = tmp_path / "old.bin"
  path.write_bytes(b"7 7\n" + body + b"bad\xff " + vectors_VxD[0].tobytes())
  got_words, got_VxD = word2vec_format.read_word2vec(str(path))
  assert got_words == words + ["bad\ufffd"]
  np.testing.assert_array_equal(got_VxD, np.concatenate([vectors_VxD, vectors_VxD[:1]]))


def test_read_errors(tmp_path, small):
  words, vectors_VxD = small
  with pytest.raises(UserError, match="does not exist"):
    word2vec_format.read_word2vec(str(tmp_path / "none.bin"))
  bad = tmp_path / "bad"
  for header in (b"", b"hello world\n", b"6\n", b"6 0\n"):
    bad.write_bytes(header + b"the 1 2 3\n")
    with pytest.raises(UserError, match="expected 'V D' header"):
      word2vec_format.read_word2vec(str(bad))
  for binary in (True, False):
    path = tmp_path / f"v{binary}"
    word2vec_format.write_word2vec(str(path), words, vectors_VxD, binary=binary)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) * 3 // 4])
    with pytest.raises(UserError, match=r"holds [45] of 6 vectors"):
      word2vec_format.read_word2vec(str(path))
  bad.write_bytes(b"2 3\na 1 2 3\nb 1 2\n")
  with pytest.raises(UserError, match=":3: expected a word and 3 numbers, found 2"):
    word2vec_format.read_word2vec(str(bad))
