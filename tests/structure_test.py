"""The shape the package keeps: small modules that say what they own, a short loop,
and runs that record only resolved values."""

import ast
import json
import os
import pathlib

from tests.train_test import _write_corpus
from w2v_jax import config as config_lib
from w2v_jax import loop

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "w2v_jax"
MAX_MODULE_LINES = 450


def _modules():
  return sorted(PACKAGE.rglob("*.py"))


def test_every_module_is_small_and_opens_with_what_it_owns():
  for path in _modules():
    source = path.read_text(encoding="utf-8")
    assert len(source.splitlines()) <= MAX_MODULE_LINES, f"{path.name} is over {MAX_MODULE_LINES}"
    assert ast.get_docstring(ast.parse(source)), f"{path.name} has no module docstring"


def test_the_training_loop_is_at_most_100_lines():
  tree = ast.parse((PACKAGE / "loop.py").read_text(encoding="utf-8"))
  loop = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "train")
  assert loop.end_lineno - loop.lineno + 1 <= 100


def test_the_run_record_holds_no_placeholder(tmp_path):
  # A Config with every "0 = default", "auto", None and "" left for train() to resolve.
  config = config_lib.Config(corpus=_write_corpus(tmp_path / "c.txt"), min_count=1, dim=8,
                             window=2, epochs=1, sample=0.0, workdir=str(tmp_path / "work"),
                             evaluate=False)
  assert config.batch_size == 0 and config.alpha is None and config.skipgram_layout == "auto"
  os.makedirs(config.workdir)
  loop.train(config)
  with open(os.path.join(config.workdir, "config.json"), encoding="utf-8") as f:
    recorded = json.load(f)["config"]
  for name in ("batch_size", "steps_per_call", "share_negatives", "path_buckets",
               "cpu_threads", "num_devices"):
    assert recorded[name] >= 1, name
  assert recorded["skipgram_layout"] in ("pairs", "centres")
  assert recorded["alpha"] == 0.025
  assert recorded["platform"] and recorded["cache_dir"] and recorded["data_dir"]
  assert recorded["corpus"] and all(recorded[name].startswith("gensim:")
                                    for name in ("analogies", "ws353", "simlex"))


def test_readme_stays_a_front_page():
  readme = PACKAGE.parent / "README.md"
  assert len(readme.read_text(encoding="utf-8").splitlines()) <= 200
