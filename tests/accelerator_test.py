"""benchmarks/accelerator.py --smoke: the accelerator benchmark runs end to end on the CPU."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_accelerator_smoke_measures_every_model(tmp_path):
  out = tmp_path / "rows.jsonl"
  done = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "accelerator.py"),
                         "--smoke", f"--out={out}"],
                        capture_output=True, text=True, check=False, cwd=tmp_path, timeout=600)
  assert done.returncode == 0, done.stderr[-3000:]
  rows = [json.loads(line) for line in out.read_text().splitlines()]
  assert [r["model"] for r in rows] == ["sg-ns", "cbow-ns", "sg-hs", "cbow-hs"]
  for r in rows:
    assert r["words_per_s"] > 0 and r["words_per_example"] > 1
    # A step reads at least its gathered rows once: 4 bytes x dim 100 per row.
    assert r["bytes_per_example"] > 400 and r["flops_per_example"] > 0
    assert "analogy" in r  # the largest batch was trained for the whole epoch and scored
  table = done.stdout.splitlines()
  assert sum(line.startswith("| sg-ns | 128 |") for line in table) == 1
