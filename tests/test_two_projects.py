"""One database, one project (issue 20, item 6): the sample seeds a database, then examples/library is
pointed at the same one. Its run is refused with one line naming both projects, exit 2, the sample's data
untouched; with --force-seed it empties the database and seeds it for itself, and the marker then names
it. A copy of the library in another directory is the same project. A marker from before projects were
recorded is judged by the apps in the migration history.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from django_index_bench.bench.pg import server as embedded
from tests.cli import REPO, bench
from tests.test_example_project import example_copy

DATABASE = "two_projects"
SAMPLE = REPO / "bench.toml"
HOOK = "hook project.seeding.source:source"


@pytest.fixture(scope="module")
def url(server_url: str) -> Iterator[str]:
    yield embedded.with_database(server_url, DATABASE)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def marker(url: str) -> tuple[str | None, str | None]:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT project, plan FROM bench_seed_marker").fetchone()
    assert row is not None
    return row[0], row[1]


def run_library(project: Path, url: str, *extra: str) -> tuple[int, list[str]]:
    """The library's run, pointed at the sample's database by DATABASE_URL alone, as the issue's user did."""
    done = bench(
        "run", "--profile", "tiny", "--quick", "--no-cold", "--no-load", "--no-costs", "--no-progress",
        "--scenario", "books_by_author", *extra, cwd=project, env={"DATABASE_URL": url},
    )  # fmt: skip
    assert "Traceback" not in done.stderr
    return done.returncode, done.stderr.splitlines()


def test_another_project_s_database_is_refused_then_replaced_when_allowed(url: str, tmp_path: Path) -> None:
    seeded = bench("seed", "--profile", "tiny", "--database", DATABASE, "--no-progress")
    assert seeded.returncode == 0, seeded.stderr
    assert marker(url) == (str(SAMPLE), HOOK)

    library = example_copy(tmp_path)
    config = library / "bench.toml"
    status, lines = run_library(library, url)
    assert status == 2
    assert lines == [
        f"bench: error: database {DATABASE} holds the data of {SAMPLE} (seeded from {HOOK}); this is "
        f"{config}: pass --force-seed (bench seed: --force) to empty it and seed it for this project, or "
        "use another database (--database NAME)"
    ]
    assert marker(url) == (str(SAMPLE), HOOK)  # nothing changed

    status, lines = run_library(library, url, "--force-seed")
    assert status == 0, lines
    assert marker(url) == (str(config), str(library / "seed_plan.toml"))
    with psycopg.connect(url) as conn:
        tables = {
            name for (name,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
    assert "catalog_book" in tables
    assert "tracking" not in tables  # the sample's tables went with its data

    # A copy of the library elsewhere is the same project (the same apps): its data is reused.
    elsewhere = example_copy(tmp_path / "elsewhere")
    status, lines = run_library(elsewhere, url)
    assert status == 0, lines
    assert marker(url) == (str(config), str(library / "seed_plan.toml"))

    # Back the other way: the sample's seed is refused now, naming the library.
    again = bench("seed", "--profile", "tiny", "--database", DATABASE, "--no-progress")
    assert again.returncode == 2
    assert f"holds the data of {config}" in again.stderr
    assert "Traceback" not in again.stderr

    # A marker that names no project (an older harness): the migration history tells.
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE bench_seed_marker SET project = NULL, plan = NULL")
    again = bench("seed", "--profile", "tiny", "--database", DATABASE, "--no-progress")
    assert again.returncode == 2
    assert "holds the data of a project with apps catalog" in again.stderr
