"""--mode=phrases against word2vec.c's word2phrase (token for token) and gensim's Phrases (time).

  python benchmarks/phrases.py                       # offline-prose and default (~6 min on 2 cores)
  python benchmarks/phrases.py --corpora=default --nogensim   # a quick look (~1 min)

Needs `pip install -r benchmarks/requirements.txt` (word2vec 0.11.1 builds word2phrase) and
`python run.py --mode=prepare --corpus=offline-prose`. For each corpus and each setting (one
pass at threshold 100; two passes at 200 then 100, as word2vec.c's demo-phrases.sh; min_count
5), it runs `run.py --mode=phrases --phrase_scoring=word2vec` and word2phrase (once per pass,
each pass on the last one's output), and compares the two texts line by line and token by
token: "equal" means the same number of non-empty lines with the same tokens in each.

Times are wall seconds of whole processes, one run each unless --repeats: ours with a fresh
cache (reading and encoding the text included, "cold") and again on that cache ("warm");
word2phrase, all passes; gensim 4.4's Phrases(min_count=5, threshold as given,
scoring="default") on the lines split by whitespace, each further pass on the sentences the
previous model transformed, the final text written (its scores are not word2phrase's, so its
phrases differ; the work is the same kind). gensim is timed on --gensim_corpora only.

Phrase analogies (--checks=accuracy): word2vec.c's compute-accuracy (word2vec 0.11.1's
word2vec-compute-accuracy) and our evaluator (what --mode=eval runs) score the tiny
tests/data/phrase_vectors.txt (24 words, mixed case) on tests/data/phrase_questions.txt (12
questions in 2 sections, mixed case, 3 with words not in the vectors) at restrictions 30000,
20 and 16; tests/phrases_test.py holds the numbers.

Writes OUT_DIR/phrases[-TAG].jsonl (a line per run) and .md (the tables, the command, the
machine), and OUT_DIR/phrase-analogies[-TAG].md, and prints them.
"""

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags

from w2v_jax import config as config_lib
from w2v_jax import datasets
from w2v_jax import metrics
from w2v_jax import files
from w2v_jax import record
from w2v_jax import resolve as resolve_lib
from w2v_jax import word2vec_format

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETTINGS = {"1 pass, 100": "100", "2 passes, 200,100": "200,100"}
TINY_VECTORS = os.path.join(ROOT, "tests", "data", "phrase_vectors.txt")
TINY_QUESTIONS = os.path.join(ROOT, "tests", "data", "phrase_questions.txt")
RESTRICTIONS = (30000, 20, 16)

flags.DEFINE_list("checks", ["phrases", "accuracy"], "phrases: the texts and times; accuracy: "
                  "the phrase analogies against compute-accuracy.")
flags.DEFINE_string("corpora", "offline-prose,default", "Named corpora or paths, comma-separated.")
flags.DEFINE_string("gensim_corpora", "offline-prose", "Where gensim's Phrases is timed too.")
flags.DEFINE_bool("gensim", True, "Time gensim's Phrases (--nogensim: skip it).")
flags.DEFINE_integer("repeats", 1, "Timed runs per tool; the table shows the fastest.")
flags.DEFINE_integer("min_count", 5, "word2phrase's -min-count and our --phrase_min_count.")
flags.DEFINE_string("out_dir", os.path.join(ROOT, "benchmarks", "results"), "Where results go.")
flags.DEFINE_string("tag", "", "Suffix for the result files.")
FLAGS = flags.FLAGS


def _binary(name: str) -> str:
  found = shutil.which(name, path=os.pathsep.join(
      [os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
  if found is None:
    sys.exit(f"{name} not found: pip install -r benchmarks/requirements.txt")
  return found


def _timed(cmd: list, **kw) -> float:
  start = time.time()
  subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
  return time.time() - start


def run_ours(corpus: str, thresholds: str, work: str, cache: str) -> float:
  passes = len(thresholds.split(","))
  return _timed([sys.executable, os.path.join(ROOT, "run.py"), "--mode=phrases",
                 f"--corpus={corpus}", f"--workdir={work}", f"--cache_dir={cache}",
                 f"--phrase_passes={passes}", f"--phrase_threshold={thresholds}",
                 f"--phrase_min_count={FLAGS.min_count}", "--phrase_scoring=word2vec"])


def run_word2phrase(corpus: str, thresholds: str, scratch: str) -> tuple:
  """All passes, each on the last one's output; (seconds, final text). word2phrase keeps
  file names in 60-byte buffers, so it reads and writes short names in `scratch`."""
  os.makedirs(scratch, exist_ok=True)
  current = os.path.join(scratch, "in.txt")
  if not os.path.exists(current):
    os.symlink(os.path.abspath(corpus), current)
  seconds = 0.0
  for k, threshold in enumerate(thresholds.split(",")):
    out = os.path.join(scratch, f"p{k}.txt")
    seconds += _timed([_binary("word2phrase"), "-train", current, "-output", out,
                       "-threshold", threshold, "-min-count", str(FLAGS.min_count),
                       "-debug", "0"])
    current = out
  return seconds, current


def run_gensim(corpus: str, thresholds: str, out: str) -> float:
  code = f"""
import sys
from gensim.models.phrases import Phrases
with open({corpus!r}, encoding="utf-8") as f:
  sentences = [line.split() for line in f]
sentences = [s for s in sentences if s]
for threshold in {[float(t) for t in thresholds.split(",")]!r}:
  model = Phrases(sentences, min_count={FLAGS.min_count}, threshold=threshold)
  sentences = [model[s] for s in sentences]
with open({out!r}, "w", encoding="utf-8") as f:
  for s in sentences:
    f.write(" ".join(s) + "\\n")
"""
  return _timed([sys.executable, "-c", code])


def compare_texts(ours: str, theirs: str) -> dict:
  """Non-empty lines and their tokens; equal when every line has the same tokens."""
  def lines(path):
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
      return [t for t in (line.split() for line in f) if t]
  a, b = lines(ours), lines(theirs)
  differ = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
  first = differ[0] if differ else None
  return {"lines": [len(a), len(b)], "tokens": [sum(map(len, a)), sum(map(len, b))],
          "joined_tokens": sum(t.count("_") > 0 for line in a for t in line),
          "differing_lines": len(differ) + abs(len(a) - len(b)),
          "equal": not differ and len(a) == len(b),
          "first_difference": None if first is None else [" ".join(a[first])[:200],
                                                          " ".join(b[first])[:200]]}


def machine() -> str:
  versions = record.package_versions(("numpy", "gensim", "word2vec"))
  return (f"{record.cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{', '.join(versions)}")


def corpus_path(name: str) -> str:
  config = resolve_lib.resolve(config_lib.Config(corpus=name, platform="cpu"))
  return datasets.resolve(config)


def compute_accuracy(vectors_bin: str, questions: str, restrict: int) -> dict:
  """word2vec.c's compute-accuracy: correct answers per section, questions seen and asked."""
  with open(questions, "rb") as f:
    out = subprocess.run([_binary("word2vec-compute-accuracy"), vectors_bin, str(restrict)],
                         stdin=f, capture_output=True, text=True, check=True).stdout
  names = re.findall(r"^(\S+):$", out, re.M)
  correct = [int(c) for c in re.findall(r"ACCURACY TOP1: \S+ %\s+\((\d+) /", out)]
  seen, asked = map(int, re.search(r"Questions seen / total: (\d+) (\d+)", out).groups())
  return {"correct": dict(zip(names, correct)), "seen": seen, "questions": asked,
          "output": out.strip()}


def check_accuracy() -> list:
  """compute-accuracy and our evaluator on the tiny phrase files, per restriction."""
  words, vectors_VxD = word2vec_format.read_word2vec(TINY_VECTORS)
  rows = []
  with tempfile.TemporaryDirectory(prefix="w2p-") as scratch:
    binary = os.path.join(scratch, "v.bin")
    word2vec_format.write_word2vec(binary, words, vectors_VxD, binary=True)
    for restrict in RESTRICTIONS:
      theirs = compute_accuracy(binary, TINY_QUESTIONS, restrict)
      ours = metrics.evaluate_analogies(words, vectors_VxD, TINY_QUESTIONS,
                                         restrict_vocab=restrict)
      ours_correct = {k: v["correct"] for k, v in ours["sections"].items()}
      rows.append({"restrict": restrict, "compute_accuracy": theirs,
                   "ours": {"correct": ours_correct, "seen": ours["seen"],
                            "questions": ours["questions"], "total": ours["total"]},
                   "equal": (ours_correct == theirs["correct"] and ours["seen"] == theirs["seen"]
                             and ours["questions"] == theirs["questions"])})
  return rows


def report_accuracy(rows: list) -> list:
  out = ["# phrase analogies: our evaluator against word2vec.c's compute-accuracy", "",
         f"Command: `{' '.join(['python benchmarks/phrases.py', *sys.argv[1:]])}`", "",
         f"Machine: {machine()}", "",
         "Vectors tests/data/phrase_vectors.txt (as word2vec binary), questions "
         "tests/data/phrase_questions.txt; compute-accuracy VECTORS RESTRICT < QUESTIONS.", "",
         "| restrict | correct per section (compute-accuracy) | ours | seen / asked "
         "(compute-accuracy) | ours | same |", "|---|---|---|---|---|---|"]
  for r in rows:
    c, o = r["compute_accuracy"], r["ours"]
    cells = [", ".join(f"{k} {v}" for k, v in d["correct"].items()) for d in (c, o)]
    out.append(f"| {r['restrict']} | {cells[0]} | {cells[1]} | {c['seen']} / {c['questions']} | "
               f"{o['seen']} / {o['questions']} | {'yes' if r['equal'] else 'NO'} |")
  return out + [""]


def main(argv):
  del argv
  os.makedirs(FLAGS.out_dir, exist_ok=True)
  suffix = f"-{FLAGS.tag}" if FLAGS.tag else ""
  if "accuracy" in FLAGS.checks:
    report = report_accuracy(check_accuracy())
    with files.atomic_write(os.path.join(FLAGS.out_dir, f"phrase-analogies{suffix}.md"), "w",
                            encoding="utf-8") as f:
      f.write("\n".join(report))
    print("\n".join(report))
  if "phrases" in FLAGS.checks:
    check_phrases("phrases" + suffix)


def check_phrases(name: str) -> None:
  """The phrase texts against word2phrase's, and the three tools' times."""
  rows = []
  with tempfile.TemporaryDirectory(prefix="w2p-", dir="/tmp") as scratch, \
      files.atomic_write(os.path.join(FLAGS.out_dir, f"{name}.jsonl"), "w",
                         encoding="utf-8") as log:
    for corpus_name in FLAGS.corpora.split(","):
      corpus = corpus_path(corpus_name)
      for label, thresholds in SETTINGS.items():
        where = os.path.join(scratch, f"{len(rows)}")
        os.makedirs(where)
        row = {"corpus": corpus_name, "setting": label, "thresholds": thresholds,
               "load_before": round(os.getloadavg()[0], 2)}
        cold, warm, theirs, gensim = [], [], [], []
        for repeat in range(FLAGS.repeats):
          cache = os.path.join(where, f"cache{repeat}")
          cold.append(run_ours(corpus, thresholds, os.path.join(where, "ours"), cache))
          warm.append(run_ours(corpus, thresholds, os.path.join(where, "ours"), cache))
          seconds, final = run_word2phrase(corpus, thresholds, os.path.join(where, "w2p"))
          theirs.append(seconds)
          if FLAGS.gensim and corpus_name in FLAGS.gensim_corpora.split(","):
            gensim.append(run_gensim(corpus, thresholds, os.path.join(where, "gensim.txt")))
        row.update(compare_texts(os.path.join(where, "ours", "phrases.txt"), final))
        row.update(ours_cold_s=round(min(cold), 2), ours_warm_s=round(min(warm), 2),
                   word2phrase_s=round(min(theirs), 2),
                   gensim_s=round(min(gensim), 2) if gensim else None)
        rows.append(row)
        log.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)
  report = [f"# {name}: --mode=phrases against word2phrase and gensim's Phrases", "",
            f"Command: `{' '.join(['python benchmarks/phrases.py', *sys.argv[1:]])}`", "",
            f"Machine: {machine()}", "",
            f"min_count {FLAGS.min_count}; seconds: whole processes, fastest of "
            f"{FLAGS.repeats}; ours cold = a fresh cache (the text read and encoded), warm = "
            "the same run on that cache; gensim: scoring='default' at the same thresholds "
            "(its scores are not word2phrase's, see the module docstring). Load average "
            "(1 min) before each setting: " + ", ".join(
                f"{r['corpus']} {r['setting']}: {r['load_before']}" for r in rows) + ".", "",
            "| corpus | setting | same as word2phrase | lines | tokens out | tokens holding _ | "
            "ours cold s | ours warm s | word2phrase s | gensim s |",
            "|---|---|---|---|---|---|---|---|---|---|"]
  for r in rows:
    verdict = "yes, token for token" if r["equal"] else f"no: {r['differing_lines']} lines differ"
    gensim_cell = f"{r['gensim_s']:.1f}" if r["gensim_s"] is not None else "-"
    report.append(f"| {r['corpus']} | {r['setting']} | {verdict} | {r['lines'][0]:,} | "
                  f"{r['tokens'][0]:,} | {r['joined_tokens']:,} | {r['ours_cold_s']:.1f} | "
                  f"{r['ours_warm_s']:.1f} | {r['word2phrase_s']:.1f} | {gensim_cell} |")
  report.append("")
  with files.atomic_write(os.path.join(FLAGS.out_dir, f"{name}.md"), "w",
                          encoding="utf-8") as f:
    f.write("\n".join(report))
  print("\n".join(report))


if __name__ == "__main__":
  app.run(main)
