"""What every experiment script shares: runs over seeds, their records, tables and plots.

A script builds Configs, hands each to `run`, and writes what it learnt with
`write_markdown` and `plot_metrics`. Every finished run is appended as one JSON
line to experiments/results/<name>.jsonl, keyed by its full configuration, so a
sweep that was stopped continues where it stopped and re-running a script that
has finished only rewrites its table and plot (`--rerun` trains again).

Runs train in this process with w2v_jax.loop.train (one JAX import for the
whole sweep; each configuration still compiles once). Time is the training
wall time from summary.json (compilation included, evaluation excluded). Each
record also keeps `other_cores`: the CPU that other processes of the machine
used during the run, in cores, so a time taken on a busy machine can be told
apart from one taken on a quiet machine, and `xla_threads`: the size of the XLA
CPU thread pools it trained with. XLA sizes them once per process, when JAX's
CPU client starts, so the first config this module resolves sizes them for every
later run, as run.py does for its one run (runtime.start); a run that wants
another size is warned about. (Before this, a script's runs trained on pools of every core, two XLA
threads where run.py uses one for the sparse losses, while their records said
cpu_threads 1.)
"""

import dataclasses
import hashlib
import json
import os
import platform
import resource
import time
from typing import Callable, Optional, Sequence

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from w2v_jax import config as config_lib
from w2v_jax import datasets
from w2v_jax import errors
from w2v_jax import files
from w2v_jax import loop
from w2v_jax import record
from w2v_jax import resolve as resolve_lib
from w2v_jax import runtime
from w2v_jax.corpora import offline

RESULTS_DIR = os.path.join(ROOT, "experiments", "results")

# (record key, column title, scale for display): the quality metrics every table reports.
METRICS = (("analogy_total", "analogy total %", 100.0),
           ("analogy_semantic", "semantic %", 100.0),
           ("analogy_syntactic", "syntactic %", 100.0),
           ("ws353", "WS353 rho", 1.0),
           ("simlex", "SimLex rho", 1.0))
TIME = ("train_seconds", "time s", 1.0)


@dataclasses.dataclass(frozen=True)
class Size:
  """How big a script's run is: the full size, or --quick's smoke test."""
  name: str             # results/<name>.*; <name>_quick for --quick
  corpus: str
  epochs: int
  seeds: tuple
  quick: bool
  rerun: bool           # train again even if recorded
  scratch: str          # a fresh folder for the runs' workdirs
  options: dict = dataclasses.field(default_factory=dict)  # a script's own flags: strings, switches


def script_size(name: str, doc: str, epochs: int, seeds: tuple = (1, 2, 3),
                options: Optional[dict] = None, switches: Optional[dict] = None) -> Size:
  """Parses a script's --quick and --rerun (argparse; flags stay out of w2v_jax), the
  string flags `options` names ({flag: help}; "" when not given) and the on/off flags
  `switches` names ({flag: help}; False when not given), both into Size.options.

  --quick: the default corpus (~0.5M tokens), 1 epoch, the first seed,
  written to results/<name>_quick.*: a smoke test of the script, not a result.
  The scratch folder (every run's vectors and tables, gigabytes for a full
  sweep) is deleted when the script exits: the records keep what the tables need.
  """
  import argparse  # pylint: disable=import-outside-toplevel
  import atexit  # pylint: disable=import-outside-toplevel
  import shutil  # pylint: disable=import-outside-toplevel
  import tempfile  # pylint: disable=import-outside-toplevel
  parser = argparse.ArgumentParser(description=doc.splitlines()[0])
  parser.add_argument("--quick", action="store_true", help="smoke test: default corpus, 1 epoch")
  parser.add_argument("--rerun", action="store_true", help="train again even if recorded")
  for flag, help_text in (options or {}).items():
    parser.add_argument("--" + flag, default="", help=help_text)
  for flag, help_text in (switches or {}).items():
    parser.add_argument("--" + flag, action="store_true", help=help_text)
  args = parser.parse_args()
  if args.quick:
    name, corpus, epochs, seeds = name + QUICK_SUFFIX, "default", 1, seeds[:1]
  else:
    corpus = offline.NAME
  scratch = tempfile.mkdtemp(prefix=name + "-")
  atexit.register(shutil.rmtree, scratch, ignore_errors=True)
  return Size(name=name, corpus=corpus, epochs=epochs, seeds=tuple(seeds), quick=args.quick,
              rerun=args.rerun, scratch=scratch,
              options={flag: getattr(args, flag) for flag in {**(options or {}),
                                                              **(switches or {})}})


def base_config(corpus: str, scratch: str, **overrides) -> config_lib.Config:
  """A validated Config for one run; workdir under `scratch`, set again per run."""
  return resolve_lib.validate(config_lib.Config(corpus=corpus, workdir=scratch, **overrides))


def ensure_corpus(config: config_lib.Config) -> None:
  """Builds the offline-prose corpus if the run needs it and it is not there yet (~30 s)."""
  if config.corpus != offline.NAME:
    return
  config = resolve(config)  # the data folder a run reads, not "" (the cwd)
  try:
    datasets.resolve(config)
  except errors.UserError:
    print(f"building --corpus={offline.NAME} (once; see README)", flush=True)
    datasets.prepare(config)


def slice_path(corpus: str, fraction: float, by_passage: bool = False) -> str:
  """Where corpus_slice keeps the first `fraction` of `corpus`: a file in the cache's
  slices/ folder, or the corpus itself at fraction 1 (so those runs are the corpus's own).

  A slice by passage is named by the corpus's content (its manifest's sha256), so the
  records keyed by the name hold on any machine with that corpus; a slice by line keeps
  the name table_2013a's records were made with (the source's path, size and mtime).
  """
  if fraction >= 1.0:
    return corpus
  config, path = _resolved_source(corpus)
  if by_passage:
    if config.corpus != offline.NAME:
      raise errors.UserError(f"slices by passage need --corpus={offline.NAME}, whose build "
                             f"records its passages; {corpus!r} can be sliced by line")
    with open(os.path.join(os.path.dirname(path), "manifest.json"), encoding="utf-8") as f:
      name = f"{json.load(f)['sha256'][:12]}-passages-{fraction:g}.txt"
  else:
    stat = os.stat(path)  # the source's identity: two corpora may share a file name
    source = f"{os.path.abspath(path)}:{stat.st_size}:{stat.st_mtime_ns}"
    name = f"{hashlib.sha256(source.encode()).hexdigest()[:12]}-{fraction:g}.txt"
  return os.path.join(config.cache_dir, "slices", name)


def corpus_slice(corpus: str, fraction: float, by_passage: bool = False) -> str:
  """The first `fraction` of the corpus's tokens, built once at slice_path.

  The slice ends at the first unit end where the tokens so far reach fraction x total,
  so a smaller fraction's slice is a prefix of a larger one's (nested slices). The unit
  is a line (a sentence), or with `by_passage` a whole passage of offline-prose (the
  consecutive sentences of one document that its build shuffled as one piece; where they
  end: offline.passage_lines), which keeps a slice from ending inside one.
  """
  out = slice_path(corpus, fraction, by_passage)
  if out == corpus or os.path.exists(out):
    return out
  config, path = _resolved_source(corpus)
  ends = None  # line numbers after which a unit ends; None: every line
  if by_passage:  # offline-prose: slice_path has checked
    lines_P = offline.passage_lines(
        config.data_dir, offline.selected_sources(config.include_debian,
                                                  config.include_nlp_corpus),
        offline.corpus_name(config.include_debian, config.include_nlp_corpus))
    ends = set(np.cumsum(lines_P).tolist())
  with open(path, encoding="utf-8") as f:
    target = fraction * sum(len(line.split()) for line in f)
  os.makedirs(os.path.dirname(out), exist_ok=True)
  with open(path, encoding="utf-8") as f, files.atomic_write(out, "w", encoding="utf-8") as g:
    written = 0
    for line_no, line in enumerate(f, 1):
      g.write(line)
      written += len(line.split())
      if written >= target and (ends is None or line_no in ends):
        break
  return out


def _resolved_source(corpus: str) -> tuple:
  """(the resolved config of a run on `corpus`, the corpus's file), building offline-prose
  first if needed: the data folder is the one a run reads, not "" (the cwd)."""
  ensure_corpus(config_lib.Config(corpus=corpus))
  config = resolve(config_lib.Config(corpus=corpus))
  return config, datasets.resolve(config)


def _identity(config: config_lib.Config) -> str:
  """The resolved configuration (resolve.py) as a string, less the fields of role "run"
  (config.py: where files go, logging, checkpoints), which change nothing a record holds.

  Records written before configurations were resolved were rewritten once into
  this form (commit "Key experiment records by the resolved config"). A field
  added since (_ADDED_LATER) is left out while it holds the value that every
  earlier run had, so the records stay keyed as they were.
  """
  resolved = dataclasses.asdict(resolve(config))
  return json.dumps({name: resolved[name] for name in _IDENTITY_FIELDS
                     if _ADDED_LATER.get(name, _ABSENT) != resolved[name]}, sort_keys=True)


_IDENTITY_FIELDS = config_lib.names_with_role("train", "device", "output")
_ABSENT = object()
# Fields added after the records were keyed, with the value every earlier run had.
_ADDED_LATER = {"row_update": "sum", "row_cap": 64.0, "krylov_dims": 3, "lr_warmup": 0.0}


def load_records(name: str) -> list:
  path = os.path.join(RESULTS_DIR, name + ".jsonl")
  if not os.path.exists(path):
    return []
  with open(path, encoding="utf-8") as f:
    return [json.loads(line) for line in f if line.strip()]


def recorded(name: str, config: config_lib.Config) -> Optional[dict]:
  """The record of `config` in results/<name>.jsonl (keyed by its resolved identity), or None."""
  identity = _identity(config)
  return next((r for r in load_records(name) if r["identity"] == identity), None)


def run(name: str, config: config_lib.Config, labels: dict, rerun: bool = False,
        trainer: Callable = loop.train, extra: Sequence[str] = ()) -> dict:
  """Trains and evaluates `config` unless results/<name>.jsonl already has it; returns its record.

  `labels` (e.g. {"ns_exponent": 0.5, "seed": 1}) go into the record for the
  tables; the record's identity is the whole configuration. `extra` names
  further numbers a custom `trainer` put in its summary's "eval" dict, kept
  in the record next to the standard metrics.
  """
  _xla_threads(config)  # the first run's wish, before anything else starts JAX
  found = None if rerun else recorded(name, config)
  if found:
    return found
  identity = _identity(config)
  summary, host_note = _train(name, config, trainer)
  record = dict(labels, identity=identity, **metrics_of(summary),
                **{key: summary["eval"][key] for key in extra}, **host_note)
  _append(name, record, labels)
  return record


def run_sweep(name: str, config: config_lib.Config, labels: dict, rerun: bool = False,
              trainer: Callable = loop.train) -> list:
  """Trains a --sweep config (w2v_jax/sweep.py) in one program; returns one record per variant.

  Skips training when results/<name>.jsonl has every variant. A variant's
  identity is its own configuration plus the sweep that trained it: its
  tables are a separate run's, but its time is the whole program's (all
  variants), so sweep records never stand in for separate runs, nor the
  reverse. Each record gets the swept field's value as a label.
  """
  _xla_threads(config)  # before anything starts JAX
  field, _ = resolve_lib.sweep_values(config)
  variants = resolve_lib.sweep_variants(config)
  identities = [_identity(dataclasses.replace(v, sweep=config.sweep)) for v in variants]
  cached = {} if rerun else {r["identity"]: r for r in load_records(name)}
  if all(i in cached for i in identities):
    return [cached[i] for i in identities]
  summary, host_note = _train(name, config, trainer)
  records = []
  for variant, identity, variant_summary in zip(variants, identities, summary["variants"]):
    variant_labels = dict(labels, **{field: getattr(variant, field)})
    records.append(dict(variant_labels, identity=identity, **metrics_of(variant_summary),
                        sweep=config.sweep, **host_note))
    _append(name, records[-1], variant_labels)
  return records


_XLA_THREADS = []  # the pool size this process's runs train with, once known; 0: unknown
_WARNED = set()    # the other sizes runs wanted (each warned about once)


def resolve(config: config_lib.Config):
  """resolve_lib.resolve, with this process's XLA pools sized first: resolving a config
  without a platform starts JAX (it counts the devices), which fixes the pools' size."""
  _xla_threads(config)
  return resolve_lib.resolve(config)


def _xla_threads(config: config_lib.Config) -> int:
  """Sizes XLA's CPU pools for this process's runs at the first; the size they have."""
  wanted = resolve_lib.cpu_threads(config)
  effective = min(wanted, len(os.sched_getaffinity(0)))  # limit_cpu_threads caps at the cores
  if not _XLA_THREADS:
    # Private, but the one way to know whether the pools can still be sized.
    from jax._src import xla_bridge  # pylint: disable=import-outside-toplevel
    if xla_bridge.backends_are_initialized():
      _XLA_THREADS.append(0)
    else:
      runtime.limit_cpu_threads(wanted)
      _XLA_THREADS.append(effective)
  if _XLA_THREADS[0] != effective and wanted not in _WARNED:
    _WARNED.add(wanted)
    print(f"warning: this run wants {wanted} XLA CPU threads, but this process's pools have "
          f"{_XLA_THREADS[0] or 'an unknown number of'} (set when JAX started); its time is "
          "not what run.py would take", flush=True)
  return _XLA_THREADS[0]


def _train(name: str, config: config_lib.Config, trainer: Callable):
  """Trains in a fresh workdir; returns the summary, how busy the rest of the machine
  was and the XLA pool size it trained with."""
  threads = _XLA_THREADS[0]  # run() and run_sweep() sized the pools first
  ensure_corpus(config)
  workdir = os.path.join(config.workdir, f"{name}-{len(load_records(name))}-{os.getpid()}")
  config = dataclasses.replace(config, workdir=workdir)
  os.makedirs(workdir, exist_ok=True)
  busy0, own0 = record.busy_cpu_seconds(), _own_cpu_seconds()
  start = time.time()
  summary = trainer(config)
  wall = time.time() - start
  others = record.busy_cpu_seconds() - busy0 - (_own_cpu_seconds() - own0)
  return summary, {"other_cores": round(max(others, 0.0) / wall, 2), "xla_threads": threads,
                   "finished": time.strftime("%Y-%m-%d %H:%M:%S")}


def _append(name: str, record: dict, labels: dict) -> None:
  os.makedirs(RESULTS_DIR, exist_ok=True)
  with open(os.path.join(RESULTS_DIR, name + ".jsonl"), "a", encoding="utf-8") as f:
    f.write(json.dumps(record, sort_keys=True) + "\n")
  print(f"{name}: {labels} -> " + ", ".join(
      f"{key} {record[key] * scale:.3g}" for key, _, scale in METRICS + (TIME,)), flush=True)


def _own_cpu_seconds() -> float:
  usage = resource.getrusage(resource.RUSAGE_SELF)
  return usage.ru_utime + usage.ru_stime


def metrics_of(summary: dict) -> dict:
  """The numbers a table needs from loop.train's summary (with its evaluation)."""
  results = summary["eval"]
  analogy = results["analogy"]
  return {"analogy_total": analogy["total"], "analogy_semantic": analogy["semantic"],
          "analogy_syntactic": analogy["syntactic"], "ws353": results["ws353"]["spearman"],
          "simlex": results["simlex"]["spearman"], "train_seconds": summary["train_seconds"],
          "words_per_s": summary["words_per_s"], "tokens": summary["tokens"],
          "vocab_size": summary["vocab_size"], "final_epoch_loss": summary["final_epoch_loss"]}


def mean_std(records: Sequence[dict], key: str, scale: float = 1.0):
  values = np.array([r[key] for r in records], dtype=np.float64) * scale
  return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def cell(records: Sequence[dict], key: str, scale: float = 1.0, digits: int = 1) -> str:
  """'mean ± std' over seeds (sample std), or the value for a single run."""
  mean, std = mean_std(records, key, scale)
  if len(records) == 1:
    return f"{mean:.{digits}f}"
  return f"{mean:.{digits}f} ± {std:.{digits}f}"


def metric_table(groups: Sequence[tuple], first_column: str,
                 columns: Sequence[tuple] = METRICS + (TIME,)) -> str:
  """A markdown table: one row per (label, records) group, mean ± std per column."""
  header = [first_column, "seeds"] + [title for _, title, _ in columns]
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  for label, records in groups:
    cells = [str(label), str(len(records))]
    for key, _, scale in columns:
      digits = 3 if scale == 1.0 and key in ("ws353", "simlex") else 1
      cells.append(cell(records, key, scale, digits))
    lines.append("| " + " | ".join(cells) + " |")
  return "\n".join(lines)


def machine() -> str:
  cores = len(os.sched_getaffinity(0))
  return f"{record.cpu_model()}, {cores} cores, {platform.system()}, Python {platform.python_version()}"


def busy_note(records: Sequence[dict]) -> str:
  """One sentence on how busy the machine was, from the records' other_cores."""
  others = [r.get("other_cores", 0.0) for r in records]
  if not others:
    return ""
  threads = sorted({r.get("xla_threads") for r in records}, key=str)
  old = "every core (records before 2026-12-02: experiments/README.md)"
  pools = ("XLA's CPU pools had " + " or ".join(
      "an unknown size" if t == 0 else old if t is None else f"{t} thread{'s' * (t > 1)}"
      for t in threads) + ". ")
  return (pools + f"Other processes used {min(others):.2f} to {max(others):.2f} cores "
          f"(median {np.median(others):.2f}) while these runs trained; times taken while "
          "they used a core or more are slower than on a quiet machine.")


QUICK_SUFFIX = "_quick"  # script_size's --quick names: results/<name>_quick.*


def size_curve(*keys: str) -> str:
  """Links to corpus_size.md's curves of these contrasts (its sections' anchors), for a paper
  table's verdicts: how each contrast moves with the size of the corpus."""
  return ", ".join(f"[corpus_size.md#{key}](corpus_size.md#{key})" for key in keys)


def marked_title(name: str, title: str) -> str:
  """A --quick smoke run's tables and figures say so in their title: they are no result."""
  return f"SMOKE RUN (--quick), not a result: {title}" if name.endswith(QUICK_SUFFIX) else title


def write_markdown(name: str, title: str, command: str, sections: Sequence[str]) -> str:
  """Writes experiments/results/<name>.md: title, the command, the machine, then sections."""
  title = marked_title(name, title)
  os.makedirs(RESULTS_DIR, exist_ok=True)
  path = os.path.join(RESULTS_DIR, name + ".md")
  head = [f"# {title}", "", "Written by", "", "```bash", command, "```", "",
          f"on {machine()} ({time.strftime('%Y-%m-%d')}). Each run's record is in "
          f"`{name}.jsonl`; mean ± sample standard deviation over seeds.", ""]
  with open(path, "w", encoding="utf-8") as f:
    f.write("\n".join(head + [s.rstrip() + "\n" for s in sections]))
  print(f"wrote {path}", flush=True)
  return path


def plot_metrics(name: str, xs: Sequence, groups: dict, xlabel: str, title: str,
                 metrics: Sequence[tuple] = METRICS, log_x: bool = False,
                 time_axis: bool = True, xticklabels: Optional[Sequence[str]] = None) -> str:
  """Writes experiments/results/<name>.png: each metric against the swept value.

  `groups` maps a series name (e.g. "skipgram") to a list of record lists, one
  per x. Analogy metrics (%) on the left panel, correlations in the middle,
  training time on the right; error bars are one sample std over seeds.
  """
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

  panels = [[m for m in metrics if m[0].startswith("analogy")],
            [m for m in metrics if not m[0].startswith("analogy")]]
  if time_axis:
    panels.append([TIME])
  panels = [p for p in panels if p]
  fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2), squeeze=False)
  positions = np.arange(len(xs)) if xticklabels else np.asarray(xs, dtype=np.float64)
  styles = ["-", "--", ":", "-."]
  for ax, panel in zip(axes[0], panels):
    for (series, per_x), style in zip(groups.items(), styles):
      for key, label, scale in panel:
        stats = [mean_std(records, key, scale) if records else (np.nan, np.nan)
                 for records in per_x]
        means, stds = zip(*stats)
        name_ = label if len(groups) == 1 else f"{series}: {label}"
        ax.errorbar(positions, means, yerr=stds, linestyle=style, marker="o", capsize=3,
                    label=name_)
    ax.set_xlabel(xlabel)
    if log_x and not xticklabels:
      ax.set_xscale("symlog", linthresh=min(x for x in xs if x > 0))
    if xticklabels:
      ax.set_xticks(positions)
      ax.set_xticklabels(xticklabels)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
  fig.suptitle(marked_title(name, title))
  fig.tight_layout()
  os.makedirs(RESULTS_DIR, exist_ok=True)
  path = os.path.join(RESULTS_DIR, name + ".png")
  fig.savefig(path, dpi=110)
  plt.close(fig)
  print(f"wrote {path}", flush=True)
  return path


def run_key(config: config_lib.Config) -> str:
  """A short name for a configuration: a hash of the identity `run` keys its records by."""
  return hashlib.sha1(_identity(config).encode()).hexdigest()[:16]


def save_run_array(path: str, config: config_lib.Config, array: np.ndarray) -> None:
  """Adds one run's array, under run_key(config), to the .npz at `path` (replaced atomically).

  For what a script's custom trainer keeps beside the records (neighbour
  lists, scores per pair) to draw its tables from later without training again.
  """
  kept = dict(np.load(path)) if os.path.exists(path) else {}
  kept[run_key(config)] = array
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with files.atomic_write(path) as f:  # a file object: savez would append .npz to a name
    np.savez_compressed(f, **kept)
