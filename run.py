"""The front door: flags -> Config -> w2v_jax.

  python run.py --model=skipgram --loss=ns --corpus=PATH
  python run.py --mode=prepare --corpus=offline-prose   # then --corpus=offline-prose
  python run.py ... --resume          # continue an interrupted run in --workdir

This is the only file that reads flags; they are made from the fields of
config.Config (help, default, choices), resolved once (resolve.py) and
handed to one library call per mode. Mistakes a user can fix end with one
line on stderr and exit code 2; a run stopped with Ctrl-C or SIGTERM ends with
one line saying where its checkpoint is, and exit code 130 or 143. Without
--workdir, --mode=eval, plot and projector write next to the --vectors file
(scoring.py), not into the default workdir.
"""

import dataclasses

import logging as pylogging
import os
import signal
import sys

from absl import app
from absl import flags
from absl import logging

from w2v_jax import config as config_lib
from w2v_jax import datasets
from w2v_jax import files
from w2v_jax import loop
from w2v_jax import phrases
from w2v_jax import pipeline
from w2v_jax import resolve as resolve_lib
from w2v_jax import runtime
from w2v_jax import scoring
from w2v_jax.errors import Interrupted
from w2v_jax.errors import UserError

flags.DEFINE_enum("mode", "train", ["train", "prepare", "data", "eval", "neighbors", "plot",
                                    "projector", "phrases"],
                  "train: train, evaluate and write vectors.bin, vocab.txt, params.npz, "
                  "config.json, metrics.jsonl, eval.json to --workdir. prepare: build "
                  "--corpus=offline-prose (or default) and print its path. data: build the "
                  "vocabulary, encode the corpus, make one epoch of batches and report what was "
                  "found (data.json). eval: evaluate --vectors. neighbors: nearest words of "
                  "--query in --vectors. plot: WORKDIR/plot.png of the --query words (a:b "
                  "pairs as arrows). projector: TensorBoard projector files of --vectors in "
                  "WORKDIR/projector. phrases: join frequent bigrams of --corpus into "
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


def main(argv):
  if len(argv) > 1:
    raise UserError(f"unexpected arguments: {' '.join(argv[1:])} (flags look like --name=value)")
  logging.get_absl_handler().setFormatter(
      pylogging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
  logging.set_verbosity(logging.INFO)
  pylogging.getLogger("jax._src.xla_bridge").setLevel(pylogging.ERROR)  # backend probing noise
  config = config_from_flags()
  if FLAGS["workdir"].present and not FLAGS.workdir:
    raise UserError("--workdir must name a folder (the default is runs/default)")
  if FLAGS.mode in ("eval", "plot", "projector") and not FLAGS["workdir"].present:
    config = dataclasses.replace(config, workdir="")  # beside --vectors: scoring.output_path
  if FLAGS.mode == "prepare":
    print(datasets.prepare(resolve_lib.resolve(config)))  # the corpus file's path, last
    return
  config = runtime.start(config)  # devices, threads, platform; resolved; workdir ready
  if FLAGS.mode == "data":
    summary = pipeline.describe(config)
    files.write_json(os.path.join(config.workdir, "data.json"), summary)
    logging.info("wrote %s", os.path.join(config.workdir, "data.json"))
  elif FLAGS.mode == "train":
    loop.train(config)
  elif FLAGS.mode in ("eval", "plot", "projector"):
    try:
      {"eval": scoring.evaluate_file, "plot": scoring.plot_file,
       "projector": scoring.projector}[FLAGS.mode](config)
    except files.WriteError as e:
      raise UserError(f"{e}; pass --workdir=DIR to write there" if not config.workdir
                      else str(e)) from None
  elif FLAGS.mode == "phrases":
    print(phrases.make(config, datasets.resolve(config)))  # the corpus file's path, last
  else:
    scoring.print_neighbors(config)


def run():
  try:
    try:
      app.run(main, flags_parser=_parse)
    finally:
      _exit_at_once_on_signals()
  except KeyboardInterrupt as e:
    # One that came while a requested stop was unwinding: that stop's line is the true one.
    if not isinstance(e.__context__, Interrupted):
      print("stopped: interrupted (files are written whole or not at all: none is half "
            "written)", file=sys.stderr)  # outside the training loop, which says what it kept
      sys.exit(130)
    print(f"stopped: {e.__context__}", file=sys.stderr)
    sys.exit(e.__context__.exit_code)
  except UserError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)
  except Interrupted as e:
    print(f"stopped: {e}", file=sys.stderr)
    sys.exit(e.exit_code)


def _exit_at_once_on_signals() -> None:
  """From here on, Ctrl-C or SIGTERM ends the process at once and quietly (while it winds
  down, in JAX's exit handlers too): the line saying what was kept stays the last one."""
  for sig in (signal.SIGINT, signal.SIGTERM):
    signal.signal(sig, lambda signum, _: os._exit(128 + signum))  # pylint: disable=protected-access


if __name__ == "__main__":
  run()
