"""The training step and loop: sparse updates, learning, compilation, determinism, outputs."""

import dataclasses
import itertools
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from w2v_jax import batches as batches_lib
from w2v_jax import config as config_lib
from w2v_jax import huffman
from w2v_jax import loop
from w2v_jax import model as model_lib
from w2v_jax import pipeline
from w2v_jax import resolve as resolve_lib
from w2v_jax import trainer as trainer_lib
from w2v_jax.errors import UserError

COMBOS = list(itertools.product(config_lib.MODELS, config_lib.LOSSES))
WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()


def _write_corpus(path, n_lines=300, seed=0):
  # Two "topics" so that there is something to learn.
  rng = np.random.default_rng(seed)
  with open(path, "w") as f:
    for _ in range(n_lines):
      topic = WORDS[:6] if rng.random() < 0.5 else WORDS[6:]
      f.write(" ".join(rng.choice(topic, size=rng.integers(3, 12))) + "\n")
  return str(path)


def _config(tmp_path, model="skipgram", loss="ns", **kw):
  defaults = dict(model=model, loss=loss, corpus=_write_corpus(tmp_path / "c.txt"),
                  workdir=str(tmp_path / f"work-{model}-{loss}"), cache_dir=str(tmp_path / "cache"),
                  dim=8, window=2, epochs=1, batch_size=32, steps_per_call=4, min_count=1,
                  sample=0.0, negative=3)
  defaults.update(kw)
  config = resolve_lib.resolve(config_lib.Config(**defaults))
  os.makedirs(config.workdir, exist_ok=True)
  return config


def _setup(config):
  """The trainer the loop builds (trainer.build_trainer), its state with non-zero output
  tables (so that every gradient is non-zero after one step), and for the single-step
  tests the loss's lookup tables and optimizer."""
  data = pipeline.prepare_data(config)
  trainer = trainer_lib.build_trainer(config, data)
  state = trainer.init_state()
  state = state.replace(params={
      k: (p if k == "emb_in" else 0.1 * jax.random.normal(jax.random.PRNGKey(1), p.shape))
      for k, p in state.params.items()})
  state = trainer.place(state)  # as the loop does: one compiled program from the first call
  tables = model_lib.device_tables(config.loss, data.noise_V, data.tree)
  return data, tables, model_lib.make_optimizer(config.alpha), trainer.train_chunk, state


def _first_chunk(config, data):
  return dict(next(pipeline.grouped_batches(config, data, 0)).arrays)


@pytest.mark.parametrize("model,loss", COMBOS)
def test_rows_outside_the_batch_are_bit_for_bit_unchanged(tmp_path, model, loss):
  config = _config(tmp_path, model, loss, alpha=0.5)
  data, tables, tx, _, state = _setup(config)
  batch = {k: jnp.asarray(v[0]) for k, v in _first_chunk(config, data).items()}
  key = jax.random.PRNGKey(7)
  kwargs = dict(model=model, loss=loss, negative=config.negative, cbow_mean=True,
                cbow_update="word2vec", tx=tx, total_words=10_000, alpha=0.5, min_ratio=1e-4)
  before = jax.device_get(state.params)
  new_state, _ = model_lib.train_step(state, batch, key, tables, **kwargs)
  after = jax.device_get(new_state.params)
  ids, _, _ = model_lib._gather(state.params, tables, batch, key, model=model, loss=loss,
                                negative=config.negative)
  for name in before:
    if name not in ids:  # the dense softmax output table may change everywhere
      assert name == "emb_out" and loss == "softmax"
      continue
    touched = np.zeros(len(before[name]), bool)
    touched[np.asarray(ids[name]).ravel()] = True
    np.testing.assert_array_equal(after[name][~touched], before[name][~touched])
    assert np.any(after[name][touched] != before[name][touched]), name
  # The same step jitted gives the same tables.
  jitted, _ = jax.jit(lambda s, b, k: model_lib.train_step(s, b, k, tables, **kwargs))(
      state, batch, key)
  for name in after:
    np.testing.assert_allclose(jax.device_get(jitted.params[name]), after[name],
                               rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("model,loss", COMBOS)
def test_loss_goes_down_over_20_steps(tmp_path, model, loss):
  config = _config(tmp_path, model, loss, steps_per_call=20)  # word2vec.c alphas
  data, _, _, chunk_fn, state = _setup(config)
  chunk = _first_chunk(config, data)
  assert chunk["mask"].all(), "the tiny corpus should fill 20 batches"
  # Train on the same 20 batches twice; the second pass must see a lower loss.
  state, (loss_first, _) = chunk_fn(state, chunk, jax.random.PRNGKey(0))
  for _ in range(3):
    state, (loss_later, _) = chunk_fn(state, chunk, jax.random.PRNGKey(0))
  assert float(jnp.sum(loss_later)) < 0.9 * float(jnp.sum(loss_first))
  assert np.all(np.isfinite(np.asarray(loss_later)))


def test_second_chunk_does_not_recompile(tmp_path):
  config = _config(tmp_path, "cbow", "hs")
  data, _, _, chunk_fn, state = _setup(config)
  chunks = pipeline.grouped_batches(config, data, 0)
  for i in range(3):
    state, _ = chunk_fn(state, next(chunks).arrays, jax.random.PRNGKey(0))
  assert chunk_fn.func._cache_size() == 1  # chunk_fn: the jitted function, tables bound


def test_same_seed_gives_identical_vectors(tmp_path):
  def run(seed, workdir):
    config = _config(tmp_path, "skipgram", "ns", seed=seed, sample=1e-2, epochs=2,
                     workdir=str(tmp_path / workdir))
    loop.train(config)
    return np.load(os.path.join(config.workdir, "params.npz"))["emb_in"]
  a, b, c = run(3, "a"), run(3, "b"), run(4, "c")
  np.testing.assert_array_equal(a, b)
  assert not np.array_equal(a, c)


def test_learning_rate_schedule_is_word2vec_linear_decay():
  lr = model_lib.learning_rate(jnp.array([0.0, 500.0, 1000.0, 5000.0]), 999, 0.025, 1e-4)
  np.testing.assert_allclose(np.asarray(lr), [0.025, 0.0125, 0.025 * 1e-4, 0.025 * 1e-4],
                             rtol=1e-5)


def test_warmup_rises_linearly_then_joins_the_decay():
  words = jnp.array([0.0, 50.0, 100.0, 500.0, 1000.0])
  lr = model_lib.learning_rate(words, 999, 0.025, 1e-4, warmup=0.2)  # ramp over 200 words
  np.testing.assert_allclose(np.asarray(lr), [0.025 * 1e-4, 0.025 * 0.25, 0.025 * 0.5,
                                              0.0125, 0.025 * 1e-4], rtol=1e-5)


@pytest.mark.parametrize("model,loss", COMBOS)
def test_train_writes_all_outputs(tmp_path, model, loss):
  from gensim.models import KeyedVectors  # pylint: disable=import-outside-toplevel
  config = _config(tmp_path, model, loss, epochs=2)
  summary = loop.train(config)
  work = config.workdir
  kv = KeyedVectors.load_word2vec_format(os.path.join(work, "vectors.bin"), binary=True)
  params = np.load(os.path.join(work, "params.npz"))
  assert list(kv.index_to_key) == list(params["words"])
  np.testing.assert_array_equal(kv.vectors, params["emb_in"])
  expected_tables = {"ns": "emb_out", "softmax": "emb_out", "hs": "nodes", "nce": "emb_out"}[loss]
  assert expected_tables in params.files
  assert open(os.path.join(work, "vocab.txt")).readline().split()[0] == params["words"][0]
  record = json.load(open(os.path.join(work, "config.json")))
  assert record["config"]["model"] == model and record["versions"]["jax"] == jax.__version__
  metrics = [json.loads(l) for l in open(os.path.join(work, "metrics.jsonl"))]
  epochs = [m for m in metrics if m["kind"] == "epoch"]
  assert [m["epoch"] for m in epochs] == [1, 2]
  assert epochs[-1]["progress"] == pytest.approx(1.0)
  assert np.isfinite(summary["final_epoch_loss"]) and summary["examples"] > 0
  for m in metrics:
    assert {"words_per_s", "kept_words_per_s", "lr", "loss", "epoch_loss", "eta_s"} <= set(m)


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_shared_negatives_touch_fewer_rows_and_train(tmp_path, model):
  config = _config(tmp_path, model, "ns", share_negatives=4, steps_per_call=20)
  data, tables, tx, chunk_fn, state = _setup(config)
  batch = {k: jnp.asarray(v[0]) for k, v in _first_chunk(config, data).items()}
  key = jax.random.PRNGKey(7)
  ids, _, extra = model_lib._gather(state.params, tables, batch, key, model=model, loss="ns",
                                    negative=config.negative, share_negatives=4)
  b = config.batch_size
  assert ids["emb_out"].shape == (b + b * config.negative // 4,)
  negatives_BxK = np.asarray(ids["emb_out"][b:]).reshape(b // 4, config.negative)
  # Every example of a group is masked against the same negatives.
  np.testing.assert_array_equal(np.asarray(extra["negative_mask"]),
                                np.repeat(negatives_BxK, 4, axis=0)
                                != np.asarray(batch["centre"])[:, None])
  kwargs = dict(model=model, loss="ns", negative=config.negative, cbow_mean=True,
                cbow_update="word2vec", tx=tx, total_words=10_000, alpha=0.5, min_ratio=1e-4,
                share_negatives=4)
  before = jax.device_get(state.params["emb_out"])
  after = jax.device_get(model_lib.train_step(state, batch, key, tables, **kwargs)[0].params)
  touched = np.zeros(len(before), bool)
  touched[np.asarray(ids["emb_out"])] = True
  np.testing.assert_array_equal(after["emb_out"][~touched], before[~touched])
  assert np.any(after["emb_out"][touched] != before[touched])
  # The compiled chunk learns with shared negatives too.
  chunk = _first_chunk(config, data)
  state, (loss_first, _) = chunk_fn(state, chunk, jax.random.PRNGKey(0))
  for _ in range(3):
    state, (loss_later, _) = chunk_fn(state, chunk, jax.random.PRNGKey(0))
  assert float(jnp.sum(loss_later)) < 0.9 * float(jnp.sum(loss_first))


def test_share_negatives_must_divide_the_batch(tmp_path):
  with pytest.raises(UserError, match="must divide the batch size"):
    resolve_lib.resolve(config_lib.Config(loss="ns", batch_size=30, share_negatives=4))
  with pytest.raises(UserError, match=">= 1"):
    resolve_lib.resolve(config_lib.Config(loss="ns", share_negatives=-1))
  # The default: 32, or the largest power of two that divides the batch.
  assert resolve_lib.resolve(config_lib.Config(loss="ns")).share_negatives == 32
  assert resolve_lib.resolve(config_lib.Config(loss="ns", batch_size=100)).share_negatives == 4
  assert resolve_lib.resolve(config_lib.Config(loss="ns", share_negatives=1)).share_negatives == 1


@pytest.mark.parametrize("share", [1, 4])
def test_nce_step_keeps_negatives_equal_to_the_target_and_shifts_by_log_k_pn(tmp_path, share):
  config = _config(tmp_path, "skipgram", "nce", share_negatives=share)
  data, tables, _, _, state = _setup(config)
  batch = {k: jnp.asarray(v[0]) for k, v in _first_chunk(config, data).items()}
  b, k = config.batch_size, config.negative
  # Plant each example's own target among its negatives (the first of each group).
  negatives_QxK = np.array(jax.random.randint(jax.random.PRNGKey(3), (b // share, k), 0,
                                              len(data.noise_V)))
  negatives_QxK[:, 0] = np.asarray(batch["centre"])[::share]
  batch["negatives"] = jnp.asarray(negatives_QxK)
  ids, rows, extra = model_lib._gather(state.params, tables, batch, None, model="skipgram",
                                       loss="nce", negative=k, share_negatives=share)
  assert "negative_mask" not in extra
  got_B = np.asarray(model_lib._per_example_loss(rows, extra, model="skipgram", loss="nce",
                                                 cbow_mean=True, skip_beyond=0.0))
  params = jax.device_get(state.params)
  h_BxD = params["emb_in"][np.asarray(batch["context"])]
  target_B, negatives_BxK = np.asarray(batch["centre"]), np.repeat(negatives_QxK, share, axis=0)
  log_kpn_V = np.log(k * data.noise_V)
  x_o = np.einsum("bd,bd->b", params["emb_out"][target_B], h_BxD) - log_kpn_V[target_B]
  x_BxK = (np.einsum("bkd,bd->bk", params["emb_out"][negatives_BxK], h_BxD)
           - log_kpn_V[negatives_BxK])
  want_B = np.logaddexp(0.0, -x_o) + np.logaddexp(0.0, x_BxK).sum(axis=1)
  np.testing.assert_allclose(got_B, want_B, rtol=2e-5)
  # Had the planted negatives been masked out (as ns does), the loss would be lower.
  assert np.all(got_B[::share] > want_B[::share] - np.logaddexp(0.0, x_BxK[::share, 0]) + 1e-3)


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_nce_trains_end_to_end_and_exports_in_plus_out(tmp_path, model):
  from gensim.models import KeyedVectors  # pylint: disable=import-outside-toplevel
  config = _config(tmp_path, model, "nce", epochs=3, export="in+out", share_negatives=0)
  summary = loop.train(config)
  params = np.load(os.path.join(config.workdir, "params.npz"))
  kv = KeyedVectors.load_word2vec_format(os.path.join(config.workdir, "vectors.bin"), binary=True)
  np.testing.assert_allclose(kv.vectors, params["emb_in"] + params["emb_out"], rtol=1e-6)
  assert np.abs(params["emb_out"]).max() > 0
  epochs = [json.loads(l) for l in open(os.path.join(config.workdir, "metrics.jsonl"))]
  losses_by_epoch = [m["epoch_loss"] for m in epochs if m["kind"] == "epoch"]
  assert len(losses_by_epoch) == 3 and losses_by_epoch[-1] < losses_by_epoch[0]
  assert np.isfinite(summary["final_epoch_loss"])
  # The two topics of the tiny corpus are told apart: a word is closer to its own topic.
  vectors = kv.vectors / np.linalg.norm(kv.vectors, axis=1, keepdims=True)
  index = {w: i for i, w in enumerate(kv.index_to_key)}
  first = [index[w] for w in WORDS[:6]]
  second = [index[w] for w in WORDS[6:]]
  within = (vectors[first] @ vectors[first].T).mean() + (vectors[second] @ vectors[second].T).mean()
  across = 2 * (vectors[first] @ vectors[second].T).mean()
  assert within > across


def test_init_tables_made_in_blocks_are_uniform_and_deterministic():
  key = jax.random.PRNGKey(3)
  # A table that fits one block is one uniform draw, as word2vec.c's range.
  small = model_lib.uniform_rows(key, 50, 4, -0.125, 0.125, 64)
  np.testing.assert_array_equal(small, jax.random.uniform(key, (50, 4), jnp.float32,
                                                          -0.125, 0.125))
  # 5 blocks of 64 rows over 300 rows, the last one overlapping the fourth.
  big = np.asarray(model_lib.uniform_rows(key, 300, 4, -0.125, 0.125, 64))
  np.testing.assert_array_equal(big, model_lib.uniform_rows(key, 300, 4, -0.125, 0.125, 64))
  assert big.min() >= -0.125 and big.max() < 0.125
  assert np.all(np.any(big != 0, axis=1))  # every row was written
  assert len(np.unique(big)) == big.size   # no block repeats another
  np.testing.assert_array_equal(big[:64], jax.random.uniform(
      jax.random.fold_in(key, 0), (64, 4), jnp.float32, -0.125, 0.125))
  assert abs(big.mean()) < 0.01 and abs(big.std() - 0.25 / np.sqrt(12)) < 0.005


def test_skipgram_centres_step_equals_the_step_on_its_pairs(tmp_path):
  config = _config(tmp_path, "skipgram", "hs", alpha=0.5, skipgram_layout="centres",
                   batch_size=8, shuffle=False)
  data, tables, tx, _, state = _setup(config)
  chunk = _first_chunk(config, data)
  centres = {k: v[0] for k, v in chunk.items()}
  real = centres["context_mask"] & centres["mask"][:, None]
  assert real.sum() > centres["mask"].sum()  # centres with several contexts
  pairs = {"centre": np.repeat(centres["centre"], real.sum(axis=1)),
           "context": centres["context"][real], "mask": np.ones(int(real.sum()), bool),
           "words_done": centres["words_done"]}
  kwargs = dict(model="skipgram", loss="hs", negative=0, cbow_mean=True, cbow_update="word2vec",
                tx=tx, total_words=10_000, alpha=0.5, min_ratio=1e-4, skip_beyond=6.0)
  after = {}
  for name, batch in (("centres", centres), ("pairs", pairs)):
    batch = {k: jnp.asarray(v) for k, v in batch.items()}
    new_state, (loss, _) = model_lib.train_step(state, batch, jax.random.PRNGKey(0), tables,
                                                **kwargs)
    after[name] = (jax.device_get(new_state.params), float(loss))
  np.testing.assert_allclose(after["centres"][1], after["pairs"][1], rtol=1e-5)
  for table in ("emb_in", "nodes"):
    changed = np.abs(after["pairs"][0][table] - jax.device_get(state.params[table])).max()
    assert changed > 1e-3
    np.testing.assert_allclose(after["centres"][0][table], after["pairs"][0][table],
                               rtol=1e-5, atol=1e-6)


def _bucketed(tmp_path, monkeypatch, model="skipgram", **kw):
  """An hs config whose tiny vocabulary makes two path buckets (slot multiple 1)."""
  monkeypatch.setattr(huffman, "SLOT_MULTIPLE", 1)
  return _config(tmp_path, model, "hs", path_buckets=2, **kw)


@pytest.mark.parametrize("model", config_lib.MODELS)
def test_path_bucket_chunks_train_as_with_every_path_slot(tmp_path, monkeypatch, model):
  config = _bucketed(tmp_path, monkeypatch, model, alpha=0.5)
  data, tables, _, chunk_fn, state = _setup(config)
  assert len(data.path_bounds) == 2 and data.path_bounds[-1] == tables["points"].shape[1]
  chunks = list(pipeline.grouped_batches(config, data, 0))
  plain = dataclasses.replace(config, path_buckets=1)
  assert (sum(int(batches_lib.example_mask(c.arrays, model).sum()) for c in chunks)
          == sum(c.examples for c in pipeline.grouped_batches(plain, data, 0)))
  chunk = next(c for c in chunks if c.path_slots == data.path_bounds[0])
  slots, chunk = chunk.path_slots, chunk.arrays
  after = {}
  for path_slots in (slots, None):  # the bucket's slots, and the longest code's
    fresh = jax.tree_util.tree_map(jnp.copy, state)  # the state is donated
    new_state, (loss_T, _) = chunk_fn(fresh, chunk, jax.random.PRNGKey(0), path_slots)
    after[path_slots] = (jax.device_get(new_state.params), np.asarray(loss_T))
  np.testing.assert_allclose(after[slots][1], after[None][1], rtol=1e-6)
  for name in ("emb_in", "nodes"):
    assert np.abs(after[None][0][name] - jax.device_get(state.params[name])).max() > 1e-3
    np.testing.assert_allclose(after[slots][0][name], after[None][0][name], rtol=1e-6, atol=1e-7)


def test_path_buckets_are_refused_where_they_cannot_apply(tmp_path):
  with pytest.raises(UserError, match="--path_buckets applies to --loss=hs only"):
    _config(tmp_path, loss="ns", path_buckets=2)
  with pytest.raises(UserError, match="--path_buckets must be >= 1"):
    _config(tmp_path, loss="hs", path_buckets=-1)
  with pytest.raises(UserError, match="needs one process"):
    resolve_lib.resolve(config_lib.Config(loss="hs", path_buckets=2, num_processes=2,
                      coordinator_address="localhost:1234", num_devices=-1))
  assert resolve_lib.path_buckets(config_lib.Config(loss="hs")) == 2
  assert resolve_lib.path_buckets(config_lib.Config(loss="ns")) == 1


def test_row_update_auto_is_sum_up_to_its_bar_and_a_curvature_rule_above():
  rule = lambda **kw: resolve_lib.resolve(config_lib.Config(**kw)).row_update
  assert rule(loss="ns") == rule(loss="hs") == rule(loss="hs", model="cbow") == "sum"
  assert rule(loss="ns", batch_size=1024) == "sum"
  assert rule(loss="ns", batch_size=2048) == "krylov"
  assert rule(loss="hs", model="cbow", batch_size=256) == "sum"
  assert rule(loss="hs", model="cbow", batch_size=512) == "krylov"
  assert rule(loss="hs", batch_size=512) == rule(loss="hs", batch_size=65536) == "newton"
  assert rule(loss="ns", batch_size=65536, row_update="sum") == "sum"  # asked for: kept
  resolved = resolve_lib.resolve(config_lib.Config(batch_size=65536))
  assert resolve_lib.resolve(resolved) == resolved


def test_skipgram_hs_goes_by_pair_where_the_sum_rule_stops_holding():
  layout = lambda **kw: resolve_lib.resolve(config_lib.Config(**kw)).skipgram_layout
  assert layout(loss="hs") == layout(loss="hs", batch_size=256) == "centres"
  assert layout(loss="hs", batch_size=257) == layout(loss="hs", batch_size=65536) == "pairs"
  assert layout(loss="hs", batch_size=65536, skipgram_layout="centres") == "centres"  # asked
  assert layout(loss="ns") == layout(loss="ns", batch_size=16) == "pairs"
  assert layout(loss="hs", model="cbow", batch_size=65536) == "centres"  # as recorded before
  assert resolve_lib.resolve(config_lib.Config(loss="hs")).batch_size == 24  # rows by centre


def test_krylov_directions_follow_the_loss_where_krylov_runs():
  dims = lambda **kw: resolve_lib.resolve(config_lib.Config(**kw)).krylov_dims
  assert dims(loss="hs", model="cbow", batch_size=65536) == 1   # auto's rule there
  assert dims(loss="hs", row_update="krylov") == 1
  assert dims(loss="ns", batch_size=65536) == 3
  assert dims(loss="hs", row_update="krylov", krylov_dims=3) == 3  # asked for: kept
  # Where krylov does not run, every earlier run's 3 (the experiments' records' key).
  assert dims(loss="hs") == dims(loss="hs", batch_size=65536) == 3


def test_alpha_follows_the_batch_where_it_was_measured_and_never_overrides_a_flag():
  alpha = lambda **kw: resolve_lib.resolve(config_lib.Config(**kw)).alpha
  assert alpha() == alpha(batch_size=1024) == 0.025  # word2vec.c's up to the sum rule's bar
  assert alpha(model="cbow") == alpha(model="cbow", batch_size=1024) == 0.05
  assert alpha(batch_size=2048) == alpha(batch_size=65536) == 0.04
  assert alpha(model="cbow", batch_size=65536) == 0.07
  assert alpha(batch_size=65536, alpha=0.025) == 0.025  # asked for: kept
  assert alpha(model="cbow", batch_size=65536, row_update="newton") == 0.05  # measured with krylov
  assert alpha(loss="nce", batch_size=65536) == 0.025  # not measured there: word2vec.c's
  assert alpha(loss="hs", batch_size=65536) == 0.04  # skip-gram-hs's newton, by pair
  assert alpha(loss="hs", batch_size=1024) == 0.025  # newton below where 0.04 was measured
  assert alpha(loss="hs", model="cbow", batch_size=65536) == 0.085
  assert alpha(loss="hs", model="cbow", batch_size=65536, row_update="newton") == 0.05


def test_default_steps_per_call_makes_calls_of_about_65536_rows(tmp_path):
  steps = lambda **kw: resolve_lib.steps_per_call(config_lib.Config(**kw))
  assert steps(loss="ns") == 128                      # batch 512
  assert steps(loss="hs") == 2048                     # skip-gram by centre, 24 rows
  assert steps(loss="hs", model="cbow") == 2048       # batch 32
  assert steps(loss="ns", batch_size=1 << 20) == 32   # at least 32
  assert steps(loss="softmax") == 32
  assert steps(loss="ns", steps_per_call=7) == 7
  with pytest.raises(UserError, match="--steps_per_call must be >= 1"):
    _config(tmp_path, steps_per_call=-1)


@pytest.mark.parametrize("seed", [0, 7, 2**31 + 5, 2**63 - 1])
def test_split_key_is_jax_random_split_for_every_allowed_seed(seed):
  expected = jax.random.split(jax.random.PRNGKey(seed))
  np.testing.assert_array_equal(trainer_lib.split_key(seed), expected)


def test_quality_note_names_batches_past_those_measured_to_hold_the_bar():
  note = resolve_lib.quality_note
  assert note("skipgram", "ns", 512) == note("skipgram", "ns", 262144) == ""
  assert note("cbow", "ns", 65536) == "" and "65536" in note("cbow", "ns", 262144)
  assert note("skipgram", "hs", 24) == note("cbow", "hs", 256) == ""
  assert "65536" in note("cbow", "hs", 65536)  # held on offline-prose, not on the second corpus
  assert note("skipgram", "hs", 65536) == ""  # by pair: held on both corpora
  assert note("skipgram", "hs", 65536, "centres").startswith("note: skipgram-hs at 65536 exam")
  assert note("skipgram", "hs", 256, "centres") == ""
  assert note("skipgram", "nce", 1 << 20) == ""  # not measured: no claim either way
