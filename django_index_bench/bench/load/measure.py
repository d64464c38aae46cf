"""The load step: copies of the seeded data per state, a gunicorn per side, a warm-up and a check of
each side's answer, then every burst through one generator process; the result is a LoadRun.

Used by `bench load` and by `bench run` (unless --no-load), on the data they seeded. Servers, the
generator and the copies are always cleaned up, also on Ctrl-C.
"""

from __future__ import annotations

import dataclasses
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.db import connection
from tqdm import tqdm

from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.load import bursts as plan
from django_index_bench.bench.load import drive
from django_index_bench.bench.load import gunicorn as server
from django_index_bench.bench.load.endpoints import Endpoint
from django_index_bench.bench.load.loopback import check_url
from django_index_bench.bench.load.results import LoadBurst, LoadRun, LoadServer
from django_index_bench.bench.pg import clones, db
from django_index_bench.bench.steps.states import State, reach

TRIVIAL = "(trivial)"


class LoadFailed(RuntimeError):
    """A step of the load run failed (a state, a server, a side's answer): recorded, never a pass."""


WARMUP_PER_WORKER = 3


@dataclass(frozen=True)
class LoadConfig:
    endpoints: tuple[Endpoint, ...]
    settings: str  # the project's settings module
    root: Path  # where the project's code is: gunicorn's directory
    levels: tuple[int, ...] = plan.DEFAULT_LEVELS
    pairs: int = plan.DEFAULT_PAIRS
    rounds: int = plan.DEFAULT_ROUNDS
    min_requests: int = plan.MIN_REQUESTS
    burst_seconds: float = 30.0
    timeout_s: float = 10.0
    workers: int = dataclasses.field(default_factory=server.default_workers)
    port: int | None = None  # the first of consecutive ports, one per server; None: free ones
    project_app: str | None = None  # the project's WSGI callable; None: Django's get_wsgi_application()
    pythonpath: tuple[Path, ...] = ()
    calibrate: bool = True
    seed: int = 0
    progress: bool = True


def sides(config: LoadConfig) -> list[tuple[Endpoint, str]]:
    return [(e, side) for e in config.endpoints for side in e.sides]


def load_states(config: LoadConfig, states: tuple[State, State]) -> tuple[str, ...]:
    """The states the endpoints' sides are served in (a variant endpoint: only the after state)."""
    before, after = states[0].name, states[-1].name
    wanted = {e.state_of(s, before, after) for e, s in sides(config)}
    return tuple(s.name for s in states if s.name in wanted)


def check(config: LoadConfig) -> None:
    """Everything that can be refused before seeding, copying and serving: UsageError, one line."""
    plan.check_levels(config.levels)
    plan.check_counts(config.pairs, config.rounds)
    if not config.endpoints:
        raise UsageError("no endpoint to drive")
    if not 0 < config.burst_seconds <= 600 or not 0 < config.timeout_s <= 600:
        raise UsageError("burst and request time limits must be above 0 and at most 600 s")
    if not 1 <= config.workers <= 64:
        raise UsageError(f"--workers must be 1..64, got {config.workers}")
    if config.port is not None:
        server.check_ports(list(range(config.port, config.port + len(sides(config)) + 1)))


def _ports(config: LoadConfig, count: int) -> list[int]:
    if config.port is not None:
        return list(range(config.port, config.port + count))
    ports: list[int] = []
    while len(ports) < count:
        port = server.free_port()
        if port not in ports:
            ports.append(port)
    return ports


def _fetch(url: str, timeout_s: float) -> tuple[int, bytes]:
    check_url(url)
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def warm_up(endpoint: Endpoint, side: str, url: str, workers: int, timeout_s: float) -> None:
    """A few untimed requests per worker (imports, connections); the answer must be the side's own."""
    for _ in range(WARMUP_PER_WORKER * workers):
        status, body = _fetch(url, max(timeout_s, 30.0))
        if status != 200:
            raise LoadFailed(f"{endpoint.name} {side} answered HTTP {status} before any load: {body[:120]!r}")
        why = endpoint.check(side, body) if endpoint.check else None
        if why:
            raise LoadFailed(f"{endpoint.name} {side} does not answer as it should: {why}")


def _copies(target: db.Target, states: dict[str, State], tag: str, made: list[db.Target]) -> dict[str, str]:
    """A copy of the seeded data per state, moved there; `made` lists the copies even when this raises."""
    urls: dict[str, str] = {}
    for name, state in states.items():
        made.append(clones.clone(target, clones.name_for(target, tag, f"load_{name}"), tag))
        db.switch_django(made[-1])
        change = reach(state)
        connection.close()
        if not change.ok:
            raise LoadFailed(f"the load step could not reach state {name}: {change.error}")
        urls[name] = made[-1].url
    db.switch_django(target)
    return urls


def _targets(
    config: LoadConfig, running: dict[tuple[str, str], server.Running], states: dict[tuple[str, str], str]
) -> list[drive.Target]:
    endpoints = {e.name: e for e in config.endpoints}
    found = []
    for burst in plan.plan(
        config.endpoints, config.levels, pairs=config.pairs, rounds=config.rounds, seed=config.seed,
        min_requests=config.min_requests,
    ):  # fmt: skip
        key = (burst.endpoint, burst.side)
        path = endpoints[burst.endpoint].paths[burst.side]
        found.append(
            drive.Target(
                burst.endpoint,
                burst.side,
                states[key],
                burst.users,
                burst.requests,
                burst.pair,
                burst.first,
                running[key].url + path,
                running[key].process.pid,
            )
        )
    return found


def _calibration(config: LoadConfig, trivial: server.Running) -> list[drive.Target]:
    """The generator against the trivial app at the highest level, twice, as hard as it can."""
    users = max(config.levels)
    requests = plan.requests_per_burst(users, config.rounds, config.min_requests)
    url, pid = trivial.url + "/", trivial.process.pid
    return [drive.Target(TRIVIAL, "trivial", "-", users, requests, i, True, url, pid) for i in range(2)]


def _server_record(spec: server.ServerSpec, side: str, state: str, database: str) -> LoadServer:
    return LoadServer(
        side=side,
        state=state,
        database=database,
        address=f"{spec.host}:{spec.port}",
        app=spec.project_app or spec.app,
        settings=spec.settings or "-",
        worker_class=server.WORKER_CLASS,
        workers=spec.workers,
        threads=1,
        server=server.gunicorn_version(),
    )


def measure_load(
    target: db.Target,
    states: tuple[State, State],
    config: LoadConfig,
    *,
    tag: str,
    keep: bool = False,
    profile: str | None = None,
    ready: dict[str, db.Target] | None = None,
) -> LoadRun:
    """The load run; a failed step gives a run with status "failed" and the reason, not an exception.
    `ready`: a copy per state, already in its state and untouched (bench run's spares of its read
    copies), served instead of copying and migrating again; dropped (or kept) like the step's own."""
    started = time.perf_counter()
    try:
        run = _measure(target, states, config, tag=tag, keep=keep, profile=profile, ready=ready)
    except (LoadFailed, server.ServerFailed, drive.GeneratorFailed, OSError) as exc:
        return failed(states, config, profile, f"{type(exc).__name__}: {db.first_line(exc)}")
    return dataclasses.replace(run, seconds=time.perf_counter() - started)


def failed(states: tuple[State, State], config: LoadConfig, profile: str | None, error: str) -> LoadRun:
    """A load run that did not happen, and why: recorded, so the report never takes it for skipped."""
    before, after = states[0].name, states[-1].name
    return LoadRun(
        status="failed", error=error, generator=drive.generator_version(), cpu_count=os.cpu_count() or 1,
        levels=config.levels, pairs=config.pairs, rounds=config.rounds, min_requests=config.min_requests,
        burst_seconds=config.burst_seconds, timeout_s=config.timeout_s, order_seed=config.seed,
        servers=(), endpoints=tuple(e.info(before, after) for e in config.endpoints), bursts=(),
        profile=profile,
    )  # fmt: skip


def _measure(
    target: db.Target,
    states: tuple[State, State],
    config: LoadConfig,
    *,
    tag: str,
    keep: bool,
    profile: str | None,
    ready: dict[str, db.Target] | None = None,
) -> LoadRun:
    before, after = states[0].name, states[-1].name
    wanted = set(load_states(config, states))
    made: list[db.Target] = list(ready.values()) if ready is not None else []
    try:
        if ready is not None:
            missing = sorted(wanted - ready.keys())
            if missing:
                raise LoadFailed(f"no copy of state {', '.join(missing)} to serve")
            urls = {name: ready[name].url for name in wanted}
        else:
            urls = _copies(target, {s.name: s for s in states if s.name in wanted}, tag, made)
        keys = [(e.name, s) for e, s in sides(config)]
        state_of = {(e.name, s): e.state_of(s, before, after) for e, s in sides(config)}
        ports = _ports(config, len(keys) + 1)
        specs = [
            server.ServerSpec(
                f"{name}-{side}",
                server.PROJECT_APP,
                port,
                config.workers,
                database_url=urls[state_of[name, side]],
                settings=config.settings,
                project_app=config.project_app,
                chdir=config.root,
                pythonpath=config.pythonpath,
            )
            for (name, side), port in zip(keys, ports, strict=False)
        ]
        specs.append(server.ServerSpec("trivial", server.TRIVIAL_APP, ports[-1], config.workers))
        with server.serving(specs) as running_list:
            running = dict(zip(keys, running_list, strict=False))
            for endpoint, side in sides(config):
                url = running[endpoint.name, side].url + endpoint.paths[side]
                warm_up(endpoint, side, url, config.workers, config.timeout_s)
            targets = _targets(config, running, state_of)
            if config.calibrate:
                targets = _calibration(config, running_list[-1]) + targets
            bursts = _run(targets, config)
        records = [
            _server_record(spec, side, state_of[name, side], db.Target(urls[state_of[name, side]], True).name)
            for spec, (name, side) in zip(specs, keys, strict=False)
        ]
    finally:
        if keep:
            clones.keep(target, made)
        else:
            clones.drop_all(target, made)
    calibration = tuple(b for b in bursts if b.endpoint == TRIVIAL)
    return LoadRun(
        status="ok",
        error=None,
        generator=drive.generator_version(),
        cpu_count=os.cpu_count() or 1,
        levels=config.levels,
        pairs=config.pairs,
        rounds=config.rounds,
        min_requests=config.min_requests,
        burst_seconds=config.burst_seconds,
        timeout_s=config.timeout_s,
        order_seed=config.seed,
        servers=tuple(records),
        endpoints=tuple(e.info(before, after) for e in config.endpoints),
        bursts=tuple(b for b in bursts if b.endpoint != TRIVIAL),
        calibration=calibration,
        profile=profile,
    )


def _run(targets: list[drive.Target], config: LoadConfig) -> list[LoadBurst]:
    with tqdm(total=len(targets), desc="load", unit="burst", disable=not config.progress) as bar:

        def done(burst: LoadBurst) -> None:
            bar.set_postfix_str(f"{burst.endpoint} {burst.side} x{burst.users}")
            bar.update()

        return drive.drive(targets, burst_seconds=config.burst_seconds, timeout_s=config.timeout_s, done=done)
