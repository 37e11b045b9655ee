"""Looking at vectors: the evaluation that ends a run, and the modes eval, neighbors,
plot and projector.

The metrics themselves are metrics.py's and the pictures plots.py's; this
module reads the files a run or a user names, writes eval.json, plot.png or
projector/, and prints what was found. A run's eval.json goes with its other
outputs (workdir.py); the modes write to an explicit --workdir, or else next to
the --vectors file, named after it (vectors.bin.eval.json, vectors.bin.plot.png,
vectors.bin.projector/), never into the default workdir, whose eval.json
belongs to the vectors beside it. Every eval.json says which file it scored:
its path and sha256.
"""

import logging
import os

from w2v_jax import files
from w2v_jax import gensim_data
from w2v_jax import metrics
from w2v_jax import plots
from w2v_jax import word2vec_format
from w2v_jax.errors import UserError


def check_eval_files(config) -> None:
  """Reads the evaluation files now, so a wrong one is refused before training, not after."""
  if not config.evaluate:
    return
  metrics.read_analogies(gensim_data.file_path(config.analogies))
  for setting in (config.ws353, config.simlex):
    metrics.read_word_pairs(gensim_data.file_path(setting))


def scored_file(path: str, read_as: str = "") -> dict:
  """What eval.json records of the vectors it scored: the path they are read at
  (`read_as`, default `path`: a run scores them in staging/) and the sha256 of `path`."""
  return {"path": os.path.abspath(read_as or path), "sha256": files.sha256(path)}


def evaluate_and_report(config, words, vectors_VxD, out_path: str, scored: dict) -> dict:
  """Runs the evaluation suite; writes it to `out_path` with `scored` (scored_file) under
  "vectors"; returns the evaluation."""
  results = metrics.evaluate_all(
      list(words), vectors_VxD, analogies_path=gensim_data.file_path(config.analogies),
      ws353_path=gensim_data.file_path(config.ws353),
      simlex_path=gensim_data.file_path(config.simlex),
      restrict_vocab=config.restrict_vocab, method=config.analogy_method)
  files.write_json(out_path, dict(results, vectors=scored))
  return results


def output_path(config, name: str) -> str:
  """Where a mode writes `name`: in an explicit --workdir (config.workdir), else beside
  --vectors (config.workdir is "" then; run.py decides)."""
  if config.workdir:
    return os.path.join(config.workdir, name)
  return f"{config.vectors}.{name}"


def evaluate_file(config) -> dict:
  """--mode=eval: evaluates any word2vec-format vectors file."""
  if not config.vectors:
    raise UserError("--mode=eval needs --vectors=PATH (a word2vec binary or text file)")
  words, vectors_VxD = word2vec_format.read_word2vec(config.vectors)
  out = output_path(config, "eval.json")
  results = evaluate_and_report(config, words, vectors_VxD, out, scored_file(config.vectors))
  logging.info("%s: %d words x %d dims\n%s\n  written to %s", config.vectors, len(words),
               vectors_VxD.shape[1], metrics.format_summary(results), out)
  return results


def print_neighbors(config) -> dict:
  """--mode=neighbors: the --topk nearest words by cosine of each --query word, or of the
  sum "russian+river" ("-" subtracts), the query's words left out."""
  if not config.vectors or not config.query:
    raise UserError("--mode=neighbors needs --vectors=PATH and --query=word1,word2 "
                    "(word1+word2-word3: the nearest to that sum)")
  words, vectors_VxD = word2vec_format.read_word2vec(config.vectors)
  queries = [q for q in config.query.split(",") if q]
  found = metrics.nearest_neighbors(words, vectors_VxD, queries, k=config.topk)
  for query, neighbours in found.items():
    if query == "_unknown":
      print(f"not in the vocabulary: {', '.join(neighbours)}")
      continue
    print(f"{query}: " + ", ".join(f"{w} {c:.3f}" for w, c in neighbours))
  return found


def _vectors(config, mode: str):
  if not config.vectors:
    raise UserError(f"--mode={mode} needs --vectors=PATH (a word2vec binary or text file)")
  return word2vec_format.read_word2vec(config.vectors)


def plot_file(config) -> str:
  """--mode=plot: WORKDIR/plot.png, the --query words (or a:b pairs) of --vectors in 2-D."""
  if not config.query:
    raise UserError("--mode=plot needs --query=w1,w2,... or pairs like paris:france,rome:italy")
  words, vectors_VxD = _vectors(config, "plot")
  path = plots.words(words, vectors_VxD, config.query, output_path(config, "plot.png"),
                     config.plot_method)
  print(path)
  return path


PROJECTOR_CONFIG = """embeddings {
  tensor_name: "%s"
  tensor_path: "vectors.tsv"
  metadata_path: "metadata.tsv"
}
"""


def projector(config) -> str:
  """--mode=projector: WORKDIR/projector/ (or VECTORS.projector/) holds vectors.tsv (a
  row per word, tab-separated), metadata.tsv (the words) and projector_config.pbtxt,
  what TensorBoard's embedding projector reads: tensorboard --logdir=that folder."""
  words, vectors_VxD = _vectors(config, "projector")
  folder = output_path(config, "projector")
  try:
    os.makedirs(folder, exist_ok=True)
  except OSError as e:
    raise files.WriteError(f"cannot create {folder} ({e.strerror}); pass a --workdir to "
                           "write to") from None
  with files.atomic_write(os.path.join(folder, "vectors.tsv"), "w", encoding="utf-8") as f:
    for row in vectors_VxD:
      f.write("\t".join(f"{x:.6g}" for x in row) + "\n")
  with files.atomic_write(os.path.join(folder, "metadata.tsv"), "w", encoding="utf-8") as f:
    for word in words:  # one column: no header line (TensorBoard's rule)
      f.write(word.replace("\t", " ") + "\n")
  name = os.path.splitext(os.path.basename(config.vectors))[0]
  with files.atomic_write(os.path.join(folder, "projector_config.pbtxt"), "w") as f:
    f.write(PROJECTOR_CONFIG % name)
  print(folder)
  return folder
