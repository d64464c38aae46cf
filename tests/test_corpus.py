"""The corpus: published Django apps from PyPI, each with an index migration of its own (not written
here), configured under examples/<name>/ as a user would (bench.toml, seed plan, scenarios, settings)
and measured end to end at the tiny profile.

The apps are not the harness's dependencies: `tox -e corpus` installs them (each example's
requirements.txt pins its version); without them this module is skipped with a line that says so.
Timings say nothing here: the states, the plans' indexes, the writes and the cost records do.
"""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from django_index_bench.bench import results
from tests.cli import REPO, bench

pytestmark = pytest.mark.e2e

APPS = {"django_q2": "django_q", "celery_results": "django_celery_results", "auditlog": "auditlog"}
MISSING = sorted(name for name, module in APPS.items() if importlib.util.find_spec(module) is None)
if MISSING:
    pytest.skip(
        f"corpus apps not installed ({', '.join(MISSING)}): run tox -e corpus", allow_module_level=True
    )

# Few pairs, warm cache only, no load step: the plans and the shape are what is checked.
QUICK = ("--profile", "tiny", "--quick", "--no-cold", "--no-load", "--no-progress")


@dataclass(frozen=True)
class Measured:
    project: Path
    run: results.Results

    def indexes(self, scenario: str, side: str) -> set[str]:
        return {
            name
            for m in self.run.measurements
            if m.scenario == scenario and m.side == side
            for plan in m.plans
            for name in plan.index_names
        }

    def writes(self, scenario: str) -> set[bool]:
        return {m.writes for m in self.run.measurements if m.scenario == scenario}


def measure(where: Path, name: str, *extra: str) -> Measured:
    project = where / name
    shutil.copytree(
        REPO / "examples" / name,
        project,
        ignore=shutil.ignore_patterns("__pycache__", "results", "report", ".bench"),
    )
    seeded = bench("seed", "--profile", "tiny", "--database", f"corpus_{name}", cwd=project)
    assert seeded.returncode == 0, seeded.stderr
    done = bench("run", *QUICK, "--database", f"corpus_{name}", *extra, cwd=project)
    assert done.returncode == 0, done.stderr
    return Measured(project, results.load(project / "results" / results.LATEST))


@pytest.fixture(scope="module")
def django_q2(tmp_path_factory: pytest.TempPathFactory) -> Measured:
    # The one with costs: a varchar(32) primary key and pickled columns for the copied rows.
    return measure(tmp_path_factory.mktemp("corpus"), "django_q2")


@pytest.fixture(scope="module")
def celery_results(tmp_path_factory: pytest.TempPathFactory) -> Measured:
    return measure(tmp_path_factory.mktemp("corpus"), "celery_results", "--no-costs")


@pytest.fixture(scope="module")
def auditlog(tmp_path_factory: pytest.TempPathFactory) -> Measured:
    return measure(tmp_path_factory.mktemp("corpus"), "auditlog", "--no-costs")


def test_django_q2_prunes_under_select_for_update_through_the_partial_index(django_q2: Measured) -> None:
    run = django_q2.run
    assert run.dataset.counts == {"django_q_task": 10_000}
    assert [(s.state, s.status, s.targets) for s in run.states] == [
        ("before", "ok", {"django_q": "0017_task_cluster_alter"}),
        ("after", "ok", {"django_q": "0018_task_success_index"}),
    ]
    assert all(m.ok for m in run.measurements)
    assert [s.name for s in run.scenarios] == ["save_task", "result_group"]
    for scenario in ("save_task", "result_group"):
        assert "success_index" in django_q2.indexes(scenario, "after")
        assert "success_index" not in django_q2.indexes(scenario, "before")
    # save_task inserts and deletes inside atomic(); result_group only reads.
    assert django_q2.writes("save_task") == {True}
    assert django_q2.writes("result_group") == {False}
    # The cost step on a table keyed by varchar(32): the migration and the write figures, none failed.
    assert run.costs is not None
    assert run.costs.failures == ()
    assert {c.migration for c in run.costs.migrations} == {"django_q.0018_task_success_index"}
    assert {w.table for w in run.costs.writes} == {"django_q_task"}


def test_celery_results_store_and_filter_by_periodic_task(celery_results: Measured) -> None:
    run = celery_results.run
    assert run.dataset.counts == {"django_celery_results_taskresult": 10_000}
    assert [(s.state, s.status, s.targets) for s in run.states] == [
        ("before", "ok", {"django_celery_results": "0012_taskresult_date_started"}),
        ("after", "ok", {"django_celery_results": "0013_taskresult_django_cele_periodi_1993cf_idx"}),
    ]
    assert all(m.ok for m in run.measurements)
    assert "django_cele_periodi_1993cf_idx" in celery_results.indexes("periodic_results", "after")
    assert "django_cele_periodi_1993cf_idx" not in celery_results.indexes("periodic_results", "before")
    assert celery_results.writes("store_result") == {True}
    assert celery_results.writes("periodic_results") == {False}


def test_auditlog_newest_entries_with_the_timestamp_index_dropped_before(auditlog: Measured) -> None:
    run = auditlog.run
    assert run.dataset.counts == {"django_content_type": 1, "auth_user": 10, "auditlog_logentry": 10_000}
    assert [s.status for s in run.states] == ["ok", "ok"]
    assert all(m.ok for m in run.measurements)
    index = "auditlog_logentry_timestamp_37867bb0"
    assert index in auditlog.indexes("newest_entries", "after")
    assert index not in auditlog.indexes("newest_entries", "before")


@pytest.mark.parametrize("name", sorted(APPS))
def test_bad_inputs_are_one_line_and_exit_2(name: str, tmp_path: Path) -> None:
    project = REPO / "examples" / name
    app = APPS[name] if name != "django_q2" else "django_q"
    for args in (
        ("seed", "--profile", "tiny", "--rows", "no_such_table=5", "--database", f"corpus_{name}"),
        ("run", *QUICK, "--before", f"{app}=9999", "--results-dir", str(tmp_path), "--database", "x"),
        ("run", "--profile", "enormous", "--results-dir", str(tmp_path)),
    ):
        done = bench(*args, cwd=project)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, (args, done.stderr)
        assert "Traceback" not in done.stderr
        assert not (tmp_path / results.LATEST).exists()
