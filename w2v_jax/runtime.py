"""The process a run lives in: devices, CPU threads, the workdir.

`start(config)` does, before anything touches a device, what both front doors
(run.py and the Python API, api.py) need: joins the processes of a multi-host
run, sizes XLA's CPU thread pools, picks the JAX backend, then resolves the
config (resolve.py) and makes sure its workdir can be written. JAX reads the
thread count once, when its CPU client starts, so in a notebook where JAX has
already run the pools keep the size they started with.
"""

import os

import jax

from w2v_jax import parallel
from w2v_jax import resolve as resolve_lib
from w2v_jax.errors import UserError


def start(config) -> resolve_lib.Resolved:
  """Sets the runtime up for a validated config; returns it resolved, its workdir ready."""
  parallel.initialize(config)  # before anything touches a device
  limit_cpu_threads(resolve_lib.cpu_threads(config))
  select_platform(config.platform)
  config = resolve_lib.resolve(config)  # once: every value concrete, the devices counted
  if config.workdir:  # "": a mode that writes beside its input (run.py)
    prepare_workdir(config.workdir)
  return config


def prepare_workdir(path: str) -> None:
  try:
    os.makedirs(path, exist_ok=True)
  except OSError as e:
    raise UserError(f"cannot create --workdir {path} ({e.strerror})") from None
  probe = os.path.join(path, f".write-test-{os.getpid()}")
  try:
    with open(probe, "w"):
      pass
    os.remove(probe)
  except OSError as e:
    raise UserError(f"--workdir {path} is not writable ({e.strerror}); pass another "
                    "--workdir") from None


def limit_cpu_threads(threads: int) -> None:
  """Starts JAX's CPU client with pools of `threads` threads.

  XLA sizes its CPU thread pools from the cores the process may run on when
  the client starts (sched_getaffinity), so the process is restricted to
  `threads` cores while it starts, and every thread, the pools' included, is
  given all the cores back afterwards.
  """
  if not threads or not hasattr(os, "sched_setaffinity"):
    return
  cores = os.sched_getaffinity(0)
  if threads >= len(cores):
    return
  os.sched_setaffinity(0, sorted(cores)[:threads])
  try:
    jax.devices("cpu")
  finally:
    for task in os.listdir("/proc/self/task"):
      try:
        os.sched_setaffinity(int(task), cores)
      except OSError:  # a thread that ended meanwhile
        pass


def select_platform(name: str) -> None:
  """cpu: JAX's CPU backend only. gpu/tpu: that backend's first device (CUDA or ROCm for gpu)."""
  if not name:
    return
  if name == "cpu":
    jax.config.update("jax_platforms", "cpu")
    return
  try:
    device = jax.devices(name)[0]
  except RuntimeError:
    raise UserError(f"--platform={name}, but JAX finds no {name} here (it has "
                    f"{jax.default_backend()}); install the jax build for it or drop the flag") from None
  jax.config.update("jax_default_device", device)
