"""experiments/common.py: records are reused, tables and plots come from the records."""

import dataclasses
import json
import os

import pytest

from experiments import common
from w2v_jax import config as config_lib


def _fake_summary(config):
  """What train.train returns, with numbers that depend on the seed."""
  s = config.seed
  return {"train_seconds": 10.0 + s, "words_per_s": 1e5, "tokens": 1000, "vocab_size": 50,
          "final_epoch_loss": 2.0,
          "eval": {"analogy": {"total": 0.1 + 0.01 * s, "semantic": 0.2, "syntactic": 0.05},
                   "ws353": {"spearman": 0.3}, "simlex": {"spearman": 0.1 * s}}}


@pytest.fixture(name="results_dir")
def fixture_results_dir(tmp_path, monkeypatch):
  monkeypatch.setattr(common, "RESULTS_DIR", str(tmp_path / "results"))
  return tmp_path / "results"


def test_run_trains_once_per_configuration(tmp_path, results_dir):
  calls = []

  def trainer(config):
    calls.append(config)
    return _fake_summary(config)

  config = config_lib.Config(corpus="default", workdir=str(tmp_path / "runs"), seed=1)
  first = common.run("demo", config, {"seed": 1}, trainer=trainer)
  again = common.run("demo", config, {"seed": 1}, trainer=trainer)
  other = common.run("demo", config_lib.Config(corpus="default", workdir=str(tmp_path / "runs"),
                                               seed=2), {"seed": 2}, trainer=trainer)
  assert len(calls) == 2
  assert calls[0].workdir != str(tmp_path / "runs")  # each run gets its own folder
  assert again == first
  assert first["analogy_total"] == pytest.approx(0.11)
  assert other["simlex"] == pytest.approx(0.2)
  with open(results_dir / "demo.jsonl", encoding="utf-8") as f:
    assert [json.loads(line)["seed"] for line in f] == [1, 2]
  common.run("demo", config, {"seed": 1}, rerun=True, trainer=trainer)
  assert len(calls) == 3


def test_table_shows_mean_and_sample_std():
  records = [common.metrics_of(_fake_summary(config_lib.Config(seed=s))) for s in (0, 2)]
  table = common.metric_table([("t=0", records)], "setting")
  row = table.splitlines()[2]
  assert row.startswith("| t=0 | 2 | 11.0 ± 1.4 |")  # 10% and 12%: mean 11, sample std 1.41
  assert "0.100 ± 0.141" in row  # SimLex 0.0 and 0.2
  assert row.endswith("| 11.0 ± 1.4 |")  # time 10 s and 12 s


def test_plot_writes_png(results_dir):
  records = [common.metrics_of(_fake_summary(config_lib.Config(seed=s))) for s in (0, 1)]
  path = common.plot_metrics("demo", [0.0, 0.5], {"skipgram": [records, records]}, "alpha",
                             "demo")
  with open(path, "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n"
  assert os.path.dirname(path) == str(results_dir)


def test_run_sweep_trains_once_and_records_each_variant(tmp_path, results_dir):
  calls = []

  def trainer(config):
    calls.append(config)
    return {"variants": [_fake_summary(v) for v in config_lib.sweep_variants(config)]}

  config = config_lib.Config(corpus="default", workdir=str(tmp_path / "runs"), seed=1,
                             sweep="ns_exponent=0,0.75")
  records = common.run_sweep("demo", config, {"seed": 1}, trainer=trainer)
  assert [(r["ns_exponent"], r["seed"]) for r in records] == [(0.0, 1), (0.75, 1)]
  assert all(r["sweep"] == "ns_exponent=0,0.75" for r in records)
  assert common.run_sweep("demo", config, {"seed": 1}, trainer=trainer) == records
  assert len(calls) == 1
  # A separate run of one variant is not answered by the sweep's record.
  separate = config_lib.Config(corpus="default", workdir=str(tmp_path / "runs"), seed=1,
                               ns_exponent=0.75)
  common.run("demo", separate, {"seed": 1}, trainer=lambda c: _fake_summary(c))
  records = common.load_records("demo")
  assert len(records) == 3 and "sweep" not in records[-1]


def test_identity_without_a_sweep_matches_records_from_before_the_field():
  assert '"sweep"' not in common._identity(config_lib.Config())
  assert '"sweep": "alpha=0.01,0.02"' in common._identity(config_lib.Config(sweep="alpha=0.01,0.02"))


def test_identity_matches_records_from_before_the_later_fields():
  # A record written before --num_devices, --cpu_threads, --skipgram_layout and the
  # multi-host flags existed (experiments/results/compare_output_layers.jsonl).
  with open(os.path.join(common.RESULTS_DIR, "compare_output_layers.jsonl"),
            encoding="utf-8") as f:
    identities = [json.loads(json.loads(line)["identity"]) for line in f]
  old = next(i for i in identities if (i["model"], i["loss"]) != ("skipgram", "hs"))
  config = config_lib.Config(**old)
  assert common._identity(config) == json.dumps(old, sort_keys=True)
  assert common._identity(dataclasses.replace(config, cpu_threads=1)) == common._identity(config)
  assert common._identity(dataclasses.replace(config, num_devices=2)) != common._identity(config)
  # Skip-gram-HS now trains by centre by default: not the by-pair records.
  hs = dataclasses.replace(config, model="skipgram", loss="hs")
  assert '"skipgram_layout": "centres"' in common._identity(hs)
  assert '"skipgram_layout"' not in common._identity(
      dataclasses.replace(hs, skipgram_layout="pairs"))
  # So do hs runs with path buckets (the default); one bucket trains as before.
  assert '"path_buckets": 2' in common._identity(hs)
  assert '"path_buckets"' not in common._identity(dataclasses.replace(hs, path_buckets=1))
  assert '"path_buckets"' not in common._identity(config)
  # The default steps per call is no longer 32: only an explicit 32 matches those records.
  assert config.steps_per_call == 32
  ns = dataclasses.replace(config, loss="ns")
  assert config_lib.steps_per_call(dataclasses.replace(ns, steps_per_call=0)) == 128
  assert (common._identity(dataclasses.replace(ns, steps_per_call=0))
          != common._identity(ns))
