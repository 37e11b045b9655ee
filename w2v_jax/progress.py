"""Progress of a run: the lines it logs, metrics.jsonl and TensorBoard events.

`Progress` sums the losses on the host in float64 and writes a line every
--log_every_secs seconds and at each epoch end, with words/s (raw and after
subsampling), learning rate, loss (recent and epoch mean, per example) and
ETA. A checkpoint keeps its counters (`counters`), and a resumed run's
Progress restores them and cuts metrics.jsonl back to its size at that
checkpoint, so the metrics read as if the run had never stopped. The
TensorBoard events go to tensorboard/ beside metrics.jsonl (both in the run's
staging/ until its outputs move into place, workdir.py). `growth` is the
divergence guard's measure: a call's loss per example over the session's first step's.
"""

import json
import logging
import os
import time
from typing import Optional

import numpy as np

from w2v_jax import files


def _fmt_secs(secs: float) -> str:
  secs = int(max(secs, 0))
  if secs >= 3600:
    return f"{secs // 3600}h{secs % 3600 // 60:02d}m"
  return f"{secs // 60}m{secs % 60:02d}s"


class Progress:
  """Loss sums in float64 on the host; a line every few seconds and per epoch.

  `counters()` is what a checkpoint keeps; `saved` (a checkpoint's meta)
  restores them and cuts metrics.jsonl back to its size at that checkpoint,
  so a resumed run's metrics read as if it had never stopped.
  """
  COUNTERS = ("words", "epoch_kept", "kept_total", "epoch_loss", "epoch_examples",
              "window_loss", "window_examples", "lr", "epoch")

  def __init__(self, config, total_words: int, metrics_path: str, saved: Optional[dict] = None,
               label: str = ""):
    self.config, self.total_words = config, total_words
    self.label = label  # a --sweep variant's FIELD=V, opening its log lines
    self.start = self.last_log = time.time()
    self.words = 0          # global raw words done
    self.epoch_kept = 0
    self.kept_total = 0
    self.epoch_loss = self.epoch_examples = 0.0
    self.window_loss = self.window_examples = 0.0
    self.lr = float("nan")
    self.epoch = 0
    self.first_loss = None  # the loss per example of this session's first step
    if saved:
      for name in self.COUNTERS:
        setattr(self, name, saved["progress"][name])
      self.start -= saved["progress"]["elapsed_s"]
    self.metrics_path = metrics_path
    self.metrics = _open_metrics(metrics_path, saved["metrics_bytes"] if saved else None)
    self.writer = None
    if config.tensorboard:
      import tensorboardX  # pylint: disable=import-outside-toplevel
      # purge_step: TensorBoard hides what a killed run logged after the checkpoint.
      self.writer = tensorboardX.SummaryWriter(
          os.path.join(os.path.dirname(metrics_path), "tensorboard"),
          purge_step=int(self.words) + 1 if saved else None)

  def counters(self) -> dict:
    return dict({name: getattr(self, name) for name in self.COUNTERS},
                elapsed_s=time.time() - self.start)

  def metrics_bytes(self) -> int:
    self._flush()
    return self.metrics.tell()

  def close(self):
    """Closes metrics.jsonl and the event files; a second call does nothing."""
    if not self.metrics.closed:
      self.metrics.close()
    if self.writer is not None:
      self.writer.close()
      self.writer = None

  def growth(self, loss_T, examples: int) -> float:
    """A call's loss per example over this session's first step's; 0 for a call without
    examples. Per example, so that an epoch's last, partial batch compares as a full one;
    against the first step, not the first call, since a huge --alpha has diverged by the
    end of that call. The first step's examples are the call's mean per step with a loss
    (exact but for the call that holds an epoch's end)."""
    if examples <= 0:
      return 0.0
    loss_T = np.asarray(loss_T, dtype=np.float64)
    if self.first_loss is None and loss_T[0] > 0:
      self.first_loss = float(loss_T[0]) * np.count_nonzero(loss_T) / examples
    return float(loss_T.sum()) / examples / self.first_loss if self.first_loss else 0.0

  def _flush(self):
    try:
      self.metrics.flush()
    except OSError as e:  # a full disk: one error line (workdir.owned), not a traceback
      raise files.WriteError(f"cannot write {self.metrics_path} ({e.strerror or e})") from None

  def new_epoch(self, epoch: int):
    self.kept_total += self.epoch_kept
    self.epoch, self.epoch_kept = epoch, 0
    self.epoch_loss = self.epoch_examples = 0.0

  def update(self, loss_T, lr_T, examples: int, words_done: float, kept_done: int):
    loss = float(np.sum(np.asarray(loss_T, dtype=np.float64)))
    self.epoch_loss += loss
    self.window_loss += loss
    self.epoch_examples += examples
    self.window_examples += examples
    self.lr = float(np.asarray(lr_T)[-1])
    self.words = max(self.words, float(words_done))  # a lagging path bucket's chunk
    self.epoch_kept = kept_done
    if time.time() - self.last_log >= self.config.log_every_secs:
      self.log()

  def record(self, kind: str) -> dict:
    elapsed = max(time.time() - self.start, 1e-9)
    rate = self.words / elapsed
    epoch_loss = self.epoch_loss / max(self.epoch_examples, 1)
    return {"kind": kind, "epoch": self.epoch + 1, "elapsed_s": round(elapsed, 3),
            "progress": self.words / self.total_words, "words": int(self.words),
            "words_per_s": rate, "kept_words_per_s": (self.kept_total + self.epoch_kept) / elapsed,
            "lr": self.lr,
            "loss": (self.window_loss / self.window_examples if self.window_examples
                     else epoch_loss),  # nothing new since the last line
            "epoch_loss": epoch_loss,
            "eta_s": (self.total_words - self.words) / max(rate, 1e-9)}

  def log(self, kind: str = "progress"):
    r = self.record(kind)
    try:
      self.metrics.write(json.dumps(r) + "\n")
    except OSError as e:
      raise files.WriteError(f"cannot write {self.metrics_path} ({e.strerror or e})") from None
    self._flush()
    if self.writer is not None:
      step = int(self.words)  # raw corpus words: comparable across batch sizes
      names = ("epoch_loss",) if kind == "epoch" else ("loss", "lr", "words_per_s",
                                                       "kept_words_per_s", "progress")
      for name in names:
        self.writer.add_scalar(f"{kind}/{name}", r[name], step)
      if kind == "epoch":
        self.writer.flush()
    logging.info("%sepoch %d/%d %5.1f%% | %.0fk words/s (%.0fk after subsampling) | lr %.3g | "
                 "loss %.4f recent, %.4f epoch | ETA %s", self.label and self.label + " ",
                 r["epoch"], self.config.epochs,
                 100 * r["progress"], r["words_per_s"] / 1e3, r["kept_words_per_s"] / 1e3,
                 r["lr"], r["loss"], r["epoch_loss"], _fmt_secs(r["eta_s"]))
    self.last_log = time.time()
    self.window_loss = self.window_examples = 0.0
    return r


def _open_metrics(path: str, keep_bytes: Optional[int]):
  """metrics.jsonl for writing: new, or cut back to `keep_bytes` (a resumed run)."""
  if keep_bytes is None or not os.path.exists(path):
    return open(path, "w", encoding="utf-8")
  f = open(path, "r+", encoding="utf-8")
  f.truncate(min(keep_bytes, os.path.getsize(path)))
  f.seek(0, os.SEEK_END)
  return f
