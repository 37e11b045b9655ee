"""experiments/common.py: records are reused, tables and plots come from the records."""

import importlib
import json
import os
import subprocess
import sys

import pytest

from experiments import common
from w2v_jax import config as config_lib
from w2v_jax import errors
from w2v_jax import resolve as resolve_lib


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
    return {"variants": [_fake_summary(v) for v in resolve_lib.sweep_variants(config)]}

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


def test_identity_is_the_resolved_config_without_the_run_fields():
  identity = json.loads(common._identity(config_lib.Config()))
  # Resolved: no placeholder stands for a default that may change.
  assert identity["batch_size"] == 512 and identity["steps_per_call"] == 128
  assert identity["skipgram_layout"] == "pairs" and identity["alpha"] == 0.025
  # Fields added after the records were keyed are left out at the value earlier runs had.
  assert set(identity) == set(config_lib.names_with_role("train", "device", "output")) - set(
      common._ADDED_LATER)
  cap = json.loads(common._identity(config_lib.Config(row_update="cap", row_cap=16.0)))
  assert (cap["row_update"], cap["row_cap"]) == ("cap", 16.0)
  # Where files go and how often a run logs change nothing a record holds; the rest do.
  same = config_lib.Config(workdir="elsewhere", log_every_secs=1.0, checkpoint_every_secs=0)
  assert common._identity(same) == common._identity(config_lib.Config())
  for changed in (dict(seed=1), dict(sweep="alpha=0.01,0.02"), dict(analogy_method="3cosmul"),
                  dict(num_devices=2), dict(steps_per_call=32)):
    assert common._identity(config_lib.Config(**changed)) != common._identity(
        config_lib.Config()), changed
  # A default and the value it resolves to are one identity.
  assert common._identity(config_lib.Config(batch_size=512)) == common._identity(
      config_lib.Config())
  hs = json.loads(common._identity(config_lib.Config(loss="hs")))
  assert (hs["skipgram_layout"], hs["path_buckets"], hs["batch_size"]) == ("centres", 2, 24)


def test_every_stored_record_is_keyed_by_a_resolved_identity():
  # Each record's identity names a configuration whose identity it is: resolving
  # it again changes nothing, so `run` finds it for the config that made it.
  for name in ("compare_output_layers", "table_2013b", "sweep_ns_exponent"):
    for record in common.load_records(name):
      fields = {**common._ADDED_LATER, **json.loads(record["identity"])}  # as they ran
      assert common._identity(config_lib.Config(**fields)) == record["identity"], name


def test_ensure_corpus_builds_where_the_runs_read(monkeypatch):
  built = []
  def missing(config):
    raise errors.UserError("not built")
  monkeypatch.setattr(common.datasets, "resolve", missing)
  monkeypatch.setattr(common.datasets, "prepare", built.append)
  config = config_lib.Config(corpus="offline-prose")
  common.ensure_corpus(config)
  assert built[0].data_dir == resolve_lib.resolve(config).data_dir != ""


def test_large_batch_only_names_cells_and_refuses_others(monkeypatch, capsys):
  monkeypatch.syspath_prepend(os.path.join(common.ROOT, "experiments"))
  large_batch = importlib.import_module("large_batch")
  assert large_batch.parse_only("sg-ns:65536:krylov:1, cbow-hs:0:sum:2,sg-hs:65536:newton:1:0.04") == [
      ("sg-ns", 65536, "krylov", 1, None), ("cbow-hs", 0, "sum", 2, None),
      ("sg-hs", 65536, "newton", 1, 0.04)]
  for bad in ("sg-ns:65536:krylov", "sg-hs:262144:sum:1", "cbow-ns:0:krylov:1",
              "sg-ns:65536:adam:1", "glove:0:sum:1", "sg-ns:65536:krylov:1:0",
              "sg-ns:65536:krylov:1:fast", "sg-ns:65536:krylov:1:nan", "sg-ns:65536:krylov:1:1:2"):
    with pytest.raises(SystemExit) as stop:
      large_batch.parse_only(bad)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --only takes") and err.count("\n") == 1, err


def test_quick_outputs_are_marked_and_named_apart(tmp_path, monkeypatch):
  monkeypatch.setattr(common, "RESULTS_DIR", str(tmp_path))
  monkeypatch.setattr("sys.argv", ["demo.py", "--quick"])
  size = common.script_size("demo", "A demo.", epochs=3)
  assert size.quick and size.name == "demo_quick"
  path = common.write_markdown(size.name, "Demo table", "python experiments/demo.py --quick", [])
  with open(path, encoding="utf-8") as f:
    assert f.readline().startswith("# SMOKE RUN (--quick), not a result: Demo table")
  assert os.path.basename(path) == "demo_quick.md"
  assert common.marked_title("demo", "Demo table") == "Demo table"


def test_large_batch_shortfall_is_against_the_better_of_gensim_and_our_default(monkeypatch):
  monkeypatch.syspath_prepend(os.path.join(common.ROOT, "experiments"))
  large_batch = importlib.import_module("large_batch")
  # cbow-ns: gensim 12.2 / 0.462 / 0.190, ours at the default batch 11.6 / 0.446 / 0.180.
  at = lambda a, w, s: {"analogy_total": a / 100, "ws353": w, "simlex": s}
  assert large_batch.shortfall("cbow-ns", [at(11.3, 0.45, 0.175), at(11.1, 0.44, 0.171)]) == []
  assert large_batch.shortfall("cbow-ns", [at(10.7, 0.468, 0.179)]) == ["analogy 0.5"]
  assert large_batch.shortfall("cbow-ns", [at(12.0, 0.43, 0.160)]) == ["WS353 0.012",
                                                                     "SimLex 0.010"]


def test_runs_train_on_the_pools_run_py_would_size(tmp_path):
  """In a fresh process the first resolve or run sizes XLA's CPU pools as run.py does (one
  thread for the sparse losses), records it, and warns about a later run that wants another
  size."""
  script = f"""
import json, os, sys
sys.path.insert(0, {os.path.join(common.ROOT, "experiments")!r})
import common
from w2v_jax import config as config_lib
common.RESULTS_DIR = {str(tmp_path)!r}
summary = lambda c: {{"train_seconds": 1.0, "words_per_s": 1.0, "tokens": 10, "vocab_size": 5,
                     "final_epoch_loss": 1.0, "eval": {{"analogy": {{"total": 0.1, "semantic": 0.1,
                     "syntactic": 0.1}}, "ws353": {{"spearman": 0.1}}, "simlex": {{"spearman": 0.1}}}}}}
def trainer(config):
  import jax.numpy as jnp
  (jnp.ones(4) + 1).block_until_ready()  # the CPU client starts inside the first run
  return summary(config)
common.resolve(config_lib.Config(corpus="default"))  # counts the devices: JAX starts here
for loss, cpu_threads in (("ns", 0), ("ns", 2)):
  config = config_lib.Config(corpus="default", workdir={str(tmp_path / "w")!r}, loss=loss,
                             cpu_threads=cpu_threads)
  print(json.dumps(common.run("t", config, {{"c": cpu_threads}}, trainer=trainer)["xla_threads"]))
"""
  out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       check=True, cwd=common.ROOT).stdout
  threads = [line for line in out.splitlines() if line.isdigit()]
  assert threads == ["1", "1"], out  # both trained on the first run's pools
  assert out.count("wants 2 XLA CPU threads, but this process's pools have 1") == 1, out


def test_large_batch_labels_name_krylov_directions_other_than_the_first_three(monkeypatch):
  monkeypatch.syspath_prepend(os.path.join(common.ROOT, "experiments"))
  large_batch = importlib.import_module("large_batch")
  record = lambda rule, **identity: {"batch": 65536, "rule": rule, "model": "sg-hs",
                                     "identity": json.dumps(dict(alpha=0.07, **identity))}
  assert large_batch._label(record("krylov")) == "65,536, krylov, alpha 0.07"  # keyed before
  assert large_batch._label(record("krylov", krylov_dims=1)) == (
      "65,536, krylov in 1 direction, alpha 0.07")
  assert large_batch._label(record("newton")) == "65,536, newton, alpha 0.07"
  assert large_batch._label(record("newton", skipgram_layout="centres")) == (
      "65,536 rows by centre, newton, alpha 0.07")
