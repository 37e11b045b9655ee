"""w2v-jax: word2vec (CBOW and skip-gram; softmax, negative sampling, hierarchical softmax) in JAX."""

__version__ = "0.1.0"
