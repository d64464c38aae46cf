"""The pytest plugin as a team meets it: its own pytest-django suite, configured in its pytest.ini and
run by pytest in a child process. Inert when the suite asks for none of its fixtures; otherwise a
failing check reads as what went wrong, and a paired timing lands in --benchmark-json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tests.cli import REPO
from tests.factories import make_tenant
from tests.test_example_project import example_copy

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from django_index_bench.pytest_plugin import IndexBench

TEAM_INI = f"""
[pytest]
DJANGO_SETTINGS_MODULE = project.settings
pythonpath = {REPO}
index_bench_config = {REPO / "bench.toml"}
index_bench_profile = tiny
index_bench_database = bench_plugin
"""

TEAM_SUITE = """
import datetime as dt

import pytest

from django_index_bench.bench.rounds.schedule import QUICK
from project.apps.attendance.models import Tracking
from project.apps.tenants.models import Tenant

WINDOW = (dt.datetime(2026, 9, 1, tzinfo=dt.UTC), dt.datetime(2026, 10, 1, tzinfo=dt.UTC))


def person_range():
    return Tracking.objects.filter(people_id=1, receiveddate__range=WINDOW).order_by("receiveddate")


def test_person_range_uses_the_index(index_bench):
    index_bench.observe(person_range()).assert_uses_index("tracking_people_date_idx")


def test_person_range_on_a_branch_without_the_index(index_bench):
    branch = index_bench.derive("after", "branch", drop_indexes=["tracking_people_date_idx"])
    index_bench.observe(person_range(), state=branch).assert_uses_index("tracking_people_date_idx")


def test_person_range_timed(index_bench_pair, benchmark):
    paired = index_bench_pair(person_range(), rules=QUICK)
    # Timings are read, not asserted: what is checked is that the harness's pairs reached pytest-benchmark.
    assert paired.baseline.state == "before"
    assert paired.candidate.state == "after"
    assert paired.total.method == "paired"
    rounds = paired.candidate.timing.total_s
    assert list(benchmark.stats.stats.data) == list(rounds)
    assert benchmark.extra_info["comparison"]["pairs"] == len(rounds) == paired.total.n
    assert benchmark.extra_info["comparison"]["verdict"] == paired.verdict
    assert benchmark.extra_info["query_count"] == {"baseline": 1, "candidate": 1}


@pytest.mark.django_db
def test_a_unit_test_beside_them(index_bench):
    Tenant.objects.create(tenantname="t", subdomain_prefix="t", created_at="2026-01-01T00:00:00Z")
    index_bench.observe(Tenant.objects.filter(pk=1)).assert_query_count(1)
    assert Tenant.objects.count() == 1  # pytest-django's test database, not the plugin's states
"""


def _pytest(folder: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # A team's own pytest, not a worker of ours: pytest-xdist's variables (PYTEST_XDIST_WORKER, ...) would
    # turn pytest-benchmark off in it.
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"} and not k.startswith("PYTEST_XDIST_")
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
        capture_output=True,
        text=True,
        cwd=folder,
        env={**base, **env},
        check=False,
        timeout=600,
    )


def test_a_suite_that_asks_for_nothing_starts_no_server(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    pgdata = tmp_path / "pgdata"
    done = _pytest(tmp_path, "-q", "test_plain.py", env={"BENCH_PGDATA": str(pgdata)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert not pgdata.exists()


def test_a_teams_suite_fails_readably_and_reports_its_timing(tmp_path: Path, server_url: str) -> None:
    (tmp_path / "pytest.ini").write_text(TEAM_INI)
    (tmp_path / "test_team.py").write_text(TEAM_SUITE)
    report = tmp_path / "benchmarks.json"
    done = _pytest(tmp_path, "-q", f"--benchmark-json={report}", env={"DATABASE_URL": server_url})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 3 passed" in done.stdout
    assert (
        "AssertionError: no plan uses index 'tracking_people_date_idx' in state 'branch': 1 query"
        in done.stdout
    )
    benchmarks = json.loads(report.read_text())["benchmarks"]
    assert [b["name"] for b in benchmarks] == ["test_person_range_timed"]
    (timed,) = benchmarks
    assert timed["extra_info"]["baseline_state"] == "before"
    assert timed["extra_info"]["candidate_state"] == "after"
    assert (
        timed["stats"]["rounds"] == timed["extra_info"]["comparison"]["pairs"] == len(timed["stats"]["data"])
    )


def test_a_state_made_inside_a_tests_transaction_leaves_it_alone(
    index_bench: IndexBench, db: BaseDatabaseWrapper
) -> None:
    from project.apps.tenants.models import Tenant

    make_tenant(0)
    assert index_bench.derive("before", "before_again") == "before_again"
    # The suite's connection: still its own database, still inside the test's transaction.
    assert db.settings_dict["NAME"] == "bench_test"
    assert db.in_atomic_block
    assert Tenant.objects.count() == 1
    assert index_bench.states[:2] == ("before", "after")
    assert index_bench.states[-1] == "before_again"


def test_a_profile_the_seeder_lacks_is_one_line_before_any_database_work(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(TEAM_INI)
    (tmp_path / "test_team.py").write_text(TEAM_SUITE)
    pgdata = tmp_path / "pgdata"
    done = _pytest(
        tmp_path,
        "-q",
        "--index-bench-profile=huge",
        "-k",
        "uses_the_index",
        env={"BENCH_PGDATA": str(pgdata)},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        "django-index-bench: unknown profile 'huge'; choose one of tiny, small, default, large" in done.stdout
    )
    assert "Traceback" not in done.stdout
    assert not pgdata.exists()


def test_autosave_and_compare_work_on_a_paired_timing(tmp_path: Path, server_url: str) -> None:
    (tmp_path / "pytest.ini").write_text(TEAM_INI)
    (tmp_path / "test_team.py").write_text(TEAM_SUITE)
    env = {"DATABASE_URL": server_url}
    first = _pytest(tmp_path, "-q", "-k", "timed", "--benchmark-autosave", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    second = _pytest(tmp_path, "-q", "-k", "timed", "--benchmark-compare", env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Comparing against benchmarks from: " in second.stdout + second.stderr
    rows = [line.split()[:2] for line in second.stdout.splitlines() if line.startswith("test_person_range")]
    # The table sorts by the fastest round: either run may come first.
    assert sorted(rows) == [
        ["test_person_range_timed", "(0001_unversi)"],
        ["test_person_range_timed", "(NOW)"],
    ]


LIBRARY_SUITE = """
def test_an_authors_books_use_the_new_index(index_bench):
    from catalog.models import Book

    latest = Book.objects.filter(author_id=1).order_by("-published")[:20]
    after = index_bench.observe(latest, state="after")
    after.assert_uses_index("book_author_published_idx")
    after.assert_no_sort()
    assert "book_author_published_idx" not in index_bench.observe(latest, state="before").index_names
"""


def test_a_plain_pytest_suite_of_another_project(tmp_path: Path, server_url: str) -> None:
    """examples/library: seeded from its seed plan; no pytest-django, so the plugin sets Django up."""
    project = example_copy(tmp_path)
    (project / "pytest.ini").write_text(
        "[pytest]\nindex_bench_profile = tiny\nindex_bench_database = plugin_lib\n"
    )
    (project / "test_indexes.py").write_text(LIBRARY_SUITE)
    done = _pytest(project, "-q", "-p", "no:django", env={"DATABASE_URL": server_url})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_benchmark_disable_times_one_pair(tmp_path: Path, server_url: str) -> None:
    (tmp_path / "pytest.ini").write_text(TEAM_INI)
    (tmp_path / "test_team.py").write_text(
        TEAM_SUITE
        + """

def test_one_pair(index_bench_pair):
    paired = index_bench_pair(person_range())
    assert paired.total.n == 1
    assert paired.verdict == "not enough samples"
"""
    )
    done = _pytest(tmp_path, "-q", "-k", "one_pair", "--benchmark-disable", env={"DATABASE_URL": server_url})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert "benchmark: 1 tests" not in done.stdout
