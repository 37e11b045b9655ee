"""Training speed, end to end: ours against gensim, word2vec.c and fastText.

  python benchmarks/throughput.py                    # 4 models x 4 tools x 3 repeats (~40 min)
  python benchmarks/throughput.py --models=sg-ns --tools=ours,gensim --repeats=1   # a quick look
  python benchmarks/throughput.py --ours_flags=--share_negatives=16 --tag=share16

Needs what benchmarks/compare.py needs (`pip install -r benchmarks/requirements.txt`, and
`python run.py --mode=prepare --corpus=offline-prose`), whose runners and settings it uses: dim
100, window 5, negative 5, sample 1e-4, min_count 5, 3 epochs, the same --cores pinned cores and
thread count for every tool, on the whole corpus by default (--slice_tokens=N: its first N
tokens; fixed costs such as starting Python and compiling weigh more on a small slice). Runs
alternate between tools within each repeat, so drift in the machine hits all alike; each waits
for the rest of the machine to be quiet and is retried if other work shared the cores anyway.

words/s = corpus tokens x epochs / wall seconds of the whole process: reading the corpus, the
vocabulary and, for us, the corpus encoding (in a fresh cache) and the JIT compilation included.
For us it also prints "steady" words/s: the same words over the time from the end of the first
compiled call to the end of training (summary.json of the run). Medians over repeats, and the
ratio of our median to each peer's. Quality is not measured here (see compare.py, which also
runs with --ours_flags, on the whole corpus); the speed targets hold only at settings that hold
the quality bar.

Writes OUT_DIR/throughput[-TAG].jsonl (a line per run) and .md (the table, the command, the
machine) and prints the table.
"""

import collections
import json
import os
import sys

from absl import app
from absl import flags
import numpy as np

import compare
from w2v_jax import files

flags.DEFINE_integer("repeats", 3, "Runs per (model, tool); medians over them.")
flags.DEFINE_integer("slice_tokens", 0, "Use the corpus's first this many tokens (0 = all).")
flags.DEFINE_float("max_other_cores", 0.25,
                   "A run counts only if the rest of the machine used at most this many cores "
                   "while it ran; each run waits for such a quiet machine before it starts.")
flags.DEFINE_integer("attempts", 3, "Tries per run to get one on a quiet machine (the last counts).")
FLAGS = flags.FLAGS


def head_slice(corpus: str, tokens: int, out_dir: str) -> str:
  """The corpus's first `tokens` tokens, in whole lines but the last, cached in out_dir."""
  path = os.path.join(out_dir, f"slice-head-{tokens}t.txt")
  if os.path.exists(path):
    return path
  n = 0
  with open(corpus, encoding="utf-8") as src, files.atomic_write(path, "w",
                                                                 encoding="utf-8") as dst:
    for line in src:
      words = line.split()[:tokens - n]
      if words:
        dst.write(" ".join(words) + "\n")
      n += len(words)
      if n >= tokens:
        break
  return path


def table(rows) -> list[str]:
  groups = collections.defaultdict(list)
  for row in rows:
    groups[(row["model"], row["tool"])].append(row)
  median = {key: float(np.median([r["words_per_s"] for r in group]))
            for key, group in groups.items()}
  out = ["| model | tool | runs | wall s (median) | words/s (median, min-max) | ours / tool "
         "| ours steady words/s | others' cores (max) |", "|---|---|---|---|---|---|---|---|"]
  models = sorted({m for m, _ in groups}, key=list(compare.MODELS).index)
  for model in models:
    for tool in compare.TOOLS:
      group = groups.get((model, tool))
      if not group:
        continue
      rates = [r["words_per_s"] for r in group]
      ratio = (f"{median[(model, 'ours')] / median[(model, tool)]:.2f}x"
               if (model, "ours") in median and tool != "ours" else "")
      steady = (f"{np.median([r['steady_words_per_s'] for r in group]) / 1e3:.0f}k"
                if tool == "ours" else "")
      out.append(f"| {model} | {tool} | {len(group)} | "
                 f"{np.median([r['seconds'] for r in group]):.1f} | "
                 f"{median[(model, tool)] / 1e3:.0f}k ({min(rates) / 1e3:.0f}k-"
                 f"{max(rates) / 1e3:.0f}k) | {ratio} | {steady} | "
                 f"{max(r['other_cores'] for r in group):.2f} |")
  return out


def main(argv):
  del argv
  models = (FLAGS.models or "sg-ns,cbow-ns,sg-hs,cbow-hs").split(",")
  tools = (FLAGS.tools or "ours,gensim,word2vec.c,fasttext").split(",")
  for name in models + tools:
    if name not in compare.MODELS and name not in compare.TOOLS:
      sys.exit(f"unknown model or tool {name!r}")
  corpus = compare.datasets.prepare(compare.config_lib.Config(corpus=FLAGS.corpus))
  os.makedirs(FLAGS.out_dir, exist_ok=True)
  if FLAGS.slice_tokens:
    corpus = head_slice(corpus, FLAGS.slice_tokens, FLAGS.out_dir)
  tokens = compare._count_tokens(corpus)  # pylint: disable=protected-access
  name = "throughput" + (f"-{FLAGS.tag}" if FLAGS.tag else "")
  rows = []
  with compare.tempfile.TemporaryDirectory(prefix="w2v-throughput-") as scratch, \
      open(os.path.join(FLAGS.out_dir, f"{name}.jsonl"), "w", encoding="utf-8") as log:
    for repeat in range(1, FLAGS.repeats + 1):
      for model in models:
        for tool in tools:
          for attempt in range(1, FLAGS.attempts + 1):  # until nothing else shared the cores
            waited = compare.wait_for_quiet(FLAGS.max_other_cores)
            row = compare.run_one(tool, model, repeat, corpus, tokens, scratch, score=False)
            row.update(attempt=attempt, waited_s=round(waited, 1))
            if row["other_cores"] <= FLAGS.max_other_cores:
              break
          rows.append(row)
          log.write(json.dumps(row) + "\n")
          log.flush()
          steady = (f", steady {row['steady_words_per_s'] / 1e3:.0f}k" if tool == "ours"
                    else "")
          print(f"{tool:>10} {model:<8} run {repeat}: {row['seconds']:.1f} s, "
                f"{row['words_per_s'] / 1e3:.0f}k words/s{steady}; others used "
                f"{row['other_cores']:.2f} cores (attempt {row['attempt']})", flush=True)
  report = [f"# {name}: training speed, ours against {', '.join(t for t in tools if t != 'ours')}",
            "", f"Command: `{' '.join(['python benchmarks/throughput.py', *sys.argv[1:]])}`", "",
            f"Machine: {compare.machine()}", "",
            f"Corpus: {corpus} ({tokens:,} tokens), 3 epochs, the settings of compare.py; our "
            f"batch size {FLAGS.batch_size or 'the default (run.py --help)'}"
            + (f"; our extra flags `{FLAGS.ours_flags}`" if FLAGS.ours_flags else ""), "",
            "words/s = corpus tokens x epochs / wall seconds of the whole process (for us the "
            "corpus encoding and JIT compilation included); steady = from the end of our first "
            "compiled call to the end of training. others' cores: CPU the rest of the machine "
            f"used during a run (each run waited for a quiet machine and was retried, up to "
            f"{FLAGS.attempts} times, while others used more than {FLAGS.max_other_cores:g}).",
            "", *table(rows), ""]
  with open(os.path.join(FLAGS.out_dir, f"{name}.md"), "w", encoding="utf-8") as f:
    f.write("\n".join(report))
  print("\n".join(report))


if __name__ == "__main__":
  app.run(main)
