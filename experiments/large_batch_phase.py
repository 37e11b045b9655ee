"""Is the large-batch loss made at the start? The first part of training at the default batch.

  python experiments/large_batch_phase.py --model=cbow --fraction=0.05 --alpha=0.07

trains the parity settings (offline-prose, hs, sample 1e-4, 3 epochs, seed 1) at the
default batch until --fraction of the training's words are done, then goes on at
--batch (the default rule there, --alpha) from the state it reached, and prints the
scores. If a large batch lost its quality while the tables are young (the tree's nodes
start at zero, and an early batch's rows are all stale), handing it tables the default
batch had already formed would give the default batch's scores back. The big batch
skips the chunks whose last position is before the switch, so up to a chunk's words
around the switch (about 100k of the 30M at 65,536) train twice or not at all; not a
run to publish scores from, a test of where the loss is made.
"""

import json

import jax
import numpy as np
from absl import app
from absl import flags

from w2v_jax import metrics
from w2v_jax import pipeline
from w2v_jax import trainer as trainer_lib
from w2v_jax.config import Config
from w2v_jax.resolve import resolve

flags.DEFINE_string("model", "cbow", "skipgram or cbow")
flags.DEFINE_float("fraction", 0.05, "the fraction of the training's words at the default batch")
flags.DEFINE_integer("batch", 65536, "examples per step after the switch")
flags.DEFINE_float("alpha", 0.07, "starting learning rate of the large batch's schedule")
flags.DEFINE_string("row_update", "auto", "--row_update after the switch")
flags.DEFINE_integer("krylov_dims", 0, "--krylov_dims after the switch (0: the default)")
FLAGS = flags.FLAGS


def main(argv):
  del argv
  base = dict(corpus="offline-prose", model=FLAGS.model, loss="hs", epochs=3, sample=1e-4,
              seed=1, platform="cpu")
  small = resolve(Config(**base))
  large = resolve(Config(**base, batch_size=FLAGS.batch, alpha=FLAGS.alpha,
                         row_update=FLAGS.row_update, krylov_dims=FLAGS.krylov_dims))
  data = pipeline.prepare_data(small)
  first, then = trainer_lib.build_trainer(small, data), trainer_lib.build_trainer(large, data)
  key = trainer_lib.split_key(small.seed)[1]
  switch = FLAGS.fraction * small.epochs * data.corpus.stats["vocab_tokens"]
  state, switched = first.place(first.init_state()), False
  for epoch in range(small.epochs):
    if not switched:
      for chunk in pipeline.grouped_batches(small, data, epoch):
        state, _ = first.train_chunk(state, chunk.arrays, key, chunk.path_slots)
        if chunk.words_done > switch:
          break
      else:
        continue  # the whole epoch before the switch
      # The large batch's optimizer state (its rule's) around the tables reached so far.
      state = then.place(then.init_state()).replace(params=state.params, step=state.step)
      switched = True
      print(f"switched to {FLAGS.batch} at {chunk.words_done:.0f} words", flush=True)
    for chunk in pipeline.grouped_batches(large, data, epoch):
      if chunk.words_done > switch:
        state, _ = then.train_chunk(state, chunk.arrays, key, chunk.path_slots)
  params = then.tables(jax.device_get(state))[0]
  scores = metrics.evaluate_all(list(data.corpus.vocab.words), np.asarray(params["emb_in"]))
  print(json.dumps({"model": FLAGS.model, "fraction": FLAGS.fraction, "batch": FLAGS.batch,
                    "alpha": FLAGS.alpha, "analogy": round(100 * scores["analogy"]["total"], 1),
                    "ws353": round(scores["ws353"]["spearman"], 3),
                    "simlex": round(scores["simlex"]["spearman"], 3)}))


if __name__ == "__main__":
  app.run(main)
