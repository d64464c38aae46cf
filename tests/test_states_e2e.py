"""States whose tables differ physically, reads tied to their tables, and seed data tied to its state,
on a copy of examples/library run as a user runs it (a child `bench` in the copy's directory).

The copy differs from the example in two ways: its scenarios' groups name no table ("front_page",
"controls"), and a third migration rewrites catalog_book (CLUSTER), as a migration that changes a
column's type would: its new storage has an empty visibility map until VACUUM.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from matplotlib.figure import Figure

from django_index_bench.bench import results
from django_index_bench.bench.pg import server as embedded
from django_index_bench.reports import method, tradeoff, tradeoff_charts
from django_index_bench.reports.analysis import analyze
from tests.cli import bench
from tests.test_example_project import example_copy

DATABASE = "states_run"
REWRITE = """from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_book_author_published_idx")]

    operations = [
        migrations.RunSQL(
            "CLUSTER catalog_book USING catalog_book_pkey", reverse_sql=migrations.RunSQL.noop
        ),
    ]
"""


def project_copy(where: Path) -> Path:
    project = example_copy(where)
    scenarios = project / "catalog" / "bench_scenarios.py"
    text = scenarios.read_text(encoding="utf-8")
    assert text.count('group = "catalog"') == 2
    text = text.replace('group = "catalog"', 'group = "front_page"', 1).replace(
        'group = "catalog"', 'group = "controls"', 1
    )
    scenarios.write_text(text, encoding="utf-8")
    (project / "catalog" / "migrations" / "0003_cluster_books.py").write_text(REWRITE, encoding="utf-8")
    return project


def set_before(project: Path, migration: str) -> None:
    config = project / "bench.toml"
    text = config.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.startswith("migrations = { catalog"))
    config.write_text(text.replace(old, f'migrations = {{ catalog = "{migration}" }}'), encoding="utf-8")


def seed(project: Path, *args: str) -> tuple[int, str, str]:
    done = bench("seed", "--profile", "tiny", "--no-progress", "--database", DATABASE, *args, cwd=project)
    return done.returncode, done.stdout, done.stderr


def applied(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT name FROM django_migrations WHERE app = 'catalog'").fetchall()
    return {str(name) for (name,) in rows}


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, results.Results]:
    project = project_copy(tmp_path_factory.mktemp("states"))
    done = bench(
        "run", "--profile", "tiny", "--quick", "--no-cold", "--no-progress", "--keep-databases",
        "--database", DATABASE, cwd=project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return project, results.load(project / "results" / results.LATEST)


def test_the_move_vacuums_and_records_the_rewritten_table(
    measured: tuple[Path, results.Results], server_url: str
) -> None:
    _, run = measured
    before, after = run.states
    assert (before.maintenance, before.rewritten) == ("VACUUM (ANALYZE)", ())
    assert (after.maintenance, after.rewritten) == ("VACUUM (ANALYZE)", ("catalog_book",))
    assert after.migrations == (
        "catalog.0002_book_author_published_idx",
        "catalog.0003_cluster_books",
    )
    # The kept copy of the after state: its rewritten table is all-visible again, as VACUUM leaves it.
    with psycopg.connect(embedded.with_database(server_url, after.database)) as conn:
        pages = conn.execute(
            "SELECT relpages, relallvisible FROM pg_class WHERE relname = 'catalog_book'"
        ).fetchone()
    assert pages is not None
    assert pages[0] > 0
    assert pages[1] == pages[0]


def test_reads_are_tied_to_the_table_their_plans_read(measured: tuple[Path, results.Results]) -> None:
    project, run = measured
    assert {m.relations for m in run.measurements} == {("catalog_book",)}
    analysis = analyze(run)
    assert {c.scenario.group for c in analysis.reading("catalog_book")} == {"front_page", "controls"}
    assert len(analysis.reading("catalog_book")) == 6  # 2 scenarios x heavy, typical, light
    speedup = tradeoff.read_speedup(analysis, "catalog_book")
    assert "of 6 cases reading `catalog_book`" in speedup
    axes = Figure().subplots()
    assert tradeoff_charts._reads(axes, analysis, "catalog_book")
    assert axes.get_title() == "What it buys: reads"

    done = bench("report", cwd=project)
    assert done.returncode == 0, done.stderr
    text = (project / "report" / "PERFORMANCE_BASELINE_REPORT.md").read_text(encoding="utf-8")
    assert f"reads: {speedup}" in text
    assert "no read measurements" not in text


def test_an_a_a_run_puts_both_sides_at_the_after_state(measured: tuple[Path, results.Results]) -> None:
    """The report's advice is `bench run --aa`; it runs the configuration's after state twice, on the
    data seeded at the before state (reused, not seeded again)."""
    project, run = measured
    assert method.aa_command(run) == "bench run --aa --profile tiny"
    done = bench(
        "run", "--aa", "--profile", "tiny", "--quick", "--no-cold", "--no-costs", "--no-progress",
        "--scenario", "books_in_genre", "--database", DATABASE, "--results-dir", "aa", cwd=project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    aa = results.load(project / "aa" / results.LATEST)
    assert aa.dataset.reused
    assert [(s.state, s.targets) for s in aa.states] == [
        ("before", {"catalog": "0003_cluster_books"}),
        ("after", {"catalog": "0003_cluster_books"}),
    ]
    indexes = {m.side: {i for p in m.plans for i in p.index_names} for m in aa.measurements}
    assert indexes["before"] == indexes["after"]


def test_seed_data_follows_the_before_state(measured: tuple[Path, results.Results], server_url: str) -> None:
    project, _ = measured
    url = embedded.with_database(server_url, DATABASE)
    code, out, err = seed(project)
    assert (code, err) == (0, "")
    assert out.startswith(f"reused: {DATABASE} already holds seed 42")
    assert applied(url) == {"0001_initial"}

    set_before(project, "0002")
    code, out, err = seed(project, "--no-reseed")
    assert code == 2
    assert err.splitlines() == [
        "bench: error: --no-reseed: the database does not hold the data asked for (it was seeded at "
        "another schema state); run without --no-reseed to seed it again, or start over with "
        "`bench db reset`"
    ]
    assert applied(url) == {"0001_initial"}  # nothing destroyed

    code, out, err = seed(project)  # the state changed: seeded again, by itself, at the new state
    assert code == 0, err
    assert "reused" not in out
    assert "catalog_book" in out
    assert applied(url) == {"0001_initial", "0002_book_author_published_idx"}
    with psycopg.connect(url) as conn:
        marker = conn.execute("SELECT state FROM bench_seed_marker").fetchone()
        books = conn.execute("SELECT count(*) FROM catalog_book").fetchone()
    assert marker is not None
    assert marker[0]["catalog"] == "0002_book_author_published_idx"
    assert books == (5_000,)

    code, out, err = seed(project, "--no-reseed", "--seed", "7")
    assert code == 2
    assert err.splitlines() == [
        "bench: error: --no-reseed: the database does not hold the data asked for (it was seeded with "
        "another seed, plan or row counts); run without --no-reseed to seed it again, or start over with "
        "`bench db reset`"
    ]


def test_db_reset_starts_over(measured: tuple[Path, results.Results], server_url: str) -> None:
    project, _ = measured
    url = embedded.with_database(server_url, DATABASE)
    done = bench("db", "reset", "--database", DATABASE, cwd=project)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"reset: database {DATABASE} is empty; the next bench seed or run seeds it\n"
    with psycopg.connect(url) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
    assert tables == (0,)
    assert embedded.is_owned(url)
    code, out, err = seed(project)
    assert code == 0, err
    assert "reused" not in out


def test_db_reset_refuses_a_database_the_harness_did_not_create(server_url: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS not_ours_reset")
        conn.execute("CREATE DATABASE not_ours_reset")
    done = bench("db", "reset", "--database", "not_ours_reset")
    assert done.returncode == 2
    assert done.stderr.startswith("bench: error: refusing to touch database 'not_ours_reset'")
    assert len(done.stderr.splitlines()) == 1
    with psycopg.connect(server_url, autocommit=True) as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = 'not_ours_reset'").fetchone() == (1,)


ADD_COLUMN = """from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_book_author_published_idx")]

    operations = [
        migrations.AddField("book", "subtitle", models.CharField(max_length=80, default="")),
    ]
"""


def columns(url: str, table: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY 1", (table,)
        ).fetchall()
    return [str(name) for (name,) in rows]


def test_a_plan_is_seeded_at_the_older_state_its_models_had_then(tmp_path: Path, server_url: str) -> None:
    """Today's Book has a subtitle that migration 0003 adds; the before state (0001) has no such column.
    The plan is read against the models at 0001 (Django's migration state), so the rows load there; the
    column is the migrations' to add, as in production."""
    project = example_copy(tmp_path)
    models_py = project / "catalog" / "models.py"
    text = models_py.read_text(encoding="utf-8")
    anchor = "    edition = models.SmallIntegerField(null=True)\n"
    models_py.write_text(
        text.replace(anchor, anchor + '    subtitle = models.CharField(max_length=80, default="")\n'),
        encoding="utf-8",
    )
    (project / "catalog" / "migrations" / "0003_book_subtitle.py").write_text(ADD_COLUMN, encoding="utf-8")
    done = bench("seed", "--profile", "tiny", "--no-progress", "--database", "states_older", cwd=project)
    assert done.returncode == 0, done.stderr
    url = embedded.with_database(server_url, "states_older")
    assert applied(url) == {"0001_initial"}
    assert "subtitle" not in columns(url, "catalog_book")
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM catalog_book").fetchone() == (5_000,)

    again = bench("seed", "--profile", "tiny", "--no-progress", "--database", "states_older", cwd=project)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("reused: states_older already holds seed 42")
