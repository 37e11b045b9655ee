"""The memory estimate: exact table sizes, refusals that name the flags to change."""

import tracemalloc

import numpy as np
import pytest

from w2v_jax import batches as batches_lib
from w2v_jax import config as config_lib
from w2v_jax import memory
from w2v_jax import resolve as resolve_lib
from w2v_jax.errors import UserError


def _resolved(**kw):
  return resolve_lib.resolve(config_lib.Config(**kw))

GIB = 1 << 30


@pytest.mark.parametrize("loss,out_rows", [("ns", 1000), ("softmax", 1000), ("hs", 999),
                                          ("nce", 1000)])
def test_tables_are_counted_exactly(loss, out_rows):
  est = memory.estimate(_resolved(loss=loss, dim=50), vocab_size=1000, tokens=10**6)
  assert est["tables"] == 4 * 50 * (1000 + out_rows)
  assert est["corpus_ids"] == 4 * 10**6
  assert est["optimizer"] == 0  # plain SGD keeps nothing per row


def test_softmax_step_grows_with_vocabulary_and_dimension():
  config = _resolved(loss="softmax", batch_size=256, dim=100)
  est = memory.estimate(config, vocab_size=10**6, tokens=10)
  # The dense [V, D] gradient, and logits, probabilities, gradient of one [B, 4096] block.
  assert est["softmax"] == 4 * 10**6 * 100 + 3 * 4 * 256 * 4096
  assert memory.estimate(_resolved(loss="ns"), 10**6, 10)["softmax"] == 0


def test_refusal_names_the_largest_part_and_its_flags():
  est = memory.estimate(_resolved(dim=300), vocab_size=10**7, tokens=10**6)  # 24 GB
  with pytest.raises(UserError, match=r"host memory .* 8.0 GiB is free; the largest part is "
                     r"tables: raise --min_count, set --max_vocab or lower --dim"):
    memory.check(est, device_is_host=True, host_free=8 * GIB, device_free=None)
  memory.check(est, device_is_host=True, host_free=64 * GIB, device_free=None)  # fits
  memory.check(est, device_is_host=True, host_free=None, device_free=None)  # unknown: no check


def test_device_memory_is_checked_apart_from_the_host():
  est = memory.estimate(_resolved(loss="softmax"), vocab_size=10**6, tokens=10**6)
  host, device = memory.needs(est, device_is_host=False)
  assert device > est["tables"] + est["softmax"]  # the step's blocks live on the device
  assert host < device
  with pytest.raises(UserError, match="of device memory .*the largest part is tables"):
    memory.check(est, device_is_host=False, host_free=64 * GIB, device_free=GIB)


def test_available_host_memory_is_found():
  free = memory.available_host()
  assert free is not None and free > 0


def test_batch_maker_counts_one_chunk_of_examples():
  """Skip-gram, window 5, shuffled: a piece's 10 slots x 6 B per token, and the
  chunk's 6 pairs per token x 16 B (two int32 ids, one more while the pieces are
  joined, an int32 position)."""
  est = memory.estimate(_resolved(), vocab_size=1000, tokens=10**8)
  assert est["batch_maker"] == (1 << 17) * 10 * 6 + (1 << 20) * 6 * 16
  small = memory.estimate(_resolved(shuffle=False), vocab_size=1000, tokens=1000)
  assert small["batch_maker"] == 1000 * (10 * 6 + 6 * 12)  # a corpus smaller than a chunk
  cbow = memory.estimate(_resolved(model="cbow"), vocab_size=1000, tokens=1000)
  assert cbow["batch_maker"] == 1000 * (10 * 6 + 54 + 40 + 4)


@pytest.mark.parametrize("model,loss,buckets", [("skipgram", "ns", 1), ("cbow", "ns", 1),
                                                ("skipgram", "hs", 2)])
def test_batch_maker_estimate_covers_its_measured_peak(model, loss, buckets):
  """One chunk's epoch of batches, its NumPy allocations traced: the estimate is no
  lower than their peak, and not far above it (a batch maker that holds copies of
  its examples again shows up here)."""
  tokens, vocab = 1 << 18, 5000
  rng = np.random.default_rng(0)
  ids = rng.zipf(1.3, size=tokens).clip(max=vocab).astype(np.int32) - 1
  offsets = np.arange(0, tokens + 1, 20)
  config = _resolved(model=model, loss=loss, path_buckets=buckets)
  bucket_V = (np.arange(vocab) % 2) if buckets > 1 else None
  tracemalloc.start()
  try:
    start = tracemalloc.get_traced_memory()[0]
    for _ in batches_lib.iterate_epoch(
        ids, offsets, np.ones(vocab), model=model, window=config.window,
        shrink_window=True, batch_size=resolve_lib.resolve(config).batch_size, seed=0, epoch=0,
        shuffle=True, layout=resolve_lib.resolve(config).skipgram_layout, bucket_V=bucket_V):
      pass
    peak = tracemalloc.get_traced_memory()[1] - start
  finally:
    tracemalloc.stop()
  est = memory.estimate(config, vocab_size=vocab, tokens=tokens)["batch_maker"]
  assert peak <= est <= 2 * peak, (peak, est)
