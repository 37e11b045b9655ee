"""Scaling curves: time per word against V, k and corpus size; peak host RSS against V and D.

  python benchmarks/scaling.py                        # every curve: 10 min on a quiet 2-core CPU
  python benchmarks/scaling.py --curves=vocab --losses=ns,hs --vocab_sizes=10000,100000
  python benchmarks/scaling.py --curves=corpus --corpus_tokens=1000000,2000000 --tag=quick

Needs `pip install -r benchmarks/requirements.txt` (matplotlib draws the figure). Nothing is
downloaded: every corpus is synthetic and generated here.

Corpora. For a vocabulary of V words, each word type occurs once (so that min_count=1 keeps all V
of them) and --zipf_tokens more tokens are drawn from a Zipf distribution, p(rank r) ~ r^-s
(s = --zipf_exponent, 1.0), over the same V types; the tokens are shuffled with a fixed seed and
written as sentences of 20 words such as "w17 w3 w52811 ...". The one-of-each floor is 0.5% of
the tokens at V = 10k and a third at V = 1M; it makes the rare end of the distribution flatter
than pure Zipf, which a real corpus of that vocabulary would not be.

Runs. Each point is one `python run.py --corpus=PATH --loss=L --epochs=1 --sample=0
--min_count=1 --noevaluate --platform=cpu ...` (skip-gram, dim 100, negative 5, defaults
otherwise) in its own process pinned to --cores CPU cores, its encoded corpus already cached (the
corpus encoding runs once per corpus in a process of its own, whose peak RSS is reported
separately). Time per word is the steady state: the words between the run's first progress line
(which comes after JIT compilation and the first chunks) and its last, over the seconds between
them, from metrics.jsonl (`--log_every_secs=1`). Full softmax costs O(V) per word, an
epoch of it would take hours at large V, so softmax runs are stopped --softmax_secs after their
first progress line and their rate comes from the words done until then; every other run trains
its whole epoch and writes its files. A run still going after --max_run_secs is stopped; it
counts if it has two progress lines, and is left out (and named in the report) if not.

Other work on the machine skews the times. Before each process the script waits (up to
--quiet_wait_secs) until the rest of the machine uses fewer than --quiet_below cores, and it
reports, per run, the cores the rest of the machine used while the run went ("others' cores",
from /proc/stat minus the child's own CPU time; 0 on a quiet machine).

Peak RSS is the child's ru_maxrss (os.wait4). The report compares it with the bytes of the tables
(V x D x 4 per table: emb_in and emb_out for softmax and ns, emb_in and V - 1 node rows for hs)
plus the id array (tokens x 4 bytes). VmHWM read from /proc while the run goes splits the peak
into phases: before the first progress line (data, tables, compilation, first chunks), training,
and after the last epoch (device_get, vectors.bin, params.npz). Stopped softmax runs have no
export phase. "kernel CPU %" is the child's system time over its user + system time (page
faults on freshly allocated buffers show up there).

Curves (--curves, comma-separated):
  vocab     s per million words against V (--vocab_sizes) for --losses; peak RSS against V
  negative  NS s per million words against k (--negatives) at V = --negative_vocab
  corpus    NS seconds per epoch against corpus tokens (--corpus_tokens) at V = --corpus_vocab
  dim       NS peak RSS (and time) against D (--dims) at V = --dim_vocab
  parts     where a run's memory goes, each piece in a process of its own: model.init_params
            for V = --dim_vocab and each D, and one epoch of batches.iterate_epoch (skip-gram)
            on that corpus at the library's chunk size and at 2^18 tokens

Writes OUT_DIR/<tag>.jsonl (a line per run), OUT_DIR/<tag>.md (tables, fitted slopes, the command,
the machine) and OUT_DIR/<tag>.png, and prints the tables.
"""

import dataclasses
import importlib.metadata
import inspect
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from w2v_jax import config as config_lib
from w2v_jax import corpus as corpus_lib
from w2v_jax import files
from w2v_jax import huffman
from w2v_jax import record
from w2v_jax import resolve as resolve_lib

CURVES = ("vocab", "negative", "corpus", "dim", "parts")
SENTENCE_WORDS = 20
MB = 1 << 20

flags.DEFINE_list("curves", list(CURVES), "Which curves: " + ",".join(CURVES))
flags.DEFINE_list("losses", ["softmax", "hs", "ns"], "Losses for the vocab curve.")
flags.DEFINE_list("vocab_sizes", ["10000", "30000", "100000", "300000", "1000000"],
                  "Vocabulary sizes V for the vocab curve.")
flags.DEFINE_integer("zipf_tokens", 2_000_000,
                     "Zipf-drawn tokens of each vocab-curve corpus (plus one of each word).")
flags.DEFINE_float("zipf_exponent", 1.0, "s in p(rank r) ~ r^-s.")
flags.DEFINE_list("negatives", ["2", "5", "10", "20"], "k values for the negative curve.")
flags.DEFINE_integer("negative_vocab", 100_000, "V of the negative curve.")
flags.DEFINE_list("negative_shares", ["0", "1"],
                  "--share_negatives values for the negative curve: 0 = the trainer's default, "
                  "1 = every example draws its own (word2vec.c).")
flags.DEFINE_list("corpus_tokens", ["1000000", "2000000", "4000000", "8000000"],
                  "Corpus sizes in tokens for the corpus curve (one of each word included).")
flags.DEFINE_integer("corpus_vocab", 100_000, "V of the corpus curve.")
flags.DEFINE_list("dims", ["50", "100", "300"], "D values for the dim curve.")
flags.DEFINE_integer("dim_vocab", 1_000_000, "V of the dim curve.")
flags.DEFINE_float("softmax_secs", 20.0,
                   "Softmax runs stop this many seconds after their first progress line.")
flags.DEFINE_float("max_run_secs", 180.0, "Any run is stopped after this many seconds.")
flags.DEFINE_integer("cores", 2, "CPU cores every run is pinned to.")
flags.DEFINE_float("quiet_below", 0.25,
                   "Before each process, wait until the machine's other processes use fewer "
                   "cores than this (sampled over 1 s), for at most --quiet_wait_secs.")
flags.DEFINE_float("quiet_wait_secs", 20.0, "Longest wait for a quiet machine per process.")
flags.DEFINE_integer("seed", 0, "Seed of the corpus generator and of the runs.")
flags.DEFINE_string("scratch", "",
                    "Folder for corpora, caches and run folders; reused if given (corpora "
                    "already there are not regenerated); default: a temporary folder, removed.")
flags.DEFINE_string("out_dir", os.path.join(ROOT, "benchmarks", "results"), "Where results go.")
flags.DEFINE_string("tag", "scaling", "Name of the result files.")
flags.DEFINE_enum("worker", "", ["", "encode", "init", "batches"],
                  "Internal: measure one step of the trainer in this process.")
flags.DEFINE_string("worker_args", "", "Internal: the worker's settings as JSON.")
FLAGS = flags.FLAGS


# ------------------------------------------------------------------ synthetic corpora


def zipf_ids(vocab_size: int, zipf_tokens: int, exponent: float,
             rng: np.random.Generator) -> np.ndarray:
  """[V + zipf_tokens] word ranks: each of 0..V-1 once, the rest Zipf-drawn, shuffled."""
  weight_V = np.arange(1, vocab_size + 1, dtype=np.float64) ** -exponent
  cdf_V = np.cumsum(weight_V)
  drawn_N = np.searchsorted(cdf_V, rng.random(zipf_tokens) * cdf_V[-1], side="right")
  ids_N = np.concatenate([np.arange(vocab_size), np.minimum(drawn_N, vocab_size - 1)])
  return rng.permutation(ids_N).astype(np.int32)


def write_corpus(path: str, ids_N: np.ndarray) -> None:
  """Writes ids as words "w<id>", SENTENCE_WORDS to a line (atomically)."""
  words = np.array([f"w{i}" for i in range(int(ids_N.max()) + 1)], dtype=object)
  with files.atomic_write(path, "w", encoding="utf-8") as f:
    step = SENTENCE_WORDS * 50_000
    for start in range(0, len(ids_N), step):
      part = words[ids_N[start:start + step]].tolist()
      f.write("\n".join(" ".join(part[i:i + SENTENCE_WORDS])
                        for i in range(0, len(part), SENTENCE_WORDS)) + "\n")


def corpus_for(scratch: str, vocab_size: int, tokens: int) -> str:
  """The corpus of `tokens` tokens over `vocab_size` types, generated once per scratch folder."""
  path = os.path.join(scratch, "corpora",
                      f"zipf-v{vocab_size}-n{tokens}-s{FLAGS.zipf_exponent:g}-"
                      f"seed{FLAGS.seed}.txt")
  if not os.path.exists(path):
    start = time.time()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rng = np.random.default_rng([FLAGS.seed, vocab_size, tokens])
    write_corpus(path, zipf_ids(vocab_size, tokens - vocab_size, FLAGS.zipf_exponent, rng))
    print(f"wrote {path} in {time.time() - start:.1f} s", flush=True)
  return path


# ------------------------------------------------------------------ one child process


def _pin():
  cores = set(sorted(os.sched_getaffinity(0))[:FLAGS.cores])
  return lambda: os.sched_setaffinity(0, cores)


def _hwm_bytes(pid: int) -> int:
  """The process's peak resident set so far (VmHWM), 0 if it is gone."""
  try:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
      for line in f:
        if line.startswith("VmHWM:"):
          return int(line.split()[1]) * 1024
  except OSError:
    pass
  return 0


def _cpu_seconds(pid: int) -> float:
  """User + system CPU seconds of a running process, all its threads (/proc/PID/stat)."""
  try:
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
      fields = f.read().rsplit(")", 1)[1].split()
  except OSError:
    return float("nan")
  return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _read_records(path: str, offset: int):
  """New complete JSON lines of a metrics file from byte `offset`: (records, new offset).
  While the run trains its metrics.jsonl is in WORKDIR/staging/ (w2v_jax/workdir.py); it
  moves, the same bytes, to WORKDIR/ when the run finishes."""
  staged = os.path.join(os.path.dirname(path), "staging", os.path.basename(path))
  for where in (staged, path):
    try:
      with open(where, "rb") as f:
        f.seek(offset)
        data = f.read()
      break
    except FileNotFoundError:
      continue
  else:
    return [], offset
  end = data.rfind(b"\n") + 1
  return [json.loads(line) for line in data[:end].splitlines() if line.strip()], offset + end


def wait_for_quiet() -> float:
  """Waits until other processes use fewer than --quiet_below cores; the seconds waited."""
  start = time.time()
  while True:
    busy, t = record.busy_cpu_seconds(), time.time()
    time.sleep(1.0)
    load = (record.busy_cpu_seconds() - busy) / (time.time() - t)
    if load < FLAGS.quiet_below:
      return time.time() - start
    if time.time() - start > FLAGS.quiet_wait_secs:
      print(f"the machine is still busy ({load:.2f} cores) after "
            f"{FLAGS.quiet_wait_secs:g} s; going on", flush=True)
      return time.time() - start


def run_child(cmd: list[str], log_path: str, metrics_path: str = "",
              stop_after_secs: float = float("inf"), quiet: bool = False) -> dict:
  """Runs cmd pinned to the cores; watches metrics_path; returns records, rusage, phases.

  The child is stopped (SIGKILL) `stop_after_secs` after its first progress record,
  or --max_run_secs after it started; with quiet=True it starts once the machine is
  quiet (wait_for_quiet). `other_cores` is the CPU time the rest of the machine used
  while it ran, in cores (0 on a quiet machine). `window` holds, for the polls that
  saw the first and the last progress records, the number of records seen, the
  child's CPU seconds and the machine's busy CPU seconds then.
  """
  waited = wait_for_quiet() if quiet else 0.0
  records, offset, window = [], 0, []
  hwm_first = hwm_epoch = 0
  stopped = ""
  start, busy = time.time(), record.busy_cpu_seconds()
  with open(log_path, "w", encoding="utf-8") as log:
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_pin())
  while True:
    pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
    if pid:
      break
    hwm = _hwm_bytes(proc.pid)
    if metrics_path:
      new, offset = _read_records(metrics_path, offset)
      if new and not records:
        hwm_first = hwm
      if any(r["kind"] == "epoch" for r in new):
        hwm_epoch = hwm
      records += new
      if new:
        sample = (len(records), _cpu_seconds(proc.pid), record.busy_cpu_seconds())
        window = [window[0] if window else sample, sample]
    if not stopped and records and records[-1]["elapsed_s"] - records[0]["elapsed_s"] >= \
        stop_after_secs:
      stopped = "time box"
    if not stopped and time.time() - start > FLAGS.max_run_secs:
      stopped = f"--max_run_secs={FLAGS.max_run_secs:g}"
    if stopped:
      os.kill(proc.pid, signal.SIGKILL)
      _, status, usage = os.wait4(proc.pid, 0)
      break
    time.sleep(0.05)
  proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
  if metrics_path:
    records += _read_records(metrics_path, offset)[0]
  wall = time.time() - start
  others = record.busy_cpu_seconds() - busy - usage.ru_utime - usage.ru_stime
  return {"records": records, "returncode": proc.returncode, "stopped": stopped,
          "wall_s": round(wall, 2), "peak_rss": usage.ru_maxrss * 1024,
          "hwm_first": hwm_first, "hwm_epoch": hwm_epoch,
          "other_cores": round(max(others, 0.0) / wall, 3), "waited_s": round(waited, 1),
          "user_s": round(usage.ru_utime, 2), "sys_s": round(usage.ru_stime, 2),
          "window": window}


def _tail(path: str, chars: int = 2000) -> str:
  with open(path, encoding="utf-8", errors="replace") as f:
    return f.read()[-chars:]


def worker(kind: str, args: dict, log: str) -> dict:
  """Runs this file's --worker=kind in a child process; its JSON answer and peak RSS."""
  cmd = [sys.executable, os.path.abspath(__file__), f"--worker={kind}",
         f"--worker_args={json.dumps(args)}"]
  child = run_child(cmd, log)
  if child["returncode"] != 0:
    sys.exit(f"--worker={kind} {args} failed:\n{_tail(log)}")
  with open(log, encoding="utf-8") as f:
    answer = [line for line in f if line.startswith("{")]
  return dict(json.loads(answer[-1]) if answer else {}, peak_rss=child["peak_rss"],
              wall_s=child["wall_s"])


def _rss() -> dict:
  """This process's resident set now (VmRSS) and at its peak (VmHWM), in bytes."""
  out = {}
  with open("/proc/self/status", encoding="ascii") as f:
    for line in f:
      if line.startswith(("VmRSS:", "VmHWM:")):
        out[line[:5]] = int(line.split()[1]) * 1024
  return out


def _load_corpus(path: str, cache: str) -> corpus_lib.Corpus:
  d = config_lib.Config()
  return corpus_lib.load(path, lowercase=d.lowercase, max_sentence_length=d.max_sentence_length,
                         min_count=1, max_vocab=0, cache_dir=cache)


def _worker_init(args: dict) -> dict:
  """model.init_params for (V, D, loss): its peak and settled RSS over the process before."""
  import jax  # pylint: disable=import-outside-toplevel
  jax.config.update("jax_platforms", "cpu")
  from w2v_jax import model as model_lib  # pylint: disable=import-outside-toplevel
  model_lib.init_params(jax.random.PRNGKey(0), 2, 2, args["loss"])  # compiles; small
  before = _rss()["VmRSS"]
  params = model_lib.init_params(jax.random.PRNGKey(0), args["vocab_size"], args["dim"],
                                 args["loss"])
  jax.block_until_ready(params)
  time.sleep(2.0)  # buffers of the computation are freed asynchronously
  after = _rss()
  return {"tables_bytes": sum(int(x.nbytes) for x in params.values()),
          "peak_over_before": after["VmHWM"] - before, "held_over_before": after["VmRSS"] - before}


def _worker_batches(args: dict) -> dict:
  """One epoch of batches_lib.iterate_epoch as the trainer calls it for skip-gram-ns (its
  default batch size and shuffling, sample 0): the peak RSS over the process with the corpus
  loaded and its ids read."""
  from w2v_jax import batches as batches_lib  # pylint: disable=import-outside-toplevel
  corpus = _load_corpus(args["corpus"], args["cache"])
  int(np.asarray(corpus.ids).sum())  # the id pages count as loaded, not as batch memory
  keep_V = np.ones(len(corpus.vocab))
  extra = {"chunk_tokens": args["chunk_tokens"]} if args.get("chunk_tokens") else {}
  config = resolve_lib.resolve(config_lib.Config(loss="ns"))
  before = _rss()["VmRSS"]
  start = time.time()
  for _ in batches_lib.iterate_epoch(
      corpus.ids, corpus.offsets, keep_V, model="skipgram", window=config.window,
      shrink_window=config.shrink_window, batch_size=config.batch_size, seed=0,
      epoch=0, shuffle=config.shuffle, **extra):
    pass
  return {"peak_over_before": _rss()["VmHWM"] - before, "seconds": time.time() - start,
          "batch_size": config.batch_size, "shuffle": config.shuffle}


def encode_corpus(path: str, cache: str) -> dict:
  """Encodes a corpus into the cache in a child process; its time and peak RSS."""
  os.makedirs(cache, exist_ok=True)
  log = os.path.join(os.path.dirname(cache), os.path.basename(path) + ".encode.log")
  answer = worker("encode", {"corpus": path, "cache": cache}, log)
  return {"encode_s": answer["wall_s"], "encode_peak_rss": answer["peak_rss"]}


def baseline_rss(scratch: str) -> int:
  """Peak RSS of a process that imports the trainer and runs one op on JAX's CPU backend."""
  code = ("import jax; jax.config.update('jax_platforms', 'cpu'); import jax.numpy as jnp; "
          "from w2v_jax import train; jnp.zeros(()).block_until_ready()")
  log = os.path.join(scratch, "baseline.log")
  child = run_child([sys.executable, "-c", code], log)
  if child["returncode"] != 0:
    sys.exit(f"baseline process failed:\n{_tail(log)}")
  return child["peak_rss"]


# ------------------------------------------------------------------ one training run


def _resolved_settings(config_path: str) -> dict:
  """Batch size, negatives sharing and shuffling as the run resolved them (config.json)."""
  names = {field.name for field in dataclasses.fields(config_lib.Config)}
  try:
    with open(config_path, encoding="utf-8") as f:
      saved = json.load(f)["config"]
  except (OSError, KeyError, ValueError):
    return {}
  # Fields this script's copy of Config lacks (the trainer changed since it started) are
  # left out; the ones that resolve the settings below are old.
  # (Records before resolve.py hold placeholders; resolving a resolved one changes nothing.)
  config = resolve_lib.resolve(config_lib.Config(**{k: v for k, v in saved.items() if k in names}))
  out = {"batch_size": config.batch_size, "shuffle": config.shuffle}
  if config.loss == "ns":
    out["share_negatives"] = config.share_negatives
  return out


def _cpu_window(progress: list, window: list) -> dict:
  """CPU seconds per million words of the child between the first and the last progress
  record it was seen to write, and the cores the rest of the machine used meanwhile."""
  if len(window) < 2 or window[1][0] <= window[0][0]:
    return {}
  (n0, cpu0, busy0), (n1, cpu1, busy1) = window
  words = progress[n1 - 1]["words"] - progress[n0 - 1]["words"]
  secs = progress[n1 - 1]["elapsed_s"] - progress[n0 - 1]["elapsed_s"]
  if words <= 0 or secs <= 0 or not cpu1 - cpu0 > 0:
    return {}
  return {"cpu_s_per_mword": (cpu1 - cpu0) / words * 1e6,
          "window_cores": (cpu1 - cpu0) / secs,
          "window_other_cores": max(busy1 - busy0 - (cpu1 - cpu0), 0.0) / secs}


class Runner:
  """Runs (and remembers) training runs; corpora are encoded once each."""

  def __init__(self, scratch: str):
    self.scratch = scratch
    self.cache = os.path.join(scratch, "cache")
    self.corpora = {}   # path -> facts about the encoded corpus
    self.runs = {}      # key -> record
    self.parts = []     # answers of the init and batches workers
    self.failed = []

  def part(self, kind: str, args: dict) -> dict:
    """One --worker=init or batches measurement of a piece of the trainer."""
    name = "-".join(f"{k}{os.path.basename(str(v))}" for k, v in args.items() if k != "cache")
    answer = dict(worker(kind, args, os.path.join(self.scratch, f"{kind}-{name}.log")),
                  part=kind, **{k: v for k, v in args.items() if k != "cache"})
    print(f"{kind} {name}: peak +{answer['peak_over_before'] / MB:.0f} MiB over the process "
          f"before it", flush=True)
    self.parts.append(answer)
    return answer

  def corpus(self, vocab_size: int, tokens: int) -> tuple[str, dict]:
    path = corpus_for(self.scratch, vocab_size, tokens)
    if path not in self.corpora:
      facts = encode_corpus(path, self.cache)
      enc = _load_corpus(path, self.cache)
      facts.update(vocab_size=len(enc.vocab), tokens=int(enc.stats["vocab_tokens"]),
                   counts=enc.vocab.counts)
      self.corpora[path] = facts
      print(f"encoded {os.path.basename(path)}: {facts['vocab_size']:,} words, "
            f"{facts['tokens']:,} tokens, {facts['encode_s']:.1f} s, peak RSS "
            f"{facts['encode_peak_rss'] / MB:.0f} MiB", flush=True)
    return path, self.corpora[path]

  def mean_code_length(self, path: str) -> float:
    facts = self.corpora[path]
    if "mean_code_length" not in facts:
      counts_V = facts["counts"]
      tree = huffman.build(counts_V)
      facts["mean_code_length"] = float((tree.lengths_V * counts_V).sum() / counts_V.sum())
      facts["max_code_length"] = int(tree.lengths_V.max())
    return facts["mean_code_length"]

  def run(self, curve: str, loss: str, vocab_size: int, tokens: int, dim: int = 100,
          negative: int = 5, share: int = 0):
    """One training run (shared between curves that ask for the same one)."""
    key = (loss, vocab_size, tokens, dim, negative, share)
    if key in self.runs:
      self.runs[key]["curves"].append(curve)
      return self.runs[key]
    path, facts = self.corpus(vocab_size, tokens)
    name = f"{loss}-v{vocab_size}-n{tokens}-d{dim}-k{negative}-share{share}"
    work = os.path.join(self.scratch, "runs", name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    # Softmax: one compiled call per second or so, so that a time box sees several.
    steps_per_call = (min(32, max(1, 320_000 // vocab_size)) if loss == "softmax"
                      else config_lib.Config.steps_per_call)
    cmd = [sys.executable, os.path.join(ROOT, "run.py"), f"--corpus={path}", "--model=skipgram",
           f"--loss={loss}", f"--dim={dim}", f"--negative={negative}", "--epochs=1",
           "--sample=0", "--min_count=1", f"--seed={FLAGS.seed}", "--noevaluate",
           "--platform=cpu", f"--steps_per_call={steps_per_call}", "--log_every_secs=1",
           f"--workdir={work}", f"--cache_dir={self.cache}"]
    if share:
      cmd.append(f"--share_negatives={share}")
    stop_after = FLAGS.softmax_secs if loss == "softmax" else float("inf")
    child = run_child(cmd, os.path.join(work, "log.txt"), os.path.join(work, "metrics.jsonl"),
                      stop_after, quiet=True)
    record = {"curves": [curve], "loss": loss, "vocab_target": vocab_size,
              "vocab_size": facts["vocab_size"], "tokens": facts["tokens"], "dim": dim,
              "negative": negative if loss == "ns" else None, "share_flag": share,
              "steps_per_call": steps_per_call, "command": shlex.join(cmd),
              "complete": child["returncode"] == 0 and not child["stopped"],
              "stopped": child["stopped"], "wall_s": child["wall_s"],
              "other_cores": child["other_cores"], "user_s": child["user_s"],
              "sys_s": child["sys_s"], "encode_peak_rss": facts["encode_peak_rss"]}
    record.update(_resolved_settings(os.path.join(work, "config.json")))
    progress = child["records"]
    if not record["complete"] and (child["returncode"] not in (0, -signal.SIGKILL)
                                   or len(progress) < 2):
      why = (f"exit {child['returncode']}" if not child["stopped"]
             else f"stopped ({child['stopped']}) before two progress lines")
      print(f"{name}: left out, {why}\n{_tail(os.path.join(work, 'log.txt'))}", flush=True)
      self.failed.append(f"{name}: {why}")
      self.runs[key] = None
      return None
    first, last = progress[0], progress[-1]
    if len(progress) >= 2 and last["elapsed_s"] > first["elapsed_s"]:
      words, secs = last["words"] - first["words"], last["elapsed_s"] - first["elapsed_s"]
      record["steady"] = True
    else:  # one line only: the whole epoch, compilation included
      words, secs = last["words"], last["elapsed_s"]
      record["steady"] = False
    record.update(_cpu_window(progress, child["window"]))
    epoch = [r for r in progress if r["kind"] == "epoch"]
    v = facts["vocab_size"]
    rows = 2 * v if loss != "hs" else 2 * v - 1  # emb_in + emb_out, or emb_in + V - 1 nodes
    record.update(
        measured_words=int(words), measured_s=round(secs, 3),
        s_per_mword=secs / words * 1e6, words_per_s=words / secs,
        epoch_s=epoch[0]["elapsed_s"] if epoch else None,
        final_loss=last["epoch_loss"],
        tables_bytes=4 * dim * rows,
        ids_bytes=4 * facts["tokens"], peak_rss=child["peak_rss"],
        hwm_first=child["hwm_first"], hwm_epoch=child["hwm_epoch"])
    record["rss_ratio"] = record["peak_rss"] / (record["tables_bytes"] + record["ids_bytes"])
    if loss == "hs":
      record["mean_code_length"] = self.mean_code_length(path)
      record["max_code_length"] = facts["max_code_length"]
    print(f"{name}: {record['s_per_mword']:.3g} s per M words "
          f"({record['measured_words']:,} words in {record['measured_s']:.1f} s"
          f"{'' if record['complete'] else ', stopped'}), peak RSS "
          f"{record['peak_rss'] / MB:.0f} MiB = {record['rss_ratio']:.2f} x (tables + ids), "
          f"wall {record['wall_s']:.0f} s", flush=True)
    self.runs[key] = record
    return record


# ------------------------------------------------------------------ curves


def _ints(values) -> list[int]:
  return [int(v) for v in values]


def run_curves(runner: Runner) -> None:
  curves = FLAGS.curves
  for name in curves:
    if name not in CURVES:
      sys.exit(f"unknown curve {name!r}; pick from {', '.join(CURVES)}")
  if "vocab" in curves:
    for vocab_size in _ints(FLAGS.vocab_sizes):  # all losses on one corpus before the next
      for loss in FLAGS.losses:
        runner.run("vocab", loss, vocab_size, vocab_size + FLAGS.zipf_tokens)
  if "negative" in curves:
    v = FLAGS.negative_vocab
    for share in _ints(FLAGS.negative_shares):
      for k in _ints(FLAGS.negatives):
        runner.run("negative", "ns", v, v + FLAGS.zipf_tokens, negative=k, share=share)
  if "corpus" in curves:
    for tokens in _ints(FLAGS.corpus_tokens):
      runner.run("corpus", "ns", FLAGS.corpus_vocab, tokens)
  if "dim" in curves:
    v = FLAGS.dim_vocab
    for dim in _ints(FLAGS.dims):
      runner.run("dim", "ns", v, v + FLAGS.zipf_tokens, dim=dim)
  if "parts" in curves:  # where the memory of a run goes, at V = --dim_vocab
    v = FLAGS.dim_vocab
    for dim in _ints(FLAGS.dims):
      runner.part("init", {"vocab_size": v, "dim": dim, "loss": "ns"})
    path, _ = runner.corpus(v, v + FLAGS.zipf_tokens)
    for chunk_tokens in (0, 1 << 18):  # 0: the library's default
      runner.part("batches", {"corpus": path, "cache": runner.cache,
                              "chunk_tokens": chunk_tokens})


# ------------------------------------------------------------------ fits


def loglog_slope(x, y) -> float:
  """Slope of log y against log x (least squares)."""
  return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def linear_fit(x, y) -> tuple[float, float, float]:
  """y = a + b x by least squares: (a, b, R^2)."""
  x, y = np.asarray(x, float), np.asarray(y, float)
  b, a = np.polyfit(x, y, 1)
  residual = y - (a + b * x)
  total = ((y - y.mean()) ** 2).sum()
  return float(a), float(b), float(1 - (residual ** 2).sum() / total) if total else 1.0


def _select(runs, curve, **match):
  out = [r for r in runs if curve in r["curves"] and all(r[k] == v for k, v in match.items())]
  return sorted(out, key=lambda r: (r["vocab_size"], r["negative"] or 0, r["tokens"], r["dim"]))


def _sharing(r) -> str:
  """How a run's examples drew their negatives, in words."""
  share = r.get("share_negatives", 1)
  return "own negatives per example" if share == 1 else f"negatives shared by {share} examples"


def fits(runs, key: str = "s_per_mword") -> dict:
  """The slopes the curves should show, as measured by `key` (wall or CPU s per M words)."""
  out = {}
  for loss in ("softmax", "hs", "ns"):
    rows = [r for r in _select(runs, "vocab", loss=loss) if key in r]
    if len(rows) >= 2:
      v = [r["vocab_size"] for r in rows]
      t = [r[key] for r in rows]
      out[f"{loss}_vs_V_loglog"] = loglog_slope(v, t)
      if len(rows) >= 3:
        out[f"{loss}_vs_V_loglog_top3"] = loglog_slope(v[-3:], t[-3:])
      out[f"{loss}_vs_log2V"] = linear_fit(np.log2(v), t)
      if loss == "hs":
        out["hs_vs_code_length"] = linear_fit([r["mean_code_length"] for r in rows], t)
        out["hs_per_node"] = [r[key] / r["mean_code_length"] for r in rows]
  for share in sorted({r["share_flag"] for r in _select(runs, "negative")}):
    rows = [r for r in _select(runs, "negative", share_flag=share) if key in r]
    if len(rows) >= 2:
      k = [r["negative"] for r in rows]
      t = [r[key] for r in rows]
      out[f"ns_vs_k_share{share}"] = linear_fit(k, t) + (loglog_slope(k, t), _sharing(rows[0]))
  rows = [r for r in _select(runs, "corpus") if r["epoch_s"] and key in r]
  if len(rows) >= 2:
    n = [r["tokens"] for r in rows]
    out["epoch_vs_tokens"] = linear_fit(n, [r["epoch_s"] for r in rows])
    out["epoch_vs_tokens_loglog"] = loglog_slope(n, [r["epoch_s"] for r in rows])
    out["steady_vs_tokens_loglog"] = loglog_slope(n, [r[key] for r in rows])
  return out


# ------------------------------------------------------------------ report


def _mib(n) -> str:
  return f"{n / MB:,.0f}" if n else "-"


def _fmt(x) -> str:
  if x is None:
    return "-"
  return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def _others(r) -> str:
  """Cores the rest of the machine used during the timed window (or the whole run)."""
  return f"{r.get('window_other_cores', r['other_cores']):.2f}"


def _read(path: str) -> str:
  with open(path, encoding="ascii") as f:
    return f.read().strip()


def _cache_sizes() -> str:
  """Data and unified caches of CPU 0 as Linux reports them, e.g. "L1 48K, L2 1024K"."""
  sizes = []
  base = "/sys/devices/system/cpu/cpu0/cache"
  try:
    for index in sorted(x for x in os.listdir(base) if x.startswith("index")):
      folder = os.path.join(base, index)
      if _read(os.path.join(folder, "type")) != "Instruction":
        cpus = _read(os.path.join(folder, "shared_cpu_list")).replace("-", ",").split(",")
        sizes.append(f"L{_read(os.path.join(folder, 'level'))} "
                     f"{_read(os.path.join(folder, 'size'))}{' shared' if len(cpus) > 1 else ''}")
  except OSError:
    return ""
  return ", ".join(sizes)


def machine() -> str:
  cpu = record.cpu_model()
  memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30)
  versions = []
  for package in ("jax", "jaxlib", "numpy", "matplotlib"):
    try:
      versions.append(f"{package} {importlib.metadata.version(package)}")
    except importlib.metadata.PackageNotFoundError:
      versions.append(f"{package} (not installed)")
  caches = _cache_sizes()
  return (f"{cpu} (caches: {caches})" if caches else cpu) + \
      (f", {FLAGS.cores} of {os.cpu_count()} cores used, {memory:.0f} GiB memory, Python "
       f"{platform.python_version()}, {', '.join(versions)}")


def vocab_table(runs) -> list[str]:
  rows = [r for r in runs if "vocab" in r["curves"]]
  if not rows:
    return []
  out = ["| loss | V | tokens | words timed | seconds timed | s per M words | CPU s per M words "
         "| mean code length | kernel CPU % | peak RSS MiB | tables + ids MiB | ratio "
         "| others' cores |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
  for r in sorted(rows, key=lambda r: (["softmax", "hs", "ns"].index(r["loss"]),
                                       r["vocab_size"])):
    code = f"{r['mean_code_length']:.2f}" if "mean_code_length" in r else "-"
    out.append(
        f"| {r['loss']} | {r['vocab_size']:,} | {r['tokens']:,} | {r['measured_words']:,} | "
        f"{r['measured_s']:.1f}{'' if r['complete'] else ' (stopped)'} | "
        f"{_fmt(r['s_per_mword'])} | {_fmt(r.get('cpu_s_per_mword'))} | {code} | "
        f"{100 * r['sys_s'] / max(r['sys_s'] + r['user_s'], 1e-9):.0f} | "
        f"{_mib(r['peak_rss'])} | {_mib(r['tables_bytes'] + r['ids_bytes'])} | "
        f"{r['rss_ratio']:.2f} | {_others(r)} |")
  return out


def negative_table(runs) -> list[str]:
  rows = _select(runs, "negative")
  if not rows:
    return []
  out = ["| negatives | k | V | tokens | s per M words | CPU s per M words | peak RSS MiB "
         "| others' cores |", "|---|---|---|---|---|---|---|---|"]
  for r in sorted(rows, key=lambda r: (r["share_flag"], r["negative"])):
    out.append(f"| {_sharing(r)} | {r['negative']} | {r['vocab_size']:,} | {r['tokens']:,} | "
               f"{_fmt(r['s_per_mword'])} | {_fmt(r.get('cpu_s_per_mword'))} | "
               f"{_mib(r['peak_rss'])} | {_others(r)} |")
  return out


def corpus_table(runs) -> list[str]:
  rows = _select(runs, "corpus")
  if not rows:
    return []
  out = ["| tokens | V | epoch s (compilation included) | steady s per M words "
         "| CPU s per M words | process wall s | peak RSS MiB | tables + ids MiB | ratio "
         "| others' cores |", "|---|---|---|---|---|---|---|---|---|---|"]
  for r in rows:
    epoch = f"{r['epoch_s']:.1f}" if r["epoch_s"] else "-"
    out.append(f"| {r['tokens']:,} | {r['vocab_size']:,} | {epoch} | {_fmt(r['s_per_mword'])} | "
               f"{_fmt(r.get('cpu_s_per_mword'))} | {r['wall_s']:.0f} | {_mib(r['peak_rss'])} | "
               f"{_mib(r['tables_bytes'] + r['ids_bytes'])} | {r['rss_ratio']:.2f} | "
               f"{_others(r)} |")
  return out


def memory_table(runs) -> list[str]:
  rows = sorted(runs, key=lambda r: (r["loss"], r["vocab_size"], r["dim"], r["negative"] or 0,
                                     r["tokens"]))
  out = ["| loss | V | D | k | tokens | tables MiB | ids MiB | peak before 1st progress line "
         "| peak in training | peak overall | ratio to tables + ids | corpus encoding peak |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|"]
  for r in rows:
    train = _mib(max(r["hwm_epoch"], r["hwm_first"])) if r["complete"] else "(stopped)"
    out.append(f"| {r['loss']} | {r['vocab_size']:,} | {r['dim']} | {r['negative'] or '-'} | "
               f"{r['tokens']:,} | {_mib(r['tables_bytes'])} | {_mib(r['ids_bytes'])} | "
               f"{_mib(r['hwm_first'])} | {train} | {_mib(r['peak_rss'])} | "
               f"{r['rss_ratio']:.2f} | {_mib(r['encode_peak_rss'])} |")
  return out


def parts_lines(parts, corpora: dict, baseline: int) -> list[str]:
  """The pieces of a run's memory, measured one at a time."""
  from w2v_jax import batches as batches_lib  # pylint: disable=import-outside-toplevel
  default_chunk = inspect.signature(batches_lib.iterate_epoch).parameters["chunk_tokens"].default
  out = [f"- Baseline: a process that imports the trainer and runs one JAX op on the CPU peaks "
         f"at {baseline / MB:.0f} MiB.", "",
         "Corpus encoding (a process of its own, before the runs; the runs read the cache):", "",
         "| V | tokens | seconds | peak RSS MiB |", "|---|---|---|---|"]
  for facts in sorted(corpora.values(), key=lambda c: (c["vocab_size"], c["tokens"])):
    out.append(f"| {facts['vocab_size']:,} | {facts['tokens']:,} | {facts['encode_s']:.1f} | "
               f"{_mib(facts['encode_peak_rss'])} |")
  init = [p for p in parts if p["part"] == "init"]
  if init:
    out += ["", "`model.init_params` (ns: emb_in uniform, emb_out zeros), RSS over the process "
            "just before the call:", "",
            "| V | D | tables MiB | peak MiB | held 2 s later MiB | peak / tables |",
            "|---|---|---|---|---|---|"]
    for p in init:
      out.append(f"| {p['vocab_size']:,} | {p['dim']} | {_mib(p['tables_bytes'])} | "
                 f"{_mib(p['peak_over_before'])} | {_mib(p['held_over_before'])} | "
                 f"{p['peak_over_before'] / p['tables_bytes']:.2f} |")
  batches = [p for p in parts if p["part"] == "batches"]
  if batches:
    out += ["", f"One epoch of `batches.iterate_epoch` (skip-gram, window 5, batch "
            f"{batches[0]['batch_size']}, shuffle {batches[0]['shuffle']}, no subsampling), "
            "peak RSS over the process with the corpus loaded:", "",
            "| corpus | chunk tokens | peak MiB | seconds |", "|---|---|---|---|"]
    for p in batches:
      chunk = p["chunk_tokens"] or default_chunk
      label = f"{chunk:,}" + (" (default)" if chunk == default_chunk else "")
      out.append(f"| {os.path.basename(p['corpus'])} | {label} | "
                 f"{_mib(p['peak_over_before'])} | {p['seconds']:.1f} |")
  return out


def fit_lines(wall: dict, cpu: dict) -> list[str]:
  """The fitted slopes, each as wall time (CPU time of the run in brackets)."""
  def both(key, i=None, fmt=".2f"):
    w, c = wall.get(key), cpu.get(key)
    w, c = (w[i], c[i] if c else None) if i is not None else (w, c)
    return f"{w:{fmt}}" + (f" ({c:{fmt}})" if c is not None else "")
  out = []
  for loss, expect in (("softmax", "1 for O(V)"), ("hs", "small, O(log V)"),
                       ("ns", "0 for O(1)")):
    if f"{loss}_vs_V_loglog" in wall:
      top3 = (f", {both(f'{loss}_vs_V_loglog_top3')} over the three largest V"
              if f"{loss}_vs_V_loglog_top3" in wall else "")
      out.append(f"- {loss}: log-log slope of time per word against V "
                 f"{both(f'{loss}_vs_V_loglog')} over all V{top3} (expected {expect})")
  if "hs_vs_code_length" in wall:
    per_node = ", ".join(f"{x:.3g}" for x in wall["hs_per_node"])
    out.append(f"- hs: s per M words = {both('hs_vs_code_length', 0, '.3g')} + "
               f"{both('hs_vs_code_length', 1, '.3g')} x mean code length (R^2 "
               f"{both('hs_vs_code_length', 2, '.3f')}); = {both('hs_vs_log2V', 0, '.3g')} + "
               f"{both('hs_vs_log2V', 1, '.3g')} x log2 V (R^2 {both('hs_vs_log2V', 2, '.3f')}); "
               f"wall s per M words per node visited, V ascending: {per_node}")
  for key in sorted(k for k in wall if k.startswith("ns_vs_k_share")):
    out.append(f"- ns against k ({wall[key][4]}): s per M words = {both(key, 0, '.3g')} + "
               f"{both(key, 1, '.3g')} k (R^2 {both(key, 2, '.3f')}); log-log slope "
               f"{both(key, 3)}")
  if "epoch_vs_tokens" in wall:
    a, b, r2 = wall["epoch_vs_tokens"]
    out.append(f"- corpus: epoch s = {a:.2f} + {b * 1e6:.3g} x (tokens / 1M) (R^2 {r2:.4f}); "
               f"log-log slope of epoch s {wall['epoch_vs_tokens_loglog']:.2f}, of steady time "
               f"per word {both('steady_vs_tokens_loglog')} (expected 1 and 0)")
  return out


def _plot_cpu(ax, x, rows, color) -> None:
  """The runs' CPU seconds per million words, dashed, next to their wall time."""
  points = [(xi, r["cpu_s_per_mword"]) for xi, r in zip(x, rows) if "cpu_s_per_mword" in r]
  if points:
    ax.plot(*zip(*points), "x--", color=color, alpha=0.5, linewidth=1,
            label="  same, CPU s (both cores)")


def plot(runs, f: dict, path: str) -> None:
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  fig, axes = plt.subplots(2, 3, figsize=(16, 9.5))
  colors = {"softmax": "tab:red", "hs": "tab:blue", "ns": "tab:green"}

  ax = axes[0, 0]
  for loss in ("softmax", "hs", "ns"):
    rows = _select(runs, "vocab", loss=loss)
    if not rows:
      continue
    v = np.array([r["vocab_size"] for r in rows], float)
    t = np.array([r["s_per_mword"] for r in rows])
    ax.plot(v, t, "o-", color=colors[loss], label=f"{loss} (slope {loglog_slope(v, t):.2f})"
            if len(v) > 1 else loss)
    _plot_cpu(ax, v, rows, colors[loss])
    if loss == "softmax" and len(v) > 1:
      ax.plot(v, t[-1] * v / v[-1], ":", color=colors[loss], label="O(V) through the last point")
    if loss == "hs" and len(v) > 1:
      ax.plot(v, t[0] * np.log(v) / np.log(v[0]), ":", color=colors[loss],
              label="O(log V) through the first point")
  ax.set(xscale="log", yscale="log", xlabel="vocabulary size V",
         ylabel="seconds per million words (steady state)",
         title="time per word against V (skip-gram, D 100)")
  ax.legend(fontsize=8)

  ax = axes[0, 1]
  rows = _select(runs, "vocab", loss="hs")
  if rows:
    lengths = [r["mean_code_length"] for r in rows]
    t = [r["s_per_mword"] for r in rows]
    ax.plot(lengths, t, "o-", color=colors["hs"], label="hs")
    _plot_cpu(ax, lengths, rows, colors["hs"])
    for r in rows:
      ax.annotate(f"V={r['vocab_size']:,}", (r["mean_code_length"], r["s_per_mword"]),
                  fontsize=7, textcoords="offset points", xytext=(4, -10))
    if "hs_vs_code_length" in f:
      a, b, r2 = f["hs_vs_code_length"]
      x = np.linspace(min(lengths), max(lengths), 10)
      ax.plot(x, a + b * x, ":", color="gray", label=f"linear fit (R^2 {r2:.2f})")
    ax.legend(fontsize=8)
  ax.set(xlabel="mean Huffman code length (nodes per word, token-weighted)",
         ylabel="seconds per million words", title="hs: time per word against path length")

  ax = axes[0, 2]
  for share, color in zip(sorted({r["share_flag"] for r in _select(runs, "negative")}),
                          (colors["ns"], "tab:olive", "tab:purple")):
    rows = _select(runs, "negative", share_flag=share)
    k = np.array([r["negative"] for r in rows], float)
    ax.plot(k, [r["s_per_mword"] for r in rows], "o-", color=color,
            label=f"ns, V={rows[0]['vocab_size']:,}, {_sharing(rows[0])}")
    _plot_cpu(ax, k, rows, color)
    if f"ns_vs_k_share{share}" in f:
      a, b, r2 = f[f"ns_vs_k_share{share}"][:3]
      ax.plot(k, a + b * k, ":", color="gray", label=f"{a:.2g} + {b:.2g} k (R^2 {r2:.2f})")
  ax.legend(fontsize=8)
  ax.set(xlabel="negatives k", ylabel="seconds per million words", ylim=(0, None),
         title="ns: time per word against k")

  ax = axes[1, 0]
  rows = [r for r in _select(runs, "corpus") if r["epoch_s"]]
  if rows:
    n = np.array([r["tokens"] for r in rows], float)
    ax.plot(n / 1e6, [r["epoch_s"] for r in rows], "o-", color=colors["ns"],
            label=f"ns epoch (V={rows[0]['vocab_size']:,})")
    if "epoch_vs_tokens" in f:
      a, b, r2 = f["epoch_vs_tokens"]
      x = np.linspace(0, n.max(), 10)
      ax.plot(x / 1e6, a + b * x, ":", color="gray", label=f"linear fit (R^2 {r2:.3f})")
    ax.legend(fontsize=8)
  ax.set(xlabel="corpus tokens (millions)", ylabel="seconds per epoch (compilation included)",
         xlim=(0, None), ylim=(0, None), title="epoch time against corpus size")

  ax = axes[1, 1]
  for loss in ("softmax", "hs", "ns"):
    rows = _select(runs, "vocab", loss=loss)
    if not rows:
      continue
    v = [r["vocab_size"] for r in rows]
    ax.plot(v, [r["peak_rss"] / MB for r in rows], "o-", color=colors[loss],
            label=f"{loss} peak RSS" + (" (stopped runs)" if loss == "softmax" else ""))
    if loss == "ns":
      base = np.array([(r["tables_bytes"] + r["ids_bytes"]) / MB for r in rows])
      ax.plot(v, base, "--", color="black", label="ns tables + ids")
      ax.plot(v, 2 * base, ":", color="black", label="2 x (ns tables + ids)")
  ax.set(xscale="log", yscale="log", xlabel="vocabulary size V", ylabel="MiB",
         title="peak host RSS against V (D 100)")
  ax.legend(fontsize=8)

  ax = axes[1, 2]
  rows = _select(runs, "dim")
  if rows:
    d = [r["dim"] for r in rows]
    base = np.array([(r["tables_bytes"] + r["ids_bytes"]) / MB for r in rows])
    ax.plot(d, [r["peak_rss"] / MB for r in rows], "o-", color=colors["ns"], label="ns peak RSS")
    ax.plot(d, base, "--", color="black", label="tables + ids")
    ax.plot(d, 2 * base, ":", color="black", label="2 x (tables + ids)")
    ax.legend(fontsize=8)
    ax.set_title(f"peak host RSS against D (ns, V={rows[0]['vocab_size']:,})")
  ax.set(xlabel="dimension D", ylabel="MiB", ylim=(0, None))
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def code_version() -> str:
  """The commit the runs used, and the trainer files that differed from it."""
  def git(*args):
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                          check=False).stdout.strip()
  head = git("rev-parse", "--short", "HEAD") or "unknown"
  changed = git("status", "--porcelain", "--", "run.py", "w2v_jax").splitlines()
  return head + (f" (uncommitted changes in {', '.join(c[3:] for c in changed)})"
                 if changed else "")


def settings_line(runs) -> str:
  """The batch sizes, negatives sharing and shuffling the runs resolved, per loss."""
  parts = []
  for loss in ("softmax", "hs", "ns"):
    seen = sorted({(r.get("batch_size"), r.get("shuffle"), r.get("share_negatives"))
                   for r in runs if r["loss"] == loss and r["share_flag"] == 0}, key=str)
    for batch, shuffle, share in seen:
      parts.append(f"{loss}: batch {batch}, shuffle {shuffle}"
                   + (f", negatives shared by {share}" if share else ""))
  return "; ".join(parts)


def report(runs, runner: "Runner", baseline: int, command: str, seconds: float,
           version: str) -> list[str]:
  f = fits(runs)
  lines = ["# Scaling curves", "", f"Command: `{command}`", "", f"Machine: {machine()}", "",
           f"Code: {version}", "",
           f"Whole script: {seconds / 60:.1f} min. Corpora: one of each word plus "
           f"Zipf(s={FLAGS.zipf_exponent:g}) draws, seed {FLAGS.seed}, 20-word sentences. "
           "Runs: skip-gram, dim 100, window 5, negative 5, sample 0, min_count 1, 1 epoch, "
           f"the trainer's defaults otherwise ({settings_line(runs)}); softmax runs stopped "
           f"{FLAGS.softmax_secs:g} s after their first progress line. Time per word = steady "
           "state between the first and the last progress line, in wall seconds and in the "
           "run's CPU seconds (both cores together; the CPU figure is less disturbed by other "
           "work on the machine).", "", "## Fitted slopes",
           "", "Wall time (CPU time in brackets):", "",
           *fit_lines(f, fits(runs, "cpu_s_per_mword")), ""]
  for title, table in (("Time per word against V", vocab_table(runs)),
                       ("Negative sampling: time per word against k", negative_table(runs)),
                       ("Epoch time against corpus size", corpus_table(runs)),
                       ("Peak host RSS", memory_table(runs))):
    if table:
      lines += [f"## {title}", "", *table, ""]
  lines += ["## Where the memory goes", "", *parts_lines(runner.parts, runner.corpora, baseline),
            ""]
  if runner.failed:
    lines += ["Left out:", "", *[f"- {x}" for x in runner.failed], ""]
  return lines


def main(argv):
  del argv
  if FLAGS.worker:
    args = json.loads(FLAGS.worker_args)
    if FLAGS.worker == "encode":
      _load_corpus(args["corpus"], args["cache"])
    else:
      answer = {"init": _worker_init, "batches": _worker_batches}[FLAGS.worker](args)
      print(json.dumps(answer), flush=True)
    return
  start = time.time()
  version = code_version()  # before the runs: the trainer may change while they go
  scratch = FLAGS.scratch or tempfile.mkdtemp(prefix="w2v-scaling-")
  os.makedirs(scratch, exist_ok=True)
  os.environ["W2V_JAX_CACHE"] = os.path.join(scratch, "cache")  # nothing lands in ~/.cache
  runner = Runner(scratch)
  try:
    baseline = baseline_rss(scratch)
    print(f"baseline process: peak RSS {baseline / MB:.0f} MiB", flush=True)
    run_curves(runner)
  finally:
    if not FLAGS.scratch:
      shutil.rmtree(scratch, ignore_errors=True)
  runs = [r for r in runner.runs.values() if r]
  os.makedirs(FLAGS.out_dir, exist_ok=True)
  with open(os.path.join(FLAGS.out_dir, f"{FLAGS.tag}.jsonl"), "w", encoding="utf-8") as out:
    for r in runs + runner.parts:
      out.write(json.dumps(r) + "\n")
    for path, facts in runner.corpora.items():
      out.write(json.dumps({"corpus": path, **{k: v for k, v in facts.items()
                                               if k != "counts"}}) + "\n")
  command = " ".join(["python benchmarks/scaling.py", *sys.argv[1:]])
  lines = report(runs, runner, baseline, command, time.time() - start, version)
  with open(os.path.join(FLAGS.out_dir, f"{FLAGS.tag}.md"), "w", encoding="utf-8") as out:
    out.write("\n".join(lines))
  plot(runs, fits(runs), os.path.join(FLAGS.out_dir, f"{FLAGS.tag}.png"))
  print("\n".join(lines))


if __name__ == "__main__":
  app.run(main)
