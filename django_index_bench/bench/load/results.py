"""The load section of the results file (bench.results.Results.load): what `bench load` measured.

Plain frozen dataclasses, like the rest of the contract. Every request's latency is kept (one float per
request, in completion order, per burst), so percentiles, intervals and charts can be recomputed later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LoadStatus = Literal["ok", "failed"]
# Why a burst stopped: it sent and finished all its requests ("count"), or its time ran out ("time")
# and the requests still unanswered were abandoned (counted as the error kind "cut off").
BurstStop = Literal["count", "time"]
# Error kinds besides "HTTP <status>": the client gave up waiting, or the burst's time ran out.
TIMEOUT = "timeout"
CUT_OFF = "cut off"


@dataclass(frozen=True)
class LoadServer:
    """One gunicorn serving one side of the endpoints, on loopback, from one state's database."""

    side: str
    state: str
    database: str
    address: str  # "127.0.0.1:PORT"
    app: str  # the WSGI callable, "project.wsgi:application"
    settings: str  # DJANGO_SETTINGS_MODULE
    worker_class: str  # "sync"
    workers: int
    threads: int
    server: str  # "gunicorn 23.0.0"


@dataclass(frozen=True)
class LoadEndpoint:
    name: str
    title: str
    kind: str  # "variant": two code paths in one state; "migration": one path in two states
    baseline: str
    candidate: str
    paths: dict[str, str]  # side -> the request's path and query
    states: dict[str, str]  # side -> the migration state its server's database is in


@dataclass(frozen=True)
class LoadBurst:
    """One closed-loop burst: `users` clients each sending its next request as soon as the last one is
    answered, until `planned` requests were sent (or the burst's time ran out)."""

    endpoint: str  # "(trivial)" for the generator's calibration against a trivial WSGI app
    side: str
    state: str
    users: int
    pair: int  # bursts of the two sides with the same (endpoint, users, pair) ran back to back
    first: bool  # this side ran first in its pair
    planned: int
    sent: int
    ok: int
    errors: dict[str, int]  # kind -> count: "HTTP 500", TIMEOUT, CUT_OFF, an exception's class name
    seconds: float  # wall time from the first request sent to the last one finished
    latencies_ms: tuple[float, ...]  # every finished request (any outcome), in completion order
    response_bytes: int  # summed over the OK responses
    server_cpu_s: float  # user + system CPU of the side's gunicorn (master and workers) meanwhile
    generator_cpu_s: float  # user + system CPU of the load generator's process meanwhile
    stop: BurstStop

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def finished(self) -> int:
        return len(self.latencies_ms)

    @property
    def throughput(self) -> float:
        """Answered requests per second (errors included: they occupied the server too)."""
        return self.finished / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class LoadRun:
    status: LoadStatus
    error: str | None
    generator: str  # "locust 2.x (FastHttpUser, library mode, own process)"
    cpu_count: int  # the generator and every server share these
    levels: tuple[int, ...]  # concurrent users per level
    pairs: int  # burst pairs per endpoint and level
    rounds: int  # requests per user per burst (at least min_requests per burst)
    min_requests: int
    burst_seconds: float  # a burst stops sending after this long
    timeout_s: float  # a request not answered within this is a TIMEOUT error
    order_seed: int  # which side goes first in pair 0; pairs alternate A B, B A from there
    servers: tuple[LoadServer, ...]
    endpoints: tuple[LoadEndpoint, ...]
    bursts: tuple[LoadBurst, ...]
    # The generator against a trivial WSGI app (a fixed 2-byte answer) on a server like the others: how
    # fast it can drive requests at all on this machine. Empty when not measured.
    calibration: tuple[LoadBurst, ...] = ()
    profile: str | None = None  # the dataset profile it was measured on
    seconds: float = 0.0  # the whole load step, servers and clones included

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def bursts_of(self, endpoint: str, side: str | None = None, users: int | None = None) -> list[LoadBurst]:
        return [
            b
            for b in self.bursts
            if b.endpoint == endpoint and side in (None, b.side) and users in (None, b.users)
        ]

    def endpoint(self, name: str) -> LoadEndpoint | None:
        return next((e for e in self.endpoints if e.name == name), None)
