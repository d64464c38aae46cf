"""What an index costs, measured on a real PostgreSQL at the tiny profile: the shapes of the figures
(repetitions, pairs, both tables, the stall distribution, the rollback), never their speed."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from psycopg import sql

from django_index_bench.bench import config, results
from django_index_bench.bench.costs.collect import WRITE_REPETITIONS, changed_tables, collect_costs
from django_index_bench.bench.costs.migrations import REPETITIONS
from django_index_bench.bench.costs.sizes import relation_sizes
from django_index_bench.bench.costs.writes import copy_cost, orm_create_cost
from django_index_bench.bench.pg import db
from django_index_bench.bench.pg import server as embedded
from django_index_bench.bench.results import Costs
from django_index_bench.bench.steps.states import move_to, resolve_states
from django_index_bench.reports import tradeoff
from tests.cli import bench
from tests.sample_results import sample_results

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

DATABASE = "bench_costs"
TABLES = {"tracking", "journal_journalentry"}
TRACKING = "attendance.0031_add_tracking_performance_indexes"
JOURNAL = "journal.0016_optimize_entry_indexes"

SAMPLE = config.load(Path(__file__).resolve().parent.parent / "bench.toml")


def test_relation_sizes_match_pg_relation_size(db: BaseDatabaseWrapper) -> None:
    sizes = relation_sizes(["tracking"])
    kinds = {s.relation: s.kind for s in sizes}
    assert kinds["tracking"] == "table"
    assert kinds["tracking_device_idx"] == "index"
    with db.cursor() as cursor:
        for size in sizes:
            cursor.execute("SELECT pg_relation_size(%s::regclass)", [size.relation])
            assert size.bytes == cursor.fetchone()[0]
    # An empty btree still has its metapage: every index has a positive size.
    assert all(s.bytes > 0 for s in sizes if s.kind == "index")


@pytest.fixture(scope="module")
def seeded(server_url: str, database_url: str) -> Iterator[db.Target]:
    """A tiny seeded database, with Django pointed at it; back at the tests' database afterwards."""
    done = bench("seed", "--profile", "tiny", "--seed", "3", "--database", DATABASE, "--no-progress")
    assert done.returncode == 0, done.stderr
    target = db.Target(embedded.with_database(server_url, DATABASE), embedded=True)
    db.switch_django(target)
    try:
        yield target
    finally:
        db.switch_django(db.Target(database_url, embedded=True))


@pytest.fixture(scope="module")
def costs(seeded: db.Target) -> Costs:
    states = resolve_states(SAMPLE.before, SAMPLE.after)
    found = collect_costs(
        seeded, states, f"{DATABASE}_rtest_costs", copy_rows=300, orm_rows=20, progress=False
    )
    db.switch_django(seeded)
    return found


def count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    assert row is not None
    return int(row[0])


def test_the_tables_come_from_the_migrations_between_the_states(seeded: db.Target) -> None:
    before, after = resolve_states(SAMPLE.before, SAMPLE.after)
    move_to(before)
    assert changed_tables(after) == ["tracking", "journal_journalentry"]


def test_a_write_repetition_leaves_the_table_as_it_found_it(seeded: db.Target) -> None:
    for table in sorted(TABLES):
        rows = count(seeded.url, table)
        copy = copy_cost(seeded.url, table, 50, "before", pair=0, first=True)
        orm = orm_create_cost(seeded.url, table, 10, "before", pair=0, first=True)
        assert (copy.rows, orm.rows) == (50, 10)
        assert copy.wal_bytes > 0
        assert orm.wal_bytes > 0
        assert count(seeded.url, table) == rows, table


def test_every_write_figure_is_paired_and_alternated_for_both_tables(costs: Costs) -> None:
    assert WRITE_REPETITIONS >= 5
    assert costs.order == "alternating"
    assert set(costs.databases) == {"before", "after"}
    figures = Counter((w.table, w.method, w.state) for w in costs.writes)
    assert figures == {
        (table, method, state): WRITE_REPETITIONS
        for table in TABLES
        for method in ("copy", "orm_create")
        for state in ("before", "after")
    }
    for w in costs.writes:
        # Pair p ran before first when p is even, after first when it is odd (A B, B A, ...).
        assert w.first == ((w.pair % 2 == 0) == (w.state == "before")), w
        assert w.seconds > 0
        assert w.wal_bytes > 0
    pairs = {(w.table, w.method, w.state): sorted(x.pair for x in costs.writes if x.table == w.table
             and x.method == w.method and x.state == w.state) for w in costs.writes}  # fmt: skip
    assert set(map(tuple, pairs.values())) == {tuple(range(WRITE_REPETITIONS))}


def test_every_migration_is_repeated_forward_and_back_in_both_variants(costs: Costs) -> None:
    assert REPETITIONS >= 3
    runs = Counter((m.migration, m.variant, m.direction) for m in costs.migrations)
    assert runs == {
        (migration, variant, direction): REPETITIONS
        for migration in (TRACKING, JOURNAL)
        for variant in ("plain", "concurrent")
        for direction in ("forward", "backward")
    }
    locks = {(m.migration, m.variant, m.direction): m.lock for m in costs.migrations}
    assert locks == {
        (TRACKING, "plain", "forward"): "SHARE",
        (TRACKING, "plain", "backward"): "ACCESS EXCLUSIVE",  # DROP INDEX
        (TRACKING, "concurrent", "forward"): "SHARE UPDATE EXCLUSIVE",
        (TRACKING, "concurrent", "backward"): "SHARE UPDATE EXCLUSIVE",
        (JOURNAL, "plain", "forward"): "ACCESS EXCLUSIVE",  # 0016 starts with DROP INDEX
        (JOURNAL, "plain", "backward"): "ACCESS EXCLUSIVE",
        (JOURNAL, "concurrent", "forward"): "SHARE UPDATE EXCLUSIVE",
        (JOURNAL, "concurrent", "backward"): "SHARE UPDATE EXCLUSIVE",
    }
    assert {m.table for m in costs.migrations} == TABLES


def test_the_writers_stall_distribution_and_the_lock_time_are_recorded(costs: Costs) -> None:
    for m in costs.migrations:
        assert m.stall_p50_s is not None
        assert m.stall_p99_s is not None
        assert 0 < m.stall_p50_s <= m.stall_p99_s <= m.max_write_stall_s, m
        assert m.writes_during >= 1
        assert m.lock_held_s is not None
        assert 0 < m.lock_held_s <= m.seconds, m
        assert m.statements
        if m.lock in tradeoff.BLOCKS_WRITERS:
            # An insert queued behind the lock and waited for a good part of the time it was held. Not
            # "nearly all of it": the writer's process can be descheduled for tens of ms on a busy machine
            # (seen: a 28 ms lock, a 13 ms longest wait), so it may join the queue late.
            assert m.max_write_stall_s >= 0.25 * m.lock_held_s, m
            assert m.max_write_stall_s > m.stall_p50_s, m


def test_no_variant_leaves_an_invalid_index(costs: Costs) -> None:
    concurrent = [m for m in costs.migrations if m.variant == "concurrent"]
    assert len(concurrent) == 2 * 2 * REPETITIONS
    assert all(m.invalid_indexes == () for m in costs.migrations)


def test_sizes_cover_both_tables_in_both_states(costs: Costs) -> None:
    for sizes in (costs.sizes_before, costs.sizes_after):
        assert {s.table for s in sizes} == TABLES
    new = {"tracking_people_date_idx", "journal_user_ts_desc_idx", "journal_type_ts_desc_idx"}
    assert not new & {s.relation for s in costs.sizes_before}
    assert new <= {s.relation for s in costs.sizes_after}


def test_the_costs_round_trip_through_the_results_file(costs: Costs) -> None:
    run = dataclasses.replace(sample_results(), costs=costs)
    assert results.from_dict(json.loads(results.to_json(run))) == run
