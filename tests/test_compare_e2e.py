"""`bench compare BASE HEAD` end to end: a real git repository of this project, real `bench run`s.

The repository is this checkout's committed HEAD (git archive), with branches that drop a tracking
index, bring the N+1 back, and change nothing that matters. Tiny profile, --quick, one scenario or two
per compare: the timings say nothing here, the deterministic metrics must say it all.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.cli import bench
from tests.git_repos import branch, failure_branches, git, project_copy, snapshot

WELLNESS = Path("project/background_tasks/journal_wellness_tasks.py")
PREFETCH = 'Tenant.objects.prefetch_related("people_set").order_by("pk")'
DROP_INDEX = '''from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    """A branch that loses one of the indexes the change under test added."""

    dependencies = [("attendance", "0031_add_tracking_performance_indexes")]

    operations = [migrations.RemoveIndex(model_name="tracking", name="tracking_people_date_idx")]
'''


@pytest.fixture(scope="module")
def project_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This project's committed tree as a fresh repository, its branches, and uncommitted changes."""
    repo = project_copy(tmp_path_factory.mktemp("project"))
    wellness = (repo / WELLNESS).read_text(encoding="utf-8")
    assert PREFETCH in wellness
    branch(repo, "nplus1", {WELLNESS: wellness.replace(PREFETCH, 'Tenant.objects.order_by("pk")')})
    migration = Path("project/apps/attendance/migrations/0032_drop_tracking_people_date_idx.py")
    branch(repo, "drop-index", {migration: DROP_INDEX})
    failure_branches(repo)
    readme = (repo / "README.md").read_text(encoding="utf-8")
    branch(repo, "unrelated", {Path("README.md"): readme + "\nA line that changes nothing measured.\n"})
    git(repo, "checkout", "--quiet", "main")
    (repo / "README.md").write_text(readme + "\nwork in progress\n", encoding="utf-8")
    (repo / "notes.txt").write_text("untracked\n", encoding="utf-8")
    return repo


def bench_compare(repo: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return bench(
        "compare", *args, "--repo", str(repo), "--output", str(out),
        "--profile", "tiny", "--seed", "7", "--quick",
    )  # fmt: skip


def regressions(out: Path) -> list[dict[str, Any]]:
    data = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    return [r for r in data["rows"] if r["verdict"] == "regression"]


def test_a_dropped_index_fails_naming_the_scenario_and_the_plan_change(
    project_repo: Path, tmp_path: Path
) -> None:
    before = snapshot(project_repo)
    done = bench_compare(project_repo, tmp_path, "main", "drop-index", "--scenario", "tracking_person_range")
    assert done.returncode == 1, done.stderr
    assert snapshot(project_repo) == before
    lines = [x for x in done.stdout.splitlines() if x.startswith("REGRESSION tracking_person_range[")]
    assert lines, done.stdout
    assert all(" after: " in x for x in lines)
    assert any("index no longer used: tracking_people_date_idx; plan `" in x for x in lines)
    assert "tracking_person_range" in (tmp_path / "COMPARISON.md").read_text(encoding="utf-8")


def test_the_n_plus_one_coming_back_fails_on_the_query_count(project_repo: Path, tmp_path: Path) -> None:
    before = snapshot(project_repo)
    done = bench_compare(project_repo, tmp_path, "main", "nplus1", "--scenario", "wellness_summary")
    assert done.returncode == 1, done.stderr
    assert snapshot(project_repo) == before
    (row,) = regressions(tmp_path)
    assert (row["scenario"], row["side"]) == ("wellness_summary", "prefetch")
    assert "queries" in [f["metric"] for f in row["findings"]]


def test_an_unrelated_change_passes(project_repo: Path, tmp_path: Path) -> None:
    before = snapshot(project_repo)
    done = bench_compare(
        project_repo, tmp_path, "main", "unrelated",
        "--scenario", "tracking_person_range", "--scenario", "wellness_summary",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert snapshot(project_repo) == before
    assert git(project_repo, "worktree", "list").count("\n") == 1
    data = json.loads((tmp_path / "comparison.json").read_text(encoding="utf-8"))
    assert (data["method"], data["interleaved"]) == ("paired", True)
    # Where the time went, recorded and printed last: one line per step, then their total.
    steps = [s["step"] for s in data["steps"]]
    assert steps == ["seed", "copies", "warm", "other", "verdicts", "report"]
    shown = [line.split(":")[0] for line in done.stdout.splitlines()[-len(steps) - 1 :]]
    assert shown == [f"step {step}" for step in steps] + ["step total"]


def test_a_migration_that_fails_fails_the_compare_with_its_error(project_repo: Path, tmp_path: Path) -> None:
    done = bench_compare(project_repo, tmp_path, "main", "broken-migration", "--scenario", "tracking_device")
    assert done.returncode == 1, done.stdout + done.stderr
    markdown = (tmp_path / "COMPARISON.md").read_text(encoding="utf-8")
    assert "attendance.0032_broken" in markdown
    assert "no_such_column" in markdown
    failed = {(r["scenario"], r["case"], r["side"]) for r in regressions(tmp_path)}
    assert failed == {("tracking_device", case, "after") for case in ("heavy", "typical", "light")}


def test_a_scenario_that_raises_fails_the_compare(project_repo: Path, tmp_path: Path) -> None:
    done = bench_compare(project_repo, tmp_path, "main", "raising-scenario", "--scenario", "tracking_device")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "RuntimeError: boom" in (tmp_path / "COMPARISON.md").read_text(encoding="utf-8")
    failed = {(r["scenario"], r["side"]) for r in regressions(tmp_path)}
    assert failed == {("tracking_device", "before"), ("tracking_device", "after")}
