"""A run owns its workdir: one at a time, outputs as a whole set or not at all, write
errors and signals that end in one line, and a kill -9 anywhere that leaves no mix."""

import dataclasses
import errno
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests import kill_anywhere
from tests.checkpoint_test import _poison
from tests.train_test import _config
from w2v_jax import checkpoint
from w2v_jax import files
from w2v_jax import loop
from w2v_jax import progress as progress_lib
from w2v_jax import word2vec_format
from w2v_jax import workdir as workdir_lib
from w2v_jax.errors import Interrupted
from w2v_jax.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _tree(workdir) -> dict:
  """{path relative to workdir: bytes} of every file below it."""
  return {os.path.relpath(os.path.join(folder, name), workdir):
          open(os.path.join(folder, name), "rb").read()
          for folder, _, names in os.walk(workdir) for name in names}


@pytest.fixture(scope="module")
def earlier(tmp_path_factory):
  """A finished run (evaluated, with vectors.txt) and an uninterrupted one of the
  settings the tests below train with, for comparison."""
  tmp = tmp_path_factory.mktemp("earlier")
  first = _config(tmp, seed=1, save_text=True, workdir=str(tmp / "earlier"))
  loop.train(first)
  reference = _config(tmp, evaluate=False, checkpoint_every_secs=0, epochs=2,
                      workdir=str(tmp / "reference"))
  loop.train(reference)
  return tmp, _tree(first.workdir), _tree(reference.workdir)


def _workdir_with_earlier(tmp_path, earlier_tree, **settings):
  settings = dict(dict(evaluate=False, checkpoint_every_secs=0, epochs=2, overwrite=True),
                  **settings)
  config = _config(tmp_path, **settings)
  for name, data in earlier_tree.items():
    with open(os.path.join(config.workdir, name), "wb") as f:
      f.write(data)
  return config


# ------------------------------------------------------------------ a finished run's folder

def test_a_finished_run_is_not_reused_without_overwrite(tmp_path, earlier):
  _, before, _ = earlier
  config = _workdir_with_earlier(tmp_path, before, overwrite=False)
  with pytest.raises(UserError, match=r"holds the outputs of a finished run .*--overwrite"):
    loop.train(config)
  assert _tree(config.workdir) == before


def test_a_new_run_replaces_the_whole_set(tmp_path, earlier):
  _, before, reference = earlier
  config = _workdir_with_earlier(tmp_path, before)
  loop.train(config)  # --noevaluate, no --save_text: eval.json and vectors.txt must go
  after = _tree(config.workdir)
  assert set(after) == set(reference)
  for name in ("vectors.bin", "params.npz", "vocab.txt"):
    assert after[name] == reference[name]


def test_a_run_diverging_late_leaves_the_earlier_set_as_it_was(tmp_path, earlier, monkeypatch):
  _, before, _ = earlier
  config = _workdir_with_earlier(tmp_path, before)
  _poison(monkeypatch, call=3, what="loss")
  with pytest.raises(UserError) as e:
    loop.train(config)
  message = str(e.value)
  assert "training diverged at step 10" in message
  assert "the last good checkpoint (step 8) is kept" in message
  assert "the earlier outputs in" in message and "are as they were" in message
  after = _tree(config.workdir)
  assert {n: d for n, d in after.items() if n in before} == before
  assert set(after) - set(before) == {"checkpoint.npz", "staging/config.json",
                                      "staging/metrics.jsonl"}


def test_divergence_without_earlier_outputs_says_none_were_written(tmp_path, monkeypatch):
  config = _config(tmp_path, evaluate=False, checkpoint_every_secs=600)
  _poison(monkeypatch, call=3, what="loss")
  with pytest.raises(UserError, match=r"no checkpoint had been written yet; no outputs were "
                                       r"written to .*; lower --alpha .* and start again$"):
    loop.train(config)


def test_a_growing_loss_stops_the_run_before_it_overflows(tmp_path):
  config = _config(tmp_path, alpha=1000.0, evaluate=False, epochs=2)
  with pytest.raises(UserError, match=r"training diverged at step \d+ \(epoch 1\): the loss "
                                       r"per example is \S+ times the first step's at learning "
                                       r"rate \d+.* lower --alpha"):
    loop.train(config)
  assert workdir_lib.outputs(config.workdir) == []


def test_a_healthy_run_stays_far_below_the_growth_limit(tmp_path, monkeypatch):
  seen = []
  real = progress_lib.Progress.growth
  monkeypatch.setattr(progress_lib.Progress, "growth",
                      lambda self, *args: seen.append(real(self, *args)) or seen[-1])
  loop.train(_config(tmp_path, evaluate=False, epochs=2))
  assert seen and max(seen) < loop.LOSS_GROWTH_LIMIT / 20


# ------------------------------------------------------------------ one run at a time

def test_a_second_run_in_a_held_workdir_is_refused(tmp_path):
  config = _config(tmp_path, evaluate=False)
  with workdir_lib._lock(config.workdir):  # pylint: disable=protected-access
    with pytest.raises(UserError, match=rf"another run \(process {os.getpid()}\) is using"):
      loop.train(config)
  loop.train(config)  # released: the workdir is free again
  assert not os.path.exists(os.path.join(config.workdir, workdir_lib.LOCK))


def test_a_lock_file_left_by_a_killed_run_does_not_block(tmp_path):
  config = _config(tmp_path, evaluate=False)
  with open(os.path.join(config.workdir, workdir_lib.LOCK), "w") as f:
    f.write("999999\n")  # no process holds it: flock locks die with their process
  loop.train(config)
  assert os.path.exists(os.path.join(config.workdir, "vectors.bin"))


def _flags(root, *extra):
  if not (root / "corpus.txt").exists():
    kill_anywhere._write_inputs(str(root))  # pylint: disable=protected-access
  return [sys.executable, os.path.join(ROOT, "run.py"),
          *kill_anywhere._flags(str(root), str(root / "work"), *extra)]  # pylint: disable=protected-access


def _wait_for(proc, path):
  deadline = time.time() + 120
  while not path.exists():
    assert proc.poll() is None and time.time() < deadline, f"no {path.name} appeared"
    time.sleep(0.01)


def test_two_runs_started_at_once(tmp_path):
  cmd = _flags(tmp_path, "--epochs=1000", "--log_every_secs=0")  # long, and logging often
  first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  try:
    _wait_for(first, tmp_path / "work" / checkpoint.NAME)
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert first.poll() is None, "the first run ended too soon to test this"
  finally:
    first.kill()
    first.wait()
  assert second.returncode == 2, second.stderr
  errors = [line for line in second.stderr.splitlines() if line.startswith("error:")]
  assert len(errors) == 1 and f"another run (process {first.pid})" in errors[0], second.stderr
  assert "Traceback" not in second.stderr
  with open(tmp_path / "work" / "staging" / "metrics.jsonl") as f:
    lines = f.read().splitlines()
  assert len(lines) > 1 and all(json.loads(line) for line in lines)  # one writer only


# ------------------------------------------------------------------ write errors

class _FullDisk:
  """open() whose files raise `err` once `budget` bytes are written to a matching path."""

  def __init__(self, match: str, budget: int = 0, err: int = errno.ENOSPC):
    self.match, self.budget, self.err = match, budget, err

  def __call__(self, path, mode="r", *args, **kwargs):
    f = open(path, mode, *args, **kwargs)  # pylint: disable=unspecified-encoding
    if self.match not in str(path) or "r" in mode:
      return f
    outer = self

    class Writer:
      def __getattr__(self, name):
        return getattr(f, name)

      def __enter__(self):
        return self

      def __exit__(self, *exc):
        f.close()

      def write(self, data):
        if len(data) > outer.budget:
          raise OSError(outer.err, os.strerror(outer.err))
        outer.budget -= len(data)
        return f.write(data)
    return Writer()


def _no_temporary_files(workdir):
  return [n for n in _tree(workdir) if files.is_temporary(os.path.basename(n))]


@pytest.mark.parametrize("match,budget,kept", [
    ("checkpoint.npz", 0, "no checkpoint had been written yet"),
    ("checkpoint.npz", 20_000, "the last good checkpoint (step"),  # a few good ones first
    ("params.npz", 0, "the last good checkpoint (step"),  # in the outputs: training is done
])
def test_a_full_disk_is_one_error_and_resume_finishes(tmp_path, earlier, monkeypatch, match,
                                                      budget, kept):
  _, before, reference = earlier
  config = _workdir_with_earlier(tmp_path, before)
  monkeypatch.setattr(files, "open", _FullDisk(match, budget), raising=False)
  with pytest.raises(UserError) as e:
    loop.train(config)
  message = str(e.value)
  assert message.startswith(f"cannot write {config.workdir}/") and match in message.split(";")[0]
  assert "(No space left on device)" in message and kept in message, message
  assert "are as they were" in message and "make room or fix the permissions" in message
  assert not _no_temporary_files(config.workdir)
  after = _tree(config.workdir)
  assert {n: d for n, d in after.items() if n in before} == before
  monkeypatch.undo()
  if "no checkpoint" in kept:
    assert message.endswith("then start the run again")
    loop.train(config)
  else:
    assert message.endswith("then continue with the same flags and --resume")
    loop.train(dataclasses.replace(config, resume=True))
  after = _tree(config.workdir)
  for name in ("vectors.bin", "params.npz"):
    assert after[name] == reference[name]


def test_a_full_disk_while_writing_metrics(tmp_path, monkeypatch):
  config = _config(tmp_path, evaluate=False, checkpoint_every_secs=0)
  monkeypatch.setattr(progress_lib, "open", _FullDisk("metrics.jsonl"), raising=False)
  with pytest.raises(UserError, match=r"cannot write .*staging/metrics.jsonl \(No space left"):
    loop.train(config)


def test_a_refused_permission_while_writing_the_vectors(tmp_path, earlier, monkeypatch):
  _, before, _ = earlier
  config = _workdir_with_earlier(tmp_path, before)
  monkeypatch.setattr(files, "open", _FullDisk("vectors.bin", err=errno.EACCES), raising=False)
  with pytest.raises(UserError, match=r"vectors.bin \(Permission denied\); the last good "
                                       r"checkpoint .*are as they were"):
    loop.train(config)
  assert {n: d for n, d in _tree(config.workdir).items() if n in before} == before


def test_a_full_disk_from_the_command_line_is_one_line(tmp_path):
  fill = ("import sys; sys.argv = ['run.py'] + sys.argv[1:]; sys.path.insert(0, %r)\n"
          "from tests import workdir_test; from w2v_jax import files\n"
          "files.open = workdir_test._FullDisk('checkpoint.npz')\n"
          "import run; run.run()\n" % ROOT)
  proc = subprocess.run([sys.executable, "-c", fill, *_flags(tmp_path)[2:]],
                        capture_output=True, text=True, timeout=120)
  assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
  errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
  assert len(errors) == 1 and "No space left on device" in errors[0]
  assert sorted(os.listdir(tmp_path / "work")) == []  # nothing: no outputs, no temporary file


def test_temporary_files_of_an_interrupted_save_go_at_the_next_start(tmp_path):
  config = _config(tmp_path, evaluate=False)
  os.makedirs(os.path.join(config.workdir, "staging"))
  for name in ("checkpoint.npz.tmp-4242", "staging/vectors.bin.tmp-4242", "notes.tmp-x"):
    with open(os.path.join(config.workdir, name), "w") as f:
      f.write("half")
  loop.train(config)
  names = set(_tree(config.workdir))
  assert "notes.tmp-x" in names  # not a name the toolkit writes
  assert not _no_temporary_files(config.workdir) and "staging" not in os.listdir(config.workdir)


# ------------------------------------------------------------------ the moves into place

class _Killed(Exception):
  pass


def test_a_kill_while_moving_the_set_in_is_finished_by_the_next_run(tmp_path, earlier,
                                                                    monkeypatch):
  _, before, reference = earlier
  config = _workdir_with_earlier(tmp_path, before)
  real = os.replace
  def replace(a, b):
    if str(b).endswith(os.path.join(config.workdir, "summary.json")):
      raise _Killed  # part of the set is in place: config.json, metrics.jsonl, params.npz
    return real(a, b)
  monkeypatch.setattr(os, "replace", replace)
  with pytest.raises(_Killed):
    loop.train(config)
  monkeypatch.undo()
  stage = os.path.join(config.workdir, "staging")
  assert os.path.exists(os.path.join(stage, "COMPLETE")) and "vectors.bin" in os.listdir(stage)
  summary = loop.train(dataclasses.replace(config, resume=True))  # finishes the moves
  assert summary["final_epoch_loss"] == json.loads(reference["summary.json"])["final_epoch_loss"]
  after = _tree(config.workdir)
  assert set(after) == set(reference) and after["vectors.bin"] == reference["vectors.bin"]


# ------------------------------------------------------------------ signals

def test_a_second_ctrl_c_says_which_checkpoint_is_kept(tmp_path, monkeypatch):
  config = _config(tmp_path, evaluate=False, checkpoint_every_secs=0)
  real, calls = checkpoint.save, []
  def save(*args, **kwargs):
    calls.append(1)
    if len(calls) == 2:
      raise KeyboardInterrupt(signal.SIGINT)  # as the handler raises on a second Ctrl-C
    return real(*args, **kwargs)
  monkeypatch.setattr(checkpoint, "save", save)
  with pytest.raises(Interrupted) as e:
    loop.train(config)
  assert e.value.exit_code == 130
  assert str(e.value).startswith("at once; the last good checkpoint (step 4) is kept")
  assert str(e.value).endswith("continue with the same flags and --resume")


def _start_and_signal(root, sigs):
  """Starts a run that checkpoints after every call; sends `sigs` once a checkpoint exists."""
  proc = subprocess.Popen(_flags(root, "--epochs=3"), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
  _wait_for(proc, root / "work" / checkpoint.NAME)
  for sig in sigs:
    proc.send_signal(sig)
    time.sleep(0.005)
  _, stderr = proc.communicate(timeout=120)
  return proc.returncode, stderr


def test_sigterm_checkpoints_and_exits_143(tmp_path):
  returncode, stderr = _start_and_signal(tmp_path, [signal.SIGTERM])
  assert returncode == 143, stderr
  assert "Traceback" not in stderr and "SIGTERM: writing a checkpoint" in stderr
  last = stderr.strip().splitlines()[-1]
  assert last.startswith("stopped: checkpoint written at step ") and "--resume" in last, last
  meta = checkpoint.read_meta(str(tmp_path / "work"))
  assert meta and meta["epoch"] < 3
  proc = subprocess.run(_flags(tmp_path, "--epochs=3", "--resume"), capture_output=True,
                        text=True, timeout=120)
  assert proc.returncode == 0, proc.stderr
  assert not (tmp_path / "work" / checkpoint.NAME).exists()


def test_two_signals_stop_at_once_and_say_what_is_kept(tmp_path):
  returncode, stderr = _start_and_signal(tmp_path, [signal.SIGINT, signal.SIGINT])
  assert returncode == 130, stderr
  last = stderr.strip().splitlines()[-1]
  assert "Traceback" not in stderr and last.startswith("stopped: "), stderr
  if last.startswith("stopped: checkpoint written"):
    return  # both arrived before the run looked: one checkpoint, as for one
  assert last.startswith("stopped: at once; the last good checkpoint (step "), last
  step = int(last.split("(step ")[1].split(")")[0])
  assert checkpoint.read_meta(str(tmp_path / "work"))["step"] == step


# ------------------------------------------------------------------ evaluating a file

def test_eval_of_a_file_writes_next_to_it_and_names_it(tmp_path):
  words = ["king", "queen", "man", "woman"]
  path = tmp_path / "models" / "v.bin"
  path.parent.mkdir()
  word2vec_format.write_word2vec(str(path), words, np.eye(4, dtype=np.float32))
  proc = subprocess.run([sys.executable, os.path.join(ROOT, "run.py"), "--mode=eval",
                         f"--vectors={path}"], capture_output=True, text=True, cwd=tmp_path,
                        timeout=120)
  assert proc.returncode == 0, proc.stderr
  assert not (tmp_path / "runs").exists(), "wrote into the default workdir"
  with open(f"{path}.eval.json") as f:
    scored = json.load(f)["vectors"]
  assert scored == {"path": str(path), "sha256": files.sha256(str(path))}
  # With --workdir, there.
  proc = subprocess.run([sys.executable, os.path.join(ROOT, "run.py"), "--mode=eval",
                         f"--vectors={path}", f"--workdir={tmp_path / 'w'}"],
                        capture_output=True, text=True, cwd=tmp_path, timeout=120)
  assert proc.returncode == 0, proc.stderr
  assert json.load(open(tmp_path / "w" / "eval.json"))["vectors"]["path"] == str(path)


def test_a_run_records_the_vectors_its_eval_scored(tmp_path):
  config = _config(tmp_path)
  loop.train(config)
  vectors = os.path.join(config.workdir, "vectors.bin")
  with open(os.path.join(config.workdir, "eval.json")) as f:
    assert json.load(f)["vectors"] == {"path": vectors, "sha256": files.sha256(vectors)}


# ------------------------------------------------------------------ kill -9 anywhere

def test_a_kill_anywhere_leaves_no_mix_and_resumes_to_identical_vectors():
  # A process of its own: it forks its runs, which this one, JAX started, must not.
  proc = subprocess.run([sys.executable, "-m", "tests.kill_anywhere", "--tries=20"],
                        capture_output=True, text=True, cwd=ROOT, timeout=900)
  assert proc.returncode == 0, proc.stdout + proc.stderr
  results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
  assert len(results) == 20 and "never a mix" in proc.stdout.splitlines()[-1]
  assert {r["state"] for r in results} >= {"earlier", "moving"}  # the moves were hit too
  assert any(r["temporary"] for r in results)  # and writes cut short, cleaned up after
