"""The standard intrinsic evaluations of word vectors (read by word2vec_format.py), which
refuse vectors holding NaN or infinite values (word2vec_format.refuse_non_finite).

* `evaluate_analogies`: questions-words.txt accuracy with 3CosAdd or 3CosMul,
  question for question the same as gensim 4.4's
  `KeyedVectors.evaluate_word_analogies(path, restrict_vocab, case_insensitive)`
  (for 3CosAdd; gensim has no 3CosMul evaluation), but scored in blocks of
  questions as matrix products instead of one `most_similar` call each.
* `evaluate_similarity`: Spearman and Pearson correlation with human scores
  (WordSim-353, SimLex-999), as gensim's `evaluate_word_pairs`.
* `nearest_neighbors`, `most_similar`, `evaluate_all`, `format_summary`.

How gensim's analogy evaluation works, and so how this one does:
  1. The vocabulary is the first `restrict_vocab` rows of the vectors file
     (word2vec.c and our export write them in descending frequency).
  2. With case_insensitive, question words and vocabulary words are upper-cased;
     where several vocabulary words fold to one key, the first (most frequent)
     row stands for it.
  3. A question "a b c expected" whose four words are not all in that
     vocabulary is skipped: it counts in "questions" but not in "seen".
  4. 3CosAdd ranks every restricted row x by cos(x, b - a + c) on unit vectors
     (gensim normalises the combined vector; that does not change the order)
     leaving out the rows standing for a, b and c, and takes the top 5. The
     prediction is the first of those 5 whose folded spelling is not a, b or
     c: another case variant of an input word ("Paris" for "PARIS") is passed
     over, while a variant of the expected word counts as correct. If all 5
     are variants of the inputs, the last of them is the prediction (so the
     question is wrong unless its expected word is also one of a, b, c).
  Ties between equal scores go to the earlier row here; gensim's argpartition
  leaves their order unspecified, so exactly tied vectors can differ.
  5. Accuracy = correct / seen, per section and in total.
3CosMul uses the same vocabulary, exclusions and top-5 rule with its own
score; with case_insensitive=False and the whole vocabulary its prediction is
gensim's most_similar_cosmul top-1 (given gensim's epsilon, 1e-6).
"""

import math
import os
import re

import numpy as np

from w2v_jax import gensim_data
from w2v_jax import word2vec_format
from w2v_jax.errors import UserError

ANALOGIES = "questions-words.txt"
WS353 = "wordsim353.tsv"
SIMLEX = "simlex999.txt"
# questions-words.txt: capital-common-countries, capital-world, currency,
# city-in-state, family are semantic; the 9 gram* sections after them syntactic.
SEMANTIC_SECTIONS = 5
COSMUL_EPSILON = 1e-3  # Levy & Goldberg (2014); gensim's most_similar_cosmul uses 1e-6
_TOP = 5  # gensim's evaluate_word_analogies looks at most_similar(topn=5)
_BLOCK = 256  # questions scored per matrix product: a [B, V] float32 block


# ------------------------------------------------------------------ shared


def unit_rows(vectors_VxD: np.ndarray) -> np.ndarray:
  """Rows scaled to length 1 (float32); all-zero rows stay zero."""
  vectors_VxD = np.asarray(vectors_VxD, np.float32)
  norms_V = np.linalg.norm(vectors_VxD, axis=1, keepdims=True)
  return vectors_VxD / np.where(norms_V > 0, norms_V, 1)


def _fold(word: str, case_insensitive: bool) -> str:
  return word.upper() if case_insensitive else word


def lookup_table(words, case_insensitive: bool) -> dict[str, int]:
  """Folded spelling -> row of its first (most frequent) occurrence."""
  table = {}
  for i, word in enumerate(words):
    table.setdefault(_fold(word, case_insensitive), i)
  return table


# ------------------------------------------------------------------ analogies


def read_analogies(path: str) -> list[tuple[str, list[tuple[str, str, str, str]]]]:
  """questions-words.txt -> [(section name, [(a, b, c, expected), ...]), ...]."""
  if not os.path.isfile(path):
    raise UserError(f"analogy file {path} does not exist; check the path")
  sections = []
  with open(path, encoding="utf-8", errors="replace") as f:
    for line_no, line in enumerate(f, 1):
      if line.startswith(": "):
        sections.append((line[2:].strip(), []))
        continue
      parts = line.split()
      if not parts:
        continue
      if not sections:
        raise UserError(f"{path}:{line_no}: question before any ': section' line; "
                        "start the file with a line like ': capital-common-countries'")
      if len(parts) != 4:
        raise UserError(f"{path}:{line_no}: expected 4 words 'a b c d', found {len(parts)}; "
                        "fix or remove that line")
      sections[-1][1].append(tuple(parts))
  if not any(questions for _, questions in sections):
    raise UserError(f"{path} holds no analogy questions; expected ': section' lines, each "
                    "followed by lines 'a b c d' (the format of questions-words.txt)")
  return sections


def _scores_3cosadd(unit_VxD, a_B, b_B, c_B):
  """cos(x, b) - cos(x, a) + cos(x, c) = x . (b - a + c) for every row x: [B, V]."""
  query_BxD = unit_VxD[b_B] - unit_VxD[a_B] + unit_VxD[c_B]
  return query_BxD @ unit_VxD.T


def _scores_3cosmul(unit_VxD, a_B, b_B, c_B, epsilon):
  """cos'(x, b) cos'(x, c) / (cos'(x, a) + eps), cos' = (cos + 1) / 2: [B, V].

  Levy & Goldberg (2014), eq. 4 with the shift of footnote 7 that keeps every
  factor non-negative.
  """
  b = len(a_B)
  cos_3BxV = unit_VxD[np.concatenate([a_B, b_B, c_B])] @ unit_VxD.T
  cos_3BxV += 1  # in place: these [B, V] blocks dominate the run time after the product
  cos_3BxV *= 0.5
  ca_BxV, cb_BxV, cc_BxV = cos_3BxV[:b], cos_3BxV[b:2 * b], cos_3BxV[2 * b:]
  cb_BxV *= cc_BxV
  ca_BxV += epsilon
  cb_BxV /= ca_BxV
  return cb_BxV


def top_k(scores_BxV: np.ndarray, k: int) -> np.ndarray:
  """Indices of the k highest scores per row, best first: [B, k].

  k rounds of argmax, each masking its winner with -inf in `scores_BxV`
  (modified in place): for k <= 10 this is several times faster than
  argpartition. Ties go to the lower row, i.e. the more frequent word.
  """
  k = min(k, scores_BxV.shape[1])
  rows_B = np.arange(scores_BxV.shape[0])
  best_BxK = np.empty((scores_BxV.shape[0], k), np.int64)
  for j in range(k):
    best_BxK[:, j] = np.argmax(scores_BxV, axis=1)
    if j + 1 < k:
      scores_BxV[rows_B, best_BxK[:, j]] = -np.inf
  return best_BxK


def _pick(candidates, folded, ignore):
  """gensim's choice among the top candidates: the first that is not an input."""
  predicted = None
  for i in candidates:
    predicted = folded[i]
    if predicted not in ignore:
      break
  return predicted


def predict_analogies(unit_VxD, folded, questions_Qx4, method="3cosadd",
                      epsilon=COSMUL_EPSILON, block=_BLOCK) -> list[str]:
  """Folded predicted word per question; questions_Qx4 are row indices a b c d."""
  predictions = []
  for start in range(0, len(questions_Qx4), block):
    q_Bx4 = questions_Qx4[start:start + block]
    a_B, b_B, c_B = q_Bx4[:, 0], q_Bx4[:, 1], q_Bx4[:, 2]
    if method == "3cosadd":
      scores_BxV = _scores_3cosadd(unit_VxD, a_B, b_B, c_B)
    else:
      scores_BxV = _scores_3cosmul(unit_VxD, a_B, b_B, c_B, epsilon)
    rows_B = np.arange(len(q_Bx4))
    for i_B in (a_B, b_B, c_B):
      scores_BxV[rows_B, i_B] = -np.inf
    # Rows a, b, c sit at -inf; only a vocabulary under 8 words reaches them.
    n_inputs_B = np.array([len(set(q_4[:3])) for q_4 in q_Bx4.tolist()])
    best_BxK = top_k(scores_BxV, _TOP)
    for q_4, candidates_K, n_inputs in zip(q_Bx4, best_BxK, n_inputs_B):
      ignore = {folded[i] for i in q_4[:3]}
      candidates = candidates_K[:len(unit_VxD) - n_inputs]
      predictions.append(_pick(candidates, folded, ignore))
  return predictions


def _accuracy(correct: int, seen: int) -> float:
  return correct / seen if seen else 0.0


def evaluate_analogies(words, vectors_VxD, path: str, restrict_vocab: int = 30000,
                       method: str = "3cosadd", case_insensitive: bool = True,
                       epsilon: float = COSMUL_EPSILON,
                       return_predictions: bool = False) -> dict:
  """Analogy accuracy on a questions-words.txt style file (see module docstring).

  Returns {"total", "semantic", "syntactic"}: accuracies over seen questions,
  semantic being the first SEMANTIC_SECTIONS sections by position; "seen",
  "questions"; "sections": {name: {"correct", "seen", "total", "accuracy"}}.
  With return_predictions, also "predictions": per seen question in file
  order, (section, (a, b, c, expected), predicted), words folded.
  `epsilon` is only used by 3cosmul.
  """
  if method not in ("3cosadd", "3cosmul"):
    raise UserError(f"unknown analogy method {method!r}; use '3cosadd' or '3cosmul'")
  restricted = list(words[:restrict_vocab])
  unit_VxD = unit_rows(np.asarray(vectors_VxD)[:len(restricted)])
  folded = [_fold(w, case_insensitive) for w in restricted]
  table = lookup_table(restricted, case_insensitive)

  sections = read_analogies(path)
  seen_rows, seen_where = [], []  # row indices of seen questions; (section, question)
  for s, (_, questions) in enumerate(sections):
    for question in questions:
      question = tuple(_fold(w, case_insensitive) for w in question)
      rows = [table.get(w) for w in question]
      if None not in rows:
        seen_rows.append(rows)
        seen_where.append((s, question))
  questions_Qx4 = np.asarray(seen_rows, np.int64).reshape(-1, 4)
  predictions = predict_analogies(unit_VxD, folded, questions_Qx4, method, epsilon)

  correct_S = [0] * len(sections)
  seen_S = [0] * len(sections)
  for (s, question), predicted in zip(seen_where, predictions):
    seen_S[s] += 1
    correct_S[s] += predicted == question[3]
  k = SEMANTIC_SECTIONS
  result = {
      "total": _accuracy(sum(correct_S), sum(seen_S)),
      "semantic": _accuracy(sum(correct_S[:k]), sum(seen_S[:k])),
      "syntactic": _accuracy(sum(correct_S[k:]), sum(seen_S[k:])),
      "seen": sum(seen_S),
      "questions": sum(len(q) for _, q in sections),
      "sections": {},
  }
  for (name, questions), correct, seen in zip(sections, correct_S, seen_S):
    entry = result["sections"].setdefault(name, {"correct": 0, "seen": 0, "total": 0})
    entry["correct"] += correct
    entry["seen"] += seen
    entry["total"] += len(questions)
    entry["accuracy"] = _accuracy(entry["correct"], entry["seen"])
  if return_predictions:
    result["predictions"] = [(sections[s][0], question, predicted)
                             for (s, question), predicted in zip(seen_where, predictions)]
  return result


# ------------------------------------------------------------------ word pairs


def read_word_pairs(path: str) -> list[tuple[str, str, float]]:
  """Lines "word1 word2 score" (tab or space separated) -> [(w1, w2, score)].

  Blank lines and lines starting with '#' are skipped, and so is a first
  non-comment line whose score is not a number (a column header, as in the
  original WordSim-353 "Word 1<TAB>Word 2<TAB>Human (mean)").
  """
  if not os.path.isfile(path):
    raise UserError(f"word-pair file {path} does not exist; check the path")
  pairs = []
  first = True
  with open(path, encoding="utf-8", errors="replace") as f:
    for line_no, line in enumerate(f, 1):
      if not line.strip() or line.startswith("#"):
        continue
      parts = line.rstrip("\r\n").split("\t") if "\t" in line else line.split()
      parts = [p.strip() for p in parts]
      try:
        score = float(parts[2]) if len(parts) == 3 else None
      except ValueError:
        if first:
          first = False
          continue
        raise UserError(f"{path}:{line_no}: score {parts[2]!r} is not a number; "
                        "fix or remove that line") from None
      if score is None:
        raise UserError(f"{path}:{line_no}: expected 'word1 word2 score', found {len(parts)} "
                        "fields; fix or remove that line")
      first = False
      pairs.append((parts[0], parts[1], score))
  if not pairs:
    raise UserError(f"{path} holds no word pairs; expected lines 'word1 word2 score'")
  return pairs


def _average_ranks(x_N: np.ndarray) -> np.ndarray:
  """Ranks 1..N, ties sharing the mean of their ranks (as scipy.stats.rankdata)."""
  order_N = np.argsort(x_N, kind="stable")
  sorted_N = x_N[order_N]
  starts = np.flatnonzero(np.r_[True, sorted_N[1:] != sorted_N[:-1]])
  ends = np.r_[starts[1:], len(x_N)]
  mean_rank_G = (starts + ends + 1) / 2  # ranks start..end-1 (0-based) -> mean, 1-based
  ranks_N = np.empty(len(x_N))
  ranks_N[order_N] = np.repeat(mean_rank_G, ends - starts)
  return ranks_N


def pearson(x_N, y_N) -> float:
  x_N = np.asarray(x_N, np.float64) - np.mean(x_N)
  y_N = np.asarray(y_N, np.float64) - np.mean(y_N)
  denom = math.sqrt(np.dot(x_N, x_N) * np.dot(y_N, y_N))
  return float(np.dot(x_N, y_N) / denom) if denom > 0 else math.nan


def spearman(x_N, y_N) -> float:
  """Pearson correlation of the average ranks."""
  return pearson(_average_ranks(np.asarray(x_N)), _average_ranks(np.asarray(y_N)))


def evaluate_similarity(words, vectors_VxD, path: str, restrict_vocab: int = 300000,
                        case_insensitive: bool = True) -> dict:
  """Correlation of cosine similarity with human scores, as gensim's evaluate_word_pairs.

  Pairs with a word outside the first `restrict_vocab` words are skipped
  (gensim's dummy4unknown=False). Returns {"spearman", "pearson"} (nan with
  fewer than 2 pairs), "oov": fraction of the file's pairs skipped, "pairs":
  pairs scored.
  """
  restricted = list(words[:restrict_vocab])
  table = lookup_table(restricted, case_insensitive)
  gold, rows_a, rows_b = [], [], []
  pairs = read_word_pairs(path)
  for w1, w2, score in pairs:
    i, j = table.get(_fold(w1, case_insensitive)), table.get(_fold(w2, case_insensitive))
    if i is not None and j is not None:
      gold.append(score)
      rows_a.append(i)
      rows_b.append(j)
  unit_VxD = unit_rows(np.asarray(vectors_VxD)[:len(restricted)])
  model_N = np.sum(unit_VxD[rows_a] * unit_VxD[rows_b], axis=1)
  enough = len(gold) >= 2
  return {
      "spearman": spearman(gold, model_N) if enough else math.nan,
      "pearson": pearson(gold, model_N) if enough else math.nan,
      "oov": (len(pairs) - len(gold)) / len(pairs) if pairs else 0.0,
      "pairs": len(gold),
  }


# ------------------------------------------------------------------ neighbours


def query_terms(query: str, table: dict) -> list:
  """"russian+river" -> [(+1, row), (+1, row)]; "-" subtracts. A query that is itself a
  word ("well-known") is that word; [] if a term is not in `table`."""
  if query in table:
    return [(1.0, table[query])]
  parts = re.split(r"([+-])", query)
  signs, terms = [1.0] + [1.0 if p == "+" else -1.0 for p in parts[1::2]], parts[0::2]
  if not all(t in table for t in terms):
    return []
  return [(sign, table[t]) for sign, t in zip(signs, terms)]


def nearest_neighbors(words, vectors_VxD, queries, k: int = 10) -> dict:
  """{query: [(word, cosine), ...k best, the query's own rows left out]}.

  Queries are matched exactly (case-sensitive), to their first row; a query
  "a+b-c" is the sum of those unit vectors, as the compositionality of
  Mikolov et al. 2013b (Table 5) and word2vec.c's distance. Unknown queries
  are left out and listed under "_unknown" (a key present only when some are
  unknown); if every query is unknown, UserError.
  """
  word2vec_format.refuse_non_finite(words, vectors_VxD, "the vectors")
  table = lookup_table(words, case_insensitive=False)
  terms = {q: query_terms(q, table) for q in queries}
  known = [q for q in queries if terms[q]]
  unknown = [q for q in queries if not terms[q]]
  if queries and not known:
    raise UserError(f"none of the query words {', '.join(unknown)} is in the vocabulary; "
                    "check their spelling and case")
  result = {}
  if known:
    found = _nearest(unit_rows(vectors_VxD), words, [terms[q] for q in known], k)
    result.update(zip(known, found))
  if unknown:
    result["_unknown"] = unknown
  return result


def most_similar(unit_VxD, words, table: dict, positive: list, negative: list,
                 topn: int = 10) -> list:
  """[(word, cosine), ...] best first: the rows nearest to the positive words' unit
  vectors minus the negative ones' (normalised; its direction is gensim's
  KeyedVectors.most_similar's unit mean), the query words left out. UserError
  for an unknown word."""
  missing = [w for w in positive + negative if w not in table]
  if missing:
    raise UserError(f"not in the vocabulary: {', '.join(missing)}")
  if not positive and not negative:
    raise UserError("most_similar needs at least one positive or negative word")
  terms = [(1.0, table[w]) for w in positive] + [(-1.0, table[w]) for w in negative]
  return _nearest(unit_VxD, words, [terms], topn)[0]


def _nearest(unit_VxD, words, terms_B: list, k: int) -> list:
  """For each query, given as (sign, row) terms: the k best [(word, cosine), ...]
  against the unit sum of its signed unit rows (one term's row as it is), the
  query's own rows left out. Shared by nearest_neighbors and most_similar."""
  query_BxD = np.stack([sum(sign * unit_VxD[row] for sign, row in terms) for terms in terms_B])
  summed_B = np.array([len(terms) > 1 for terms in terms_B])
  query_BxD[summed_B] = unit_rows(query_BxD[summed_B])  # a single word's row is a unit already
  scores_BxV = query_BxD @ unit_VxD.T
  scores_BxV[~np.isfinite(scores_BxV)] = -np.inf  # a NaN row is never anyone's neighbour
  for b, terms in enumerate(terms_B):
    scores_BxV[b, [row for _, row in terms]] = -np.inf
  best_BxK = top_k(scores_BxV.copy(), min(k, len(words) - 1))
  return [[(words[i], float(scores_V[i])) for i in best_K if scores_V[i] > -np.inf]
          for best_K, scores_V in zip(best_BxK, scores_BxV)]


# ------------------------------------------------------------------ all


def evaluate_all(words, vectors_VxD, analogies_path: str | None = None,
                 ws353_path: str | None = None, simlex_path: str | None = None,
                 restrict_vocab: int = 30000, method: str = "3cosadd") -> dict:
  """{"analogy": ..., "ws353": ..., "simlex": ...} on gensim's test files by default.

  restrict_vocab applies to the analogies; the word pairs use gensim's 300000.
  UserError if a vector holds NaN or infinite values: they would score as wrong
  answers, silently.
  """
  word2vec_format.refuse_non_finite(words, vectors_VxD, "the vectors")
  return {
      "analogy": evaluate_analogies(words, vectors_VxD,
                                    analogies_path or gensim_data.find(ANALOGIES),
                                    restrict_vocab=restrict_vocab, method=method),
      "ws353": evaluate_similarity(words, vectors_VxD, ws353_path or gensim_data.find(WS353)),
      "simlex": evaluate_similarity(words, vectors_VxD, simlex_path or gensim_data.find(SIMLEX)),
  }


def format_summary(results: dict) -> str:
  """A few aligned lines for a log or a terminal."""
  if not results:
    return "evaluation       skipped (--noevaluate)"
  a = results["analogy"]
  k = SEMANTIC_SECTIONS
  sections = list(a["sections"].values())
  semantic_seen = sum(s["seen"] for s in sections[:k])
  syntactic_seen = sum(s["seen"] for s in sections[k:])
  lines = [
      f"analogy total     {100 * a['total']:5.1f}%  ({a['seen']}/{a['questions']} questions seen)",
      f"analogy semantic  {100 * a['semantic']:5.1f}%  ({semantic_seen}/"
      f"{sum(s['total'] for s in sections[:k])})",
      f"analogy syntactic {100 * a['syntactic']:5.1f}%  ({syntactic_seen}/"
      f"{sum(s['total'] for s in sections[k:])})",
  ]
  for key, label in (("ws353", "WS353"), ("simlex", "SimLex999")):
    r = results[key]
    lines.append(f"{label:<17} Spearman {r['spearman']:.3f}  ({100 * r['oov']:.1f}% pairs OOV)")
  return "\n".join(lines)
