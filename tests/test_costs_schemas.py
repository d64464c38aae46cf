"""The cost step on two states whose tables differ in columns (issue 25, Build item 4), on a copy of
examples/library run as a user runs it (a child `bench` in the copy's directory).

Between the before state (0001) and the after state (the latest), the copy's migrations add the index
(0002), add a NOT NULL column whose default Django drops again once the rows are filled (0003, so a row
that leaves it out is refused), and drop a column and rewrite the table (0004: CLUSTER). Every cost
figure must come back: COPY and the ORM's save in both states (each state's rows in its own columns),
each migration's timings with a writer inserting throughout (its inserts follow the columns as the
migration changes them), the sizes; no figure failed.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import psycopg
import pytest

from django_index_bench.bench import results
from django_index_bench.bench.costs.collect import WRITE_REPETITIONS
from django_index_bench.bench.costs.migrations import REPETITIONS
from django_index_bench.bench.pg import server as embedded
from tests.cli import bench
from tests.test_example_project import example_copy

DATABASE = "costs_schemas"
ADD_COLUMN = """from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_book_author_published_idx")]

    operations = [
        migrations.AddField("book", "subtitle", models.CharField(max_length=80, default="none")),
    ]
"""
DROP_AND_REWRITE = """from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_book_subtitle")]

    operations = [
        migrations.RemoveField("book", "edition"),
        migrations.RunSQL("CLUSTER catalog_book USING catalog_book_pkey", reverse_sql=migrations.RunSQL.noop),
    ]
"""


def project_copy(where: Path) -> Path:
    """The example with Book.subtitle added (0003) and Book.edition dropped (0004), models to match."""
    project = example_copy(where)
    models_py = project / "catalog" / "models.py"
    text = models_py.read_text(encoding="utf-8")
    edition = "    edition = models.SmallIntegerField(null=True)\n"
    assert text.count(edition) == 1
    models_py.write_text(
        text.replace(edition, '    subtitle = models.CharField(max_length=80, default="none")\n'),
        encoding="utf-8",
    )
    # Today's Book has a column the before state lacks: the scenarios read the columns both states have,
    # as the code that ran at each state would.
    scenarios = project / "catalog" / "bench_scenarios.py"
    text = scenarios.read_text(encoding="utf-8")
    ordered = '.order_by("-published")[:PAGE]'
    assert text.count(ordered) == 2
    both = '.only("id", "author_id", "title", "published")'
    scenarios.write_text(text.replace(ordered, both + ordered), encoding="utf-8")
    migrations = project / "catalog" / "migrations"
    (migrations / "0003_book_subtitle.py").write_text(ADD_COLUMN, encoding="utf-8")
    (migrations / "0004_drop_edition_and_rewrite.py").write_text(DROP_AND_REWRITE, encoding="utf-8")
    return project


def columns(url: str, table: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table,)
        ).fetchall()
    return {str(name) for (name,) in rows}


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> results.Results:
    project = project_copy(tmp_path_factory.mktemp("costs_schemas"))
    done = bench(
        "run", "--profile", "tiny", "--quick", "--no-cold", "--no-progress", "--keep-databases",
        "--scenario", "books_by_author", "--database", DATABASE, cwd=project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return results.load(project / "results" / results.LATEST)


def test_the_states_differ_in_columns(measured: results.Results, server_url: str) -> None:
    """What the test is about: the kept copies of the two states really hold different columns."""
    before, after = measured.states
    book_before = columns(embedded.with_database(server_url, before.database), "catalog_book")
    book_after = columns(embedded.with_database(server_url, after.database), "catalog_book")
    assert book_before - book_after == {"edition"}
    assert book_after - book_before == {"subtitle"}
    assert after.rewritten == ("catalog_book",)


def test_every_cost_figure_is_measured(measured: results.Results) -> None:
    costs = measured.costs
    assert costs is not None
    assert costs.error is None
    assert costs.failures == ()
    # Both methods, both states, every pair, on the table the migrations change.
    counted = Counter((w.table, w.method, w.state) for w in costs.writes)
    assert counted == {
        (table, method, state): WRITE_REPETITIONS
        for table in ("catalog_book",)
        for method in ("copy", "orm_create")
        for state in ("before", "after")
    }
    assert all(w.rows > 0 and w.seconds > 0 and w.wal_bytes > 0 for w in costs.writes)
    # Each migration with a table, as written (and CONCURRENTLY for the index), both directions, every
    # repetition, with the writer inserting throughout.
    timed = Counter((m.migration, m.variant, m.direction) for m in costs.migrations)
    expected = {
        ("catalog.0002_book_author_published_idx", variant, direction): REPETITIONS
        for variant in ("plain", "concurrent")
        for direction in ("forward", "backward")
    } | {
        (migration, "plain", direction): REPETITIONS
        for migration in ("catalog.0003_book_subtitle", "catalog.0004_drop_edition_and_rewrite")
        for direction in ("forward", "backward")
    }
    assert timed == expected
    assert all(m.writes_during > 0 for m in costs.migrations)
    assert {s.relation for s in costs.sizes_after} - {s.relation for s in costs.sizes_before} == {
        "book_author_published_idx"
    }
