"""Named corpora that come with installed packages (no downloads at run time).

`default`: the 206 early English Wikipedia articles and the 300 Lee background
news documents that ship inside the gensim package's test data, about 0.5M
tokens. Wikipedia markup is removed with gensim's own `filter_wiki`; redirect
pages are skipped; each paragraph becomes one line of lower-cased alphabetic
tokens (gensim's `tokenize`). Licences: Wikipedia text CC BY-SA; Lee corpus as
distributed with gensim for research.
"""

import bz2
import logging
import os
import time

from w2v_jax import corpus as corpus_lib
from w2v_jax.errors import UserError

DEFAULT = "default"
_DEFAULT_VERSION = 1
_WIKI = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
_LEE = "lee_background.cor"


def gensim_test_data(name: str) -> str:
  """Path of a file in the installed gensim package's test data."""
  try:
    import gensim  # pylint: disable=import-outside-toplevel
  except ImportError:
    raise UserError("gensim is not installed; run: pip install -r requirements.txt") from None
  path = os.path.join(os.path.dirname(gensim.__file__), "test", "test_data", name)
  if not os.path.exists(path):
    raise UserError(f"{name} is missing from the installed gensim {gensim.__version__}; "
                    "reinstall it with: pip install --force-reinstall -r requirements.txt")
  return path


def _write_default(out_path: str) -> None:
  from gensim import utils  # pylint: disable=import-outside-toplevel
  from gensim.corpora import wikicorpus  # pylint: disable=import-outside-toplevel

  def write_paragraphs(f, text):
    for paragraph in text.split("\n"):
      tokens = list(utils.tokenize(paragraph, lower=True))
      if tokens:
        f.write(" ".join(tokens) + "\n")

  with open(out_path, "w", encoding="utf-8", newline="\n") as f:
    with bz2.open(gensim_test_data(_WIKI)) as wiki:
      for _, text, _ in wikicorpus.extract_pages(wiki):
        if not text.lstrip().lower().startswith("#redirect"):
          write_paragraphs(f, wikicorpus.filter_wiki(text))
    with open(gensim_test_data(_LEE), encoding="utf-8") as lee:
      write_paragraphs(f, lee.read())


def default_corpus(cache_dir: str) -> str:
  """Builds (once) and returns the path of the default corpus text file."""
  folder = os.path.join(cache_dir, f"corpus-default-v{_DEFAULT_VERSION}")
  path = os.path.join(folder, "corpus.txt")
  if os.path.exists(path):
    return path
  logging.info("building the default corpus (gensim's Wikipedia + Lee test data) in %s", folder)
  start = time.time()

  def build(tmp):
    os.makedirs(tmp)
    _write_default(os.path.join(tmp, "corpus.txt"))

  corpus_lib.ensure_cache_dir(cache_dir)
  corpus_lib.build_atomically(folder, build)
  logging.info("default corpus written in %.1f s", time.time() - start)
  return path


def resolve(corpus: str, cache_dir: str) -> str:
  """A --corpus value -> a file path: "" or "default" name the default corpus."""
  if corpus in ("", DEFAULT):
    return default_corpus(cache_dir)
  return corpus
