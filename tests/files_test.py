"""Files written whole or not at all: the new bytes or the old, never a temporary file."""

import os

import numpy as np
import pytest

from w2v_jax import files


class _Stop(Exception):
  pass


def test_atomic_write_replaces_the_file_and_leaves_nothing_else(tmp_path):
  path = tmp_path / "out.bin"
  path.write_bytes(b"old")
  with files.atomic_write(str(path)) as f:
    f.write(b"new")
    assert path.read_bytes() == b"old"  # not visible before the body ends
  assert path.read_bytes() == b"new"
  assert os.listdir(tmp_path) == ["out.bin"]


@pytest.mark.parametrize("stop", [_Stop, KeyboardInterrupt])
def test_interrupted_write_keeps_the_old_file_and_removes_the_temporary_one(tmp_path, stop):
  path = tmp_path / "out.txt"
  path.write_text("old\n")
  with pytest.raises(stop):
    with files.atomic_write(str(path), "w", encoding="utf-8") as f:
      f.write("half of the new")
      raise stop()
  assert path.read_text() == "old\n"
  assert os.listdir(tmp_path) == ["out.txt"]


def test_interrupted_first_write_leaves_no_file(tmp_path):
  with pytest.raises(_Stop):
    with files.atomic_write(str(tmp_path / "new.npz")) as f:
      np.savez(f, a=np.arange(3))
      raise _Stop()
  assert os.listdir(tmp_path) == []


def test_write_json_bytes(tmp_path):
  path = tmp_path / "r.json"
  files.write_json(str(path), {"b": [1, 2], "a": "é"})
  assert path.read_bytes() == b'{\n "a": "\\u00e9",\n "b": [\n  1,\n  2\n ]\n}\n'


def test_build_folder_keeps_a_complete_folder_only(tmp_path):
  final = tmp_path / "stage"

  def broken(tmp):
    os.makedirs(tmp)
    open(os.path.join(tmp, "half"), "w").close()
    raise _Stop()

  with pytest.raises(_Stop):
    files.build_folder(str(final), broken)
  assert os.listdir(tmp_path) == []

  def build(tmp):
    os.makedirs(tmp)
    with open(os.path.join(tmp, "x"), "w") as f:
      f.write("1")

  files.build_folder(str(final), build)
  files.build_folder(str(final), broken)  # complete already: not rebuilt
  assert os.listdir(tmp_path) == ["stage"] and os.listdir(final) == ["x"]
