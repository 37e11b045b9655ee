import math

import numpy as np
import pytest
from gensim.models import KeyedVectors
from scipy import stats

from w2v_jax import gensim_data
from w2v_jax import metrics
from w2v_jax.errors import UserError
from w2v_jax.word2vec_format import write_word2vec

# gensim's most_similar_cosmul calls its own deprecated init_sims.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

D = 12


def _analogy_sections():
  return metrics.read_analogies(gensim_data.find(metrics.ANALOGIES))


def _pair_words(name):
  pairs = metrics.read_word_pairs(gensim_data.find(name))
  return [w for w1, w2, _ in pairs for w in (w1, w2)]


def _planted_vectors(rng, words):
  """Random vectors where b ~ a + r_section for several sections' (a, b) pairs.

  Constraints overwrite each other across sections, so some questions are
  answered right and many wrong: both lists are non-trivial.
  """
  index = {w: i for i, w in enumerate(words)}
  vectors_VxD = rng.standard_normal((len(words), D)).astype(np.float32)
  for name, questions in _analogy_sections():
    if name not in ("capital-common-countries", "family", "gram8-plural", "gram3-comparative"):
      continue
    r_D = rng.standard_normal(D)
    for a, b, c, d in questions:
      for x, y in ((a, b), (c, d)):
        vectors_VxD[index[y]] = vectors_VxD[index[x]] + r_D + 0.4 * rng.standard_normal(D)
  return vectors_VxD


def _with_case_variants(rng, words, vectors_VxD):
  """Adds case variants: some after the original (never used for lookups, but
  predicted), some before it (they stand for the word), some near-copies."""
  words, rows = list(words), list(vectors_VxD)
  taken = set(words)
  picks = rng.choice(len(words), size=120, replace=False)
  for n, i in enumerate(picks):
    word, row = words[i], vectors_VxD[i]
    variant = word.lower() if word != word.lower() else word.upper()
    if variant in taken:
      continue
    taken.add(variant)
    if n % 3 == 0:  # a near-copy after the word: a likely prediction, folded to the word
      words.append(variant)
      rows.append(row + 1e-2 * rng.standard_normal(D).astype(np.float32))
    elif n % 3 == 1:  # a different vector placed first: folding must pick it
      words.insert(0, variant)
      rows.insert(0, rng.standard_normal(D).astype(np.float32))
    else:  # a different vector after the word: only ever a candidate
      words.append(variant)
      rows.append(rng.standard_normal(D).astype(np.float32))
  return words, np.asarray(rows, np.float32)


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
  """(words, vectors, path): the analogy words exactly, no case variants."""
  rng = np.random.default_rng(0)
  words = list(dict.fromkeys(w for _, qs in _analogy_sections() for q in qs for w in q))
  vectors_VxD = _planted_vectors(rng, words)
  path = str(tmp_path_factory.mktemp("vec") / "plain.bin")
  write_word2vec(path, words, vectors_VxD, binary=True)
  return words, vectors_VxD, path


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, plain):
  """Analogy words, word-pair words and case variants, in a shuffled order."""
  rng = np.random.default_rng(1)
  words, vectors_VxD, _ = plain
  extra = [w for w in dict.fromkeys(_pair_words(metrics.WS353) + _pair_words(metrics.SIMLEX))
           if w not in set(words)]
  words = words + extra
  vectors_VxD = np.concatenate([vectors_VxD, rng.standard_normal((len(extra), D))])
  order = rng.permutation(len(words))
  words, vectors_VxD = _with_case_variants(rng, [words[i] for i in order], vectors_VxD[order])
  path = str(tmp_path_factory.mktemp("vec") / "mixed.bin")
  write_word2vec(path, words, vectors_VxD, binary=True)
  return words, vectors_VxD, path


def _gensim(path):
  return KeyedVectors.load_word2vec_format(path, binary=True)


# ------------------------------------------------------------------ analogies


@pytest.mark.parametrize("restrict_vocab", [100000, 400])
def test_3cosadd_matches_gensim_question_for_question(mixed, restrict_vocab):
  words, vectors_VxD, path = mixed
  questions = gensim_data.find(metrics.ANALOGIES)
  ours = metrics.evaluate_analogies(words, vectors_VxD, questions, restrict_vocab=restrict_vocab,
                                     return_predictions=True)
  score, theirs = _gensim(path).evaluate_word_analogies(
      questions, restrict_vocab=restrict_vocab, case_insensitive=True)
  assert theirs[-1]["section"] == "Total accuracy"
  theirs = theirs[:-1]
  assert [s["section"] for s in theirs] == list(ours["sections"])
  for section in theirs:
    name = section["section"]
    mine = [(q, p) for s, q, p in ours["predictions"] if s == name]
    assert [q for q, p in mine if p == q[3]] == section["correct"], name
    assert [q for q, p in mine if p != q[3]] == section["incorrect"], name
    assert ours["sections"][name]["seen"] == len(section["correct"]) + len(section["incorrect"])
  assert ours["total"] == pytest.approx(score)
  assert 0 < ours["total"] < 1  # the planted structure makes both outcomes happen
  assert ours["questions"] == 19544
  assert 0 < ours["seen"] <= 19544


def test_case_variants_matter_in_the_fixture(mixed):
  """Guards the test above: folding changes answers, so it does check folding."""
  words, vectors_VxD, _ = mixed
  questions = gensim_data.find(metrics.ANALOGIES)
  folded = metrics.evaluate_analogies(words, vectors_VxD, questions, return_predictions=True)
  exact = metrics.evaluate_analogies(words, vectors_VxD, questions, case_insensitive=False,
                                      return_predictions=True)
  assert folded["seen"] == exact["seen"]  # every question word is in the vocabulary as spelt
  changed = sum(p.upper() != q for (*_, p), (*_, q) in zip(exact["predictions"],
                                                            folded["predictions"]))
  assert changed > 10


def test_case_variants_of_inputs_are_skipped_and_of_the_answer_count(tmp_path):
  path = tmp_path / "q.txt"
  path.write_text(": s\na b c d\n")
  # b - a + c = (-1, 1, 1): "B" (a variant of input b) is nearest, then "d".
  words = ["a", "b", "c", "B", "d"]
  vectors_VxD = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [-1, 1, 1], [-1, 1, .5]], np.float32)
  # As above but "d" is far and its variant "D" sits on the target.
  words2 = ["a", "b", "c", "d", "D"]
  vectors2_VxD = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [-1, 1, 1]], np.float32)
  for w, v in ((words, vectors_VxD), (words2, vectors2_VxD)):
    result = metrics.evaluate_analogies(w, v, str(path), return_predictions=True)
    assert result["predictions"] == [("s", ("A", "B", "C", "D"), "D")]
    vec_path = str(tmp_path / "v.bin")
    write_word2vec(vec_path, w, v)
    _, theirs = _gensim(vec_path).evaluate_word_analogies(str(path), case_insensitive=True)
    assert theirs[0]["correct"] == [("A", "B", "C", "D")]


def test_semantic_is_the_first_five_sections(plain):
  words, vectors_VxD, _ = plain
  result = metrics.evaluate_analogies(words, vectors_VxD,
                                       gensim_data.find(metrics.ANALOGIES))
  sections = list(result["sections"].values())
  assert len(sections) == 14
  correct = sum(s["correct"] for s in sections[:5])
  seen = sum(s["seen"] for s in sections[:5])
  assert result["semantic"] == pytest.approx(correct / seen)
  correct = sum(s["correct"] for s in sections[5:])
  seen = sum(s["seen"] for s in sections[5:])
  assert result["syntactic"] == pytest.approx(correct / seen)
  assert result["seen"] == result["questions"] == 19544  # every analogy word is in the vocab


def test_3cosmul_matches_gensim_most_similar_cosmul(plain):
  words, vectors_VxD, path = plain
  result = metrics.evaluate_analogies(
      words, vectors_VxD, gensim_data.find(metrics.ANALOGIES), restrict_vocab=len(words),
      method="3cosmul", case_insensitive=False, epsilon=1e-6, return_predictions=True)
  kv = _gensim(path)
  sample = np.random.default_rng(2).choice(len(result["predictions"]), size=300, replace=False)
  for i in sample:
    _, (a, b, c, _), predicted = result["predictions"][i]
    assert kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=1)[0][0] == predicted
  adds = metrics.evaluate_analogies(
      words, vectors_VxD, gensim_data.find(metrics.ANALOGIES), case_insensitive=False,
      return_predictions=True)
  assert [p for *_, p in adds["predictions"]] != [p for *_, p in result["predictions"]]


def test_tiny_vocabulary_where_inputs_crowd_the_top_five(tmp_path):
  """Only one candidate besides the inputs: gensim's top-5 list holds just it."""
  path = tmp_path / "q.txt"
  path.write_text(": s\na b c d\na b c a\n")
  vectors_VxD = np.eye(4, dtype=np.float32)
  result = metrics.evaluate_analogies(list("abcd"), vectors_VxD, str(path),
                                       return_predictions=True)
  assert [p for *_, p in result["predictions"]] == ["D", "D"]
  assert result["sections"]["s"] == {"correct": 1, "seen": 2, "total": 2, "accuracy": 0.5}


def test_bad_analogy_file_names_file_and_line(tmp_path, plain):
  words, vectors_VxD, _ = plain
  path = tmp_path / "q.txt"
  path.write_text(": s\nAthens Greece Baghdad Iraq\nAthens Greece Baghdad\n")
  with pytest.raises(UserError, match=f"{path}:3: expected 4 words"):
    metrics.evaluate_analogies(words, vectors_VxD, str(path))
  path.write_text("Athens Greece Baghdad Iraq\n")
  with pytest.raises(UserError, match=f"{path}:1: question before any"):
    metrics.evaluate_analogies(words, vectors_VxD, str(path))
  with pytest.raises(UserError, match="unknown analogy method"):
    metrics.evaluate_analogies(words, vectors_VxD, str(path), method="3cosdiv")


# ------------------------------------------------------------------ word pairs


@pytest.mark.parametrize("name", [metrics.WS353, metrics.SIMLEX])
@pytest.mark.parametrize("restrict_vocab", [300000, 700])
def test_similarity_matches_gensim(mixed, name, restrict_vocab):
  words, vectors_VxD, path = mixed
  pairs = gensim_data.find(name)
  ours = metrics.evaluate_similarity(words, vectors_VxD, pairs, restrict_vocab=restrict_vocab)
  pearson, spearman, oov_percent = _gensim(path).evaluate_word_pairs(
      pairs, restrict_vocab=restrict_vocab, case_insensitive=True)
  assert ours["spearman"] == pytest.approx(spearman[0], abs=1e-9)
  assert ours["pearson"] == pytest.approx(pearson[0], abs=1e-6)
  assert ours["oov"] == pytest.approx(oov_percent / 100)
  assert ours["pairs"] > 10


def test_similarity_is_one_for_identical_vectors(tmp_path):
  path = tmp_path / "pairs.txt"
  path.write_text("# comment\nword1 word2 score\na b 1\na c 2\nb c 3\nA zz 4\n")
  words = ["a", "b", "c"]
  vectors_VxD = np.array([[1, 0], [1, 1], [0, 1]], np.float32)  # cos: ab .71, ac 0, bc .71
  result = metrics.evaluate_similarity(words, vectors_VxD, str(path))
  assert result["pairs"] == 3 and result["oov"] == 0.25
  assert result["pearson"] == pytest.approx(stats.pearsonr([1, 2, 3], [0.7071, 0, 0.7071])[0],
                                            abs=1e-4)
  assert result["spearman"] == pytest.approx(0.0, abs=1e-12)


def test_spearman_with_ties_matches_scipy():
  rng = np.random.default_rng(3)
  x_N, y_N = rng.integers(0, 5, 50), rng.standard_normal(50).round(1)
  assert metrics.spearman(x_N, y_N) == pytest.approx(stats.spearmanr(x_N, y_N)[0], abs=1e-12)
  assert metrics.pearson(x_N, y_N) == pytest.approx(stats.pearsonr(x_N, y_N)[0], abs=1e-12)
  assert math.isnan(metrics.pearson([1, 1, 1], [1, 2, 3]))


def test_bad_pair_file_names_file_and_line(tmp_path):
  path = tmp_path / "pairs.txt"
  path.write_text("a\tb\t1.0\na\tc\thigh\n")
  with pytest.raises(UserError, match=f"{path}:2: score 'high' is not a number"):
    metrics.read_word_pairs(str(path))
  path.write_text("a\tb\t1.0\na\tc\n")
  with pytest.raises(UserError, match=f"{path}:2: expected 'word1 word2 score'"):
    metrics.read_word_pairs(str(path))
  with pytest.raises(UserError, match="does not exist"):
    metrics.read_word_pairs(str(tmp_path / "none.txt"))


@pytest.mark.parametrize("text", ["", "# only a comment\n\n", "Word 1\tWord 2\tHuman (mean)\n"])
def test_pair_file_without_pairs_is_refused(tmp_path, text):
  path = tmp_path / "pairs.txt"
  path.write_text(text)
  with pytest.raises(UserError, match="holds no word pairs"):
    metrics.read_word_pairs(str(path))


@pytest.mark.parametrize("text", ["", ": capital-common-countries\n: family\n"])
def test_analogy_file_without_questions_is_refused(tmp_path, text):
  path = tmp_path / "questions.txt"
  path.write_text(text)
  with pytest.raises(UserError, match="holds no analogy questions"):
    metrics.read_analogies(str(path))


# ------------------------------------------------------------------ neighbours, all


def test_nearest_neighbour_of_a_planted_copy(plain):
  words, vectors_VxD, _ = plain
  king = words.index("king")
  twin_D = vectors_VxD[king] + 1e-3 * np.random.default_rng(5).standard_normal(D)
  words = words + ["twin"]
  vectors_VxD = np.concatenate([vectors_VxD, twin_D[None].astype(np.float32)])
  result = metrics.nearest_neighbors(words, vectors_VxD, ["king", "zzz"], k=3)
  assert result["_unknown"] == ["zzz"]
  assert [w for w, _ in result["king"]][0] == "twin"
  assert result["king"][0][1] == pytest.approx(1.0, abs=1e-4)
  cosines = [c for _, c in result["king"]]
  assert cosines == sorted(cosines, reverse=True) and len(cosines) == 3
  assert "_unknown" not in metrics.nearest_neighbors(words, vectors_VxD, ["twin"])
  with pytest.raises(UserError, match="zzz, yyy"):
    metrics.nearest_neighbors(words, vectors_VxD, ["zzz", "yyy"])


def test_evaluate_all_and_summary(mixed):
  words, vectors_VxD, _ = mixed
  results = metrics.evaluate_all(words, vectors_VxD)
  assert set(results) == {"analogy", "ws353", "simlex"}
  summary = metrics.format_summary(results)
  assert len(summary.splitlines()) == 5
  assert f"{results['analogy']['seen']}/19544" in summary
  assert "WS353" in summary and "SimLex999" in summary
