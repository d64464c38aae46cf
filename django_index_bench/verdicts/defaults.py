"""The numbers every verdict is taken with, defined once."""

from __future__ import annotations

from typing import Final

# A change smaller than this is no change, however significant: the size below which a change is not
# worth acting on. Paired, interleaved rounds resolve smaller changes than the 10 % that blocks minutes
# apart needed (A/A paired ratios stay within a few percent), and a 10 % slowdown must be caught.
DEFAULT_THRESHOLD: Final = 0.05
# The significance level over all timed comparisons of a run (Bonferroni-corrected by the caller).
DEFAULT_ALPHA: Final = 0.05
CONFIDENCE: Final = 0.95

# Below this, neither the rank test nor an interval says anything useful (and some raise). Between it
# and 6 values no order-statistic interval reaches 95 % (even [min, max] covers 1 - 2**(1-n)): those
# summaries and comparisons have no interval, and no verdict but "no significant change".
MIN_SAMPLES: Final = 3
RESAMPLES: Final = 9999
WORKER_RESAMPLES: Final = 1999  # each resample weighs every pair: memory grows with the pairs
SEED: Final = 20261129

# The fewest pairs an item stopped by its time budget may keep (bench run's floor). From 6 pairs a
# verdict is possible at DEFAULT_ALPHA and CONFIDENCE (the exact two-sided signed-rank test's smallest p
# with n pairs is 2 / 2**n: 0.031 at 6; the order-statistic interval of the median exists at 95 % from
# 6 values), but up to 8 that interval is [min, max]: one stray pair (a load spike on a busy machine)
# decides it alone. From 9 it leaves out the most extreme pair on each side (and 2 / 2**9 = 0.0039).
MIN_VERDICT_PAIRS: Final = 9

# Classes of speed, by a call's measured median end to end, a decade each: their noise differs by an
# order of magnitude, so what a run can detect is stated per class (a 2 s case is not "tens of ms").
SPEED_CLASSES: Final = (
    ("sub-ms", 0.0, 1e-3),
    ("ms", 1e-3, 10e-3),
    ("tens of ms", 10e-3, 100e-3),
    ("hundreds of ms", 100e-3, 1.0),
    ("seconds", 1.0, float("inf")),
)

# Unpaired gate only (two runs timed at different moments): a timing must stand this many robust
# standard deviations (scaled MAD) of all its comparison's log ratios beyond their median.
NOISE_SIGMAS: Final = 3.0
# Below this many timed comparisons the between-run noise cannot be estimated: timings are not gated.
NOISE_MIN_TIMINGS: Final = 6
# Two runs' timers never agree better than this (log ratio), even when every other ratio is exactly 1.
NOISE_MIN_SIGMA: Final = 0.01


def speed_class(seconds: float) -> str:
    return next(name for name, low, high in SPEED_CLASSES if low <= seconds < high)
