"""`bench compare`'s worker process seeds as `bench seed` does (issue 25, Build item 2): the plan read
against the models at the before state, the rows loaded there, the marker recording that state and the
project. The project is tests/test_costs_schemas.py's copy of examples/library, whose Book has a column
(subtitle) its before state (0001) lacks.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import psycopg

from django_index_bench.bench.gate.workers import STATES_ENV, started
from django_index_bench.bench.pg import clones, db
from django_index_bench.bench.pg import server as embedded
from django_index_bench.seed.copying import owner
from tests.cli import bench
from tests.test_costs_schemas import project_copy

SEEDED = "worker_states"


def test_a_worker_seeds_at_the_older_before_state_and_records_the_project(
    tmp_path: Path, server_url: str
) -> None:
    project = project_copy(tmp_path)
    done = bench("seed", "--profile", "tiny", "--no-progress", "--database", SEEDED, cwd=project)
    assert done.returncode == 0, done.stderr
    seeded = db.Target(embedded.with_database(server_url, SEEDED), embedded=False)
    copy = clones.clone(seeded, f"{SEEDED}_before", "worker_test")
    try:
        env = {**os.environ, STATES_ENV: json.dumps({"before": copy.url})}
        config = [f"--config={project / 'bench.toml'}", "--profile", "tiny"]
        with started(project, env, config, 1) as (worker,):
            reused = worker.call("dataset", state="before")
        assert (reused["reused"], reused["seed"]) == (True, 42)
        # Another seed than the database holds: the worker seeds it again, at the before state.
        with started(project, env, [*config, "--seed", "7"], 1) as (worker,):
            again = worker.call("dataset", state="before")
        assert (again["reused"], again["seed"], again["counts"]["catalog_book"]) == (False, 7, 5_000)
        with psycopg.connect(copy.url) as conn:
            marker = conn.execute("SELECT state->>'catalog', seed FROM bench_seed_marker").fetchone()
            names = conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'catalog_book'"
            ).fetchall()
        assert marker == ("0001_initial", 7)
        assert "subtitle" not in {name for (name,) in names}
        found = owner(copy.url)
        assert found is not None
        assert found.project == str(project / "bench.toml")
        assert "catalog" in found.apps
        assert embedded.is_owned(copy.url)
    finally:
        clones.drop(seeded, copy.name)
        clones.drop(seeded, SEEDED)
