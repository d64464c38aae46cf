"""The schedule: what a run measures and by which rules, decided up front and recorded in the results.

An item is one scenario's case measured on its two sides (baseline and candidate), paired round by
round. Which state each side needs is known before anything runs, so a state that cannot be reached
fails exactly the items that need it. The order of items and of each pair is fixed by the plan and the
order seed, never by a test runner's collection or its plugins.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pytest_benchmark.timers import compute_timer_precision

from django_index_bench.bench.results import Cache, Schedule, ScheduledItem
from django_index_bench.bench.rounds.isolation import ROLLED_BACK

# The clock every round is read with (its resolution, from pytest-benchmark, goes in the schedule).
TIMER = "time.perf_counter_ns"
Sides = Literal["databases", "workers"]

if TYPE_CHECKING:
    from django_index_bench.bench.scenarios import Case, Scenario
    from django_index_bench.bench.steps.states import State


@dataclass(frozen=True)
class Rules:
    """How many pairs an item gets: at least min_pairs, then until the median paired ratio's 95 % CI
    is within `precision` of it, the item's `seconds` are spent, or max_pairs is reached. An item whose
    `seconds` are spent before min_pairs (slow rounds) stops there too, once it has floor_pairs: its
    minimum is min_pairs or `seconds`, whichever comes first, and never fewer than floor_pairs. The
    default floor, 0, is none: min_pairs is the minimum. `bench run` sets it to MIN_VERDICT_PAIRS."""

    seconds: float = 2.0
    min_pairs: int = 20
    floor_pairs: int = 0
    max_pairs: int = 2_000
    precision: float = 0.02
    warmup_rounds: int = 2
    check_every: int = 10  # pairs between two looks at the interval

    @property
    def floor(self) -> int:
        """The fewest pairs an item stops with: floor_pairs when set below min_pairs, else min_pairs."""
        return self.floor_pairs if 0 < self.floor_pairs < self.min_pairs else self.min_pairs


QUICK = Rules(seconds=0.05, min_pairs=6, max_pairs=8, warmup_rounds=1, check_every=2)


@dataclass(frozen=True)
class SideSpec:
    """One side of an item: the code path (`name`), the migration state it runs in, and, in compare,
    the ref whose worker processes run it (empty: this process)."""

    name: str
    state: str
    ref: str = ""

    @property
    def database(self) -> str:
        """Which database the side needs: its state's, of its ref's copies when in compare."""
        return f"{self.ref}/{self.state}" if self.ref else self.state


@dataclass(frozen=True)
class Item:
    scenario: str
    case: Case
    cache: Cache
    baseline: SideSpec
    candidate: SideSpec

    @property
    def sides(self) -> tuple[SideSpec, SideSpec]:
        return self.baseline, self.candidate

    @property
    def label(self) -> str:
        cold = " (cold)" if self.cache == "cold" else ""
        return f"{self.scenario}[{self.case.name}]{cold}"


def states_of(kind: str, before: str, after: str) -> tuple[str, str]:
    """The states of an item's two sides: a migration scenario pairs the same code across the two
    states; a variant scenario pairs two code paths in the "after" state, the one the change ships."""
    return (before, after) if kind == "migration" else (after, after)


def plan_items(
    scenarios: dict[str, Scenario],
    cases: dict[str, list[Case]],
    states: tuple[State, State],
    *,
    cold: bool,
) -> list[Item]:
    """Every scenario's cases, warm; with `cold`, the migration scenarios again with buffers evicted."""
    items: list[Item] = []
    for cache in ("warm", "cold") if cold else ("warm",):
        for name, scenario in scenarios.items():
            if cache == "cold" and scenario.kind != "migration":
                continue
            base_state, cand_state = states_of(scenario.kind, states[0].name, states[-1].name)
            base, cand = SideSpec(scenario.baseline, base_state), SideSpec(scenario.candidate, cand_state)
            items += [Item(name, case, cache, base, cand) for case in cases[name]]
    return items


def record(
    rules: Rules, *, sides: Sides, workers: int, seed: int, items: tuple[ScheduledItem, ...]
) -> Schedule:
    """The schedule as the results file keeps it."""
    return Schedule(
        sides=sides,
        workers=workers,
        order_seed=seed,
        warmup_rounds=rules.warmup_rounds,
        min_pairs=rules.min_pairs,
        floor_pairs=rules.floor,
        max_pairs=rules.max_pairs,
        precision=rules.precision,
        seconds=rules.seconds,
        timer=TIMER,
        timer_resolution_s=float(compute_timer_precision(time.perf_counter)),  # type: ignore[no-untyped-call]
        items=items,
        isolation=ROLLED_BACK,
    )
