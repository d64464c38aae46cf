"""The schedule: what a run measures and by which rules, decided up front and recorded in the results.

An item is one scenario's case measured on its two sides (baseline and candidate), paired round by
round. Which state each side needs is known before anything runs, so a state that cannot be reached
fails exactly the items that need it. The order of items and of each pair is fixed by the plan and the
order seed, never by a test runner's collection or its plugins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.results import Cache

if TYPE_CHECKING:
    from bench.scenarios import Case, Scenario
    from bench.states import State


@dataclass(frozen=True)
class Rules:
    """How many pairs an item gets: at least min_pairs, then until the median paired ratio's 95 % CI
    is within `precision` of it, the item's `seconds` are spent, or max_pairs is reached."""

    seconds: float = 2.0
    min_pairs: int = 20
    max_pairs: int = 2_000
    precision: float = 0.02
    warmup_rounds: int = 2
    check_every: int = 10  # pairs between two looks at the interval


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


def plan_items(
    scenarios: dict[str, Scenario],
    cases: dict[str, list[Case]],
    states: tuple[State, State],
    *,
    cold: bool,
) -> list[Item]:
    """Migration scenarios pair the same code across the two states; variant scenarios pair two code
    paths in the "after" state. The cold series repeats the migration scenarios with buffers evicted."""
    before, after = states[0].name, states[-1].name
    items: list[Item] = []
    caches: tuple[Cache, ...] = ("warm", "cold") if cold else ("warm",)
    for cache in caches:
        for name, scenario in scenarios.items():
            if scenario.kind == "migration":
                items += [
                    Item(
                        name,
                        case,
                        cache,
                        SideSpec(scenario.baseline, before),
                        SideSpec(scenario.candidate, after),
                    )
                    for case in cases[name]
                ]
            elif cache == "warm":
                items += [
                    Item(
                        name,
                        case,
                        cache,
                        SideSpec(scenario.baseline, after),
                        SideSpec(scenario.candidate, after),
                    )
                    for case in cases[name]
                ]
    return items
