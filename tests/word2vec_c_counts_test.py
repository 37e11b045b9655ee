"""benchmarks/word2vec_c_counts.py: the counting patch goes where its anchors are, or refuses."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks"))
import word2vec_c_counts  # pylint: disable=wrong-import-position

LOOP = ("        if (hs) for (d = 0; d < vocab[word].codelen; d++) {\n          f = 0;\n"
        "          if (f <= -MAX_EXP) continue;\n          else if (f >= MAX_EXP) continue;\n")
SOURCE = ("#define MAX_CODE_LENGTH 40\n" + LOOP + LOOP +
          "  for (a = 0; a < num_threads; a++) pthread_create(&pt[a], NULL, T, (void *)a);\n"
          "  for (a = 0; a < num_threads; a++) pthread_join(pt[a], NULL);\n")


def test_patch_counts_examples_visits_and_saturated_logits():
  patched = word2vec_c_counts.patch(SOURCE)
  assert patched.count("n_examples++") == 2 and patched.count("n_visits++") == 2
  assert patched.count("{ n_saturated++; continue; }") == 2
  assert "continue;\n          else if" not in patched  # both skips now count
  assert patched.index("clock_gettime(CLOCK_MONOTONIC, &t0)") < patched.index("pthread_create")
  assert patched.index("pthread_join") < patched.index('"COUNTS')


def test_patch_refuses_a_source_without_its_anchors(capsys):
  with pytest.raises(SystemExit) as exit_info:
    word2vec_c_counts.patch(SOURCE.replace(LOOP, "", 1))
  assert exit_info.value.code == 2
  assert capsys.readouterr().err.startswith("error: word2vec.c has 1 copies of")


def test_threads_must_be_counts(capsys):
  assert word2vec_c_counts.parse_args(["--threads=1,2"]).threads == [1, 2]
  for bad in ("x", "0,2", ""):
    with pytest.raises(SystemExit) as exit_info:
      word2vec_c_counts.parse_args([f"--threads={bad}"])
    assert exit_info.value.code == 2
    assert "is not a list of thread counts" in capsys.readouterr().err
