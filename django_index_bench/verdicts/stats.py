"""Statistics over timing samples: summaries, before/after ratios with their intervals, and a verdict.

Pure functions over sequences of seconds, no formatting: the report and `bench compare` both build on
them. Everything comes from numpy/scipy. Intervals of a median (one sample's, or the median paired
ratio's) come from order statistics: distribution-free, exact, and a sort instead of thousands of
resamples, so a report re-renders in a moment. Only what has no order-statistic interval resamples
(pairs clustered by worker process, and the ratio of two independent medians), with a fixed seed so
the same samples always give the same interval (a report re-rendered later must not change its numbers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from django_index_bench.verdicts.defaults import (
    CONFIDENCE,
    MIN_SAMPLES,
    RESAMPLES,
    SEED,
    WORKER_RESAMPLES,
)
from django_index_bench.verdicts.words import FASTER, NO_CHANGE, NOT_ENOUGH, SLOWER

# scipy.stats is imported inside the functions that test: it takes most of a second, and every `bench`
# command (a `bench seed`, a `bench db status`) would pay it at start.


@dataclass(frozen=True)
class Summary:
    """One sample set, in the unit it was given (seconds for timings)."""

    n: int
    median: float
    p95: float
    q1: float
    q3: float
    minimum: float
    maximum: float
    # Order-statistic interval of the median (median_interval); None when none reaches the confidence.
    median_ci: tuple[float, float] | None

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1


Method = Literal["paired", "independent"]


@dataclass(frozen=True)
class Comparison:
    """Baseline against candidate; `ratio` above 1 means the candidate is faster.

    Paired (the rule): ratio is the median over pairs of baseline round / candidate round, the test is
    Wilcoxon's signed-rank test on the log ratios, and n counts pairs. Independent (only where there
    are no pairs): ratio of medians, Mann-Whitney U, n is the smaller sample.
    """

    baseline: Summary
    candidate: Summary
    ratio: float
    ratio_ci: tuple[float, float] | None
    p_value: float | None
    verdict: str
    alpha: float
    threshold: float
    confidence: float
    method: Method = "independent"
    n: int = 0

    @property
    def reduction(self) -> float:
        """Fraction of the baseline's median time saved: 0.8 is "80 % faster", negative is slower."""
        return 1.0 - 1.0 / self.ratio

    @property
    def reduction_ci(self) -> tuple[float, float] | None:
        if self.ratio_ci is None:
            return None
        low, high = self.ratio_ci
        # 1 - 1/r is increasing in r, so the interval maps end to end.
        return 1.0 - 1.0 / low, 1.0 - 1.0 / high

    @property
    def significant(self) -> bool:
        return self.verdict in (FASTER, SLOWER)

    @property
    def half_width(self) -> float | None:
        """How far the interval reaches from the ratio, as a fraction of it: the smallest change this
        comparison could tell from none."""
        if self.ratio_ci is None or not 0 < self.ratio < float("inf"):
            return None
        low, high = self.ratio_ci
        return max(high / self.ratio - 1.0, 1.0 - low / self.ratio)


def _array(samples: Sequence[float]) -> np.ndarray[Any, np.dtype[np.float64]]:
    values = np.asarray(samples, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError("need a non-empty, flat sequence of samples")
    if not np.all(np.isfinite(values)):
        raise ValueError("samples must be finite numbers")
    return values


def _rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


def _ratio_of_medians(baseline: Any, candidate: Any, axis: int = -1) -> Any:
    return np.median(baseline, axis=axis) / np.median(candidate, axis=axis)


def _bootstrap(data: tuple[Any, ...], statistic: Any, confidence: float) -> tuple[float, float]:
    """Seeded percentile bootstrap interval: BCa divides by zero on constant samples, as timings can be."""
    from scipy import stats as scipy_stats

    result = scipy_stats.bootstrap(
        data,
        statistic,
        vectorized=True,
        n_resamples=RESAMPLES,
        confidence_level=confidence,
        method="percentile",
        rng=_rng(),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def summarize(samples: Sequence[float], *, confidence: float = CONFIDENCE) -> Summary:
    values = _array(samples)
    q1, median, q3, p95 = np.percentile(values, [25, 50, 75, 95])
    median_ci = median_interval(values, confidence) if values.size >= MIN_SAMPLES else None
    return Summary(
        n=int(values.size),
        median=float(median),
        p95=float(p95),
        q1=float(q1),
        q3=float(q3),
        minimum=float(values.min()),
        maximum=float(values.max()),
        median_ci=median_ci,
    )


def compare(
    baseline_samples: Sequence[float],
    candidate_samples: Sequence[float],
    *,
    alpha: float = 0.05,
    threshold: float = 0.0,
    confidence: float = CONFIDENCE,
) -> Comparison:
    """Compare two independent sample sets of the same work.

    The verdict is "faster"/"slower" only when all of these hold: the Mann-Whitney U test (two-sided)
    gives p < alpha, the bootstrap CI of the ratio of medians excludes 1, and the median time changed by
    more than `threshold` (a fraction: 0.1 means a change under 10 % counts as no change, for CI gates).
    Anything else is "no significant change", however good the point estimate looks.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError("alpha must be between 0 and 1")
    if threshold < 0.0:
        raise ValueError("threshold must not be negative")
    base = _array(baseline_samples)
    cand = _array(candidate_samples)
    baseline = summarize(baseline_samples, confidence=confidence)
    candidate = summarize(candidate_samples, confidence=confidence)
    ratio = baseline.median / candidate.median if candidate.median > 0 else float("inf")
    if min(base.size, cand.size) < MIN_SAMPLES or not np.isfinite(ratio) or baseline.median <= 0:
        return Comparison(baseline, candidate, ratio, None, None, NOT_ENOUGH, alpha, threshold, confidence)

    from scipy import stats as scipy_stats

    p_value = float(scipy_stats.mannwhitneyu(base, cand, alternative="two-sided").pvalue)
    ratio_ci = _bootstrap((base, cand), _ratio_of_medians, confidence)
    verdict = _verdict(ratio, ratio_ci, p_value, alpha, threshold)
    n = int(min(base.size, cand.size))
    return Comparison(
        baseline, candidate, ratio, ratio_ci, p_value, verdict, alpha, threshold, confidence, "independent", n
    )


def _verdict(
    ratio: float, ratio_ci: tuple[float, float] | None, p_value: float, alpha: float, threshold: float
) -> str:
    """Faster or slower only when the test, the interval and the size of the change all agree: without
    an interval (too few pairs for one at this confidence) nothing can be shown to exclude no change."""
    if p_value >= alpha or ratio_ci is None:
        return NO_CHANGE
    # Time relative to the baseline: below 1 - threshold is faster, above 1 + threshold slower.
    relative_time = 1.0 / ratio
    if ratio_ci[0] > 1.0 and relative_time < 1.0 - threshold:
        return FASTER
    if ratio_ci[1] < 1.0 and relative_time > 1.0 + threshold:
        return SLOWER
    return NO_CHANGE


def _side_weights(
    rng: np.random.Generator,
    workers: np.ndarray[Any, np.dtype[np.int64]],
    copies: np.ndarray[Any, np.dtype[np.int64]],
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """How often each pair's process of one side is drawn in each resample (WORKER_RESAMPLES rows).
    Hierarchical: the side's database copies are drawn with replacement, then, within each copy as often
    as it was drawn, its worker processes (k draws of a copy with m workers draw m*k workers from it).
    With one copy this is drawing the side's processes with replacement."""
    ids, pair_worker = np.unique(workers, return_inverse=True)
    copy_of = np.array([copies[np.argmax(workers == w)] for w in ids])
    copy_ids, worker_copy = np.unique(copy_of, return_inverse=True)
    n_workers, n_copies = ids.size, copy_ids.size
    if n_copies == 1:
        drawn = rng.multinomial(n_workers, np.full(n_workers, 1 / n_workers), size=WORKER_RESAMPLES)
        return np.asarray(drawn[:, pair_worker], dtype=np.int64)
    drawn_copies = rng.multinomial(n_copies, np.full(n_copies, 1 / n_copies), size=WORKER_RESAMPLES)
    drawn = np.zeros((WORKER_RESAMPLES, n_workers), dtype=np.int64)
    for copy in range(n_copies):
        members = np.flatnonzero(worker_copy == copy)
        draws = drawn_copies[:, copy] * members.size
        drawn[:, members] = rng.multinomial(draws, np.full(members.size, 1 / members.size))
    return np.asarray(drawn[:, pair_worker], dtype=np.int64)


def _clustered_medians(
    logs: np.ndarray[Any, np.dtype[np.float64]],
    workers: np.ndarray[Any, np.dtype[np.int64]],
    copies: np.ndarray[Any, np.dtype[np.int64]],
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The median log ratio of each resample when pairs come from worker processes on database copies:
    each side's copies, and within them their processes, are resampled whole and independently, and a
    pair counts as often as its baseline process times its candidate process was drawn (a pigeonhole
    bootstrap, Owen 2007, nested: copies, then processes). A slow copy or process on either side then
    moves whole rows or columns of pairs together, as it did when measured, so a difference between
    copies or processes widens the spread instead of reading as an effect. Vectorised: one weighted median
    per resample over the sorted log ratios. The rare resample whose drawn processes share no pair has no
    median and is left out."""
    rng = _rng()
    weights_base = _side_weights(rng, workers[:, 0], copies[:, 0])
    weights_cand = _side_weights(rng, workers[:, 1], copies[:, 1])
    order = np.argsort(logs, kind="stable")
    weights = (weights_base * weights_cand)[:, order]
    cumulative = np.cumsum(weights, axis=1)
    total = cumulative[:, -1:]
    kept = total[:, 0] > 0
    medians = logs[order][np.argmax(cumulative[kept] * 2 >= total[kept], axis=1)]
    return np.asarray(medians, dtype=np.float64)


def _top_clusters(
    workers: np.ndarray[Any, np.dtype[np.int64]], copies: np.ndarray[Any, np.dtype[np.int64]]
) -> int:
    """The fewer top-level clusters of the two sides: copies where a side has several, else processes."""
    counts = []
    for side in (0, 1):
        n_copies = np.unique(copies[:, side]).size
        counts.append(n_copies if n_copies > 1 else np.unique(workers[:, side]).size)
    return int(min(counts))


def _clustered(
    logs: np.ndarray[Any, np.dtype[np.float64]],
    workers: np.ndarray[Any, np.dtype[np.int64]],
    copies: np.ndarray[Any, np.dtype[np.int64]],
    confidence: float,
) -> tuple[tuple[float, float], float]:
    """The interval of the median log ratio, and a two-sided p-value, both from the clustered resamples
    (_clustered_medians). Wilcoxon's test assumes independent pairs, which pairs sharing a process or a
    database copy are not: the p-value instead takes the median log ratio's spread from the resamples
    (its standard error) and assumes the median close to normal with it (a z-test on the cluster
    bootstrap's standard error). A bootstrap over C clusters sees (C - 1) / C of their variance, half with
    two copies: the standard error, and the percentile interval's reach from the median, are widened by
    sqrt(C / (C - 1)) for the side with fewer clusters. With a spread of exactly zero every resample
    agrees: p is 0 when the median moved, 1 when it did not."""
    medians = _clustered_medians(logs, workers, copies)
    clusters = _top_clusters(workers, copies)
    widen = math.sqrt(clusters / (clusters - 1)) if clusters > 1 else 1.0
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(medians, [tail, 100 - tail])
    centre = float(np.median(logs))
    low, high = centre - (centre - float(low)) * widen, centre + (float(high) - centre) * widen
    spread = float(np.std(medians, ddof=1)) * widen if medians.size > 1 else 0.0
    if spread > 0:
        from scipy import stats as scipy_stats

        p_value = float(2 * scipy_stats.norm.sf(abs(centre) / spread))
    else:
        p_value = 0.0 if centre != 0 else 1.0
    return (low, high), p_value


def paired_logs(
    baseline: Sequence[float], candidate: Sequence[float]
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """log(baseline / candidate) per pair: positive when the candidate was faster in that pair."""
    base, cand = _array(baseline), _array(candidate)
    if base.size != cand.size:
        raise ValueError("paired samples need the same number of rounds on both sides")
    if np.any(base <= 0) or np.any(cand <= 0):
        raise ValueError("paired samples must be positive durations")
    return np.asarray(np.log(base / cand), dtype=np.float64)


def compare_paired(
    baseline_samples: Sequence[float],
    candidate_samples: Sequence[float],
    *,
    workers: Sequence[tuple[int, int]] | None = None,
    copies: Sequence[tuple[int, int]] | None = None,
    alpha: float = 0.05,
    threshold: float = 0.0,
    confidence: float = CONFIDENCE,
) -> Comparison:
    """Compare paired rounds: element i of each side ran back to back, each side first in half the pairs.

    Drift and load spikes hit both rounds of a pair, so each pair's ratio is one observation of the
    effect. From one process on one database per side, the pairs are independent: Wilcoxon's
    signed-rank test (two-sided) asks whether the log ratios are centred on 0 (it also assumes their
    differences symmetric), and the interval of the median ratio is the order-statistic one
    (median_interval). With `workers` (each pair's baseline and candidate worker process) from more than
    one process, or `copies` (each pair's two database copies) from more than one copy, pairs of one
    process or copy are not independent: the interval and the p-value both come from a seeded bootstrap
    that resamples whole copies and, within them, whole processes of both sides (_clustered), so a
    difference between copies or processes widens the interval instead of being mistaken for an effect.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError("alpha must be between 0 and 1")
    if threshold < 0.0:
        raise ValueError("threshold must not be negative")
    logs = paired_logs(baseline_samples, candidate_samples)
    baseline = summarize(baseline_samples, confidence=confidence)
    candidate = summarize(candidate_samples, confidence=confidence)
    ratio = float(np.exp(np.median(logs)))
    n = int(logs.size)
    if n < MIN_SAMPLES:
        return Comparison(
            baseline, candidate, ratio, None, None, NOT_ENOUGH, alpha, threshold, confidence, "paired", n
        )
    processes = np.asarray(workers if workers is not None else np.zeros((n, 2)), dtype=np.int64)
    databases = np.asarray(copies if copies is not None else np.zeros((n, 2)), dtype=np.int64)
    if processes.shape != (n, 2) or databases.shape != (n, 2):
        raise ValueError("workers and copies need one (baseline, candidate) value per pair")
    clustered = np.unique(np.hstack([processes, databases]), axis=0).shape[0] > 1
    interval: tuple[float, float] | None
    if np.all(logs == 0):
        interval, p_value = ((0.0, 0.0) if clustered else median_interval(logs, confidence)), 1.0
    elif clustered:
        interval, p_value = _clustered(logs, processes, databases, confidence)
    else:
        from scipy import stats as scipy_stats

        p_value = float(scipy_stats.wilcoxon(logs, alternative="two-sided", zero_method="zsplit").pvalue)
        interval = median_interval(logs, confidence)
    ratio_ci = None if interval is None else (float(np.exp(interval[0])), float(np.exp(interval[1])))
    verdict = _verdict(ratio, ratio_ci, p_value, alpha, threshold)
    return Comparison(
        baseline, candidate, ratio, ratio_ci, p_value, verdict, alpha, threshold, confidence, "paired", n
    )


def median_interval(
    values: Sequence[float] | np.ndarray[Any, np.dtype[np.float64]], confidence: float = CONFIDENCE
) -> tuple[float, float] | None:
    """Distribution-free interval of the median from order statistics, a sort and no resampling.

    Of n independent values from any continuous distribution, the number B below its median is
    Binomial(n, 1/2), so [x_(r), x_(n+1-r)] (1-based, sorted) holds the median with probability
    1 - 2 P(B <= r - 1). r is the largest for which that is at least `confidence`: the interval is exact
    and, the binomial being discrete, errs wide (95.9 % at 20 values, 95.7 % at 30). With ties it errs
    wider still. None when even [min, max] falls short: under 6 values at 95 %.
    """
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    n = ordered.size
    r = median_rank(n, confidence)
    if r < 1:
        return None
    return float(ordered[r - 1]), float(ordered[n - r])


def median_rank(n: int, confidence: float = CONFIDENCE) -> int:
    """r of median_interval's [x_(r), x_(n+1-r)] for n values: the largest r with 1 - 2 P(B <= r - 1)
    at least `confidence`, B ~ Binomial(n, 1/2); 0 when even min to max falls short."""
    from scipy import stats as scipy_stats

    # The smallest k with P(B <= k) >= tail; r = k keeps P(B <= r - 1) below the tail.
    return int(scipy_stats.binom.ppf((1 - confidence) / 2, n, 0.5))
