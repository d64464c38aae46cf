"""The cost step on tables without an integer key from a sequence (issue 20, item 3): tests/keys_project
keys its tables by a varchar, a UUID from Python and a composite (ticket, day) key, with a unique slug and
a unique integer without a sequence besides; its migration 0002 adds one index to each table.

`bench run --no-seed` on a database the test fills itself: every write figure (COPY and the ORM's save,
both states, every pair), every migration timing (with a writer inserting copies of rows meanwhile) and
the sizes come back, no figure failed, and the measured database is as it was.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from django_index_bench.bench import results
from django_index_bench.bench.costs.collect import WRITE_REPETITIONS
from django_index_bench.bench.pg import server as embedded
from tests.cli import bench

PROJECT = Path(__file__).resolve().parent / "keys_project"
DATABASE = "keys_costs"
TABLES = {"keyed_ticket", "keyed_token", "keyed_visit"}
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
"""
CHECKSUM = """
SELECT (SELECT count(*) FROM keyed_ticket), (SELECT count(*) FROM keyed_token),
       (SELECT count(*) FROM keyed_visit),
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


@pytest.fixture(scope="module")
def measured(filled: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[results.Results, str]:
    unchanged = checksum(filled)
    out = tmp_path_factory.mktemp("keys")
    done = bench(
        "run", "--no-seed", "--quick", "--no-cold", "--no-load", "--no-progress",
        "--database", DATABASE, "--results-dir", str(out), cwd=PROJECT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert checksum(filled) == unchanged
    return results.load(out / results.LATEST), done.stderr


def test_every_write_figure_of_every_key_type_is_measured(measured: tuple[results.Results, str]) -> None:
    run, _ = measured
    costs = run.costs
    assert costs is not None
    assert costs.ok, costs.error
    assert costs.failures == ()
    per_figure = Counter((w.table, w.method, w.state) for w in costs.writes)
    assert per_figure == {
        (table, method, state): WRITE_REPETITIONS
        for table in TABLES
        for method in ("copy", "orm_create")
        for state in ("before", "after")
    }


def test_every_migration_timing_had_its_writer(measured: tuple[results.Results, str]) -> None:
    run, _ = measured
    assert run.costs is not None
    timed = {(m.migration, m.variant, m.direction) for m in run.costs.migrations}
    assert timed == {
        ("keyed.0002_indexes", variant, direction)
        for variant in ("plain", "concurrent")
        for direction in ("forward", "backward")
    }
    assert all(m.writes_during > 0 for m in run.costs.migrations)
    assert all(m.invalid_indexes == () for m in run.costs.migrations)


def test_sizes_cover_the_three_tables_and_their_new_indexes(measured: tuple[results.Results, str]) -> None:
    run, _ = measured
    assert run.costs is not None
    after = {s.relation for s in run.costs.sizes_after}
    assert {"ticket_opened_idx", "token_ticket_issued_idx", "visit_hits_idx"} <= after
    assert {s.table for s in run.costs.sizes_before} == TABLES
