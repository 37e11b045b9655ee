"""--sweep: S variants in one compiled program are the S separate runs, bit for bit."""

import json
import os

import numpy as np
import pytest

from tests import train_test
from w2v_jax import config as config_lib
from w2v_jax import loop
from w2v_jax import resolve as resolve_lib
from w2v_jax.errors import UserError


def _tables(workdir):
  with np.load(os.path.join(workdir, "params.npz")) as z:
    return {name: z[name] for name in z.files if name not in ("words", "counts")}


def _epoch_losses(workdir):
  with open(os.path.join(workdir, "metrics.jsonl"), encoding="utf-8") as f:
    return [r["epoch_loss"] for r in map(json.loads, f) if r["kind"] == "epoch"]


# (model, loss, sweep, extra settings): every sweepable field, the grouped and
# the plain negative-sampling forms, and the other output layers. One variant's
# scan in the sweep's program is the plain run's, so not even rounding differs.
CASES = [
    ("skipgram", "ns", "ns_exponent=0,1", {"share_negatives": 4}),
    ("skipgram", "ns", "negative=1,3", {"share_negatives": 1}),
    ("cbow", "ns", "negative=2,5", {"share_negatives": 4}),
    ("cbow", "hs", "dim=8,5", {}),
    ("skipgram", "softmax", "alpha=0.02,0.08", {}),
    ("skipgram", "nce", "alpha=0.02,0.08", {"share_negatives": 4}),
]


@pytest.mark.parametrize("model,loss,sweep,extra", CASES)
def test_sweep_equals_separate_runs(tmp_path, model, loss, sweep, extra):
  config = train_test._config(tmp_path, model, loss, epochs=2, sample=1e-2, seed=3,
                              workdir=str(tmp_path / "sweep"), sweep=sweep, **extra)
  summary = loop.train(config)
  variants = resolve_lib.sweep_variants(config)
  field, values = resolve_lib.sweep_values(config)
  assert [v["workdir"] for v in summary["variants"]] == [
      os.path.join(config.workdir, f"{field}={value}") for value in sweep.split("=")[1].split(",")]
  for variant, value in zip(variants, values):
    separate = train_test._config(tmp_path, model, loss, epochs=2, sample=1e-2, seed=3,
                                  workdir=str(tmp_path / f"separate-{value}"),
                                  **dict(extra, **{field: value}))
    loop.train(separate)
    swept, alone = _tables(variant.workdir), _tables(separate.workdir)
    assert swept.keys() == alone.keys()
    # Each variant's progress is its own: the same epoch losses as the separate run's.
    assert _epoch_losses(variant.workdir) == _epoch_losses(separate.workdir)
    for name in alone:
      np.testing.assert_array_equal(swept[name], alone[name], err_msg=f"{field}={value}: {name}")
  # The variants do differ (the test could not pass by training one model S times).
  first, last = _tables(variants[0].workdir), _tables(variants[-1].workdir)
  assert first["emb_in"].shape != last["emb_in"].shape or not np.allclose(
      first["emb_in"], last["emb_in"])


def test_sweep_writes_every_output_and_says_how_time_is_counted(tmp_path):
  config = train_test._config(tmp_path, "skipgram", "ns", sweep="alpha=0.01,0.05",
                              workdir=str(tmp_path / "sweep"))
  summary = loop.train(config)
  assert len(summary["variants"]) == 2
  for variant, alpha in zip(summary["variants"], (0.01, 0.05)):
    work = variant["workdir"]
    for name in ("vectors.bin", "vocab.txt", "params.npz", "config.json", "metrics.jsonl",
                 "eval.json", "summary.json"):
      assert os.path.exists(os.path.join(work, name)), name
    record = json.load(open(os.path.join(work, "summary.json")))
    assert record["sweep"]["variants"] == 2 and "all variants" in record["sweep"]["time"]
    assert record["train_seconds"] == summary["train_seconds"]
    run_config = json.load(open(os.path.join(work, "config.json")))["config"]
    assert run_config["alpha"] == alpha and run_config["sweep"] == ""
  assert not os.path.exists(os.path.join(config.workdir, "checkpoint.npz"))
  assert json.load(open(os.path.join(config.workdir, "summary.json")))["sweep"]["sweep"] == (
      "alpha=0.01,0.05")


def test_sweep_values_parse():
  config = config_lib.Config(sweep="ns_exponent=0, 0.25,1")
  assert resolve_lib.sweep_values(config) == ("ns_exponent", (0.0, 0.25, 1.0))
  variants = resolve_lib.sweep_variants(resolve_lib.validate(config))
  assert [v.ns_exponent for v in variants] == [0.0, 0.25, 1.0]
  assert [os.path.basename(v.workdir) for v in variants] == [
      "ns_exponent=0", "ns_exponent=0.25", "ns_exponent=1"]
  assert all(v.sweep == "" for v in variants)
  assert resolve_lib.sweep_values(config_lib.Config(sweep="dim=50,100")) == ("dim", (50, 100))
  assert resolve_lib.sweep_variants(config_lib.Config()) == []


@pytest.mark.parametrize("settings,fragment", [
    ({"sweep": "ns_exponent"}, "--sweep must look like FIELD=V1,V2"),
    ({"sweep": "ns_exponent=0,,1"}, "--sweep must look like"),
    ({"sweep": "sample=0,1e-5"}, "--sweep cannot vary sample: it would change the data stream"),
    ({"sweep": "window=2,5"}, "--sweep cannot vary window"),
    ({"sweep": "colour=1,2"}, "--sweep cannot vary colour: it is not a setting"),
    ({"sweep": "negative=2,x"}, "negative takes int values"),
    ({"sweep": "alpha=0.1,0.1"}, "lists a value twice"),
    ({"sweep": "negative=0,5"}, "--loss=ns needs --negative >= 1"),
    ({"sweep": "alpha=-1,0.1"}, "--alpha must be > 0"),
    ({"sweep": "ns_exponent=0,1", "loss": "hs"}, "--sweep over ns_exponent needs --loss=ns"),
    ({"sweep": "alpha=0.01,0.1", "resume": True}, "--resume cannot continue a --sweep run"),
])
def test_what_a_sweep_cannot_do_is_refused(settings, fragment):
  with pytest.raises(UserError, match=None) as error:
    resolve_lib.resolve(config_lib.Config(**settings))
  assert fragment in str(error.value)
  assert "\n" not in str(error.value)
