"""`bench run`: seed once, then measure every scenario on two copies of the data, one per state, with
before and after interleaved round by round; write one results file.

Order matters for honesty: the data is seeded (or reused) once; each state lives in its own copy of it
(CREATE DATABASE ... TEMPLATE), reached with Django's migrate and ANALYZEd; every pair of rounds runs
the two sides back to back, on warmed connections. Costs and the scale curve use databases of their own.
One advisory lock on the seeded database keeps a second run (or seed) from changing it meanwhile.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import secrets
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from django.db.utils import InterfaceError, OperationalError

from django_index_bench.bench import environment, results
from django_index_bench.bench.config import ProjectConfig
from django_index_bench.bench.costs.collect import collect_costs, copy_name, server_lost
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.load.measure import LoadConfig, failed, load_states, measure_load
from django_index_bench.bench.load.measure import check as check_load
from django_index_bench.bench.load.results import LoadRun
from django_index_bench.bench.options import writable_dir
from django_index_bench.bench.pg import cache, clones, db
from django_index_bench.bench.pg import run_lock as locks
from django_index_bench.bench.pg import server as embedded
from django_index_bench.bench.results import Costs, Dataset, Results, ScaleRun, Sensitivity
from django_index_bench.bench.rounds.copies import MAX_COPIES, count_for, megabytes, small_limit
from django_index_bench.bench.rounds.schedule import Rules, record
from django_index_bench.bench.rounds.sides import ConnectionLost
from django_index_bench.bench.scenarios import Scenario, load
from django_index_bench.bench.seeding import check_options, claim, owner_of, source_for
from django_index_bench.bench.steps import confirm_run, sensitivity
from django_index_bench.bench.steps.scales import MainSeries, run_scales, scale_database
from django_index_bench.bench.steps.states import State, ensure_schema, resolve_states, schema_state, steps_to
from django_index_bench.bench.steps.stopwatch import Stopwatch
from django_index_bench.bench.steps.timed import Measured, measure_states
from django_index_bench.verdicts.defaults import DEFAULT_ALPHA, DEFAULT_THRESHOLD

if TYPE_CHECKING:
    from django_index_bench.seed import SeedOutcome
    from django_index_bench.seed.source import Source


@dataclass(frozen=True)
class RunConfig:
    project: ProjectConfig
    profile: str | None
    seed: int
    results_dir: Path
    command: str
    rows: dict[str, int] = field(default_factory=dict)  # per-table overrides of the profile's counts
    database: str | None = None
    scenarios: tuple[str, ...] = ()  # empty: all
    before: dict[str, str] = field(default_factory=dict)  # empty: the configured before state
    rules: Rules = field(default_factory=Rules)
    cold: bool = True
    costs: bool = True
    scales: tuple[int, ...] = ()  # rows of the configured scale tables per point; empty: none
    allow_foreign: bool = False
    force_seed: bool = False
    no_seed: bool = False  # measure the database as it is (copies of it), never seeding or migrating it
    reseed: bool = True  # False: data other than asked for (seed, plan, counts, state) is refused
    aa: bool = False  # A/A: both sides at the after state, to see what no change looks like
    wait: bool = True  # for another run holding the database; False: refuse
    keep_databases: bool = False
    sensitivity_trials: int = 0  # per slowdown and class; 0: no sensitivity check
    progress: bool = True
    load: LoadConfig | None = None  # the endpoints under load after the measurement; None: skipped
    copies: int | None = None  # database copies per state (--copies); None: by the data's size
    confirm: bool = True  # measure each call (faster, slower) a second time before reporting it


def select(all_scenarios: dict[str, Scenario], wanted: tuple[str, ...]) -> dict[str, Scenario]:
    unknown = sorted(set(wanted) - all_scenarios.keys())
    if unknown:
        raise UsageError(f"unknown scenario {', '.join(unknown)}; known: {', '.join(sorted(all_scenarios))}")
    return {n: s for n, s in all_scenarios.items() if not wanted or n in wanted}


def prepare(
    target: db.Target,
    source: Source,
    before: State,
    *,
    force: bool,
    progress: bool,
    reseed: bool = True,
    project: ProjectConfig | None = None,
) -> SeedOutcome:
    """The schema at `before` and the data seeded there, on Django's database. Rows are always loaded
    at `before`, as production reached it: a database that must be seeded again while it is at another
    state starts over first (re-created, or migrated when the harness did not create it). Data seeded at
    `before` is reused even if the database moved since: each copy migrates to its state anyway.
    reseed=False: data other than asked for is refused in one line. `project`: the project seeding it;
    a database another project seeded is refused, or with `force` emptied and seeded for this one
    (bench.seeding.claim). The caller holds the lock."""
    from django.db import connection

    from django_index_bench.seed import ensure_seeded
    from django_index_bench.seed.copying import holds, recover

    by = None
    if project is not None:
        by = owner_of(project)
        claim(target, by, replace=force)
    # An interrupted parallel rebuild left keys or indexes missing: back first, or a migration of them fails.
    recover(target.url)
    state = schema_state(before)
    if not ensure_schema(before) and steps_to(before) and reseed:
        connection.close()
        if force or not holds(target.url, source, state):
            _start_over(target, before)
    connection.close()  # the seeder works on its own connections; hold no locks meanwhile
    return ensure_seeded(
        target.url, source, force=force, progress=progress, state=state, reseed=reseed, by=by
    )


def _start_over(target: db.Target, before: State) -> None:
    """The database emptied and its schema made at `before`: its rows were loaded at another state."""
    from django.core.management import call_command
    from django.db import connection

    connection.close()
    if embedded.is_owned(target.url):
        db.reset(target)
        ensure_schema(before)
        return
    # Not ours (--allow-foreign-database: it may be migrated and wiped): migrated to `before`; its rows
    # are then replaced, as its marker does not match what is asked for.
    for app, migration in schema_state(before).items():
        call_command("migrate", app, migration, verbosity=0, interactive=False)


def as_is(target: db.Target, tables: Sequence[str]) -> Dataset:
    """The dataset of a database measured as it is (--no-seed): its tables' sizes, as the statistics
    estimate them (counting a production-sized table would take minutes)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples::bigint FROM pg_class WHERE relkind = 'r' AND relname = ANY(%s)",
            [list(tables)],
        )
        counts = {str(name): max(0, int(n)) for name, n in cursor.fetchall()}
    return Dataset(
        profile=None,
        seed=0,
        counts=counts,
        fingerprint=f"as is: {target.name}",
        seeder_version="none (--no-seed)",
        reused=True,
        seed_seconds=0.0,
        seeded=False,
    )


def seeded(outcome: SeedOutcome, seconds: float) -> Dataset:
    return Dataset(
        profile=outcome.source.profile,
        seed=outcome.source.seed,
        counts=dict(outcome.source.dataset_counts),
        fingerprint=outcome.fingerprint,
        seeder_version=outcome.seeder_version,
        reused=outcome.reused,
        seed_seconds=seconds,
    )


def model_tables() -> list[str]:
    from django.apps import apps

    return sorted({m._meta.db_table for m in apps.get_models() if m._meta.managed})


@dataclass(frozen=True)
class Copies:
    """The database copies per state of a run, and why that many, for the record."""

    count: int
    reason: str


def choose_copies(size_bytes: int, requested: int | None) -> Copies:
    """rounds.copies' rule (compare's too), from the seeded database's size, or as --copies asked."""
    count, size = count_for(size_bytes, requested), megabytes(size_bytes)
    if requested is not None:
        return Copies(count, f"{count} per state, as --copies asked (data {size})")
    if count == MAX_COPIES:
        why = f"the data ({size}) is at most {small_limit()}, so cloning its migrated copies is cheap"
    else:
        why = f"the data ({size}) is over {small_limit()}, so each copy costs a full copy of it"
    return Copies(count, f"{count} per state, each with its own connections: {why}")


def run_id(started_at: dt.datetime, commit: str | None) -> str:
    """Time, commit and a random part: two runs started in the same second still differ."""
    parts = [started_at.strftime("%Y%m%dT%H%M%SZ"), *([commit[:7]] if commit else []), secrets.token_hex(3)]
    return "-".join(parts)


def _check_up_front(config: RunConfig, target: db.Target) -> None:
    """What would otherwise be found only after minutes of measuring."""
    writable_dir(config.results_dir, option="--results-dir")
    if config.scales and not config.project.scales.tables:
        raise UsageError(f"--scales: {config.project.path} names no [scales] tables to resize")
    if config.no_seed and (config.scales or config.force_seed):
        raise UsageError(
            "--no-seed measures the data as it is: it cannot be combined with --scales or --force-seed"
        )
    if config.load is not None:
        check_load(config.load)
    for rows in config.scales:
        clones.check_ours_or_absent(target, scale_database(target, rows))


def _check_scales(project: ProjectConfig, source: Source, scenarios: dict[str, Scenario]) -> None:
    """The [scales] names, before minutes of measuring: its tables (the seeder resizes them) and
    scenarios must exist."""
    source.with_counts(dict.fromkeys(project.scales.tables, 1_000))
    unknown = sorted(set(project.scales.scenarios) - scenarios.keys())
    if unknown:
        raise UsageError(f"{project.path}: scales.scenarios: unknown scenario {', '.join(unknown)}")


def _target(config: RunConfig) -> db.Target:
    """The database to measure. With --no-seed it must exist and is only ever copied, so the guard
    against changing a database the harness did not create does not apply to it."""
    target = db.resolve(config.database, create=not config.no_seed)
    if not config.no_seed:
        db.guard(target, allow_foreign=config.allow_foreign)
    return target


# The server went away: no results file may claim to be complete, so these end the run (bench run reports
# them) instead of being recorded as the cost step's failure.
LOST_SERVER = (ConnectionLost, OperationalError, InterfaceError, psycopg.OperationalError)


def measure_costs(
    target: db.Target,
    states: tuple[State, State],
    dataset: Dataset,
    tag: str,
    *,
    progress: bool,
    ready: dict[str, db.Target] | None = None,
) -> Costs:
    """What the indexes cost; when the step fails (a table it cannot copy, a failed insert, ...), that
    failure recorded as its result, so the read measurements already taken still reach the results file.
    collect_costs drops its copies (and `ready`, copies already in their states) either way."""
    name = clones.name_for(target, tag, "costs")
    largest = max(dataset.counts.values(), default=1_000)
    try:
        return collect_costs(
            target,
            states,
            name,
            # Per repetition: every write figure now runs 6 pairs on each changed table.
            copy_rows=min(20_000, largest),
            orm_rows=min(200, max(50, largest // 1_000)),
            progress=progress,
            ready=ready,
        )
    except Exception as exc:  # recorded: the run exits 1 and the report shows the cost step FAILED
        if isinstance(exc, ConnectionLost) or server_lost(exc):
            raise  # an error the server answered with (SQLSTATE other than 08, 57P) is the step's
        where = ready[states[0].name].name if ready else copy_name(name, states[0].name)
        return Costs.failed(f"{type(exc).__name__}: {db.first_line(exc)}", where)


def execute(config: RunConfig) -> tuple[Results, Path]:
    from django.db import connection

    started_at = dt.datetime.now(dt.UTC)
    project = config.project
    if config.aa and config.before:
        raise UsageError("--aa puts both sides at the after state; it cannot be combined with --before")
    if config.force_seed and not config.reseed:
        raise UsageError("--force-seed re-seeds and --no-reseed never does: choose one")
    if not config.no_seed:  # a contradiction in the seed options is refused before anything is made
        check_options(project, config.profile, config.seed, config.rows)
    target = _target(config)
    db.setup_django(target, project)
    scenarios = select(load(project.scenarios, where=f"{project.path}: scenarios"), config.scenarios)
    states = resolve_states(
        project.before, project.after, config.before or None, where=f"{project.path}: states"
    )
    seed_state = states[0]  # the rows are loaded where the before state is, even for an A/A run
    if config.aa:
        states = (dataclasses.replace(states[1], name="before"), states[1])
    source = None
    if not config.no_seed:  # the plan read against the models as they are at the seeded state
        source = source_for(project, config.profile, config.seed, config.rows, schema_state(seed_state))
    _check_up_front(config, target)
    if source is not None and config.scales:
        _check_scales(project, source, scenarios)
    tag = clones.run_tag()
    # Before measuring: the settings in force while measuring, and the commit the run id names.
    env = environment.collect(project.root, embedded=target.embedded)
    # Hold no connection to the database while waiting for its lock: the holder copies it as a template.
    connection.close()
    rid = run_id(started_at, env.git_commit)
    with locks.hold(
        clones.maintenance_url(target), target.name, purpose=f"bench run {rid}", wait=config.wait
    ):
        cold = config.cold
        if cold and config.no_seed and not cache.installed():
            # The user's database is only ever copied: installing an extension in it would change it.
            cold = False
            print(
                "bench: no cold-cache series: --no-seed never installs pg_buffercache in your database; "
                "install it there to get one",
                file=sys.stderr,
            )
        elif cold:
            cache.enable()
        watch = Stopwatch()
        with watch.step("seed"):
            seed_started = time.perf_counter()
            if source is None:
                dataset = as_is(target, model_tables())
            else:
                outcome = prepare(
                    target, source, seed_state, force=config.force_seed, progress=config.progress,
                    reseed=config.reseed, project=project,
                )  # fmt: skip
                dataset = seeded(outcome, time.perf_counter() - seed_started)
                if cold:  # a database that started over lost the extension with everything else
                    cache.enable()
            connection.close()
        # The cost and load steps get copies of the read copies, taken once they are migrated.
        spares = {"costs": tuple(s.name for s in states)} if config.costs else {}
        if config.load is not None:
            spares["load"] = load_states(config.load, states)
        chosen = choose_copies(
            clones.databases_bytes(clones.maintenance_url(target), [target.name]), config.copies
        )
        measured = measure_states(
            target, states, scenarios, config.rules,
            cold=cold, seed=config.seed, tag=tag,
            keep=config.keep_databases, progress=config.progress, label="measuring", clock=watch,
            spares=spares, copies_per_state=chosen.count, confirm=config.confirm,
        )  # fmt: skip
        spared = dict(measured.spares)  # each step that uses its copies takes them out (and drops them)
        try:
            costs, scales, found, under_load = _after_reads(
                config, target, source, (states, seed_state), scenarios, dataset, measured, spared, tag, watch
            )
        finally:
            left = [copied for by_state in spared.values() for copied in by_state.values()]
            if left:  # those a step did not take (it did not run, or raised before taking them)
                with watch.step("copies"):
                    db.switch_django(target)
                    clones.drop_all(target, left)
    run = Results(
        schema_version=results.SCHEMA_VERSION,
        run_id=rid,
        started_at=started_at.isoformat(timespec="seconds"),
        finished_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        command=config.command,
        environment=env,
        dataset=dataset,
        schedule=dataclasses.replace(
            record(config.rules, sides="databases", workers=1, seed=config.seed, items=measured.items),
            # One process: a round's worker is the database copy it ran on (its own connections).
            copies=measured.copies,
            worker_copies=tuple(range(measured.copies)),
            copies_reason=chosen.reason,
            prewarm=measured.prewarm,
        ),
        states=measured.states,
        scenarios=tuple(s.info(measured.cases.get(n, [])) for n, s in scenarios.items()),
        measurements=measured.warm,
        costs=costs,
        cold=measured.cold,
        scales=scales,
        sensitivity=found,
        load=under_load,
        steps=watch.recorded(),
        confirmation=measured.confirmation
        if config.confirm
        else results.RunConfirmation(enabled=False, note=confirm_run.OFF, seed=config.seed),
    )
    return run, results.save(run, config.results_dir)


def _after_reads(
    config: RunConfig,
    target: db.Target,
    source: Source | None,
    states_and_seeded: tuple[tuple[State, State], State],
    scenarios: dict[str, Scenario],
    dataset: Dataset,
    measured: Measured,
    spared: dict[str, dict[str, db.Target]],
    tag: str,
    watch: Stopwatch,
) -> tuple[Costs | None, tuple[ScaleRun, ...], Sensitivity | None, LoadRun | None]:
    """The steps after the read measurements: costs, the scale curve, sensitivity, the load step. The cost
    and load steps take their copies out of `spared`, and drop them themselves."""
    states, seed_state = states_and_seeded
    project = config.project
    costs = None
    if config.costs and not measured.broken:
        with watch.step("costs"):
            ready = spared.pop("costs", None)
            costs = measure_costs(target, states, dataset, tag, progress=config.progress, ready=ready)
    scales: tuple[ScaleRun, ...] = ()
    if source is not None:
        with watch.step("scales") if config.scales else contextlib.nullcontext():
            scales = run_scales(
                target, source, project.scales, config.scales, states, scenarios, config.rules,
                lambda t, s: prepare(
                    t, s, seed_state, force=False, progress=config.progress, project=project
                ),
                seed=config.seed, tag=tag, keep=config.keep_databases, progress=config.progress,
                main_series=MainSeries(dataset.fingerprint, measured.warm), copies=measured.copies,
            )  # fmt: skip
    found = None
    if config.sensitivity_trials and not measured.broken:
        with watch.step("sensitivity"):
            found = sensitivity.on_copy(
                target, states[-1], scenarios, measured.cases, config.rules, tag,
                slowdowns=sensitivity.SLOWDOWNS, kinds=("orm", "db"), trials=config.sensitivity_trials,
                threshold=DEFAULT_THRESHOLD, alpha=DEFAULT_ALPHA,
            )  # fmt: skip
    under_load = None
    if config.load is not None and measured.broken:
        why = "; ".join(f"state {s}: {e}" for s, e in measured.broken.items())
        under_load = failed(states, config.load, dataset.profile, f"not run: {why}")
    elif config.load is not None:
        with watch.step("load"):
            under_load = measure_load(
                target, states, config.load, tag=tag, keep=config.keep_databases, profile=dataset.profile,
                ready=spared.pop("load", None),
            )  # fmt: skip
    return costs, scales, found, under_load
