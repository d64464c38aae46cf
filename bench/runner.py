"""`bench run`: seed once, measure every scenario in the before and after states, write one results file.

Order matters for honesty: the data is seeded (or reused) once and is identical in both states; the
database moves with Django's migrate and is ANALYZEd after every move; each measurement warms its
connection and caches before it is timed. Costs and the scale curve run on databases of their own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bench import cache, db, environment, results
from bench.costs.collect import collect_costs
from bench.errors import UsageError
from bench.measure import Budget
from bench.results import Dataset, Results
from bench.scales import run_scales
from bench.scenarios import Scenario, load_all
from bench.session import plan_work, run_session
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
    budget: Budget = field(default_factory=Budget)
    cold: bool = True
    costs: bool = True
    blocks: int = 4  # before/after alternations; each measurement's rounds are spread over them
    scales: tuple[int, ...] = ()  # tracking rows per point of the scale curve; empty: none
    allow_foreign: bool = False
    force_seed: bool = False
    progress: bool = True


def select(all_scenarios: dict[str, Scenario], wanted: tuple[str, ...]) -> dict[str, Scenario]:
    unknown = sorted(set(wanted) - all_scenarios.keys())
    if unknown:
        raise UsageError(f"unknown scenario {', '.join(unknown)}; known: {', '.join(sorted(all_scenarios))}")
    return {n: s for n, s in all_scenarios.items() if not wanted or n in wanted}


def prepare(
    target: db.Target, request: SeedRequest, before: State, *, force: bool, progress: bool
) -> SeedOutcome:
    """The schema (created at `before` when missing) and the seeded data, on Django's database."""
    from django.db import connection

    from seed import ensure_seeded

    ensure_schema(before)
    connection.close()  # the seeder works on its own connections; hold no locks meanwhile
    return ensure_seeded(target.url, request, force=force, progress=progress)


def execute(config: RunConfig) -> tuple[Results, Path]:
    started_at = dt.datetime.now(dt.UTC)
    target = db.resolve(config.database)
    db.guard(target, allow_foreign=config.allow_foreign)
    db.setup_django(target)
    scenarios = select(load_all(), config.scenarios)
    states = resolve_states(config.before or None)
    if config.cold:
        cache.enable()

    seed_started = time.perf_counter()
    outcome = prepare(target, config.request, states[0], force=config.force_seed, progress=config.progress)
    seed_seconds = time.perf_counter() - seed_started
    cases = {name: scenario.draw_cases() for name, scenario in scenarios.items()}
    items = plan_work(scenarios, cases, states, cold=config.cold, blocks=config.blocks)
    budget = config.budget.split(config.blocks)
    collected = run_session(items, states, scenarios, budget, label="measuring", progress=config.progress)

    costs = None
    if config.costs:
        tracking = config.request.counts.tracking
        costs = collect_costs(
            target,
            states,
            copy_rows=min(100_000, tracking),
            orm_rows=min(1_000, max(100, tracking // 100)),
            progress=config.progress,
        )
    scales = run_scales(
        target,
        config.request,
        config.scales,
        states,
        scenarios,
        budget,
        lambda t, r: prepare(t, r, states[0], force=False, progress=config.progress),
        allow_foreign=config.allow_foreign,
        blocks=config.blocks,
        progress=config.progress,
    )

    env = environment.collect(REPO, embedded=target.embedded)
    run = Results(
        schema_version=results.SCHEMA_VERSION,
        run_id=started_at.strftime("%Y%m%dT%H%M%SZ") + (f"-{env.git_commit[:7]}" if env.git_commit else ""),
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
        states=tuple(collected.state_changes),
        scenarios=tuple(s.info(cases[n]) for n, s in scenarios.items()),
        measurements=tuple(collected.warm),
        costs=costs,
        cold=tuple(collected.cold),
        scales=scales,
    )
    return run, results.save(run, config.results_dir)
