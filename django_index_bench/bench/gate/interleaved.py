"""`bench compare` on two refs, interleaved: worker processes per ref, rounds paired across the refs.

Each item is one (scenario, case, side) as both refs measure it: the base ref's round and the head
ref's round of a pair run back to back, the order alternating from pair to pair. Each ref's results
file records its own rounds, with the pair indices and the other file's run id (`Schedule.partner`),
so the pairing survives into the files and a later `bench compare a.json b.json` pairs them again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import dacite
from tqdm import tqdm

from django_index_bench.bench import results
from django_index_bench.bench.gate import git as worktree
from django_index_bench.bench.gate.prewarm import prewarm
from django_index_bench.bench.gate.refs import (
    Confirm,
    Key,
    Log,
    Measured,
    Ref,
    RefSetup,
    Remeasured,
    can_clone,
    child_env,
    config_args,
    copy_database,
    drop_all,
    seed_database,
    server_url,
)
from django_index_bench.bench.gate.workers import DACITE, RefSides, WorkerProcess, started_each, state_passing
from django_index_bench.bench.pg import clones
from django_index_bench.bench.pg import server as embedded
from django_index_bench.bench.pg.db import first_line
from django_index_bench.bench.results import (
    Dataset,
    Environment,
    Measurement,
    Results,
    ScenarioInfo,
    Schedule,
    StateChange,
)
from django_index_bench.bench.rounds.copies import MAX_COPIES, count_for, megabytes, small_limit
from django_index_bench.bench.rounds.executor import ItemResult, run_all
from django_index_bench.bench.rounds.schedule import QUICK, Item, Rules, SideSpec, record, states_of
from django_index_bench.bench.scenarios import Case
from django_index_bench.bench.steps.run import run_id
from django_index_bench.bench.steps.stopwatch import Stopwatch

# One worker process per database copy at most (rounds.copies.MAX_COPIES: four while copies are cheap).
WORKERS = MAX_COPIES
SEED_FLAGS = ("--profile", "--seed", "--rows")
DEFAULT_SEED = 42
STATES = ("before", "after")  # the state names bench.states.resolve_states gives


@dataclass(frozen=True)
class Options:
    """What compare's pass-through arguments ask of the measurement."""

    seed_args: tuple[str, ...]
    scenarios: tuple[str, ...]
    rules: Rules
    seed: int


def options(run_args: Sequence[str]) -> Options:
    seed_args: list[str] = []
    scenarios: list[str] = []
    quick = "--quick" in run_args
    values = iter(a for a in run_args if a != "--quick")
    seed = DEFAULT_SEED
    rules = QUICK if quick else Rules()
    for flag in values:
        value = next(values)
        if flag == "--scenario":
            scenarios.append(value)
        elif flag == "--seconds":
            rules = dataclasses.replace(rules, seconds=float(value))
        elif flag in SEED_FLAGS:
            seed_args += [flag, value]
            seed = int(value) if flag == "--seed" else seed
    return Options(tuple(seed_args), tuple(scenarios), rules, seed)


def _states(pool: list[WorkerProcess], role: str, copies: int) -> tuple[list[StateChange], dict[str, str]]:
    """Each state reached by the ref's own migrations on each of its copies (by the copy's first worker:
    worker k < copies uses copy k); the first copy's changes are recorded. A state broken on any copy is
    broken: `role/state` -> error."""
    changes, broken = [], {}
    for copy in range(copies):
        worker = pool[copy]
        for state, targets in worker.call("states").items():
            change = dacite.from_dict(
                StateChange, worker.call("reach", state=state, targets=targets), config=DACITE
            )
            if copy == 0:
                changes.append(change)
            if not change.ok and f"{role}/{state}" not in broken:
                where = f" (database copy {copy})" if copy else ""
                broken[f"{role}/{state}"] = f"{change.error or 'failed'}{where}"
    return changes, broken


def plan(
    infos: Sequence[ScenarioInfo],
    cases: dict[str, list[Case]],
    wanted: Sequence[str],
    only: frozenset[Key] | None = None,
) -> list[Item]:
    """Every (scenario, case, side) of the base ref, as both refs measure it; with `only`, those alone."""
    items = []
    for info in infos:
        if wanted and info.name not in wanted:
            continue
        states = states_of(info.kind, *STATES)
        sides = ((info.baseline, states[0]), (info.candidate, states[1]))
        for case in cases.get(info.name, []):
            for side, state in sides:
                if only is not None and (info.name, case.name, side) not in only:
                    continue
                items.append(
                    Item(
                        info.name, case, "warm", SideSpec(side, state, "base"), SideSpec(side, state, "head")
                    )
                )
    return items


@dataclass(frozen=True)
class _Drawn:
    infos: tuple[ScenarioInfo, ...]
    cases: dict[str, list[Case]]
    failures: tuple[Measurement, ...]


def _drawn(worker: WorkerProcess) -> _Drawn:
    data = worker.call("cases", state="before")
    return _Drawn(
        infos=tuple(dacite.from_dict(ScenarioInfo, i, config=DACITE) for i in data["infos"].values()),
        cases={n: [Case(c["name"], c["params"]) for c in cs] for n, cs in data["cases"].items()},
        failures=tuple(dacite.from_dict(Measurement, m, config=DACITE) for m in data["failures"]),
    )


def _results(
    pool: list[WorkerProcess],
    rid: str,
    partner: str,
    started_at: dt.datetime,
    schedule: Schedule,
    changes: list[StateChange],
    drawn: _Drawn,
    measurements: list[Measurement],
    command: str,
) -> Results:
    return Results(
        schema_version=results.SCHEMA_VERSION,
        run_id=rid,
        started_at=started_at.isoformat(timespec="seconds"),
        finished_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        command=command,
        environment=dacite.from_dict(Environment, pool[0].call("environment", state="before"), config=DACITE),
        dataset=dacite.from_dict(Dataset, pool[0].call("dataset", state="before"), config=DACITE),
        schedule=dataclasses.replace(schedule, partner=partner),
        states=tuple(changes),
        scenarios=drawn.infos,
        measurements=(*drawn.failures, *measurements),
    )


@contextlib.contextmanager
def _databases(server: str, keep: bool, log: Log) -> Iterator[list[str]]:
    created: list[str] = []
    try:
        yield created
    finally:
        if keep:
            embedded.keep(server, created)
        else:
            drop_all(server, created, log)


@dataclass(frozen=True)
class Copies:
    """How many database copies each (ref, state) gets per measuring pass, and why, for the record."""

    count: int
    reason: str

    def of(self, worker: int) -> int:
        """Workers go round-robin over the copies: each copy has its own workers and connections."""
        return worker % self.count

    @property
    def worker_copies(self) -> tuple[int, ...]:
        return tuple(self.of(w) for w in range(WORKERS))


def choose_copies(size_bytes: int, requested: int | None) -> Copies:
    """The copies per (ref, state), from the seeded database's size (or as asked): rounds.copies' rule."""
    count, size = count_for(size_bytes, requested), megabytes(size_bytes)
    if requested is not None:
        return Copies(count, f"{count} per ref and state, as --copies asked (seeded data {size})")
    if count == MAX_COPIES:
        return Copies(
            count,
            f"{count} per ref and state, one per worker: the seeded data ({size}) is at most "
            f"{small_limit()}, so copying and migrating it {count} times is cheap",
        )
    return Copies(
        count,
        f"{count} per ref and state, {WORKERS // count} workers each: the seeded data "
        f"({size}) is over {small_limit()}, so each copy costs a full copy and migration",
    )


@dataclass(frozen=True)
class _Setup:
    """What every measuring pass of one compare shares: the server, the seeded databases, the checkouts
    and how to start their workers."""

    server: str
    seeded: dict[str, str]  # role -> the seeded database its state copies are made from
    refs: dict[str, Ref]
    trees: dict[str, Path]
    opts: Options
    setup: RefSetup
    created: list[str]  # every database made, dropped at the end
    out: Path
    log: Log
    watch: Stopwatch
    copies: Copies


def measure_interleaved(
    repo: Path,
    base: Ref,
    head: Ref,
    run_args: Sequence[str],
    out: Path,
    setup: RefSetup,
    *,
    keep_databases: bool,
    log: Log,
    clock: Stopwatch | None = None,
    confirm: Confirm | None = None,
    copies: int | None = None,
) -> tuple[Measured, Measured, Remeasured | None]:
    """`clock` gets the seconds of seeding, of the state copies (cloned, then migrated by the workers)
    and of each cache series's items. With `confirm`, the items it names from the first measurement are
    measured a second time, on fresh state copies of the same seeded data with fresh workers."""
    watch = clock if clock is not None else Stopwatch()
    opts = options(run_args)
    server = server_url()
    prefix = f"bench_cmp_{clones.run_tag()}"
    refs = {"base": base, "head": head}
    with (
        worktree.sigterm_as_interrupt(),
        tempfile.TemporaryDirectory(prefix=worktree.scratch_prefix()) as tmp,
        _databases(server, keep_databases, log) as created,
        worktree.checkout(repo, base.commit, Path(tmp) / "base") as base_tree,
        worktree.checkout(repo, head.commit, Path(tmp) / "head") as head_tree,
    ):
        setup.provide(base_tree, log)
        setup.provide(head_tree, log)
        seeded = {role: f"{prefix}_{role}" for role in refs}
        with watch.step("seed"):
            created.append(seeded["base"])
            seed_database(base, base_tree, opts.seed_args, seeded["base"], setup, log)
            created.append(seeded["head"])
            if can_clone(repo, base, head, setup.seeder):
                copy_database(server, seeded["base"], seeded["head"])
                log(f"seeder unchanged: {seeded['head']} copied from {seeded['base']}")
            else:
                seed_database(head, head_tree, opts.seed_args, seeded["head"], setup, log)
        trees = {"base": base_tree, "head": head_tree}
        chosen = choose_copies(clones.databases_bytes(server, [seeded["base"]]), copies)
        log(f"database copies: {chosen.reason}")
        shared = _Setup(server, seeded, refs, trees, opts, setup, created, out, log, watch, chosen)
        first_base, first_head = _pass(shared, 1, None)
        keys = confirm(first_base.results, first_head.results) if confirm is not None else ()
        if not keys:
            return first_base, first_head, None
        log(f"measuring {len(keys)} item(s) again on fresh copies and workers before failing on a timing")
        try:
            again_base, again_head = _pass(shared, 2, frozenset(keys))
        except Exception as exc:  # never lost: the findings stand, and say why
            error = f"{type(exc).__name__}: {first_line(exc)}"
            log(f"the second measurement failed: {error}")
            return first_base, first_head, Remeasured(keys, None, None, error)
        return first_base, first_head, Remeasured(keys, again_base, again_head)


def _copy_name(shared: _Setup, role: str, state: str, suffix: str, copy: int) -> str:
    return f"{shared.seeded[role]}_{state}{suffix}_c{copy}"


def _pass(shared: _Setup, number: int, only: frozenset[Key] | None) -> tuple[Measured, Measured]:
    """One measurement of both refs: state copies of the seeded data made for this pass (several per ref
    and state), worker processes started for it (round-robin over the copies), and the items (all, or
    `only` these) paired across the refs."""
    started_at = dt.datetime.now(dt.UTC)
    suffix = "" if number == 1 else f"_m{number}"
    count = shared.copies.count
    names = []
    with shared.watch.step("copies"):
        for role in shared.refs:
            for state in STATES:
                for copy in range(count):
                    names.append(_copy_name(shared, role, state, suffix, copy))
                    shared.created.append(names[-1])
                    copy_database(shared.server, shared.seeded[role], names[-1])
    each: dict[str, list[tuple[dict[str, str], list[str]]]] = {}
    for role in shared.refs:
        tree = shared.trees[role]
        each[role] = []
        for worker in range(WORKERS):
            copy = shared.copies.of(worker)
            urls = {
                state: embedded.with_database(shared.server, _copy_name(shared, role, state, suffix, copy))
                for state in STATES
            }
            passing, extra_env = state_passing(tree, urls)
            args = [*passing, *shared.opts.seed_args, *config_args(tree, shared.setup.config)]
            each[role].append(({**child_env(tree), **extra_env}, args))
    shared.log(f"starting {WORKERS} worker processes per ref over {count} database copies per state")
    with (
        started_each(shared.trees["base"], each["base"]) as base_pool,
        started_each(shared.trees["head"], each["head"]) as head_pool,
    ):
        pools = {"base": base_pool, "head": head_pool}
        return _measure(shared, pools, started_at, only, "" if number == 1 else ".confirm", names)


def _measure(
    shared: _Setup,
    pools: dict[str, list[WorkerProcess]],
    started_at: dt.datetime,
    only: frozenset[Key] | None,
    suffix: str,
    names: Sequence[str],
) -> tuple[Measured, Measured]:
    refs, opts, log, watch = shared.refs, shared.opts, shared.log, shared.watch
    changes: dict[str, list[StateChange]] = {}
    broken: dict[str, str] = {}
    with watch.step("copies"):  # the workers migrate each copy to its state
        for role, pool in pools.items():
            changes[role], failed = _states(pool, role, shared.copies.count)
            broken.update(failed)
            for key, error in failed.items():
                log(f"{key}: {error}")
        # Every copy at its state: each gets the same cache treatment before any round is timed.
        prewarmed = prewarm(shared.server, names)
        log(f"prewarm: {prewarmed}")
    with watch.step("warm"):  # drawing the cases is part of measuring, as in bench run
        drawn = {role: _drawn(pool[0]) for role, pool in pools.items()}
        items = plan(drawn["base"].infos, drawn["base"].cases, opts.scenarios, only)
    done: list[ItemResult] = []
    with tqdm(total=len(items), desc="comparing", unit="item", disable=not sys.stderr.isatty()) as bar:

        def show(item: Item) -> None:
            bar.set_postfix_str(f"{item.label} {item.baseline.name}")

        last = time.perf_counter()
        for result in run_all(items, RefSides(pools, opts.seed), opts.rules, opts.seed, broken, show):
            watch.add(result.scheduled.cache, time.perf_counter() - last)
            last = time.perf_counter()
            done.append(result)
            bar.update()
    schedule = dataclasses.replace(
        record(
            opts.rules,
            sides="workers",
            workers=WORKERS,
            seed=opts.seed,
            items=tuple(r.scheduled for r in done),
        ),
        copies=shared.copies.count,
        worker_copies=shared.copies.worker_copies,
        copies_reason=shared.copies.reason,
        prewarm=prewarmed,
    )
    ids = {role: run_id(started_at, ref.commit) for role, ref in refs.items()}
    command = "bench compare " + " ".join(f"{r.name}" for r in refs.values())
    measured = []
    for role, ref in refs.items():
        other = "head" if role == "base" else "base"
        mine = [r.baseline if role == "base" else r.candidate for r in done]
        run = _results(
            pools[role],
            ids[role],
            ids[other],
            started_at,
            schedule,
            changes[role],
            drawn[role],
            mine,
            command,
        )
        path = shared.out / f"{role}{suffix}.json"
        results.write_atomic(path, results.to_json(run))
        measured.append(Measured(ref, run, path))
    return measured[0], measured[1]
