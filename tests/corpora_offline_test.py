"""Building offline-prose from fixture archives: manifest, rebuilds, checksums, failures.

Nothing here touches a network: archives are written by the tests and a fake
`npm` on PATH stands in for the registry client.
"""

import dataclasses
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import tarfile

import pytest

from w2v_jax import config as config_lib
from w2v_jax import datasets
from w2v_jax.corpora import offline as oc
from w2v_jax.corpora import prose
from w2v_jax.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUESTIONS = {"semantic": [("athens", "greece", "paris", "france")],
             "syntactic": [("good", "better", "bad", "worse"), ("cat", "cats", "dog", "dogs")]}
FOOTER = "To unsubscribe send mail to the list admin."


def _tar(files: dict[str, bytes], mode: str) -> bytes:
  buf = io.BytesIO()
  with tarfile.open(fileobj=buf, mode=mode) as tar:
    for name, data in files.items():
      info = tarfile.TarInfo(name)
      info.size = len(data)
      tar.addfile(info, io.BytesIO(data))
  return buf.getvalue()


def _tgz(files: dict[str, bytes]) -> bytes:
  return _tar(files, "w:gz")


def _deb(files: dict[str, bytes]) -> bytes:
  """A minimal Debian package: an `ar` archive holding data.tar.xz."""
  out = b"!<arch>\n"
  for name, data in (("debian-binary", b"2.0\n"), ("data.tar.xz", _tar(files, "w:xz"))):
    out += f"{name:<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(data):<10}`\n".encode() + data
    out += b"\n" * (len(data) % 2)
  return out


def _fixture_archives():
  """(archive bytes, Source) pairs covering an npm tarball per format and a .deb."""
  news = "\n".join(json.dumps({"body": b}) for b in [
      "Athens is the capital of Greece.\n Reuter\n\x03",
      "Paris is the capital of France.\n Reuter\n\x03",
      "Paris is the capital of France.\n Reuter\n\x03",  # a duplicate document
  ]).encode()
  mails = {f"package/spam/ham/{i}.json": json.dumps(
      {"text": f"Subject: s\n\nMessage {w} says good and better.\n{FOOTER}\n"}).encode()
           for i, w in enumerate(["one", "two", "three", "four", "five", "six"])}
  books = {"package/gutenberg/a.txt": b"[A by B 1800]\n\nThe cats and the dogs.\nBad, worse.\n",
           "package/gutenberg/README": b"not a book\n"}
  fortunes = {"./usr/share/games/fortunes/wisdom": b"Cats are wise.\n%\nDogs are loyal.\n%\n",
              "./usr/share/games/fortunes/wisdom.dat": b"\x00\x01binary index"}
  specs = [
      ("news", _tgz({"package/data/000.str": news}), "npm", r"package/data/.*\.str",
       prose.reuters_documents),
      ("mail", _tgz(mails), "npm", r"package/spam/ham/.*\.json", prose.email_documents),
      ("books", _tgz(books), "npm", r"package/gutenberg/.*\.txt", prose.gutenberg_documents),
      ("fortunes", _deb(fortunes), "debian", r"\./usr/share/games/fortunes/[a-z-]+",
       prose.fortune_documents),
  ]
  out = []
  for name, data, registry, pattern, documents in specs:
    archive = oc.Archive(registry, f"fixture-{name}", "1.0", hashlib.sha256(data).hexdigest(),
                         f"fixture-{name}-1.0.{'deb' if registry == 'debian' else 'tgz'}")
    out.append((data, oc.Source(name, archive, pattern, documents, f"licence of {name}")))
  return out


@pytest.fixture
def fixtures(tmp_path):
  """A data dir whose downloads folder already holds every fixture archive."""
  data_dir = tmp_path / "data"
  (data_dir / "downloads").mkdir(parents=True)
  sources = []
  for data, source in _fixture_archives():
    (data_dir / "downloads" / source.archive.filename).write_bytes(data)
    sources.append(source)
  return data_dir, sources


def test_build_writes_corpus_and_complete_manifest(fixtures):
  data_dir, sources = fixtures
  path = oc.build(str(data_dir), sources, QUESTIONS)
  lines = open(path, encoding="ascii").read().splitlines()
  assert sorted(lines) == sorted([
      "athens is the capital of greece", "paris is the capital of france",
      "message one says good and better", "message two says good and better",
      "message three says good and better", "message four says good and better",
      "message five says good and better", "message six says good and better",
      "to unsubscribe send mail to the list admin",  # boilerplate: kept once, not six times
      "the cats and the dogs", "bad worse", "cats are wise", "dogs are loyal"])
  manifest = json.load(open(os.path.join(os.path.dirname(path), "manifest.json")))
  assert manifest["sha256"] == oc.sha256_of(path)
  assert manifest["bytes"] == os.path.getsize(path)
  assert manifest["tokens"] == sum(len(l.split()) for l in lines)
  assert manifest["sentences"] == len(lines)
  by_name = {s["name"]: s for s in manifest["sources"]}
  assert list(by_name) == ["news", "mail", "books", "fortunes"]
  for source in sources:
    entry = by_name[source.name]
    assert entry["package"] == source.archive.package and entry["version"] == "1.0"
    assert entry["sha256"] == source.archive.sha256
    assert entry["licence"] == source.licence
    assert entry["registry"] == source.archive.registry
  assert sum(s["tokens"] for s in manifest["sources"]) == manifest["tokens"]
  assert by_name["news"]["duplicate_documents_dropped"] == 1
  assert by_name["mail"]["boilerplate_sentences_dropped"] == 5
  assert by_name["books"]["files"] == 1  # the README does not match the member pattern
  assert by_name["fortunes"]["documents"] == 2  # wisdom.dat is not read
  coverage = manifest["analogy_coverage"]
  # athens/greece/paris/france all occur; good/better/bad/worse too; cat/dog only as plurals.
  assert (coverage["semantic_covered"], coverage["syntactic_covered"]) == (1, 1)
  assert (coverage["covered"], coverage["questions"]) == (2, 3)


def test_rebuild_from_cached_archives_is_byte_identical(fixtures, tmp_path):
  data_dir, sources = fixtures
  first = oc.build(str(data_dir), sources, QUESTIONS)
  other = tmp_path / "other"
  os.makedirs(other)
  os.symlink(data_dir / "downloads", other / "downloads")
  second = oc.build(str(other), sources, QUESTIONS)
  assert open(first, "rb").read() == open(second, "rb").read()
  manifests = [open(os.path.join(os.path.dirname(p), "manifest.json"), "rb").read()
               for p in (first, second)]
  assert manifests[0] == manifests[1]


def test_passage_index_is_written_rebuilt_and_checked(fixtures, monkeypatch):
  data_dir, sources = fixtures
  monkeypatch.setattr(oc, "PASSAGE_TOKENS", 8)  # passages of one and of two sentences
  path = oc.build(str(data_dir), sources, QUESTIONS)
  lines = open(path, encoding="ascii").read().splitlines()
  written_P = oc.passage_lines(str(data_dir), sources)  # the build's own index
  assert written_P.sum() == len(lines) and written_P.min() >= 1 and 4 < len(written_P) < len(lines)
  # A corpus built before the index existed gets it from the archives, the same boundaries.
  index = os.path.join(os.path.dirname(path), oc.PASSAGES_FILE)
  os.remove(index)
  assert oc.passage_lines(str(data_dir), sources).tolist() == written_P.tolist()
  assert os.path.exists(index)
  # A corpus.txt that its archives no longer give is refused, never indexed by guesswork.
  os.remove(index)
  with open(path, "a", encoding="ascii") as f:
    f.write("a sentence added by hand\n")
  with pytest.raises(UserError, match="cannot index the passages"):
    oc.passage_lines(str(data_dir), sources)
  assert not os.path.exists(index)


def test_changed_checksum_is_refused(fixtures):
  data_dir, sources = fixtures
  (data_dir / "downloads" / sources[0].archive.filename).write_bytes(b"other bytes")
  with pytest.raises(UserError, match="delete it and run again"):
    oc.build(str(data_dir), sources, QUESTIONS)
  assert not (data_dir / oc.NAME).exists()


def test_failed_build_leaves_no_corpus(fixtures):
  data_dir, sources = fixtures

  def broken(name, data):
    raise UserError("stop half-way")

  sources[-1] = dataclasses.replace(sources[-1], documents=broken)
  with pytest.raises(UserError, match="half-way"):
    oc.build(str(data_dir), sources, QUESTIONS)
  assert sorted(os.listdir(data_dir)) == ["downloads"]  # no corpus folder, no temporary one
  with pytest.raises(UserError, match="--mode=prepare --corpus=offline-prose"):
    datasets.resolve(config_lib.Config(corpus=oc.NAME, data_dir=str(data_dir)))


def _fake_client(bin_dir, name, script):
  bin_dir.mkdir(exist_ok=True)
  path = bin_dir / name
  path.write_text("#!/bin/sh\n" + script)
  path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_npm_pack_fetches_and_checks(tmp_path, monkeypatch):
  data, source = _fixture_archives()[0]
  served = tmp_path / "served.tgz"
  served.write_bytes(data)
  _fake_client(tmp_path / "bin", "npm", f'/bin/cp "{served}" ./"{source.archive.filename}"\n')
  monkeypatch.setenv("PATH", str(tmp_path / "bin"))
  downloads = tmp_path / "downloads"
  downloads.mkdir()
  assert oc.fetch(source.archive, str(downloads)) == str(downloads / source.archive.filename)
  assert os.listdir(downloads) == [source.archive.filename]
  # The registry now serves other bytes under the same version: nothing is kept.
  served.write_bytes(b"tampered")
  os.remove(downloads / source.archive.filename)
  with pytest.raises(UserError, match="different bytes"):
    oc.fetch(source.archive, str(downloads))
  assert os.listdir(downloads) == []


def test_unreachable_registry_is_one_clear_line(tmp_path, monkeypatch):
  _, source = _fixture_archives()[0]
  _fake_client(tmp_path / "bin", "npm",
               'echo "npm error code ENOTFOUND" >&2\necho "npm error network request '
               'failed" >&2\nexit 1\n')
  monkeypatch.setenv("PATH", str(tmp_path / "bin"))
  with pytest.raises(UserError, match="network request failed.*registry is reachable") as e:
    oc.fetch(source.archive, str(tmp_path))
  assert "\n" not in str(e.value)
  assert [f for f in os.listdir(tmp_path) if f.startswith(".fetch")] == []


def test_missing_npm_is_one_clear_line(tmp_path, monkeypatch):
  _, source = _fixture_archives()[0]
  monkeypatch.setenv("PATH", str(tmp_path / "empty"))
  with pytest.raises(UserError, match="npm is not installed.*put fixture-news-1.0.tgz into"):
    oc.fetch(source.archive, str(tmp_path))


def test_prepare_without_npm_exits_2_and_builds_nothing(tmp_path):
  env = dict(os.environ, W2V_JAX_CACHE=str(tmp_path / "cache"), PATH=str(tmp_path / "empty"))
  proc = subprocess.run([sys.executable, os.path.join(ROOT, "run.py"), "--mode=prepare",
                         "--corpus=offline-prose"], capture_output=True, text=True, env=env,
                        timeout=120)
  assert proc.returncode == 2, proc.stderr
  assert "Traceback" not in proc.stderr
  assert proc.stderr.splitlines()[-1].startswith("error: npm is not installed")
  assert not os.path.exists(tmp_path / "cache" / "data" / oc.NAME)


def test_sources_are_pinned_and_licensed():
  for source in oc.SOURCES:
    assert len(source.archive.sha256) == 64 and source.archive.version
    assert source.licence
  default = oc.selected_sources(False, False)
  assert {s.group for s in default} == {""}
  assert "nlp-corpus" not in {s.name for s in default}  # only behind its flag
  assert "research use only" in {s.name: s.licence for s in default}["reuters-21578"]
  assert len(oc.selected_sources(True, True)) == len(oc.SOURCES)


def test_text8_is_found_or_explained(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  monkeypatch.delenv("W2V_JAX_TEXT8", raising=False)
  config = config_lib.Config(corpus="text8", data_dir=str(tmp_path / "data"))
  with pytest.raises(UserError, match="text8.zip.*--text8_path"):
    datasets.resolve(config)
  (tmp_path / "data").mkdir()
  (tmp_path / "data" / "text8").write_text(" anarchism originated as a term")
  assert datasets.resolve(config) == str(tmp_path / "data" / "text8")
  monkeypatch.setenv("W2V_JAX_TEXT8", "/somewhere/text8")
  assert datasets.resolve(config) == "/somewhere/text8"
  assert datasets.resolve(dataclasses.replace(config, text8_path="/x/t8")) == "/x/t8"


def test_a_config_not_resolved_yet_builds_in_the_cache_not_the_cwd(tmp_path, monkeypatch):
  """benchmarks/compare.py passed a raw Config to datasets.prepare, whose "" folders put
  offline-prose and its downloads in the current directory."""
  monkeypatch.setenv("W2V_JAX_CACHE", str(tmp_path / "cache"))
  work = tmp_path / "cwd"
  work.mkdir()
  monkeypatch.chdir(work)
  path = datasets.resolve(config_lib.Config(corpus="default"))
  assert path.startswith(str(tmp_path / "cache")) and os.path.exists(path)
  assert not os.listdir(work)
