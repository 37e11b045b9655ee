"""Text corpus -> vocabulary + flat int32 id array with sentence offsets, cached.

Input convention (word2vec.c / gensim LineSentence): one sentence per line,
tokens separated by whitespace (Python's str.split, as gensim). `.gz` and `.bz2`
files are recognised by their magic bytes and read transparently.

The text is streamed in blocks of about 1 MiB, so neither a large file nor a
file that is one enormous line (text8) is ever held as Python strings. Lines
longer than `max_sentence_length` tokens are split into consecutive chunks of
that length (word2vec.c caps at 1,000 and drops nothing either); the number of
split lines is reported. Bytes that are not UTF-8 become U+FFFD, are counted,
and are reported once.

Before reading, `check_text` looks at the first MiB (decompressed) and refuses
what is not whitespace-separated UTF-8 text: NUL bytes (binary, or UTF-16),
more than 0.1% bytes that are not UTF-8 (another encoding: Latin-1 text would
otherwise train on mangled words), or a run of more than MAX_TOKEN_CHARS
characters without whitespace (minified, base64). A few stray bytes further in
are only replaced and counted, as above.

Two cached stages, under `cache_dir/<key>/` where key hashes the corpus file's
identity and the reading settings (corpus_cache.file_key: real path, device,
inode, size, mtime and ctime in nanoseconds, and a fingerprint of the content),
so a file edited in place is read again even when its size and mtime are put back:
  stage 1 (`scan`): the distinct words in first-seen order, their exact counts,
    the token stream as first-seen ids (`raw_ids.bin`) and sentence offsets;
  stage 2 (`encode`, in `vocab-mc<min_count>-mv<max_vocab>/`): the vocabulary
    and the corpus as vocabulary ids (`ids.npy`, out-of-vocabulary tokens
    removed as word2vec.c does) with sentence offsets (`offsets.npy`).
A sweep over min_count reads the text once; a sweep over anything else reads
nothing but two memory-mapped arrays. Each stage is written to a temporary
folder and renamed into place, so a half-written cache is never picked up; a
stage damaged later (a file cut short, overwritten or deleted) is found by
corpus_cache.check_scan / check_encoded when it is opened, logged in one
warning line, and rebuilt.

Deviation from word2vec.c: it stores line ends as a `</s>` token (id 0, with a
count and an output vector); here sentence boundaries live only in `offsets`.
"""

import bz2
import codecs
import collections
import dataclasses
import gzip
import json
import logging
import os
import re
import shutil
import sys
import time
import zlib
from typing import BinaryIO, Iterator, Optional

import numpy as np

from w2v_jax import corpus_cache
from w2v_jax import files
from w2v_jax import scan_parts
from w2v_jax import vocab as vocab_lib
from w2v_jax.errors import UserError

BLOCK_BYTES = 1 << 20
_ASCII_SPACE = (b" ", b"\n", b"\t", b"\r", b"\x0b", b"\x0c")
# A run of this many characters without any whitespace is cut into a token of
# its own (counted); it keeps memory bounded on binary garbage.
MAX_TOKEN_CHARS = 1 << 16
SNIFF_BYTES = 1 << 20         # check_text looks at this much of the text
MAX_INVALID_FRACTION = 1e-3   # of those bytes, at most this many may be invalid UTF-8

_invalid_bytes = [0]


def _count_and_replace(err: UnicodeDecodeError):
  _invalid_bytes[0] += err.end - err.start
  return "\ufffd", err.end


codecs.register_error("w2v_jax_count", _count_and_replace)


@dataclasses.dataclass
class ReadStats:
  lines: int = 0            # non-empty lines
  tokens: int = 0
  sentences: int = 0        # after splitting long lines
  split_lines: int = 0      # lines longer than max_sentence_length
  invalid_bytes: int = 0    # bytes that were not UTF-8, replaced by U+FFFD
  cut_tokens: int = 0       # whitespace-free runs longer than MAX_TOKEN_CHARS


@dataclasses.dataclass(frozen=True)
class Corpus:
  """A corpus encoded with one vocabulary (see the module docstring)."""
  ids: np.ndarray       # [N] int32 vocabulary ids, memory-mapped
  offsets: np.ndarray   # [S + 1] int64; sentence s is ids[offsets[s]:offsets[s + 1]]
  vocab: vocab_lib.Vocab
  stats: dict           # what reading found (ReadStats fields and more)

  @property
  def num_sentences(self) -> int:
    return len(self.offsets) - 1


def open_binary(path: str) -> BinaryIO:
  """Opens a file for binary reading, decompressing gzip or bzip2 by magic bytes."""
  kind = scan_parts.compression(path)
  if kind == "gzip":
    return gzip.open(path, "rb")
  return bz2.open(path, "rb") if kind == "bzip2" else open(path, "rb")


def _last_space(buf: bytes) -> int:
  return max(buf.rfind(c) for c in _ASCII_SPACE)


def iter_blocks(path: str, lowercase: bool, max_sentence_length: int, stats: ReadStats,
                start: int = 0, end: Optional[int] = None
                ) -> Iterator[tuple[list[str], list[int]]]:
  """Streams the corpus as (tokens, lengths of the sentences completed).

  Sentences may span blocks: a block's tokens begin with the rest of the
  sentence left open by the block before. Over the whole stream,
  sum(lengths) == number of tokens. Empty lines yield no sentence. `start` and
  `end` (plain files only) read bytes [start, end) as if they were the file.
  """
  decoder = codecs.getincrementaldecoder("utf-8")(errors="w2v_jax_count")
  invalid_before = _invalid_bytes[0]
  open_len = 0           # tokens of the current line in its current chunk
  open_split = False     # whether the current line was already split
  carry = b""
  try:
    f = open_binary(path)
    left = -1 if end is None else end - start  # bytes of the range still to read
    with f:
      if start:
        f.seek(start)
      while True:
        raw = f.read(BLOCK_BYTES if left < 0 else min(BLOCK_BYTES, left))
        left -= len(raw) if left >= 0 else 0
        eof = not raw
        buf = carry + raw
        if eof:
          cut = len(buf)
        else:
          cut = _last_space(buf) + 1  # 0 when there is no whitespace at all
          if cut == 0 and len(buf) < 4 * MAX_TOKEN_CHARS:
            carry = buf
            continue
          if cut == 0:
            cut = len(buf)
            stats.cut_tokens += 1
        carry = buf[cut:]
        text = decoder.decode(buf[:cut], final=eof)
        if lowercase:
          text = text.lower()
        tokens, lengths = [], []
        segments = text.split("\n")
        for k, segment in enumerate(segments):
          toks = segment.split()
          tokens.extend(toks)
          n = len(toks)
          while open_len + n > max_sentence_length:
            take = max_sentence_length - open_len
            lengths.append(max_sentence_length)
            n -= take
            open_len = 0
            open_split = True
          open_len += n
          line_ends = k < len(segments) - 1 or eof
          if line_ends and (open_len or open_split):
            stats.lines += 1
            stats.split_lines += open_split
            if open_len:
              lengths.append(open_len)
            open_len, open_split = 0, False
        stats.tokens += len(tokens)
        stats.sentences += len(lengths)
        yield tokens, lengths
        if eof:
          break
  except (OSError, EOFError, zlib.error) as e:
    if isinstance(e, (FileNotFoundError, IsADirectoryError, PermissionError)):
      raise
    raise UserError(f"cannot read corpus {path}: {e}") from None
  finally:
    stats.invalid_bytes += _invalid_bytes[0] - invalid_before


def scan_range(path: str, lowercase: bool, max_sentence_length: int, start: int,
               end: Optional[int], lookup, ids_file) -> tuple[ReadStats, list]:
  """Reads bytes [start, end) of the corpus: writes each token's lookup(word) id to
  ids_file; returns the stats and the sentence lengths (a list of arrays)."""
  stats, lengths_all = ReadStats(), []
  for tokens, lengths in iter_blocks(path, lowercase, max_sentence_length, stats, start, end):
    np.fromiter(map(lookup, tokens), dtype=np.int32, count=len(tokens)).tofile(ids_file)
    lengths_all.append(np.asarray(lengths, dtype=np.int64))
  return stats, lengths_all


def write_words(path: str, words) -> None:
  with open(path, "w", encoding="utf-8", newline="\n") as f:
    for w in words:
      f.write(w + "\n")


def scan(path: str, lowercase: bool, max_sentence_length: int, out_dir: str) -> None:
  """Stage 1: reads the text once; writes words.txt, counts.npy, raw_ids.bin,
  offsets.npy and stats.json into `out_dir` (which must not exist yet). A large
  file is read in parts on several cores (scan_parts.py), with the same result."""
  index = collections.defaultdict()
  index.default_factory = index.__len__   # a new word gets the next id
  lookup = index.__getitem__
  start = time.time()
  os.makedirs(out_dir)
  ranges = scan_parts.split(path)
  children = scan_parts.start_children(path, lowercase, max_sentence_length, ranges[1:],
                                       out_dir)
  with open(os.path.join(out_dir, "raw_ids.bin"), "wb") as ids_file, \
      scan_parts.stopped_at_exit(children):
    stats, lengths_all = scan_range(path, lowercase, max_sentence_length, *ranges[0], lookup,
                                    ids_file)
    for child in children:
      if scan_parts.finished(child):
        scan_parts.merge(child, lookup, ids_file, stats, lengths_all)
      else:
        part_stats, part_lengths = scan_range(path, lowercase, max_sentence_length,
                                              child.start, child.end, lookup, ids_file)
        scan_parts.add_stats(stats, dataclasses.asdict(part_stats))
        lengths_all.extend(part_lengths)
      shutil.rmtree(child.folder, ignore_errors=True)
  words = list(index)
  raw = np.memmap(os.path.join(out_dir, "raw_ids.bin"), dtype=np.int32, mode="r") \
      if stats.tokens else np.zeros(0, np.int32)
  counts = np.bincount(raw, minlength=len(words)).astype(np.int64)
  offsets = np.concatenate([[0], np.cumsum(np.concatenate(lengths_all or [[]]))]).astype(np.int64)
  assert offsets[-1] == stats.tokens, (offsets[-1], stats.tokens)
  write_words(os.path.join(out_dir, "words.txt"), words)
  np.save(os.path.join(out_dir, "counts.npy"), counts)
  np.save(os.path.join(out_dir, "offsets.npy"), offsets)
  record = dataclasses.asdict(stats)
  record.update(unique_words=len(words), seconds=round(time.time() - start, 3),
                parts=len(ranges))
  with open(os.path.join(out_dir, "stats.json"), "w") as f:
    json.dump(record, f, indent=1)


def read_part(path: str, start: int, end: Optional[int], lowercase: bool,
              max_sentence_length: int, folder: str) -> None:
  """A child process's work (scan_parts.py): one byte range read as scan reads the whole
  file, into folder/: words.txt, raw_ids.bin, lengths.npy, stats.json, then `done`.
  mkdir, not makedirs: a parent that gave up and removed its folder gets nothing back."""
  os.mkdir(folder)
  index = collections.defaultdict()
  index.default_factory = index.__len__
  with open(os.path.join(folder, "raw_ids.bin"), "wb") as ids_file:
    stats, lengths_all = scan_range(path, lowercase, max_sentence_length, start, end,
                                    index.__getitem__, ids_file)
  write_words(os.path.join(folder, "words.txt"), index)
  np.save(os.path.join(folder, "lengths.npy"),
          np.concatenate(lengths_all or [np.zeros(0, np.int64)]).astype(np.int64))
  with open(os.path.join(folder, "stats.json"), "w") as f:
    json.dump(dataclasses.asdict(stats), f)
  open(os.path.join(folder, "done"), "w").close()  # pylint: disable=consider-using-with


def encode(scan_dir: str, min_count: int, max_vocab: int, out_dir: str) -> None:
  """Stage 2: vocabulary + corpus as vocabulary ids, OOV tokens removed."""
  words = corpus_cache.read_words(os.path.join(scan_dir, "words.txt"))
  counts = np.load(os.path.join(scan_dir, "counts.npy"))
  offsets_raw = np.load(os.path.join(scan_dir, "offsets.npy"))
  vocab, kept = vocab_lib.build(words, counts, min_count, max_vocab)
  remap = np.full(len(words), -1, dtype=np.int32)
  remap[kept] = np.arange(len(kept), dtype=np.int32)
  n_raw = int(offsets_raw[-1])
  os.makedirs(out_dir)
  ids = np.lib.format.open_memmap(os.path.join(out_dir, "ids.npy"), mode="w+",
                                  dtype=np.int32, shape=(vocab.total,))
  # Kept tokens before each raw sentence offset, computed chunk by chunk so that
  # memory stays bounded by the chunk, not the corpus.
  new_offsets = np.zeros_like(offsets_raw)
  written = 0
  if n_raw:
    raw = np.memmap(os.path.join(scan_dir, "raw_ids.bin"), dtype=np.int32, mode="r")
    chunk = 1 << 24
    for a in range(0, n_raw, chunk):
      b = min(a + chunk, n_raw)
      mapped = remap[raw[a:b]]
      keep = mapped >= 0
      kept_before = np.concatenate([[0], np.cumsum(keep)])  # [b - a + 1]
      lo, hi = np.searchsorted(offsets_raw, [a, b], side="left")
      if b == n_raw:
        hi = len(offsets_raw)
      new_offsets[lo:hi] = written + kept_before[offsets_raw[lo:hi] - a]
      out = mapped[keep]
      ids[written:written + len(out)] = out
      written += len(out)
  assert written == vocab.total, (written, vocab.total)
  ids.flush()
  del ids
  # Sentences left empty by OOV removal are dropped: their offsets repeat the one before
  # (the offsets never decrease, so this is np.unique without its hash table, 8x faster).
  first_B = np.ones(len(new_offsets), bool)
  first_B[1:] = new_offsets[1:] != new_offsets[:-1]
  np.save(os.path.join(out_dir, "offsets.npy"), new_offsets[first_B])
  vocab_lib.save(vocab, os.path.join(out_dir, "vocab.txt"))


def check_corpus_path(path: str) -> None:
  if not path:
    raise UserError("no corpus given: pass --corpus=PATH (a text file, one sentence per line)")
  if not os.path.exists(path):
    raise UserError(f"corpus file not found: {path}; check the --corpus path")
  if os.path.isdir(path):
    raise UserError(f"--corpus must be a file, but {path} is a directory")
  if not os.access(path, os.R_OK):
    raise UserError(f"corpus file {path} is not readable (check its permissions)")


def check_text(path: str) -> None:
  """Refuses a file whose first MiB is not whitespace-separated UTF-8 (module docstring)."""
  try:
    with open_binary(path) as f:
      head = f.read(SNIFF_BYTES)
  except (OSError, EOFError, zlib.error) as e:
    raise UserError(f"cannot read corpus {path}: {e}") from None
  nul = head.find(b"\0")
  if nul >= 0:
    raise UserError(f"corpus {path} holds a NUL byte at byte {nul}: it is binary "
                    "(or UTF-16), not UTF-8 text; pass a text file, one sentence a line")
  text = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode(
      head, final=len(head) < SNIFF_BYTES)
  invalid = re.findall("[\udc80-\udcff]", text)
  if len(invalid) > MAX_INVALID_FRACTION * len(head):
    raise UserError(
        f"corpus {path} is not UTF-8: {len(invalid)} of its first {len(head)} bytes are not; "
        f"convert it first, e.g. iconv -f latin1 -t utf-8 {path} > corpus.utf8.txt")
  longest = max(map(len, head.split()), default=0)
  if longest > MAX_TOKEN_CHARS:
    raise UserError(
        f"corpus {path} has a run of {longest} bytes without a space or line break: word2vec "
        "needs words separated by whitespace (is it minified, base64 or binary?)")


def ensure_cache_dir(cache_dir: str) -> None:
  try:
    os.makedirs(cache_dir, exist_ok=True)
  except OSError as e:
    raise UserError(f"cannot create cache folder {cache_dir} ({e.strerror}); "
                    "pass --cache_dir=PATH or set W2V_JAX_CACHE") from None
  if not os.access(cache_dir, os.W_OK):
    raise UserError(f"cache folder {cache_dir} is not writable; "
                    "pass --cache_dir=PATH or set W2V_JAX_CACHE")


def load(path: str, *, lowercase: bool = False, max_sentence_length: int = 10_000,
         min_count: int = 5, max_vocab: int = 0, cache_dir: str) -> Corpus:
  """Returns the encoded corpus, building whichever cached stage is missing or damaged."""
  check_corpus_path(path)
  check_text(path)
  ensure_cache_dir(cache_dir)
  scan_dir = os.path.join(cache_dir, corpus_cache.file_key(path, lowercase, max_sentence_length))
  if not os.path.isdir(scan_dir):
    logging.info("reading %s (first time; cached in %s)", path, scan_dir)
  stats = corpus_cache.cached(
      scan_dir, lambda d: scan(path, lowercase, max_sentence_length, d), corpus_cache.check_scan)
  if stats["tokens"] == 0:
    raise UserError(f"corpus {path} holds no words (it is empty or only whitespace)")
  enc_dir = os.path.join(scan_dir, f"vocab-mc{min_count}-mv{max_vocab}")
  vocab, ids, offsets = corpus_cache.cached(
      enc_dir, lambda d: encode(scan_dir, min_count, max_vocab, d), corpus_cache.check_encoded)
  vocab_size = len(vocab) if vocab else 0
  if vocab_size < 2:
    raise UserError(
        f"only {vocab_size} distinct word(s) of {stats['unique_words']} occur at least "
        f"--min_count={min_count} times in {path}; lower --min_count or use a larger corpus")
  stats = dict(stats, cache=enc_dir, vocab_size=len(vocab), vocab_tokens=int(len(ids)),
               vocab_sentences=len(offsets) - 1)
  return Corpus(ids=ids, offsets=offsets, vocab=vocab, stats=stats)


def report(stats: dict) -> None:
  """Logs, once, what reading the corpus found that a user should know."""
  if stats.get("split_lines"):
    logging.info("%d line(s) longer than the sentence limit were split into chunks "
                 "(nothing dropped)", stats["split_lines"])
  if stats.get("invalid_bytes"):
    logging.warning("%d byte(s) were not valid UTF-8 and were replaced by U+FFFD",
                    stats["invalid_bytes"])
  if stats.get("cut_tokens"):
    logging.warning("%d whitespace-free run(s) longer than %d characters were cut "
                    "(is this a text file?)", stats["cut_tokens"], MAX_TOKEN_CHARS)


if __name__ == "__main__" and sys.argv[1:2] == ["--read_part"]:
  _path, _start, _end, _lower, _msl, _folder = sys.argv[2:]
  read_part(_path, int(_start), None if _end == "None" else int(_end), _lower == "1",
            int(_msl), _folder)
