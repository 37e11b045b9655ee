"""Kill -9 a run at moments spread over it, the export included: the workdir holds the
earlier outputs or the new ones, never a mix, and finishing the run (--resume where a
checkpoint is left) ends with the uninterrupted run's vectors, byte for byte.

  python -m tests.kill_anywhere --tries=20      # a line per try, then the verdict

Each try starts in a workdir holding an earlier run's outputs (another seed, with
--save_text, so that every file tells the two runs apart and the new set must remove
vectors.txt), starts a run with --overwrite and kills it with SIGKILL: a quarter of the
tries at a moment within their own slice of an uninterrupted run's duration, the rest
just before or just after an os.replace within their slice of the uninterrupted run's
renames, which are every checkpoint, every output written and every move into place
(the child kills itself from a wrapper around os.replace; nothing in the package
knows), so that the export and the moves get their share of kills however loaded the
machine is. Then the state is classified ("earlier", "new", or "moving":
staging/COMPLETE present, which the next run in the workdir finishes), the run is
finished as a user would (--resume if a checkpoint or a complete staging/ is left, a
new run with --overwrite if the earlier outputs are intact, nothing if the new ones are
in place), and the outputs are compared with the uninterrupted run's. The runs are
children forked from this process after it has imported the package (no JAX backend
started yet), so that each costs no Python start-up.
tests/workdir_test.py runs it.
"""

import argparse
import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import run  # pylint: disable=wrong-import-position
from w2v_jax import files  # pylint: disable=wrong-import-position

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = ["--min_count=1", "--dim=8", "--window=2", "--batch_size=32", "--steps_per_call=8",
         "--epochs=1", "--sample=0", "--negative=3", "--log_every_secs=1e6", "--platform=cpu",
         "--checkpoint_every_secs=0", "--cpu_threads=1"]
# Files that differ between two runs only by their times: told apart by content below.
DETERMINISTIC = ("vectors.bin", "params.npz", "vocab.txt")


def _write_inputs(root: str) -> None:
  sys.path.insert(0, ROOT)
  from tests.train_test import _write_corpus  # pylint: disable=import-outside-toplevel
  _write_corpus(os.path.join(root, "corpus.txt"), n_lines=300)
  with open(os.path.join(root, "analogies.txt"), "w", encoding="utf-8") as f:
    f.write(": family\nalpha beta gamma delta\nbeta gamma delta epsilon\n")
  for name in ("ws353.txt", "simlex.txt"):
    with open(os.path.join(root, name), "w", encoding="utf-8") as f:
      f.write("alpha beta 7.5\ngamma delta 3.0\nalpha epsilon 1.0\n")


def _flags(root: str, workdir: str, *extra) -> list:
  return [f"--corpus={root}/corpus.txt", f"--workdir={workdir}", f"--cache_dir={root}/cache",
          f"--analogies={root}/analogies.txt", f"--ws353={root}/ws353.txt",
          f"--simlex={root}/simlex.txt", *FLAGS, *extra]


def _watch_renames(kill_at_rename: tuple, renames: str) -> None:
  """Wraps os.replace (every whole-file write and every move into place goes through it)."""
  real, count = os.replace, [0]
  def replace(a, b, *rest, **kwargs):
    k, after = kill_at_rename or (-1, False)
    if count[0] == k and not after:
      os.kill(os.getpid(), signal.SIGKILL)
    result = real(a, b, *rest, **kwargs)
    if count[0] == k and after:
      os.kill(os.getpid(), signal.SIGKILL)
    count[0] += 1
    if renames:
      with open(renames, "a", encoding="utf-8") as f:
        f.write(f"{b}\n")
    return result
  os.replace = replace


class _Child:
  """run.py in a child forked from this process, which has imported the package (but
  started no JAX backend and no thread), so that a run costs no Python start-up."""

  def __init__(self, args: list, log: str, kill_at_rename: tuple = (), renames: str = ""):
    """`kill_at_rename` (k, after): the child kills itself (SIGKILL) just before, or after,
    its k-th os.replace; `renames`: a file to list every os.replace target in."""
    self.log, self.returncode = log, None
    self.pid = os.fork()
    if self.pid == 0:  # the child
      code = 1
      try:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        if kill_at_rename or renames:
          _watch_renames(kill_at_rename, renames)
        sys.argv = ["run.py"] + args
        run.run()
        code = 0
      except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
      finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # pylint: disable=protected-access

  def poll(self):
    if self.returncode is None:
      pid, status = os.waitpid(self.pid, os.WNOHANG)
      if pid:
        self.returncode = os.waitstatus_to_exitcode(status)
    return self.returncode

  def wait(self):
    while self.poll() is None:
      time.sleep(0.005)
    return self.returncode

  def kill(self):
    with contextlib.suppress(ProcessLookupError):
      os.kill(self.pid, signal.SIGKILL)
    return self.wait()


def _finish(child: _Child, what: str) -> None:
  if child.wait() != 0:
    with open(child.log, encoding="utf-8", errors="replace") as f:
      raise AssertionError(f"{what} exited {child.returncode}:\n{f.read()[-3000:]}")


def _sha(path: str) -> str:
  with open(path, "rb") as f:
    return hashlib.sha256(f.read()).hexdigest()


def _snapshot(workdir: str) -> dict:
  return {n: open(os.path.join(workdir, n), "rb").read() for n in sorted(os.listdir(workdir))
          if os.path.isfile(os.path.join(workdir, n))}


def _epoch_losses(metrics: bytes) -> list:
  return [r["epoch_loss"] for r in map(json.loads, metrics.decode().splitlines())
          if r["kind"] == "epoch"]


def _owner(name: str, data: bytes, earlier: dict, new: dict) -> str:
  """"earlier", "new" or "both" (vocab.txt: the same corpus): which run wrote this file."""
  if data == earlier.get(name):
    return "both" if data == new.get(name) else "earlier"
  if name in DETERMINISTIC:
    return "new" if data == new[name] else f"neither ({name})"
  if name == "config.json":
    return "new" if json.loads(data)["seed"] == 0 else f"neither ({name})"
  if name == "eval.json":
    return ("new" if json.loads(data)["vectors"]["sha256"] == hashlib.sha256(
        new["vectors.bin"]).hexdigest() else f"neither ({name})")
  if name == "metrics.jsonl":
    return "new" if _epoch_losses(data) == _epoch_losses(new[name]) else f"neither ({name})"
  if name == "summary.json":
    same = json.loads(data)["final_epoch_loss"] == json.loads(new[name])["final_epoch_loss"]
    return "new" if same else f"neither ({name})"
  return "new" if name in new else f"neither ({name})"  # training.png: drawn from the times


def classify(workdir: str, earlier: dict, new: dict) -> str:
  """"earlier", "new" or "moving" (a whole set waits in staging/); AssertionError on a mix."""
  outputs = {n: d for n, d in _snapshot(workdir).items()  # a kill leaves temporary files,
             if n not in ("checkpoint.npz", ".lock")     # which the next start removes
             and not files.is_temporary(n) and not n.startswith(".write-test")}
  owners = {n: _owner(n, d, earlier, new) for n, d in outputs.items()}
  if os.path.exists(os.path.join(workdir, "staging", "COMPLETE")):
    return "moving"  # what is in place may be a mix until the next start finishes the moves
  if set(owners.values()) <= {"earlier", "both"} and outputs == earlier:
    return "earlier"
  if set(owners.values()) <= {"new", "both"} and set(outputs) == set(new):
    return "new"
  raise AssertionError(f"a mix in {workdir}: {owners}")


def one_try(root: str, i: int, kill: tuple, earlier_dir: str, new: dict) -> dict:
  """`kill`: ("time", seconds after the start) or ("rename", k, after, its target)."""
  workdir = os.path.join(root, f"try{i:02d}")
  shutil.copytree(earlier_dir, workdir)
  earlier = _snapshot(workdir)
  log = os.path.join(root, f"try{i:02d}")
  started = time.time()
  victim = _Child(_flags(root, workdir, "--overwrite"), f"{log}.killed.log",
                  kill_at_rename=kill[1:3] if kill[0] == "rename" else ())
  while (kill[0] == "rename" or time.time() - started < kill[1]) and victim.poll() is None:
    time.sleep(0.002)
  victim.kill()
  temporary = [n for n in os.listdir(workdir) if files.is_temporary(n)]
  state = classify(workdir, earlier, new)
  checkpointed = os.path.exists(os.path.join(workdir, "checkpoint.npz"))
  staged = os.path.isdir(os.path.join(workdir, "staging"))
  if checkpointed or state == "moving":
    action = "--resume"
    _finish(_Child(_flags(root, workdir, "--resume"), f"{log}.resume.log"), f"try {i}: --resume")
  elif state == "earlier":
    action = "new run"
    _finish(_Child(_flags(root, workdir, "--overwrite"), f"{log}.rerun.log"), f"try {i}: new run")
  else:
    action = "none"
  after = _snapshot(workdir)
  assert classify(workdir, earlier, new) == "new", f"try {i}: not the new outputs"
  for name in DETERMINISTIC:
    assert after[name] == new[name], f"try {i}: {name} differs from the uninterrupted run's"
  assert _epoch_losses(after["metrics.jsonl"]) == _epoch_losses(new["metrics.jsonl"])
  left = sorted(set(os.listdir(workdir)) - set(new))
  if action == "none":  # killed after its outputs were in place, before it tidied up:
    left = [n for n in left if n != ".lock"]  # a lock file no process holds, and
    if left == ["staging"] and not os.listdir(os.path.join(workdir, "staging")):
      left = []  # an empty staging/, both removed by the next run in the workdir
  assert not left, f"try {i}: left behind {left}"
  where = (f"{kill[1]:.2f} s in" if kill[0] == "time" else
            f"{'after' if kill[2] else 'before'} rename {kill[1]} ({kill[3]})")
  return {"try": i, "killed": where, "state": state,
          "checkpoint": checkpointed, "staging": staged, "temporary": temporary,
          "then": action, "exit": victim.returncode}


def _tries(root: str, moments: list, earlier_dir: str, new: dict, out: str) -> None:
  results = [one_try(root, i, kill, earlier_dir, new) for i, kill in moments]
  with open(out, "w", encoding="utf-8") as f:
    json.dump(results, f)


def main(tries: int = 20, workers: int = 2, seed: int = 0, root: str = "") -> list:
  root = root or tempfile.mkdtemp(prefix="kill_anywhere-")
  _write_inputs(root)
  earlier_dir, reference = os.path.join(root, "earlier"), os.path.join(root, "reference")
  _finish(_Child(_flags(root, earlier_dir, "--seed=1", "--save_text"), f"{root}/earlier.log"),
          "the earlier run")
  started = time.time()
  _finish(_Child(_flags(root, reference), f"{root}/reference.log",
                 renames=f"{root}/renames.txt"), "the uninterrupted run")
  duration = time.time() - started
  new = _snapshot(reference)
  with open(f"{root}/renames.txt", encoding="utf-8") as f:
    targets = [os.path.relpath(line.strip(), reference) for line in f]
  rng = random.Random(seed)
  # A quarter of the tries die at a moment within their own slice of the run's duration;
  # the rest just before or after a rename within their slice of the run's renames (every
  # checkpoint, every output, every move into place), wherever the machine's load puts them.
  timed = tries // 4
  moments = [(i, ("time", (i + rng.random()) / timed * duration)) for i in range(timed)]
  for j in range(tries - timed):
    k = int((j + rng.random()) / (tries - timed) * len(targets))
    moments.append((timed + j, ("rename", k, rng.random() < 0.5, targets[k])))
  workers_ = []  # forked like the runs: each takes every `workers`-th try
  for w in range(workers):
    pid = os.fork()
    if pid == 0:
      code = 1
      try:
        _tries(root, moments[w::workers], earlier_dir, new, f"{root}/results-{w}.json")
        code = 0
      except BaseException:  # pylint: disable=broad-except
        import traceback  # pylint: disable=import-outside-toplevel
        traceback.print_exc()
      finally:
        os._exit(code)  # pylint: disable=protected-access
    workers_.append(pid)
  failed = [w for w, pid in enumerate(workers_) if os.waitstatus_to_exitcode(
      os.waitpid(pid, 0)[1]) != 0]
  if failed:
    raise AssertionError(f"worker(s) {failed} failed (their traceback is above); files in {root}")
  results = sorted((r for w in range(workers)
                    for r in json.load(open(f"{root}/results-{w}.json", encoding="utf-8"))),
                   key=lambda r: r["try"])
  for r in results:
    print(json.dumps(r))
  counts = {s: sum(r["state"] == s for r in results) for s in ("earlier", "new", "moving")}
  kept = sum(r["checkpoint"] for r in results if r["state"] == "earlier")
  print(f"{tries} kills over a {duration:.1f} s run of {len(targets)} renames "
        f"({sum(t.endswith('checkpoint.npz') for t in targets)} of them checkpoints): the "
        f"killed run left the earlier outputs "
        f"{counts['earlier']} times ({kept} with a "
        f"checkpoint), a whole set being moved in {counts['moving']} times, the new outputs "
        f"{counts['new']} times; never a mix, and every run finished with the uninterrupted "
        "run's vectors.bin, params.npz and epoch losses")
  shutil.rmtree(root, ignore_errors=True)
  return results


if __name__ == "__main__":
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--tries", type=int, default=20)
  parser.add_argument("--workers", type=int, default=2)
  parser.add_argument("--seed", type=int, default=0)
  main(**vars(parser.parse_args()))
