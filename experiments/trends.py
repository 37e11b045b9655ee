"""A contrast against corpus size: its least-squares trend, and what the trend can claim.

  fit(tokens_N, values_N)   Trend: the line value = a + b log2(tokens) through every
                            (slice, seed) point; b is in points per doubling of the corpus
  verdict(trend, ...)       a short label and one sentence: does the trend point toward the
                            paper's sign, and where would it cross zero, if extrapolating is
                            warranted at all
  at_matched_time(...)      the contrast when the faster side gets the slower side's time
                            (a larger slice, interpolated between the slices we have)

The standard error of the slope comes from the scatter of the points about the line: the
seeds' spread at each slice plus whatever bend the line misses, so a curved trend is not
mistaken for a precise one. With fewer than three points it is infinite.
"""

import dataclasses
import math
from typing import Optional, Sequence

import numpy as np

# A slope counts as a trend only beyond this many standard errors (about 95% for a normal
# error); within it, no direction and no crossing is claimed.
SLOPE_SE = 2.0
# A crossing further than this factor beyond the largest slice is not an extrapolation the
# data can carry, whatever the slope's error.
FAR = 100.0


@dataclasses.dataclass(frozen=True)
class Trend:
  """value(tokens) = mean + slope * (log2(tokens) - x_mean), fitted by least squares."""
  slope: float      # points per doubling
  slope_se: float   # inf with fewer than 3 points
  mean: float       # the fitted value at x_mean (the points' mean)
  x_mean: float     # mean log2(tokens) of the points
  residual_var: float
  sxx: float        # sum of (log2(tokens) - x_mean)^2
  n: int

  def at(self, tokens: float) -> float:
    return self.mean + self.slope * (math.log2(tokens) - self.x_mean)

  def se_at(self, tokens: float) -> float:
    """Standard error of the line's value at `tokens` (the band drawn around it)."""
    dx = math.log2(tokens) - self.x_mean
    return math.sqrt(self.residual_var * (1.0 / self.n + dx * dx / self.sxx))

  def crossing(self) -> Optional[float]:
    """The size in tokens where the line reaches 0; None for a flat line."""
    if self.slope == 0:
      return None
    return 2.0 ** (self.x_mean - self.mean / self.slope)

  def is_trend(self) -> bool:
    return math.isfinite(self.slope_se) and abs(self.slope) > SLOPE_SE * self.slope_se


def fit(tokens_N: Sequence[float], values_N: Sequence[float]) -> Trend:
  """Least squares of the values on log2(tokens): one point per (slice, seed)."""
  x_N = np.log2(np.asarray(tokens_N, np.float64))
  y_N = np.asarray(values_N, np.float64)
  n = len(x_N)
  x_mean, y_mean = float(x_N.mean()), float(y_N.mean())
  sxx = float(((x_N - x_mean) ** 2).sum())
  if sxx == 0:
    raise ValueError("a trend needs points at two or more corpus sizes")
  slope = float(((x_N - x_mean) * (y_N - y_mean)).sum() / sxx)
  residual_N = y_N - (y_mean + slope * (x_N - x_mean))
  residual_var = float((residual_N ** 2).sum() / (n - 2)) if n > 2 else math.inf
  slope_se = math.sqrt(residual_var / sxx) if n > 2 else math.inf
  return Trend(slope, slope_se, y_mean, x_mean, residual_var, sxx, n)


def tokens_text(tokens: float) -> str:
  for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
    if tokens >= size:
      return f"{tokens / size:.3g}{unit}"
  return f"{tokens:.0f}"


def _crossing_text(trend: Trend, largest: float) -> str:
  """Where the line reaches 0 ahead of the data, or why that is not worth saying."""
  ahead = trend.crossing() / largest
  if ahead > FAR:
    return (f"it would reach 0 only at ~{tokens_text(trend.crossing())} tokens, {ahead:,.0f}x "
            f"our largest slice: too far beyond the data (over {FAR:.0f}x), so that "
            "extrapolation is not warranted")
  return (f"if it continues, it reaches 0 at ~{tokens_text(trend.crossing())} tokens "
          f"({ahead:.1f}x our largest slice)")


def verdict(trend: Trend, paper: Optional[float], largest: float,
            claim_sign: int = 0) -> tuple[str, str]:
  """(a few words for a summary table, one sentence): does the trend point toward the paper?

  `paper` is the paper's value of the contrast (None where it has no number; `claim_sign`
  then gives the sign its text claims, 0 if none); `largest` is our largest slice in tokens.
  """
  now = trend.at(largest)
  slope = (f"slope {trend.slope:+.2f} ± {trend.slope_se:.2f} points per doubling"
           if math.isfinite(trend.slope_se) else
           f"slope {trend.slope:+.2f} points per doubling, with no error from {trend.n} points")
  target = int(np.sign(paper)) if paper is not None else claim_sign
  paper_text = ("the paper's sign" if paper is None and target else
                "0 (the paper gives no number)" if paper is None else
                "the paper's 0" if paper == 0 else f"the paper's {paper:+.1f}")
  if not trend.is_trend():
    return "no trend", (
        f"No trend ({slope}, within {SLOPE_SE:.0f} standard errors of 0): no direction is "
        f"claimed and no extrapolation is warranted; at our largest slice the line gives "
        f"{now:+.1f}.")
  rising = trend.slope > 0
  if target == 0:
    toward = rising == (now < 0)
    head = f"The trend ({slope}) moves {'toward' if toward else 'away from'} {paper_text}"
    return (("toward the paper" if toward else "away from the paper"),
            head + ("; " + _crossing_text(trend, largest) + "." if toward else "."))
  if int(np.sign(now)) == target:
    if rising == (target > 0):
      beyond = paper is not None and abs(now) >= abs(paper)
      return "paper's sign, growing", (
          f"The line gives {now:+.1f} at our largest slice, the paper's sign, and the trend "
          f"({slope}) grows it, {'beyond' if beyond else 'toward'} {paper_text}.")
    return "paper's sign, shrinking", (
        f"The line gives {now:+.1f} at our largest slice, the paper's sign, but the trend "
        f"({slope}) shrinks it; {_crossing_text(trend, largest)}, after which the sign would "
        "be the reverse of the paper's.")
  if rising == (target > 0):
    return "toward the paper's sign", (
        f"The line gives {now:+.1f} at our largest slice, the opposite of {paper_text}, but "
        f"the trend ({slope}) points toward the paper's sign; "
        f"{_crossing_text(trend, largest)}.")
  return "away from the paper's sign", (
      f"The line gives {now:+.1f} at our largest slice, the opposite of {paper_text}, and "
      f"the trend ({slope}) points further away from it: no crossing lies ahead.")


def at_matched_time(a_points: Sequence[tuple], b_points: Sequence[tuple]) -> list:
  """The contrast a - b at equal training time, one entry per corpus size.

  Each side's points are (tokens, seconds, value), means over seeds, one per slice. At
  each slice the slower side keeps its point; the faster side's value at that time is
  interpolated (linearly in log seconds) between its own slices, i.e. it is given a larger
  slice in the same time. Returns (contrast or None, the faster side's interpolated
  tokens or None) per slice; None where that time lies outside the faster side's times.
  """
  out = []
  for (tokens_a, secs_a, value_a), (tokens_b, secs_b, value_b) in zip(a_points, b_points):
    a_slower = secs_a >= secs_b
    fast = sorted(b_points if a_slower else a_points, key=lambda p: p[1])
    secs = secs_a if a_slower else secs_b
    log_secs_F = np.log([p[1] for p in fast])
    if not log_secs_F[0] <= math.log(secs) <= log_secs_F[-1]:
      out.append((None, None))
      continue
    fast_value = float(np.interp(math.log(secs), log_secs_F, [p[2] for p in fast]))
    fast_tokens = float(2 ** np.interp(math.log(secs), log_secs_F,
                                       np.log2([p[0] for p in fast])))
    out.append((value_a - fast_value if a_slower else fast_value - value_b, fast_tokens))
  return out
