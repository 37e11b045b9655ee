import os

import numpy as np
import pytest

from w2v_jax import config as config_lib
from w2v_jax import export
from w2v_jax import resolve as resolve_lib
from w2v_jax.errors import UserError


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
