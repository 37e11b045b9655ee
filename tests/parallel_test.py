"""Several devices and hosts: one device is unchanged, 8 simulated devices, 2 processes, refusals.

The 8-device tests live in multidevice_test.py, run here in a process of its
own with XLA_FLAGS=--xla_force_host_platform_device_count=8 (the flag must be
set before jax is imported).
"""

import json
import os
import socket
import subprocess
import sys

import jax
import numpy as np
import pytest

from tests.train_test import _config
from tests.train_test import _first_chunk
from tests.train_test import _setup
from tests.train_test import _write_corpus
from w2v_jax import config as config_lib
from w2v_jax import loop
from w2v_jax import memory
from w2v_jax import model as model_lib
from w2v_jax import parallel
from w2v_jax import pipeline
from w2v_jax import resolve as resolve_lib
from w2v_jax.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# As checkpoint_test.FLAGS: small tables, a tiny corpus; few steps, each a dozen collectives.
FLAGS = ["--min_count=1", "--dim=8", "--window=2", "--batch_size=64", "--steps_per_call=8",
         "--epochs=2", "--sample=0", "--negative=3", "--noevaluate", "--platform=cpu"]


def test_eight_simulated_devices():
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8")
  proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                         os.path.join(ROOT, "tests", "multidevice_test.py")],
                        capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
  assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
  assert " passed" in proc.stdout and "skipped" not in proc.stdout, proc.stdout[-2000:]


@pytest.mark.parametrize("model,loss", [("skipgram", "ns"), ("cbow", "hs"),
                                        ("skipgram", "softmax")])
def test_one_device_mesh_is_bit_for_bit_no_mesh(tmp_path, model, loss):
  config = _config(tmp_path, model, loss)
  data, tables, _, chunk_fn, state = _setup(config)
  chunk = _first_chunk(config, data)
  mesh = parallel.make_mesh(config)
  assert mesh.size == 1
  _, mesh_fn = model_lib.make_train_chunk(
      config, tables, config.epochs * data.corpus.stats["vocab_tokens"],
      config.alpha, mesh)
  host = jax.device_get(state)
  placed = parallel.place(host, parallel.state_shardings(host, mesh, config.table_sharding))
  # As loop.train places them: words_done [T, 1], the step takes the largest.
  got, (got_loss_T, _) = mesh_fn(placed, parallel.place_chunk(chunk, mesh), jax.random.PRNGKey(3))
  want, (want_loss_T, _) = chunk_fn(state, chunk, jax.random.PRNGKey(3))
  for name, table in jax.device_get(want.params).items():
    np.testing.assert_array_equal(parallel.to_host(got.params[name]), table)
  np.testing.assert_array_equal(np.asarray(got_loss_T), np.asarray(want_loss_T))


def test_padding_is_zero_rows_and_strips_off():
  params = {"emb_in": np.ones((10, 3), np.float32), "nodes": np.ones((9, 3), np.float32)}
  padded = parallel.pad_rows(params, 8)
  assert padded["emb_in"].shape == (16, 3) and padded["nodes"].shape == (16, 3)
  assert not np.asarray(padded["emb_in"][10:]).any()
  stripped = parallel.strip_rows(padded, 10)
  for name, table in params.items():
    np.testing.assert_array_equal(stripped[name], table)
  assert parallel.pad_rows(params, 1)["nodes"].shape == (9, 3)


@pytest.mark.parametrize("kw,fragment", [
    (dict(table_sharding="columns"), "--table_sharding must be one of replicated, rows"),
    (dict(num_devices=0), "--num_devices must be >= 1, or -1"),
    (dict(num_devices=3, batch_size=32), r"batch size \(32\) must be a multiple of the 3 devices"),
    (dict(num_processes=2), "needs --coordinator_address"),
    (dict(num_processes=2, process_id=2, coordinator_address="h:1"), "--process_id must lie"),
    (dict(num_processes=2, coordinator_address="h:1"), "pass --num_devices=-1"),
])
def test_bad_layouts_are_refused(kw, fragment):
  with pytest.raises(UserError, match=fragment):
    resolve_lib.resolve(config_lib.Config(**kw))


def test_more_devices_than_jax_sees_says_how_to_simulate_them(tmp_path):
  with pytest.raises(UserError, match="xla_force_host_platform_device_count"):
    parallel.make_mesh(_config(tmp_path, num_devices=2 * jax.device_count()))


def test_memory_per_device_splits_rows_not_replicas():
  est = memory.estimate(resolve_lib.resolve(config_lib.Config(dim=100)), vocab_size=80_000,
                        tokens=10**6)
  _, one = memory.needs(est, device_is_host=False)
  _, replicated = memory.needs(est, False, devices=8)
  _, rows = memory.needs(est, False, devices=8, rows_sharded=True)
  assert replicated < one and replicated > est["tables"]  # whole tables on every device
  assert rows == replicated - est["tables"] + est["tables"] // 8
  host8, _ = memory.needs(est, device_is_host=True, devices=8)  # 8 simulated CPU devices
  assert host8 >= 9 * est["tables"]


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


def test_two_processes_on_localhost_train_one_model(tmp_path, monkeypatch):
  corpus = _write_corpus(tmp_path / "corpus.txt", n_lines=60)
  env = dict(os.environ, W2V_JAX_CACHE=str(tmp_path / "cache"))
  env.pop("XLA_FLAGS", None)  # one CPU device per process: the mesh spans the two
  address = f"localhost:{_free_port()}"
  procs = [subprocess.Popen(
      [sys.executable, os.path.join(ROOT, "run.py"), f"--corpus={corpus}", *FLAGS,
       f"--workdir={tmp_path / f'p{p}'}", "--num_devices=-1", "--table_sharding=rows",
       "--num_processes=2", f"--process_id={p}", f"--coordinator_address={address}"],
      env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for p in (0, 1)]
  try:
    logs = [proc.communicate(timeout=240)[0] for proc in procs]
  finally:
    for proc in procs:
      proc.kill()
  for proc, log in zip(procs, logs):
    assert proc.returncode == 0, log[-3000:]
  assert "on 2 cpu device(s), tables rows" in logs[0]
  p0, p1 = (np.load(tmp_path / f"p{p}" / "params.npz") for p in (0, 1))
  # One model: each process gathered the other's rows.
  for name in ("emb_in", "emb_out"):
    np.testing.assert_array_equal(p0[name], p1[name])
  # One process fed what both fed (experiments/devices_quality.py's stand-in for them)
  # trains their model, up to summation order, from all the examples both counted.
  monkeypatch.setattr(pipeline, "epoch_chunks", lambda config, data, epoch:
                      pipeline.joined_process_chunks(config, data, epoch, 2))
  joined = loop.train(_config(tmp_path, corpus=corpus, workdir=str(tmp_path / "joined"),
                               epochs=2, batch_size=64, steps_per_call=8, evaluate=False))
  for p in (0, 1):
    summary = json.load(open(tmp_path / f"p{p}" / "summary.json"))
    assert summary["examples"] == joined["examples"]
    assert summary["final_epoch_loss"] == pytest.approx(joined["final_epoch_loss"], rel=1e-4)
  for name in ("emb_in", "emb_out"):
    np.testing.assert_allclose(np.load(tmp_path / "joined" / "params.npz")[name], p0[name],
                               atol=1e-4, err_msg=name)


def _pairs(config, data, process, processes):
  pairs = []
  for chunk in pipeline.grouped_batches(config, data, 0, process, processes):
    chunk = chunk.arrays
    mask = chunk["mask"]
    pairs += list(zip(chunk["centre"][mask].tolist(), chunk["context"][mask].tolist()))
  return pairs, chunk


def test_processes_split_the_corpus_and_make_the_same_examples(tmp_path):
  config = _config(tmp_path, shrink_window=False, shuffle=False)  # no draws: pairs comparable
  data = pipeline.prepare_data(config)
  whole, _ = _pairs(config, data, 0, 1)
  halves = [_pairs(config, data, p, 2) for p in (0, 1)]
  # Sentence-aligned halves: together exactly the one-process examples, in corpus order.
  assert halves[0][0] + halves[1][0] == whole
  n = data.corpus.stats["vocab_tokens"]
  for pairs, last in halves:
    assert 0.4 * len(whole) < len(pairs) < 0.6 * len(whole)
    assert last["mask"].shape[1] == config.batch_size // 2  # B / P examples per process
    assert last["words_done"][-1] == n  # each estimates the global position: all done


def test_a_process_with_fewer_chunks_ends_with_masked_ones(tmp_path, monkeypatch):
  config = _config(tmp_path)
  data = pipeline.prepare_data(config)
  mine = list(pipeline.grouped_batches(config, data, 0, 1, 2))
  monkeypatch.setattr(parallel, "agree_max", lambda value: value + 2)  # another has 2 more
  got = list(pipeline.process_chunks(config, data, 0, 1, 2))
  assert len(got) == len(mine) + 2
  for chunk in got[-2:]:
    assert chunk.examples == 0 and not chunk.arrays["mask"].any()
    np.testing.assert_array_equal(chunk.arrays["words_done"], mine[-1].arrays["words_done"])
