"""The pictures: each command writes a PNG that is a real image of a sensible size."""

import os
import struct
import subprocess
import sys

import numpy as np
import pytest

import w2v_jax
from tests.train_test import _config
from w2v_jax import loop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _png_size(path) -> tuple:
  """(width, height) from the IHDR chunk; fails on anything that is not a PNG."""
  with open(path, "rb") as f:
    head = f.read(24)
  assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", path
  return struct.unpack(">II", head[16:24])


def _sensible(path):
  width, height = _png_size(path)
  assert 300 <= width <= 3000 and 200 <= height <= 3000, (width, height)
  assert os.path.getsize(path) > 5000  # something is drawn, not an empty canvas


@pytest.fixture(scope="module")
def run(tmp_path_factory):
  tmp = tmp_path_factory.mktemp("plots")
  config = _config(tmp, epochs=2, log_every_secs=0.0)
  loop.train(config)
  return config


def test_every_run_draws_its_training_curves(run):
  _sensible(os.path.join(run.workdir, "training.png"))


def _run_py(*args):
  return subprocess.run([sys.executable, os.path.join(ROOT, "run.py"), *args],
                        capture_output=True, text=True, timeout=240)


def test_plot_mode_draws_words_and_pairs(run, tmp_path):
  vectors = os.path.join(run.workdir, "vectors.bin")
  proc = _run_py("--mode=plot", f"--vectors={vectors}", "--query=alpha:eta,beta:theta,gamma",
                 f"--workdir={tmp_path}")
  assert proc.returncode == 0, proc.stderr
  assert proc.stdout.strip().splitlines()[-1] == str(tmp_path / "plot.png")
  _sensible(tmp_path / "plot.png")
  bad = _run_py("--mode=plot", f"--vectors={vectors}", "--query=alpha,nonsense",
                f"--workdir={tmp_path}")
  assert bad.returncode == 2 and bad.stderr.strip() == "error: not in the vocabulary: nonsense"


def test_embeddings_plot_and_projector_files(run, tmp_path):
  emb = w2v_jax.load(run.workdir)
  _sensible(emb.plot(["alpha", "beta", "eta", "theta"], str(tmp_path / "p.png")))
  proc = _run_py("--mode=projector", f"--vectors={os.path.join(run.workdir, 'vectors.bin')}",
                 f"--workdir={tmp_path}")
  assert proc.returncode == 0, proc.stderr
  folder = tmp_path / "projector"
  rows = np.loadtxt(folder / "vectors.tsv", delimiter="\t", dtype=np.float32)
  np.testing.assert_allclose(rows, emb.vectors, rtol=1e-5, atol=1e-6)
  assert (folder / "metadata.tsv").read_text(encoding="utf-8").split("\n")[:-1] == emb.words
  assert 'tensor_path: "vectors.tsv"' in (folder / "projector_config.pbtxt").read_text()


def test_a_sweep_ends_with_one_table_and_its_plot(tmp_path):
  config = _config(tmp_path, sweep="alpha=0.02,0.05", epochs=1)
  loop.train(config)
  table = (tmp_path / "work-skipgram-ns" / "sweep.md").read_text(encoding="utf-8")
  assert "| alpha | final epoch loss | analogy % | WS353 | SimLex-999 |" in table
  assert "| 0.02 |" in table and "| 0.05 |" in table
  _sensible(tmp_path / "work-skipgram-ns" / "sweep.png")
