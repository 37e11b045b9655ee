import itertools

import numpy as np
import pytest

from w2v_jax import huffman


def _code_strings(tree):
  return ["".join(str(int(c)) for c in tree.codes_VxL[w, :tree.lengths_V[w]])
          for w in range(len(tree.lengths_V))]


def test_hand_worked_five_words():
  # counts 5,4,3,2,1 (ids 0..4). word2vec.c's merges, smallest first:
  #   node 5 = 4(1) + 3(2)  -> weight 3, inner id 0; id4 code 0, id3 code 1
  #   node 6 = 2(3) + 5(3)  -> weight 6, inner id 1; leaf wins only if strictly
  #            smaller, so the inner node 5 is taken first: 5 code 0, id2 code 1
  #   node 7 = 1(4) + 0(5)  -> weight 9, inner id 2; id1 code 0, id0 code 1
  #   node 8 = 6(6) + 7(9)  -> root, inner id 3; node 6 code 0, node 7 code 1
  tree = huffman.build(np.array([5, 4, 3, 2, 1]))
  assert _code_strings(tree) == ["11", "10", "01", "001", "000"]
  expected_points = [[3, 2, 0], [3, 2, 0], [3, 1, 0], [3, 1, 0], [3, 1, 0]]
  np.testing.assert_array_equal(tree.points_VxL, expected_points)
  np.testing.assert_array_equal(tree.lengths_V, [2, 2, 2, 3, 3])


def _zipf_counts(v, seed=0):
  rng = np.random.default_rng(seed)
  counts = np.sort(rng.zipf(1.3, size=v) + 4)[::-1]
  return counts


@pytest.mark.parametrize("v", [2, 3, 7, 100, 1000])
def test_prefix_free_kraft_and_monotone(v):
  counts = _zipf_counts(v)
  tree = huffman.build(counts)
  codes = _code_strings(tree)
  assert len(set(codes)) == v
  for a in codes:
    for b in codes:
      assert a == b or not b.startswith(a)
  assert sum(2.0 ** -len(c) for c in codes) == pytest.approx(1.0, abs=1e-12)
  # A rarer word (later id, lower or equal count) never gets a shorter code.
  assert np.all(np.diff(tree.lengths_V) >= 0)
  assert tree.points_VxL.shape == (v, tree.lengths_V.max())
  assert np.all(tree.points_VxL[:, 0] == v - 2)  # the root comes first
  assert tree.points_VxL.min() >= 0 and tree.points_VxL.max() <= v - 2


def test_paths_are_consistent_tree():
  tree = huffman.build(_zipf_counts(300, seed=1))
  # The same prefix of codes always reaches the same inner node.
  node_at = {}
  for w in range(300):
    for j in range(tree.lengths_V[w]):
      prefix = tuple(tree.codes_VxL[w, :j])
      assert node_at.setdefault(prefix, tree.points_VxL[w, j]) == tree.points_VxL[w, j]
  assert len(set(node_at.values())) == 299  # every inner node is used


def test_padding_is_zero_and_rejects_bad_input():
  tree = huffman.build(_zipf_counts(50))
  beyond = np.arange(tree.codes_VxL.shape[1])[None, :] >= tree.lengths_V[:, None]
  assert not tree.codes_VxL[beyond].any() and not tree.points_VxL[beyond].any()
  with pytest.raises(ValueError):
    huffman.build(np.array([3]))
  with pytest.raises(ValueError):
    huffman.build(np.array([1, 2, 3]))


@pytest.mark.parametrize("multiple", [1, 4, 8])
def test_bucket_bounds_are_the_cheapest_of_at_most_k_buckets(multiple):
  rng = np.random.default_rng(multiple)
  lengths_V = rng.integers(1, 20, size=60)
  weight_V = rng.random(60)
  longest = int(lengths_V.max())
  slots_V = np.minimum(-(-lengths_V // multiple) * multiple, longest)
  candidates = sorted(set(slots_V.tolist()) | {longest})

  def slots(bounds):  # expected path slots per row with these bounds
    b = np.asarray(bounds)
    return float(np.sum(weight_V * b[np.searchsorted(b, lengths_V)]))

  for k in range(1, 5):
    bounds = huffman.bucket_bounds(lengths_V, weight_V, k, multiple)
    assert len(bounds) <= k and bounds[-1] == longest and list(bounds) == sorted(set(bounds))
    assert set(bounds) <= set(candidates)
    best = min(slots(inner + (longest,)) for j in range(k)
               for inner in itertools.combinations(candidates[:-1], j))
    assert slots(bounds) == pytest.approx(best)
  assert huffman.bucket_bounds(lengths_V, weight_V, 1, multiple) == (longest,)
