"""Encoded corpus -> fixed-shape training batches, vectorised with NumPy.

One epoch, as word2vec.c reads it: the corpus is walked in order, in chunks of
whole sentences (about `chunk_tokens` tokens each); in each chunk every token is
subsampled (sampling.keep_probabilities), then every surviving token is a
centre whose window half-width b is drawn uniformly from 1..window (or is
`window` with shrink_window=False). Its context is the surviving tokens within b
positions in the same sentence: windows are taken after subsampling, as in
word2vec.c, and never cross a sentence boundary.

Skip-gram batches hold (centre, context) pairs in word2vec.c's order (centre by
centre, offsets ascending), or with layout="centres" a centre and up to `window`
of its context words per row; CBOW batches hold one centre with its context
slots [B, 2 * window] and a mask. Centres without any context are skipped (word2vec.c
makes no update for them either). Every batch has exactly `batch_size` rows; the
last batch of an epoch is padded and its `mask` marks the real rows.

`words_done` in each batch counts the raw (pre-subsampling) corpus tokens up to
and including its last centre word (the whole corpus for the epoch's last
batch): the quantity word2vec.c's linear learning-rate decay runs on.
`kept_done` counts the tokens that survived subsampling up to the same point.

shuffle=True (a deviation from word2vec.c's single-thread order): the examples
of each chunk (about a million tokens) are put in random order before they are
cut into batches, so one batch holds examples from all over the chunk instead
of a few consecutive sentences. A batch then shares fewer rows between its
examples (each row of a batch is updated from the same stale value), much as
word2vec.c's threads work on distant parts of the corpus at once. The schedule
position (`words_done`, `kept_done`) still advances evenly through the chunk.

All randomness comes from one numpy Generator seeded with (seed, epoch), so the
same seed gives the same batches.
"""

from typing import Iterator, Optional

import numpy as np

from w2v_jax import sampling

Batch = dict  # str -> np.ndarray with a leading [B] axis; words_done, kept_done: int
CHUNK_TOKENS = 1 << 20  # tokens read, subsampled and (with shuffle) shuffled together
# A chunk's examples are made from whole sentences of about this many tokens at
# a time (the same examples): the [N, 2W] windows and index arrays behind them
# are then held for a piece only, and the pieces are joined key by key
# (docs/log/SCALING_CURVES.md measures the batch maker's memory).
PIECE_TOKENS = 1 << 17


def epoch_rng(seed: int, epoch: int, stream: tuple = ()) -> np.random.Generator:
  """The epoch's generator; `stream` (e.g. a process index) gives independent others."""
  return np.random.default_rng([seed, epoch, *stream])


def sentence_chunks(offsets: np.ndarray, chunk_tokens: int) -> Iterator[tuple[int, int]]:
  """Splits sentences into consecutive runs [s0, s1) of about chunk_tokens tokens."""
  num_sentences = len(offsets) - 1
  s0 = 0
  while s0 < num_sentences:
    s1 = int(np.searchsorted(offsets, offsets[s0] + chunk_tokens, side="right")) - 1
    s1 = min(max(s1, s0 + 1), num_sentences)
    yield s0, s1
    s0 = s1


def subsampled_chunk(ids_N: np.ndarray, offsets: np.ndarray, s0: int, s1: int,
                     keep_V: np.ndarray, rng: np.random.Generator):
  """Sentences s0..s1-1 after subsampling: (tokens, sentence index, raw position)."""
  a, b = int(offsets[s0]), int(offsets[s1])
  raw = np.asarray(ids_N[a:b])
  lengths = np.diff(offsets[s0:s1 + 1])
  sentence = np.repeat(np.arange(s1 - s0, dtype=np.int32), lengths)
  keep = sampling.subsample_mask(raw, keep_V, rng)
  return raw[keep], sentence[keep], a + np.flatnonzero(keep)


def half_widths(n: int, window: int, shrink_window: bool, rng: np.random.Generator):
  """Each of n centres' window half-width: uniform in 1..window, or window."""
  if n and shrink_window:
    return rng.integers(1, window + 1, size=n, dtype=np.int32)
  return np.full(n, window, dtype=np.int32)


def context_windows(tokens_N: np.ndarray, sentence_N: np.ndarray, window: int,
                    half_N: np.ndarray):
  """Context slots of every centre: (ids [N, 2W], valid [N, 2W]).

  Slot order is offsets -W..-1, 1..W. A slot is valid if its offset is within
  the centre's half-width half_N and it lies inside the same sentence.
  """
  if len(tokens_N) == 0:  # everything in the chunk was subsampled away
    return np.zeros((0, 2 * window), np.int32), np.zeros((0, 2 * window), bool)
  distance_W = np.abs(np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)]))
  # Pad both ends with `window` slots of sentence -1 (matches no real sentence)
  # and view every centre's neighbourhood [N, 2W + 1] without copying.
  pad = np.full(window, -1, dtype=np.int32)
  around_tok = np.lib.stride_tricks.sliding_window_view(
      np.concatenate([pad, tokens_N.astype(np.int32), pad]), 2 * window + 1)
  around_sent = np.lib.stride_tricks.sliding_window_view(
      np.concatenate([pad, sentence_N.astype(np.int32), pad]), 2 * window + 1)
  others = np.r_[0:window, window + 1:2 * window + 1]  # drop the centre column
  valid_NxW = ((around_sent[:, others] == sentence_N[:, None])
               & (distance_W[None, :] <= half_N[:, None]))
  return around_tok[:, others], valid_NxW


def _examples(kind: str, tokens_N, sentence_N, window, shrink_window, rng,
              piece_tokens: Optional[int] = None):
  """Per-chunk training examples, and how many each centre made ([N] counts).

  kind "pairs": one example per (centre, context) pair. "cbow": one per
  centre that has any context, holding its 2W context slots and their mask.
  "centres" (skip-gram by centre): a centre's context words, packed to the
  left in offset order, in rows of `window` slots; a centre with more takes
  several rows (at most 2). Of the 2W slots about half hold a word (the
  dynamic window, sentence ends), so rows of W waste less of the step.

  Examples are made PIECE_TOKENS tokens (whole sentences) at a time
  (piece_tokens), the half-widths drawn for the whole chunk first, so pieces
  change nothing.
  Examples come centre by centre, so example e belongs to the centre
  searchsorted(cumsum(count_N), e, side="right"); only the schedule at batch
  ends needs that (iterate_epoch), so nothing per centre is copied per example.
  """
  piece_tokens = piece_tokens or PIECE_TOKENS
  half_N = half_widths(len(tokens_N), window, shrink_window, rng)
  starts = np.searchsorted(sentence_N, sentence_N[piece_tokens::piece_tokens], side="left")
  cuts = np.r_[0, np.unique(starts[starts > 0]), len(tokens_N)]  # at sentence starts
  pieces = [_piece_examples(kind, tokens_N[a:b], *context_windows(
                tokens_N[a:b], sentence_N[a:b], window, half_N[a:b]), window)
            for a, b in zip(cuts[:-1], cuts[1:])]
  if len(pieces) == 1:
    return pieces[0]
  ex = {}
  for k in list(pieces[0][0]):  # key by key, each piece's array freed once joined
    ex[k] = np.concatenate([piece.pop(k) for piece, _ in pieces])
  return ex, np.concatenate([count for _, count in pieces])


def _piece_examples(kind: str, tokens_N, context_NxW, valid_NxW, window):
  """_examples of whole sentences, from their context windows."""
  if kind == "pairs":
    count_N = valid_NxW.sum(axis=1)  # boolean indexing is row-major: centre by
    return {"centre": np.repeat(tokens_N, count_N),  # centre, offsets ascending
            "context": context_NxW[valid_NxW]}, count_N
  if kind == "cbow":
    has_context = valid_NxW.any(axis=1)
    context, mask = context_NxW[has_context], valid_NxW[has_context]
    context[~mask] = 0  # in the copy: no third [N, 2W] array
    return ({"centre": tokens_N[has_context], "context": context, "context_mask": mask},
            has_context.astype(np.int64))
  # A centre's valid slots are one run of columns: the left ones end at offset
  # -1 and the right ones start at +1 (the window and the sentence both stop
  # them further out), so packing is a shift by the first valid column, and
  # row r of a centre holds its valid slots r W .. r W + W - 1. Indices are
  # int32 and the context is read per row: no [N, 2W] int64 sort or packed copy.
  n_N = valid_NxW.sum(axis=1, dtype=np.int32)
  first_N = window - valid_NxW[:, :window].sum(axis=1, dtype=np.int32)  # first valid column
  rows_N = -(-n_N // window)
  centre_R = np.repeat(np.arange(len(n_N), dtype=np.int32), rows_N)
  first_row_R = np.repeat(np.cumsum(rows_N, dtype=np.int32) - rows_N, rows_N)
  slot_RxS = ((np.arange(len(centre_R), dtype=np.int32) - first_row_R)[:, None] * window
              + np.arange(window, dtype=np.int32))
  mask_RxS = slot_RxS < n_N[centre_R][:, None]
  column_RxS = np.minimum(first_N[centre_R][:, None] + slot_RxS, 2 * window - 1)
  context_RxS = np.where(mask_RxS, context_NxW[centre_R[:, None], column_RxS], 0)
  return {"centre": tokens_N[centre_R], "context": context_RxS,
          "context_mask": mask_RxS}, rows_N


def maker_bytes(kind: str, chunk_tokens: int, window: int, shrink_window: bool, shuffle: bool,
                bucketed: bool) -> int:
  """Bytes iterate_epoch holds for one corpus chunk of `chunk_tokens` tokens (no
  subsampling), for the memory estimate (memory.py). It is written here, beside
  _examples and iterate_epoch, so that a change to what they hold changes it;
  tests/memory_test.py holds it to the traced peak of a real epoch.

  kind is the row layout ("pairs", "cbow", "centres"); bucketed: hs path buckets.
  """
  w = window
  # The windows of one piece (PIECE_TOKENS): int32 ids, a bool mask and a bool
  # temporary per slot, and by centre int32 index arrays.
  piece = min(PIECE_TOKENS, chunk_tokens) * 2 * w
  order = 4 if shuffle else 0  # an int32 position per example
  # The examples, plus their largest array once more while the pieces are joined.
  if kind == "pairs":
    pairs = chunk_tokens * (w + 1 if shrink_window else 2 * w)  # 2 E[half-width] per centre
    return piece * 6 + pairs * (8 + 4 + order)
  if kind == "cbow":
    return piece * 6 + chunk_tokens * (4 + 5 * 2 * w + 4 * 2 * w + order)
  # Up to 2 rows of W per centre, and with path buckets each bucket's positions
  # and rows (int32).
  buckets = 8 if bucketed else 0
  return piece * (6 + 8) + 2 * chunk_tokens * (4 + 5 * w + 4 * w + order + buckets)


def iterate_epoch(ids_N: np.ndarray, offsets: np.ndarray, keep_V: np.ndarray, *,
                  model: str, window: int, shrink_window: bool, batch_size: int,
                  seed: int, epoch: int, shuffle: bool = False,
                  chunk_tokens: int = CHUNK_TOKENS, stream: tuple = (),
                  layout: str = "pairs", bucket_V: Optional[np.ndarray] = None
                  ) -> Iterator[Batch]:
  """Yields the fixed-shape batches of one epoch (see the module docstring).

  Skip-gram batch (layout "pairs"): centre [B] int32, context [B] int32, mask
  [B] bool. CBOW batch: centre [B] int32, context [B, 2W] int32, context_mask
  [B, 2W] bool, mask [B] bool; skip-gram's with layout "centres" the same with
  W slots instead of 2W (_examples).

  A chunk's examples are cut into batches in place; fewer than B examples
  left at its end wait for the next chunk (a batch's last row, which sets its
  schedule position, is then always in the newest chunk).

  With `bucket_V` (a bucket index per word; hierarchical softmax's path
  buckets, huffman.bucket_bounds), every batch holds examples of one bucket
  only, by the bucket of their centre, and says which ("bucket"): each
  bucket's examples are cut into batches in corpus order as above, and the
  batches of all buckets come in the order of their last rows. Only which
  examples share a batch changes, so that a batch of short-coded centres can
  be trained with fewer path slots.
  """
  for block in iterate_blocks(ids_N, offsets, keep_V, model=model, window=window,
                              shrink_window=shrink_window, batch_size=batch_size, seed=seed,
                              epoch=epoch, shuffle=shuffle, chunk_tokens=chunk_tokens,
                              stream=stream, layout=layout, bucket_V=bucket_V, group=1):
    bucket, _ = block.pop("bucket", None), block.pop("rank")
    batch = {k: v[0] for k, v in block.items() if k not in ("words_done", "kept_done")}
    batch["words_done"], batch["kept_done"] = int(block["words_done"][0]), int(block["kept_done"][0])
    if bucket is not None:
      batch["bucket"] = bucket
    yield batch


def iterate_blocks(ids_N: np.ndarray, offsets: np.ndarray, keep_V: np.ndarray, *,
                   model: str, window: int, shrink_window: bool, batch_size: int,
                   seed: int, epoch: int, group: int, shuffle: bool = False,
                   chunk_tokens: int = CHUNK_TOKENS, stream: tuple = (),
                   layout: str = "pairs", bucket_V: Optional[np.ndarray] = None
                   ) -> Iterator[Batch]:
  """iterate_epoch's batches, made and yielded as blocks of consecutive batches of one
  bucket: [n, B, ...] arrays, words_done and kept_done [n], "bucket" with bucket_V, and
  "rank": where its first batch stands in iterate_epoch's order.

  A bucket's blocks end at each chunk's end and after its `group`-th, 2 group-th, ...
  batch of the epoch, and come in the order of their last batches, so that a
  reader that emits a bucket's batches whenever it holds `group` of them emits
  the same groups, in the same order, as one reading iterate_epoch's batches
  (pipeline.grouped_batches). A block's rows are gathered at once: per batch,
  the gathers and dicts cost the batch maker 5x its NumPy work for batches of
  a few dozen rows (hs).
  """
  rng = epoch_rng(seed, epoch, stream)
  buckets = 1 if bucket_V is None else int(bucket_V.max()) + 1
  pending = [[] for _ in range(buckets)]  # per bucket: earlier chunks' examples not batched
  pending_rows = [0] * buckets            # (fewer than B)
  made = [0] * buckets                    # batches of the epoch so far, per bucket
  ranked = 0                              # and of all buckets
  kept = 0                                # tokens that survived subsampling so far
  for s0, s1 in sentence_chunks(offsets, chunk_tokens):
    tokens_N, sentence_N, position_N = subsampled_chunk(ids_N, offsets, s0, s1, keep_V, rng)
    kind = "cbow" if model == "cbow" else layout
    ex, count_N = _examples(kind, tokens_N, sentence_N, window, shrink_window, rng)
    # With shuffle, the example at position e of the chunk is ex[order[e]]; the
    # schedule (by position e) still advances evenly. A block's rows are
    # gathered from `ex` when it is yielded: no shuffled or per-bucket copy of
    # the chunk's examples.
    order = None
    if shuffle:  # rng.permutation(E)'s order and draws, in int32
      order = np.arange(len(ex["centre"]), dtype=np.int32)
      rng.shuffle(order)
    plans, ends_E = [], []  # per bucket with batches: (bucket, source, ends, pending before)
    for b in range(buckets):
      if bucket_V is None:
        position, source = None, order  # every position; its example (None: itself)
        n = len(ex["centre"])
      else:
        in_bucket = bucket_V[ex["centre"]] == b
        position = np.flatnonzero(in_bucket if order is None else in_bucket[order]).astype(np.int32)
        source = position if order is None else order[position]
        n = len(source)
      if pending_rows[b] + n < batch_size:
        pending[b].append(_rows(ex, source, 0, n, copy=True))
        pending_rows[b] += n
        continue
      first = batch_size - pending_rows[b]  # rows of this chunk that complete the first batch
      ends = np.arange(first, n + 1, batch_size)  # exclusive ends of this chunk's batches
      ends_E.append(ends - 1 if position is None else position[ends - 1])
      plans.append((b, source, ends, pending[b]))
      pending[b] = [_rows(ex, source, ends[-1], n, copy=True)]
      pending_rows[b] = n - ends[-1]
    blocks = []  # (last row's position, plan, first batch, end batch)
    for p, ((b, _, ends, _), last_E) in enumerate(zip(plans, ends_E)):
      cuts = np.arange(-made[b] % group or group, len(ends), group)  # batches before a cut
      bounds = np.r_[0, cuts, len(ends)]
      blocks += [(int(last_E[j1 - 1]), p, j0, j1) for j0, j1 in zip(bounds[:-1], bounds[1:])
                 if j1 > j0]
      made[b] += len(ends)
    if plans:
      count_C, sorted_E = np.cumsum(count_N), np.sort(np.concatenate(ends_E))
    for last, p, j0, j1 in sorted(blocks):
      b, source, ends, before = plans[p]
      centre_E = np.searchsorted(count_C, ends_E[p][j0:j1], side="right")
      lo = 0 if j0 == 0 else int(ends[j0]) - batch_size
      rows = _rows(ex, source, lo, int(ends[j1 - 1]))
      if j0 == 0 and before:
        rows = {k: np.concatenate([q[k] for q in before] + [v]) for k, v in rows.items()}
      block = _to_block(rows, j1 - j0, batch_size, position_N[centre_E] + 1, kept + centre_E + 1,
                        None if bucket_V is None else b)
      block["rank"] = ranked + int(np.searchsorted(sorted_E, ends_E[p][j0]))
      yield block
    ranked += sum(len(ends) for _, _, ends, _ in plans)
    kept += len(tokens_N)
    del ex, order, plans, source, position  # before the next chunk's examples are made
  for b in range(buckets):  # each bucket's last batch ends the epoch
    if pending_rows[b]:
      rows = {k: np.concatenate([p[k] for p in pending[b]]) for k in pending[b][0]}
      batch = _to_batch(rows, batch_size, int(offsets[-1]), kept,
                        None if bucket_V is None else b)
      yield dict({k: np.asarray([v]) if k != "bucket" else v for k, v in batch.items()},
                 rank=ranked + b)


def _rows(ex: dict, source: Optional[np.ndarray], lo: int, hi: int, copy: bool = False) -> dict:
  """Examples at positions lo..hi-1: ex's rows source[lo:hi], or lo..hi-1 without a
  source; copied (not views of ex) with copy=True or a source."""
  if source is None:
    return {k: v[lo:hi].copy() if copy else v[lo:hi] for k, v in ex.items()}
  return {k: v[source[lo:hi]] for k, v in ex.items()}


def _to_block(rows: dict, n: int, batch_size: int, words_done, kept_done,
              bucket: Optional[int]) -> Batch:
  """n full batches of rows, as [n, B, ...] arrays (int32 or bool) with words_done and
  kept_done [n] int64 and their bucket (where batches are bucketed)."""
  block = {k: v.astype(np.bool_ if v.dtype == np.bool_ else np.int32, copy=not v.flags.owndata)
           .reshape((n, batch_size) + v.shape[1:]) for k, v in rows.items()}
  block["mask"] = np.ones((n, batch_size), np.bool_)
  block["words_done"] = np.asarray(words_done, np.int64)
  block["kept_done"] = np.asarray(kept_done, np.int64)
  if bucket is not None:
    block["bucket"] = bucket
  return block


def _to_batch(rows: dict, batch_size: int, words_done: int, kept_done: int,
              bucket: Optional[int] = None) -> Batch:
  """Pads rows to batch_size and adds the row mask, the schedule position and
  the path bucket (where batches are bucketed)."""
  n = len(rows["centre"])
  batch = {}
  for k, v in rows.items():
    dtype = np.bool_ if v.dtype == np.bool_ else np.int32
    if n == batch_size and v.dtype == dtype and v.flags.owndata:  # already a batch's own rows
      batch[k] = v
      continue
    padded = np.zeros((batch_size,) + v.shape[1:], dtype=dtype)
    padded[:n] = v
    batch[k] = padded
  batch["mask"] = np.arange(batch_size) < n
  batch["words_done"] = words_done
  batch["kept_done"] = kept_done
  if bucket is not None:
    batch["bucket"] = bucket
  return batch


def example_mask(arrays: dict, model: str) -> np.ndarray:
  """The training examples a batch (or a [T, B] chunk) holds, as a mask to sum.

  One per real row, except skip-gram with one centre per row, which counts
  (centre, context) pairs as the "pairs" layout does, so that example counts
  and the loss per example mean the same in both layouts.
  """
  if model == "skipgram" and "context_mask" in arrays:
    return arrays["context_mask"] & arrays["mask"][..., None]
  return arrays["mask"]


def stack(batches: list[Batch], num: int) -> Batch:
  """Stacks batches into [num, B, ...] arrays, padding with fully masked batches."""
  return stack_blocks([{k: np.asarray(v)[None] for k, v in b.items()} for b in batches], num)


def group_blocks(blocks: Iterator[Batch], group: int) -> Iterator[tuple]:
  """(bucket or None, [group, B, ...] arrays) for iterate_blocks's blocks: a bucket's
  batches whenever it holds `group`, then each bucket's rest (stack_blocks pads them),
  in the order of their first batches: what grouping iterate_epoch's batches one at a
  time would give."""
  pending, first = {}, {}  # bucket -> blocks (fewer than `group` batches), first's rank
  for block in blocks:
    bucket, rank = block.pop("bucket", None), block.pop("rank")
    first.setdefault(bucket, rank)
    pending.setdefault(bucket, []).append(block)
    if sum(len(b["words_done"]) for b in pending[bucket]) == group:
      del first[bucket]
      yield bucket, stack_blocks(pending.pop(bucket), group)
  for bucket in sorted(pending, key=first.get):
    yield bucket, stack_blocks(pending.pop(bucket), group)


def stack_blocks(blocks: list[Batch], num: int) -> Batch:
  """Joins blocks (iterate_blocks, without "bucket") into [num, B, ...] arrays, padding
  with fully masked batches, which repeat the last words_done and kept_done."""
  out = {}
  for k, v in blocks[0].items():
    if k in ("words_done", "kept_done"):
      done = np.concatenate([b[k] for b in blocks]).astype(np.int64)
      out[k] = np.concatenate([done, np.full(num - len(done), done[-1])])
      continue
    arr = np.zeros((num,) + v.shape[1:], dtype=v.dtype)
    np.concatenate([b[k] for b in blocks], out=arr[:sum(len(b[k]) for b in blocks)])
    out[k] = arr
  return out
