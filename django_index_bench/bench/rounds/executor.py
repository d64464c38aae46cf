"""The executor: a plain loop over the schedule's items. Each item yields two measurements or a recorded
failure; nothing is dropped on the floor and nothing here decides the exit status but the outcomes.

Each item: both sides' facts (untimed), warmup rounds, then pairs. A pair is one baseline round and one
candidate round back to back, so drift and load spikes hit both rounds of every pair; the order
alternates A B, B A, A B ..., starting from a side drawn from the seed. Pairing stops when the median
paired ratio's 95 % interval is narrow enough (end to end and database time), the item's time is spent,
or the most pairs allowed have run. An item whose rounds are slow stops when its time is spent even
before min_pairs, but never before floor_pairs: its minimum is min_pairs or its budget in seconds,
whichever comes first.
"""

from __future__ import annotations

import dataclasses
import gc
import math
import random
import time
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field

from django_index_bench.bench.results import Measurement, ScheduledItem, StopReason, Timing
from django_index_bench.bench.rounds.facts import describe, failed
from django_index_bench.bench.rounds.schedule import TIMER, Item, Rules, SideSpec
from django_index_bench.bench.rounds.sides import ConnectionLost, Round, Sides
from django_index_bench.verdicts import stats

# A second measurement's own stop (bench run's confirmation): asked at each of its looks, with the rounds
# so far, whether they already agree with the first measurement.
Agreed = Callable[[Timing, Timing], bool]


@dataclass(frozen=True)
class Looks:
    """After how many pairs to ask `agreed`; the first True ends the item ("agreed")."""

    at: Collection[int]
    agreed: Agreed


@dataclass(frozen=True)
class ItemResult:
    baseline: Measurement
    candidate: Measurement
    scheduled: ScheduledItem


@dataclass
class _Rounds:
    """The rounds of one side, column by column, as the results file keeps them."""

    total_s: list[float] = field(default_factory=list)
    db_s: list[float] = field(default_factory=list)
    pair: list[int] = field(default_factory=list)
    first: list[bool] = field(default_factory=list)
    worker: list[int] = field(default_factory=list)
    blocks: list[tuple[int | None, int | None]] = field(default_factory=list)  # each round's hit, read

    def add(self, done: Round, pair: int, first: bool) -> None:
        self.total_s.append(done.total_s)
        self.db_s.append(done.db_s)
        self.pair.append(pair)
        self.first.append(first)
        self.worker.append(done.worker)
        self.blocks.append((done.hit, done.read))

    def timing(self, warmup: int) -> Timing:
        # Summed only when every round counted them: a partial sum would read as a figure.
        hits = [h for h, _ in self.blocks if h is not None]
        reads = [r for _, r in self.blocks if r is not None]
        counted = bool(self.blocks) and len(hits) == len(reads) == len(self.blocks)
        return Timing(
            total_s=tuple(self.total_s),
            db_s=tuple(self.db_s),
            pair=tuple(self.pair),
            first=tuple(self.first),
            worker=tuple(self.worker),
            warmup_rounds=warmup,
            timer=TIMER,
            blocks_hit=sum(hits) if counted else None,
            blocks_read=sum(reads) if counted else None,
        )


def first_order(seed: int, item: Item) -> tuple[int, int]:
    """Which side runs first in the item's first pair, drawn from the seed and the item alone, so it
    does not depend on which other items run."""
    rng = random.Random(seed * 1_000_003 + zlib.crc32(item.label.encode()))
    return (0, 1) if rng.random() < 0.5 else (1, 0)


def _half_width(baseline: list[float], candidate: list[float]) -> float | None:
    """How far the median paired ratio's 95 % interval reaches from it, as a fraction; None: unknown."""
    if min(min(baseline), min(candidate)) <= 0:
        return None
    logs = [math.log(b / c) for b, c in zip(baseline, candidate, strict=True)]
    interval = stats.median_interval(logs)
    if interval is None:
        return None
    low, high = interval
    return math.expm1(max(high - low, 0.0) / 2)


def _precise(base: _Rounds, cand: _Rounds, precision: float) -> bool:
    widths = [_half_width(base.total_s, cand.total_s), _half_width(base.db_s, cand.db_s)]
    return all(w is not None and w <= precision for w in widths)


class _SideFailed(Exception):
    def __init__(self, side: SideSpec, error: str) -> None:
        super().__init__(error)
        self.side, self.error = side, error


def _round(sides: Sides, item: Item, side: SideSpec, pair: int) -> Round:
    try:
        return sides.round(item, side, pair)
    except ConnectionLost:
        raise
    except Exception as exc:
        raise _SideFailed(side, describe(exc)) from exc


def _facts(sides: Sides, item: Item, side: SideSpec, warmup: int, *, facts: bool = True) -> Measurement:
    """The side's facts (plans, query count, ...), then its warmup rounds. Without `facts` (a second
    measurement: deterministic facts repeat exactly and are never measured again) only the warmup, and
    a measurement that holds nothing but what names it."""
    try:
        measured = (
            sides.facts(item, side)
            if facts
            else Measurement(
                item.scenario, item.case.name, side.name, side.state, "ok", params=item.case.params
            )
        )
        sides.warm(item, side, warmup)
    except ConnectionLost:
        raise
    except Exception as exc:
        raise _SideFailed(side, describe(exc)) from exc
    return measured


def _pairs(
    item: Item, sides: Sides, rules: Rules, seed: int, looks: Looks | None = None
) -> tuple[_Rounds, _Rounds, StopReason]:
    order = first_order(seed, item)
    rounds = (_Rounds(), _Rounds())
    started = time.perf_counter()
    for pair in range(rules.max_pairs):
        # A B, B A, A B ...: each side runs first in half the pairs, and follows itself and the other
        # side equally often, so neither a position effect nor one side's after-effect on the next
        # round (a CPU-heavy call delaying the next database wake-up) favours either side.
        order = (order[1], order[0]) if pair else order
        for position, index in enumerate(order):
            rounds[index].add(_round(sides, item, item.sides[index], pair), pair, position == 0)
        done = pair + 1
        if looks is not None and done in looks.at and looks.agreed(rounds[0].timing(0), rounds[1].timing(0)):
            return (*rounds, "agreed")
        spent = time.perf_counter() - started > rules.seconds
        if done < rules.min_pairs:
            # Slow rounds: the budget ran out before min_pairs. The item stops once it has the fewest
            # pairs a verdict can rest on (floor_pairs), instead of running min_pairs for minutes.
            if spent and done >= rules.floor:
                return (*rounds, "slow")
            continue
        if done % rules.check_every == 0 and _precise(*rounds, rules.precision):
            return (*rounds, "precision")
        if spent:
            return (*rounds, "budget")
    return (*rounds, "max_pairs")


def _failed_item(item: Item, errors: dict[str, str], started: float) -> ItemResult:
    """Both sides recorded as failed: the one that failed with its error, its partner as unpaired."""

    def side(spec: SideSpec, other: SideSpec) -> Measurement:
        error = errors.get(spec.name) or f"not measured: its pair's other side ({other.name}) failed"
        return failed(item.scenario, item.case, spec.name, spec.state, error)

    base, cand = item.sides
    return ItemResult(
        side(base, cand), side(cand, base), _scheduled(item, 0, "failed", time.perf_counter() - started)
    )


def _scheduled(item: Item, pairs: int, stop: StopReason, seconds: float) -> ScheduledItem:
    return ScheduledItem(
        scenario=item.scenario,
        case=item.case.name,
        cache=item.cache,
        baseline=item.baseline.name,
        candidate=item.candidate.name,
        baseline_state=item.baseline.state,
        candidate_state=item.candidate.state,
        pairs=pairs,
        stop=stop,
        seconds=seconds,
    )


def warmup_rounds(item: Item, rules: Rules) -> int:
    """A cold item's code path ran warm earlier in the run, on the same connections (the warm series
    comes first), and every cold round evicts the buffers anyway: warming it again proves nothing."""
    return 0 if item.cache == "cold" else rules.warmup_rounds


def run_item(
    item: Item,
    sides: Sides,
    rules: Rules,
    seed: int,
    broken: dict[str, str],
    *,
    facts: bool = True,
    looks: Looks | None = None,
) -> ItemResult:
    """One item. `broken` maps a database that could not be brought to its state (SideSpec.database)
    to the migration's error. `facts`: False for a second measurement, which times rounds only; `looks`:
    a second measurement's early stop once it agrees with the first."""
    started = time.perf_counter()
    unreachable = {
        s.name: f"state {s.state!r} not reached: {broken[s.database]}"
        for s in item.sides
        if s.database in broken
    }
    if unreachable:
        return _failed_item(item, unreachable, started)
    # Everything kept so far would make each full collection slower, so later items would pay for
    # earlier ones; freezing it leaves the collector to what the scenario itself allocates.
    gc.collect()
    gc.freeze()
    try:
        # A second measurement's connections are new: even a cold item warms them (the first measurement's
        # had run the whole warm series), or its first rounds would pay for the new backends.
        warmup = warmup_rounds(item, rules) if facts else max(1, rules.warmup_rounds)
        measured = [_facts(sides, item, side, warmup, facts=facts) for side in item.sides]
        base, cand, stop = _pairs(item, sides, rules, seed, looks)
    except _SideFailed as failure:
        return _failed_item(item, {failure.side.name: failure.error}, started)
    timed = (
        dataclasses.replace(measured[0], timing=base.timing(warmup)),
        dataclasses.replace(measured[1], timing=cand.timing(warmup)),
    )
    return ItemResult(*timed, _scheduled(item, len(base.pair), stop, time.perf_counter() - started))


def run_all(
    items: Iterable[Item],
    sides: Sides,
    rules: Rules,
    seed: int,
    broken: dict[str, str],
    progress: Callable[[Item], None] = lambda item: None,
) -> Iterator[ItemResult]:
    for item in items:
        progress(item)
        yield run_item(item, sides, rules, seed, broken)
