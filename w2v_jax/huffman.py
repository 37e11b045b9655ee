"""Huffman tree over the vocabulary, as padded arrays for hierarchical softmax.

The construction is word2vec.c's (CreateBinaryTree), which fixes every tie:
  * leaves are the vocabulary ids in vocabulary order (count descending, then
    word), so the rarest leaf is the last id;
  * inner nodes are created in order; node V + a is the a-th merge, and its
    inner id (the row of the `nodes` table) is a, so the root is V - 2;
  * each merge takes the two smallest of {the rarest unmerged leaf, the oldest
    unmerged inner node}, preferring the leaf only when its count is strictly
    smaller (on a tie the inner node wins);
  * the first node taken gets branch code 0, the second code 1.
Codes and points are then read from the root down: points_VxL[w, j] is the inner
node at depth j on w's path (points_VxL[w, 0] = V - 2, the root) and
codes_VxL[w, j] is the branch taken there. Entries past lengths_V[w] are 0.
"""

import dataclasses
from typing import Optional

import numpy as np


@dataclasses.dataclass(frozen=True)
class HuffmanTree:
  points_VxL: np.ndarray  # int32 inner-node ids in 0..V-2, root first
  codes_VxL: np.ndarray   # int8 0/1
  lengths_V: np.ndarray   # int32 code length per word, >= 1


def build(counts_V: np.ndarray) -> HuffmanTree:
  """Builds the tree for counts sorted in descending order (vocabulary order)."""
  counts_V = np.asarray(counts_V, dtype=np.int64)
  v = len(counts_V)
  if v < 2:
    raise ValueError("a Huffman tree needs at least 2 words")
  if np.any(np.diff(counts_V) > 0):
    raise ValueError("counts must be sorted in descending order (vocabulary order)")
  counts = counts_V.tolist()
  weight = counts + [0] * (v - 1)
  parent = np.zeros(2 * v - 1, dtype=np.int64)
  branch = np.zeros(2 * v - 1, dtype=np.int8)
  leaf, inner = v - 1, v  # next leaf to take (walking to rarer = lower ids), next inner node

  def take_smallest(created):
    nonlocal leaf, inner
    if leaf >= 0 and (inner >= created or weight[leaf] < weight[inner]):
      leaf -= 1
      return leaf + 1
    inner += 1
    return inner - 1

  for a in range(v - 1):
    node = v + a
    first = take_smallest(node)
    second = take_smallest(node)
    weight[node] = weight[first] + weight[second]
    parent[first] = parent[second] = node
    branch[second] = 1

  # Walk all leaves up to the root at once, twice: first for the code lengths,
  # then writing each step's node and branch at its depth from the root (the
  # j-th step up from leaf w is at depth lengths[w] - 1 - j). Only V-sized
  # temporaries besides the [V, L] results.
  root = 2 * v - 2
  parent = parent.astype(np.int32)
  lengths = np.zeros(v, dtype=np.int32)
  cur = np.arange(v, dtype=np.int32)
  while (active := cur != root).any():
    lengths += active
    cur = np.where(active, parent[cur], cur)
  codes = np.zeros((v, int(lengths.max())), dtype=np.int8)
  points = np.zeros((v, int(lengths.max())), dtype=np.int32)
  leaves, cur, j = np.arange(v), np.arange(v, dtype=np.int32), 0
  while leaves.size:
    depth = lengths[leaves] - 1 - j
    codes[leaves, depth] = branch[cur]
    points[leaves, depth] = parent[cur] - v
    cur = parent[cur]
    below_root = cur != root
    leaves, cur, j = leaves[below_root], cur[below_root], j + 1
  return HuffmanTree(points_VxL=points, codes_VxL=codes, lengths_V=lengths)


SLOT_MULTIPLE = 8  # path slots of a bucket, rounded up (bucket_bounds says why)


def bucket_bounds(lengths_V: np.ndarray, weight_V: np.ndarray, buckets: int,
                  multiple: Optional[int] = None) -> tuple:
  """Path slots of at most `buckets` path buckets, ascending, the last the longest code.

  A batch whose rows' targets all have codes of at most `bound` nodes needs
  only `bound` path slots instead of the longest code's (batches.py,
  model.tree_paths). Bounds are multiples of `multiple` (default
  SLOT_MULTIPLE) or the longest code:
  on XLA:CPU the skip-gram-HS step's time grows in steps of 8 slots, and 13 to
  15 slots ran no faster than 16 (docs/log/SPEED.md). Among those, the bounds
  minimise the slots expected per row, sum_w weight_V[w] * (the smallest
  bound >= lengths_V[w]), where weight_V is how often each word is a batch
  row's target (its count times its subsampling keep probability): an exact
  dynamic programme over the candidate bounds.
  """
  multiple = multiple or SLOT_MULTIPLE
  longest = int(lengths_V.max())
  slots_V = np.minimum(-(-lengths_V // multiple) * multiple, longest)
  values, where_V = np.unique(np.append(slots_V, longest), return_inverse=True)
  weight_C = np.bincount(where_V[:-1], weights=weight_V, minlength=len(values))
  below = np.concatenate([[0.0], np.cumsum(weight_C)])  # weight of values[:i]
  n, k = len(values), max(1, min(buckets, len(values)))
  # cost[j, i]: least slots for values[:i] in j buckets, the last bound values[i - 1].
  cost = np.full((k + 1, n + 1), np.inf)
  cost[0, 0] = 0.0
  choice = np.zeros((k + 1, n + 1), dtype=np.int64)
  for j in range(1, k + 1):
    for i in range(1, n + 1):
      total = cost[j - 1, :i] + (below[i] - below[:i]) * values[i - 1]
      choice[j, i] = int(np.argmin(total))
      cost[j, i] = total[choice[j, i]]
  j = int(np.argmin(cost[1:, n])) + 1  # ties take the fewest buckets
  bounds, i = [], n
  while i:
    bounds.append(int(values[i - 1]))
    i, j = int(choice[j, i]), j - 1
  return tuple(reversed(bounds))
