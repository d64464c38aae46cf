"""Correlated columns in a seed plan (issue 20, item 5), seeded into real PostgreSQL: a derived field (one
moment an offset from another: a tracking row is created within the hour after it was received) and a
ranked assignment (the newest 40 rows by receiveddate get one accuracy, every other row another), and a
model hook (seed/hooks.py) that sets speed from two drawn moments."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from django_index_bench.bench.pg import db
from django_index_bench.bench.pg import server as embedded
from django_index_bench.seed import SeedInputError, ensure_seeded
from django_index_bench.seed.plan import read_plan
from django_index_bench.seed.plan_source import check, source
from tests.test_seed_plan import write

PLAN = """
[models."tenants.Tenant"]
rows = 3

[models."peoples.People"]
rows = 30

[models."attendance.Tracking"]
rows = 2_000
hook = "tests.seed_hooks:delay_as_speed"
fields.tenant = { via = "people.tenant" }
fields.receiveddate = { start = 2026-01-01, end = 2026-01-08 }
fields.created_at = { from = "receiveddate", offset = [0, 3600] }
fields.accuracy = { first = 40, order_by = "-receiveddate", set = 1.5, else = 25.0 }
"""
DATABASE = "plan_correlated"


@pytest.fixture(scope="module")
def seeded(server_url: str, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from django.core.management import call_command

    plan = read_plan(write(tmp_path_factory.mktemp("correlated"), PLAN))
    embedded.create_owned_database(server_url, DATABASE)
    url = embedded.with_database(server_url, DATABASE)
    db.switch_django(db.Target(url, embedded=False))
    try:
        call_command("migrate", verbosity=0)
        check(plan)
        ensure_seeded(url, source(plan, None, 5), progress=False)
    finally:
        db.switch_django(db.Target(database_url, embedded=False))
    yield url
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def one(url: str, query: str) -> tuple[object, ...]:
    with psycopg.connect(url) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return tuple(row)


def test_a_derived_moment_lies_within_its_offset_of_the_other(seeded: str) -> None:
    within, spread = one(
        seeded,
        "SELECT bool_and(created_at BETWEEN receiveddate AND receiveddate + interval '1 hour'),"
        " count(DISTINCT created_at - receiveddate) FROM tracking",
    )
    assert within is True
    assert int(str(spread)) > 1_000  # an offset per row, not one for all


def test_the_first_rows_of_the_order_get_the_ranked_value(seeded: str) -> None:
    assert one(seeded, "SELECT count(*) FILTER (WHERE accuracy = 1.5), count(*) FROM tracking") == (40, 2_000)
    assert one(seeded, "SELECT count(*) FILTER (WHERE accuracy = 25.0) FROM tracking") == (1_960,)
    newest = "SELECT accuracy FROM tracking ORDER BY receiveddate DESC, id LIMIT 40"
    assert one(seeded, f"SELECT bool_and(accuracy = 1.5) FROM ({newest}) AS n") == (True,)


def test_a_hook_sets_a_column_from_others(seeded: str) -> None:
    exact, nulls = one(
        seeded,
        "SELECT bool_and(speed = extract(epoch FROM created_at - receiveddate)), count(*) FILTER"
        " (WHERE speed IS NULL) FROM tracking",
    )
    assert exact is True
    assert 100 < int(str(nulls)) < 300  # about a tenth of 2,000


def test_a_hook_that_does_not_import_is_one_line(tmp_path: Path) -> None:
    text = PLAN.replace("tests.seed_hooks:delay_as_speed", "tests.seed_hooks:nothing_here")
    with pytest.raises(SeedInputError) as raised:
        check(read_plan(write(tmp_path, text)))
    assert str(raised.value).endswith(
        "models.\"attendance.Tracking\".hook: tests.seed_hooks has no function 'nothing_here'"
    )


@pytest.mark.parametrize(
    ("field", "message"),
    [
        (
            'created_at = { from = "tenant", offset = [0, 1] }',
            "expected another field of attendance.Tracking",
        ),
        ('created_at = { from = "speed", offset = [0, 1] }', "speed and created_at must be of one type"),
        ('created_at = { from = "nope", offset = [0, 1] }', "attendance.Tracking has no field 'nope'"),
        ('accuracy = { first = 3, order_by = "-identifier", set = 1, else = 2 }', "expected a number, date"),
        ('accuracy = { first = 3, order_by = "-speed", set = 1 }', "fields.accuracy.else: missing"),
        ('created_at = { from = "receiveddate", offset = [5, 1] }', "expected low <= high"),
    ],
)
def test_a_bad_correlated_field_is_one_line(tmp_path: Path, field: str, message: str) -> None:
    text = PLAN.replace(
        'fields.accuracy = { first = 40, order_by = "-receiveddate", set = 1.5, else = 25.0 }', ""
    )
    text = text.replace(
        'fields.created_at = { from = "receiveddate", offset = [0, 3600] }', f"fields.{field}"
    )
    with pytest.raises(SeedInputError) as raised:
        check(read_plan(write(tmp_path, text)))
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_ranked_field_may_order_by_a_derived_one(
    server_url: str, database_url: str, tmp_path: Path
) -> None:
    # The ranked field comes first in the plan and reads a derived field, which reads a drawn one: each is
    # drawn after what it reads, whatever the plan's order.
    text = PLAN.replace(
        'fields.created_at = { from = "receiveddate", offset = [0, 3600] }\n'
        'fields.accuracy = { first = 40, order_by = "-receiveddate", set = 1.5, else = 25.0 }',
        'fields.accuracy = { first = 40, order_by = "-created_at", set = 1.5, else = 25.0 }\n'
        'fields.created_at = { from = "receiveddate", offset = [0, 3600] }',
    ).replace('hook = "tests.seed_hooks:delay_as_speed"\n', "")
    from django.core.management import call_command

    plan = read_plan(write(tmp_path, text))
    name = "plan_correlated_chain"
    embedded.create_owned_database(server_url, name)
    url = embedded.with_database(server_url, name)
    db.switch_django(db.Target(url, embedded=False))
    try:
        call_command("migrate", verbosity=0)
        check(plan)
        ensure_seeded(url, source(plan, None, 5), progress=False)
        newest = "SELECT accuracy FROM tracking ORDER BY created_at DESC, id LIMIT 40"
        assert one(url, f"SELECT bool_and(accuracy = 1.5) FROM ({newest}) AS n") == (True,)
        assert one(url, "SELECT count(*) FILTER (WHERE accuracy = 1.5) FROM tracking") == (40,)
    finally:
        db.switch_django(db.Target(database_url, embedded=False))
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_a_ranked_field_cannot_order_by_a_ranked_one(tmp_path: Path) -> None:
    text = PLAN.replace(
        'fields.created_at = { from = "receiveddate", offset = [0, 3600] }',
        'fields.speed = { first = 5, order_by = "accuracy", set = 1.0, else = 2.0 }',
    )
    with pytest.raises(SeedInputError) as raised:
        check(read_plan(write(tmp_path, text)))
    assert str(raised.value).endswith("fields.speed.order_by: its field must not be ranked itself")
