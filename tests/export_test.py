import os

import numpy as np
import pytest
from gensim.models import KeyedVectors

from w2v_jax import config as config_lib
from w2v_jax import export
from w2v_jax import resolve as resolve_lib
from w2v_jax.errors import UserError

WORDS = ["the", "naïve", "日本", "x-y", "</s>"]


@pytest.mark.parametrize("binary", [True, False])
def test_gensim_reads_what_we_write(tmp_path, binary):
  vectors = np.random.default_rng(0).normal(size=(5, 7)).astype(np.float32)
  path = str(tmp_path / ("v.bin" if binary else "v.txt"))
  export.write_word2vec(path, WORDS, vectors, binary=binary)
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


def test_export_vectors_in_out_sum():
  params = {"emb_in": np.ones((3, 2)), "emb_out": np.full((3, 2), 2.0)}
  np.testing.assert_array_equal(export.export_vectors(params, "in"), np.ones((3, 2)))
  np.testing.assert_array_equal(export.export_vectors(params, "out"), np.full((3, 2), 2.0))
  np.testing.assert_array_equal(export.export_vectors(params, "in+out"), np.full((3, 2), 3.0))
  with pytest.raises(ValueError):
    export.export_vectors({"emb_in": np.ones((3, 2)), "nodes": np.ones((2, 2))}, "out")


def test_output_vectors_refused_for_hierarchical_softmax():
  with pytest.raises(UserError, match="--loss=hs"):
    resolve_lib.resolve(config_lib.Config(loss="hs", export="in+out"))


def test_params_npz_holds_tables_and_vocabulary(tmp_path):
  path = str(tmp_path / "params.npz")
  params = {"emb_in": np.arange(6.0).reshape(3, 2), "nodes": np.zeros((2, 2))}
  export.write_params(path, params, ["a", "b", "c"], [5, 3, 1])
  loaded = np.load(path)
  assert list(loaded["words"]) == ["a", "b", "c"] and list(loaded["counts"]) == [5, 3, 1]
  assert export.read_words(loaded) == ["a", "b", "c"]
  np.testing.assert_array_equal(loaded["emb_in"], params["emb_in"])
  assert os.listdir(tmp_path) == ["params.npz"]


def test_params_npz_vocabulary_with_a_long_word_stays_small(tmp_path):
  """A fixed-width `words` array would be V x 5,000 chars x 4 bytes; without it the
  file holds the words' UTF-8 text once."""
  words = [f"w{i}" for i in range(2000)] + ["=" * 5000, "naïve"]
  path = str(tmp_path / "params.npz")
  export.write_params(path, {"emb_in": np.zeros((len(words), 2))}, words, np.ones(len(words)))
  loaded = np.load(path)
  assert "words" not in loaded.files
  assert export.read_words(loaded) == words
  assert os.path.getsize(path) < 100_000  # fixed width: 2002 x 5000 x 4 B = 40 MB
