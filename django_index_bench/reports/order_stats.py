"""The median's interval from a few repetitions, by order statistics, with the confidence it really has.

Of n independent repetitions, the k-th smallest and the k-th largest bracket the true median unless
k or more of them fall on one side of it: each falls below with probability 1/2, so the interval
[x(k), x(n+1-k)] holds the median with probability P(k <= B <= n-k), B ~ Binomial(n, 1/2). Exact for
any continuous distribution; no bootstrap, which from 3 values can only return their min and max and
call it 95 %. Min to max of 3 holds the median 75 % of the time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django_index_bench.verdicts import stats
from django_index_bench.verdicts.defaults import CONFIDENCE


@dataclass(frozen=True)
class MedianInterval:
    low: float
    high: float
    confidence: float  # the exact probability that [low, high] (as a rule) holds the median


def coverage(n: int, k: int) -> float:
    """P(x(k) <= median <= x(n+1-k)) for n repetitions, 1 <= k <= n/2."""
    # Exact, in integers: sum of C(n, i) for k <= i <= n - k, over 2^n (no scipy import for a report).
    return sum(math.comb(n, i) for i in range(k, n - k + 1)) / (1 << n)


def median_interval(values: Sequence[float], target: float = CONFIDENCE) -> MedianInterval | None:
    """The narrowest symmetric order-statistic interval whose confidence reaches `target`; when even
    min to max falls short (n < 6 for 95 %), min to max with its own, lower, confidence. None below 2."""
    ordered = sorted(values)
    n = len(ordered)
    if n < 2:
        return None
    k = rank(n, target)
    return MedianInterval(ordered[k - 1], ordered[n - k], coverage(n, k))


def rank(n: int, target: float = CONFIDENCE) -> int:
    """k of the interval median_interval takes from n >= 2 repetitions: x(k) to x(n+1-k); the verdicts'
    own rank, or min to max (k = 1) when even that falls short of `target`."""
    return max(stats.median_rank(n, target), 1)


def repetitions_for(target: float = CONFIDENCE) -> int:
    """The fewest repetitions whose min to max holds the median with at least `target` (6 for 95 %)."""
    n = 2
    while coverage(n, 1) < target:
        n += 1
    return n
