"""Long runs: exact resume after SIGKILL or Ctrl-C, refusals, the divergence guard, records."""

import dataclasses
import json
import os
import signal
import struct
import subprocess
import sys
import time

import jax.numpy as jnp
import numpy as np
import pytest

from tests.train_test import _config
from tests.train_test import _write_corpus
from w2v_jax import checkpoint
from w2v_jax import huffman
from w2v_jax import loop
from w2v_jax import model as model_lib
from w2v_jax import pipeline
from w2v_jax.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Small tables, many compiled calls (about 700 over 2 epochs), no timed log lines.
FLAGS = ["--min_count=1", "--dim=8", "--window=2", "--batch_size=32", "--steps_per_call=4",
         "--epochs=2", "--sample=0", "--negative=3", "--noevaluate", "--log_every_secs=1e6",
         "--platform=cpu"]


def _cmd(root, workdir, *extra):
  return [sys.executable, os.path.join(ROOT, "run.py"), f"--corpus={root / 'corpus.txt'}",
          f"--workdir={root / workdir}", *FLAGS, *extra]


def _env(root):
  return dict(os.environ, W2V_JAX_CACHE=str(root / "cache"))


def _epoch_losses(workdir):
  with open(workdir / "metrics.jsonl") as f:
    return [json.loads(line)["epoch_loss"] for line in f]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
  """An uninterrupted run with the default checkpoint interval."""
  root = tmp_path_factory.mktemp("resume")
  _write_corpus(root / "corpus.txt", n_lines=2500)
  proc = subprocess.run(_cmd(root, "reference"), capture_output=True, text=True, env=_env(root),
                        timeout=300)
  assert proc.returncode == 0, proc.stderr
  assert not (root / "reference" / checkpoint.NAME).exists(), "deleted once outputs are written"
  return root


def _stop_after_first_checkpoint(root, workdir, sig):
  """Starts a run that checkpoints after every call; sends `sig` once a checkpoint exists."""
  log = open(root / f"{workdir}.log", "w+")
  proc = subprocess.Popen(_cmd(root, workdir, "--checkpoint_every_secs=0"), stderr=log,
                          env=_env(root))
  deadline = time.time() + 120
  while not (root / workdir / checkpoint.NAME).exists():
    assert proc.poll() is None and time.time() < deadline, "no checkpoint appeared"
    time.sleep(0.01)
  proc.send_signal(sig)
  proc.wait(timeout=120)
  log.seek(0)
  return proc.returncode, log.read()


def _resume_and_compare(root, workdir):
  meta = checkpoint.read_meta(str(root / workdir))
  assert meta["epoch"] < 2 and meta["calls"] > 0, f"stopped mid-epoch, not at {meta}"
  proc = subprocess.run(_cmd(root, workdir, "--resume"), capture_output=True, text=True,
                        env=_env(root), timeout=300)
  assert proc.returncode == 0, proc.stderr
  assert "resuming from" in proc.stderr
  reference, resumed = root / "reference", root / workdir
  assert (resumed / "vectors.bin").read_bytes() == (reference / "vectors.bin").read_bytes()
  with np.load(reference / "params.npz") as a, np.load(resumed / "params.npz") as b:
    for name in ("emb_in", "emb_out"):
      np.testing.assert_array_equal(a[name], b[name])
  # The progress counters came back too: the same epoch lines, the same losses.
  assert _epoch_losses(resumed) == _epoch_losses(reference)
  assert not (resumed / checkpoint.NAME).exists()


def test_run_killed_mid_epoch_resumes_to_bit_identical_vectors(reference):
  returncode, _ = _stop_after_first_checkpoint(reference, "killed", signal.SIGKILL)
  assert returncode == -signal.SIGKILL
  _resume_and_compare(reference, "killed")


def test_ctrl_c_writes_a_checkpoint_and_exits_cleanly(reference):
  returncode, stderr = _stop_after_first_checkpoint(reference, "interrupted", signal.SIGINT)
  assert returncode == 130, stderr
  assert "Traceback" not in stderr
  last = [line for line in stderr.splitlines() if line.strip()][-1]
  assert last.startswith("stopped: checkpoint written at step ") and "--resume" in last, last
  _resume_and_compare(reference, "interrupted")


class _Killed(Exception):
  pass


def _kill_after_first_checkpoint(config, monkeypatch):
  """Trains in-process until the first checkpoint is written, then stops as if killed."""
  real_save = checkpoint.save
  def save_then_die(*args, **kwargs):
    real_save(*args, **kwargs)
    raise _Killed
  monkeypatch.setattr(checkpoint, "save", save_then_die)
  with pytest.raises(_Killed):
    loop.train(config)
  monkeypatch.setattr(checkpoint, "save", real_save)


def _snapshot(workdir):
  """{path relative to workdir: bytes} of every file, those in staging/ too."""
  return {os.path.relpath(os.path.join(folder, name), workdir):
          open(os.path.join(folder, name), "rb").read()
          for folder, _, names in os.walk(workdir) for name in names}


def test_workdir_with_an_unfinished_run_refuses_other_runs(tmp_path, monkeypatch):
  config = _config(tmp_path, checkpoint_every_secs=0, evaluate=False)
  _kill_after_first_checkpoint(config, monkeypatch)
  before = _snapshot(config.workdir)
  # The unfinished run's records wait in staging/ with its checkpoint.
  assert set(before) == {"checkpoint.npz", "staging/config.json", "staging/metrics.jsonl"}
  with pytest.raises(UserError, match=r"unfinished run \(step 4, epoch 1, .*pass --resume"):
    loop.train(config)
  other = _config(tmp_path, checkpoint_every_secs=0, evaluate=False, dim=16, resume=True)
  with pytest.raises(UserError, match="other settings .--dim=8 there, 16 here."):
    loop.train(other)
  # The same flags on a changed corpus file: refused too.
  _write_corpus(tmp_path / "c.txt", n_lines=301)
  with pytest.raises(UserError, match="written for another corpus"):
    loop.train(dataclasses.replace(config, resume=True))
  assert _snapshot(config.workdir) == before


def test_fine_tuning_from_vectors_is_not_resuming(tmp_path):
  config = _config(tmp_path, resume=True)
  with pytest.raises(UserError, match="no checkpoint in"):
    checkpoint.check_workdir(config)
  (tmp_path / config.workdir / "vectors.bin").write_bytes(b"2 1\na 0.5\nb 0.25\n")
  with pytest.raises(UserError, match="only word vectors .vectors.bin.: the output tables"):
    checkpoint.check_workdir(config)


def _poison(monkeypatch, call, what):
  """Makes the `call`-th compiled call return a NaN loss at step 2, or NaN tables."""
  real = model_lib.make_train_chunk
  def make(*args, **kwargs):
    tx, chunk_fn = real(*args, **kwargs)
    calls = [0]
    def poisoned(state, chunk, key, path_slots=None):
      state, (loss_T, lr_T) = chunk_fn(state, chunk, key, path_slots)
      calls[0] += 1
      if calls[0] == call and what == "loss":
        loss_T = loss_T.at[2].set(jnp.nan)
      if calls[0] == call and what == "table":
        state = state.replace(params=dict(
            state.params, emb_in=state.params["emb_in"].at[0, 0].set(jnp.inf)))
      return state, (loss_T, lr_T)
    return tx, poisoned
  monkeypatch.setattr(model_lib, "make_train_chunk", make)


@pytest.mark.parametrize("every_secs,what,message", [
    (0, "loss", r"step 10 \(epoch 1\): loss nan at learning rate 0.02\d+ with batch size 32; "
                r"the last good checkpoint \(step 8\)"),
    (600, "loss", r"step 10 \(epoch 1\): loss nan .* no checkpoint had been written yet"),
    (0, "table", r"step 12 \(epoch 1\): a table holds non-finite values .*checkpoint \(step 8\)"),
])
def test_divergence_stops_at_the_first_bad_call(tmp_path, monkeypatch, every_secs, what, message):
  config = _config(tmp_path, checkpoint_every_secs=every_secs, evaluate=False, overwrite=True)
  earlier = b"earlier results"
  for name in ("vectors.bin", "params.npz", "summary.json"):
    (tmp_path / config.workdir / name).write_bytes(earlier)
  _poison(monkeypatch, call=3, what=what)
  with pytest.raises(UserError, match=message):
    loop.train(config)
  for name in ("vectors.bin", "params.npz", "summary.json"):
    assert (tmp_path / config.workdir / name).read_bytes() == earlier
  meta = checkpoint.read_meta(config.workdir)
  assert (meta and meta["step"]) == (8 if every_secs == 0 else None)


def test_a_huge_learning_rate_is_caught(tmp_path):
  config = _config(tmp_path, alpha=1e30, skip_saturated="none", epochs=3, evaluate=False)
  with pytest.raises(UserError, match=r"training diverged at step \d+ .* with batch size 32"):
    loop.train(config)
  assert not os.path.exists(os.path.join(config.workdir, "vectors.bin"))


def _tensorboard_scalars(folder):
  """{tag: [(step, value)]} from the TFRecord event files tensorboardX wrote."""
  from tensorboardX.proto import event_pb2  # pylint: disable=import-outside-toplevel
  scalars = {}
  for name in sorted(os.listdir(folder)):
    data = open(os.path.join(folder, name), "rb").read()
    pos = 0
    while pos < len(data):
      (length,) = struct.unpack("<Q", data[pos:pos + 8])
      event = event_pb2.Event.FromString(data[pos + 12:pos + 12 + length])
      pos += 12 + length + 4  # length, its crc, data, its crc
      for value in event.summary.value:
        scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
  return scalars


def test_tensorboard_events_and_run_record(tmp_path):
  config = _config(tmp_path, epochs=2, tensorboard=True, evaluate=False)
  loop.train(config)
  scalars = _tensorboard_scalars(os.path.join(config.workdir, "tensorboard"))
  with open(os.path.join(config.workdir, "metrics.jsonl")) as f:
    epochs = [json.loads(line) for line in f if '"epoch"' in line.split(",")[0]]
  assert [s for s, _ in scalars["epoch/epoch_loss"]] == [m["words"] for m in epochs]
  np.testing.assert_allclose([v for _, v in scalars["epoch/epoch_loss"]],
                             [m["epoch_loss"] for m in epochs], rtol=1e-6)
  with open(os.path.join(config.workdir, "config.json")) as f:
    record = json.load(f)
  head = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True,
                        text=True, check=True).stdout.strip()
  assert record["git"]["commit"] == head
  assert record["seed"] == config.seed and record["config"]["tensorboard"]
  assert record["versions"]["tensorboardX"]


def test_killed_while_writing_outputs_resumes_to_the_outputs(tmp_path, monkeypatch):
  from w2v_jax import word2vec_format  # pylint: disable=import-outside-toplevel
  reference = loop.train(_config(tmp_path, evaluate=False, workdir=str(tmp_path / "a")))
  config = _config(tmp_path, evaluate=False, workdir=str(tmp_path / "b"))
  monkeypatch.setattr(word2vec_format, "write_word2vec",
                      lambda *a, **k: (_ for _ in ()).throw(_Killed()))
  with pytest.raises(_Killed):
    loop.train(config)
  assert checkpoint.read_meta(config.workdir)["epoch"] == config.epochs  # training was done
  monkeypatch.undo()
  resumed = loop.train(dataclasses.replace(config, resume=True))
  assert resumed["final_epoch_loss"] == reference["final_epoch_loss"]
  vectors = [(tmp_path / name / "vectors.bin").read_bytes() for name in ("a", "b")]
  assert vectors[0] == vectors[1]
  assert not os.path.exists(checkpoint.path(config.workdir))


def test_path_buckets_resume_to_identical_tables(tmp_path, monkeypatch):
  monkeypatch.setattr(huffman, "SLOT_MULTIPLE", 1)  # two buckets in a tiny vocabulary
  reference = _config(tmp_path, loss="hs", evaluate=False, epochs=2, path_buckets=2)
  assert len(pipeline.prepare_data(reference).path_bounds) == 2
  loop.train(reference)
  config = dataclasses.replace(reference, workdir=str(tmp_path / "killed"),
                               checkpoint_every_secs=0)
  os.makedirs(config.workdir)
  _kill_after_first_checkpoint(config, monkeypatch)
  assert checkpoint.read_meta(config.workdir)["calls"] > 0  # stopped mid-epoch
  loop.train(dataclasses.replace(config, resume=True))
  with (np.load(os.path.join(reference.workdir, "params.npz")) as a,
        np.load(os.path.join(config.workdir, "params.npz")) as b):
    for name in ("emb_in", "nodes"):
      np.testing.assert_array_equal(a[name], b[name])
