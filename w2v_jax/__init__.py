"""w2v-jax: word2vec (CBOW and skip-gram; softmax, negative sampling, hierarchical softmax,
NCE) in JAX.

The public API (api.py): `train(corpus, **settings) -> Embeddings`, `load(path)`,
`evaluate(vectors)`, `Embeddings`, and `UserError` (a ValueError) for mistakes a user can
fix. The command line (run.py) goes through the same functions.
"""

__version__ = "0.1.0"

from w2v_jax.errors import UserError  # noqa: E402

__all__ = ["Embeddings", "UserError", "evaluate", "load", "train"]
_API = ("Embeddings", "evaluate", "load", "train")


def __getattr__(name: str):
  """api.py's names, imported on first use: `import w2v_jax.corpus` (a corpus-reading
  child process, scan_parts.py) then needs neither JAX nor its 1-2 s import."""
  if name in _API:
    from w2v_jax import api  # pylint: disable=import-outside-toplevel
    return getattr(api, name)
  raise AttributeError(f"module 'w2v_jax' has no attribute {name!r}")
