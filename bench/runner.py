"""`bench run`: seed once, then measure every scenario on two copies of the data, one per state, with
before and after interleaved round by round; write one results file.

Order matters for honesty: the data is seeded (or reused) once; each state lives in its own copy of it
(CREATE DATABASE ... TEMPLATE), reached with Django's migrate and ANALYZEd; every pair of rounds runs
the two sides back to back, on warmed connections. Costs and the scale curve use databases of their own.
One advisory lock on the seeded database keeps a second run (or seed) from changing it meanwhile.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bench import cache, clones, db, environment, locks, results, sensitivity
from bench.costs.collect import collect_costs
from bench.errors import UsageError
from bench.measured import measure_states
from bench.options import DEFAULT_ALPHA, DEFAULT_THRESHOLD, writable_dir
from bench.results import Dataset, Results
from bench.scales import run_scales, scale_database
from bench.scenarios import Scenario, load_all
from bench.schedule import Rules, record
from bench.states import State, ensure_schema, resolve_states

if TYPE_CHECKING:
    from seed import SeedOutcome, SeedRequest

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class RunConfig:
    request: SeedRequest
    results_dir: Path
    command: str
    database: str | None = None
    scenarios: tuple[str, ...] = ()  # empty: all
    before: dict[str, str] = field(default_factory=dict)  # empty: the change under test
    rules: Rules = field(default_factory=Rules)
    cold: bool = True
    costs: bool = True
    scales: tuple[int, ...] = ()  # tracking rows per point of the scale curve; empty: none
    allow_foreign: bool = False
    force_seed: bool = False
    wait: bool = True  # for another run holding the database; False: refuse
    keep_databases: bool = False
    sensitivity_trials: int = 0  # per slowdown and class; 0: no sensitivity check
    progress: bool = True


def select(all_scenarios: dict[str, Scenario], wanted: tuple[str, ...]) -> dict[str, Scenario]:
    unknown = sorted(set(wanted) - all_scenarios.keys())
    if unknown:
        raise UsageError(f"unknown scenario {', '.join(unknown)}; known: {', '.join(sorted(all_scenarios))}")
    return {n: s for n, s in all_scenarios.items() if not wanted or n in wanted}


def prepare(
    target: db.Target, request: SeedRequest, before: State, *, force: bool, progress: bool
) -> SeedOutcome:
    """The schema (created at `before` when missing) and the seeded data, on Django's database.
    The caller holds the database's lock."""
    from django.db import connection

    from seed import ensure_seeded

    ensure_schema(before)
    connection.close()  # the seeder works on its own connections; hold no locks meanwhile
    return ensure_seeded(target.url, request, force=force, progress=progress)


def run_id(started_at: dt.datetime, commit: str | None) -> str:
    """Time, commit and a random part: two runs started in the same second still differ."""
    parts = [started_at.strftime("%Y%m%dT%H%M%SZ"), *([commit[:7]] if commit else []), secrets.token_hex(3)]
    return "-".join(parts)


def _check_up_front(config: RunConfig, target: db.Target) -> None:
    """What would otherwise be found only after minutes of measuring."""
    writable_dir(config.results_dir, option="--results-dir")
    for rows in config.scales:
        clones.check_ours_or_absent(target, scale_database(target, rows))


def execute(config: RunConfig) -> tuple[Results, Path]:
    from django.db import connection

    started_at = dt.datetime.now(dt.UTC)
    target = db.resolve(config.database)
    db.guard(target, allow_foreign=config.allow_foreign)
    _check_up_front(config, target)
    db.setup_django(target)
    scenarios = select(load_all(), config.scenarios)
    states = resolve_states(config.before or None)
    tag = clones.run_tag()
    # Before measuring: the settings in force while measuring, and the commit the run id names.
    env = environment.collect(REPO, embedded=target.embedded)
    # Hold no connection to the database while waiting for its lock: the holder copies it as a template.
    connection.close()
    rid = run_id(started_at, env.git_commit)
    with locks.hold(
        clones.maintenance_url(target), target.name, purpose=f"bench run {rid}", wait=config.wait
    ):
        if config.cold:
            cache.enable()
        seed_started = time.perf_counter()
        outcome = prepare(
            target, config.request, states[0], force=config.force_seed, progress=config.progress
        )
        seed_seconds = time.perf_counter() - seed_started
        measured = measure_states(
            target, states, scenarios, config.rules,
            cold=config.cold, seed=config.request.seed, tag=tag,
            keep=config.keep_databases, progress=config.progress, label="measuring",
        )  # fmt: skip
        costs = None
        if config.costs and not measured.broken:
            tracking = config.request.counts.tracking
            costs = collect_costs(
                target,
                states,
                clones.name_for(target, tag, "costs"),
                # Per repetition: every write figure now runs 6 pairs on each changed table.
                copy_rows=min(20_000, tracking),
                orm_rows=min(200, max(50, tracking // 1_000)),
                progress=config.progress,
            )
        scales = run_scales(
            target, config.request, config.scales, states, scenarios, config.rules,
            lambda t, r: prepare(t, r, states[0], force=False, progress=config.progress),
            seed=config.request.seed, tag=tag, keep=config.keep_databases, progress=config.progress,
        )  # fmt: skip
        found = None
        if config.sensitivity_trials and not measured.broken:
            found = sensitivity.on_copy(
                target, states[-1], scenarios, measured.cases, config.rules, tag,
                slowdowns=sensitivity.SLOWDOWNS, kinds=("orm", "db"), trials=config.sensitivity_trials,
                threshold=DEFAULT_THRESHOLD, alpha=DEFAULT_ALPHA,
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
        schedule=record(
            config.rules, sides="databases", workers=1, seed=config.request.seed, items=measured.items
        ),
        states=measured.states,
        scenarios=tuple(s.info(measured.cases.get(n, [])) for n, s in scenarios.items()),
        measurements=measured.warm,
        costs=costs,
        cold=measured.cold,
        scales=scales,
        sensitivity=found,
    )
    return run, results.save(run, config.results_dir)
