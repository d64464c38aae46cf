"""Confirm before reporting: which of `bench run`'s cases are measured a second time, how many pairs
that takes, and whether the second measurement agrees.

The report calls a case faster or slower (before against after, warm or cold) on one measurement of one
run; a slow moment of a busy machine, or a copy of the data whose pages sat elsewhere, can make one
measurement call a change that is not there. So, as `bench compare` does before failing the gate
(verdicts/confirm.py), every case whose timing the run's own rule calls faster or slower is measured a
second time on fresh copies, and the call stands only when the second measurement agrees: the same
metric, the same direction, significant at alpha and its interval beyond no change (confirm.agrees).

One rule: `item_timings` is what the report compares (reports/analysis.py calls it too), with the same
alpha (bench run's report does not correct it over its cases: each verdict is read on its own) and
threshold. Deterministic facts (query counts, index use, Sort, buffers) repeat exactly and are never
measured again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django_index_bench.bench.results import Timing
from django_index_bench.verdicts import stats
from django_index_bench.verdicts.confirm import agrees
from django_index_bench.verdicts.timings import compare_timings, database, total
from django_index_bench.verdicts.words import (
    CONFIRMED,
    DB_TIME,
    END_TO_END,
    FASTER,
    NOT_CONFIRMED,
    SLOWER,
    Called,
    Confirmation,
    Metric,
)

METRICS: tuple[Metric, ...] = (END_TO_END, DB_TIME)
# The second measurement should show the first's effect with its interval about a third of that
# effect wide on each side, so a real change is found again with room to spare on a machine noisier
# than it was the first time: pairs scale with the square. (With a half, 2.0, on a tiny run at load 4,
# real 1.1x-1.4x changes went unconfirmed.)
MARGIN = 3.0


@dataclass(frozen=True)
class ItemTimings:
    """One item's two timed comparisons, end to end and database time (None: no ratio can be taken)."""

    time: stats.Comparison | None
    db_time: stats.Comparison | None

    def of(self, metric: Metric) -> stats.Comparison | None:
        return self.time if metric == END_TO_END else self.db_time


def item_timings(
    baseline: Timing, candidate: Timing, *, copies: tuple[int, ...], alpha: float, threshold: float
) -> ItemTimings:
    """The report's comparison of one item: its pairs, each on its database copy (`copies`: the run's
    Schedule.worker_copies, the same for both sides), end to end and in database time."""
    found = [
        compare_timings(
            baseline, candidate, values, alpha=alpha, threshold=threshold, worker_copies=(copies, copies)
        )
        for values in (total, database)
    ]
    return ItemTimings(*found)


def called(timings: ItemTimings) -> dict[Metric, Called]:
    """The metrics the verdict calls faster or slower, and which way: what is measured again."""
    out: dict[Metric, Called] = {}
    for metric in METRICS:
        found = timings.of(metric)
        if found is not None and found.verdict in (FASTER, SLOWER):
            out[metric] = FASTER if found.verdict == FASTER else SLOWER
    return out


def outcome(direction: Called, second: stats.Comparison | None, alpha: float) -> Confirmation:
    """Confirmed when the second measurement agrees (confirm.agrees: compare's rule), else noise."""
    return CONFIRMED if agrees(second, alpha, direction) else NOT_CONFIRMED


def pairs_needed(first: stats.Comparison, *, fewest: int, most: int) -> int:
    """Pairs for the second measurement: enough that an interval as noisy as the first's, per pair,
    spans about a third of the first's effect on each side (MARGIN), between `fewest` and `most` (the
    first measurement's own pairs: never more work than it took).

    The half-width of a median's interval shrinks with the square root of the pairs, so from the first
    measurement's n pairs, half-width h and effect e (logs) it takes n * (MARGIN * h / e)^2. A large
    effect (an index that makes a call 10x faster) needs only `fewest`; one barely beyond its interval
    needs as many as the first measurement had."""
    most = max(most, fewest)
    if first.ratio_ci is None or first.ratio <= 0 or min(first.ratio_ci) <= 0 or first.n <= 0:
        return most
    effect = abs(math.log(first.ratio))
    half = (math.log(first.ratio_ci[1]) - math.log(first.ratio_ci[0])) / 2
    if effect <= 0:
        return most
    return min(most, max(fewest, math.ceil(first.n * (MARGIN * half / effect) ** 2)))


def looks(first: int, most: int) -> tuple[int, ...]:
    """After how many pairs a second measurement asks whether it agrees yet: at `first` (pairs_needed),
    then each time it has twice as many, up to `most` (the first measurement's pairs: the last look).

    On a busy machine a few stray rounds can hide a real change from a short second measurement (one
    copy's median taken from five pairs, two of them hit by another process); instead of measuring every
    call at length, a call that does not agree yet gets more pairs, and one that does stops there."""
    found, at = [], max(1, first)
    while at < most:
        found.append(at)
        at *= 2
    return (*found, max(most, first))


def look_alpha(alpha: float, planned: tuple[int, ...]) -> float:
    """Each look's level: alpha over the looks (Bonferroni), so that asking several times does not make
    noise agree more often than alpha over the whole second measurement."""
    return alpha / max(1, len(planned))
