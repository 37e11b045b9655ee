"""w2v-jax: word2vec (CBOW and skip-gram; softmax, negative sampling, hierarchical softmax,
NCE) in JAX.

The public API (api.py): `train(corpus, **settings) -> Embeddings`, `load(path)`,
`evaluate(vectors)`, `Embeddings`, and `UserError` (a ValueError) for mistakes a user can
fix. The command line (run.py) goes through the same functions.
"""

__version__ = "0.1.0"

from w2v_jax.api import Embeddings  # noqa: E402
from w2v_jax.api import evaluate  # noqa: E402
from w2v_jax.api import load  # noqa: E402
from w2v_jax.api import train  # noqa: E402
from w2v_jax.errors import UserError  # noqa: E402

__all__ = ["Embeddings", "UserError", "evaluate", "load", "train"]
