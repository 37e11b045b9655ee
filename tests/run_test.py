"""The front door: bad input ends with one line on stderr and exit code 2."""

import os
import subprocess
import sys
import time

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
    (["--loss=nce", "--negative=0"], "--loss=nce needs --negative >= 1"),
    (["--window=0"], "--window must be at least 1"),
    (["--dim=0"], "--dim must be at least 1"),
    (["--ns_exponent=-1"], "--ns_exponent must be"),
    (["--sample=-0.1"], "--sample must be >= 0"),
    (["--model=glove"], "model"),
    (["--dim=abc"], "dim"),
    (["stray"], "unexpected arguments"),
    (["--num_devices=3"], "batch size (512) must be a multiple of the 3 devices"),
    (["--num_devices=64"], "--num_devices=64, but JAX sees"),
    (["--table_sharding=columns"], "table_sharding"),
    (["--skipgram_layout=centres"], "--skipgram_layout=centres is built for --loss=hs only"),
    (["--num_processes=2"], "needs --coordinator_address"),
    (["--sweep=sample=0,1e-5"], "--sweep cannot vary sample"),
    (["--sweep=negative=2,x"], "negative takes int values"),
    (["--sweep=alpha=0.01,0.02", "--num_devices=2", "--batch_size=32"],
     "--sweep runs on one device"),
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
  from w2v_jax import word2vec_format  # pylint: disable=import-outside-toplevel
  import numpy as np  # pylint: disable=import-outside-toplevel
  words = ["king", "queen", "man", "woman", "paris", "france"]
  vectors = np.random.default_rng(0).normal(size=(6, 5)).astype(np.float32)
  vectors[1] = vectors[0] + 0.01
  path = tmp_path / "v.bin"
  word2vec_format.write_word2vec(str(path), words, vectors)
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


# ------------------------------------------------------------------ bad input, end to end
# Each row: a problem a user can make, the flags that make it, and a fragment of the one
# line that must explain it. Each run starts in a workdir holding an earlier run's results
# and may replace them (--overwrite), but is refused, so they must be left exactly as they were.

EARLIER = {name: f"earlier {name}\n".encode() for name in
           ("vectors.bin", "params.npz", "config.json", "metrics.jsonl", "eval.json",
            "summary.json")}


def _checkpoint_of(root, **settings):
  """A checkpoint in root/work as a run with these settings (and the table's) would leave."""
  from w2v_jax import checkpoint  # pylint: disable=import-outside-toplevel
  from w2v_jax import config as config_lib  # pylint: disable=import-outside-toplevel
  from w2v_jax import resolve as resolve_lib  # pylint: disable=import-outside-toplevel
  config = resolve_lib.resolve(config_lib.Config(corpus=str(root / "corpus.txt"), min_count=1,
                                                 **settings))
  meta = {"settings": checkpoint.settings(config), "corpus": {}, "epoch": 0, "epochs": 5,
          "calls": 3, "step": 96, "examples": 0, "progress": {"words": 10}, "total_words": 300}
  checkpoint.save(str(root / "work"), {"emb_in": [[0.0]]}, [0, 0], meta)
  return []


def _vectors(root, text: bytes):
  (root / "v.bin").write_bytes(text)
  return ["--mode=eval", f"--vectors={root / 'v.bin'}"]


def _file(root, name, text):
  (root / name).write_text(text)
  return root / name


ANALOGIES = ": family\nboy girl brother sister\n"
PAIRS = "cat dog 7.5\nsat mat 1.0\n"
BAD_INPUT = {
    "missing file": (lambda r: [f"--corpus={r / 'nope.txt'}"], "corpus file not found"),
    "directory instead of file": (lambda r: [f"--corpus={r}"], "is a directory"),
    "empty file": (lambda r: _file(r, "corpus.txt", "") and [], "holds no words"),
    "only whitespace": (lambda r: _file(r, "corpus.txt", " \n\t\n\n") and [], "holds no words"),
    "binary garbage": (lambda r: (r / "corpus.txt").write_bytes(bytes(range(256)) * 64) and [],
                       "holds a NUL byte"),
    "non-UTF-8 bytes": (lambda r: (r / "corpus.txt").write_bytes(
        "caf\u00e9 na\u00efve the cat\n".encode("latin-1") * 20) and [], "is not UTF-8"),
    "one enormous line without spaces": (
        lambda r: _file(r, "corpus.txt", "x" * 100_000) and [], "without a space or line break"),
    "empty vocabulary after min_count": (lambda r: ["--min_count=100"], "only 0 distinct word"),
    "one word after min_count": (
        lambda r: _file(r, "corpus.txt", "the the cat\n" * 5) and ["--min_count=6"],
        "only 1 distinct word"),
    "every sentence a single word": (lambda r: _file(r, "corpus.txt", "cat\ndog\n" * 5) and [],
                                     "no training examples"),
    "unwritable workdir": (lambda r: [f"--workdir={r / 'corpus.txt' / 'sub'}"],
                           "cannot create --workdir"),
    "checkpoint of a run with other settings": (
        lambda r: _checkpoint_of(r, dim=16) + ["--resume"],
        "other settings (--dim=16 there, 100 here)"),
    "unfinished run without --resume": (lambda r: _checkpoint_of(r), "pass --resume"),
    "resume from vectors only": (lambda r: (r / "work" / "params.npz").unlink() or ["--resume"],
                                 "the output tables"),
    "analogy file in the wrong format": (
        lambda r: ["--evaluate", f"--analogies={_file(r, 'a.txt', PAIRS)}"],
        "question before any ': section'"),
    "similarity file in the wrong format": (
        lambda r: ["--evaluate", f"--ws353={_file(r, 'p.txt', ANALOGIES)}"],
        "expected 'word1 word2 score'"),
    "vectors file with a wrong header": (lambda r: _vectors(r, b"king 0.1 0.2\n"),
                                         "expected 'V D' header"),
    "vectors file with truncated rows": (lambda r: _vectors(r, b"3 2\nking 0.1 0.2\nqueen 0.3"),
                                         "holds 1 of 3 vectors"),
    "tables larger than memory": (
        lambda r: [f"--dim={10**12}", "--loss=softmax", "--batch_size=1"],
        "the largest part is tables: raise --min_count, set --max_vocab or lower --dim"),
}


@pytest.fixture(scope="module")
def bad_input_runs(tmp_path_factory):
  """Runs every BAD_INPUT row, four at a time (each is mostly Python and JAX start-up);
  --noevaluate spares the rows that do not test evaluation files gensim's import."""
  started, results = [], {}
  for name, (setup, _) in BAD_INPUT.items():
    root = tmp_path_factory.mktemp("bad")
    (root / "work").mkdir()
    for file, content in EARLIER.items():
      (root / "work" / file).write_bytes(content)
    (root / "corpus.txt").write_text(GOOD)
    args = setup(root)
    before = {f: (root / "work" / f).read_bytes() for f in os.listdir(root / "work")}
    env = dict(os.environ, W2V_JAX_CACHE=str(root / "cache"))
    cmd = [sys.executable, os.path.join(ROOT, "run.py"), f"--workdir={root / 'work'}",
           f"--corpus={root / 'corpus.txt'}", "--min_count=1", "--noevaluate", "--overwrite",
           *args]
    started.append((name, root, before, subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                                 stderr=subprocess.PIPE, text=True, env=env,
                                                 cwd=root)))
    while sum(p.poll() is None for *_, p in started) >= 4:
      time.sleep(0.05)
  for name, root, before, proc in started:
    stdout, stderr = proc.communicate(timeout=120)
    results[name] = (root, before, subprocess.CompletedProcess(proc.args, proc.returncode,
                                                               stdout, stderr))
  return results


@pytest.mark.parametrize("name", list(BAD_INPUT))
def test_bad_input_is_refused_in_one_line_and_changes_nothing(bad_input_runs, name):
  root, before, proc = bad_input_runs[name]
  _assert_user_error(proc, BAD_INPUT[name][1])
  assert sum(line.startswith("error:") for line in proc.stderr.splitlines()) == 1
  after = {f: (root / "work" / f).read_bytes() for f in os.listdir(root / "work")}
  assert after == before, "the workdir changed"


_THREADS_PROBE = """
import os
import jax.numpy as jnp
from w2v_jax import runtime
cores = os.sched_getaffinity(0)
if {limit}:
  runtime.limit_cpu_threads(1)
(jnp.ones((300, 300)) @ jnp.ones((300, 300))).block_until_ready()
masks = {{frozenset(os.sched_getaffinity(int(t))) for t in os.listdir("/proc/self/task")}}
print(len(os.listdir("/proc/self/task")), masks == {{frozenset(cores)}})
"""


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 cores to limit to 1")
def test_cpu_threads_shrinks_the_pools_and_gives_every_core_back():
  counts = []
  for limit in (False, True):
    proc = subprocess.run([sys.executable, "-c", _THREADS_PROBE.format(limit=limit)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env=dict(os.environ, JAX_PLATFORMS="cpu"))
    assert proc.returncode == 0, proc.stderr
    threads, all_cores = proc.stdout.split()
    assert all_cores == "True"  # no thread stays pinned to the core it started on
    counts.append(int(threads))
  assert counts[1] < counts[0]  # XLA made smaller pools


def test_data_mode_counts_pairs_rows_and_filled_slots_of_skipgram_hs_by_centre(tmp_path):
  import json  # pylint: disable=import-outside-toplevel
  proc = _run(tmp_path, "--mode=data", "--min_count=1", "--loss=hs", "--window=2",
              "--sample=0", "--noshrink_window")
  assert proc.returncode == 0, proc.stderr
  summary = json.loads((tmp_path / "work" / "data.json").read_text())
  # 10 sentences of 6 words, fixed window 2: per sentence 2+3+4+4+3+2 = 18 pairs, and
  # 1+2+2+2+2+1 = 10 rows of 2 slots (a centre with 4 contexts takes two).
  assert summary["epoch_examples"] == 180 and summary["epoch_rows"] == 100
  assert summary["context_slots_filled"] == 0.9
  assert "by centre: 100 rows, 90.0% of their context slots hold a word" in proc.stderr
