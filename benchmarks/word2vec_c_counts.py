"""word2vec.c's skip-gram-HS loop, counted and timed: where its speed per word comes from.

  python benchmarks/word2vec_c_counts.py                 # offline-prose, 1 epoch, 1 and 2 threads
  python benchmarks/word2vec_c_counts.py --threads=1 --model=cbow

perf is not available everywhere, so this builds a counting copy of the word2vec.c that
`pip install -r benchmarks/requirements.txt` installed (the `word2vec` package ships its
source), with the same compiler flags as that package's build: three counters (examples,
Huffman nodes visited, visits whose logit is saturated, |f| >= 6, where word2vec.c skips
both update loops) and a clock around the training threads alone (the vocabulary pass and
the output file left out). The counts come from a 1-thread run, where they are exact; the
counters are not atomic, so with more threads only the times are read. It prints, per
example (a (context, centre) pair for skip-gram, a centre for CBOW): nodes visited,
the share of them saturated, nanoseconds per example and per node visit, and the bytes the
inner loops read and write. docs/log/SPEED.md compares them with our step.

The patch inserts counter statements at lines it finds by their text; it fails loudly (one
error line, exit 2) where the installed source does not have them.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

# (text in word2vec.c, what it becomes); each must occur as often as given.
_PATCHES = (
    ("#define MAX_CODE_LENGTH 40",
     "#define MAX_CODE_LENGTH 40\n#include <time.h>\n"
     "long long n_examples = 0, n_visits = 0, n_saturated = 0;", 1),
    ("if (hs) for (d = 0; d < vocab[word].codelen; d++) {",
     "if (hs) n_examples++;\n        if (hs) for (d = 0; d < vocab[word].codelen; d++) {"
     " n_visits++;", 2),
    ("if (f <= -MAX_EXP) continue;\n          else if (f >= MAX_EXP) continue;",
     "if (f <= -MAX_EXP || f >= MAX_EXP) { n_saturated++; continue; }", 2),
    ("  for (a = 0; a < num_threads; a++) pthread_create(",
     "  struct timespec t0, t1; clock_gettime(CLOCK_MONOTONIC, &t0);\n"
     "  for (a = 0; a < num_threads; a++) pthread_create(", 1),
    ("  for (a = 0; a < num_threads; a++) pthread_join(pt[a], NULL);",
     "  for (a = 0; a < num_threads; a++) pthread_join(pt[a], NULL);\n"
     "  clock_gettime(CLOCK_MONOTONIC, &t1);\n"
     "  fprintf(stderr, \"COUNTS %lld %lld %lld %.3f\\n\", n_examples, n_visits, n_saturated,\n"
     "          (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec));", 1),
)


def _fail(message: str):
  print(f"error: {message}", file=sys.stderr)
  sys.exit(2)


def patch(source: str) -> str:
  """word2vec.c's source with the counters and the clock in."""
  for old, new, count in _PATCHES:
    if source.count(old) != count:
      _fail(f"word2vec.c has {source.count(old)} copies of {old.splitlines()[0]!r}, "
            f"expected {count}: another version than the one this patch was written for")
    source = source.replace(old, new)
  return source


def build(out_dir: str) -> str:
  """The counting binary, compiled from the installed package's word2vec.c."""
  try:
    import word2vec  # pylint: disable=import-outside-toplevel
  except ImportError:
    _fail("the word2vec package is not installed: pip install -r benchmarks/requirements.txt")
  includes = os.path.join(os.path.dirname(word2vec.__file__), "includes")
  with open(os.path.join(includes, "word2vec.c"), encoding="utf-8") as f:
    source = patch(f.read())
  path = os.path.join(out_dir, "word2vec_counting.c")
  with open(path, "w", encoding="utf-8") as f:
    f.write(source)
  binary = os.path.join(out_dir, "word2vec_counting")
  cc = shutil.which("gcc") or shutil.which("cc")
  if cc is None:
    _fail("no C compiler (gcc or cc) to build the counting copy")
  # The package's own flags (its setup.py: -Ofast -march=native -funroll-loops).
  subprocess.run([cc, path, "-o", binary, "-lm", "-pthread", "-Ofast", "-march=native",
                  "-funroll-loops", "-Wno-unused-result"], check=True)
  return binary


def _thread_counts(text: str) -> list:
  try:
    counts = [int(t) for t in text.split(",")]
  except ValueError:
    counts = []
  if not counts or min(counts) < 1:
    raise argparse.ArgumentTypeError(f"{text!r} is not a list of thread counts, e.g. 1,2")
  return counts


def parse_args(argv=None):
  """The command line (argparse, not absl: tests import this module beside run.py's flags)."""
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--corpus", default="",
                      help="text file (default: offline-prose, prepared by run.py)")
  parser.add_argument("--model", choices=("skipgram", "cbow"), default="skipgram",
                      help="word2vec.c's -cbow 0 or 1")
  parser.add_argument("--threads", type=_thread_counts, default="1,2",
                      help="thread counts to time, comma-separated (counts from the first, "
                      "which should be 1)")
  parser.add_argument("--sample", type=float, default=1e-4,
                      help="-sample (compare.py's parity setting)")
  parser.add_argument("--dim", type=int, default=100, help="-size")
  return parser.parse_args(argv)


def run(binary: str, corpus: str, threads: int, out_dir: str, args) -> tuple:
  cmd = [binary, "-train", corpus, "-output", os.path.join(out_dir, "vectors.bin"), "-binary",
         "1", "-size", str(args.dim), "-window", "5", "-sample", str(args.sample), "-hs", "1",
         "-negative", "0", "-threads", str(threads), "-iter", "1", "-min-count", "5",
         "-cbow", str(int(args.model == "cbow")), "-debug", "0",
         "-alpha", "0.05" if args.model == "cbow" else "0.025"]
  err = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
  match = re.search(r"COUNTS (\d+) (\d+) (\d+) ([\d.]+)", err)
  examples, visits, saturated = (int(match.group(i)) for i in (1, 2, 3))
  return examples, visits, saturated, float(match.group(4))


def main():
  args = parse_args()
  corpus = args.corpus or os.path.expanduser("~/.cache/w2v_jax/data/offline-prose/corpus.txt")
  if not os.path.exists(corpus):
    _fail(f"no corpus at {corpus}: python run.py --mode=prepare --corpus=offline-prose")
  with tempfile.TemporaryDirectory() as out_dir:
    binary = build(out_dir)
    counts = None
    for threads in args.threads:
      examples, visits, saturated, seconds = run(binary, corpus, threads, out_dir, args)
      counts = counts or (examples, visits, saturated)
      examples, visits, saturated = counts
      print(f"{args.model}-hs, 1 epoch, {threads} thread(s): training {seconds:.2f} s, "
            f"{seconds / examples * 1e9:.0f} ns per example, "
            f"{seconds / visits * 1e9:.1f} ns per node visit (all threads' time together: "
            f"{threads * seconds / visits * 1e9:.1f})")
    d = args.dim * 4
    unsaturated = visits - saturated
    print(f"{examples:,} examples, {visits:,} node visits ({visits / examples:.2f} per "
          f"example), {saturated / visits:.1%} saturated (|f| >= 6: the dot only, no updates)")
    print(f"inner loops per example: {visits / examples * d + unsaturated / examples * 2 * d:,.0f}"
          f" bytes of node rows read, {unsaturated / examples * d:,.0f} written; "
          f"{(visits + 2 * unsaturated) / examples * args.dim:,.0f} multiply-adds")


if __name__ == "__main__":
  main()
