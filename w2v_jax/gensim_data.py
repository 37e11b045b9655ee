"""Finding files inside the installed gensim package, above all its test data.

gensim ships the evaluation files (questions-words.txt, wordsim353.tsv,
simlex999.txt) and the texts of the default corpus (Wikipedia articles, the
Lee corpus) in `gensim/test/test_data/`, so nothing needs downloading. The
evaluation, the named corpora and the offline corpus builder all find them
here. A leaf module: it imports nothing of w2v_jax but the error type, so any
module may use it without an import cycle.
"""

import os

from w2v_jax.errors import UserError

TEST_DATA = os.path.join("test", "test_data")
PREFIX = "gensim:"  # a file setting "gensim:NAME" names TEST_DATA/NAME (config.py's defaults)
REINSTALL = "reinstall it with: pip install --force-reinstall -r requirements.txt"


def file_path(value: str) -> str:
  """The path a file setting names: "gensim:NAME" is found here, anything else is a path."""
  return find(value[len(PREFIX):]) if value.startswith(PREFIX) else value


def find(name: str, folder: str = TEST_DATA, fix: str = REINSTALL) -> str:
  """Path of folder/name inside the installed gensim package.

  UserError when gensim is not installed, or when the file is missing: that
  message names `name` and the installed version, then says `fix`.
  """
  try:  # imported here: gensim pulls in scipy, seconds that only its users should pay
    import gensim  # pylint: disable=import-outside-toplevel
  except ImportError:
    raise UserError("gensim is not installed; run: pip install -r requirements.txt") from None
  path = os.path.join(os.path.dirname(gensim.__file__), folder, name)
  if not os.path.isfile(path):
    raise UserError(f"{name} is missing from the installed gensim {gensim.__version__}; {fix}")
  return path
