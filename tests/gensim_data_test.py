"""The installed gensim's test data: found, or one line that says how to get it."""

import os

import pytest

from w2v_jax import config as config_lib
from w2v_jax import gensim_data
from w2v_jax import metrics
from w2v_jax import resolve as resolve_lib
from w2v_jax.corpora import offline
from w2v_jax.errors import UserError


def test_gensim_test_file_exists():
  for name in (metrics.ANALOGIES, metrics.WS353, metrics.SIMLEX):
    assert os.path.isfile(gensim_data.find(name))
  with pytest.raises(UserError, match="missing"):
    gensim_data.find("no-such-file.txt")


def test_missing_file_names_itself_the_version_and_the_fix():
  import gensim  # pylint: disable=import-outside-toplevel
  with pytest.raises(UserError) as e:
    gensim_data.find("no-such-file.txt")
  assert str(e.value) == (f"no-such-file.txt is missing from the installed gensim "
                          f"{gensim.__version__}; {gensim_data.REINSTALL}")
  with pytest.raises(UserError, match=r"test/no-such-file\.txt is missing.*; do this$"):
    gensim_data.find("test/no-such-file.txt", folder="", fix="do this")


def test_a_directory_is_not_a_file():
  with pytest.raises(UserError, match="missing"):
    gensim_data.find("", folder=gensim_data.TEST_DATA)


def test_offline_corpus_checks_gensim_files_against_their_pin():
  lee = next(s.archive for s in offline.SOURCES if s.name == "lee")
  assert offline.fetch(lee, "unused") == gensim_data.find("lee_background.cor")
  tampered = offline.Archive("gensim", "gensim", lee.version, "0" * 64, lee.filename)
  with pytest.raises(UserError, match=f"should have 0000.*pip install gensim=={lee.version}$"):
    offline.fetch(tampered, "unused")
  moved = offline.Archive("gensim", "gensim", lee.version, lee.sha256, "test/test_data/nothing")
  with pytest.raises(UserError, match=f"test_data/nothing is missing from the installed gensim "
                                      rf".*; run: pip install gensim=={lee.version}$"):
    offline.fetch(moved, "unused")


def test_a_file_setting_names_gensim_data_or_a_path(tmp_path):
  assert gensim_data.file_path("gensim:questions-words.txt") == gensim_data.find(
      "questions-words.txt")
  assert gensim_data.file_path(str(tmp_path / "mine.txt")) == str(tmp_path / "mine.txt")
  with pytest.raises(UserError, match="nope.txt is missing"):
    gensim_data.file_path("gensim:nope.txt")
  with pytest.raises(UserError, match="--ws353 must name a file"):
    resolve_lib.validate(config_lib.Config(ws353=""))
