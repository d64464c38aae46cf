"""`bench run --no-seed`: a database of the user's (a copy of real data) is measured as it is, on
copies of it; the original is never migrated, seeded or marked, and still may not be changed."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

from django_index_bench.bench import results
from django_index_bench.bench.pg import server as embedded
from tests.cli import bench
from tests.test_bad_inputs import one_line_error

STAGING = "staging_snapshot"


def _state(url: str) -> tuple[list[tuple[str, str]], list[str], str | None]:
    """What a run must leave alone: the applied migrations, the indexes, the database's comment."""
    with psycopg.connect(url, autocommit=True) as conn:
        applied = conn.execute("SELECT app, name FROM django_migrations ORDER BY id").fetchall()
        indexes = conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
        comment = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()"
        ).fetchone()
    return (
        [(str(a), str(n)) for a, n in applied],
        [str(i) for (i,) in indexes],
        comment[0] if comment else None,
    )


def test_a_foreign_database_is_measured_on_copies_and_left_as_it_was(tmp_path: Path, server_url: str) -> None:
    seeded = bench("seed", "--profile", "tiny", "--database", "no_seed_source", "--no-progress")
    assert seeded.returncode == 0, seeded.stderr
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(STAGING)))
        # A plain copy, made outside the harness: it does not carry the harness's mark.
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE no_seed_source").format(sql.Identifier(STAGING)))
    staging = embedded.with_database(server_url, STAGING)
    before = _state(staging)
    assert before[2] is None

    refused = bench("run", "--database", STAGING, "--quick", "--results-dir", str(tmp_path / "refused"))
    assert "refusing to touch database 'staging_snapshot'" in one_line_error(refused)

    done = bench(
        "run", "--no-seed", "--database", STAGING, "--quick", "--no-cold", "--no-costs", "--no-progress",
        "--scenario", "tracking_device", "--results-dir", str(tmp_path / "results"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run = results.load(tmp_path / "results" / results.LATEST)
    assert run.dataset.seeded is False
    assert run.dataset.fingerprint == "as is: staging_snapshot"
    assert [(s.state, s.status) for s in run.states] == [("before", "ok"), ("after", "ok")]
    assert all(s.database != STAGING for s in run.states)
    after = [m for m in run.measurements if m.side == "after" and m.case == "heavy"]
    assert "tracking_device_idx" in {name for m in after for plan in m.plans for name in plan.index_names}
    assert _state(staging) == before


def test_no_seed_needs_an_existing_database(tmp_path: Path) -> None:
    done = bench("run", "--no-seed", "--database", "no_such_snapshot", "--results-dir", str(tmp_path))
    assert one_line_error(done) == (
        "bench: error: database 'no_such_snapshot' does not exist on the server; "
        "--no-seed measures an existing one"
    )
