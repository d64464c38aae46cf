"""Cost figures that fail for real are recorded, not lost: `bench run` on a copy of examples/library whose
index migration also drops the table's primary key (a table with none). The write figures cannot tell
rows copied into that table in the "after" state from its own, and the migration's writer cannot remove
its rows once the key is gone; each of those figures fails on its own and is named, the sizes are still
measured, the read measurements are all there, the run prints one line per failed figure and exits 1,
with no traceback.
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from django_index_bench.bench import results
from tests.cli import bench
from tests.test_example_project import INDEX_MIGRATION, example_copy

DATABASE = "costfail_run"
DROP_KEY = """
        migrations.RunSQL(
            "ALTER TABLE catalog_book DROP CONSTRAINT catalog_book_pkey",
            reverse_sql="ALTER TABLE catalog_book ADD PRIMARY KEY (id)",
        ),
"""
ERROR = "RuntimeError: catalog_book has no primary key: rows copied into it cannot be told from its own"


def test_a_failed_cost_step_keeps_the_read_measurements_and_fails_the_run(
    tmp_path: Path, server_url: str
) -> None:
    project = example_copy(tmp_path)
    migration = project / INDEX_MIGRATION
    text = migration.read_text(encoding="utf-8")
    migration.write_text(
        text.replace("    operations = [\n", "    operations = [" + DROP_KEY), encoding="utf-8"
    )
    done = bench(
        "run", "--profile", "tiny", "--quick", "--no-cold", "--no-load", "--no-progress",
        "--scenario", "books_by_author", "--database", DATABASE, cwd=project,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    failed = [line for line in done.stderr.splitlines() if line.startswith("failed:")]
    assert failed[:2] == [
        f"failed: costs: copy into catalog_book 1/6: {ERROR}",
        f"failed: costs: orm_create into catalog_book 1/6: {ERROR}",
    ]
    # The migration's first timed run: its writer could not remove its rows once the key was gone.
    assert failed[2:] == [f"failed: costs: catalog.0002_book_author_published_idx plain forward 1/3: {ERROR}"]
    run = results.load(project / "results" / results.LATEST)
    assert run.costs is not None
    assert (run.costs.ok, run.costs.error) == (True, None)
    assert [(f.figure, f.error) for f in run.costs.failures] == [
        ("copy into catalog_book 1/6", ERROR),
        ("orm_create into catalog_book 1/6", ERROR),
        ("catalog.0002_book_author_published_idx plain forward 1/3", ERROR),
    ]
    assert run.costs.database.startswith(f"{DATABASE}_r")
    assert run.costs.database.endswith("_costs_before")
    # The figures that did not fail are kept: the sizes in both states.
    assert {s.relation for s in run.costs.sizes_after} >= {"catalog_book", "book_author_published_idx"}
    assert {s.table for s in run.costs.sizes_before} == {"catalog_book"}
    assert (run.costs.migrations, run.costs.writes) == ((), ())
    # The read measurements were taken before the cost step and are all there.
    assert [(s.state, s.status) for s in run.states] == [("before", "ok"), ("after", "ok")]
    assert {(m.case, m.side) for m in run.measurements} == {
        (case, side) for case in ("heavy", "typical", "light") for side in ("before", "after")
    }
    assert all(m.ok for m in run.measurements)
    # The report says so where the cost figures would be.
    report = bench("report", cwd=project)
    assert report.returncode == 0, report.stderr
    text = (project / "report" / "PERFORMANCE_BASELINE_REPORT.md").read_text(encoding="utf-8")
    assert "> **Some cost figures FAILED** and are missing below" in text
    assert f"> - orm_create into catalog_book 1/6: `{ERROR}`" in text
    # collect_costs dropped its copies on the way out.
    with psycopg.connect(server_url) as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (DATABASE + r"\_%costs%",)
        ).fetchall()
    assert left == []
