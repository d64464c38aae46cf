"""One timing comparison between two measurements of the same item: which rounds are compared, and by
which test. The gate (`bench compare`) and the report call this one rule, so a measurement is never
paired by one and unpaired by the other."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass

from django_index_bench.bench.results import Timing, copy_of, pairs
from django_index_bench.verdicts import stats

Values = Callable[[Timing], tuple[float, ...]]


def total(timing: Timing) -> tuple[float, ...]:
    """End to end: the whole call, as the application sees it."""
    return timing.total_s


def database(timing: Timing) -> tuple[float, ...]:
    """Database time: the part of each round spent in PostgreSQL."""
    return timing.db_s


@dataclass(frozen=True)
class Samples:
    """One metric's rounds of two measurements, ready for a test: paired ones share positions."""

    base: tuple[float, ...]
    head: tuple[float, ...]
    workers: tuple[tuple[int, int], ...] | None  # paired only: each pair's two worker processes
    copies: tuple[tuple[int, int], ...] | None = None  # paired only: each pair's two database copies


def rounds_to_compare(
    base: Timing,
    head: Timing,
    values: Values,
    *,
    paired: bool | None = None,
    worker_copies: tuple[tuple[int, ...], tuple[int, ...]] = ((), ()),
) -> Samples | None:
    """The rounds to compare. `paired`: True for interleaved partners (their pair indexes align them, each
    pair with its two workers and, by `worker_copies` (each side's copy per worker, as its schedule
    records it), their two database copies, so a resample takes whole copies and processes), False for
    independent series, None for paired exactly when the two share pairs. None when no ratio can be
    taken: a series that was not recorded (database time in an old file), no common pair, or a round
    that spent no time."""
    base_all, head_all = values(base), values(head)
    if len(base_all) != base.rounds or len(head_all) != head.rounds:
        return None
    base_rounds, head_rounds, workers = pairs(base, head)
    if paired is None:
        paired = bool(base_rounds)
    found = (
        Samples(
            tuple(base_all[i] for i in base_rounds),
            tuple(head_all[j] for j in head_rounds),
            tuple(workers),
            tuple((copy_of(worker_copies[0], b), copy_of(worker_copies[1], h)) for b, h in workers),
        )
        if paired
        else Samples(base_all, head_all, None)
    )
    if not found.base or not found.head or min(found.base) <= 0 or min(found.head) <= 0:
        return None
    return found


def compare_samples(found: Samples, *, alpha: float, threshold: float) -> stats.Comparison:
    """Paired: the bootstrap of the median log ratio over whole workers; independent: Mann-Whitney."""
    if found.workers is not None:
        return stats.compare_paired(
            found.base,
            found.head,
            workers=found.workers,
            copies=found.copies,
            alpha=alpha,
            threshold=threshold,
        )
    return stats.compare(found.base, found.head, alpha=alpha, threshold=threshold)


def compare_timings(
    base: Timing,
    head: Timing,
    values: Values,
    *,
    alpha: float,
    threshold: float,
    worker_copies: tuple[tuple[int, ...], tuple[int, ...]] = ((), ()),
) -> stats.Comparison | None:
    """rounds_to_compare (paired exactly when the two share pairs; `worker_copies` as there, so the
    interval resamples whole database copies), then compare_samples: None when no ratio can be taken."""
    found = rounds_to_compare(base, head, values, worker_copies=worker_copies)
    return None if found is None else compare_samples(found, alpha=alpha, threshold=threshold)


def copy_cells(found: Samples) -> dict[tuple[int, int], float]:
    """Paired only: the median HEAD/BASE time factor of the pairs of each (base copy, head copy): how far
    the effect moves from one pair of database copies to another."""
    if found.copies is None:
        return {}
    cells: dict[tuple[int, int], list[float]] = {}
    for base, head, copies in zip(found.base, found.head, found.copies, strict=True):
        cells.setdefault(copies, []).append(math.log(head / base))
    return {cell: math.exp(statistics.median(logs)) for cell, logs in sorted(cells.items())}


def copy_spread(found: Samples | None) -> tuple[float, float] | None:
    """The lowest and highest copy_cells factor: the copy-level spread beside a verdict (None with fewer
    than two pairs of copies)."""
    cells = copy_cells(found) if found is not None else {}
    if len(cells) < 2:
        return None
    return min(cells.values()), max(cells.values())
