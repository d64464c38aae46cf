"""`bench load` on its own: seed (or reuse) the data, run the load step, write a results file that
holds the load section only (no single-call measurements)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench import clones, db, environment, locks, results
from bench.load.measure import LoadConfig, check, measure_load
from bench.options import writable_dir
from bench.results import Dataset, Results
from bench.schedule import QUICK, record
from bench.states import resolve_states

if TYPE_CHECKING:
    from seed import SeedRequest


@dataclass(frozen=True)
class LoadCommand:
    request: SeedRequest
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

    from bench.runner import REPO, prepare, run_id

    check(config.load)
    writable_dir(config.results_dir, option="--results-dir")
    started_at = dt.datetime.now(dt.UTC)
    target = db.resolve(config.database)
    db.guard(target, allow_foreign=config.allow_foreign)
    db.setup_django(target)
    states = resolve_states(config.before or None)
    env = environment.collect(REPO, embedded=target.embedded)
    connection.close()
    rid = run_id(started_at, env.git_commit)
    with locks.hold(
        clones.maintenance_url(target), target.name, purpose=f"bench load {rid}", wait=config.wait
    ):
        seed_started = dt.datetime.now(dt.UTC)
        outcome = prepare(
            target, config.request, states[0], force=config.force_seed, progress=config.load.progress
        )
        seed_seconds = (dt.datetime.now(dt.UTC) - seed_started).total_seconds()
        load = measure_load(
            target, states, config.load, tag=clones.run_tag(), keep=config.keep_databases,
            profile=outcome.request.profile,
        )  # fmt: skip
    run = Results(
        schema_version=results.SCHEMA_VERSION,
        run_id=rid,
        started_at=started_at.isoformat(timespec="seconds"),
        finished_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        command=config.command,
        environment=env,
        dataset=Dataset(
            profile=outcome.request.profile,
            seed=outcome.request.seed,
            counts=dict(dataclasses.asdict(outcome.request.counts)),
            fingerprint=outcome.fingerprint,
            seeder_version=outcome.seeder_version,
            reused=outcome.reused,
            seed_seconds=seed_seconds,
        ),
        # No single-call measurement: the schedule records the defaults, with no items.
        schedule=record(QUICK, sides="databases", workers=1, seed=config.request.seed, items=()),
        states=(),
        scenarios=(),
        measurements=(),
        load=load,
    )
    return run, results.save(run, config.results_dir)
