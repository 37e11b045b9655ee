"""From what a user asked for to what runs: validate(config) and resolve(config).

`validate` refuses settings that make no sense, with one line saying why
(UserError), before anything starts. `resolve` returns a `Resolved`: the same
fields with every placeholder made concrete, computed once at the entry point
(run.py, loop.train) and passed down, so no reader works a default out again,
and config.json and the checkpoint record what ran:
  alpha            None -> 0.025 for skip-gram, 0.05 for CBOW (word2vec.c); with auto's
                   rule above SUM_HOLDS_UP_TO examples per step, LARGE_BATCH_ALPHA where measured
  batch_size       0 -> the default that held the quality bar for the loss
  row_update       "auto" -> sum up to SUM_HOLDS_UP_TO examples per step, above it
                   LARGE_BATCH_RULE: krylov (ns, nce, softmax, CBOW-hs) or newton (skip-gram hs)
  krylov_dims      0 -> 1 for hs with krylov (newton's factor, the curvature per table), else 3
  skipgram_layout  "auto" -> centres for hs up to SUM_HOLDS_UP_TO["hs"] examples per step,
                   pairs otherwise (so a large batch counts pairs, as for ns)
  share_negatives  0 -> 32, or the largest power of two dividing the batch
  path_buckets     0 -> 2 for hs in one process, else 1
  steps_per_call   0 -> calls of about CALL_EXAMPLES rows (32 for softmax)
  cpu_threads      0 -> 1 for ns, nce and hs; the usable cores for softmax
  corpus           "" -> "default"
  cache_dir        "" -> $W2V_JAX_CACHE, $XDG_CACHE_HOME/w2v_jax or ~/.cache/w2v_jax
  data_dir         "" -> CACHE_DIR/data
  platform         "" -> the backend JAX picks
  num_devices      -1 -> every device JAX sees (on every host)
Resolving a resolved config gives it back unchanged. `platform` and
`num_devices` ask JAX, so resolve after the runtime is set up (run.py).
"""

import dataclasses
import math
import numbers
import os
from typing import Optional

from w2v_jax import phrases
from w2v_jax.config import Config
from w2v_jax.config import FIELDS
from w2v_jax.errors import UserError
from w2v_jax.output_layers import LAYERS

SATURATION = 6.0  # word2vec.c's MAX_EXP
CALL_EXAMPLES = 1 << 16  # rows per compiled call by default (steps_per_call)
# The largest batches at which the plain sum of a shared row's updates held the
# quality bar (docs/RESULTS.md, "Large batches"): every hs example shares the
# tree's top nodes, so hs gives way first. Above them --row_update=auto takes the
# rule that scored best at 65,536 (analogy %): krylov for ns (CBOW 10.7 against
# newton's 6.9, seed 1); for skip-gram-hs newton (9.1 against krylov's 5.2, seed 1);
# for CBOW-hs krylov in one direction (KRYLOV_DIMS), which is newton's factor with each
# table's curvature taken holding the other fixed: 9.16 (2 seeds, alpha 0.07) against
# newton's 8.6, and 7.3 for krylov in three (seed 1, alpha 0.05). newton's joint
# curvature holds input rows back: in one CBOW-hs batch they moved 6% as far along the
# sequential pass as it goes (experiments/large_batch_probe.py, its "gain").
SUM_HOLDS_UP_TO = {"hs": 256, "other": 1024}
LARGE_BATCH_RULE = {"hs": "newton", "other": "krylov"}
LARGE_BATCH_RULE_OF = {("cbow", "hs"): "krylov"}  # where the model's rule is not its kind's
KRYLOV_DIMS = {"hs": 1, "other": 3}
# A batch of 65,536 makes a run take 128 times fewer steps than the default 512, and an
# example's update reaches the others of its batch only at the next step, where a
# sequential pass hands it on at once. A larger starting learning rate made up for it:
# with krylov at 65,536 (offline-prose, the parity settings, 3 epochs, 2 seeds; analogy %)
# CBOW-NS went from 10.7 at 0.05 to 11.7 at 0.07 (a seed-1 probe: 8.3 / 10.8 / 11.3 / 10.7
# at 0.035 / 0.05 / 0.07 / 0.1) and skip-gram-NS from 11.2 at 0.025 to 12.9 at 0.04, both
# then inside the bar (docs/RESULTS.md, "A learning rate that follows the batch").
# CBOW-hs (krylov in one direction, 2 seeds): 9.16 at 0.07 (0.045 short), 9.75 at 0.085.
# Skip-gram-hs (newton, 65,536 pairs a step, 2 seeds): 13.8 and 13.9 at 0.04, the rate that
# scored best at 65,536 rows by centre (9.3 at 0.025, 9.7 at 0.04, 9.5 at 0.055; seed 1).
LARGE_BATCH_ALPHA = {("cbow", "ns"): 0.07, ("skipgram", "ns"): 0.04, ("cbow", "hs"): 0.085,
                     ("skipgram", "hs"): 0.04}
# The largest batches at which the defaults were measured to hold the quality bar
# (offline-prose, 2 seeds, and at or above the default batch on a second corpus;
# docs/RESULTS.md, "Large batches"). Skip-gram-hs at 65,536 pairs (by pair; on the second
# corpus 11.9 against the default batch's 10.5, seed 1); by centre only up to the sum
# rule's (quality_note). CBOW-hs held the bar on offline-prose but was 2.3 points below
# the default batch on the second corpus (seed 1). Above them loop.py logs a note, not an
# error.
QUALITY_HELD_UP_TO = {("skipgram", "ns"): 262144, ("cbow", "ns"): 65536,
                      ("skipgram", "hs"): 65536,
                      ("cbow", "hs"): SUM_HOLDS_UP_TO["hs"]}
# --sweep's fields and their types: those that leave the data stream alone (sweep.py).
SWEEPABLE = {"ns_exponent": float, "alpha": float, "negative": int, "dim": int,
             "lr_warmup": float}


@dataclasses.dataclass(frozen=True)
class Resolved(Config):
  """A Config whose every value is concrete (module docstring); made by resolve()."""

  @property
  def batch_rows(self) -> str:
    """What a batch row holds (batches.py): "pairs" (skip-gram by pair), "cbow" (a
    centre and its 2W context slots) or "centres" (skip-gram by centre)."""
    return "cbow" if self.model == "cbow" else self.skipgram_layout

  @property
  def skip_beyond(self) -> float:
    """The |logit| from which the loss makes no update (0 = never): word2vec.c's 6
    where --skip_saturated applies to the loss (output_layers.py's skips_under)."""
    return SATURATION if self.skip_saturated in LAYERS[self.loss].skips_under else 0.0


def _one_of(config: Config, name: str) -> None:
  options = FIELDS[name].metadata["choices"]
  if getattr(config, name) not in options:
    shown = "cpu, gpu or tpu" if name == "platform" else ", ".join(options)
    raise UserError(f"--{name} must be {'one of ' if name != 'platform' else ''}{shown}, "
                    f"got {getattr(config, name)!r}")


def _of_its_type(config: Config, name: str) -> None:
  """Refuses a value of the wrong type (a keyword of w2v_jax.train, e.g. dim="100"):
  bool for a bool field, an integer (not a bool) for int, a real number for float."""
  kind, value = FIELDS[name].type, getattr(config, name)
  if kind == Optional[float] and value is None:
    return
  kind = float if kind == Optional[float] else kind
  number = isinstance(value, numbers.Real) and not isinstance(value, bool)
  fits = {bool: isinstance(value, bool), int: number and isinstance(value, numbers.Integral),
          float: number, str: isinstance(value, str)}.get(kind, True)  # other types: unchecked
  if not fits:
    what = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    raise UserError(f"--{name} must be {what[kind]}, got {value!r}")


def _check_domains(config: Config) -> None:
  """The values every numeric field can take, beyond validate's checks of combinations:
  no NaN or infinity where a finite number is meant, no negative seed (numpy and JAX
  take 0 <= seed < 2**63). --alpha has no upper bound: values well above word2vec.c's
  0.025-0.05 are researched (up to 0.1 and beyond); a rate that makes a run diverge is
  stopped by the loop's divergence guard, which names the step and the rate."""
  if not 0 <= config.seed < 2**63:
    raise UserError(f"--seed must be an integer in [0, 2**63), got {config.seed}")
  if not (math.isfinite(config.sample) and config.sample >= 0):
    raise UserError(f"--sample must be >= 0 and finite (0 = no subsampling), "
                    f"got {config.sample}")
  if config.alpha is not None and not (math.isfinite(config.alpha) and config.alpha > 0):
    raise UserError(f"--alpha must be > 0 and finite (word2vec.c: 0.025 skip-gram, "
                    f"0.05 CBOW), got {config.alpha}")
  if not (math.isfinite(config.ns_exponent) and config.ns_exponent >= 0):
    raise UserError(f"--ns_exponent must be >= 0 and finite, got {config.ns_exponent}")
  if not 0 <= config.krylov_dims <= 32:
    raise UserError(f"--krylov_dims must lie in [0, 32] (0 = 1 for hs, else 3; each costs a "
                    f"Hessian-vector product per table per step), got {config.krylov_dims}")
  if not (math.isfinite(config.row_cap) and config.row_cap >= 1):
    raise UserError(f"--row_cap must be at least 1 (the uses a row's step counts), "
                    f"got {config.row_cap}")
  if not config.log_every_secs >= 0:  # also catches NaN; inf = no timed progress lines
    raise UserError(f"--log_every_secs must be >= 0, got {config.log_every_secs}")


def validate(config: Config) -> Config:
  """Refuses settings that make no sense, with one line saying why; returns config."""
  for name, f in FIELDS.items():
    _of_its_type(config, name)
    if f.metadata["choices"]:
      _one_of(config, name)
  _check_domains(config)
  if config.export != "in" and LAYERS[config.loss].table != "emb_out":
    raise UserError("--export=out and in+out need per-word output vectors, which "
                    "--loss=hs does not have (its output rows are tree nodes); use --export=in")
  for name in ("analogies", "ws353", "simlex"):
    if not getattr(config, name):
      raise UserError(f"--{name} must name a file, or gensim:NAME for one of gensim's test "
                      f"files (the default is {FIELDS[name].default})")
  if config.restrict_vocab < 1 or config.topk < 1:
    raise UserError("--restrict_vocab and --topk must be at least 1")
  if (config.skipgram_layout == "centres" and config.model == "skipgram"
      and not LAYERS[config.loss].needs_tree):
    raise UserError(f"--skipgram_layout=centres is built for --loss=hs only, "
                    f"got --loss={config.loss}")
  if config.num_devices == 0 or config.num_devices < -1:
    raise UserError(f"--num_devices must be >= 1, or -1 for every device, "
                    f"got {config.num_devices}")
  if config.num_devices > 0:
    check_batch_split(config, config.num_devices)
  if config.num_processes < 1 or not 0 <= config.process_id < config.num_processes:
    raise UserError(f"--process_id must lie in [0, --num_processes) and --num_processes be "
                    f">= 1, got {config.process_id} and {config.num_processes}")
  if config.num_processes > 1 and not config.coordinator_address:
    raise UserError("--num_processes > 1 needs --coordinator_address=HOST:PORT (process 0's)")
  if config.num_processes > 1 and config.num_devices != -1 and not isinstance(config, Resolved):
    raise UserError("--num_processes > 1 trains on every process's devices: pass "
                    "--num_devices=-1")
  for name in ("dim", "window", "epochs", "min_count", "max_sentence_length"):
    if getattr(config, name) < 1:
      raise UserError(f"--{name} must be at least 1, got {getattr(config, name)}")
  for name, what in (("steps_per_call", "default"), ("cpu_threads", "default"),
                     ("batch_size", "loss's default"), ("path_buckets", "default"),
                     ("share_negatives", "default")):
    if getattr(config, name) < 0:
      raise UserError(f"--{name} must be >= 1 (or 0 for the {what}), "
                      f"got {getattr(config, name)}")
  if config.path_buckets > 1 and not LAYERS[config.loss].needs_tree:
    raise UserError(f"--path_buckets applies to --loss=hs only, got --loss={config.loss}")
  if config.path_buckets > 1 and config.num_processes > 1:
    raise UserError("--path_buckets > 1 needs one process: every process would have to "
                    "train the same bucket at every call; use --path_buckets=1")
  if config.share_negatives and batch_size(config) % config.share_negatives:
    raise UserError(f"--share_negatives={config.share_negatives} must divide the batch size "
                    f"({batch_size(config)})")
  if config.max_vocab < 0:
    raise UserError(f"--max_vocab must be >= 0 (0 = no cap), got {config.max_vocab}")
  if config.max_vocab == 1:
    raise UserError("--max_vocab=1 leaves nothing to predict; use at least 2 (or 0 for no cap)")
  if config.negative < 0:
    raise UserError(f"--negative must be >= 0, got {config.negative}")
  if LAYERS[config.loss].needs_noise and config.negative == 0:
    raise UserError(f"--loss={config.loss} needs --negative >= 1 (word2vec.c uses 5)")
  if not config.checkpoint_every_secs >= 0:
    raise UserError(f"--checkpoint_every_secs must be >= 0 (0 = after every compiled call), "
                    f"got {config.checkpoint_every_secs}")
  if not 0 <= config.min_alpha_ratio <= 1:
    raise UserError(f"--min_alpha_ratio must lie in [0, 1], got {config.min_alpha_ratio}")
  if not 0 <= config.lr_warmup < 1:
    raise UserError(f"--lr_warmup must lie in [0, 1), got {config.lr_warmup}")
  if config.sweep:
    sweep_variants(config)  # refuses what a sweep cannot do
  if config.phrase_passes < 1 or config.phrase_min_count < 1:
    raise UserError("--phrase_passes and --phrase_min_count must be at least 1")
  thresholds = phrases.parse_thresholds(config.phrase_threshold, config.phrase_passes)
  if not all(math.isfinite(t) for t in thresholds):
    raise UserError(f"--phrase_threshold must be finite, got {config.phrase_threshold}")
  if config.phrase_scoring == "npmi" and not all(-1 <= t <= 1 for t in thresholds):
    raise UserError(f"--phrase_scoring=npmi scores lie in [-1, 1]; --phrase_threshold="
                    f"{config.phrase_threshold} is outside (try 0.5)")
  if config.phrase_scoring != "npmi" and not all(t >= 0 for t in thresholds):
    raise UserError(f"--phrase_threshold must be >= 0 for --phrase_scoring="
                    f"{config.phrase_scoring} (a score of 0 means no phrase), got "
                    f"{config.phrase_threshold}")
  if not config.phrase_delimiter or any(c.isspace() for c in config.phrase_delimiter):
    raise UserError("--phrase_delimiter must be one or more characters that are not spaces")
  return config


def resolve(config: Config) -> Resolved:
  """The validated config with every placeholder made concrete (module docstring)."""
  validate(config)
  fields = {name: getattr(config, name) for name in FIELDS}
  cache, data_dir = folders(config)
  fields.update(
      alpha=alpha(config),
      batch_size=batch_size(config), row_update=row_update(config), krylov_dims=krylov_dims(config),
      skipgram_layout=skipgram_layout(config),
      share_negatives=config.share_negatives or math.gcd(32, batch_size(config)),
      path_buckets=path_buckets(config), steps_per_call=steps_per_call(config),
      cpu_threads=cpu_threads(config), corpus=config.corpus or "default", cache_dir=cache,
      data_dir=data_dir)
  if not config.platform or config.num_devices == -1:
    import jax  # pylint: disable=import-outside-toplevel  # only here: it starts a backend
    devices = jax.devices(config.platform or None)
    fields.update(platform=config.platform or devices[0].platform,
                  num_devices=len(devices) if config.num_devices == -1 else config.num_devices)
    check_batch_split(config, fields["num_devices"])
  return Resolved(**fields)


def folders(config) -> tuple:
  """(cache_dir, data_dir) with their defaults: "" would mean the current directory."""
  cache = config.cache_dir or default_cache_dir()
  return cache, config.data_dir or os.path.join(cache, "data")


def default_alpha(model: str) -> float:
  """word2vec.c's starting learning rate: 0.025 for skip-gram, 0.05 for CBOW."""
  return 0.05 if model == "cbow" else 0.025


def alpha(config: Config) -> float:
  """--alpha, or word2vec.c's, or with auto's rule above the batch sizes where the sum rule
  holds, the one measured for the model and loss there (LARGE_BATCH_ALPHA)."""
  if config.alpha is not None:
    return config.alpha
  if (batch_size(config) > SUM_HOLDS_UP_TO["other"]
      and row_update(config) == large_batch_rule(config)):
    return LARGE_BATCH_ALPHA.get((config.model, config.loss), default_alpha(config.model))
  return default_alpha(config.model)


def quality_note(model: str, loss: str, batch: int, rows: str = "pairs") -> str:
  """'' where the batch is within QUALITY_HELD_UP_TO (or unmeasured), else a note
  saying the run is past what was measured to keep word2vec's quality. `rows` is
  Resolved.batch_rows: skip-gram by centre (rows of up to `window` pairs) is held to the
  sum rule's batch sizes, the largest it was measured to hold at."""
  held = QUALITY_HELD_UP_TO.get((model, loss))
  if rows == "centres" and held is not None:
    held = min(held, SUM_HOLDS_UP_TO["hs"])
  if held is None or batch <= held:
    return ""
  return (f"note: {model}-{loss} at {batch} examples per step is past the largest batch "
          f"measured to keep word2vec's quality ({held}; docs/RESULTS.md, \"Large batches\"); "
          f"expect lower scores than at the default batch")


def skipgram_layout(config: Config) -> str:
  """By centre for hs at the batch sizes where the sum rule holds (a centre's contexts share
  its path: faster on the CPU); by pair above them, so that --batch_size=N is N pairs, as
  for ns. By centre a row holds up to `window` pairs (3.46 on offline-prose): 65,536 rows
  by centre, 226,591 pairs a step, scored 9.7 with newton at 0.04 (seed 1), where 18,944
  rows (about 65,500 pairs) scored 13.8 and 13.9 and 65,536 laid out by pair 14.8 and 15.1
  (seeds 1, 2; docs/RESULTS.md, "Skip-gram-HS: a batch counts pairs")."""
  if config.skipgram_layout == "auto":
    by_centre = LAYERS[config.loss].needs_tree and (  # 0: the default batch, by centre
        config.batch_size <= SUM_HOLDS_UP_TO["hs"]
        or config.model == "cbow")  # unused there: kept as recorded before, in its records
    return "centres" if by_centre else "pairs"
  return config.skipgram_layout


def batch_size(config: Config) -> int:
  if config.batch_size:
    return config.batch_size
  if config.model == "skipgram" and skipgram_layout(config) == "centres":
    return 24  # rows of a centre and up to `window` contexts: ~80 pairs
  return LAYERS[config.loss].batch_size


def _kind(config: Config) -> str:
  return "hs" if LAYERS[config.loss].needs_tree else "other"


def row_update(config: Config) -> str:
  if config.row_update != "auto":
    return config.row_update
  if batch_size(config) <= SUM_HOLDS_UP_TO[_kind(config)]:
    return "sum"
  return large_batch_rule(config)


def large_batch_rule(config: Config) -> str:
  """The rule auto takes above the sum rule's batch sizes."""
  return LARGE_BATCH_RULE_OF.get((config.model, config.loss), LARGE_BATCH_RULE[_kind(config)])


def krylov_dims(config: Config) -> int:
  """--krylov_dims, or KRYLOV_DIMS for the loss's kind where the rule is krylov; 3 (what
  every run had before the default followed the loss) where krylov does not run."""
  if config.krylov_dims:
    return config.krylov_dims
  return KRYLOV_DIMS[_kind(config)] if row_update(config) == "krylov" else 3


def steps_per_call(config: Config) -> int:
  """The power of two nearest below CALL_EXAMPLES / batch size, at least 32; 32 for
  softmax, whose steps are large."""
  if config.steps_per_call:
    return config.steps_per_call
  if LAYERS[config.loss].dense:
    return 32
  return max(32, 1 << max(0, (CALL_EXAMPLES // batch_size(config)).bit_length() - 1))


def path_buckets(config: Config) -> int:
  if config.path_buckets:
    return config.path_buckets
  return 2 if LAYERS[config.loss].needs_tree and config.num_processes == 1 else 1


def cpu_threads(config: Config) -> int:
  """1 for the sparse losses; for softmax the cores this process may use (XLA's own
  choice: run.py leaves the pools alone at that number)."""
  if config.cpu_threads:
    return config.cpu_threads
  if not LAYERS[config.loss].dense:
    return 1
  return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def check_batch_split(config: Config, num_devices: int) -> None:
  """Refuses a batch that num_devices devices cannot split into equal slices."""
  if batch_size(config) % num_devices:
    raise UserError(f"the batch size ({batch_size(config)}) must be a multiple of the "
                    f"{num_devices} devices, which each take an equal slice of every batch; "
                    "set --batch_size")


def default_cache_dir() -> str:
  """$W2V_JAX_CACHE, else $XDG_CACHE_HOME/w2v_jax, else ~/.cache/w2v_jax."""
  if os.environ.get("W2V_JAX_CACHE"):
    return os.environ["W2V_JAX_CACHE"]
  base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
  return os.path.join(base, "w2v_jax")


def sweep_values(config: Config) -> tuple[str, tuple]:
  """--sweep=FIELD=V1,V2,... -> (FIELD, values in the field's type); UserError if malformed."""
  field, sep, listed = config.sweep.partition("=")
  field = field.strip()
  tokens = [t.strip() for t in listed.split(",")]
  if not sep or not field or not all(tokens):
    raise UserError(f"--sweep must look like FIELD=V1,V2,... (e.g. ns_exponent=0,0.5,0.75), "
                    f"got {config.sweep!r}")
  if field not in SWEEPABLE:
    why = ("is not a setting" if field not in FIELDS else
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
  """One config per --sweep value (workdir WORKDIR/FIELD=V, sweep ""), validated, and
  resolved where `config` is; [] without a sweep."""
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
    variant = dataclasses.replace(config, sweep="", **{field: value},
                                  workdir=os.path.join(config.workdir, folder))
    variants.append(resolve(variant) if isinstance(config, Resolved) else validate(variant))
  return variants
