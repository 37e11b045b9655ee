"""On 8 simulated CPU devices: the sharded step equals the one-device step; runs train and resume.

XLA_FLAGS=--xla_force_host_platform_device_count=8 must be set before jax is
imported, so parallel_test.py runs this file in a process of its own; in the
main test process (one device) every test here is skipped.
"""

import dataclasses
import os

import jax
import numpy as np
import pytest

from tests.train_test import _config
from tests.train_test import _first_chunk
from tests.train_test import _setup
from tests.train_test import _write_corpus
from w2v_jax import config as config_lib
from w2v_jax import loop
from w2v_jax import model as model_lib
from w2v_jax import parallel
from w2v_jax import progress as progress_lib
from w2v_jax import resolve as resolve_lib
from w2v_jax.errors import UserError

pytestmark = pytest.mark.skipif(
    jax.device_count() < 8, reason="needs 8 devices: parallel_test.py runs it with 8 simulated")

LAYOUTS = config_lib.choices("table_sharding")


def _sharded_chunk(config, data, tables, state, chunk):
  """One compiled chunk on the 8-device mesh, from the same (host) state and batches."""
  mesh = parallel.make_mesh(config)
  vocab_size = len(data.corpus.vocab)
  total = config.epochs * data.corpus.stats["vocab_tokens"]  # as train_test._setup
  _, chunk_fn = model_lib.make_train_chunk(config, tables, total, config.alpha,
                                           mesh)
  host = state.replace(params=parallel.pad_rows(state.params,
                                               parallel.row_multiple(config, mesh, vocab_size)))
  sharded = parallel.place(host, parallel.state_shardings(host, mesh, config.table_sharding))
  out, (loss_T, _) = chunk_fn(sharded, parallel.place(chunk, parallel.chunk_shardings(chunk, mesh)),
                              jax.random.PRNGKey(3))
  spec = parallel.state_shardings(out, mesh, config.table_sharding).params
  for name, table in out.params.items():  # the layout survived the loop
    assert table.sharding.is_equivalent_to(spec[name], table.ndim), name
  return parallel.strip_rows(parallel.to_host(out.params), vocab_size), np.asarray(loss_T)


@pytest.mark.parametrize("model,loss", [("skipgram", "ns"), ("cbow", "hs"), ("cbow", "softmax")])
def test_sharded_chunk_equals_one_device(tmp_path, model, loss):
  # 12 words: row sharding pads the tables to 16 rows (hs nodes: 11 to 16); the full softmax
  # refuses padding, so it runs on the 8 most frequent words.
  base = _config(tmp_path, model, loss, alpha=0.5, share_negatives=4,
                 max_vocab=8 if loss == "softmax" else 0)
  data, tables, _, chunk_fn, state = _setup(base)
  chunk = _first_chunk(base, data)
  before = jax.device_get(state)
  got = {layout: _sharded_chunk(dataclasses.replace(base, num_devices=8, table_sharding=layout),
                                data, tables, before, chunk) for layout in LAYOUTS}
  want, (want_loss_T, _) = chunk_fn(state, chunk, jax.random.PRNGKey(3))  # donates `state`
  want = jax.device_get(want).params
  for layout, (tables_got, loss_T) in got.items():
    for name, table in want.items():
      assert tables_got[name].shape == table.shape
      assert np.abs(table - before.params[name]).max() > 0.1, name  # the steps moved it
      # The same updates, summed in another order.
      np.testing.assert_allclose(tables_got[name], table, rtol=1e-5, atol=1e-5,
                                 err_msg=f"{layout} {name}")
    np.testing.assert_allclose(loss_T, np.asarray(want_loss_T), rtol=1e-5, err_msg=layout)


def test_row_sharded_softmax_refuses_a_vocabulary_it_would_pad(tmp_path):
  config = _config(tmp_path, "skipgram", "softmax", num_devices=8, table_sharding="rows")
  mesh = parallel.make_mesh(config)
  with pytest.raises(UserError, match="needs a vocabulary divisible by the 8 devices"):
    parallel.row_multiple(config, mesh, vocab_size=12)
  assert parallel.row_multiple(config, mesh, vocab_size=16) == 8
  assert parallel.row_multiple(dataclasses.replace(config, loss="ns"), mesh, 12) == 8


def test_more_devices_than_there_are_is_refused(tmp_path):
  config = _config(tmp_path, num_devices=16, batch_size=32)
  with pytest.raises(UserError, match="--num_devices=16, but JAX sees 8 cpu device"):
    parallel.make_mesh(config)
  with pytest.raises(UserError, match=r"batch size \(36\) must be a multiple of the 8 devices"):
    resolve_lib.resolve(config_lib.Config(num_devices=-1, batch_size=36))


class _Stop(Exception):
  pass


def test_eight_device_run_matches_one_device_and_resumes_exactly(tmp_path, monkeypatch,
                                                                 model="skipgram", loss="ns",
                                                                 layout="rows"):
  # Few compiled calls: a simulated device costs a thread switch per collective.
  kw = dict(epochs=2, steps_per_call=16, evaluate=False,
            corpus=_write_corpus(tmp_path / "small.txt", n_lines=80))
  one = _config(tmp_path, model, loss, workdir=str(tmp_path / "one"), **kw)
  eight = _config(tmp_path, model, loss, workdir=str(tmp_path / "eight"), num_devices=-1,
                  table_sharding=layout, **kw)
  loop.train(one)
  summary = loop.train(eight)
  tables = lambda c: np.load(os.path.join(c.workdir, "params.npz"))
  v = summary["vocab_size"]
  for name in ("emb_in", "emb_out" if loss == "ns" else "nodes"):
    assert tables(eight)[name].shape[0] == (v - 1 if name == "nodes" else v)  # padding gone
    # About 80 steps apart in summation order only: close, not equal.
    np.testing.assert_allclose(tables(eight)[name], tables(one)[name], atol=2e-3, err_msg=name)
  # Stopped after the first epoch's checkpoint, resumed: the uninterrupted run, bit for bit.
  resumed = dataclasses.replace(eight, workdir=str(tmp_path / "resumed"))
  os.makedirs(resumed.workdir)
  original = progress_lib.Progress.new_epoch

  def stop_in_second_epoch(progress, epoch):
    if epoch == 1:
      raise _Stop
    original(progress, epoch)
  monkeypatch.setattr(progress_lib.Progress, "new_epoch", stop_in_second_epoch)
  with pytest.raises(_Stop):
    loop.train(resumed)
  monkeypatch.setattr(progress_lib.Progress, "new_epoch", original)
  loop.train(dataclasses.replace(resumed, resume=True))
  for name in tables(eight).files:
    np.testing.assert_array_equal(tables(resumed)[name], tables(eight)[name], err_msg=name)
