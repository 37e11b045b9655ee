"""The notebook door: README's example, run in a fresh interpreter without run.py."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import w2v_jax
from tests.train_test import _write_corpus

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# README's example, line by line, on a small corpus; what it finds is printed as JSON.
EXAMPLE = """
import json, os, sys
import numpy as np
import w2v_jax
corpus, out = sys.argv[1], sys.argv[2]
emb = w2v_jax.train(corpus=corpus, model="skipgram", loss="ns", epochs=3, min_count=1, dim=16,
                    window=2, sample=0.0, verbose=False)
facts = {"words_type": type(emb.words).__name__, "words": emb.words,
         "vectors": [str(emb.vectors.dtype), list(emb.vectors.shape)],
         "alpha_row": emb["alpha"].tolist(), "first_row": emb.vectors[emb.words.index("alpha")].tolist(),
         "contains": ["alpha" in emb, "nonsense" in emb], "len": len(emb),
         "similar": emb.most_similar("alpha", topn=5),
         "analogy": emb.most_similar(positive=["alpha", "eta"], negative=["beta"], topn=3),
         "workdir": emb.workdir}
facts["evaluate"] = emb.evaluate()
saved = emb.save(os.path.join(out, "saved"))
again = w2v_jax.load(saved)
facts["round_trip"] = bool(again.words == emb.words and np.array_equal(again.vectors, emb.vectors))
facts["saved_files"] = sorted(os.listdir(os.path.join(out, "saved")))
kv = emb.to_gensim()
facts["gensim"] = bool(list(kv.index_to_key) == emb.words and np.array_equal(kv.vectors, emb.vectors))
facts["evaluate_gensim"] = w2v_jax.evaluate(kv) == facts["evaluate"]
facts["evaluate_path"] = w2v_jax.evaluate(os.path.join(emb.workdir, "vectors.bin")) == facts["evaluate"]
try:
  w2v_jax.train(corpus=corpus, model="CBOW", verbose=False)
except w2v_jax.UserError as e:
  facts["bad_value"] = [isinstance(e, ValueError), str(e)]
print(json.dumps(facts))
"""


@pytest.fixture(scope="module")
def facts(tmp_path_factory):
  tmp = tmp_path_factory.mktemp("api")
  corpus = _write_corpus(tmp / "c.txt", n_lines=400)
  env = dict(os.environ, W2V_JAX_CACHE=str(tmp / "cache"))
  proc = subprocess.run([sys.executable, "-c", EXAMPLE, corpus, str(tmp)], capture_output=True,
                        text=True, timeout=300, cwd=str(tmp), env=env)  # not the repo: installed
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert proc.stderr.count(" epoch ") == 0, "verbose=False printed progress lines"
  return json.loads(proc.stdout.strip().splitlines()[-1])


def test_words_vectors_and_lookups(facts):
  assert facts["words_type"] == "list" and len(facts["words"]) == facts["len"] == 12
  assert facts["vectors"] == ["float32", [12, 16]]
  assert facts["alpha_row"] == facts["first_row"]
  assert facts["contains"] == [True, False]


def test_neighbours_are_sorted_by_cosine_and_leave_the_query_out(facts):
  for found, query in ((facts["similar"], {"alpha"}), (facts["analogy"], {"alpha", "eta", "beta"})):
    cosines = [c for _, c in found]
    assert cosines == sorted(cosines, reverse=True) and all(-1 <= c <= 1.0001 for c in cosines)
    assert not query & {w for w, _ in found}
  # alpha's topic (the corpus's first six words) is nearer than the other one.
  assert facts["similar"][0][0] in "beta gamma delta epsilon zeta".split()


def test_evaluate_is_eval_json_and_files_round_trip(facts):
  with open(os.path.join(facts["workdir"], "eval.json"), encoding="utf-8") as f:
    written = json.load(f)
  scored = written.pop("vectors")  # eval.json also names the file it scored
  assert scored["path"] == os.path.join(facts["workdir"], "vectors.bin")
  assert facts["evaluate"] == written
  assert facts["round_trip"] and facts["saved_files"] == ["vectors.bin", "vocab.txt"]
  assert facts["gensim"] and facts["evaluate_gensim"] and facts["evaluate_path"]


def test_a_bad_value_raises_the_command_lines_message(facts):
  is_value_error, message = facts["bad_value"]
  assert is_value_error and message == "--model must be one of skipgram, cbow, got 'CBOW'"


def test_unknown_settings_and_sweeps_are_refused_before_training(tmp_path):
  workdir = str(tmp_path / "w")
  with pytest.raises(w2v_jax.UserError, match="unknown setting"):
    w2v_jax.train(corpus="x.txt", workdir=workdir, epoch=3)
  with pytest.raises(w2v_jax.UserError, match="one set of vectors"):
    w2v_jax.train(corpus="x.txt", workdir=workdir, sweep="alpha=0.1,0.2")
  assert not os.path.exists(workdir)


def test_most_similar_of_an_unknown_word_says_so():
  emb = w2v_jax.Embeddings(["a", "b", "c"], np.eye(3, dtype=np.float32))
  assert [w for w, _ in emb.most_similar("a", topn=5)] == ["b", "c"]
  with pytest.raises(w2v_jax.UserError, match="not in the vocabulary: zz"):
    emb.most_similar(positive=["a"], negative=["zz"])
  with pytest.raises(KeyError):
    emb["zz"]  # pylint: disable=pointless-statement
