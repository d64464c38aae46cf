"""`bench suggest`'s orchestration: seed (or reuse) the data, capture the SQL in the chosen state, derive
and prune candidates, measure each within the budget, then pairs of them that help different scenarios.
Everything happens on copies of the seeded database; nothing is applied to any database of the user."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import connection

from django_index_bench.bench.config import ProjectConfig
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.pg import clones, db
from django_index_bench.bench.pg import run_lock as locks
from django_index_bench.bench.rounds.schedule import Rules
from django_index_bench.bench.scenarios import Scenario, load
from django_index_bench.bench.seeding import check_options, source_for
from django_index_bench.bench.steps.run import prepare, seeded, select
from django_index_bench.bench.steps.states import State, resolve_states
from django_index_bench.bench.suggest import candidates as derive
from django_index_bench.bench.suggest import hypo, rank
from django_index_bench.bench.suggest.capture import Captured, capture
from django_index_bench.bench.suggest.measure import Setup, within_budget
from django_index_bench.bench.suggest.queries import Access, accesses
from django_index_bench.bench.suggest.results import SCHEMA, Candidate, Dropped, Suggestions, Trial

if TYPE_CHECKING:
    from django_index_bench.bench.results import Measurement


@dataclass(frozen=True)
class SearchConfig:
    project: ProjectConfig
    profile: str | None
    seed: int
    command: str
    state: str = "after"
    rows: dict[str, int] = field(default_factory=dict)
    database: str | None = None
    scenarios: tuple[str, ...] = ()
    budget_s: float = 600.0
    rules: Rules = field(default_factory=Rules)
    weights: dict[str, float] = field(default_factory=dict)
    writes: dict[str, float] = field(default_factory=dict)
    allow_foreign: bool = False
    force_seed: bool = False
    wait: bool = True
    progress: bool = True


def _scenarios(project: ProjectConfig, wanted: tuple[str, ...]) -> dict[str, Scenario]:
    """The migration scenarios (one code path, measured without and with an index); a named variant
    scenario is refused, since its two sides are two code paths, not two schemas."""
    chosen = select(load(project.scenarios, where=f"{project.path}: scenarios"), wanted)
    variants = sorted(n for n, s in chosen.items() if s.kind != "migration")
    if wanted and variants:
        raise UsageError(f"--scenario {variants[0]}: a variant scenario compares code, not indexes")
    found = {n: s for n, s in chosen.items() if s.kind == "migration"}
    if not found:
        raise UsageError(f"{project.path}: no migration scenario to suggest indexes for")
    return found


def _check(config: SearchConfig, scenarios: dict[str, Scenario]) -> None:
    unknown = sorted(set(config.weights) - scenarios.keys())
    if unknown:
        raise UsageError(
            f"--weight or suggest.weights: unknown scenario {unknown[0]}; "
            f"known: {', '.join(sorted(scenarios))}"
        )
    from django.apps import apps

    tables = {m._meta.db_table for m in apps.get_models(include_auto_created=True)}
    unknown = sorted(set(config.writes) - tables)
    if unknown:
        raise UsageError(f"--writes or suggest.writes: no installed model has table {unknown[0]!r}")


def _by_scenario(captured: tuple[Measurement, ...]) -> dict[str, list[list[Access]]]:
    found: dict[str, list[list[Access]]] = {}
    for m in captured:
        if m.ok:
            found.setdefault(m.scenario, []).append([a for sql in m.queries for a in accesses(sql)])
    return found


def _readers(captured: tuple[Measurement, ...]) -> dict[str, tuple[str, ...]]:
    """table -> the scenarios whose captured SQL reads it."""
    found: dict[str, list[str]] = {}
    for m in captured:
        for access in (a for sql in m.queries for a in accesses(sql)):
            names = found.setdefault(access.table, [])
            if m.scenario not in names:
                names.append(m.scenario)
    return {table: tuple(names) for table, names in found.items()}


def _priority(candidates: list[Candidate], captured: tuple[Measurement, ...]) -> list[Candidate]:
    """The candidates of the slowest scenarios first (their plans' execution time in the chosen state):
    the budget goes where the most time is. Stable: the plainest variant of each first."""
    slowest: dict[str, float] = {}
    for m in captured:
        slowest[m.scenario] = slowest.get(m.scenario, 0.0) + sum(p.execution_ms for p in m.plans)
    return sorted(candidates, key=lambda c: -max(slowest.get(s, 0.0) for s in c.scenarios))


def _candidates(
    target: db.Target, base: State, found: Captured, tag: str
) -> tuple[list[Candidate], list[Dropped], hypo.Pruning]:
    """Every candidate, slowest scenarios' first; those dropped as redundant or pruned; what HypoPG did."""
    derived = _priority(derive.derive(_by_scenario(found.measurements)), found.measurements)
    dropped = derive.redundant(derived, found.existing)
    gone = {d.candidate for d in dropped}
    pruning = hypo.prune(target, base, [c for c in derived if c.name not in gone], found.measurements, tag)
    return derived, [*dropped, *pruning.dropped], pruning


def search(config: SearchConfig) -> Suggestions:
    started_at = dt.datetime.now(dt.UTC)
    project = config.project
    check_options(project, config.profile, config.seed, config.rows)
    target = db.resolve(config.database)
    db.guard(target, allow_foreign=config.allow_foreign)
    db.setup_django(target, project)
    scenarios = _scenarios(project, config.scenarios)
    _check(config, scenarios)
    states = resolve_states(project.before, project.after, where=f"{project.path}: states")
    base = states[0] if config.state == "before" else states[1]
    source = source_for(project, config.profile, config.seed, config.rows)
    connection.close()
    tag = clones.run_tag()
    with locks.hold(clones.maintenance_url(target), target.name, purpose="bench suggest", wait=config.wait):
        seed_started = time.perf_counter()
        outcome = prepare(target, source, states[0], force=config.force_seed, progress=config.progress)
        dataset = seeded(outcome, time.perf_counter() - seed_started)
        connection.close()
        found = capture(target, base, scenarios, tag)
        errors = [] if found.change.ok else [f"state {base.name}: {found.change.error}"]
        errors += [f"{m.scenario}[{m.case}]: {m.error}" for m in found.measurements if not m.ok]
        derived, dropped, pruning = _candidates(target, base, found, tag)
        gone = {d.candidate for d in dropped}
        largest = max(dataset.counts.values(), default=1_000)
        # The write figures' sizes as `bench run` takes them (bench.steps.run.measure_costs).
        setup = Setup(
            target, base, scenarios, config.rules, config.seed, tag,
            copy_rows=min(20_000, largest), orm_rows=min(200, max(50, largest // 1_000)),
            readers=_readers(found.measurements), progress=config.progress,
        )  # fmt: skip
        todo = [c for c in derived if c.name not in gone] if found.change.ok else []
        # The budget is the candidates' measuring: seeding and the one pass of capture are not in it.
        started = time.perf_counter()
        trials = within_budget(setup, [[c] for c in todo], config.budget_s, started)
        trials += _combinations(setup, todo, trials, config, started)
    return Suggestions(
        schema=SCHEMA,
        started_at=started_at.isoformat(timespec="seconds"),
        finished_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        command=config.command,
        state=base.name,
        targets=dict(base.targets),
        dataset=dataset,
        budget_s=config.budget_s,
        hypopg=pruning.summary,
        captured=found.measurements,
        existing=found.existing,
        candidates=tuple(derived),
        dropped=tuple(dropped),
        trials=tuple(trials),
        weights=dict(config.weights),
        writes=dict(config.writes),
        errors=tuple(errors),
    )


def _combinations(
    setup: Setup, todo: list[Candidate], trials: list[Trial], config: SearchConfig, started: float
) -> list[Trial]:
    """Two candidates together, when each alone helps scenarios the other does not, on one table."""
    ranked = rank.ranking(trials, config.weights, config.writes)
    by_name = {c.name: c for c in todo}
    pairs = rank.combinations(ranked, {c.name: c.table for c in todo})
    plan = [[by_name[a], by_name[b]] for a, b in pairs]
    return within_budget(setup, plan, config.budget_s, started, first=len(trials) + 1)
