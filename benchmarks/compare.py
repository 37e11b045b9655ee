"""Side by side: our vectors against gensim, word2vec.c and fastText, same data and settings.

  python benchmarks/compare.py                    # the parity bar: 4 models x 4 tools x 2 seeds
  python benchmarks/compare.py --preset=softmax   # full softmax against fastText on a small slice
  python benchmarks/compare.py --models=sg-ns --tools=ours,gensim --seeds=1   # a quick look

Needs `pip install -r benchmarks/requirements.txt` (word2vec builds word2vec.c's tools, fasttext
its bindings) and, for the default corpus, `python run.py --mode=prepare --corpus=offline-prose`.

Every tool runs as its own process pinned to the same --cores CPU cores (threads/workers = that
many), with the same hyper-parameters: dim 100, window 5, negative 5, sample 1e-4, min_count 5,
3 epochs, alpha 0.025 (skip-gram) / 0.05 (CBOW) decayed linearly to alpha * 1e-4. Wall time is
the whole process (reading the corpus and building the vocabulary included; for us also the JIT
compilation and the corpus encoding, in a fresh cache). words/s = corpus tokens x epochs / wall
time. All vectors go through one evaluator (w2v_jax.metrics): analogies restricted to the 30,000
most frequent words, WS353 and SimLex-999 Spearman.

gensim reads the corpus with LineSentence; `--tools=...,gensim-corpusfile` adds its faster
corpus_file mode, whose learning rate, with 2 workers, decays only half-way each epoch (see
_train_gensim): informative, but not the same settings, so not the reference.

Peers' own differences, kept as they are: word2vec.c takes no seed, and fastText's Python
binding (0.9.3) accepts none, so their "seeds" are repeated runs that differ by thread timing;
fastText draws negatives from unigram^0.5 and subsamples with its own formula.

--preset=softmax: the first 2M tokens of the corpus with every word outside its 5,000 most
frequent removed (so every tool has the same 5,000-word vocabulary), 1 epoch, min_count 1,
skip-gram and CBOW with full softmax, ours against fastText's loss=softmax (the only peer with
an exact softmax).

Writes OUT_DIR/<preset>.jsonl (a line per run) and OUT_DIR/<preset>.md (tables, the bar, the
command, the machine), and prints the tables.
"""

import collections
import json
import os
import platform
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from w2v_jax import config as config_lib
from w2v_jax import datasets
from w2v_jax import files
from w2v_jax import metrics
from w2v_jax import record
from w2v_jax import resolve as resolve_lib
from w2v_jax import word2vec_format

MODELS = {"sg-ns": ("skipgram", "ns"), "cbow-ns": ("cbow", "ns"), "sg-hs": ("skipgram", "hs"),
          "cbow-hs": ("cbow", "hs"), "sg-softmax": ("skipgram", "softmax"),
          "cbow-softmax": ("cbow", "softmax")}
TOOLS = ("ours", "gensim", "word2vec.c", "fasttext", "gensim-corpusfile")
PRESETS = {
    "parity": {"models": "sg-ns,cbow-ns,sg-hs,cbow-hs", "tools": ",".join(TOOLS[:4]),
               "epochs": 3, "min_count": 5},
    "softmax": {"models": "sg-softmax,cbow-softmax", "tools": "ours,fasttext",
                "epochs": 1, "min_count": 1},
}
SOFTMAX_TOKENS = 2_000_000
SOFTMAX_VOCAB = 5_000
# The bar (quality-parity issue): ours against gensim (fastText for softmax), means over seeds.
BAR = {"analogy": 1.0, "ws353": 0.02, "simlex": 0.02}  # analogy in points, correlations absolute

flags.DEFINE_enum("preset", "parity", list(PRESETS), "parity: the 4-model bar; softmax: the slice.")
flags.DEFINE_string("models", None, "Comma-separated subset of " + ",".join(MODELS))
flags.DEFINE_string("tools", None, "Comma-separated subset of " + ",".join(TOOLS))
flags.DEFINE_integer("seeds", 2, "Seeds per (model, tool): 1, 2, ...")
flags.DEFINE_integer("cores", 2, "CPU cores every tool is pinned to (and its thread count).")
flags.DEFINE_string("corpus", "offline-prose", "Corpus: offline-prose, default, or a path.")
flags.DEFINE_integer("batch_size", config_lib.Config.batch_size,
                     "Our --batch_size (0 = our default, which depends on the model and loss).")
flags.DEFINE_string("ours_flags", "", "Extra flags for our run.py, e.g. '--cbow_update=exact'.")
flags.DEFINE_string("out_dir", os.path.join(ROOT, "benchmarks", "results"), "Where results go.")
flags.DEFINE_string("tag", "", "Suffix for the result files (default: the preset name only).")
FLAGS = flags.FLAGS


# ------------------------------------------------------------------ one run per tool


def _settings(model: str, seed: int) -> dict:
  arch, loss = MODELS[model]
  return {"arch": arch, "loss": loss, "dim": 100, "window": 5, "negative": 5, "sample": 1e-4,
          "min_count": PRESETS[FLAGS.preset]["min_count"],
          "epochs": PRESETS[FLAGS.preset]["epochs"],
          "alpha": resolve_lib.default_alpha(arch), "seed": seed, "cores": FLAGS.cores}


def _ours(s, corpus, out, work):
  cmd = [sys.executable, os.path.join(ROOT, "run.py"), f"--corpus={corpus}",
         f"--model={s['arch']}", f"--loss={s['loss']}", f"--dim={s['dim']}",
         f"--window={s['window']}", f"--negative={s['negative']}", f"--sample={s['sample']}",
         f"--min_count={s['min_count']}", f"--epochs={s['epochs']}", f"--alpha={s['alpha']}",
         f"--seed={s['seed']}", f"--batch_size={FLAGS.batch_size}", "--platform=cpu",
         "--noevaluate", f"--workdir={work}", f"--cache_dir={work}/cache", "--log_every_secs=60",
         *shlex.split(FLAGS.ours_flags)]
  return cmd, os.path.join(work, "vectors.bin")


def _word2vec_c(s, corpus, out, _):
  binary = shutil.which("word2vec", path=os.pathsep.join(
      [os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
  if binary is None:
    sys.exit("word2vec.c's binary not found: pip install -r benchmarks/requirements.txt")
  cmd = [binary, "-train", corpus, "-output", out, "-binary", "1", "-size", str(s["dim"]),
         "-window", str(s["window"]), "-sample", str(s["sample"]),
         "-hs", str(int(s["loss"] == "hs")),
         "-negative", str(s["negative"] if s["loss"] == "ns" else 0),
         "-threads", str(s["cores"]), "-iter", str(s["epochs"]), "-min-count", str(s["min_count"]),
         "-alpha", str(s["alpha"]), "-cbow", str(int(s["arch"] == "cbow")), "-debug", "0"]
  return cmd, out


def _worker(tool, s, corpus, out, _):
  cmd = [sys.executable, os.path.abspath(__file__), f"--worker={tool}",
         f"--worker_args={json.dumps(dict(s, corpus=corpus, out=out))}"]
  return cmd, out


RUNNERS = {"ours": _ours, "word2vec.c": _word2vec_c,
           "gensim": lambda *a: _worker("gensim", *a),
           "gensim-corpusfile": lambda *a: _worker("gensim-corpusfile", *a),
           "fasttext": lambda *a: _worker("fasttext", *a)}


def _train_gensim(s, corpus_file=False):
  """gensim's Word2Vec, reading LineSentence (or corpus_file=... with corpus_file=True).

  corpus_file mode is faster, but with workers > 1 each worker measures its
  progress against the whole corpus while reading only its share, so the
  learning rate decays only 1/workers of the way each epoch (gensim 4.4,
  word2vec_corpusfile.pyx get_next_alpha): not the schedule asked for.
  """
  from gensim.models import Word2Vec  # pylint: disable=import-outside-toplevel
  from gensim.models.word2vec import LineSentence  # pylint: disable=import-outside-toplevel
  data = ({"corpus_file": s["corpus"]} if corpus_file else
          {"sentences": LineSentence(s["corpus"])})
  model = Word2Vec(**data, vector_size=s["dim"], window=s["window"],
                   sg=int(s["arch"] == "skipgram"), hs=int(s["loss"] == "hs"),
                   negative=s["negative"] if s["loss"] == "ns" else 0, sample=s["sample"],
                   min_count=s["min_count"], epochs=s["epochs"], alpha=s["alpha"],
                   min_alpha=s["alpha"] * 1e-4, workers=s["cores"], seed=s["seed"])
  model.wv.save_word2vec_format(s["out"], binary=True)


def _train_fasttext(s):
  import fasttext  # pylint: disable=import-outside-toplevel
  model = fasttext.train_unsupervised(
      s["corpus"], model=s["arch"], dim=s["dim"], ws=s["window"], epoch=s["epochs"],
      minCount=s["min_count"], neg=s["negative"], loss=s["loss"], t=s["sample"], lr=s["alpha"],
      thread=s["cores"], minn=0, maxn=0, wordNgrams=1, verbose=0)
  words = [w for w in model.get_words() if w != "</s>"]  # frequency order
  with open(s["out"], "w", encoding="utf-8") as f:
    f.write(f"{len(words)} {s['dim']}\n")
    for word in words:
      f.write(word + " " + " ".join(f"{x:.6f}" for x in model.get_word_vector(word)) + "\n")


def wait_for_quiet(below: float = 0.25, max_wait: float = 900.0) -> float:
  """Waits until the machine uses fewer than `below` cores (over 2 s); the seconds waited."""
  start = time.time()
  while time.time() - start < max_wait:
    busy, t = record.busy_cpu_seconds(), time.time()
    time.sleep(2.0)
    if (record.busy_cpu_seconds() - busy) / (time.time() - t) < below:
      break
  return time.time() - start


def run_one(tool, model, seed, corpus, corpus_tokens, scratch, score=True):
  """Trains with one tool in its own pinned process; times it; scores its vectors if score.

  `other_cores` is the CPU the rest of the machine used while the tool ran, in cores
  (the machine's busy time minus the tool's own); near 0 when nothing else ran.
  """
  s = _settings(model, seed)
  work = tempfile.mkdtemp(prefix=f"{tool}-{model}-{seed}-", dir=scratch)
  cmd, vectors = RUNNERS[tool](s, corpus, os.path.join(work, "vectors.bin"), work)
  cores = set(sorted(os.sched_getaffinity(0))[:FLAGS.cores])
  own_before = resource.getrusage(resource.RUSAGE_CHILDREN)
  start, busy = time.time(), record.busy_cpu_seconds()
  done = subprocess.run(cmd, capture_output=True, text=True, check=False,
                        preexec_fn=lambda: os.sched_setaffinity(0, cores))
  seconds = time.time() - start
  own_after = resource.getrusage(resource.RUSAGE_CHILDREN)
  own = (own_after.ru_utime - own_before.ru_utime) + (own_after.ru_stime - own_before.ru_stime)
  others = max(record.busy_cpu_seconds() - busy - own, 0.0) / seconds
  if done.returncode != 0:
    sys.exit(f"{tool} {model} seed {seed} failed ({done.returncode}):\n{done.stderr[-3000:]}")
  row = {"tool": tool, "model": model, "seed": seed, "seconds": round(seconds, 2),
         "words_per_s": round(corpus_tokens * s["epochs"] / seconds),
         "other_cores": round(others, 3), "command": shlex.join(cmd)}
  if tool == "ours":  # our own timing: training only, and after the first (compiling) call
    with open(os.path.join(work, "summary.json"), encoding="utf-8") as f:
      summary = json.load(f)
    row.update(train_seconds=summary["train_seconds"],
               steady_words_per_s=round(summary["steady_words_per_s"]))
  if not score:
    return row
  words, vectors_VxD = word2vec_format.read_word2vec(vectors)
  result = metrics.evaluate_all(words, vectors_VxD, restrict_vocab=30_000)
  a = result["analogy"]
  return dict(row, vocab=len(words), analogy=100 * a["total"], semantic=100 * a["semantic"],
              syntactic=100 * a["syntactic"], seen=a["seen"],
              ws353=result["ws353"]["spearman"], simlex=result["simlex"]["spearman"])


# ------------------------------------------------------------------ corpora


def _softmax_slice(corpus: str, out_dir: str) -> str:
  """The first SOFTMAX_TOKENS tokens, keeping only the SOFTMAX_VOCAB most frequent words."""
  path = os.path.join(out_dir, f"slice-{SOFTMAX_VOCAB}w-{SOFTMAX_TOKENS}t.txt")
  if os.path.exists(path):
    return path
  lines, n = [], 0
  with open(corpus, encoding="utf-8") as f:
    for line in f:
      words = line.split()[:SOFTMAX_TOKENS - n]
      lines.append(words)
      n += len(words)
      if n >= SOFTMAX_TOKENS:
        break
  counts = collections.Counter(w for words in lines for w in words)
  keep = {w for w, _ in sorted(counts.items(), key=lambda x: (-x[1], x[0]))[:SOFTMAX_VOCAB]}
  with files.atomic_write(path, "w", encoding="utf-8") as f:
    for words in lines:
      kept = [w for w in words if w in keep]
      if kept:
        f.write(" ".join(kept) + "\n")
  return path


def _count_tokens(path: str) -> int:
  with open(path, encoding="utf-8") as f:
    return sum(len(line.split()) for line in f)


# ------------------------------------------------------------------ reporting

METRICS = ("analogy", "semantic", "syntactic", "ws353", "simlex", "seconds", "words_per_s")


def _mean_spread(values):
  return float(np.mean(values)), float(np.max(values) - np.min(values)) if len(values) > 1 else 0.0


def summarise(rows) -> dict:
  """(model, tool) -> metric -> (mean, max - min over seeds)."""
  groups = collections.defaultdict(list)
  for row in rows:
    groups[(row["model"], row["tool"])].append(row)
  return {key: {m: _mean_spread([r[m] for r in group]) for m in METRICS} | {"n": len(group)}
          for key, group in groups.items()}


def _cell(mean, spread, digits):
  return f"{mean:.{digits}f} ± {spread / 2:.{digits}f}" if spread else f"{mean:.{digits}f}"


def bar_lines(summary, reference: str) -> list[str]:
  lines, models = [], sorted({m for m, _ in summary}, key=list(MODELS).index)
  for model in models:
    if (model, "ours") not in summary or (model, reference) not in summary:
      continue
    ours, ref = summary[(model, "ours")], summary[(model, reference)]
    checks = []
    for metric, tolerance in BAR.items():
      gap = ours[metric][0] - ref[metric][0]
      ok = gap >= -tolerance
      checks.append(f"{metric} {gap:+.{1 if metric == 'analogy' else 3}f} "
                    f"({'ok' if ok else 'FAIL'})")
    lines.append(f"- {model}: ours - {reference}: " + ", ".join(checks))
  return lines


def table(summary) -> list[str]:
  out = ["| model | tool | seeds | analogy total | semantic | syntactic | WS353 | SimLex-999 "
         "| wall s | words/s |", "|---|---|---|---|---|---|---|---|---|---|"]
  for (model, tool), s in sorted(summary.items(), key=lambda kv: (
      list(MODELS).index(kv[0][0]), TOOLS.index(kv[0][1]))):
    out.append(f"| {model} | {tool} | {s['n']} | {_cell(*s['analogy'], 1)} | "
               f"{_cell(*s['semantic'], 1)} | {_cell(*s['syntactic'], 1)} | "
               f"{_cell(*s['ws353'], 3)} | {_cell(*s['simlex'], 3)} | {s['seconds'][0]:.0f} | "
               f"{s['words_per_s'][0] / 1e3:.0f}k |")
  return out


def machine() -> str:
  cpu = record.cpu_model()
  versions = record.package_versions(("jax", "gensim", "fasttext", "numpy", "word2vec"))
  return (f"{cpu}, {FLAGS.cores} of {os.cpu_count()} cores used, Python "
          f"{platform.python_version()}, {', '.join(versions)} (word2vec.c's tools)")


def main(argv):
  del argv
  if FLAGS.worker:
    s = json.loads(FLAGS.worker_args)
    {"gensim": _train_gensim, "fasttext": _train_fasttext,
     "gensim-corpusfile": lambda s: _train_gensim(s, corpus_file=True)}[FLAGS.worker](s)
    return
  preset = PRESETS[FLAGS.preset]
  models = (FLAGS.models or preset["models"]).split(",")
  tools = (FLAGS.tools or preset["tools"]).split(",")
  for name in models + tools:
    if name not in MODELS and name not in TOOLS:
      sys.exit(f"unknown model or tool {name!r}")
  corpus = datasets.prepare(config_lib.Config(corpus=FLAGS.corpus))
  os.makedirs(FLAGS.out_dir, exist_ok=True)
  if FLAGS.preset == "softmax":
    corpus = _softmax_slice(corpus, FLAGS.out_dir)
  tokens = _count_tokens(corpus)
  name = FLAGS.preset + (f"-{FLAGS.tag}" if FLAGS.tag else "")
  rows = []
  with tempfile.TemporaryDirectory(prefix="w2v-compare-") as scratch, \
      open(os.path.join(FLAGS.out_dir, f"{name}.jsonl"), "w", encoding="utf-8") as log:
    for seed in range(1, FLAGS.seeds + 1):
      for model in models:
        for tool in tools:  # tools alternate, so drift in the machine hits all alike
          row = run_one(tool, model, seed, corpus, tokens, scratch)
          rows.append(row)
          log.write(json.dumps(row) + "\n")
          log.flush()
          print(f"{tool:>10} {model:<12} seed {seed}: analogy {row['analogy']:.1f} "
                f"WS353 {row['ws353']:.3f} SimLex {row['simlex']:.3f} "
                f"{row['seconds']:.0f} s ({row['words_per_s'] / 1e3:.0f}k words/s)", flush=True)
  summary = summarise(rows)
  reference = "fasttext" if FLAGS.preset == "softmax" else "gensim"
  report = [f"# {name}: ours against {', '.join(t for t in tools if t != 'ours')}", "",
            f"Command: `{' '.join(['python benchmarks/compare.py', *sys.argv[1:]])}`", "",
            f"Machine: {machine()}", "",
            f"Corpus: {corpus} ({tokens:,} tokens); our batch size "
            f"{FLAGS.batch_size or 'the default (run.py --help)'}"
            + (f"; our extra flags `{FLAGS.ours_flags}`" if FLAGS.ours_flags else ""), "",
            "Cells: mean ± half the range over seeds (analogy in %, restricted to the 30,000 "
            "most frequent words; WS353 / SimLex-999 Spearman).", "",
            *table(summary), "", f"The bar (ours - {reference}, means over seeds; analogy >= "
            "-1.0 point, WS353 / SimLex >= -0.02):", "", *bar_lines(summary, reference), ""]
  with open(os.path.join(FLAGS.out_dir, f"{name}.md"), "w", encoding="utf-8") as f:
    f.write("\n".join(report))
  print("\n".join(report))


flags.DEFINE_string("worker", "", "Internal: train one peer model in this process.")
flags.DEFINE_string("worker_args", "", "Internal: the worker's settings as JSON.")

if __name__ == "__main__":
  app.run(main)
