"""`bench load` on its own: seed (or reuse) the data, run the load step, write a results file that
holds the load section only (no single-call measurements)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django_index_bench.bench import environment, results
from django_index_bench.bench.config import ProjectConfig
from django_index_bench.bench.load.measure import LoadConfig, check, measure_load
from django_index_bench.bench.options import writable_dir
from django_index_bench.bench.pg import clones, db
from django_index_bench.bench.pg import run_lock as locks
from django_index_bench.bench.results import Results
from django_index_bench.bench.rounds.schedule import QUICK, record
from django_index_bench.bench.seeding import source_for
from django_index_bench.bench.steps.states import resolve_states, schema_state


@dataclass(frozen=True)
class LoadCommand:
    project: ProjectConfig
    profile: str | None
    seed: int
    rows: dict[str, int]
    load: LoadConfig
    results_dir: Path
    command: str
    database: str | None = None
    before: dict[str, str] = dataclasses.field(default_factory=dict)
    allow_foreign: bool = False
    force_seed: bool = False
    wait: bool = True
    keep_databases: bool = False


def execute(config: LoadCommand) -> tuple[Results, Path]:
    from django.db import connection

    from django_index_bench.bench.steps.run import prepare, run_id, seeded

    check(config.load)
    writable_dir(config.results_dir, option="--results-dir")
    started_at = dt.datetime.now(dt.UTC)
    project = config.project
    target = db.resolve(config.database)
    db.guard(target, allow_foreign=config.allow_foreign)
    db.setup_django(target, project)
    where = f"{project.path}: states"
    states = resolve_states(project.before, project.after, config.before or None, where=where)
    source = source_for(project, config.profile, config.seed, config.rows, schema_state(states[0]))
    env = environment.collect(project.root, embedded=target.embedded)
    connection.close()
    rid = run_id(started_at, env.git_commit)
    with locks.hold(
        clones.maintenance_url(target), target.name, purpose=f"bench load {rid}", wait=config.wait
    ):
        seed_started = dt.datetime.now(dt.UTC)
        outcome = prepare(
            target, source, states[0], force=config.force_seed, progress=config.load.progress, project=project
        )
        dataset = seeded(outcome, (dt.datetime.now(dt.UTC) - seed_started).total_seconds())
        load = measure_load(
            target, states, config.load, tag=clones.run_tag(), keep=config.keep_databases,
            profile=dataset.profile,
        )  # fmt: skip
    run = Results(
        schema_version=results.SCHEMA_VERSION,
        run_id=rid,
        started_at=started_at.isoformat(timespec="seconds"),
        finished_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        command=config.command,
        environment=env,
        dataset=dataset,
        # No single-call measurement: the schedule records the defaults, with no items.
        schedule=record(QUICK, sides="databases", workers=1, seed=config.seed, items=()),
        states=(),
        scenarios=(),
        measurements=(),
        load=load,
    )
    return run, results.save(run, config.results_dir)
