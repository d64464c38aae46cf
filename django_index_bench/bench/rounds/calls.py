"""Any callable as an item's side: what the pytest plugin checks and times, through the same facts,
sides, executor and statistics as a scenario of `bench run`.

A test hands over a function (or a queryset); it becomes a one-case scenario whose sides are named
after the databases they run on, so LocalSides gives each its own connection, exactly as in a run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django_index_bench.bench.rounds.executor import run_item
from django_index_bench.bench.rounds.schedule import Item, Rules, SideSpec
from django_index_bench.bench.rounds.sides import LocalSides
from django_index_bench.bench.scenarios import Case, Outcome, Scenario
from django_index_bench.verdicts import stats

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from django_index_bench.bench.results import Measurement, Plan

Call = Callable[[], object]
CASE = Case("call", {})
NAME = "call"


def as_call(target: Call | QuerySet[Any]) -> Call:
    """A queryset is evaluated afresh each time (a cached result would run no SQL); a callable as is."""
    if callable(target):
        return target
    queryset = target
    return lambda: list(queryset.all())


def _rows(result: object) -> int:
    return len(result) if hasattr(result, "__len__") else 0


class CallScenario(Scenario):
    """One case; each side runs its own callable (the same one on two states, or two on one state)."""

    name = NAME
    title = "a call under test"
    group = "pytest"
    kind = "migration"
    baseline = "baseline"
    candidate = "candidate"
    description = "a callable handed over by a test"

    def __init__(self, calls: Mapping[str, Call]) -> None:
        self.calls = dict(calls)

    def draw_cases(self) -> list[Case]:
        return [CASE]

    def execute(self, side: str, params: dict[str, Any]) -> Outcome:
        return Outcome(rows=_rows(self.calls[side]()))


@dataclass(frozen=True)
class Observed:
    """The deterministic facts of one call in one state: its queries and their plans (the first
    facts.MAX_PLANS of them), with checks whose failure says what the plans were instead."""

    state: str
    measurement: Measurement

    @property
    def query_count(self) -> int:
        return self.measurement.query_count or 0

    @property
    def plans(self) -> tuple[Plan, ...]:
        return self.measurement.plans

    @property
    def index_names(self) -> tuple[str, ...]:
        """Every index any plan uses, once each, in the order the plans name them."""
        return tuple(dict.fromkeys(name for plan in self.plans for name in plan.index_names))

    @property
    def has_sort(self) -> bool:
        return any(plan.has_sort for plan in self.plans)

    @property
    def shared_blocks(self) -> int:
        """Shared buffers the plans touched (hit or read), summed over the queries."""
        return sum(plan.shared_blocks for plan in self.plans)

    def describe(self) -> str:
        count = self.query_count
        lines = [f"in state {self.state!r}: {count} {'query' if count == 1 else 'queries'}"]
        for number, plan in enumerate(self.plans, 1):
            lines += [f"  {number}. {plan.shape}", f"     SQL: {_short(plan.sql)}"]
        return "\n".join(lines)

    def assert_uses_index(self, name: str) -> None:
        __tracebackhide__ = True  # pytest shows the test's line, not this one
        if name not in self.index_names:
            raise AssertionError(f"no plan uses index {name!r} {self.describe()}")

    def assert_no_sort(self) -> None:
        __tracebackhide__ = True  # pytest shows the test's line, not this one
        if self.has_sort:
            raise AssertionError(f"a plan sorts {self.describe()}")

    def assert_query_count(self, expected: int) -> None:
        __tracebackhide__ = True  # pytest shows the test's line, not this one
        if self.query_count != expected:
            raise AssertionError(f"expected {expected} queries, got {self.query_count} {self.describe()}")


def _short(sql: str, limit: int = 400) -> str:
    """The statement without its column list (the ORM names every column), cut at `limit`."""
    text = re.sub(r"^SELECT .+? FROM ", "SELECT ... FROM ", sql, count=1, flags=re.DOTALL)
    return text if len(text) <= limit else text[:limit] + " ..."


def observe(databases: Mapping[str, dict[str, Any]], state: str, target: Call | QuerySet[Any]) -> Observed:
    """The call's facts on `state`'s database, on a connection of its own (as in a run)."""
    side = SideSpec(state, state)
    item = Item(NAME, CASE, "warm", side, side)
    sides = LocalSides({NAME: CallScenario({state: as_call(target)})}, dict(databases))
    try:
        return Observed(state, sides.facts(item, side))
    finally:
        sides.close()


@dataclass(frozen=True)
class Paired:
    """A before/after timing: both sides' facts and rounds, and the paired comparisons of end to end
    and database time (stats.compare_paired: ratio above 1 means the candidate is faster)."""

    baseline: Measurement
    candidate: Measurement
    total: stats.Comparison
    database: stats.Comparison | None  # None: a side spent no measurable time in the database

    @property
    def verdict(self) -> str:
        """words.FASTER, words.SLOWER, words.NO_CHANGE or words.NOT_ENOUGH, end to end."""
        return self.total.verdict


def time_pair(
    databases: Mapping[str, dict[str, Any]],
    baseline: tuple[str, Call],
    candidate: tuple[str, Call],
    *,
    rules: Rules,
    seed: int,
    alpha: float,
    threshold: float,
) -> Paired:
    """Both sides interleaved pair by pair by the executor, as `bench run` measures an item. Each side
    is (state, call); sides are named after their states, or baseline/candidate when they share one."""
    (base_state, base_call), (cand_state, cand_call) = baseline, candidate
    names = (base_state, cand_state) if base_state != cand_state else ("baseline", "candidate")
    item = Item(NAME, CASE, "warm", SideSpec(names[0], base_state), SideSpec(names[1], cand_state))
    scenario = CallScenario({names[0]: base_call, names[1]: cand_call})
    sides = LocalSides({NAME: scenario}, dict(databases))
    try:
        result = run_item(item, sides, rules, seed, {})
    finally:
        sides.close()
    base, cand = result.baseline, result.candidate
    if base.timing is None or cand.timing is None:
        raise AssertionError(f"the pair was not measured: {base.error or cand.error}")

    def paired(base_s: tuple[float, ...], cand_s: tuple[float, ...]) -> stats.Comparison | None:
        if min(base_s + cand_s) <= 0:
            return None  # a call that sent no query on some round: no ratio of database time
        return stats.compare_paired(base_s, cand_s, alpha=alpha, threshold=threshold)

    total = paired(base.timing.total_s, cand.timing.total_s)
    if total is None:
        raise AssertionError("a round took no measurable time: nothing to compare")
    return Paired(base, cand, total, paired(base.timing.db_s, cand.timing.db_s))
