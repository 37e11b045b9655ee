"""Every file the toolkit reads back is checked as it is read (issue 21, part B).

The corpus cache serves no stale data and rebuilds a damaged stage; a damaged
checkpoint, vocabulary or vectors file is one error line; vectors with NaN,
duplicate words or a wrong row count are reported before scoring; a window
wider than every sentence trains as in word2vec.c; and every flag value that
makes no sense is refused. The end-to-end rows at the bottom assert, through
run.py, the exit code, exactly one `error:` line, no traceback, and the files
they were given unchanged.
"""

import logging
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.run_test import _assert_user_error
from w2v_jax import batches as batches_lib
from w2v_jax import checkpoint
from w2v_jax import config as config_lib
from w2v_jax import corpus as corpus_lib
from w2v_jax import corpus_cache
from w2v_jax import loop
from w2v_jax import metrics
from w2v_jax import resolve as resolve_lib
from w2v_jax import vocab as vocab_lib
from w2v_jax import word2vec_format
from w2v_jax.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEXT = "the cat sat on the mat\nthe dog sat on the log\n" * 5


def _load(path, cache):
  return corpus_lib.load(str(path), min_count=1, cache_dir=str(cache))


# ------------------------------------------------------------------ the corpus cache


def test_an_edit_in_place_with_size_and_mtime_restored_is_read_again(tmp_path):
  path = tmp_path / "corpus.txt"
  path.write_text(TEXT)
  before = _load(path, tmp_path / "cache")
  st = os.stat(path)
  with open(path, "r+b") as f:  # same size: "cat" -> "cow", as rsync or a restore would leave
    f.write(TEXT.replace("cat", "cow", 1).encode())
  os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
  assert os.stat(path).st_size == st.st_size and os.stat(path).st_mtime_ns == st.st_mtime_ns
  after = _load(path, tmp_path / "cache")
  assert "cow" in after.vocab.words and "cow" not in before.vocab.words
  assert after.stats["cache"] != before.stats["cache"]


def test_the_fingerprint_of_a_large_file_samples_its_ends_and_middle(tmp_path, monkeypatch):
  monkeypatch.setattr(corpus_cache, "FINGERPRINT_WHOLE_BYTES", 1 << 20)
  path = tmp_path / "big.txt"
  data = bytearray(b"word " * (1 << 20))  # 5 MiB: sampled
  path.write_bytes(data)
  sampled = corpus_cache.fingerprint(str(path), len(data))
  sampled_block = (len(data) - (1 << 20)) * 7 // (corpus_cache.FINGERPRINT_BLOCKS - 1)
  for where in (0, sampled_block + 100, len(data) - 1):  # first MiB, a block between, last MiB
    changed = bytearray(data)
    changed[where] = ord("x")
    path.write_bytes(changed)
    assert corpus_cache.fingerprint(str(path), len(data)) != sampled, where


def _truncate(p):
  p.write_bytes(p.read_bytes()[:len(p.read_bytes()) // 2])


def _bad_header(p):
  p.write_bytes(b"garbage" + p.read_bytes()[7:])


def _id_out_of_range(p):
  ids = np.load(p, mmap_mode="r+")
  ids[0] = 1000
  ids.flush()


# (stage folder: scan or encoded, file, damage)
DAMAGE = {
    "ids.npy cut short": ("enc", "ids.npy", _truncate),
    "ids.npy with an id past the vocabulary": ("enc", "ids.npy", _id_out_of_range),
    "offsets.npy header overwritten": ("enc", "offsets.npy", _bad_header),
    "vocab.txt cut mid-line": ("enc", "vocab.txt", lambda p: p.write_text("the 20\ncat")),
    "vocab.txt missing": ("enc", "vocab.txt", os.remove),
    "stats.json not JSON": ("scan", "stats.json", lambda p: p.write_text("{")),
    "counts.npy missing": ("scan", "counts.npy", os.remove),
    "words.txt cut short": ("scan", "words.txt", _truncate),
    "raw_ids.bin cut short": ("scan", "raw_ids.bin", _truncate),
}


@pytest.mark.parametrize("name", list(DAMAGE))
def test_a_damaged_cache_entry_is_rebuilt_with_one_warning(tmp_path, caplog, name):
  stage, file, damage = DAMAGE[name]
  path = tmp_path / "corpus.txt"
  path.write_text(TEXT)
  good = _load(path, tmp_path / "cache")
  good_ids = np.array(good.ids)  # a copy: good.ids maps the file about to be damaged
  enc_dir = good.stats["cache"]
  folder = enc_dir if stage == "enc" else os.path.dirname(enc_dir)
  damage(tmp_path / folder / file)
  with caplog.at_level(logging.WARNING):
    again = _load(path, tmp_path / "cache")
  warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
  assert len(warnings) == 1 and "was damaged" in warnings[0] and folder in warnings[0]
  assert again.vocab.words == good.vocab.words
  np.testing.assert_array_equal(again.ids, good_ids)
  np.testing.assert_array_equal(again.offsets, good.offsets)
  caplog.clear()
  _load(path, tmp_path / "cache")
  assert not caplog.records, "rebuilt once, then found whole"


def test_the_default_corpus_folder_without_its_file_is_rebuilt(tmp_path, monkeypatch, caplog):
  from w2v_jax import datasets  # pylint: disable=import-outside-toplevel
  monkeypatch.setattr(datasets, "_write_default", lambda out: open(out, "w").write(TEXT))
  path = datasets.default_corpus(str(tmp_path))
  os.remove(path)
  with caplog.at_level(logging.WARNING):
    assert datasets.default_corpus(str(tmp_path)) == path
  assert open(path).read() == TEXT and "lost its corpus.txt" in caplog.text


# ------------------------------------------------------------------ checkpoints


def _write_checkpoint(workdir):
  meta = {"settings": {}, "corpus": {}, "epoch": 0, "epochs": 1, "calls": 1, "step": 4,
          "examples": 10, "progress": {"words": 1}, "total_words": 10}
  state = {"a": np.arange(6000, dtype=np.float32).reshape(60, 100), "b": np.ones(3, np.int32)}
  key = np.array([0, 7], np.uint32)
  return checkpoint.save(str(workdir), state, key, meta)


def _flip_middle(p):
  data = bytearray(p.read_bytes())
  data[len(data) // 3] ^= 0xFF  # inside state.0's bytes: a CRC error when read
  p.write_bytes(bytes(data))


def _resave(p, drop=(), **replace):
  with np.load(p) as z:
    arrays = {k: z[k] for k in z.files if k not in drop}
  arrays.update(replace)
  with open(p, "wb") as f:
    np.savez(f, **arrays)


CHECKPOINT_DAMAGE = {
    "empty": lambda p: p.write_bytes(b""),
    "cut in half": _truncate,
    "one byte flipped": _flip_middle,
    "not a zip": lambda p: p.write_bytes(b"hello" * 100),
    "no key": lambda p: _resave(p, drop=("key",)),
    "no meta": lambda p: _resave(p, drop=("meta",)),
    "meta not JSON": lambda p: _resave(p, meta=np.asarray("{")),
    "meta without its fields": lambda p: _resave(p, meta=np.asarray('{"format": 1}')),
    "no state": lambda p: _resave(p, drop=("state.0", "state.1")),
    "key of another shape": lambda p: _resave(p, key=np.zeros((2, 2), np.float32)),
}


@pytest.mark.parametrize("name", list(CHECKPOINT_DAMAGE))
def test_a_damaged_checkpoint_is_one_error_naming_the_file(tmp_path, name):
  p = _write_checkpoint(tmp_path)
  CHECKPOINT_DAMAGE[name](tmp_path / checkpoint.NAME)
  with pytest.raises(UserError) as e:
    checkpoint.load(str(tmp_path))
  assert str(e.value).startswith(f"checkpoint {p} is damaged") and "delete it" in str(e.value)
  assert "\n" not in str(e.value)


def test_a_checkpoint_whose_arrays_do_not_fit_the_model_is_refused(tmp_path):
  _write_checkpoint(tmp_path)
  _resave(tmp_path / checkpoint.NAME, **{"state.0": np.zeros((5, 5), np.float32)})
  saved = checkpoint.load(str(tmp_path))
  template = {"a": np.zeros((60, 100), np.float32), "b": np.zeros(3, np.int32)}
  with pytest.raises(UserError, match="does not match this model's tables.*delete it"):
    checkpoint.restore_state(saved.state_leaves, template, "here")


def test_a_damaged_vocabulary_file_is_one_error(tmp_path):
  path = tmp_path / "vocab.txt"
  path.write_bytes(b"the 5\nca\xfft 3\n")
  with pytest.raises(UserError, match="is not UTF-8 text"):
    vocab_lib.load(str(path))
  path.write_bytes(b"the 5\ncat")
  with pytest.raises(UserError, match=r":2: expected 'word count'"):
    vocab_lib.load(str(path))


# ------------------------------------------------------------------ vectors files

WORDS = ["king", "queen", "man", "woman", "paris", "france"]


def _vectors_file(tmp_path, binary=True, words=WORDS, nan_rows=()):
  vectors_VxD = np.random.default_rng(0).normal(size=(len(words), 4)).astype(np.float32)
  vectors_VxD[list(nan_rows), 1] = np.nan
  path = tmp_path / ("v.bin" if binary else "v.txt")
  word2vec_format.write_word2vec(str(path), words, vectors_VxD, binary=binary)
  return path, vectors_VxD


@pytest.mark.parametrize("binary", [True, False])
def test_vectors_with_nan_are_refused_naming_how_many_and_which(tmp_path, binary):
  path, _ = _vectors_file(tmp_path, binary, nan_rows=(1, 4))
  with pytest.raises(UserError, match=r"2 of 6 vectors hold NaN or infinite values "
                                      r"\('queen', 'paris'\)"):
    word2vec_format.read_word2vec(str(path))


def test_scoring_and_neighbours_refuse_nan_and_never_list_a_nan_word():
  vectors_VxD = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
  vectors_VxD[3] = np.inf
  with pytest.raises(UserError, match="1 of 6 vectors hold NaN"):
    metrics.nearest_neighbors(WORDS, vectors_VxD, ["king"])
  with pytest.raises(UserError, match="1 of 6 vectors hold NaN"):
    metrics.evaluate_all(WORDS, vectors_VxD)
  with np.errstate(invalid="ignore"):
    unit_VxD = metrics.unit_rows(vectors_VxD)  # a caller past the checks: NaN rows
  table = metrics.lookup_table(WORDS, case_insensitive=False)
  found = metrics.most_similar(unit_VxD, WORDS, table, ["king"], [], topn=10)
  assert [w for w, _ in found] and "woman" not in [w for w, _ in found]
  assert all(np.isfinite(c) for _, c in found)


@pytest.mark.parametrize("binary", [True, False])
def test_header_row_counts_must_match_the_rows(tmp_path, binary):
  path, _ = _vectors_file(tmp_path, binary)
  data = path.read_bytes()
  path.write_bytes(b"5 4" + data[3:])  # one row more than the header says
  with pytest.raises(UserError, match="holds more rows than the 5 its 'V D' header says"):
    word2vec_format.read_word2vec(str(path))
  words, _ = word2vec_format.read_word2vec(str(path), max_words=3)  # asked for fewer: fine
  assert words == WORDS[:3]
  path.write_bytes(b"0 4" + data[3:])
  with pytest.raises(UserError, match="holds 0 vectors"):
    word2vec_format.read_word2vec(str(path))
  path.write_bytes(b"0 4\n")
  with pytest.raises(UserError, match="holds 0 vectors"):
    word2vec_format.read_word2vec(str(path))


def test_duplicate_words_keep_their_first_row_with_one_warning(tmp_path, caplog):
  words = ["king", "queen", "king", "man", "queen", "king"]
  path, vectors_VxD = _vectors_file(tmp_path, words=words)
  with caplog.at_level(logging.WARNING):
    got_words, got_VxD = word2vec_format.read_word2vec(str(path))
  assert got_words == ["king", "queen", "man"]
  np.testing.assert_array_equal(got_VxD, vectors_VxD[[0, 1, 3]])
  assert len(caplog.records) == 1
  assert "2 word(s) occur more than once ('king', 'queen')" in caplog.records[0].getMessage()
  from gensim.models import KeyedVectors  # pylint: disable=import-outside-toplevel
  kv = KeyedVectors.load_word2vec_format(str(path), binary=True)  # gensim: the same rows
  assert [kv.index_to_key[i] for i in range(3)] == got_words
  np.testing.assert_array_equal(kv.vectors[:3], got_VxD)


# ------------------------------------------------------------------ windows wider than sentences


def _pairs_by_layout(ids_N, offsets, window, shrink, layout, model="skipgram", seed=0):
  batches = batches_lib.iterate_epoch(
      ids_N, offsets, np.ones(len(ids_N)), model=model, window=window, shrink_window=shrink,
      batch_size=8, seed=seed, epoch=0, layout=layout)
  pairs = []
  for b in batches:
    for row in np.flatnonzero(b["mask"]):
      if b["context"].ndim == 1:
        pairs.append((int(b["context"][row]), int(b["centre"][row])))
      else:
        ctx = b["context"][row][b["context_mask"][row]]
        pairs.extend((int(c), int(b["centre"][row])) for c in ctx)
  return sorted(pairs)


def _five_word_lines(n):
  offsets = np.arange(0, 5 * n + 1, 5)
  return np.arange(5 * n, dtype=np.int32), offsets


@pytest.mark.parametrize("layout,model", [("pairs", "skipgram"), ("centres", "skipgram"),
                                          (None, "cbow")])
@pytest.mark.parametrize("window", [5, 8, 40])
def test_a_window_wider_than_the_sentence_sees_the_whole_sentence(layout, model, window):
  ids_N, offsets = _five_word_lines(30)  # ids are positions: a pair says where it stands
  got = _pairs_by_layout(ids_N, offsets, window, False, layout or "pairs", model)
  # word2vec.c: every other word of the sentence within the window, i.e. all of them.
  expected = sorted((c, i) for s in range(30) for i in range(5 * s, 5 * s + 5)
                    for c in range(5 * s, 5 * s + 5) if c != i)
  assert got == expected


def test_a_shrinking_window_wider_than_the_sentence_follows_word2vec_c():
  # word2vec.c draws b in 0..window-1 and takes offsets up to window - b: a pair at
  # distance d is made with probability (window - d + 1) / window.
  n, window = 4000, 5
  ids_N, offsets = _five_word_lines(n)
  got = np.array(_pairs_by_layout(ids_N, offsets, window, True, "pairs"))
  per_distance = np.bincount(np.abs(got[:, 0] - got[:, 1]), minlength=5)[1:]
  expected = [2 * (5 - d) * n * (window - d + 1) / window for d in range(1, 5)]
  np.testing.assert_allclose(per_distance, expected, rtol=0.03)


def test_a_corpus_of_five_word_lines_trains_at_the_default_window(tmp_path):
  corpus = tmp_path / "c.txt"
  rng = np.random.default_rng(0)
  words = np.array(["a", "b", "c", "d", "e", "f", "g", "h"])
  corpus.write_text("".join(" ".join(rng.choice(words, 5)) + "\n" for _ in range(200)))
  config = resolve_lib.resolve(config_lib.Config(
      corpus=str(corpus), workdir=str(tmp_path / "work"), cache_dir=str(tmp_path / "cache"),
      min_count=1, dim=8, epochs=1, sample=0.0, evaluate=False, platform="cpu"))
  assert config.window == 5
  os.makedirs(config.workdir)
  loop.train(config)
  words_read, vectors_VxD = word2vec_format.read_word2vec(str(tmp_path / "work" / "vectors.bin"))
  assert sorted(words_read) == list(words) and np.isfinite(vectors_VxD).all()


# ------------------------------------------------------------------ flag values

BAD_VALUES = [
    ({"seed": -1}, "--seed must be an integer in [0, 2**63)"),
    ({"seed": 2**63}, "--seed must be an integer in [0, 2**63)"),
    ({"sample": float("inf")}, "--sample must be >= 0 and finite"),
    ({"sample": float("nan")}, "--sample must be >= 0 and finite"),
    ({"sample": -1e-3}, "--sample must be >= 0 and finite"),
    ({"alpha": 0.0}, "--alpha must be > 0 and finite"),
    ({"alpha": -0.025}, "--alpha must be > 0 and finite"),
    ({"alpha": float("inf")}, "--alpha must be > 0 and finite"),
    ({"alpha": float("nan")}, "--alpha must be > 0 and finite"),
    ({"min_alpha_ratio": float("nan")}, "--min_alpha_ratio must lie in [0, 1]"),
    ({"min_alpha_ratio": 2.0}, "--min_alpha_ratio must lie in [0, 1]"),
    ({"lr_warmup": 1.0}, "--lr_warmup must lie in [0, 1)"),
    ({"lr_warmup": float("nan")}, "--lr_warmup must lie in [0, 1)"),
    ({"ns_exponent": float("inf")}, "--ns_exponent must be >= 0 and finite"),
    ({"ns_exponent": float("nan")}, "--ns_exponent must be >= 0 and finite"),
    ({"row_cap": 0.5}, "--row_cap must be at least 1"),
    ({"row_cap": float("nan")}, "--row_cap must be at least 1"),
    ({"krylov_dims": -1}, "--krylov_dims must lie in"),
    ({"krylov_dims": 33}, "--krylov_dims must lie in"),
    ({"negative": -1}, "--negative must be >= 0"),
    ({"min_count": 0}, "--min_count must be at least 1"),
    ({"max_vocab": -5}, "--max_vocab must be >= 0"),
    ({"dim": 0}, "--dim must be at least 1"),
    ({"dim": -3}, "--dim must be at least 1"),
    ({"window": 0}, "--window must be at least 1"),
    ({"epochs": 0}, "--epochs must be at least 1"),
    ({"max_sentence_length": 0}, "--max_sentence_length must be at least 1"),
    ({"batch_size": -1}, "--batch_size must be >= 1"),
    ({"steps_per_call": -1}, "--steps_per_call must be >= 1"),
    ({"share_negatives": -1}, "--share_negatives must be >= 1"),
    ({"path_buckets": -1}, "--path_buckets must be >= 1"),
    ({"cpu_threads": -2}, "--cpu_threads must be >= 1"),
    ({"num_devices": 0}, "--num_devices must be >= 1"),
    ({"num_processes": 0}, "--num_processes be >= 1"),
    ({"process_id": -1}, "--process_id must lie in [0, --num_processes)"),
    ({"log_every_secs": -1.0}, "--log_every_secs must be >= 0"),
    ({"log_every_secs": float("nan")}, "--log_every_secs must be >= 0"),
    ({"checkpoint_every_secs": float("nan")}, "--checkpoint_every_secs must be >= 0"),
    ({"restrict_vocab": 0}, "--restrict_vocab and --topk must be at least 1"),
    ({"topk": 0}, "--restrict_vocab and --topk must be at least 1"),
    ({"phrase_passes": 0}, "--phrase_passes and --phrase_min_count must be at least 1"),
    ({"phrase_min_count": 0}, "--phrase_passes and --phrase_min_count must be at least 1"),
    ({"phrase_threshold": "inf"}, "--phrase_threshold must be finite"),
    ({"phrase_threshold": "nan"}, "--phrase_threshold must be finite"),
    ({"analogies": ""}, "--analogies must name a file"),
    ({"dim": "100"}, "--dim must be an integer, got '100'"),
    ({"dim": 8.5}, "--dim must be an integer, got 8.5"),
    ({"epochs": True}, "--epochs must be an integer, got True"),
    ({"sample": "1e-3"}, "--sample must be a number"),
    ({"alpha": "0.025"}, "--alpha must be a number"),
    ({"shuffle": 1}, "--shuffle must be true or false"),
    ({"corpus": 3}, "--corpus must be a string"),
    ({"model": "glove"}, "--model must be one of skipgram, cbow"),
]


@pytest.mark.parametrize("settings,fragment", BAD_VALUES, ids=[str(s) for s, _ in BAD_VALUES])
def test_every_value_that_makes_no_sense_is_refused(settings, fragment):
  with pytest.raises(UserError) as e:
    resolve_lib.validate(config_lib.Config(**settings))
  assert fragment in str(e.value)


def test_training_needs_a_workdir_and_the_flag_cannot_be_empty(tmp_path):
  # An empty workdir means "beside --vectors" to the scoring modes only (run.py).
  with pytest.raises(UserError, match="--workdir must name a folder"):
    loop.train(config_lib.Config(workdir="", corpus=str(tmp_path / "none.txt")))
  done = subprocess.run([sys.executable, os.path.join(ROOT, "run.py"), "--workdir=",
                         "--mode=eval", "--vectors=x.bin"], capture_output=True, text=True,
                        cwd=tmp_path, timeout=120)
  assert done.returncode == 2 and done.stderr.strip().splitlines() == [
      "error: --workdir must name a folder (the default is runs/default)"], done.stderr


def test_every_field_has_a_refused_value_or_takes_any_value_of_its_type():
  # Fields whose every value of their type is meaningful: free text (paths, names,
  # addresses, queries; checked where they are used) and switches.
  free = {name for name, f in config_lib.FIELDS.items() if f.type in (str, bool)}
  tested = {name for settings, _ in BAD_VALUES for name in settings}
  assert set(config_lib.FIELDS) - free - tested == set()


@pytest.mark.parametrize("settings", [
    {"seed": 0}, {"seed": 2**63 - 1}, {"sample": 0.0}, {"sample": 1.0}, {"alpha": 0.1},
    {"alpha": 2.0}, {"ns_exponent": 0.0}, {"ns_exponent": 1.5}, {"window": 50},
    {"log_every_secs": float("inf")}, {"checkpoint_every_secs": float("inf")},
    {"seed": np.int64(3)}, {"alpha": np.float32(0.05)}, {"sample": 0},
])
def test_legitimate_values_pass(settings):
  resolve_lib.validate(config_lib.Config(**settings))


# ------------------------------------------------------------------ end to end, through run.py


def _damaged_checkpoint(root):
  from tests.run_test import _checkpoint_of  # pylint: disable=import-outside-toplevel
  _checkpoint_of(root)
  _truncate(root / "work" / checkpoint.NAME)
  return ["--resume"]


def _vectors_args(root, mode, **kw):
  path, _ = _vectors_file(root, **kw)
  return [f"--mode={mode}", f"--vectors={path}"] + (["--query=king"] if mode == "neighbors" else [])


def _header_zero(root):
  (root / "v.bin").write_bytes(b"0 4\n")
  return ["--mode=eval", f"--vectors={root / 'v.bin'}"]


# name: (setup(root) -> extra flags, a fragment of the error line)
END_TO_END = {
    "negative seed": (lambda r: ["--seed=-1"], "--seed must be an integer in [0, 2**63)"),
    "infinite sample": (lambda r: ["--sample=inf"], "--sample must be >= 0 and finite"),
    "NaN alpha": (lambda r: ["--alpha=nan"], "--alpha must be > 0 and finite"),
    "checkpoint cut in half": (_damaged_checkpoint, "is damaged"),
    "vectors with a NaN, scored": (lambda r: _vectors_args(r, "eval", nan_rows=(2,)),
                                   "1 of 6 vectors hold NaN or infinite values ('man')"),
    "vectors with a NaN, neighbours": (lambda r: _vectors_args(r, "neighbors", nan_rows=(2,)),
                                       "1 of 6 vectors hold NaN or infinite values ('man')"),
    "vectors header claiming 0 rows": (_header_zero, "holds 0 vectors"),
}


@pytest.fixture(scope="module")
def end_to_end_runs(tmp_path_factory):
  """Runs every END_TO_END row, four at a time; each root's files, before and after."""
  started = []
  for name, (setup, _) in END_TO_END.items():
    root = tmp_path_factory.mktemp("readback")
    (root / "work").mkdir()
    (root / "corpus.txt").write_text(TEXT)
    args = setup(root)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    cmd = [sys.executable, os.path.join(ROOT, "run.py"), f"--workdir={root / 'work'}",
           f"--corpus={root / 'corpus.txt'}", "--min_count=1", "--noevaluate", *args]
    started.append((name, root, before, subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=root,
        env=dict(os.environ, W2V_JAX_CACHE=str(root / "cache")))))
    while sum(p.poll() is None for *_, p in started) >= 4:
      time.sleep(0.05)
  results = {}
  for name, root, before, proc in started:
    _, stderr = proc.communicate(timeout=120)
    results[name] = (root, before, proc.returncode, stderr)
  return results


@pytest.mark.parametrize("name", list(END_TO_END))
def test_end_to_end_one_error_line_and_nothing_changed(end_to_end_runs, name):
  root, before, returncode, stderr = end_to_end_runs[name]
  _assert_user_error(subprocess.CompletedProcess([], returncode, "", stderr),
                     END_TO_END[name][1])
  assert sum(line.startswith("error:") for line in stderr.splitlines()) == 1
  after = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and p in before}
  assert after == before
