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

import psycopg
import pytest

from django_index_bench.bench import results
from django_index_bench.bench.pg import server as embedded
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


def measure(where: Path, name: str, *extra: str, plan: dict[str, str] | None = None) -> Measured:
    """Seed and run a copy of the example; `plan`: lines of its seed plan replaced, old -> new."""
    project = where / name
    shutil.copytree(
        REPO / "examples" / name,
        project,
        ignore=shutil.ignore_patterns("__pycache__", "results", "report", ".bench"),
    )
    plan_file = project / "seed_plan.toml"
    text = plan_file.read_text(encoding="utf-8")
    for old, new in (plan or {}).items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    plan_file.write_text(text, encoding="utf-8")
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


# Issue 25's app with what its first try needed a hook for, from the plan alone: object_id derived from
# object_pk, and the inet column drawn from a network (the example's own plan leaves it NULL, so that its
# README's figures stay those of the plan they were measured with).
AUDITLOG_PLAN = {
    "fields.object_id = { min = 1, max = 50_000 }\n": (
        'fields.object_id = { from = "object_pk" }\n'
        'fields.remote_addr = { network = "10.0.0.0/8", null = 0.1 }\n'
    ),
}


@pytest.fixture(scope="module")
def auditlog(tmp_path_factory: pytest.TempPathFactory) -> Measured:
    # With the cost step: the orm_create copies carry the inet and JSON values (issue 25 item 4).
    return measure(tmp_path_factory.mktemp("corpus"), "auditlog", plan=AUDITLOG_PLAN)


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
    # Every cost figure on a table with inet and JSON columns, none failed.
    assert run.costs is not None
    assert run.costs.failures == ()
    assert {(w.table, w.method, w.state) for w in run.costs.writes} == {
        ("auditlog_logentry", method, state)
        for method in ("copy", "orm_create")
        for state in ("before", "after")
    }


def test_auditlog_s_inet_and_derived_columns_come_from_the_plan(auditlog: Measured, server_url: str) -> None:
    with psycopg.connect(embedded.with_database(server_url, "corpus_auditlog")) as conn:
        row = conn.execute(
            "SELECT count(*), count(remote_addr), bool_and(remote_addr << inet '10.0.0.0/8'),"
            " bool_and(object_id = object_pk::bigint) FROM auditlog_logentry"
        ).fetchone()
    assert row is not None
    total, addressed, in_network, derived = row
    assert total == 10_000
    assert 800 < total - addressed < 1_200  # null = 0.1
    assert (in_network, derived) == (True, True)


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
