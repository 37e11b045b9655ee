"""Phrases: frequent bigrams joined into one token (Mikolov et al. 2013b, section 4).

`--mode=phrases` reads a corpus once (corpus.py's cached id array, every
token kept), counts words and adjacent pairs with NumPy (a pair is one int64,
a * V + b), scores each pair type, joins the accepted pairs greedily left to
right and writes WORKDIR/phrases.txt (one sentence a line, ready for
`--corpus=`) and WORKDIR/phrases.tsv (the phrases each pass accepted). Each
further pass runs on the output of the one before, so two passes make
phrases of up to four words, as word2vec.c's demo-phrases.sh.

What word2phrase.c does, and so what `--phrase_scoring=word2vec` does (read
from tmikolov/word2vec word2phrase.c and the copy the PyPI package word2vec
0.11.1 builds, word2vec/includes/word2phrase.c; LearnVocabFromTrainFile and
TrainModel):
  * train_words counts every token; a word or pair seen fewer than min_count
    times is dropped from the vocabulary (SortVocab), so it never scores.
  * Pairs are counted over the whole token stream: its `start` flag is set
    and then cleared before it is read, so the last word of a line and the
    first of the next count as a pair too. Joins never cross a line end (the
    lookup there is "</s>_word", which is never counted).
  * score(a, b) = (count(ab) - min_count) / count(a) / count(b) * train_words
    in float32 (`real`), in that order; a pair is joined when score >
    threshold (also float32). We compute it in float32 the same way.
  * Greedy: a word that has just been joined into a pair (pb = 0) cannot
    start the next pair, so in a run of consecutive accepted pairs the 1st,
    3rd, 5th, ... are joined.
What we do not copy: words longer than 58 bytes are truncated by its
ReadWord (pairs longer than 59 bytes too); carriage returns are dropped;
"</s>" in the text is a line end; only space, tab and newline separate words
(here, as everywhere in corpus.py, any whitespace does); a last word not
followed by a newline is lost. None of these occur in the default corpus or
offline-prose (benchmarks/phrases.py checks equality token for token).

`gensim` is gensim 4.4's Phrases(scoring="default"), `original_scorer`:
(count(ab) - min_count) / (count(a) count(b)) * len_vocab in float64, where
len_vocab is the number of distinct words plus distinct pairs counted, NOT
the number of tokens as in word2phrase (so its thresholds are not
word2phrase's); no word needs min_count. `npmi` is gensim's `npmi_scorer`:
log(p(ab) / (p(a) p(b))) / -log(p(ab)), p = count / tokens, in [-1, 1], and
-inf when count(ab) < min_count. For both, pairs are counted within a
sentence only, as gensim's _learn_vocab; the greedy join is the same as
word2phrase's (gensim's analyze_sentence without connector words; connector
words are not implemented). tests/phrases_test.py holds both to gensim's
Phrases output, one and two passes.

Both tools keep words and pairs in one table keyed by the string, so a token
"ansi_x" of the text adds to the count of the pair "ansi x" (count()).
"""

import dataclasses
import logging
import os
import time

import numpy as np

from w2v_jax import corpus as corpus_lib
from w2v_jax import files
from w2v_jax.errors import UserError

SCORINGS = ("word2vec", "gensim", "npmi")
# Lines are read whole, as word2phrase does (corpus.py splits longer ones).
LINE_LIMIT = 1 << 62
_WRITE_TOKENS = 1 << 20  # tokens per block of phrases.txt


@dataclasses.dataclass(frozen=True)
class Tokens:
  """A corpus as ids into `words`: sentence s is ids_N[offsets[s]:offsets[s + 1]]."""
  ids_N: np.ndarray      # [N] int32
  offsets: np.ndarray    # [S + 1] int64
  words: list            # id -> string; distinct strings


@dataclasses.dataclass(frozen=True)
class Pass:
  """What one pass found: the joined corpus and the phrases it made."""
  tokens: Tokens
  phrases: list          # [(phrase, count, score, joins)], highest score first
  stats: dict


def parse_thresholds(text: str, passes: int) -> list:
  """--phrase_threshold ("100" or one value per pass, "200,100") -> floats; UserError."""
  parts = [p.strip() for p in str(text).split(",")]
  try:
    values = [float(p) for p in parts]
  except ValueError:
    raise UserError(f"--phrase_threshold must be a number or one number per pass such as "
                    f"200,100, got {text!r}") from None
  if len(values) == 1:
    values = values * passes
  if len(values) != passes:
    raise UserError(f"--phrase_threshold lists {len(values)} values for --phrase_passes="
                    f"{passes}; give one value, or one per pass")
  return values


def from_corpus(path: str, *, lowercase: bool, cache_dir: str) -> Tokens:
  """Every token of a text file (min_count 1, lines whole), through corpus.py's cache."""
  corpus = corpus_lib.load(path, lowercase=lowercase, max_sentence_length=LINE_LIMIT,
                           min_count=1, max_vocab=0, cache_dir=cache_dir)
  return Tokens(ids_N=np.asarray(corpus.ids), offsets=np.asarray(corpus.offsets),
                words=list(corpus.vocab.words))


def _line_starts(tokens: Tokens) -> np.ndarray:
  """[N] bool: token i begins a sentence."""
  starts_N = np.zeros(len(tokens.ids_N), bool)
  starts_N[tokens.offsets[:-1]] = True
  return starts_N


def _splits(word: str, delimiter: str, index: dict, vocab_size: int) -> list:
  """Keys of the pairs (a, b) of known words whose spelling a + delimiter + b is `word`."""
  keys, k = [], word.find(delimiter)
  while k >= 0:
    a, b = index.get(word[:k]), index.get(word[k + len(delimiter):])
    if a is not None and b is not None:
      keys.append(a * vocab_size + b)
    k = word.find(delimiter, k + 1)
  return keys


def count(tokens: Tokens, scoring: str, min_count: int, delimiter: str = "_",
          index: dict | None = None) -> dict:
  """Word counts and, for every adjacent pair, its pair count, keyed by spelling.

  word2phrase and gensim keep words and pairs in one table keyed by the
  string, so the pair "ansi x" and a token "ansi_x" of the text share one
  count, as do "new_york times" and "new york_times"; so do we. Only words
  holding a character of the delimiter can share a spelling; their pairs'
  strings are built in Python (few), every other count is NumPy's.

  Returns {"words_V": [V] int64, "pair_P": [N - 1] int64 count of the pair
  (ids[p], ids[p + 1]) (0 where it cannot score: a word below min_count for
  word2vec), "keys_P": [N - 1] int64 pair keys a * V + b, "within_P": [N - 1]
  bool (the pair lies inside one sentence), "len_vocab": distinct strings
  counted (gensim's len(vocab))}. word2vec counts pairs across line ends too
  (module docstring).
  """
  if index is None:
    index = {w: i for i, w in enumerate(tokens.words)}
  ids_N, vocab_size = tokens.ids_N, len(tokens.words)
  words_V = np.bincount(ids_N, minlength=vocab_size).astype(np.int64)
  a_P = ids_N[:-1].astype(np.int64)
  b_P = ids_N[1:].astype(np.int64)
  keys_P = a_P * vocab_size + b_P
  within_P = ~_line_starts(tokens)[1:]
  marks = set(delimiter)
  shared_D = np.array([i for i in np.flatnonzero(words_V).tolist()
                       if not marks.isdisjoint(tokens.words[i])], np.int64)
  split_keys = np.array(sorted({k for i in shared_D.tolist()
                                for k in _splits(tokens.words[i], delimiter, index,
                                                 vocab_size)}), np.int64)
  counted_P = np.ones_like(within_P) if scoring == "word2vec" else within_P
  if scoring == "word2vec":  # only pairs of words that may reach min_count can score
    kept_V = words_V >= min_count
    kept_V[shared_D] = True
    kept_V[split_keys // vocab_size] = True
    kept_V[split_keys % vocab_size] = True
    counted_P = counted_P & kept_V[a_P] & kept_V[b_P]
  keys_U, inverse, pairs_U = np.unique(keys_P[counted_P], return_inverse=True,
                                       return_counts=True)
  shared_V = np.zeros(vocab_size, bool)
  shared_V[shared_D] = True
  shared_U = (shared_V[keys_U // vocab_size] | shared_V[keys_U % vocab_size]
              | np.isin(keys_U, split_keys))
  totals = {tokens.words[i]: int(words_V[i]) for i in shared_D.tolist()}
  spelled = []
  for u in np.flatnonzero(shared_U).tolist():
    key = int(keys_U[u])
    text = tokens.words[key // vocab_size] + delimiter + tokens.words[key % vocab_size]
    totals[text] = totals.get(text, 0) + int(pairs_U[u])
    spelled.append((u, text))
  for u, text in spelled:
    pairs_U[u] = totals[text]
  for i in shared_D.tolist():
    words_V[i] = totals[tokens.words[i]]
  pair_P = np.zeros(len(keys_P), np.int64)
  pair_P[counted_P] = pairs_U[inverse.reshape(-1)]
  len_vocab = (int(np.count_nonzero(words_V)) + len(keys_U) - len(spelled)
               + len({text for _, text in spelled} - set(tokens.words[i] for i in shared_D.tolist())))
  return {"words_V": words_V, "pair_P": pair_P, "keys_P": keys_P, "within_P": within_P,
          "len_vocab": len_vocab}


def score(scoring: str, count_a, count_b, count_ab, *, min_count: int, train_words: int,
          len_vocab: int) -> np.ndarray:
  """The score of pairs with these counts (arrays), as each tool computes it."""
  count_a, count_b, count_ab = (np.asarray(x, np.int64) for x in (count_a, count_b, count_ab))
  if scoring == "word2vec":
    # word2phrase.c: (pab - min_count) / (real)pa / (real)pb * (real)train_words,
    # real = float; 0 when a word or the pair is below min_count.
    f32 = np.float32
    with np.errstate(divide="ignore", invalid="ignore"):
      s = (count_ab - min_count).astype(f32) / count_a.astype(f32)
      s = s / count_b.astype(f32)
      s = s * f32(train_words)
    ok = (count_a >= min_count) & (count_b >= min_count) & (count_ab >= min_count)
    return np.where(ok, s, f32(0))
  if scoring == "gensim":
    denom = count_a.astype(np.float64) * count_b.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
      s = (count_ab - min_count).astype(np.float64) / denom * float(len_vocab)
    return np.where(denom > 0, s, -np.inf)
  if scoring == "npmi":
    n = float(train_words)
    with np.errstate(divide="ignore", invalid="ignore"):
      p_ab = count_ab / n
      s = np.log(p_ab / ((count_a / n) * (count_b / n))) / -np.log(p_ab)
    return np.where((count_ab >= min_count) & (count_ab > 0), s, -np.inf)
  raise ValueError(scoring)


def greedy(accept_P: np.ndarray) -> np.ndarray:
  """[P] bool: which accepted pairs are joined, left to right, a joined word never
  starting the next pair: in each run of consecutive accepted pairs, the 1st, 3rd, ..."""
  accept_P = np.asarray(accept_P, bool)
  index_P = np.arange(len(accept_P))
  begins_P = accept_P & ~np.concatenate([[False], accept_P[:-1]])
  run_start_P = np.maximum.accumulate(np.where(begins_P, index_P, 0)) if len(index_P) else index_P
  return accept_P & ((index_P - run_start_P) % 2 == 0)


def _join(tokens: Tokens, joined_P: np.ndarray, keys_T: np.ndarray, type_J: np.ndarray,
          delimiter: str, index: dict) -> tuple:
  """The corpus with each joined pair (p, p + 1) as one token, and the id of each
  joined pair type `keys_T` (type_J: the type of each join, in corpus order)."""
  vocab_size = len(tokens.words)
  where_J = np.flatnonzero(joined_P)
  words = list(tokens.words)
  ids_T = np.empty(len(keys_T), np.int64)
  for t, key in enumerate(keys_T.tolist()):
    text = words[key // vocab_size] + delimiter + words[key % vocab_size]
    if text not in index:  # a phrase may spell a word the text already has
      index[text] = len(words)
      words.append(text)
    ids_T[t] = index[text]
  wide = len(words) > np.iinfo(np.int32).max
  ids_N = tokens.ids_N.astype(np.int64 if wide else np.int32, copy=True)
  ids_N[where_J] = ids_T[type_J]
  removed_N = np.zeros(len(ids_N), bool)
  removed_N[where_J + 1] = True
  removed_before = np.concatenate([[0], np.cumsum(removed_N)])
  offsets = tokens.offsets - removed_before[tokens.offsets]
  return Tokens(ids_N=ids_N[~removed_N], offsets=offsets, words=words), ids_T


def run_pass(tokens: Tokens, threshold: float, *, scoring: str = "word2vec",
             min_count: int = 5, delimiter: str = "_", index: dict | None = None) -> Pass:
  """One pass: count, score, join (module docstring). `index` (word -> id of
  tokens.words) is extended with the new phrases; built when not given."""
  start = time.time()
  if index is None:
    index = {w: i for i, w in enumerate(tokens.words)}
  n = len(tokens.ids_N)
  counts = count(tokens, scoring, min_count, delimiter, index)
  words_V, pair_P = counts["words_V"], counts["pair_P"]
  a_P, b_P = tokens.ids_N[:-1], tokens.ids_N[1:]
  scores_P = np.full(len(pair_P), -np.inf)
  looked_P = counts["within_P"] & (pair_P > 0)
  scores_P[looked_P] = score(scoring, words_V[a_P[looked_P]], words_V[b_P[looked_P]],
                             pair_P[looked_P], min_count=min_count, train_words=n,
                             len_vocab=counts["len_vocab"])
  if scoring == "word2vec":
    accept_P = scores_P > np.float32(threshold)
  else:
    accept_P = scores_P > threshold
  joined_P = greedy(accept_P)
  where_J = np.flatnonzero(joined_P)
  keys_T, first_T, type_J, joins_T = np.unique(
      counts["keys_P"][where_J], return_index=True, return_inverse=True, return_counts=True)
  joined, ids_T = _join(tokens, joined_P, keys_T, type_J.reshape(-1), delimiter, index)
  first_T = where_J[first_T]
  phrases = [(joined.words[i], int(pair_P[p]), float(scores_P[p]), int(j))
             for i, p, j in zip(ids_T.tolist(), first_T.tolist(), joins_T.tolist())]
  phrases.sort(key=lambda row: (-row[2], row[0]))
  stats = {"tokens_in": n, "tokens_out": len(joined.ids_N), "joins": int(joined_P.sum()),
           "phrase_types": len(keys_T), "accepted_pairs": int(accept_P.sum()),
           "seconds": round(time.time() - start, 3)}
  return Pass(tokens=joined, phrases=phrases, stats=stats)


def find_phrases(tokens: Tokens, thresholds, *, scoring: str = "word2vec", min_count: int = 5,
                 delimiter: str = "_") -> list:
  """One Pass per threshold, each on the output of the one before."""
  index = {w: i for i, w in enumerate(tokens.words)}
  passes = []
  for threshold in thresholds:
    passes.append(run_pass(tokens, threshold, scoring=scoring, min_count=min_count,
                           delimiter=delimiter, index=index))
    tokens = passes[-1].tokens
  return passes


def write_text(path: str, tokens: Tokens) -> None:
  """One sentence a line, tokens separated by a space; built as bytes with NumPy."""
  encoded = [w.encode("utf-8") for w in tokens.words]
  lengths_V = np.array([len(b) for b in encoded], np.int64)
  starts_V = np.concatenate([[0], np.cumsum(lengths_V)[:-1]]).astype(np.int64)
  chars = np.frombuffer(b"".join(encoded) + b" ", np.uint8)
  ends_N = np.zeros(len(tokens.ids_N), bool)
  ends_N[tokens.offsets[1:] - 1] = True
  with files.atomic_write(path, "wb") as f:
    for a in range(0, len(tokens.ids_N), _WRITE_TOKENS):
      ids_B = tokens.ids_N[a:a + _WRITE_TOKENS]
      size_B = lengths_V[ids_B] + 1  # the word and its separator
      out_end_B = np.cumsum(size_B)
      total = int(out_end_B[-1])
      # byte k of the block comes from chars[start of its word + k - start of its slot]
      src = np.arange(total, dtype=np.int64) + np.repeat(starts_V[ids_B] - (out_end_B - size_B),
                                                        size_B)
      out = chars[np.minimum(src, len(chars) - 1)]
      out[out_end_B - 1] = np.where(ends_N[a:a + _WRITE_TOKENS], ord("\n"), ord(" "))
      f.write(out.tobytes())


def write_table(path: str, passes: list) -> None:
  """pass, phrase, count, score, joins: each pass's accepted phrases, best first."""
  with files.atomic_write(path, "w", encoding="utf-8", newline="\n") as f:
    f.write("pass\tphrase\tcount\tscore\tjoins\n")
    for k, found in enumerate(passes, 1):
      for phrase, pair_count, value, joins in found.phrases:
        f.write(f"{k}\t{phrase}\t{pair_count}\t{value:.6g}\t{joins}\n")


def make(config, path: str) -> str:
  """--mode=phrases: WORKDIR/phrases.txt and phrases.tsv from the corpus file `path`
  (--corpus, as datasets.resolve names it); returns the text's path."""
  thresholds = parse_thresholds(config.phrase_threshold, config.phrase_passes)
  start = time.time()
  tokens = from_corpus(path, lowercase=config.lowercase, cache_dir=config.cache_dir)
  logging.info("read %s: %d tokens, %d sentences, %d distinct words (%.1f s)", path,
               len(tokens.ids_N), len(tokens.offsets) - 1, len(tokens.words),
               time.time() - start)
  passes = find_phrases(tokens, thresholds, scoring=config.phrase_scoring,
                        min_count=config.phrase_min_count, delimiter=config.phrase_delimiter)
  for k, (found, threshold) in enumerate(zip(passes, thresholds), 1):
    s = found.stats
    examples = ", ".join(p[0] for p in found.phrases[:5])
    logging.info("pass %d (threshold %g): %d joins of %d phrase types, %d -> %d tokens "
                 "(%.1f s); best: %s", k, threshold, s["joins"], s["phrase_types"],
                 s["tokens_in"], s["tokens_out"], s["seconds"], examples)
  out = os.path.join(config.workdir, "phrases.txt")
  write_text(out, passes[-1].tokens)
  write_table(os.path.join(config.workdir, "phrases.tsv"), passes)
  logging.info("wrote %s and phrases.tsv in %.1f s in all", out, time.time() - start)
  return out
