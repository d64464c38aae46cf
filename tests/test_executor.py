"""The executor in process, on the tests' database: paired rounds tell end-to-end time from database time.

The scenario here is the test's own (never registered): one ORM query, and on its candidate side the
same query followed by a busy-wait of about 30 % of the call, which the database never sees.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections

from django_index_bench.bench.pg import clones
from django_index_bench.bench.pg import db as dbs
from django_index_bench.bench.results import Measurement
from django_index_bench.bench.rounds.executor import ItemResult, run_item
from django_index_bench.bench.rounds.schedule import Item, Rules, SideSpec
from django_index_bench.bench.rounds.sides import LocalSides
from django_index_bench.bench.scenarios import Case, Outcome, Scenario
from django_index_bench.bench.steps import confirm_run
from django_index_bench.verdicts import stats, words
from project.apps.peoples.models import People
from tests.factories import make_people, make_tenant

# On a quiet machine the interval is narrow after 30 to 90 pairs; a busy one gets up to 3 s of them.
RULES = Rules(seconds=3.0, min_pairs=30, max_pairs=2_000, precision=0.02, warmup_rounds=5, check_every=10)
THRESHOLD = 0.05
SEED = 20261129
STATE = "after"


class PeoplePage(Scenario):
    """A tenant's first people by code; the candidate may spin afterwards, or raise."""

    name = "test_people_page"
    title = "A page of one tenant's people"
    group = "tests"
    kind = "variant"
    baseline = "plain"
    candidate = "spinning"
    description = "People.objects.filter(tenant=T).order_by('peoplecode')[:100]"

    def __init__(self, *, spin: float = 0.0, error: Exception | None = None) -> None:
        self.spin, self.error = spin, error

    def draw_cases(self) -> list[Case]:
        raise NotImplementedError  # the tests hand the executor their case

    def execute(self, side: str, params: dict[str, Any]) -> Outcome:
        if side == self.candidate and self.error is not None:
            raise self.error
        started = time.perf_counter()
        rows = list(People.objects.filter(tenant_id=params["tenant"]).order_by("peoplecode")[:100])
        if side == self.candidate and self.spin:
            end = time.perf_counter() + (time.perf_counter() - started) * self.spin
            while time.perf_counter() < end:
                pass
        return Outcome(rows=len(rows))


@pytest.fixture(scope="module")
def tenant(migrated_schema: None) -> Iterator[int]:
    """One tenant with 300 people, committed: each side reads them on a connection of its own."""
    created = make_tenant(90_001)
    make_people(created, 300)
    yield created.pk
    People.objects.filter(tenant=created).delete()
    created.delete()


@pytest.fixture(scope="module")
def database(tenant: int) -> dict[str, Any]:
    """The tests' database as Django's settings have it: both sides' connections go there."""
    return copy.deepcopy(connections["default"].settings_dict)


def variant_item(tenant: int) -> Item:
    scenario = PeoplePage
    return Item(
        scenario.name,
        Case("page", {"tenant": tenant}),
        "warm",
        SideSpec(scenario.baseline, STATE),
        SideSpec(scenario.candidate, STATE),
    )


def run(scenario: Scenario, tenant: int, database: dict[str, Any]) -> ItemResult:
    sides = LocalSides({scenario.name: scenario}, {STATE: database})
    try:
        return run_item(variant_item(tenant), sides, RULES, SEED, broken={})
    finally:
        sides.close()


# An assertion that a change is absent fails by chance at the test's alpha: 0.05 made these tests fail
# about one run in twenty on a busy machine. A strict alpha keeps a real change (the 0.3 ms spin, many
# times the noise) found, and a false one rare.
STRICT_ALPHA = 0.001


def verdicts(result: ItemResult, alpha: float = 0.05) -> tuple[str, str]:
    """End to end and database time, candidate against baseline, pair by pair."""
    base, cand = result.baseline.timing, result.candidate.timing
    assert base is not None
    assert cand is not None
    total = stats.compare_paired(base.total_s, cand.total_s, alpha=alpha, threshold=THRESHOLD)
    database = stats.compare_paired(base.db_s, cand.db_s, alpha=alpha, threshold=THRESHOLD)
    return total.verdict, database.verdict


def check_paired(result: ItemResult) -> None:
    assert result.baseline.ok, result.baseline.error
    assert result.candidate.ok, result.candidate.error
    base, cand = result.baseline.timing, result.candidate.timing
    assert base is not None
    assert cand is not None
    pairs = result.scheduled.pairs
    assert RULES.min_pairs <= pairs <= RULES.max_pairs
    assert list(base.pair) == list(cand.pair) == list(range(pairs))
    assert all(b != c for b, c in zip(base.first, cand.first, strict=True))
    assert base.warmup_rounds == cand.warmup_rounds == RULES.warmup_rounds
    assert result.scheduled.stop in ("precision", "budget", "max_pairs")
    for timing in (base, cand):
        assert all(0 < d < t for t, d in zip(timing.total_s, timing.db_s, strict=True))
    assert result.baseline.rows == result.candidate.rows == 100
    assert result.baseline.query_count == result.candidate.query_count == 1


def test_time_spent_outside_the_database_is_slower_end_to_end_only(
    tenant: int, database: dict[str, Any]
) -> None:
    result = run(PeoplePage(spin=0.3), tenant, database)
    check_paired(result)
    assert verdicts(result)[0] == words.SLOWER
    assert verdicts(result, STRICT_ALPHA)[1] != words.SLOWER


def test_the_same_work_on_both_sides_is_no_change(tenant: int, database: dict[str, Any]) -> None:
    result = run(PeoplePage(), tenant, database)
    check_paired(result)
    assert verdicts(result, STRICT_ALPHA) == (words.NO_CHANGE, words.NO_CHANGE)


def failed_sides(result: ItemResult) -> tuple[Measurement, Measurement]:
    assert result.scheduled.stop == "failed"
    assert result.scheduled.pairs == 0
    for m in (result.baseline, result.candidate):
        assert m.status == "failed"
        assert m.timing is None
        assert m.plans == ()
    return result.baseline, result.candidate


def test_a_side_that_raises_fails_the_item_on_both_sides(tenant: int, database: dict[str, Any]) -> None:
    baseline, candidate = failed_sides(run(PeoplePage(error=RuntimeError("boom")), tenant, database))
    assert candidate.error == "RuntimeError: boom"
    assert baseline.error == "not measured: its pair's other side (spinning) failed"
    assert (baseline.side, candidate.side) == ("plain", "spinning")
    assert baseline.params == candidate.params == {"tenant": tenant}


def test_an_unreached_state_fails_its_items_without_touching_the_database() -> None:
    scenario = PeoplePage()
    error = (
        'migration attendance.0032_broken failed: ProgrammingError: column "no_such_column" does not exist'
    )
    item = Item(
        scenario.name, Case("page", {}), "warm", SideSpec("before", "before"), SideSpec("after", "after")
    )
    # No database at all: a side that tried to connect would fail on the missing settings.
    sides = LocalSides({scenario.name: scenario}, {})
    baseline, candidate = failed_sides(run_item(item, sides, RULES, SEED, broken={"after": error}))
    assert candidate.error == f"state 'after' not reached: {error}"
    assert baseline.error == "not measured: its pair's other side (after) failed"
    assert (baseline.state, candidate.state) == ("before", "after")
    assert sides.open == {}


# Confirmation's own rules: a 4x slowdown shows in the minimum of pairs; the A/A item is judged at a level
# it cannot reach by chance (two-sided Wilcoxon, 20+ pairs), and the slowdown reaches it in every pair.
CONFIRM_RULES = Rules(
    seconds=1.0, min_pairs=20, max_pairs=200, precision=0.02, warmup_rounds=2, check_every=10
)
CONFIRM_ALPHA = 1e-4


def test_a_truly_slower_side_is_confirmed_on_fresh_copies_and_no_change_is_not_measured_again(
    tenant: int, database: dict[str, Any], database_url: str
) -> None:
    """bench run's confirmation (bench/steps/confirm_run.py) on the tests' database: the first
    measurement's calls by the report's rule, then the slower item measured again on two fresh clones
    of its state's database with new connections; the A/A item is not measured again."""
    scenarios: dict[str, Scenario] = {"slower": PeoplePage(spin=3.0), "same": PeoplePage()}
    items = [
        Item(
            name,
            Case("page", {"tenant": tenant}),
            "warm",
            SideSpec("plain", STATE),
            SideSpec("spinning", STATE),
        )
        for name in scenarios
    ]
    sides = LocalSides(scenarios, {STATE: database})
    try:
        ran = [(item, run_item(item, sides, CONFIRM_RULES, SEED, broken={})) for item in items]
    finally:
        sides.close()
    flags = confirm_run.flagged(ran, CONFIRM_RULES, 1, alpha=CONFIRM_ALPHA, threshold=THRESHOLD)
    assert [(f.item.scenario, f.called) for f in flags] == [("slower", {"time": "slower"})]
    target, made = dbs.Target(database_url, embedded=True), list[dbs.Target]()
    connections["default"].close()  # the template must have no other session

    def settings_of(copied: dbs.Target) -> dict[str, Any]:
        return {**database, "NAME": copied.name}

    try:
        done = confirm_run.measure_again(
            target, {STATE: target}, flags, scenarios, settings_of,
            copies=2, seed=SEED + 1, tag=clones.run_tag(), made=made,
            alpha=CONFIRM_ALPHA, threshold=THRESHOLD,
        )  # fmt: skip
    finally:
        clones.drop_all(target, made)
    assert done.error is None, done.error
    assert (done.enabled, done.seed, done.copies, len(made)) == (True, SEED + 1, 2, 2)
    assert [m.name.rsplit("_", 2)[1:] for m in made] == [["after", "again0"], ["after", "again1"]]
    assert done.prewarm.startswith("pg_prewarm of every table and index of each of the 2 copies")
    [again] = done.items
    assert (again.scenario, again.called, again.outcomes, again.error) == (
        "slower", {"time": "slower"}, {"time": "confirmed"}, None,
    )  # fmt: skip
    assert again.scheduled is not None
    assert again.baseline is not None
    assert again.candidate is not None
    # The second measurement: it agreed at its first look, the minimum of pairs (a 4x change needs no
    # more), over both fresh copies,
    # its raw rounds kept; the facts (plans, query count, rows) were not measured again.
    assert (again.scheduled.pairs, again.scheduled.stop) == (20, "agreed")
    assert again.looks[0] == 20
    assert again.alpha == CONFIRM_ALPHA / len(again.looks)
    for side in (again.baseline, again.candidate):
        assert side.ok
        assert side.timing is not None
        assert side.timing.rounds == 20
        assert set(side.timing.worker) == {0, 1}
        assert (side.plans, side.query_count, side.rows) == ((), None, None)
