"""bench.stats: summaries, the ratio with its CI, and verdicts that refuse to call noise a win."""

from __future__ import annotations

import numpy as np
import pytest

from django_index_bench.verdicts import stats, words


def noisy(center: float, n: int = 40, *, seed: int = 1) -> list[float]:
    rng = np.random.default_rng(seed)
    return [float(x) for x in rng.normal(center, center * 0.05, n)]


def test_summary_of_known_samples() -> None:
    summary = stats.summarize([1.0, 2.0, 3.0, 4.0, 5.0])
    assert summary.n == 5
    assert summary.median == 3.0
    assert summary.q1 == 2.0
    assert summary.q3 == 4.0
    assert summary.iqr == 2.0
    assert summary.p95 == pytest.approx(4.8)
    # Even [min, max] of 5 values holds the median only 1 - 2/32 = 93.75 % of the time: no 95 % interval.
    assert summary.median_ci is None


def test_the_median_interval_is_from_order_statistics() -> None:
    # 9 values: P(B <= 1) = 10/512 < 2.5 % <= P(B <= 2), so the 2nd and the 8th smallest.
    assert stats.summarize([9.0, 1.0, 8.0, 2.0, 7.0, 3.0, 6.0, 4.0, 5.0]).median_ci == (2.0, 8.0)
    assert stats.median_interval(list(range(1, 21))) == (6.0, 15.0)
    assert stats.median_interval([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]) == (1.0, 6.0)


SIMULATED_ITEMS = 2000
TRUE_RATIO = 1.3


def _simulated_item(rng: np.random.Generator, pairs: int) -> tuple[list[float], list[float]]:
    """Pairs whose baseline / candidate ratio has median TRUE_RATIO: rounds spread over a factor of
    several, and a skewed (Gumbel) noise per pair, shifted so its median is 0."""
    baseline = np.exp(rng.normal(np.log(0.004), 0.3, pairs))
    scale = 0.08
    noise = rng.gumbel(0.0, scale, pairs) + scale * np.log(np.log(2.0))
    candidate = baseline / TRUE_RATIO * np.exp(noise)
    return [float(x) for x in baseline], [float(x) for x in candidate]


def test_the_paired_interval_covers_a_known_median_ratio_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(23)
    covered = 0
    for _ in range(SIMULATED_ITEMS):
        comparison = stats.compare_paired(*_simulated_item(rng, pairs=20))
        assert comparison.ratio_ci is not None
        covered += comparison.ratio_ci[0] <= TRUE_RATIO <= comparison.ratio_ci[1]
    # Exact for 20 pairs: 1 - 2 P(B <= 5) = 95.86 %; 2,000 items put the share within about 1 % of it
    # (95.05 % with this seed).
    assert 0.93 <= covered / SIMULATED_ITEMS <= 0.97


def test_the_workers_interval_covers_a_known_median_ratio_when_processes_differ() -> None:
    """Pairs spread at random over 4 worker processes per side, each process a few percent faster or
    slower than the next for the whole item (as `bench compare` measures): resampling both sides'
    processes keeps the 95 % interval honest. Without such differences it errs wide (about 98 %)."""
    rng = np.random.default_rng(29)
    covered, items = 0, 1000
    for _ in range(items):
        baseline, candidate = (np.array(x) for x in _simulated_item(rng, pairs=40))
        base_worker, cand_worker = rng.integers(0, 4, 40), rng.integers(0, 4, 40)
        baseline *= np.exp(rng.normal(0.0, 0.03, 4))[base_worker]
        candidate *= np.exp(rng.normal(0.0, 0.03, 4))[cand_worker]
        workers = list(zip(base_worker.tolist(), cand_worker.tolist(), strict=True))
        comparison = stats.compare_paired(list(baseline), list(candidate), workers=workers)
        assert comparison.ratio_ci is not None
        covered += comparison.ratio_ci[0] <= TRUE_RATIO <= comparison.ratio_ci[1]
    assert 0.93 <= covered / items <= 0.97


def test_a_slower_worker_process_widens_the_interval() -> None:
    """Every pair's ratio is 2, except the 4 pairs of the second of two candidate processes (1.6). As
    independent pairs, the interval is 2 to 2; by process, a resample may draw the second process twice,
    so the interval reaches its figure."""
    ratios = [2.0] * 20 + [1.6] * 4
    baseline = [0.010] * 24
    candidate = [0.010 / r for r in ratios]
    alone = stats.compare_paired(baseline, candidate)
    assert alone.ratio_ci == pytest.approx((2.0, 2.0))
    workers = [(0, 0)] * 20 + [(0, 1)] * 4
    by_process = stats.compare_paired(baseline, candidate, workers=workers)
    assert by_process.ratio_ci == pytest.approx((1.6, 2.0))


def test_under_six_pairs_there_is_no_interval_and_no_verdict() -> None:
    comparison = stats.compare_paired([0.010] * 5, [0.002, 0.0021, 0.0022, 0.0023, 0.0024])
    assert comparison.ratio_ci is None
    assert comparison.verdict == words.NO_CHANGE
    assert comparison.ratio == pytest.approx(0.010 / 0.0022)


def test_identical_distributions_are_no_significant_change() -> None:
    samples = noisy(0.010)
    comparison = stats.compare(samples, list(samples))
    assert comparison.verdict == words.NO_CHANGE
    assert comparison.ratio == pytest.approx(1.0)
    assert comparison.ratio_ci is not None
    assert comparison.ratio_ci[0] <= 1.0 <= comparison.ratio_ci[1]


def test_two_draws_of_the_same_distribution_are_no_significant_change() -> None:
    comparison = stats.compare(noisy(0.010, seed=1), noisy(0.010, seed=2))
    assert comparison.verdict == words.NO_CHANGE
    assert not comparison.significant


def test_clearly_faster_candidate() -> None:
    comparison = stats.compare(noisy(0.010), noisy(0.002, seed=3))
    assert comparison.verdict == words.FASTER
    assert comparison.ratio == pytest.approx(5.0, rel=0.05)
    assert comparison.reduction == pytest.approx(0.8, abs=0.02)
    assert comparison.p_value is not None
    assert comparison.p_value < 0.05
    assert comparison.ratio_ci is not None
    assert comparison.ratio_ci[0] > 1.0


def test_clearly_slower_candidate() -> None:
    comparison = stats.compare(noisy(0.002), noisy(0.0025, seed=3))
    assert comparison.verdict == words.SLOWER
    assert comparison.ratio == pytest.approx(0.8, rel=0.05)
    assert comparison.reduction < 0


def test_a_change_below_the_threshold_is_no_change() -> None:
    baseline, candidate = noisy(0.010, n=200), noisy(0.0095, n=200, seed=4)
    assert stats.compare(baseline, candidate).verdict == words.FASTER
    assert stats.compare(baseline, candidate, threshold=0.10).verdict == words.NO_CHANGE


def test_the_same_samples_give_the_same_interval() -> None:
    first = stats.compare(noisy(0.010), noisy(0.004, seed=5))
    second = stats.compare(noisy(0.010), noisy(0.004, seed=5))
    assert first.ratio_ci == second.ratio_ci


@pytest.mark.parametrize(("baseline", "candidate"), [([0.01], [0.002]), ([0.01, 0.011], [0.002, 0.003])])
def test_too_few_samples_say_so(baseline: list[float], candidate: list[float]) -> None:
    comparison = stats.compare(baseline, candidate)
    assert comparison.verdict == words.NOT_ENOUGH
    assert comparison.ratio_ci is None
    assert comparison.p_value is None
    assert comparison.ratio == pytest.approx(
        stats.summarize(baseline).median / stats.summarize(candidate).median
    )


def test_constant_samples_do_not_crash() -> None:
    comparison = stats.compare([0.01] * 5, [0.01] * 5)
    assert comparison.verdict == words.NO_CHANGE


@pytest.mark.parametrize("bad", [[], [float("nan"), 1.0]])
def test_bad_samples_are_refused(bad: list[float]) -> None:
    with pytest.raises(ValueError, match="samples"):
        stats.summarize(bad)
