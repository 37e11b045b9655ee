import numpy as np
import pytest

from w2v_jax import batches as batches_lib

# A corpus whose ids are the positions themselves, so a pair tells where its
# words stand: 40 sentences of lengths 1..12.
LENGTHS = np.random.default_rng(0).integers(1, 13, size=40)
OFFSETS = np.concatenate([[0], np.cumsum(LENGTHS)])
N = int(OFFSETS[-1])
IDS = np.arange(N, dtype=np.int32)
SENTENCE = np.repeat(np.arange(40), LENGTHS)


def _epoch(model="skipgram", keep=1.0, window=3, shrink=True, batch_size=16, seed=0,
           epoch=0, chunk_tokens=50, shuffle=False, layout="pairs", bucket_V=None):
  keep_V = np.full(N, keep)
  return list(batches_lib.iterate_epoch(
      IDS, OFFSETS, keep_V, model=model, window=window, shrink_window=shrink,
      batch_size=batch_size, seed=seed, epoch=epoch, chunk_tokens=chunk_tokens,
      shuffle=shuffle, layout=layout, bucket_V=bucket_V))


def _pairs(batches):
  return np.concatenate([np.stack([b["centre"][b["mask"]], b["context"][b["mask"]]], 1)
                         for b in batches])


@pytest.mark.parametrize("shrink", [True, False])
def test_skipgram_pairs_stay_in_sentence_and_window(shrink):
  pairs = _pairs(_epoch(shrink=shrink))
  centre, context = pairs[:, 0], pairs[:, 1]
  assert np.all(SENTENCE[centre] == SENTENCE[context])
  assert np.all((np.abs(centre - context) >= 1) & (np.abs(centre - context) <= 3))


def test_fixed_window_gives_every_pair_exactly_once():
  pairs = _pairs(_epoch(shrink=False, window=3))
  expected = {(i, j) for i in range(N) for j in range(N)
              if i != j and abs(i - j) <= 3 and SENTENCE[i] == SENTENCE[j]}
  assert len(pairs) == len(expected)
  assert set(map(tuple, pairs.tolist())) == expected


def test_shrinking_window_draws_half_widths_uniformly():
  # With long sentences, a centre far from the ends has 2b pairs, b ~ U{1..W}.
  lengths = np.full(200, 50)
  offsets = np.concatenate([[0], np.cumsum(lengths)])
  ids = np.arange(offsets[-1], dtype=np.int32)
  batches = list(batches_lib.iterate_epoch(
      ids, offsets, np.ones(len(ids)), model="skipgram", window=4, shrink_window=True,
      batch_size=64, seed=1, epoch=0))
  centre = np.concatenate([b["centre"][b["mask"]] for b in batches])
  per_centre = np.bincount(centre, minlength=len(ids))
  interior = (ids % 50 >= 4) & (ids % 50 < 46)
  half = per_centre[interior] // 2
  freq = np.bincount(half, minlength=5)[1:] / len(half)
  np.testing.assert_allclose(freq, 0.25, atol=0.02)
  assert np.all(per_centre[interior] % 2 == 0)


def test_subsampled_windows_never_cross_sentences():
  pairs = _pairs(_epoch(keep=0.5, window=5))
  assert len(pairs) > 0
  assert np.all(SENTENCE[pairs[:, 0]] == SENTENCE[pairs[:, 1]])
  # Windows are taken after subsampling: a pair may span up to `window` kept
  # tokens, but every token in it survived.
  assert np.all(pairs[:, 0] != pairs[:, 1])


def test_batches_have_fixed_shapes_and_padding():
  batches = _epoch(batch_size=16)
  assert all(b["centre"].shape == (16,) and b["context"].shape == (16,) for b in batches)
  assert all(b["mask"].all() for b in batches[:-1])
  last = batches[-1]
  assert not last["centre"][~last["mask"]].any()
  assert last["words_done"] == N
  done = [b["words_done"] for b in batches]
  assert done == sorted(done) and 0 < done[0] <= N


def test_same_seed_same_batches_and_seeds_differ():
  def flat(bs):
    return np.concatenate([np.concatenate([b["centre"], b["context"]]) for b in bs])
  np.testing.assert_array_equal(flat(_epoch(keep=0.7, seed=3)), flat(_epoch(keep=0.7, seed=3)))
  assert not np.array_equal(flat(_epoch(keep=0.7, seed=3)), flat(_epoch(keep=0.7, seed=4)))
  assert not np.array_equal(flat(_epoch(keep=0.7, epoch=0)), flat(_epoch(keep=0.7, epoch=1)))


def test_chunking_does_not_change_the_batches_without_randomness():
  a = _pairs(_epoch(shrink=False, chunk_tokens=7))
  b = _pairs(_epoch(shrink=False, chunk_tokens=10_000))
  np.testing.assert_array_equal(a, b)


def test_cbow_windows_match_skipgram_pairs():
  sg = _pairs(_epoch(model="skipgram", shrink=False))
  cb = _epoch(model="cbow", shrink=False, batch_size=8)
  assert all(b["context"].shape == (8, 6) and b["context_mask"].shape == (8, 6) for b in cb)
  rows = [(c, x) for b in cb for c, ctx, m, real in
          zip(b["centre"], b["context"], b["context_mask"], b["mask"]) if real
          for x in ctx[m]]
  assert sorted(map(tuple, sg.tolist())) == sorted(rows)
  # Single-word sentences have no context and give no CBOW example.
  centres = np.concatenate([b["centre"][b["mask"]] for b in cb])
  lonely = np.flatnonzero(LENGTHS == 1)
  assert not np.isin(OFFSETS[lonely], centres).any()
  assert all(b["context_mask"][b["mask"]].any(axis=1).all() for b in cb)


def test_stack_pads_with_masked_batches():
  bs = _epoch(batch_size=16)[:3]
  group = batches_lib.stack(bs, 5)
  assert group["centre"].shape == (5, 16)
  assert not group["mask"][3:].any()
  assert list(group["words_done"][3:]) == [bs[-1]["words_done"]] * 2


def test_chunks_emptied_by_subsampling_are_skipped():
  assert _epoch(keep=0.0) == []
  pairs = _pairs(_epoch(keep=0.05, chunk_tokens=3))
  assert np.all(SENTENCE[pairs[:, 0]] == SENTENCE[pairs[:, 1]])


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_shuffle_reorders_examples_but_keeps_them_and_the_schedule(model):
  plain, shuffled = _epoch(model=model, shrink=False), _epoch(model=model, shrink=False,
                                                              shuffle=True)
  rows = lambda bs: sorted(map(tuple, np.concatenate([np.column_stack(
      [b["centre"][b["mask"]], b["context"][b["mask"]].reshape(b["mask"].sum(), -1)])
      for b in bs]).tolist()))
  assert rows(plain) == rows(shuffled)  # the same examples...
  centres = lambda bs: np.concatenate([b["centre"][b["mask"]] for b in bs])
  assert not np.array_equal(centres(plain), centres(shuffled))  # ...in another order
  done = [b["words_done"] for b in shuffled]
  assert done == sorted(done) and done[-1] == N
  assert [b["words_done"] for b in plain] == done  # the schedule is unchanged


@pytest.mark.parametrize("keep", [1.0, 0.6])
def test_skipgram_by_centre_holds_the_same_pairs_in_the_same_order(keep):
  # Without shuffling both layouts read one random stream alike: the same
  # half-widths and subsampling, so the same pairs, centre by centre.
  pairs = _epoch(keep=keep, chunk_tokens=30)
  centres = _epoch(keep=keep, chunk_tokens=30, layout="centres", batch_size=5)
  assert all(b["context"].shape == (5, 3) and b["context_mask"].shape == (5, 3)
             for b in centres)  # rows of `window` slots
  # A centre with more than `window` contexts takes two rows, in a row.
  rows = [(b["centre"][i], b["context_mask"][i].sum()) for b in centres
          for i in np.flatnonzero(b["mask"])]
  assert any(n == 3 for _, n in rows) and all(n >= 1 for _, n in rows)
  expanded = np.array([(c, x) for b in centres for c, ctx, m, real in
                       zip(b["centre"], b["context"], b["context_mask"], b["mask"]) if real
                       for x in ctx[m]])
  np.testing.assert_array_equal(expanded, _pairs(pairs))
  counted = sum(int(batches_lib.example_mask(b, "skipgram").sum()) for b in centres)
  assert counted == len(expanded)  # examples are counted in pairs
  assert centres[-1]["words_done"] == pairs[-1]["words_done"] == N
  # CBOW rows look the same, but each counts once.
  assert sum(int(batches_lib.example_mask(b, "cbow").sum()) for b in centres) < counted


@pytest.mark.parametrize("model,layout,shuffle", [("skipgram", "pairs", False),
                                                  ("skipgram", "centres", False),
                                                  ("cbow", "pairs", False),
                                                  ("skipgram", "centres", True)])
def test_path_buckets_regroup_the_same_examples_by_bucket(model, layout, shuffle):
  bucket_V = np.random.default_rng(1).integers(0, 3, size=N)
  kw = dict(model=model, layout=layout, shuffle=shuffle, batch_size=5, keep=0.8)
  plain, bucketed = _epoch(**kw), _epoch(bucket_V=bucket_V, **kw)
  rows = lambda batches, k: np.concatenate([b[k][b["mask"]] for b in batches])
  centre = rows(plain, "centre")
  for b in range(3):  # each bucket's examples: the same, in the same order
    mine = [x for x in bucketed if x["bucket"] == b]
    assert np.all(bucket_V[rows(mine, "centre")] == b)
    for k in plain[0]:
      if k not in ("mask", "words_done", "kept_done"):
        np.testing.assert_array_equal(rows(mine, k), rows(plain, k)[bucket_V[centre] == b])
  done = [x["words_done"] for x in bucketed]
  assert done == sorted(done) and done[-1] == N  # batches come in corpus order
  if not shuffle:  # ids are positions: a batch's position is its last centre's
    for x in bucketed:
      assert x["words_done"] in (x["centre"][x["mask"]][-1] + 1, N)
  assert sum(x["words_done"] == N for x in bucketed) <= 3 + 1  # each bucket's leftover


@pytest.mark.parametrize("kind", ["pairs", "cbow", "centres"])
def test_examples_made_in_pieces_are_the_examples_made_whole(kind):
  sentence_N = np.repeat(np.arange(40), LENGTHS)
  made = [batches_lib._examples(kind, IDS, sentence_N, 3, True, np.random.default_rng(5),
                                piece_tokens=piece) for piece in (7, 50, 10 * N)]
  for ex, count_N in made[:2]:  # pieces of 7 and 50 tokens, whole sentences each
    np.testing.assert_array_equal(count_N, made[2][1])
    for k, v in made[2][0].items():
      np.testing.assert_array_equal(ex[k], v)
  assert made[2][1].sum() > 0


def _groups_one_at_a_time(batches, group):
  """The groups a reader of single batches emits: a bucket's, whenever it holds `group`,
  then the rest in the order their buckets' first pending batches came."""
  pending = {}
  for batch in batches:
    batch = dict(batch)
    bucket = batch.pop("bucket", None)
    pending.setdefault(bucket, []).append(batch)
    if len(pending[bucket]) == group:
      yield bucket, batches_lib.stack(pending.pop(bucket), group)
  for bucket in list(pending):
    yield bucket, batches_lib.stack(pending.pop(bucket), group)


@pytest.mark.parametrize("model,layout", [("skipgram", "pairs"), ("skipgram", "centres"),
                                          ("cbow", "pairs")])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("group", [1, 3, 7])
def test_blocks_group_as_batches_one_at_a_time(model, layout, shuffle, group):
  kw = dict(model=model, window=3, shrink_window=True, batch_size=5, seed=2, epoch=1,
            chunk_tokens=40, shuffle=shuffle, layout=layout,
            bucket_V=np.random.default_rng(3).integers(0, 3, size=N))
  keep_V = np.full(N, 0.8)
  want = list(_groups_one_at_a_time(batches_lib.iterate_epoch(IDS, OFFSETS, keep_V, **kw),
                                    group))
  got = list(batches_lib.group_blocks(batches_lib.iterate_blocks(
      IDS, OFFSETS, keep_V, group=group, **kw), group))
  assert len(want) >= 5 and [b for b, _ in got] == [b for b, _ in want]
  for (_, w), (_, g) in zip(want, got):
    assert sorted(w) == sorted(g)
    for k in w:
      assert w[k].dtype == g[k].dtype, k
      np.testing.assert_array_equal(w[k], g[k], err_msg=k)
