"""From a config to what training needs; the training loop builds on this."""

import dataclasses
import json
import logging
import os
import time
from typing import Optional

import numpy as np

from w2v_jax import batches as batches_lib
from w2v_jax import config as config_lib
from w2v_jax import corpus as corpus_lib
from w2v_jax import datasets
from w2v_jax import huffman
from w2v_jax import sampling
from w2v_jax.errors import UserError


@dataclasses.dataclass(frozen=True)
class Data:
  corpus: corpus_lib.Corpus
  keep_V: np.ndarray                    # subsampling keep probability per word
  noise_V: Optional[np.ndarray]         # negative-sampling distribution (loss=ns)
  tree: Optional[huffman.HuffmanTree]   # Huffman tree (loss=hs)


def prepare_data(config: config_lib.Config) -> Data:
  cache_dir = config_lib.cache_dir(config)
  corpus = corpus_lib.load(
      datasets.resolve(config.corpus, cache_dir), lowercase=config.lowercase,
      max_sentence_length=config.max_sentence_length, min_count=config.min_count,
      max_vocab=config.max_vocab, cache_dir=cache_dir)
  corpus_lib.report(corpus.stats)
  counts_V = corpus.vocab.counts
  keep_V = sampling.keep_probabilities(counts_V, config.sample, config.subsample_formula)
  noise_V = sampling.noise_distribution(counts_V, config.ns_exponent) if config.loss == "ns" else None
  tree = huffman.build(counts_V) if config.loss == "hs" else None
  return Data(corpus=corpus, keep_V=keep_V, noise_V=noise_V, tree=tree)


def epoch_batches(config: config_lib.Config, data: Data, epoch: int):
  return batches_lib.iterate_epoch(
      data.corpus.ids, data.corpus.offsets, data.keep_V, model=config.model,
      window=config.window, shrink_window=config.shrink_window,
      batch_size=config.batch_size, seed=config.seed, epoch=epoch)


def describe(config: config_lib.Config) -> dict:
  """Builds the data pipeline, makes one epoch of batches, reports what it found."""
  start = time.time()
  data = prepare_data(config)
  prepared = time.time() - start
  corpus, counts_V = data.corpus, data.corpus.vocab.counts
  summary = {k: corpus.stats[k] for k in
             ("tokens", "lines", "sentences", "split_lines", "invalid_bytes", "unique_words",
              "vocab_size", "vocab_tokens", "vocab_sentences", "cache")}
  summary["coverage"] = corpus.stats["vocab_tokens"] / corpus.stats["tokens"]
  summary["expected_kept_fraction"] = float((data.keep_V * counts_V).sum() / counts_V.sum())
  if data.tree is not None:
    summary["max_code_length"] = int(data.tree.lengths_V.max())
    summary["mean_code_length"] = float((data.tree.lengths_V * counts_V).sum() / counts_V.sum())
  start = time.time()
  examples = num_batches = 0
  for batch in epoch_batches(config, data, epoch=0):
    examples += int(batch["mask"].sum())
    num_batches += 1
  seconds = time.time() - start
  summary.update(prepare_seconds=round(prepared, 3), epoch_examples=examples,
                 epoch_batches=num_batches, batch_seconds=round(seconds, 3),
                 batch_tokens_per_second=round(corpus.stats["vocab_tokens"] / max(seconds, 1e-9)))
  if examples == 0:
    raise UserError("no training examples: every sentence has a single word after "
                    "min_count and subsampling; use a corpus with longer lines")
  logging.info(
      "corpus: %d tokens in %d sentences; vocabulary: %d words covering %.2f%% of tokens; "
      "subsampling keeps %.1f%% of tokens",
      summary["tokens"], summary["sentences"], summary["vocab_size"],
      100 * summary["coverage"], 100 * summary["expected_kept_fraction"])
  logging.info("one epoch: %d %s examples in %d batches of %d, generated in %.2f s "
               "(%.2fM corpus tokens/s)", examples, config.model, num_batches,
               config.batch_size, seconds, summary["batch_tokens_per_second"] / 1e6)
  return summary


def write_json(path: str, obj) -> None:
  """Writes JSON atomically (temporary file, then rename)."""
  tmp = f"{path}.tmp-{os.getpid()}"
  with open(tmp, "w") as f:
    json.dump(obj, f, indent=1, sort_keys=True)
    f.write("\n")
  os.replace(tmp, path)
