"""The run record (config.json) and what it says about the code and the machine.

A record names what ran: the resolved configuration, the learning rate, the
package versions, the git commit of the code (and whether tracked files
differed from it), the devices, and for a resumed run the step it continued
from. The machine facts (`cpu_model`, `busy_cpu_seconds`) are also what the
benchmarks and experiments print beside their timings.
"""

import dataclasses
import os
import platform
import subprocess
from typing import Optional

import jax
import numpy as np


def git_commit() -> Optional[dict]:
  """The commit of the code that runs, and whether tracked files differ from it."""
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  def git(*args):
    return subprocess.run(["git", "-C", root, *args], capture_output=True, text=True,
                          timeout=10, check=True).stdout.strip()
  try:
    return {"commit": git("rev-parse", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}
  except (OSError, subprocess.SubprocessError):
    return None  # not a git checkout (an installed package), or no git


def versions(tensorboard: bool = False) -> dict:
  """The versions of Python and of the packages a run uses."""
  import flax  # pylint: disable=import-outside-toplevel
  import jaxlib  # pylint: disable=import-outside-toplevel
  import optax  # pylint: disable=import-outside-toplevel
  out = {"python": platform.python_version(), "jax": jax.__version__,
         "jaxlib": jaxlib.__version__, "optax": optax.__version__,
         "flax": flax.__version__, "numpy": np.__version__}
  if tensorboard:
    import tensorboardX  # pylint: disable=import-outside-toplevel
    out["tensorboardX"] = tensorboardX.__version__
  return out


def run_record(config, corpus_path: str, resumed_step: Optional[int] = None) -> dict:
  """config.json: `config` is resolved (resolve.py), so every value is what ran."""
  return {"config": dataclasses.asdict(config), "seed": config.seed,
          "corpus_path": corpus_path, "alpha": config.alpha,
          "versions": versions(config.tensorboard), "git": git_commit(),
          "resumed_at_step": resumed_step, "devices": [str(d) for d in jax.devices()]}


def package_versions(packages) -> list[str]:
  """"name version" of each installed package, or "name (not installed)"."""
  import importlib.metadata  # pylint: disable=import-outside-toplevel
  out = []
  for package in packages:
    try:
      out.append(f"{package} {importlib.metadata.version(package)}")
    except importlib.metadata.PackageNotFoundError:
      out.append(f"{package} (not installed)")
  return out


def cpu_model() -> str:
  """The CPU's model name from /proc/cpuinfo, else what platform reports."""
  try:
    with open("/proc/cpuinfo", encoding="utf-8") as f:
      return next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
  except (OSError, StopIteration):
    return platform.processor() or "cpu"


def busy_cpu_seconds() -> float:
  """CPU seconds every process of the machine has used so far (/proc/stat's first line)."""
  with open("/proc/stat", encoding="ascii") as f:
    user, nice, system, _, _, irq, softirq, steal = (int(x) for x in f.readline().split()[1:9])
  return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
