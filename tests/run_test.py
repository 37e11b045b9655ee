"""The front door: bad input ends with one line on stderr and exit code 2."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOOD = "the cat sat on the mat\nthe dog sat on the log\n" * 5


def _run(tmp_path, *args, corpus_text=GOOD):
  corpus = tmp_path / "corpus.txt"
  if corpus_text is not None and not corpus.exists():
    corpus.write_text(corpus_text)
  env = dict(os.environ, W2V_JAX_CACHE=str(tmp_path / "cache"))
  cmd = [sys.executable, os.path.join(ROOT, "run.py"), f"--workdir={tmp_path / 'work'}",
         f"--corpus={corpus}", *args]
  return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


def _assert_user_error(proc, fragment):
  assert proc.returncode == 2, (proc.returncode, proc.stderr)
  assert "Traceback" not in proc.stderr
  lines = [l for l in proc.stderr.splitlines() if l.strip()]
  assert lines and lines[-1].startswith("error: "), proc.stderr
  assert fragment in lines[-1], lines[-1]


def test_data_mode_reports_and_writes_summary(tmp_path):
  proc = _run(tmp_path, "--mode=data", "--min_count=1")
  assert proc.returncode == 0, proc.stderr
  assert "7 unique words kept of 7, covering 100.00% of 60 tokens" in proc.stderr
  assert os.path.exists(tmp_path / "work" / "data.json")


@pytest.mark.parametrize("args,fragment", [
    (["--negative=0"], "--loss=ns needs --negative >= 1"),
    (["--window=0"], "--window must be at least 1"),
    (["--dim=0"], "--dim must be at least 1"),
    (["--ns_exponent=-1"], "--ns_exponent must be"),
    (["--sample=-0.1"], "--sample must be >= 0"),
    (["--model=glove"], "model"),
    (["--dim=abc"], "dim"),
    (["stray"], "unexpected arguments"),
])
def test_bad_flags(tmp_path, args, fragment):
  _assert_user_error(_run(tmp_path, *args), fragment)


@pytest.mark.parametrize("text,fragment", [
    ("", "holds no words"),
    ("   \n\n\t \n", "holds no words"),
    ("each word here appears once\n", "occur at least --min_count=5 times"),
])
def test_corpora_without_words(tmp_path, text, fragment):
  _assert_user_error(_run(tmp_path, corpus_text=text), fragment)


def test_missing_corpus_and_directory(tmp_path):
  _assert_user_error(_run(tmp_path, f"--corpus={tmp_path / 'nope.txt'}"), "not found")
  _assert_user_error(_run(tmp_path, f"--corpus={tmp_path}"), "is a directory")


def test_no_examples_when_every_sentence_is_one_word(tmp_path):
  _assert_user_error(_run(tmp_path, "--mode=data", "--min_count=1", corpus_text="a\nb\na\nb\n"),
                     "no training examples")


def test_unwritable_workdir(tmp_path):
  blocker = tmp_path / "file"
  blocker.write_text("x")
  _assert_user_error(_run(tmp_path, f"--workdir={blocker / 'sub'}"), "cannot create --workdir")


def test_train_mode_writes_vectors(tmp_path):
  proc = _run(tmp_path, "--min_count=1", "--epochs=2", "--dim=8", "--batch_size=16",
              "--model=cbow", "--loss=hs")
  assert proc.returncode == 0, proc.stderr
  assert "epoch 2/2 100.0%" in proc.stderr and "words/s" in proc.stderr
  for name in ("vectors.bin", "vocab.txt", "params.npz", "config.json", "metrics.jsonl"):
    assert os.path.exists(tmp_path / "work" / name), name


def test_train_mode_refuses_corpus_without_examples(tmp_path):
  _assert_user_error(_run(tmp_path, "--min_count=1", "--sample=0", corpus_text="a\nb\na\nb\n"),
                     "no training examples")


def test_eval_and_neighbors_modes(tmp_path):
  from w2v_jax import export  # pylint: disable=import-outside-toplevel
  import numpy as np  # pylint: disable=import-outside-toplevel
  words = ["king", "queen", "man", "woman", "paris", "france"]
  vectors = np.random.default_rng(0).normal(size=(6, 5)).astype(np.float32)
  vectors[1] = vectors[0] + 0.01
  path = tmp_path / "v.bin"
  export.write_word2vec(str(path), words, vectors)
  proc = _run(tmp_path, "--mode=eval", f"--vectors={path}")
  assert proc.returncode == 0, proc.stderr
  assert "analogy total" in proc.stderr and os.path.exists(tmp_path / "work" / "eval.json")
  proc = _run(tmp_path, "--mode=neighbors", f"--vectors={path}", "--query=king,nosuchword")
  assert proc.returncode == 0, proc.stderr
  assert proc.stdout.splitlines()[0].startswith("king: queen ")
  assert "not in the vocabulary: nosuchword" in proc.stdout


def test_eval_mode_bad_inputs(tmp_path):
  _assert_user_error(_run(tmp_path, "--mode=eval"), "--vectors=PATH")
  bad = tmp_path / "bad.txt"
  bad.write_text("this is not a header\n")
  _assert_user_error(_run(tmp_path, "--mode=eval", f"--vectors={bad}"), "header")
