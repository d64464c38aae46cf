"""Figures of a load run: per side and level, pooled over its bursts; before against after, paired by
burst. Pure functions over the results, no formatting: the report and `bench compare` both use them.

The comparison of throughput and p95 latency rests on the bursts, not the requests: requests of one
burst share its moment (queueing, the machine's other work), so they are not independent observations.
Each pair of bursts (the two sides back to back) gives one log ratio; the interval is Student's t over
those log ratios. That assumes the pairs are independent and their log ratios roughly normal, which a
few pairs can neither confirm nor refute: the interval is as wide as the pairs' spread says, no more.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from django_index_bench.bench.load.results import TIMEOUT, LoadBurst, LoadRun
from django_index_bench.verdicts.defaults import CONFIDENCE
from django_index_bench.verdicts.words import FASTER, NO_CHANGE, NOT_ENOUGH, SLOWER

PERCENTILES: Final = (50.0, 95.0, 99.0)
MIN_PAIRS: Final = 2


@dataclass(frozen=True)
class SideLoad:
    """One side at one level, pooled over its bursts."""

    endpoint: str
    side: str
    users: int
    bursts: int
    sent: int
    finished: int
    ok: int
    errors: dict[str, int]
    throughput: float  # answered requests per second: all bursts' requests over all bursts' time
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    bytes_per_response: float | None
    server_cpu_ms_per_request: float | None
    server_cores: float  # server CPU seconds per wall second: how many cores it kept busy
    generator_cores: float

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def timeouts(self) -> int:
        return self.errors.get(TIMEOUT, 0)

    @property
    def error_share(self) -> float:
        return self.error_count / self.sent if self.sent else 0.0


@dataclass(frozen=True)
class Ratio:
    """after / before of one statistic over paired bursts, with its interval; `verdict` says whether
    the candidate side is better (more throughput, lower p95) beyond `threshold`."""

    statistic: str  # "throughput" or "p95"
    ratio: float | None  # geometric mean over pairs of candidate / baseline
    interval: tuple[float, float] | None
    pairs: int
    verdict: str


@dataclass(frozen=True)
class LevelComparison:
    endpoint: str
    users: int
    baseline: SideLoad
    candidate: SideLoad
    throughput: Ratio
    p95: Ratio


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else None


def side_load(bursts: Sequence[LoadBurst]) -> SideLoad:
    first = bursts[0]
    latencies = [x for b in bursts for x in b.latencies_ms]
    seconds = sum(b.seconds for b in bursts)
    errors: dict[str, int] = {}
    for burst in bursts:
        for kind, count in burst.errors.items():
            errors[kind] = errors.get(kind, 0) + count
    ok = sum(b.ok for b in bursts)
    finished = len(latencies)
    server_cpu = sum(b.server_cpu_s for b in bursts)
    return SideLoad(
        endpoint=first.endpoint,
        side=first.side,
        users=first.users,
        bursts=len(bursts),
        sent=sum(b.sent for b in bursts),
        finished=finished,
        ok=ok,
        errors=errors,
        throughput=finished / seconds if seconds > 0 else 0.0,
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        p99_ms=percentile(latencies, 99),
        max_ms=max(latencies) if latencies else None,
        bytes_per_response=sum(b.response_bytes for b in bursts) / ok if ok else None,
        server_cpu_ms_per_request=server_cpu / finished * 1e3 if finished else None,
        server_cores=server_cpu / seconds if seconds > 0 else 0.0,
        generator_cores=sum(b.generator_cpu_s for b in bursts) / seconds if seconds > 0 else 0.0,
    )


def burst_p95(burst: LoadBurst) -> float | None:
    return percentile(burst.latencies_ms, 95)


def log_interval(logs: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """Student's t interval of the mean of the log ratios; None with fewer than MIN_PAIRS."""
    values = np.asarray(logs, dtype=np.float64)
    if values.size < MIN_PAIRS:
        return None
    mean = float(values.mean())
    spread = float(values.std(ddof=1)) / math.sqrt(values.size)
    if spread == 0.0:
        return mean, mean
    from scipy import stats as scipy_stats

    half = float(scipy_stats.t.ppf(0.5 + confidence / 2, values.size - 1)) * spread
    return mean - half, mean + half


def ratio(
    statistic: str, pairs: Sequence[tuple[float, float]], threshold: float, higher_is_better: bool
) -> Ratio:
    """after/before over (baseline, candidate) pairs of one statistic; pairs with a zero are skipped."""
    logs = [math.log(c / b) for b, c in pairs if b > 0 and c > 0]
    if not logs:
        return Ratio(statistic, None, None, 0, NOT_ENOUGH)
    centre = math.exp(float(np.mean(logs)))
    bounds = log_interval(logs)
    if bounds is None:
        return Ratio(statistic, centre, None, len(logs), NOT_ENOUGH)
    low, high = math.exp(bounds[0]), math.exp(bounds[1])
    verdict = NO_CHANGE
    if low > 1.0 and centre > 1.0 + threshold:
        verdict = FASTER if higher_is_better else SLOWER
    elif high < 1.0 and centre < 1.0 - threshold:
        verdict = SLOWER if higher_is_better else FASTER
    return Ratio(statistic, centre, (low, high), len(logs), verdict)


def _paired(base: Sequence[LoadBurst], cand: Sequence[LoadBurst]) -> list[tuple[LoadBurst, LoadBurst]]:
    by_pair = {b.pair: b for b in cand}
    return [(b, by_pair[b.pair]) for b in base if b.pair in by_pair]


def compare_level(run: LoadRun, endpoint: str, users: int, threshold: float) -> LevelComparison | None:
    info = run.endpoint(endpoint)
    if info is None:
        return None
    base = run.bursts_of(endpoint, info.baseline, users)
    cand = run.bursts_of(endpoint, info.candidate, users)
    if not base or not cand:
        return None
    pairs = _paired(base, cand)
    throughput = ratio(
        "throughput", [(b.throughput, c.throughput) for b, c in pairs], threshold, higher_is_better=True
    )
    p95s = [(burst_p95(b), burst_p95(c)) for b, c in pairs]
    p95 = ratio("p95", [(b, c) for b, c in p95s if b is not None and c is not None], threshold, False)
    return LevelComparison(endpoint, users, side_load(base), side_load(cand), throughput, p95)


def compare_all(run: LoadRun, threshold: float) -> list[LevelComparison]:
    found = []
    for endpoint in run.endpoints:
        for users in run.levels:
            level = compare_level(run, endpoint.name, users, threshold)
            if level is not None:
                found.append(level)
    return found


@dataclass(frozen=True)
class Headroom:
    """Whether the generator could have driven more than it did: its own CPU, and its rate against the
    trivial app beside the endpoints' best rate."""

    trivial_throughput: float | None  # requests/s against the trivial app (best calibration burst)
    trivial_generator_cores: float | None
    best_throughput: float | None  # the highest endpoint side's throughput at any level
    busiest_generator_cores: float | None  # the generator's CPU share in its busiest side and level
    cpu_count: int

    @property
    def share_of_trivial(self) -> float | None:
        if self.trivial_throughput and self.best_throughput is not None:
            return self.best_throughput / self.trivial_throughput
        return None

    @property
    def generator_bound(self) -> bool | None:
        """None: not measured. True when an endpoint ran at more than half the trivial rate, or the
        generator kept most of a core busy: then its figures may be the generator's, not the server's."""
        share = self.share_of_trivial
        if share is None:
            return None
        return share > 0.5 or (self.busiest_generator_cores or 0.0) > 0.8


def headroom(run: LoadRun, threshold: float = 0.0) -> Headroom:
    trivial = [b for b in run.calibration if b.seconds > 0]
    levels = compare_all(run, threshold)
    sides = [s for level in levels for s in (level.baseline, level.candidate)]
    best = max(trivial, key=lambda b: b.throughput) if trivial else None
    return Headroom(
        trivial_throughput=best.throughput if best else None,
        trivial_generator_cores=best.generator_cpu_s / best.seconds if best else None,
        best_throughput=max((s.throughput for s in sides), default=None),
        busiest_generator_cores=max((s.generator_cores for s in sides), default=None),
        cpu_count=run.cpu_count,
    )
