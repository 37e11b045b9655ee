"""--sweep: S variants of one run trained side by side in one compiled program.

Variants that differ only in ns_exponent, alpha, negative or dim consume the
same batches in the same order: the data stream is a function of the corpus,
the subsampling and window settings, the batch size and the seed, none of
which a sweep may change (config.SWEEPABLE). So the host loads the corpus,
makes each chunk of batches and compiles once, and one jitted call trains
every variant on that chunk: the program holds one lax.scan of the unchanged
model.chunk_function per variant, each over its own state, with its own
tables (the alias table of counts^ns_exponent), learning rate, number of
negatives and dim. Each variant therefore computes exactly what a separate
run with its settings computes (tests/sweep_test.py holds the tables equal
bit for bit), and variants of different shapes need no padding.

Why not jax.vmap over stacked [S, V, D] tables, the obvious form: it was
built first (git history: "--sweep=FIELD=V1,V2,...: variants trained side by
side in one compiled program", with negative and dim padded and masked) and
matched separate runs, but on XLA:CPU the batched scatter-add of the vmapped
step does not update the stacked tables in place: every step copied them,
and five skip-gram variants trained at 1/4 of the words/s of five separate
runs (default corpus, one core). One scan per variant keeps each update in
place. (On an accelerator, where a single model leaves the device mostly
idle, the vmapped form might pay; that is not measured.)

Time is not attributable per variant: a variant's summary.json records the
one program's wall time for all S variants (`train_seconds`) and says so
(`sweep`).
"""

import dataclasses
import functools
import logging
import os

import jax
import jax.numpy as jnp
import numpy as np

from w2v_jax.output_layers import LAYERS
from w2v_jax.resolve import Resolved
from w2v_jax import files
from w2v_jax import model as model_lib
from w2v_jax import plots
from w2v_jax import sampling


def largest(config: Resolved, variants: list) -> Resolved:
  """A config as large as the largest variant (for the memory estimate)."""
  return dataclasses.replace(config, sweep="", dim=max(v.dim for v in variants),
                             negative=max(v.negative for v in variants))


def make_train_chunk(variants: list, counts_V, tree, total_words: int):
  """model.make_train_chunk for S variants, in one jitted call.

  ([state_s], chunk, key, path_slots=None) -> ([state_s], (loss_TxS, lr_TxS));
  the states are donated. Returns the optimizers [tx_s] too (for init_state).
  """
  txs, fns, tables = [], [], []
  for v in variants:
    noise_V = (sampling.noise_distribution(counts_V, v.ns_exponent)
               if LAYERS[v.loss].needs_noise else None)
    tables.append(model_lib.device_tables(v.loss, noise_V, tree))
    tx, fn = model_lib.chunk_function(v, total_words, v.alpha)
    txs.append(tx)
    fns.append(fn)

  def chunk_fn(states, chunk, key, path_slots=None, *, tables):
    results = [fn(state, chunk, key, path_slots, tables=t)
               for fn, state, t in zip(fns, states, tables)]
    states = [state for state, _ in results]
    loss_TxS = jnp.stack([loss_T for _, (loss_T, _) in results], axis=1)
    lr_TxS = jnp.stack([lr_T for _, (_, lr_T) in results], axis=1)
    return states, (loss_TxS, lr_TxS)

  # The tables are an argument, not closed-over constants (model.make_train_chunk).
  return txs, functools.partial(jax.jit(chunk_fn, donate_argnums=0, static_argnums=3),
                                tables=tables)


def init_state(variants: list, key, vocab_size: int, txs: list) -> list:
  """Each variant's initial state, as a separate run with the same seed would draw it."""
  return [model_lib.init_state(model_lib.init_params(key, vocab_size, v.dim, v.loss), tx)
          for v, tx in zip(variants, txs)]


def variant_params(host_states: list, s: int) -> dict:
  """Variant s's tables as host arrays."""
  return {name: np.asarray(table) for name, table in host_states[s].params.items()}


def report(config: Resolved, field: str, values: list, summaries: list,
           folder: str = "") -> str:
  """The variants side by side: WORKDIR/sweep.md (printed too) and, when they were
  evaluated, WORKDIR/sweep.png of quality against the swept value; written to `folder`
  (the run's staging/, workdir.py) when given."""
  folder = folder or config.workdir
  evaluated = all(s.get("eval") for s in summaries)
  rows = []
  for value, s in zip(values, summaries):
    row = {field: value, "final_epoch_loss": s["final_epoch_loss"]}
    if evaluated:
      e = s["eval"]
      row.update(analogy_total=e["analogy"]["total"], ws353=e["ws353"]["spearman"],
                 simlex=e["simlex"]["spearman"])
    rows.append(row)
  head = [field, "final epoch loss"] + (["analogy %", "WS353", "SimLex-999"] if evaluated else [])
  lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
  for r in rows:
    cells = [f"{r[field]:g}", f"{r['final_epoch_loss']:.4f}"]
    if evaluated:
      cells += [f"{100 * r['analogy_total']:.1f}", f"{r['ws353']:.3f}", f"{r['simlex']:.3f}"]
    lines.append("| " + " | ".join(cells) + " |")
  first = summaries[0]
  text = "\n".join([f"# --sweep={config.sweep}", "",
                    f"{len(rows)} variants in one program: {first['train_seconds']:.1f} s for all "
                    f"of them ({first['words_per_s'] / 1e3:.0f}k corpus words/s, the variants' "
                    "words together counted once); each variant's files are in its folder.",
                    ""] + lines) + "\n"
  with files.atomic_write(os.path.join(folder, "sweep.md"), "w", encoding="utf-8") as f:
    f.write(text)
  if evaluated:
    plots.sweep(rows, field, os.path.join(folder, "sweep.png"))
  logging.info("sweep summary (%s)\n%s", os.path.join(config.workdir, "sweep.md"),
               "\n".join(lines))
  return text
