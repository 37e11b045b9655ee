"""Slow, opt-in: skip-gram-NS on the default corpus stays above measured quality floors.

  W2V_JAX_SLOW=1 .venv/bin/python -m pytest -q tests/quality_test.py

Not part of the default test run (CI skips it). The floors sit below what the
default settings gave for seeds 0-2 on the 2-core development machine (see
below), so a change that quietly costs quality fails here.
"""

import os

import pytest

from w2v_jax import config as config_lib
from w2v_jax import loop
from w2v_jax import resolve as resolve_lib

pytestmark = pytest.mark.skipif(os.environ.get("W2V_JAX_SLOW") != "1",
                                reason="slow quality check; set W2V_JAX_SLOW=1 to run it")

# Measured on 2026-11-22 with `python run.py --seed=S` (default corpus and settings, 2-core CPU):
#   seed 0: analogy 1.6%, WS353 0.220, SimLex-999 0.124
#   seed 1: analogy 1.7%, WS353 0.181, SimLex-999 0.120
#   seed 2: analogy 1.8%, WS353 0.205, SimLex-999 0.126
# The test trains seed 0; the floors sit below the worst seed, so seed-level
# noise passes and a real loss of quality (random vectors score about 0) fails.
FLOORS = {"analogy": 1.2, "ws353": 0.15, "simlex": 0.09}

def test_skipgram_ns_default_corpus_quality(tmp_path):
  (tmp_path / "run").mkdir()
  config = resolve_lib.resolve(config_lib.Config(workdir=str(tmp_path / "run"), seed=0,
                             cache_dir=str(tmp_path / "cache")))
  results = loop.train(config)["eval"]
  assert 100 * results["analogy"]["total"] >= FLOORS["analogy"]
  assert results["ws353"]["spearman"] >= FLOORS["ws353"]
  assert results["simlex"]["spearman"] >= FLOORS["simlex"]
