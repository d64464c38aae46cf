"""A cost step that fails for real is recorded, not lost: `bench run` on a copy of examples/library whose
index migration also drops the table's primary key (as a table with a composite key or none would be).
The cost step cannot copy that table's rows in the "after" state; the run must still write its read
measurements, record the failure in the results file, print one line and exit 1, with no traceback.
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
ERROR = "RuntimeError: catalog_book has no single-column primary key: its rows cannot be copied"


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
    assert [line for line in done.stderr.splitlines() if line.startswith("failed:")] == [
        f"failed: costs: {ERROR}"
    ]
    run = results.load(project / "results" / results.LATEST)
    assert run.costs is not None
    assert (run.costs.ok, run.costs.error) == (False, ERROR)
    assert run.costs.database.startswith(f"{DATABASE}_r")
    assert run.costs.database.endswith("_costs_before")
    assert (run.costs.migrations, run.costs.sizes_before, run.costs.writes) == ((), (), ())
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
    assert f"> **The cost step FAILED:** `{ERROR}`." in text
    assert f"> **The cost step FAILED** (on the copy `{run.costs.database}`): `{ERROR}`." in text
    # collect_costs dropped its copies on the way out.
    with psycopg.connect(server_url) as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (DATABASE + r"\_%costs%",)
        ).fetchall()
    assert left == []
