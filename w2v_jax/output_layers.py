"""One record per output layer: softmax, ns, hs and nce.

An output layer scores a batch's targets against its hidden vectors. All that
differs between the four lives in its `OutputLayer`:
  table        the trained output table: "emb_out" (a row per word) or "nodes"
               (the Huffman tree's V - 1 inner nodes), and its rows
  needs_noise  it draws negatives from counts^ns_exponent (pipeline.prepare_data
  needs_tree   builds those) / walks the Huffman tree
  dense        it reads every output row at every step (the full softmax): its
               steps are large, and its table cannot be padded (parallel.py)
  batch_size   the default examples per step (resolve.py; docs/RESULTS.md)
  skips_under  the --skip_saturated values under which it skips |logit| >= 6
  lookup       (noise_V, tree) -> the constant device tables it reads
  chunk_inputs what a compiled chunk looks up for all its steps before the loop
  gather       the output-side row ids and the loss's other inputs for a batch
  batch_loss   per-example losses [B] from gathered rows (losses.py)
  rows_per_example  output rows a step gathers per example (memory.py)
A new loss is a new record here (with its per-example loss in losses.py) and
its tests; model.py, memory.py, resolve.py and pipeline.py read the record.
"""

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from w2v_jax import losses
from w2v_jax import sampling


@dataclasses.dataclass(frozen=True)
class OutputLayer:
  """What one loss needs (module docstring)."""
  name: str
  table: str
  needs_noise: bool
  needs_tree: bool
  dense: bool
  batch_size: int
  skips_under: tuple
  lookup: Callable
  chunk_inputs: Callable
  gather: Callable
  batch_loss: Callable
  rows_per_example: Callable

  def table_rows(self, vocab_size: int) -> int:
    return vocab_size - 1 if self.table == "nodes" else vocab_size


# ---------------------------------------------------------------- sampled: ns and nce

def _noise_lookup(loss: str):
  def lookup(noise_V, tree):  # pylint: disable=unused-argument
    """The alias table of the noise distribution; nce also log Pn(w) [V], from which
    its logits' correction -log(K Pn(w)) is made."""
    accept, alias = sampling.alias_table(noise_V)
    tables = {"accept": jnp.asarray(accept), "alias": jnp.asarray(alias)}
    if loss == "nce":
      tables["log_noise"] = jnp.asarray(np.log(noise_V), jnp.float32)
    return tables
  return lookup


def _draw_chunk_negatives(chunk, tables, key, step, config, path_slots):  # pylint: disable=unused-argument
  # (path_slots: hs only)
  """The chunk's negatives [T, B / G, K], drawn before the loop so that they sit in
  memory: drawn inside it, XLA fuses the hash into each of the D elements of
  every [B, K, D] gradient that depends on a draw (3x the step time on a CPU).
  Step t's seed hashes (the key's bits, global step t): independent of T."""
  steps_T = (step + jnp.arange(chunk["mask"].shape[0])).astype(jnp.uint32)
  seeds_T = sampling.mix32(jax.random.bits(key, (), jnp.uint32) ^ sampling.mix32(steps_T))
  shape = (chunk["mask"].shape[1] // config.share_negatives, config.negative)
  return {"negatives": jax.vmap(lambda seed: sampling.draw_negatives(
      seed, shape, tables["accept"], tables["alias"]))(seeds_T)}


def step_negatives(key, tables, rows: int, negative: int):
  """A single step's negatives [rows, K] from its key (a chunk draws its own)."""
  seed = jax.random.bits(key, (), jnp.uint32)
  return sampling.draw_negatives(seed, (rows, negative), tables["accept"], tables["alias"])


def _sampled_gather(loss: str):
  def gather(tables, batch, key, *, negative, share_negatives):
    """Targets then the negatives, all from emb_out. With share_negatives = G > 1
    each run of G consecutive examples uses the same K negatives (Ji et al. 2016):
    B K / G rows are gathered and scattered instead of B K, and the grouped
    losses score a group's examples against them with one matrix product."""
    target_B = batch["centre"]
    b = target_B.shape[0]
    negatives_QxK = (batch["negatives"] if "negatives" in batch else
                     step_negatives(key, tables, b // share_negatives, negative))
    extra = {"share_negatives": share_negatives}
    if loss == "ns":
      negatives_BxK = jnp.repeat(negatives_QxK, share_negatives, axis=0)
      extra["negative_mask"] = negatives_BxK != target_B[:, None]  # word2vec.c skips these
    else:  # nce keeps negatives equal to the target (losses.nce_loss says why)
      log_k = jnp.log(jnp.float32(negative))
      extra["target_log_kpn"] = tables["log_noise"][target_B] + log_k            # [B]
      extra["negative_log_kpn"] = tables["log_noise"][negatives_QxK] + log_k     # [Q, K]
    return {"emb_out": jnp.concatenate([target_B, negatives_QxK.reshape(-1)])}, extra
  return gather


_SAMPLED_BATCH = {("skipgram", "ns"): losses.skipgram_ns_batch,
                  ("cbow", "ns"): losses.cbow_ns_batch,
                  ("skipgram", "nce"): losses.skipgram_nce_batch,
                  ("cbow", "nce"): losses.cbow_nce_batch}
_SAMPLED_GROUPED = {("skipgram", "ns"): losses.skipgram_ns_grouped,
                    ("cbow", "ns"): losses.cbow_ns_grouped,
                    ("skipgram", "nce"): losses.skipgram_nce_grouped,
                    ("cbow", "nce"): losses.cbow_nce_grouped}


def _sampled_loss(loss: str):
  def batch_loss(rows, extra, *, model, cbow_mean, skip_beyond):
    """Per-example losses [B] with the negatives shared by groups of G examples."""
    g = extra["share_negatives"]
    b = rows["emb_in"].shape[0]
    out_rows = rows["emb_out"]            # [B + B K / G, D]: targets, then negatives
    d = out_rows.shape[-1]
    target_BxD, negatives_QxKxD = out_rows[:b], out_rows[b:].reshape(b // g, -1, d)
    inputs = (rows["emb_in"],) if model == "skipgram" else (rows["emb_in"], extra["context_mask"])
    options = (skip_beyond,) if model == "skipgram" else (cbow_mean, skip_beyond)
    # What follows the negative rows: per example ([B, ...]), then per group ([Q, ...]).
    if loss == "ns":
      per_example, per_group = (extra["negative_mask"],), ()
    else:
      per_example, per_group = (extra["target_log_kpn"],), (extra["negative_log_kpn"],)
    if g == 1:  # the plain batch forms; on a CPU faster than groups of one
      return _SAMPLED_BATCH[model, loss](*inputs, target_BxD, negatives_QxKxD, *per_example,
                                         *per_group, *options)
    group = lambda x: x.reshape((b // g, g) + x.shape[1:])
    loss_QxG = _SAMPLED_GROUPED[model, loss](
        *map(group, inputs), group(target_BxD), negatives_QxKxD, *map(group, per_example),
        *per_group, *options)
    return loss_QxG.reshape(b)
  return batch_loss


# ---------------------------------------------------------------- hs

def _tree_lookup(noise_V, tree):  # pylint: disable=unused-argument
  return {"points": jnp.asarray(tree.points_VxL), "codes": jnp.asarray(tree.codes_VxL),
          "lengths": jnp.asarray(tree.lengths_V)}


def tree_paths(tables, target_B, slots=None) -> dict:
  """Inner nodes [B, L], code bits [B, L] and path mask [B, L] of each target's path.

  L is the longest code, or `slots` where every target's code is known to be
  at most that long (a path bucket's batch, batches.iterate_epoch): the slots
  cut off are masked for every target, so the loss and its gradient are the
  same, with less work.
  """
  l = tables["points"].shape[1] if slots is None else slots
  return {"points": tables["points"][target_B][:, :l], "codes": tables["codes"][target_B][:, :l],
          "path_mask": jnp.arange(l)[None, :] < tables["lengths"][target_B][:, None]}


def _chunk_paths(chunk, tables, key, step, config, path_slots):  # pylint: disable=unused-argument
  """Every step's tree paths, looked up before the loop (as the negatives are)."""
  return jax.vmap(lambda target_B: tree_paths(tables, target_B, path_slots))(chunk["centre"])


def _hs_gather(tables, batch, key, *, negative, share_negatives):  # pylint: disable=unused-argument
  path = batch if "points" in batch else tree_paths(tables, batch["centre"])
  return {"nodes": path["points"]}, {"codes": path["codes"], "path_mask": path["path_mask"]}


def _hs_loss(rows, extra, *, model, cbow_mean, skip_beyond):
  if model == "cbow":
    return losses.cbow_hs_batch(rows["emb_in"], extra["context_mask"], rows["nodes"],
                                extra["codes"], extra["path_mask"], cbow_mean, skip_beyond)
  if "context_mask" in extra:  # skip-gram by centre: a row's contexts share its path
    return losses.hs_batch(rows["emb_in"], extra["context_mask"], rows["nodes"],
                           extra["codes"], extra["path_mask"], skip_beyond)
  return losses.skipgram_hs_batch(rows["emb_in"], rows["nodes"], extra["codes"],
                                  extra["path_mask"], skip_beyond)


# ---------------------------------------------------------------- softmax

def _softmax_gather(tables, batch, key, *, negative,  # pylint: disable=unused-argument
                    share_negatives):
  return {}, {"target": batch["centre"]}  # emb_out is read whole (model._gather)


def _softmax_loss(rows, extra, *, model, cbow_mean, skip_beyond):  # pylint: disable=unused-argument
  h_BxD = rows["emb_in"]
  if model == "cbow":
    h_BxD = jax.vmap(losses.cbow_hidden, in_axes=(0, 0, None))(h_BxD, extra["context_mask"],
                                                               cbow_mean)
  return losses.softmax_batch_blocked(h_BxD, rows["emb_out"], extra["target"])


_none = lambda *args: {}

LAYERS = {
    "softmax": OutputLayer(
        name="softmax", table="emb_out", needs_noise=False, needs_tree=False, dense=True,
        batch_size=256, skips_under=(), lookup=lambda noise_V, tree: {}, chunk_inputs=_none,
        gather=_softmax_gather, batch_loss=_softmax_loss, rows_per_example=lambda config: 0),
    "ns": OutputLayer(
        name="ns", table="emb_out", needs_noise=True, needs_tree=False, dense=False,
        batch_size=512, skips_under=("all",), lookup=_noise_lookup("ns"),
        chunk_inputs=_draw_chunk_negatives, gather=_sampled_gather("ns"),
        batch_loss=_sampled_loss("ns"), rows_per_example=lambda config: 1 + config.negative),
    # Every hs example shares the top tree nodes, so its default batch is small
    # (docs/RESULTS.md); its path is counted as 40 nodes, a deep Huffman path.
    "hs": OutputLayer(
        name="hs", table="nodes", needs_noise=False, needs_tree=True, dense=False,
        batch_size=32, skips_under=("all", "hs"), lookup=_tree_lookup, chunk_inputs=_chunk_paths,
        gather=_hs_gather, batch_loss=_hs_loss, rows_per_example=lambda config: 40),
    # nce terms are never skipped: its logits are shifted by -log(K Pn(w)), which
    # starts a rare word beyond 6 (12 for Pn = 1e-6, K = 5), so skipping would
    # freeze its rows.
    "nce": OutputLayer(
        name="nce", table="emb_out", needs_noise=True, needs_tree=False, dense=False,
        batch_size=512, skips_under=(), lookup=_noise_lookup("nce"),
        chunk_inputs=_draw_chunk_negatives, gather=_sampled_gather("nce"),
        batch_loss=_sampled_loss("nce"), rows_per_example=lambda config: 1 + config.negative),
}
