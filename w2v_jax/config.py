"""One frozen configuration for a run; run.py maps flags onto it once.

Derived values (the default learning rate per model, the cache folder) are
returned by functions, never written back into the object.
"""

import dataclasses
import math
import os
from typing import Optional

from w2v_jax.errors import UserError

MODELS = ("skipgram", "cbow")
LOSSES = ("softmax", "ns", "hs", "nce")
SAMPLED_LOSSES = ("ns", "nce")  # draw K negatives from the noise distribution
SUBSAMPLE_FORMULAS = ("word2vec", "paper")
CBOW_UPDATES = ("word2vec", "exact")
PLATFORMS = ("", "cpu", "gpu", "tpu")
EXPORTS = ("in", "out", "in+out")
ANALOGY_METHODS = ("3cosadd", "3cosmul")
SKIP_SATURATED = ("none", "hs", "all")
SATURATION = 6.0  # word2vec.c's MAX_EXP
TABLE_SHARDINGS = ("replicated", "rows")
SKIPGRAM_LAYOUTS = ("auto", "pairs", "centres")
# --sweep's fields and their types: those that leave the data stream alone (sweep.py).
SWEEPABLE = {"ns_exponent": float, "alpha": float, "negative": int, "dim": int}


@dataclasses.dataclass(frozen=True)
class Config:
  """Every setting of a run. Defaults follow word2vec.c unless noted."""
  # What to train.
  model: str = "skipgram"
  loss: str = "ns"
  # Data.
  corpus: str = ""
  workdir: str = "runs/default"
  cache_dir: str = ""  # "" -> default_cache_dir()
  data_dir: str = ""   # built corpora and their downloads; "" -> CACHE_DIR/data
  include_debian: bool = False      # offline-prose: add Debian prose (apt-get download)
  include_nlp_corpus: bool = False  # offline-prose: add nlp-corpus (unclear rights)
  text8_path: str = ""  # --corpus=text8: the file; "" -> $W2V_JAX_TEXT8, ./text8, DATA_DIR/text8
  lowercase: bool = False
  max_sentence_length: int = 10_000  # longer lines are split into chunks
  min_count: int = 5
  max_vocab: int = 0  # exact top-K after min_count; 0 = no cap
  sample: float = 1e-3  # subsampling threshold t; 0 = off
  subsample_formula: str = "word2vec"
  # Context.
  window: int = 5
  shrink_window: bool = True  # half-width uniform in 1..window per centre
  # Model.
  dim: int = 100
  negative: int = 5
  ns_exponent: float = 0.75
  cbow_mean: bool = True
  cbow_update: str = "word2vec"  # "exact": the true gradient of the mean
  # Terms whose logit has |x| >= 6 make no update: "all" as gensim (tree nodes
  # and negative-sampling terms), "hs" as word2vec.c (tree nodes only), "none"
  # = the exact gradient everywhere. A deviation from word2vec.c for ns: on
  # offline-prose, batched skip-gram-NS with "none" was erratic (analogy 11.0
  # and 7.2 for two seeds; 11.9 and 12.0 with "all"; docs/RESULTS.md). nce
  # terms are never skipped (skip_beyond).
  skip_saturated: str = "all"
  # Optimisation.
  epochs: int = 5
  alpha: Optional[float] = None  # None -> default_alpha(model)
  min_alpha_ratio: float = 1e-4  # word2vec.c's floor: alpha * 1e-4
  # Examples per step; 0 = batch_size(config): 32 for hs (24 rows, ~80 pairs,
  # for skip-gram hs by centre), 512 for ns and nce, 256 for softmax.
  # Rows shared by many examples of a batch get the sum of their updates,
  # computed from the same old value; with hs every example shares the top tree
  # nodes, and on offline-prose in corpus order hs lost 5 (skip-gram) and 3.7
  # (CBOW) analogy points at 256 against 32, while ns held its quality up to
  # 1024 (docs/RESULTS.md; with shuffling, hs held it at 256).
  batch_size: int = 0
  # Examples in random order within ~1M-token chunks (batches.py); False =
  # word2vec.c's reading order. A deviation by default: with shared negatives
  # it keeps a group's examples unrelated (docs/RESULTS.md).
  shuffle: bool = True
  # Skip-gram's batch rows: "pairs" = one (context, centre) pair per row, as
  # word2vec.c's inner loop; "centres" = a centre and up to `window` of its
  # context words per row (one with more takes two rows), so batch_size counts
  # such rows. With hs every pair of a centre walks the centre's tree path:
  # "centres" gathers and scatters the path once per row instead of once per
  # pair, and scores the row's contexts against it with one matrix product.
  # The loss is the same sum over the same pairs; what changes is which pairs
  # share a batch (a centre's together, as in word2vec.c's order). hs only, for
  # now; "auto" = centres for hs (faster at the same quality, docs/SPEED.md),
  # pairs otherwise.
  skipgram_layout: str = "auto"
  # loss=ns or nce: runs of this many consecutive examples share their negatives
  # (Ji et al. 2016); 1 = word2vec.c, every example draws its own; 0 =
  # share_negatives(config): 32 (or the largest power of two dividing the
  # batch). Fewer rows to gather and scatter, and one matrix product per
  # group: 1.7x the words/s on a 2-core CPU at the same quality
  # (docs/RESULTS.md, benchmarks/results/throughput.md).
  share_negatives: int = 0
  # loss=hs: batches hold centres of one path bucket, and a batch of short
  # codes is trained with as few path slots as its bucket's bound
  # (huffman.bucket_bounds, batches.iterate_epoch); 1 = every batch has the
  # longest code's slots, as before; 0 = path_buckets(config): 2 (skip-gram
  # by centre 1.3x and CBOW 1.5x the step's words/s on a CPU, docs/SPEED.md,
  # at the same quality, docs/RESULTS.md).
  path_buckets: int = 0
  # Batches per compiled call (lax.scan); 0 = steps_per_call(config): calls of
  # about CALL_EXAMPLES rows, so that the host's fixed cost per call (dispatch,
  # reading the losses) is small against the call (1.1x-1.3x the words/s end
  # to end on 2 cores, docs/SPEED.md). Results depend on it only through the
  # fully masked steps that pad an epoch's last call (they advance the step
  # count that negatives are drawn from) and, with path buckets, through which
  # bucket's batches come first.
  steps_per_call: int = 0
  seed: int = 0
  # "FIELD=V1,V2,...": train one variant per value side by side in one
  # compiled program (sweep.py), each written to WORKDIR/FIELD=V. Only fields
  # that leave the data stream and the shapes alone: SWEEPABLE.
  sweep: str = ""
  # Running.
  platform: str = ""  # "" = what JAX finds; cpu, gpu or tpu
  # Threads in XLA's CPU thread pools, set before JAX starts its CPU client
  # (run.py); 0 = cpu_threads(config): 1 for ns, nce and hs, whose steps are
  # many small operations that XLA's threads split at a loss (on 2 cores one
  # thread, the other core left to the batch maker, gave 1.1x to 1.8x the
  # words/s; docs/SPEED.md; more cores not measured), and XLA's own choice, one
  # per core the process may use, for softmax's large products. A number >= the
  # cores is XLA's own choice.
  cpu_threads: int = 0
  # Several devices (parallel.py): each takes B / num_devices examples of every
  # batch; -1 = every device JAX sees (on every host). The tables are whole on
  # every device ("replicated") or split by rows ("rows": V / num_devices each).
  num_devices: int = 1
  table_sharding: str = "replicated"
  # Several hosts: jax.distributed.initialize(coordinator_address,
  # num_processes, process_id); 1 process = no distributed runtime.
  coordinator_address: str = ""  # host:port of process 0
  num_processes: int = 1
  process_id: int = 0
  log_every_secs: float = 5.0
  # Long runs (checkpoint.py): a checkpoint every this many seconds, between
  # compiled calls, and at each epoch end; 0 = after every call.
  checkpoint_every_secs: float = 600.0
  resume: bool = False      # continue the unfinished run whose checkpoint is in workdir
  tensorboard: bool = False  # also write TensorBoard event files to WORKDIR/tensorboard
  # Output.
  export: str = "in"        # which vectors go to vectors.bin: in, out or in+out
  save_text: bool = False   # also write vectors.txt (word2vec text format)
  # Evaluation ("" = the file inside the installed gensim package).
  evaluate: bool = True     # evaluate the vectors at the end of training
  analogies: str = ""
  ws353: str = ""
  simlex: str = ""
  restrict_vocab: int = 30_000
  analogy_method: str = "3cosadd"
  vectors: str = ""         # --mode=eval / neighbors: a word2vec-format file
  query: str = ""           # --mode=neighbors: comma-separated words
  topk: int = 10

  def validate(self) -> "Config":
    """Refuses settings that make no sense, with one line saying why."""
    if self.model not in MODELS:
      raise UserError(f"--model must be one of {', '.join(MODELS)}, got {self.model!r}")
    if self.loss not in LOSSES:
      raise UserError(f"--loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
    if self.subsample_formula not in SUBSAMPLE_FORMULAS:
      raise UserError("--subsample_formula must be one of "
                      f"{', '.join(SUBSAMPLE_FORMULAS)}, got {self.subsample_formula!r}")
    if self.cbow_update not in CBOW_UPDATES:
      raise UserError(f"--cbow_update must be one of {', '.join(CBOW_UPDATES)}, "
                      f"got {self.cbow_update!r}")
    if self.skip_saturated not in SKIP_SATURATED:
      raise UserError(f"--skip_saturated must be one of {', '.join(SKIP_SATURATED)}, "
                      f"got {self.skip_saturated!r}")
    if self.export not in EXPORTS:
      raise UserError(f"--export must be one of {', '.join(EXPORTS)}, got {self.export!r}")
    if self.export != "in" and self.loss == "hs":
      raise UserError("--export=out and in+out need per-word output vectors, which "
                      "--loss=hs does not have (its output rows are tree nodes); use --export=in")
    if self.analogy_method not in ANALOGY_METHODS:
      raise UserError(f"--analogy_method must be one of {', '.join(ANALOGY_METHODS)}, "
                      f"got {self.analogy_method!r}")
    if self.restrict_vocab < 1 or self.topk < 1:
      raise UserError("--restrict_vocab and --topk must be at least 1")
    if self.platform not in PLATFORMS:
      raise UserError(f"--platform must be cpu, gpu or tpu, got {self.platform!r}")
    if self.skipgram_layout not in SKIPGRAM_LAYOUTS:
      raise UserError(f"--skipgram_layout must be one of {', '.join(SKIPGRAM_LAYOUTS)}, "
                      f"got {self.skipgram_layout!r}")
    if self.skipgram_layout == "centres" and self.model == "skipgram" and self.loss != "hs":
      raise UserError(f"--skipgram_layout=centres is built for --loss=hs only, "
                      f"got --loss={self.loss}")
    if self.table_sharding not in TABLE_SHARDINGS:
      raise UserError(f"--table_sharding must be one of {', '.join(TABLE_SHARDINGS)}, "
                      f"got {self.table_sharding!r}")
    if self.num_devices == 0 or self.num_devices < -1:
      raise UserError(f"--num_devices must be >= 1, or -1 for every device, "
                      f"got {self.num_devices}")
    if self.num_devices > 0:
      check_batch_split(self, self.num_devices)
    if self.num_processes < 1 or not 0 <= self.process_id < self.num_processes:
      raise UserError(f"--process_id must lie in [0, --num_processes) and --num_processes be "
                      f">= 1, got {self.process_id} and {self.num_processes}")
    if self.num_processes > 1 and not self.coordinator_address:
      raise UserError("--num_processes > 1 needs --coordinator_address=HOST:PORT (process 0's)")
    if self.num_processes > 1 and self.num_devices != -1:
      raise UserError("--num_processes > 1 trains on every process's devices: pass "
                      "--num_devices=-1")
    if self.steps_per_call < 0:
      raise UserError(f"--steps_per_call must be >= 1 (or 0 for the default), "
                      f"got {self.steps_per_call}")
    positive = {"dim": self.dim, "window": self.window, "epochs": self.epochs,
                "min_count": self.min_count, "max_sentence_length": self.max_sentence_length}
    for name, value in positive.items():
      if value < 1:
        raise UserError(f"--{name} must be at least 1, got {value}")
    if self.cpu_threads < 0:
      raise UserError(f"--cpu_threads must be >= 1 (or 0 for the default), got {self.cpu_threads}")
    if self.batch_size < 0:
      raise UserError(f"--batch_size must be >= 1 (or 0 for the loss's default), "
                      f"got {self.batch_size}")
    if self.path_buckets < 0:
      raise UserError(f"--path_buckets must be >= 1 (or 0 for the default), got {self.path_buckets}")
    if self.path_buckets > 1 and self.loss != "hs":
      raise UserError(f"--path_buckets applies to --loss=hs only, got --loss={self.loss}")
    if self.path_buckets > 1 and self.num_processes > 1:
      raise UserError("--path_buckets > 1 needs one process: every process would have to "
                      "train the same bucket at every call; use --path_buckets=1")
    if self.share_negatives < 0:
      raise UserError(f"--share_negatives must be >= 1 (or 0 for the default), "
                      f"got {self.share_negatives}")
    if self.share_negatives and batch_size(self) % self.share_negatives:
      raise UserError(f"--share_negatives={self.share_negatives} must divide the batch size "
                      f"({batch_size(self)})")
    if self.max_vocab < 0:
      raise UserError(f"--max_vocab must be >= 0 (0 = no cap), got {self.max_vocab}")
    if self.max_vocab == 1:
      raise UserError("--max_vocab=1 leaves nothing to predict; use at least 2 (or 0 for no cap)")
    if self.negative < 0:
      raise UserError(f"--negative must be >= 0, got {self.negative}")
    if self.loss in SAMPLED_LOSSES and self.negative == 0:
      raise UserError(f"--loss={self.loss} needs --negative >= 1 (word2vec.c uses 5)")
    if not self.ns_exponent >= 0:  # also catches NaN
      raise UserError(f"--ns_exponent must be a real number >= 0, got {self.ns_exponent}")
    if not self.sample >= 0:
      raise UserError(f"--sample must be >= 0 (0 = no subsampling), got {self.sample}")
    if self.alpha is not None and not self.alpha > 0:
      raise UserError(f"--alpha must be > 0, got {self.alpha}")
    if not self.checkpoint_every_secs >= 0:
      raise UserError(f"--checkpoint_every_secs must be >= 0 (0 = after every compiled call), "
                      f"got {self.checkpoint_every_secs}")
    if not 0 <= self.min_alpha_ratio <= 1:
      raise UserError(f"--min_alpha_ratio must lie in [0, 1], got {self.min_alpha_ratio}")
    if self.sweep:
      sweep_variants(self)  # refuses what a sweep cannot do
    return self


def default_alpha(model: str) -> float:
  """word2vec.c's starting learning rate: 0.025 for skip-gram, 0.05 for CBOW."""
  return 0.05 if model == "cbow" else 0.025


def learning_rate(config: Config) -> float:
  return config.alpha if config.alpha is not None else default_alpha(config.model)


def batch_size(config: Config) -> int:
  """--batch_size, or the default that held the quality bar for the loss (see Config)."""
  if config.batch_size:
    return config.batch_size
  if config.loss == "hs" and batch_rows(config) == "centres":
    return 24  # rows of a centre and up to `window` contexts: ~80 pairs
  return {"hs": 32, "ns": 512, "nce": 512}.get(config.loss, 256)


def skipgram_layout(config: Config) -> str:
  """--skipgram_layout, with "auto" resolved: centres for hs, pairs otherwise."""
  if config.skipgram_layout == "auto":
    return "centres" if config.loss == "hs" else "pairs"
  return config.skipgram_layout


def batch_rows(config: Config) -> str:
  """What a batch row holds (batches.py): "pairs" (skip-gram by pair), "cbow" (a
  centre and its 2W context slots) or "centres" (skip-gram by centre)."""
  return "cbow" if config.model == "cbow" else skipgram_layout(config)


def check_batch_split(config: Config, num_devices: int) -> None:
  """Refuses a batch that num_devices devices cannot split into equal slices."""
  if batch_size(config) % num_devices:
    raise UserError(f"the batch size ({batch_size(config)}) must be a multiple of the "
                    f"{num_devices} devices, which each take an equal slice of every batch; "
                    "set --batch_size")


def share_negatives(config: Config) -> int:
  """--share_negatives, or by default 32 or the largest power of two dividing the batch."""
  return config.share_negatives or math.gcd(32, batch_size(config))


CALL_EXAMPLES = 1 << 16  # rows per compiled call by default (steps_per_call)


def steps_per_call(config: Config) -> int:
  """--steps_per_call, or the default (see Config): the power of two nearest below
  CALL_EXAMPLES / batch size, at least 32; 32 for softmax, whose steps are large."""
  if config.steps_per_call:
    return config.steps_per_call
  if config.loss == "softmax":
    return 32
  return max(32, 1 << max(0, (CALL_EXAMPLES // batch_size(config)).bit_length() - 1))


def path_buckets(config: Config) -> int:
  """--path_buckets, or the default (see Config): 2 for hs in one process, else 1."""
  if config.path_buckets:
    return config.path_buckets
  return 2 if config.loss == "hs" and config.num_processes == 1 else 1


def cpu_threads(config: Config) -> int:
  """--cpu_threads, or the default (see Config): 1, or 0 = XLA's own choice for softmax."""
  if config.cpu_threads:
    return config.cpu_threads
  return 0 if config.loss == "softmax" else 1


def skip_beyond(config: Config) -> float:
  """The |logit| from which the config's loss makes no update (0 = never).

  Never for nce: its logits are shifted by -log(K Pn(w)), which starts a rare
  word beyond 6 (12 for Pn = 1e-6, K = 5), so skipping would freeze its rows.
  """
  applies = (config.skip_saturated == "all" and config.loss in ("ns", "hs")
             or config.skip_saturated == "hs" and config.loss == "hs")
  return SATURATION if applies else 0.0


def default_cache_dir() -> str:
  """$W2V_JAX_CACHE, else $XDG_CACHE_HOME/w2v_jax, else ~/.cache/w2v_jax."""
  if os.environ.get("W2V_JAX_CACHE"):
    return os.environ["W2V_JAX_CACHE"]
  base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
  return os.path.join(base, "w2v_jax")


def cache_dir(config: Config) -> str:
  return config.cache_dir or default_cache_dir()


def data_dir(config: Config) -> str:
  return config.data_dir or os.path.join(cache_dir(config), "data")


def sweep_values(config: Config) -> tuple[str, tuple]:
  """--sweep=FIELD=V1,V2,... -> (FIELD, values in the field's type); UserError if malformed."""
  field, sep, listed = config.sweep.partition("=")
  field = field.strip()
  tokens = [t.strip() for t in listed.split(",")]
  if not sep or not field or not all(tokens):
    raise UserError(f"--sweep must look like FIELD=V1,V2,... (e.g. ns_exponent=0,0.5,0.75), "
                    f"got {config.sweep!r}")
  if field not in SWEEPABLE:
    known = {f.name for f in dataclasses.fields(Config)}
    why = ("is not a setting" if field not in known else
           "would change the data stream or the program every variant shares; "
           "train separate runs")
    raise UserError(f"--sweep cannot vary {field}: it {why} (--sweep varies "
                    f"{', '.join(SWEEPABLE)})")
  kind = SWEEPABLE[field]
  try:
    values = tuple(kind(t) for t in tokens)
  except ValueError:
    raise UserError(f"--sweep={config.sweep}: {field} takes {kind.__name__} values") from None
  if len(set(values)) != len(values):
    raise UserError(f"--sweep={config.sweep} lists a value twice")
  return field, values


def sweep_variants(config: Config) -> list:
  """One validated Config per --sweep value (workdir WORKDIR/FIELD=V, sweep ""); [] without one."""
  if not config.sweep:
    return []
  field, values = sweep_values(config)
  if field in ("ns_exponent", "negative") and config.loss != "ns":
    raise UserError(f"--sweep over {field} needs --loss=ns, got --loss={config.loss}")
  if config.num_devices != 1 or config.num_processes != 1:
    raise UserError("--sweep runs on one device: drop --num_devices / --num_processes, or "
                    "train the variants as separate runs")
  if config.resume:
    raise UserError("--resume cannot continue a --sweep run: a sweep keeps no checkpoint; "
                    "start it again in a new --workdir")
  variants = []
  for value in values:
    folder = f"{field}={value if isinstance(value, int) else f'{value:g}'}"
    variants.append(dataclasses.replace(config, sweep="", **{field: value},
                                        workdir=os.path.join(config.workdir, folder)).validate())
  return variants
