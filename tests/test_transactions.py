"""Scenarios that use transactions and write, measured in process on real PostgreSQL (issue 20, items 1-2).

Both sides are connections of their own to the tests' database, as in test_executor; the scenarios are
the tests' own (never registered). Each call runs in a transaction rolled back afterwards, so the data
after the item is the data before it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, connections, transaction

from django_index_bench.bench.results import Measurement
from django_index_bench.bench.rounds.executor import ItemResult, run_item
from django_index_bench.bench.rounds.facts import keyword
from django_index_bench.bench.rounds.schedule import Item, Rules, SideSpec
from django_index_bench.bench.rounds.sides import LocalSides
from django_index_bench.bench.scenarios import Case, Outcome, Scenario
from project.apps.peoples.models import People
from tests.factories import make_people, make_tenant

RULES = Rules(seconds=0.5, min_pairs=4, max_pairs=4, warmup_rounds=2, check_every=2)
SEED = 20261204


class _TwoStates(Scenario):
    kind = "migration"
    baseline = "before"
    candidate = "after"
    group = "tests"

    def draw_cases(self) -> list[Case]:
        raise NotImplementedError  # the tests hand the executor their case


class LockAndCount(_TwoStates):
    """atomic, select_for_update, a nested atomic (a savepoint) and an on_commit callback."""

    name = "test_lock_and_count"
    title = "Lock a tenant's first people, then count them in a savepoint"
    description = "atomic(): select_for_update()[:5]; atomic(): count(); on_commit"
    callbacks = 0

    def execute(self, side: str, params: dict[str, Any]) -> Outcome:
        with transaction.atomic():
            locked = list(
                People.objects.select_for_update().filter(tenant_id=params["tenant"]).order_by("id")[:5]
            )
            with transaction.atomic():
                count = People.objects.filter(tenant_id=params["tenant"]).count()
            transaction.on_commit(self._called)
        return Outcome(rows=len(locked) + count)

    @classmethod
    def _called(cls) -> None:
        cls.callbacks += 1


class Churn(_TwoStates):
    """INSERT a person under a unique login (a second INSERT would violate it), UPDATE and DELETE some."""

    name = "test_churn"
    title = "Insert, update and delete a tenant's people"
    description = "create(); filter().update(); filter().delete(); count()"

    def execute(self, side: str, params: dict[str, Any]) -> Outcome:
        tenant = params["tenant"]
        first = People.objects.filter(tenant_id=tenant).order_by("id").first()
        assert first is not None
        with transaction.atomic(durable=True):  # the app's own durable block still opens
            values = {f.attname: getattr(first, f.attname) for f in People._meta.concrete_fields}
            del values["id"]
            People.objects.create(**values | {"loginid": f"churn-{tenant}", "peoplecode": f"CHURN-{tenant}"})
        People.objects.filter(tenant_id=tenant, isverified=True).update(designation="Churned")
        People.objects.filter(tenant_id=tenant, peoplecode__endswith="7").delete()
        return Outcome(rows=People.objects.filter(tenant_id=tenant).count())


@pytest.fixture(scope="module")
def tenant(migrated_schema: None) -> Iterator[int]:
    """One tenant with 40 people, committed: each side reads them on a connection of its own."""
    created = make_tenant(90_020)
    make_people(created, 40)
    yield created.pk
    People.objects.filter(tenant=created).delete()
    created.delete()


def run(scenario: Scenario, tenant: int) -> ItemResult:
    database = copy.deepcopy(connections["default"].settings_dict)
    sides_ = SideSpec("before", "before"), SideSpec("after", "after")
    item = Item(scenario.name, Case("one", {"tenant": tenant}), "warm", *sides_)
    sides = LocalSides({scenario.name: scenario}, {"before": database, "after": database})
    try:
        return run_item(item, sides, RULES, SEED, broken={})
    finally:
        sides.close()


def fingerprint(tenant: int) -> tuple[int, str]:
    """The tenant's people: how many, and an md5 over every column of every row."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), md5(coalesce(string_agg(p::text, '|' ORDER BY p.id), ''))"
            " FROM peoples_people p WHERE tenant_id = %s",
            [tenant],
        )
        count, digest = cursor.fetchone()
    return int(count), str(digest)


def both_ok(result: ItemResult) -> tuple[Measurement, Measurement]:
    for side in (result.baseline, result.candidate):
        assert side.ok, side.error
        assert side.timing is not None
        assert side.timing.rounds == RULES.max_pairs
    return result.baseline, result.candidate


def test_a_scenario_inside_atomic_with_select_for_update(tenant: int) -> None:
    LockAndCount.callbacks = 0
    before, after = both_ok(run(LockAndCount(), tenant))
    for side in (before, after):
        assert side.rows == 5 + 40
        # Transaction control is never planned, nor counted as the app's queries.
        assert side.query_count == 2
        assert [keyword(q) for q in side.queries] == ["SELECT", "SELECT"]
        assert "FOR UPDATE" in side.queries[0]
        assert len(side.plans) == 2
        assert side.plans[0].node_types[:2] == ("Limit", "LockRows")
        assert side.writes is False
    # on_commit ran in every call, as a commit would run it: each side's two fact calls (warming,
    # recorded), its warmup rounds and its pairs.
    assert LockAndCount.callbacks == 2 * (2 + RULES.warmup_rounds + RULES.max_pairs)


def test_a_writing_scenario_leaves_the_data_as_it_was(tenant: int) -> None:
    unchanged = fingerprint(tenant)
    before, after = both_ok(run(Churn(), tenant))
    assert fingerprint(tenant) == unchanged
    assert People.objects.filter(loginid=f"churn-{tenant}").count() == 0
    count = unchanged[0]
    deleted = People.objects.filter(tenant_id=tenant, peoplecode__endswith="7").count()
    for side in (before, after):
        assert side.writes is True
        # Every call started from the same data: one row in, the same rows out.
        assert side.rows == count + 1 - deleted
        kinds = [keyword(q) for q in side.queries]
        # delete() collects the rows, then deletes what points at them and then them: three DELETEs.
        assert kinds == ["SELECT", "INSERT", "UPDATE", "SELECT", "DELETE", "DELETE", "DELETE", "SELECT"]
        # Each write planned with EXPLAIN ANALYZE inside a savepoint rolled back at once: the INSERT ran
        # twice per recorded call without violating the unique login.
        assert len(side.plans) == 8
        assert sum("ModifyTable" in p.node_types for p in side.plans) == 5


def test_the_first_keyword_tells_transaction_control_from_what_is_planned() -> None:
    assert keyword("  begin") == "BEGIN"
    assert keyword('SAVEPOINT "s1_x"') == "SAVEPOINT"
    assert keyword('RELEASE SAVEPOINT "s1_x"') == "RELEASE"
    assert keyword("/* app */ -- note\n (SELECT 1) UNION (SELECT 2)") == "SELECT"
    assert keyword("WITH moved AS (DELETE FROM t RETURNING *) SELECT count(*) FROM moved") == "WITH"
    assert keyword("") == ""
