"""Named corpora: --corpus=default, offline-prose or text8 (anything else is a path).

Nothing is downloaded at run time: `default` is built from installed packages,
`offline-prose` by `--mode=prepare` (corpora/offline.py), and text8 must be a
file the user already has.

`default`: the 206 early English Wikipedia articles and the 300 Lee background
news documents that ship inside the gensim package's test data, about 0.5M
tokens. Wikipedia markup is removed with gensim's own `filter_wiki`; redirect
pages are skipped; each paragraph becomes one line of lower-cased alphabetic
tokens (gensim's `tokenize`). Licences: Wikipedia text CC BY-SA; Lee corpus as
distributed with gensim for research.
"""

import bz2
import dataclasses
import logging
import os
import shutil
import time

from w2v_jax import config as config_lib
from w2v_jax import corpus as corpus_lib
from w2v_jax import files
from w2v_jax import gensim_data
from w2v_jax import metrics
from w2v_jax import resolve as resolve_lib
from w2v_jax.corpora import offline
from w2v_jax.corpora import prose
from w2v_jax.errors import UserError

DEFAULT = "default"
TEXT8 = "text8"
TEXT8_URL = "http://mattmahoney.net/dc/text8.zip"
_DEFAULT_VERSION = 1
_WIKI = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
_LEE = "lee_background.cor"


def _write_default(out_path: str) -> None:
  from gensim import utils  # pylint: disable=import-outside-toplevel

  def write_paragraphs(f, text):
    for paragraph in text.split("\n"):
      tokens = list(utils.tokenize(paragraph, lower=True))
      if tokens:
        f.write(" ".join(tokens) + "\n")

  with open(out_path, "w", encoding="utf-8", newline="\n") as f:
    with bz2.open(gensim_data.find(_WIKI)) as wiki:
      for text in prose.wiki_texts(wiki):
        write_paragraphs(f, text)
    with open(gensim_data.find(_LEE), encoding="utf-8") as lee:
      write_paragraphs(f, lee.read())


def default_corpus(cache_dir: str) -> str:
  """Builds (once) and returns the path of the default corpus text file."""
  folder = os.path.join(cache_dir, f"corpus-default-v{_DEFAULT_VERSION}")
  path = os.path.join(folder, "corpus.txt")
  if os.path.exists(path):
    return path
  if os.path.isdir(folder):  # built once, its file deleted since: build it again
    logging.warning("the default corpus's folder %s has lost its corpus.txt; rebuilt it", folder)
    shutil.rmtree(folder, ignore_errors=True)
  logging.info("building the default corpus (gensim's Wikipedia + Lee test data) in %s", folder)
  start = time.time()

  def build(tmp):
    os.makedirs(tmp)
    _write_default(os.path.join(tmp, "corpus.txt"))

  corpus_lib.ensure_cache_dir(cache_dir)
  files.build_folder(folder, build)
  logging.info("default corpus written in %.1f s", time.time() - start)
  return path


def _prepare_command(config: config_lib.Config) -> str:
  extra = "".join(f" --{name}" for name in ("include_debian", "include_nlp_corpus")
                  if getattr(config, name))
  if config.data_dir != os.path.join(config.cache_dir, "data"):  # not the default
    extra += f" --data_dir={config.data_dir}"
  return f"python run.py --mode=prepare --corpus={offline.NAME}{extra}"


def offline_prose(config: config_lib.Config) -> str:
  path = offline.corpus_path(config.data_dir, config.include_debian,
                             config.include_nlp_corpus)
  if not os.path.exists(path):
    raise UserError(f"the {offline.NAME} corpus is not built yet ({path} is missing); "
                    f"build it once with: {_prepare_command(config)}")
  return path


def text8(config: config_lib.Config) -> str:
  """--text8_path, else $W2V_JAX_TEXT8, else ./text8, else DATA_DIR/text8."""
  named = config.text8_path or os.environ.get("W2V_JAX_TEXT8", "")
  if named:
    return named  # checked like any --corpus path
  for path in (TEXT8, os.path.join(config.data_dir, TEXT8)):
    if os.path.isfile(path):
      return path
  raise UserError(f"no text8 file here: download {TEXT8_URL}, unzip it and pass "
                  "--text8_path=PATH (or set W2V_JAX_TEXT8); without internet, "
                  f"--corpus={offline.NAME} is a registry-built substitute")


def _with_folders(config):
  """The config with resolve's cache and data folders: a config not resolved yet has ""
  for both, which would build corpora in the current directory."""
  cache_dir, data_dir = resolve_lib.folders(config)
  return dataclasses.replace(config, cache_dir=cache_dir, data_dir=data_dir)


def resolve(config: config_lib.Config) -> str:
  """A --corpus value -> a file path: "" and "default" name the default corpus."""
  config = _with_folders(config)
  if config.corpus in ("", DEFAULT):
    return default_corpus(config.cache_dir)
  if config.corpus == offline.NAME:
    return offline_prose(config)
  if config.corpus == TEXT8:
    return text8(config)
  return config.corpus


def prepare(config: config_lib.Config) -> str:
  """--mode=prepare: builds the named corpus if needed and returns its path."""
  config = _with_folders(config)
  if config.corpus in ("", DEFAULT):
    return default_corpus(config.cache_dir)
  if config.corpus != offline.NAME:
    raise UserError(f"--mode=prepare builds --corpus={offline.NAME} or the default "
                    f"corpus; {config.corpus!r} needs no preparing (train on it directly)")
  sections = metrics.read_analogies(gensim_data.file_path(config.analogies))
  questions = {"semantic": [q for _, qs in sections[:metrics.SEMANTIC_SECTIONS] for q in qs],
               "syntactic": [q for _, qs in sections[metrics.SEMANTIC_SECTIONS:] for q in qs]}
  sources = offline.selected_sources(config.include_debian, config.include_nlp_corpus)
  name = offline.corpus_name(config.include_debian, config.include_nlp_corpus)
  return offline.build(config.data_dir, sources, questions, name)
