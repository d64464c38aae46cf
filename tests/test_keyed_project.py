"""A project of the tests' own, tests/keys_project, measured end to end (issue 20, items 1-3). It keys
its tables by a varchar, a UUID from Python and a composite (ticket, day) key, with a unique slug and a
unique integer without a sequence besides, and has a OneToOneField (a unique foreign key) and a
multi-table child keyed by its parent link: no copy of their rows can take a fresh value, so their write
figures re-insert the tables' own rows; its migration 0002 adds one index to each table. Besides a
read, its scenarios lock rows in a transaction (select_for_update, a savepoint, on_commit) and write
(INSERT under a fixed key, UPDATE, DELETE).

`bench run --no-seed --keep-databases` on a database the test fills itself: the cost step's figures
(COPY and the ORM's save in both states and every pair, every migration timing with a writer inserting
copies of rows meanwhile, the sizes) all come back, no figure failed; the scenarios are measured in both
states, the writing one recorded as writing; the measured database and both kept copies hold exactly the
rows they held before.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from django_index_bench.bench import results
from django_index_bench.bench.costs.collect import WRITE_REPETITIONS
from django_index_bench.bench.pg import server as embedded
from django_index_bench.bench.rounds import isolation
from django_index_bench.bench.rounds.facts import TRANSACTION_CONTROL, keyword
from tests.cli import bench

Measured = tuple[results.Results, dict[str, tuple[object, ...]], Path]
PROJECT = Path(__file__).resolve().parent / "keys_project"
DATABASE = "keys_costs"
TABLES = {"keyed_ticket", "keyed_token", "keyed_visit", "keyed_badge", "keyed_escalation"}
# Rows of a table with a unique foreign key cannot be copied under fresh values: they are re-inserted.
REINSERTED = {"keyed_badge", "keyed_escalation"}
FILL = """
INSERT INTO keyed_ticket (code, title, opened, slug)
  SELECT 'T-' || lpad(i::text, 6, '0'), 'ticket ' || i, timestamptz '2026-01-01' + i * interval '1 hour',
         'ticket-' || i FROM generate_series(1, 60) i;
INSERT INTO keyed_token (id, ticket_id, issued, serial, payload)
  SELECT gen_random_uuid(), 'T-' || lpad((1 + i % 60)::text, 6, '0'),
         timestamptz '2026-02-01' + i * interval '1 minute', 1000 + i, jsonb_build_object('n', i)
  FROM generate_series(1, 300) i;
INSERT INTO keyed_visit (ticket_id, day, hits)
  SELECT 'T-' || lpad(t::text, 6, '0'), date '2026-03-01' + d, (t * d) % 97
  FROM generate_series(1, 60) t, generate_series(0, 4) d;
INSERT INTO keyed_badge (ticket_id, label)
  SELECT 'T-' || lpad(i::text, 6, '0'), 'badge ' || (i % 7) FROM generate_series(1, 40) i;
INSERT INTO keyed_escalation (ticket_ptr_id, level)
  SELECT 'T-' || lpad(i::text, 6, '0'), i % 3 FROM generate_series(1, 60, 2) i;
"""
CHECKSUM = """
SELECT (SELECT count(*) FROM keyed_ticket), (SELECT count(*) FROM keyed_token),
       (SELECT count(*) FROM keyed_visit), (SELECT count(*) FROM keyed_badge),
       (SELECT md5(string_agg(b::text, '|' ORDER BY id)) FROM keyed_badge b),
       (SELECT md5(string_agg(e::text, '|' ORDER BY ticket_ptr_id)) FROM keyed_escalation e),
       (SELECT md5(string_agg(t::text, '|' ORDER BY code)) FROM keyed_ticket t),
       (SELECT md5(string_agg(t::text, '|' ORDER BY serial)) FROM keyed_token t),
       (SELECT md5(string_agg(v::text, '|' ORDER BY ticket_id, day)) FROM keyed_visit v)
"""


@pytest.fixture(scope="module")
def filled(server_url: str) -> Iterator[str]:
    """The keyed project's database at its latest migration, with a few rows in each table."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    url = embedded.with_database(server_url, DATABASE)
    migrated = subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--settings", "keysite.settings", "-v", "0"],
        cwd=PROJECT,
        env={**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(PROJECT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(FILL)
        conn.execute("VACUUM ANALYZE")
    yield url
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def checksum(url: str) -> tuple[object, ...]:
    with psycopg.connect(url) as conn:
        row = conn.execute(CHECKSUM).fetchone()
    assert row is not None
    return tuple(row)


def kept_copies(server_url: str) -> list[str]:
    with psycopg.connect(server_url) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1", (DATABASE + r"\_%",)
        ).fetchall()
    return [str(name) for (name,) in rows]


@pytest.fixture(scope="module")
def measured(filled: str, server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Measured]:
    """The run's results (and its report beside them), and the checksum of the database and of each kept
    copy after it, by name."""
    unchanged = checksum(filled)
    out = tmp_path_factory.mktemp("keys")
    done = bench(
        "run", "--no-seed", "--quick", "--no-cold", "--no-load", "--no-progress", "--keep-databases",
        "--database", DATABASE, "--results-dir", str(out), cwd=PROJECT,
    )  # fmt: skip
    copies = kept_copies(server_url)
    try:
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        after = {DATABASE: checksum(filled)}
        after |= {name: checksum(embedded.with_database(server_url, name)) for name in copies}
        assert after[DATABASE] == unchanged
        report = bench("report", str(out / results.LATEST), "--output", str(out / "report"))
        assert report.returncode == 0, report.stderr
        yield results.load(out / results.LATEST), after, out / "report" / "PERFORMANCE_BASELINE_REPORT.md"
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            for name in copies:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_every_write_figure_of_every_key_type_is_measured(measured: Measured) -> None:
    run, _, _ = measured
    costs = run.costs
    assert costs is not None
    assert costs.ok, costs.error
    assert costs.failures == ()
    per_figure = Counter((w.table, w.method, w.state) for w in costs.writes)
    assert per_figure == {
        (table, method + ("_reinserted" if table in REINSERTED else ""), state): WRITE_REPETITIONS
        for table in TABLES
        for method in ("copy", "orm_create")
        for state in ("before", "after")
    }


def test_every_migration_timing_had_its_writer(measured: Measured) -> None:
    run, _, _ = measured
    assert run.costs is not None
    timed = {(m.migration, m.variant, m.direction) for m in run.costs.migrations}
    assert timed == {
        ("keyed.0002_indexes", variant, direction)
        for variant in ("plain", "concurrent")
        for direction in ("forward", "backward")
    }
    assert all(m.writes_during > 0 for m in run.costs.migrations)
    assert all(m.invalid_indexes == () for m in run.costs.migrations)


def test_sizes_cover_the_three_tables_and_their_new_indexes(measured: Measured) -> None:
    run, _, _ = measured
    assert run.costs is not None
    after = {s.relation for s in run.costs.sizes_after}
    assert {
        "ticket_opened_idx",
        "token_ticket_issued_idx",
        "visit_hits_idx",
        "badge_label_idx",
        "escalation_level_idx",
    } <= after
    assert {s.table for s in run.costs.sizes_before} == TABLES


def test_the_measured_copies_hold_the_rows_they_held_before(measured: Measured) -> None:
    run, after, _ = measured
    # Each state's copy, and the clones of it the rounds were spread over (name_for: "<state>_c<n>").
    clones = [f"{s.database}_c{n}" for s in run.states for n in range(1, run.schedule.copies)]
    assert run.schedule.copies == 4
    assert sorted(after) == sorted([DATABASE, *(s.database for s in run.states), *clones])
    assert len(set(after.values())) == 1


def test_the_writing_and_locking_scenarios_are_measured_in_both_states(measured: Measured) -> None:
    run, _, _ = measured
    assert run.schedule.isolation == isolation.ROLLED_BACK
    by = {(m.scenario, m.side): m for m in run.measurements}
    assert set(by) == {
        (s, side) for s in ("newest_tickets", "lock_newest", "churn") for side in ("before", "after")
    }
    for (scenario, _), m in by.items():
        assert m.ok, m.error
        assert m.timing is not None
        assert m.timing.rounds > 0
        assert m.writes == (scenario == "churn")
        assert not any(keyword(q) in TRANSACTION_CONTROL for q in m.queries)
    for side in ("before", "after"):
        locked = by[("lock_newest", side)]
        assert [keyword(q) for q in locked.queries] == ["SELECT", "SELECT"]
        assert "LockRows" in locked.plans[0].node_types
        churn = by[("churn", side)]
        # The newest ticket, the INSERT, its tokens' UPDATE, its visits' DELETE (fast: nothing cascades).
        assert [keyword(q) for q in churn.queries] == ["SELECT", "INSERT", "UPDATE", "DELETE"]
        assert sum("ModifyTable" in p.node_types for p in churn.plans) == 3
        assert churn.rows == 5 + 5  # 300 tokens over 60 tickets, 5 visit days each


def test_the_report_says_what_each_call_ran_in_and_which_scenario_wrote(measured: Measured) -> None:
    _, _, report = measured
    text = report.read_text(encoding="utf-8")
    assert (
        "- **Transactions and writes.** Every call (facts, warmup, rounds) ran in a "
        f"{isolation.ROLLED_BACK}: each round saw the same data. Scenarios that wrote (INSERT, UPDATE, "
        "DELETE or MERGE): `churn`;"
    ) in text


def test_the_writer_re_inserts_rows_of_a_table_with_a_unique_foreign_key_and_leaves_them(filled: str) -> None:
    from django_index_bench.bench.costs.writer import SteadyWriter

    unchanged = checksum(filled)
    with SteadyWriter(filled, "keyed_badge") as writer:
        time.sleep(0.3)
    assert writer.report is not None
    assert writer.report.inserts > 0
    assert checksum(filled) == unchanged


def test_the_report_says_which_tables_rows_were_re_inserted(measured: Measured) -> None:
    _, _, report = measured
    text = report.read_text(encoding="utf-8")
    assert "The rows of `keyed_badge`, `keyed_escalation` cannot be\ncopied beside themselves" in text
    assert "| keyed_badge | copy_reinserted |" in text
    assert "| keyed_badge | orm_create_reinserted |" in text
    assert "| keyed_ticket | copy |" in text
