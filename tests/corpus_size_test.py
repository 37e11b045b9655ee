"""experiments/corpus_size.py and its helpers: nested slices of whole passages, the trend
and what it may claim, equal-time contrasts, the estimate, and the report from records."""

import dataclasses
import importlib
import json
import math
import os
import sys

import numpy as np
import pytest

from w2v_jax import config as config_lib
from w2v_jax.errors import UserError

EXPERIMENTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           "experiments")


@pytest.fixture(name="mods")
def fixture_mods(monkeypatch, tmp_path):
  """The experiment modules as the scripts import them (`import common`), results in tmp."""
  monkeypatch.syspath_prepend(EXPERIMENTS)
  mods = {name: importlib.import_module(name)
          for name in ("common", "trends", "budget", "paper_pictures", "corpus_size")}
  monkeypatch.setattr(mods["common"], "RESULTS_DIR", str(tmp_path / "results"))
  return mods


# ------------------------------------------------------------------ slices


@pytest.fixture(name="prose")
def fixture_prose(tmp_path, monkeypatch):
  """A stand-in offline-prose in a fresh cache: 40 passages of 1-4 sentences, indexed."""
  monkeypatch.setenv("W2V_JAX_CACHE", str(tmp_path / "cache"))
  folder = tmp_path / "cache" / "data" / "offline-prose"
  folder.mkdir(parents=True)
  rng = np.random.default_rng(0)
  lines_P = rng.integers(1, 5, size=40)
  lines = [" ".join(f"w{rng.integers(50)}" for _ in range(rng.integers(3, 12)))
           for _ in range(lines_P.sum())]
  text = "".join(line + "\n" for line in lines)
  (folder / "corpus.txt").write_text(text, encoding="ascii")
  np.save(folder / "passages.npy", lines_P)
  import hashlib  # pylint: disable=import-outside-toplevel
  (folder / "manifest.json").write_text(json.dumps(
      {"sha256": hashlib.sha256(text.encode()).hexdigest(),
       "tokens": sum(len(line.split()) for line in lines)}))
  return folder, lines, np.cumsum(lines_P)


def _read(path):
  with open(path, encoding="utf-8") as f:
    return f.read().splitlines()


def test_slices_are_nested_prefixes_of_whole_passages(mods, prose):
  common = mods["common"]
  _, lines, ends_P = prose
  total = sum(len(line.split()) for line in lines)
  previous = []
  for fraction in (1 / 8, 1 / 4, 1 / 3, 1 / 2):
    got = _read(common.corpus_slice("offline-prose", fraction, by_passage=True))
    assert got == lines[:len(got)] and got[:len(previous)] == previous  # prefixes, nested
    assert len(got) in set(ends_P.tolist())  # ends where a passage ends
    tokens = sum(len(line.split()) for line in got)
    last_passage_start = ends_P[list(ends_P).index(len(got)) - 1] if len(got) > ends_P[0] else 0
    before = sum(len(line.split()) for line in lines[:last_passage_start])
    assert before < fraction * total <= tokens  # the first passage end that reaches it
    previous = got
  assert common.corpus_slice("offline-prose", 1.0, by_passage=True) == "offline-prose"


def test_line_slices_end_at_the_first_line_that_reaches_the_share(mods, prose):
  common = mods["common"]
  _, lines, ends_P = prose
  total = sum(len(line.split()) for line in lines)
  got = _read(common.corpus_slice("offline-prose", 0.5))
  tokens = [len(line.split()) for line in got]
  assert got == lines[:len(got)]
  assert sum(tokens) - tokens[-1] < 0.5 * total <= sum(tokens)
  by_passage = _read(common.corpus_slice("offline-prose", 0.5, by_passage=True))
  assert len(by_passage) >= len(got) and len(by_passage) in set(ends_P.tolist())


def test_slice_names_follow_content_by_passage_and_the_file_by_line(mods, prose):
  common = mods["common"]
  folder, _, _ = prose
  by_passage = common.slice_path("offline-prose", 0.25, by_passage=True)
  by_line = common.slice_path("offline-prose", 0.25)
  os.utime(folder / "corpus.txt", ns=(1, 1))  # same bytes, another mtime
  assert common.slice_path("offline-prose", 0.25, by_passage=True) == by_passage
  assert common.slice_path("offline-prose", 0.25) != by_line  # table_2013a's old key
  assert os.path.dirname(by_passage) == os.path.join(os.environ["W2V_JAX_CACHE"], "slices")


def test_slicing_by_passage_needs_a_corpus_that_records_them(mods, tmp_path, monkeypatch):
  monkeypatch.setenv("W2V_JAX_CACHE", str(tmp_path / "cache"))
  text = tmp_path / "text.txt"
  text.write_text("a b c\nd e f\n", encoding="utf-8")
  with pytest.raises(UserError, match="slices by passage need --corpus=offline-prose"):
    mods["common"].corpus_slice(str(text), 0.5, by_passage=True)
  assert _read(mods["common"].corpus_slice(str(text), 0.5)) == ["a b c"]


# ------------------------------------------------------------------ trends


def _line(slope, value_at_8m, noise=0.0, sizes=(1e6, 2e6, 4e6, 8e6), seeds=2):
  """Points of value = value_at_8m + slope * log2(tokens / 8M), +-noise alternating by seed."""
  tokens, values = [], []
  for t in sizes:
    for s in range(seeds):
      tokens.append(t)
      values.append(value_at_8m + slope * math.log2(t / 8e6) + noise * (-1) ** s)
  return tokens, values


def test_fit_recovers_the_line_and_its_error(mods):
  trends = mods["trends"]
  trend = trends.fit(*_line(slope=1.5, value_at_8m=-2.0, noise=0.3))
  assert trend.slope == pytest.approx(1.5) and trend.at(8e6) == pytest.approx(-2.0)
  # Residuals +-0.3 at 8 points: variance 0.09 * 8 / 6; Sxx = 2 * (2.25+0.25+0.25+2.25).
  assert trend.slope_se == pytest.approx(math.sqrt(0.09 * 8 / 6 / 10.0))
  assert trend.crossing() == pytest.approx(8e6 * 2 ** (2.0 / 1.5))
  assert trend.se_at(8e6) > trend.se_at(2.83e6)  # widest away from the points' centre
  with pytest.raises(ValueError):
    trends.fit([1e6, 1e6], [0.0, 1.0])


def test_verdict_names_direction_crossing_and_when_not_to_extrapolate(mods):
  trends = mods["trends"]
  toward = trends.fit(*_line(slope=1.0, value_at_8m=-2.0, noise=0.1))
  short, text = trends.verdict(toward, paper=12.0, largest=8e6)
  assert short == "toward the paper's sign"
  assert "reaches 0 at ~32M tokens (4.0x our largest slice)" in text
  far = trends.fit(*_line(slope=0.2, value_at_8m=-2.0, noise=0.01))  # 0 at 2^10 = 1024x
  short, text = trends.verdict(far, paper=12.0, largest=8e6)
  assert short == "toward the paper's sign"
  assert "1,024x our largest slice: too far beyond the data" in text and "not warranted" in text
  flat = trends.fit(*_line(slope=0.2, value_at_8m=-2.0, noise=2.0))
  short, text = trends.verdict(flat, paper=12.0, largest=8e6)
  assert short == "no trend" and "no extrapolation is warranted" in text
  away = trends.fit(*_line(slope=-0.5, value_at_8m=-2.0, noise=0.1))
  assert trends.verdict(away, paper=1.0, largest=8e6)[0] == "away from the paper's sign"
  grows = trends.fit(*_line(slope=0.5, value_at_8m=2.0, noise=0.1))
  assert trends.verdict(grows, paper=34.5, largest=8e6)[0] == "paper's sign, growing"
  short, text = trends.verdict(grows, paper=-3.0, largest=8e6)
  assert short == "away from the paper's sign"
  shrinks = trends.fit(*_line(slope=-0.5, value_at_8m=2.0, noise=0.1))
  short, text = trends.verdict(shrinks, paper=12.0, largest=8e6)
  assert short == "paper's sign, shrinking" and "reaches 0 at ~128M tokens" in text
  # No number, but a claimed sign; and a paper of exactly 0.
  assert trends.verdict(away, paper=None, largest=8e6, claim_sign=1)[0] == (
      "away from the paper's sign")
  short, text = trends.verdict(toward, paper=0.0, largest=8e6)
  assert short == "toward the paper" and "the paper's 0" in text
  two = trends.fit([1e6, 8e6], [0.0, 3.0])
  assert not math.isfinite(two.slope_se)
  assert trends.verdict(two, paper=1.0, largest=8e6)[0] == "no trend"


def test_matched_time_gives_the_faster_side_a_larger_slice(mods):
  trends = mods["trends"]
  sizes = [1e6, 2e6, 4e6, 8e6]
  slow = [(t, 2e-6 * t, math.log2(t)) for t in sizes]          # 2 s per 1M tokens
  fast = [(t, 0.5e-6 * t, math.log2(t) - 1.0) for t in sizes]  # 4x faster, 1 point lower
  matched = trends.at_matched_time(slow, fast)
  # In slow's time at 1M and 2M, fast reads 4M and 8M: log2(4t) - 1 = log2(t) + 1.
  assert [m for m, _ in matched[:2]] == pytest.approx([-1.0, -1.0])
  assert [t for _, t in matched[:2]] == pytest.approx([4e6, 8e6])
  assert matched[2:] == [(None, None), (None, None)]  # beyond fast's largest slice
  # The same pair the other way round: the sign follows a - b.
  assert trends.at_matched_time(fast, slow)[0][0] == pytest.approx(1.0)


# ------------------------------------------------------------------ the estimate


def _record(common, config, seconds, tokens, other_cores, finished):
  return {"identity": common._identity(config), "train_seconds": seconds, "tokens": tokens,
          "other_cores": other_cores, "finished": finished}


def test_estimate_uses_the_least_disturbed_comparable_record(mods):
  common, budget = mods["common"], mods["budget"]
  ns = config_lib.Config(corpus="default", model="skipgram", loss="ns", dim=100, sample=0.0,
                         epochs=2)
  os.makedirs(common.RESULTS_DIR)
  large = dataclasses.replace(ns, batch_size=65536, row_update="krylov")
  rows = [_record(common, ns, 40.0, 1e6, 1.5, "2026-11-22 10:00:00"),   # busy: 20 us/token
          _record(common, ns, 10.0, 1e6, 0.0, "2026-11-20 10:00:00"),   # quiet: 5 us/token
          _record(common, large, 90.0, 1e6, 0.0, "2026-12-01 09:00:00"),  # another program
          dict(_record(common, ns, 1.0, 1e6, 0.0, "2026-12-01 10:00:00"), sweep="dim=1,2")]
  with open(os.path.join(common.RESULTS_DIR, "other.jsonl"), "w", encoding="utf-8") as f:
    f.writelines(json.dumps(r) + "\n" for r in rows)
  rates = budget.recorded_rates()
  assert len(rates) == 3  # the sweep's time is all its variants'
  rate, basis = budget.rate_for(ns, rates)
  assert rate == pytest.approx(5e-6) and basis.startswith("other (0.00")
  rate, _ = budget.rate_for(large, rates)
  assert rate == pytest.approx(45e-6)  # 90 s / 1e6 tokens / 2 epochs
  rate, basis = budget.rate_for(config_lib.Config(corpus="default", loss="ns", dim=300,
                                                  sample=0.0), rates)
  assert rate == pytest.approx(15e-6) and "at dim 100, x3" in basis
  # A planned run already recorded under its own name costs nothing.
  with open(os.path.join(common.RESULTS_DIR, "plan.jsonl"), "w", encoding="utf-8") as f:
    f.write(json.dumps(_record(common, ns, 1.0, 1e6, 0.0, "")) + "\n")
  other = config_lib.Config(corpus="default", model="skipgram", loss="ns", dim=100,
                            sample=0.0, epochs=1, seed=7)
  text = budget.estimate("plan", [("ns", ns, 1e6), ("ns", other, 2e8)], "two runs")
  assert "2 runs (two runs); 1 recorded, 1 to train" in text
  minutes = (5e-6 * 2e8 * 1 + budget.OVERHEAD_S) / 60  # 17
  assert f"estimated time left: {minutes:.0f} minutes" in text


# ------------------------------------------------------------------ the report


def test_report_from_records_has_every_contrast_and_both_pictures(mods, monkeypatch):
  common, corpus_size, pictures = mods["common"], mods["corpus_size"], mods["paper_pictures"]
  words = [w for pair in pictures.FIGURE2_PAIRS for w in pair] + ["italy", "rome", "x", "y"]
  words = list(dict.fromkeys(words))
  vectors_VxD = np.random.default_rng(0).normal(size=(len(words), 8))
  data = pictures.picture_data(words, vectors_VxD)
  assert len(data["figure2"]["labels"]) == 2 * len(pictures.FIGURE2_PAIRS)
  # france : paris :: italy (japan) : ? can be asked; florida is not in this vocabulary.
  assert data["table8"][0] is not None and data["table8"][1] is not None
  assert data["table8"][2] is None
  records = {}
  for arm in corpus_size.ARMS:
    for i, fraction in enumerate(corpus_size.FRACTIONS):
      records[(arm, fraction)] = [
          {"seed": seed, "tokens": int(1.25e6 * 2 ** i), "train_seconds": 10.0 * 2 ** i,
           "analogy_total": 0.01 * i + 0.001 * seed + 0.001 * len(arm),
           "analogy_semantic": 0.02 * i, "analogy_syntactic": 0.01, "other_cores": 0.0,
           "pictures": data} for seed in (1, 2)]
  size = common.Size(name="corpus_size", corpus="offline-prose", epochs=1, seeds=(1, 2),
                     quick=False, rerun=False, scratch="")
  corpus_size.write_results(size, records)
  with open(os.path.join(common.RESULTS_DIR, "corpus_size.md"), encoding="utf-8") as f:
    text = f.read()
  for contrast in corpus_size.CONTRASTS:
    assert f"\n### {contrast.key}\n" in text and f"](#{contrast.key})" in text
  assert "![countries and capitals](corpus_size_figure2.png)" in text
  assert "| france - paris | italy: " in text
  for name in ("corpus_size.png", "corpus_size_figure2.png"):
    with open(os.path.join(common.RESULTS_DIR, name), "rb") as f:
      assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_every_contrast_compares_two_planned_arms(mods):
  corpus_size = mods["corpus_size"]
  for contrast in corpus_size.CONTRASTS:
    assert {contrast.a, contrast.b} <= set(corpus_size.ARMS) and contrast.a != contrast.b
    a, b = (corpus_size.ARMS[arm][0] for arm in (contrast.a, contrast.b))
    words = [corpus_size.ARMS[arm][1] * arm_config["epochs"]
             for arm, arm_config in ((contrast.a, a), (contrast.b, b))]
    assert words[0] == pytest.approx(words[1])  # equal words processed, always
