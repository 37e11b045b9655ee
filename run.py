"""The front door: flags -> Config -> w2v_jax.

  python run.py --model=skipgram --loss=ns --corpus=PATH
  python run.py --mode=prepare --corpus=offline-prose   # then --corpus=offline-prose
  python run.py ... --resume          # continue an interrupted run in --workdir

This is the only file that reads flags; they are made from the fields of
config.Config (help, default, choices), resolved once (resolve.py) and
handed to one library call per mode. Mistakes a user can fix end with one
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
from w2v_jax import phrases
from w2v_jax import pipeline
from w2v_jax import record
from w2v_jax import resolve as resolve_lib
from w2v_jax import scoring
from w2v_jax import train
from w2v_jax.errors import Interrupted
from w2v_jax.errors import UserError

flags.DEFINE_enum("mode", "train", ["train", "prepare", "data", "eval", "neighbors", "phrases"],
                  "train: train, evaluate and write vectors.bin, vocab.txt, params.npz, "
                  "config.json, metrics.jsonl, eval.json to --workdir. prepare: build "
                  "--corpus=offline-prose (or default) and print its path. data: build the "
                  "vocabulary, encode the corpus, make one epoch of batches and report what was "
                  "found (data.json). eval: evaluate --vectors. neighbors: nearest words of "
                  "--query in --vectors. phrases: join frequent bigrams of --corpus into "
                  "WORKDIR/phrases.txt (and phrases.tsv) and print its path.")


def _define_flags() -> None:
  """One flag per Config field, with its default, help and choices (config.py)."""
  for name, field in config_lib.FIELDS.items():
    default, text, options = field.default, field.metadata["help"], field.metadata["choices"]
    if options:
      flags.DEFINE_enum(name, default, list(options), text)
    elif isinstance(default, bool):
      flags.DEFINE_bool(name, default, text)
    elif isinstance(default, int):
      flags.DEFINE_integer(name, default, text)
    elif isinstance(default, float) or name == "alpha":  # alpha: None = the model's default
      flags.DEFINE_float(name, default, text)
    else:
      flags.DEFINE_string(name, default, text)


_define_flags()

FLAGS = flags.FLAGS


def config_from_flags() -> config_lib.Config:
  """The Config the flags ask for, validated (not yet resolved)."""
  return resolve_lib.validate(config_lib.Config(
      **{name: FLAGS[name].value for name in config_lib.FIELDS}))


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
    print(datasets.prepare(resolve_lib.resolve(config)))  # the corpus file's path, last
    return
  parallel.initialize(config)  # before anything touches a device
  _limit_cpu_threads(resolve_lib.cpu_threads(config))
  _select_platform(config.platform)
  config = resolve_lib.resolve(config)  # once: every value concrete, the devices counted
  _prepare_workdir(config.workdir)
  if FLAGS.mode == "data":
    summary = pipeline.describe(config)
    files.write_json(os.path.join(config.workdir, "data.json"), summary)
    logging.info("wrote %s", os.path.join(config.workdir, "data.json"))
  elif FLAGS.mode == "train":
    train.train(config)
  elif FLAGS.mode == "eval":
    scoring.evaluate_file(config)
  elif FLAGS.mode == "phrases":
    print(phrases.make(config, datasets.resolve(config)))  # the corpus file's path, last
  else:
    scoring.print_neighbors(config)


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
