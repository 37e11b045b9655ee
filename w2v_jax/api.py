"""The notebook door: w2v_jax.train, load and evaluate, and the Embeddings they return.

    import w2v_jax
    emb = w2v_jax.train(corpus="text.txt", model="skipgram", loss="ns", epochs=3)
    emb.most_similar("king")
    emb.most_similar(positive=["king", "woman"], negative=["man"])
    emb.evaluate(); emb.save("vectors.bin"); emb.to_gensim()
    emb.plot("paris:france,rome:italy")   # a PNG: countries, capitals, arrows

`train` takes any Config field as a keyword and goes the way run.py goes:
validate, set up the runtime (runtime.start), resolve, loop.train; so a run
from a notebook writes the same files as one from the command line, in
`workdir` (created if missing), or in a new temporary folder when workdir is
None. Bad values raise UserError (a ValueError) with the one-line message the
command line prints. The progress lines (words/s, loss, ETA) go to stderr as
the command line's do; verbose=False silences them.
"""

import contextlib
import logging
import os
import sys
import tempfile
from typing import Iterable, Optional, Union

import numpy as np

from w2v_jax import config as config_lib
from w2v_jax import gensim_data
from w2v_jax import loop
from w2v_jax import metrics
from w2v_jax import plots
from w2v_jax import resolve as resolve_lib
from w2v_jax import runtime
from w2v_jax import vocab as vocab_lib
from w2v_jax import word2vec_format
from w2v_jax.errors import UserError


class Embeddings:
  """Word vectors: `words` (most frequent first where they come from a run) and
  `vectors` [V, D] float32, with lookups, neighbours, evaluation and export."""

  def __init__(self, words, vectors_VxD, counts=None, workdir: Optional[str] = None,
               config: Optional[resolve_lib.Resolved] = None, summary: Optional[dict] = None):
    self.words = list(words)
    self.vectors = np.asarray(vectors_VxD, np.float32)
    self.counts = None if counts is None else np.asarray(counts)  # corpus counts, if known
    if len(self.words) != len(self.vectors):
      raise UserError(f"{len(self.words)} words for {len(self.vectors)} vectors")
    word2vec_format.refuse_non_finite(self.words, self.vectors, "Embeddings")
    self.workdir, self.config, self.summary = workdir, config, summary
    self._index = metrics.lookup_table(self.words, case_insensitive=False)
    self._unit = None

  def __len__(self) -> int:
    return len(self.words)

  def __contains__(self, word: str) -> bool:
    return word in self._index

  def __getitem__(self, word: str) -> np.ndarray:
    if word not in self._index:
      raise KeyError(f"{word!r} is not in the vocabulary of {len(self)} words")
    return self.vectors[self._index[word]]

  def __repr__(self) -> str:
    where = f", trained in {self.workdir}" if self.workdir else ""
    return f"Embeddings({len(self)} words x {self.vectors.shape[1]} dims{where})"

  def most_similar(self, positive: Union[str, Iterable[str], None] = None,
                   negative: Union[str, Iterable[str], None] = None, topn: int = 10) -> list:
    """[(word, cosine), ...] nearest to the mean of the unit vectors of `positive`
    minus those of `negative`, best first, the query words left out (gensim's
    most_similar)."""
    if self._unit is None:
      self._unit = metrics.unit_rows(self.vectors)
    return metrics.most_similar(self._unit, self.words, self._index, _words(positive),
                                _words(negative), topn)

  def evaluate(self, analogies: Optional[str] = None, ws353: Optional[str] = None,
               simlex: Optional[str] = None, restrict_vocab: Optional[int] = None,
               method: Optional[str] = None) -> dict:
    """Analogies, WS353 and SimLex-999: the dict eval.json holds. Defaults: the
    run's settings, or config.py's for vectors from elsewhere."""
    base = self.config or config_lib.Config()
    return metrics.evaluate_all(
        self.words, self.vectors,
        analogies_path=gensim_data.file_path(analogies or base.analogies),
        ws353_path=gensim_data.file_path(ws353 or base.ws353),
        simlex_path=gensim_data.file_path(simlex or base.simlex),
        restrict_vocab=restrict_vocab or base.restrict_vocab,
        method=method or base.analogy_method)

  def save(self, path: str, binary: Optional[bool] = None) -> str:
    """Writes the vectors in word2vec's format and returns the file's path.

    A folder (an existing one, or a name without an extension) gets vectors.bin
    and, where the corpus counts are known (a run's vectors), vocab.txt in
    word2vec.c's `word count` format; a file name ending in .txt is written as
    text, any other as binary.
    """
    if os.path.isdir(path) or not os.path.splitext(path)[1]:
      os.makedirs(path, exist_ok=True)
      target = os.path.join(path, "vectors.bin")
      word2vec_format.write_word2vec(target, self.words, self.vectors)
      if self.counts is not None:
        vocab_lib.save(vocab_lib.Vocab(tuple(self.words), self.counts), os.path.join(path, "vocab.txt"))
      return target
    text = path.endswith(".txt") if binary is None else not binary
    word2vec_format.write_word2vec(path, self.words, self.vectors, binary=not text)
    return path

  def plot(self, words, path: Optional[str] = None, method: str = "pca") -> str:
    """A PNG of `words` (a list, or --query's "w1,w2" / "a:b,c:d" form: pairs drawn
    as arrows) in 2-D; written to `path`, else plot.png in the run's workdir or
    the current folder. Returns the path (IPython.display.Image(path) shows it)."""
    query = words if isinstance(words, str) else ",".join(words)
    path = path or os.path.join(self.workdir or ".", "plot.png")
    return plots.words(self.words, self.vectors, query, path, method)

  def to_gensim(self):
    """A gensim KeyedVectors holding the same words and vectors."""
    from gensim.models import KeyedVectors  # pylint: disable=import-outside-toplevel
    kv = KeyedVectors(vector_size=self.vectors.shape[1])
    kv.add_vectors(self.words, self.vectors)
    return kv


def _words(value) -> list:
  if value is None:
    return []
  return [value] if isinstance(value, str) else list(value)


@contextlib.contextmanager
def _progress(verbose: bool):
  """The library's log lines (progress, summary) on stderr, or none."""
  root = logging.getLogger()
  level, handler = root.level, None
  if verbose:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
  else:
    root.setLevel(logging.WARNING)
  try:
    yield
  finally:
    root.setLevel(level)
    if handler is not None:
      root.removeHandler(handler)


def train(corpus: str = "", *, workdir: Optional[str] = None, verbose: bool = True,
          **settings) -> Embeddings:
  """Trains on `corpus` with any Config field as a keyword (module docstring)."""
  unknown = sorted(set(settings) - set(config_lib.FIELDS))
  if unknown:
    raise UserError(f"unknown setting(s) {', '.join(unknown)}; the settings are Config's "
                    f"fields (w2v_jax/config.py, or `python run.py --help`)")
  if settings.get("sweep"):
    raise UserError("train() returns one set of vectors: run a --sweep with run.py, or call "
                    "train() once per value")
  workdir = workdir or tempfile.mkdtemp(prefix="w2v_jax-")
  config = resolve_lib.validate(config_lib.Config(corpus=corpus, workdir=workdir, **settings))
  with _progress(verbose):
    config = runtime.start(config)  # as run.py: devices, threads, resolved, workdir ready
    summary = loop.train(config)
  emb = load(os.path.join(config.workdir, "vectors.bin"))
  counts = vocab_lib.load(os.path.join(config.workdir, "vocab.txt")).counts
  return Embeddings(emb.words, emb.vectors, counts, config.workdir, config, summary)


def load(path: str) -> Embeddings:
  """Any word2vec binary or text file (ours, word2vec.c's, gensim's, fastText's .vec),
  or a run's workdir (its vectors.bin)."""
  if os.path.isdir(path):
    path = os.path.join(path, "vectors.bin")
  words, vectors_VxD = word2vec_format.read_word2vec(path)
  return Embeddings(words, vectors_VxD)


def evaluate(vectors, **options) -> dict:
  """The evaluation of any vectors: Embeddings, a word2vec file's path, or a gensim
  KeyedVectors; options as Embeddings.evaluate."""
  if isinstance(vectors, str):
    vectors = load(vectors)
  elif not isinstance(vectors, Embeddings):  # gensim's KeyedVectors
    vectors = Embeddings(vectors.index_to_key, vectors.vectors)
  return vectors.evaluate(**options)
