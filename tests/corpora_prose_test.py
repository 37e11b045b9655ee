"""Extraction and text8-style normalisation of each offline-corpus format, on tiny fixtures."""

import bz2
import gzip
import json

from w2v_jax.corpora import prose


def _sentences(documents):
  return [list(prose.sentences(d)) for d in documents]


def test_normalise_is_text8_style():
  assert prose.normalise("Hello, World!") == "hello world"
  assert (prose.normalise("In 1987 it cost $5.93.")
          == "in one nine eight seven it cost five nine three")
  assert prose.normalise("Café naïve — déjà vu") == "cafe naive deja vu"
  assert prose.normalise("see http://www.x.org/a?b=1 or mail me@x.org now") == "see or mail now"
  assert prose.normalise("don't") == "don t"
  assert prose.normalise("  ...  ") == ""


def test_sentences_split_at_full_stops_but_not_abbreviations():
  text = "Mr. Smith went to Washington. He met J. Doe! Was it 5.5 pct? Yes.\n\nNew paragraph"
  assert list(prose.sentences(text)) == [
      "mr smith went to washington", "he met j doe", "was it five five pct", "yes",
      "new paragraph"]


def test_hard_wrapped_lines_join_and_indents_start_paragraphs():
  text = "The dry period means\nthe crop will be late\n    Arrivals were low\nthis week"
  assert list(prose.sentences(text)) == [
      "the dry period means the crop will be late", "arrivals were low this week"]


def test_sentence_lists_are_kept_as_given():
  assert list(prose.sentences(["One two.", "", "  ", "Three. Four"])) == ["one two", "three four"]


def test_reuters_bodies_lose_the_reuter_trailer():
  records = [{"title": "COCOA", "body": "Cocoa rose.\n    Traders said so.\n Reuter\n\x03"},
             {"title": "EMPTY"}]
  data = "\n".join(json.dumps(r) for r in records).encode()
  assert _sentences(prose.reuters_documents("000.str", data)) == [
      ["cocoa rose", "traders said so"], []]


def test_gutenberg_drops_the_title_line():
  data = b"[Emma by Jane Austen 1816]\n\nVOLUME I\n\nEmma Woodhouse, handsome,\nclever.\n"
  assert _sentences(prose.gutenberg_documents("a.txt", data)) == [
      ["volume i", "emma woodhouse handsome clever"]]


def test_brown_keeps_words_and_drops_tags():
  data = b"\n\n\tThe/at jury/nn said/vbd ``/`` no/at ''/'' ./.\n\n\tAtlanta's/np$ mayor/nn ./.\n"
  assert _sentences(prose.brown_documents("ca01", data)) == [
      ["the jury said no", "atlanta s mayor"]]


def test_factbook_collects_nested_text_fields():
  data = json.dumps({"Introduction": {"Background": {"text": "Albania declared independence."}},
                     "Geography": {"Area": {"total": {"text": "28,748 sq km"}},
                                   "list": [{"text": "mild temperate"}], "other": 5}}).encode()
  assert _sentences(prose.factbook_documents("al.json", data)) == [
      ["albania declared independence", "two eight seven four eight sq km", "mild temperate"]]


def test_email_keeps_the_body_without_quotes_signature_or_footer():
  message = ("From: a@b.com\nTo: c@d.com\nSubject: Re: hello\n\n"
             "On Monday, Bob wrote:\n> quoted text here\n| also quoted\n"
             "I agree with the plan.\nLet us meet.\n-- \nBob's signature\n")
  data = json.dumps({"id": 1, "text": message}).encode()
  assert _sentences(prose.email_documents("1.json", data)) == [
      ["i agree with the plan", "let us meet"]]
  footer = ("Subject: x\n\nReal words here.\n\n_______________________________________________\n"
            "Exmh-workers mailing list\n")
  assert _sentences(prose.email_documents("2.json", json.dumps({"text": footer}).encode())) == [
      ["real words here"]]


def test_html_only_email_loses_its_tags():
  message = ("Subject: x\nContent-Type: text/html\n\n<html><p>Big &amp; bold "
             "<b>news</b></p></html>\n")
  data = json.dumps({"text": message}).encode()
  assert _sentences(prose.email_documents("3.json", data)) == [["big bold news"]]


def test_fortunes_split_at_percent_lines():
  data = b"A clash of doctrine.\n%\nA dream will triumph.\n\t\t-- Lem\n%\n"
  assert _sentences(prose.fortune_documents("wisdom", data)) == [
      ["a clash of doctrine"], ["a dream will triumph", "lem"]]


def test_gzip_plain_and_string_lists_and_lines():
  assert _sentences(prose.gzip_plain_documents("j.gz", gzip.compress(b"Hack. Foo bar."))) == [
      ["hack", "foo bar"]]
  assert _sentences(prose.string_list_documents("doc-0.json", b'["Hi there.", 3, "Bye"]')) == [
      ["hi there", "bye"]]
  assert _sentences(prose.lines_documents("lee.cor", b"doc one.\n\ndoc two\n")) == [
      ["doc one"], ["doc two"]]


def test_wikipedia_markup_removed_and_redirects_skipped():
  xml = """<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/">
  <page><title>Anarchism</title><ns>0</ns><id>12</id><revision><id>1</id>
  <text>'''Anarchism''' is a [[political philosophy]].{{cite}}

It opposes [[State (polity)|states]].</text></revision></page>
  <page><title>Old</title><ns>0</ns><id>13</id><revision><id>2</id>
  <text>#REDIRECT [[Anarchism]]</text></revision></page>
</mediawiki>"""
  documents = _sentences(prose.wikipedia_documents("wiki.bz2", bz2.compress(xml.encode())))
  assert documents == [["anarchism is a political philosophy", "it opposes states"]]
