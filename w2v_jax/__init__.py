"""w2v-jax: word2vec (CBOW and skip-gram; softmax, negative sampling, hierarchical softmax, NCE) in JAX."""

__version__ = "0.1.0"
