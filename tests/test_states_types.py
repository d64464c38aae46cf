"""Issue 25's first done-when in one project: tests/types_project (JSON documents, inet addresses and every
other type drawn from its plan alone) given two states that differ by added columns and by a table rewrite,
measured by `bench run` as a user runs it (a child `bench` in a copy of the project).

The copy's before state is kinds 0002. Today's Host has two columns that 0003 adds (and an index on cost),
and an object_id that 0004 widens to bigint, a rewrite of kinds_host (a new relfilenode, an empty
visibility map until VACUUM). The plan names none of the new columns: the rows are loaded at 0002, checked
against the models as they were there, and the migrations fill the rest. The control (ids by primary key)
reads the rewritten table through the same index in both states: its plans must not differ. Then the
before state moves to 0003: `bench seed` seeds again by itself, at the new state.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from django_index_bench.bench import results
from django_index_bench.bench.costs.collect import WRITE_REPETITIONS
from django_index_bench.bench.pg import server as embedded
from django_index_bench.reports import render
from django_index_bench.reports.analysis import analyze
from tests.cli import bench

pytestmark = pytest.mark.e2e

Measured = tuple[Path, results.Results]
TYPES = Path(__file__).resolve().parent / "types_project"
DATABASE = "states_types"
ROWS = 3_000

NEW_FIELDS = """    flag = models.BooleanField()
    region = models.CharField(max_length=8, default="eu")
    seen = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["cost"], name="host_cost_idx")]
"""
ADD_COLUMNS = """from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("kinds", "0002_switch")]

    operations = [
        migrations.AddField("host", "region", models.CharField(max_length=8, default="eu")),
        migrations.AddField("host", "seen", models.DateTimeField(null=True)),
        migrations.AddIndex("host", models.Index(fields=["cost"], name="host_cost_idx")),
    ]
"""
REWRITE = """from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("kinds", "0003_host_region")]

    operations = [migrations.AlterField("host", "object_id", models.PositiveBigIntegerField())]
"""
SCENARIOS = """from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from django_index_bench.bench.scenarios import Case, MigrationScenario, register
from kinds.models import Host


@register
class CheapHosts(MigrationScenario):
    name = "cheap_hosts"
    title = "The cheapest hosts from a price up"
    group = "front_page"
    description = "Host.objects.filter(cost__gte=C).order_by('cost')[:10]; host_cost_idx (0003) serves it."

    def draw_cases(self) -> list[Case]:
        return [Case("typical", {"cost": "50.00"})]

    def queryset(self, params: dict[str, Any]) -> QuerySet[Any]:
        return Host.objects.filter(cost__gte=params["cost"]).order_by("cost").values_list("id", "cost")[:10]


@register
class HostIds(MigrationScenario):
    name = "host_ids"
    title = "The first hosts' ids (a control: the primary key serves it in both states)"
    group = "controls"
    description = "Host.objects.filter(id__lte=N).values_list('id'): an index-only scan of the key."

    def draw_cases(self) -> list[Case]:
        return [Case("typical", {"last": 200})]

    def queryset(self, params: dict[str, Any]) -> QuerySet[Any]:
        return Host.objects.filter(id__lte=params["last"]).values_list("id", flat=True)
"""


def project_copy(where: Path) -> Path:
    project = where / "types"
    shutil.copytree(TYPES, project, ignore=shutil.ignore_patterns("__pycache__", "results", "report"))
    models_py = project / "kinds" / "models.py"
    text = models_py.read_text(encoding="utf-8")
    for old, new in (
        ("    flag = models.BooleanField()\n", NEW_FIELDS),
        ("object_id = models.PositiveIntegerField()", "object_id = models.PositiveBigIntegerField()"),
    ):
        assert text.count(old) == 1
        text = text.replace(old, new)
    models_py.write_text(text, encoding="utf-8")
    migrations = project / "kinds" / "migrations"
    (migrations / "0003_host_region.py").write_text(ADD_COLUMNS, encoding="utf-8")
    (migrations / "0004_widen_object_id.py").write_text(REWRITE, encoding="utf-8")
    (project / "kinds" / "bench_scenarios.py").write_text(SCENARIOS, encoding="utf-8")
    plan = project / "seed_plan.toml"
    text = plan.read_text(encoding="utf-8")
    assert text.count("rows = 40\n") == 1
    plan.write_text(text.replace("rows = 40\n", f"rows = {ROWS}\n"), encoding="utf-8")
    config = project / "bench.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[states.before]\nmigrations = { kinds = "0002" }\n',
        encoding="utf-8",
    )
    return project


def columns(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'kinds_host'"
        ).fetchall()
    return {str(name): str(kind) for name, kind in rows}


def applied(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT name FROM django_migrations WHERE app = 'kinds'").fetchall()
    return {str(name) for (name,) in rows}


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory, server_url: str) -> Iterator[Measured]:
    project = project_copy(tmp_path_factory.mktemp("states_types"))
    done = bench(
        "run", "--quick", "--no-cold", "--no-load", "--no-progress", "--keep-databases",
        "--database", DATABASE, cwd=project,
    )  # fmt: skip
    try:
        assert done.returncode == 0, done.stderr
        yield project, results.load(project / "results" / results.LATEST)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            names = conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (DATABASE + "%",)
            ).fetchall()
            for (name,) in names:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_the_plan_is_seeded_at_the_older_state(measured: Measured, server_url: str) -> None:
    _, run = measured
    url = embedded.with_database(server_url, DATABASE)
    assert applied(url) == {"0001_initial", "0002_switch"}
    held = columns(url)
    assert not {"region", "seen"} & set(held)
    assert held["object_id"] == "integer"
    assert held["document"] == "jsonb"
    assert held["address"] == "inet"
    assert run.dataset.counts["kinds_host"] == ROWS
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(DISTINCT address), bool_and(address << inet '10.20.0.0/16'),"
            " bool_and(document ?& array['score', 'status', 'user']) FROM kinds_host"
        ).fetchone()
    assert row == (ROWS, True, True)


def test_the_states_differ_by_added_columns_and_a_rewrite(measured: Measured, server_url: str) -> None:
    _, run = measured
    before, after = run.states
    assert (before.status, after.status) == ("ok", "ok")
    assert after.migrations == ("kinds.0003_host_region", "kinds.0004_widen_object_id")
    assert (before.rewritten, after.rewritten) == ((), ("kinds_host",))
    assert after.maintenance == "VACUUM (ANALYZE)"
    held_before = columns(embedded.with_database(server_url, before.database))
    held_after = columns(embedded.with_database(server_url, after.database))
    assert set(held_after) - set(held_before) == {"region", "seen"}
    assert (held_before["object_id"], held_after["object_id"]) == ("integer", "bigint")


def test_the_cost_step_measures_every_figure(measured: Measured) -> None:
    _, run = measured
    costs = run.costs
    assert costs is not None
    assert costs.error is None
    assert costs.failures == ()
    # Rows with JSON, inet, arrays, ranges, hstore and a pickled column, copied in each state's columns.
    assert Counter((w.table, w.method, w.state) for w in costs.writes) == {
        ("kinds_host", method, state): WRITE_REPETITIONS
        for method in ("copy", "orm_create")
        for state in ("before", "after")
    }
    assert {(m.migration, m.variant, m.direction) for m in costs.migrations} >= {
        ("kinds.0003_host_region", "plain", "forward"),
        ("kinds.0004_widen_object_id", "plain", "forward"),
    }
    assert "host_cost_idx" in {s.relation for s in costs.sizes_after}


def test_the_rewritten_table_s_control_plans_the_same_in_both_states(
    measured: Measured,
) -> None:
    _, run = measured
    by = {(m.scenario, m.side): m for m in run.measurements}
    assert all(m.ok for m in run.measurements)
    control = {side: by[("host_ids", side)] for side in ("before", "after")}
    shapes = {side: [p.shape for p in m.plans] for side, m in control.items()}
    assert shapes["before"] == shapes["after"]
    (plan,) = control["after"].plans
    # The moved copy was vacuumed: the key's index-only scan needs no visit to the rewritten heap.
    assert plan.node_types == ("Index Only Scan",)
    assert plan.raw[0]["Plan"]["Heap Fetches"] == 0
    assert "host_cost_idx" in by[("cheap_hosts", "after")].plans[0].index_names
    assert "host_cost_idx" not in by[("cheap_hosts", "before")].plans[0].index_names
    # The report's verdicts: the control's plan did not change, so the rewrite is not mentioned; the
    # read the new index serves changed its plan on the rewritten table, and its verdict says so.
    analysis = analyze(run)
    control_case = analysis.scenario("host_ids")
    served = analysis.scenario("cheap_hosts")
    assert control_case is not None
    assert served is not None
    assert [(c.plan_changed, "rewrote" in render.verdict(c)) for c in control_case.cases] == [(False, False)]
    assert [c.plan_changed for c in served.cases] == [True]
    assert render.verdict(served.cases[0]).endswith(
        "; the plan changed on `kinds_host`, which a migration between the states rewrote (its copy was "
        "vacuumed and analyzed after the move)"
    )


def test_a_state_change_seeds_again_by_itself(measured: Measured, server_url: str) -> None:
    project, _ = measured
    url = embedded.with_database(server_url, DATABASE)
    config = project / "bench.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('kinds = "0002"', 'kinds = "0003"'), encoding="utf-8")
    done = bench("seed", "--no-progress", "--database", DATABASE, cwd=project)
    assert done.returncode == 0, done.stderr
    assert "reused" not in done.stdout
    assert applied(url) == {"0001_initial", "0002_switch", "0003_host_region"}
    assert {"region", "seen"} <= set(columns(url))
    with psycopg.connect(url) as conn:
        # At 0003 the column is in the state's models: drawn for every row, as any field the plan omits.
        assert conn.execute("SELECT count(*), count(region) FROM kinds_host").fetchone() == (ROWS, ROWS)
        marker = conn.execute("SELECT state FROM bench_seed_marker").fetchone()
    assert marker is not None
    assert marker[0]["kinds"] == "0003_host_region"
