"""phrases.py: a hand-worked example (counts, scores, greedy joins, a two-pass phrase),
gensim's Phrases on the same text, and --mode=phrases end to end.

The hand-worked corpus (13 tokens, 4 lines):
  new york is big / new york times / new york times said / big apple
counts: new 3, york 3, big 2, times 2, is, said, apple 1. Pairs, counted over
the whole stream as word2phrase does: new york 3, york times 2, and once each
york is, is big, big new (line 1 -> 2), times new (2 -> 3), times said,
said big (3 -> 4), big apple. With min_count 1, in float32:
  score(new york)   = (3 - 1) / 3 / 3 * 13 = 2.8889
  score(york times) = (2 - 1) / 3 / 2 * 13 = 2.1667
  every other pair  = (1 - 1) / ... = 0
At threshold 2 both are accepted, but "new york times" joins only new_york:
york, just joined, cannot start york_times. Pass 2 sees 10 tokens, new_york 3,
times 2, the pair 2: score (2 - 1) / 3 / 2 * 10 = 1.6667 > 1.5, so
new_york_times forms in the two lines that have it.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from w2v_jax import phrases
from w2v_jax.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HAND = "new york is big\nnew york times\nnew york times said\nbig apple\n"


def _tokens(tmp_path, text):
  path = tmp_path / "corpus.txt"
  path.write_text(text, encoding="utf-8")
  return phrases.from_corpus(str(path), lowercase=False, cache_dir=str(tmp_path / "cache"))


def _lines(tokens):
  return [" ".join(tokens.words[i] for i in tokens.ids_N[a:b])
          for a, b in zip(tokens.offsets[:-1], tokens.offsets[1:])]


def _pair_count(tokens, counts, a, b):
  index = {w: i for i, w in enumerate(tokens.words)}
  key = index[a] * len(tokens.words) + index[b]
  found = counts["pair_P"][counts["keys_P"] == key]
  return int(found.max()) if len(found) else 0


def test_hand_worked_counts_cross_lines_for_word2vec_only(tmp_path):
  tokens = _tokens(tmp_path, HAND)
  w2v = phrases.count(tokens, "word2vec", min_count=1)
  index = {w: i for i, w in enumerate(tokens.words)}
  assert {w: int(w2v["words_V"][i]) for w, i in index.items()} == {
      "new": 3, "york": 3, "big": 2, "times": 2, "is": 1, "said": 1, "apple": 1}
  assert _pair_count(tokens, w2v, "new", "york") == 3
  assert _pair_count(tokens, w2v, "york", "times") == 2
  assert _pair_count(tokens, w2v, "times", "new") == 1  # line 2 -> 3
  assert w2v["within_P"].sum() == 13 - 4
  gensim = phrases.count(tokens, "gensim", min_count=1)
  assert _pair_count(tokens, gensim, "times", "new") == 0
  # gensim's len(vocab): 7 words + 6 pair types inside lines
  assert gensim["len_vocab"] == 7 + 6


def test_hand_worked_scores_in_float32():
  got = phrases.score("word2vec", [3, 3, 1], [3, 2, 1], [3, 2, 1], min_count=1,
                      train_words=13, len_vocab=0)
  assert got.dtype == np.float32
  want = [np.float32(2) / np.float32(3) / np.float32(3) * np.float32(13),
          np.float32(1) / np.float32(3) / np.float32(2) * np.float32(13), 0]
  np.testing.assert_array_equal(got, np.array(want, np.float32))
  assert abs(got[0] - 2.8889) < 1e-4 and abs(got[1] - 2.1667) < 1e-4
  # A word or the pair below min_count scores 0, as word2phrase's vocabulary drops it.
  assert phrases.score("word2vec", [4], [9], [9], min_count=5, train_words=100,
                       len_vocab=0)[0] == 0


def test_greedy_joins_every_other_pair_of_a_run():
  accept = np.array([1, 1, 1, 0, 1, 1, 0, 1], bool)
  np.testing.assert_array_equal(phrases.greedy(accept), [1, 0, 1, 0, 1, 0, 0, 1])
  assert phrases.greedy(np.zeros(0, bool)).shape == (0,)


def test_hand_worked_two_passes(tmp_path):
  tokens = _tokens(tmp_path, HAND)
  first, second = phrases.find_phrases(tokens, [2, 1.5], min_count=1)
  assert _lines(first.tokens) == ["new_york is big", "new_york times", "new_york times said",
                                  "big apple"]
  assert first.stats["accepted_pairs"] == 5 and first.stats["joins"] == 3
  assert [p[:2] + (p[3],) for p in first.phrases] == [("new_york", 3, 3)]
  assert abs(first.phrases[0][2] - 2.8889) < 1e-4
  assert _lines(second.tokens) == ["new_york is big", "new_york_times", "new_york_times said",
                                   "big apple"]
  assert [p[:2] + (p[3],) for p in second.phrases] == [("new_york_times", 2, 2)]
  assert abs(second.phrases[0][2] - 1.6667) < 1e-4
  assert second.stats["tokens_in"] == 10 and second.stats["tokens_out"] == 8
  # At threshold 3 nothing joins and the text comes back unchanged.
  (none,) = phrases.find_phrases(tokens, [3], min_count=1)
  assert _lines(none.tokens) == HAND.strip().split("\n") and none.phrases == []


def test_a_token_spelled_like_a_pair_shares_its_count(tmp_path):
  # word2phrase and gensim key one table by the string: the pair "ansi x" and
  # the token "ansi_x" are one entry (2 here), and a joined pair is that token.
  tokens = _tokens(tmp_path, "ansi x\nansi_x y\nq r\n")
  counts = phrases.count(tokens, "word2vec", min_count=1)
  assert _pair_count(tokens, counts, "ansi", "x") == 2
  assert int(counts["words_V"][tokens.words.index("ansi_x")]) == 2
  assert phrases.count(tokens, "gensim", min_count=1)["len_vocab"] == 6 + 2
  (found,) = phrases.find_phrases(tokens, [0.5], min_count=1)
  assert _lines(found.tokens)[0] == "ansi_x"
  assert found.tokens.words.count("ansi_x") == 1


def _random_corpus(seed=0, sentences=300):
  rng = np.random.default_rng(seed)
  vocab = [f"w{i}" for i in range(25)] + ["w1_w2", "w3_w4_w5"]
  p = 1.0 / np.arange(1, len(vocab) + 1)
  lines = []
  for _ in range(sentences):
    words = list(rng.choice(vocab, size=rng.integers(1, 12), p=p / p.sum()))
    if rng.random() < 0.3:  # a frequent collocation
      k = rng.integers(len(words) + 1)
      words[k:k] = ["w7", "w8"]
    lines.append(" ".join(words))
  return "\n".join(lines) + "\n"


@pytest.mark.parametrize("scoring,thresholds", [("gensim", [0.2]), ("gensim", [0.3, 0.1]),
                                                ("npmi", [0.1]), ("npmi", [0.2, 0.1])])
def test_gensim_and_npmi_match_gensim_phrases(tmp_path, scoring, thresholds):
  from gensim.models.phrases import Phrases  # pylint: disable=import-outside-toplevel
  text = _random_corpus()
  tokens = _tokens(tmp_path, text)
  passes = phrases.find_phrases(tokens, thresholds, scoring=scoring, min_count=3)
  sentences = [line.split() for line in text.strip().split("\n")]
  for threshold in thresholds:
    model = Phrases(sentences, min_count=3, threshold=threshold,
                    scoring="default" if scoring == "gensim" else "npmi")
    sentences = [model[s] for s in sentences]
  assert _lines(passes[-1].tokens) == [" ".join(s) for s in sentences]
  assert passes[0].stats["joins"] > 0


def test_thresholds_parse_and_refuse():
  assert phrases.parse_thresholds("200,100", 2) == [200.0, 100.0]
  assert phrases.parse_thresholds("50", 3) == [50.0] * 3
  with pytest.raises(UserError, match="lists 2 values"):
    phrases.parse_thresholds("200,100", 1)
  with pytest.raises(UserError, match="must be a number"):
    phrases.parse_thresholds("high", 1)


def _run(tmp_path, *args):
  corpus = tmp_path / "corpus.txt"
  corpus.write_text(HAND * 3, encoding="utf-8")
  env = dict(os.environ, W2V_JAX_CACHE=str(tmp_path / "cache"))
  cmd = [sys.executable, os.path.join(ROOT, "run.py"), "--mode=phrases", f"--corpus={corpus}",
         f"--workdir={tmp_path / 'work'}", *args]
  return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


def test_phrases_mode_writes_text_and_table_and_prints_the_path(tmp_path):
  proc = _run(tmp_path, "--phrase_min_count=3", "--phrase_passes=2",
              "--phrase_threshold=2,1.5")
  assert proc.returncode == 0, proc.stderr
  out = tmp_path / "work" / "phrases.txt"
  assert proc.stdout.strip().split("\n")[-1] == str(out)
  lines = out.read_text(encoding="utf-8").split("\n")
  # The hand-worked text three times with min_count 3: the same scores, e.g.
  # (9 - 3) / 9 / 9 * 39 = 2.8889 for "new york".
  assert lines[:4] == ["new_york is big", "new_york_times", "new_york_times said", "big apple"]
  assert len(lines) == 13 and lines[-1] == ""
  table = (tmp_path / "work" / "phrases.tsv").read_text(encoding="utf-8").split("\n")
  assert table[0] == "pass\tphrase\tcount\tscore\tjoins"
  assert table[1:3] == ["1\tnew_york\t9\t2.88889\t9", "2\tnew_york_times\t6\t1.66667\t6"]


@pytest.mark.parametrize("args,fragment", [
    (["--phrase_passes=2", "--phrase_threshold=1,2,3"], "lists 3 values"),
    (["--phrase_scoring=npmi"], "--phrase_scoring=npmi scores lie in [-1, 1]"),
    (["--phrase_passes=0"], "at least 1"),
    (["--phrase_threshold=-1"], "--phrase_threshold must be >= 0"),
    (["--phrase_delimiter= "], "--phrase_delimiter"),
])
def test_phrases_mode_user_errors(tmp_path, args, fragment):
  proc = _run(tmp_path, *args)
  assert proc.returncode == 2, proc.stderr
  assert "Traceback" not in proc.stderr
  last = [l for l in proc.stderr.splitlines() if l.strip()][-1]
  assert last.startswith("error: ") and fragment in last, last


DATA = os.path.join(ROOT, "tests", "data")


@pytest.mark.parametrize("restrict,correct,seen", [(30000, {"newspapers": 4, "ice_hockey": 4}, 9),
                                                   (20, {"newspapers": 1, "ice_hockey": 3}, 4),
                                                   (16, {"newspapers": 0, "ice_hockey": 1}, 1)])
def test_phrase_analogies_score_as_compute_accuracy(restrict, correct, seen):
  # The numbers word2vec.c's compute-accuracy printed for these files
  # (benchmarks/phrases.py --checks=accuracy; benchmarks/results/phrase-analogies.md):
  # phrase tokens in mixed case, questions in other cases, 3 of 12 with a word the
  # vectors lack, fewer seen as the restriction to the most frequent rows tightens.
  from w2v_jax import metrics, word2vec_format  # pylint: disable=import-outside-toplevel
  words, vectors_VxD = word2vec_format.read_word2vec(os.path.join(DATA, "phrase_vectors.txt"))
  got = metrics.evaluate_analogies(words, vectors_VxD, os.path.join(DATA, "phrase_questions.txt"),
                                    restrict_vocab=restrict)
  assert {k: v["correct"] for k, v in got["sections"].items()} == correct
  assert got["seen"] == seen and got["questions"] == 12
  assert {k: v["total"] for k, v in got["sections"].items()} == {"newspapers": 6,
                                                                 "ice_hockey": 6}


def test_eval_mode_says_how_many_phrase_questions_it_could_ask(tmp_path):
  env = dict(os.environ, W2V_JAX_CACHE=str(tmp_path / "cache"))
  proc = subprocess.run(
      [sys.executable, os.path.join(ROOT, "run.py"), "--mode=eval",
       f"--vectors={os.path.join(DATA, 'phrase_vectors.txt')}",
       f"--analogies={os.path.join(DATA, 'phrase_questions.txt')}",
       f"--workdir={tmp_path / 'work'}"], capture_output=True, text=True, env=env, timeout=120)
  assert proc.returncode == 0, proc.stderr
  assert "analogy total      88.9%  (9/12 questions seen)" in proc.stderr


def _composed_vectors():
  rng = np.random.default_rng(3)
  words = ["russian", "river", "volga_river", "moscow", "well-known", "other", "more"]
  vectors_VxD = rng.standard_normal((len(words), 16)).astype(np.float32)
  unit = vectors_VxD / np.linalg.norm(vectors_VxD, axis=1, keepdims=True)
  vectors_VxD[2] = unit[0] + unit[1] + 0.05 * rng.standard_normal(16)  # volga_river
  vectors_VxD[3] = unit[0] - unit[1] + 0.05 * rng.standard_normal(16)  # moscow
  return words, vectors_VxD


def test_neighbours_of_a_sum_leave_the_query_words_out():
  from w2v_jax import metrics  # pylint: disable=import-outside-toplevel
  words, vectors_VxD = _composed_vectors()
  found = metrics.nearest_neighbors(words, vectors_VxD,
                                     ["russian+river", "russian-river", "well-known", "volga+x"],
                                     k=10)
  assert found["russian+river"][0][0] == "volga_river"
  assert found["russian+river"][0][1] > 0.98
  assert found["russian-river"][0][0] == "moscow"
  for query in ("russian+river", "russian-river"):
    assert len(found[query]) == 5 and {"russian", "river"}.isdisjoint(w for w, _ in found[query])
  assert len(found["well-known"]) == 6  # a word with a hyphen is that word
  assert found["_unknown"] == ["volga+x"]


def test_neighbors_mode_prints_the_sum(tmp_path):
  from w2v_jax import word2vec_format  # pylint: disable=import-outside-toplevel
  words, vectors_VxD = _composed_vectors()
  path = str(tmp_path / "v.bin")
  word2vec_format.write_word2vec(path, words, vectors_VxD)
  proc = subprocess.run([sys.executable, os.path.join(ROOT, "run.py"), "--mode=neighbors",
                         f"--vectors={path}", "--query=russian+river", "--topk=2",
                         f"--workdir={tmp_path / 'work'}"], capture_output=True, text=True,
                        timeout=120)
  assert proc.returncode == 0, proc.stderr
  assert proc.stdout.startswith("russian+river: volga_river 0.989, ")
