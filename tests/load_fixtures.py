"""Hand-built load results for tests that need no server: bursts with known latencies and errors."""

from __future__ import annotations

import dataclasses

from django_index_bench.bench.load.results import TIMEOUT, LoadBurst, LoadEndpoint, LoadRun, LoadServer
from django_index_bench.bench.results import Results
from tests.sample_results import sample_results

ENDPOINT = "helpdesk_load_peoples"


def burst(
    side: str,
    users: int,
    pair: int,
    *,
    ms: float,
    seconds: float,
    n: int = 20,
    errors: dict[str, int] | None = None,
) -> LoadBurst:
    """n requests of `ms` each except the last, which takes twice as long (the burst's max)."""
    failed = sum((errors or {}).values())
    return LoadBurst(
        endpoint=ENDPOINT, side=side, state="after", users=users, pair=pair,
        first=(pair % 2 == 0) == (side == "legacy"), planned=n, sent=n, ok=n - failed,
        errors=dict(errors or {}), seconds=seconds,
        latencies_ms=tuple([ms] * (n - 1) + [2 * ms]),
        response_bytes=(n - failed) * (100 if side == "paginated" else 5000),
        server_cpu_s=seconds / 2, generator_cpu_s=seconds / 10, stop="count",
    )  # fmt: skip


def load_run(
    *,
    paginated_ms: float = 100.0,
    legacy_ms: float = 900.0,
    paginated_errors: dict[str, int] | None = None,
    speed: float = 1.0,
    levels: tuple[int, ...] = (1, 100),
    pairs: int = 3,
) -> LoadRun:
    """Legacy slower than paginated at every level; `speed` scales every burst's duration (1/speed)."""
    bursts = []
    for users in levels:
        for pair in range(pairs):
            wobble = 1.0 + 0.02 * pair  # bursts differ a little, as real ones do
            bursts.append(burst("legacy", users, pair, ms=legacy_ms * wobble, seconds=2.0 * wobble / speed))
            bursts.append(
                burst(
                    "paginated", users, pair, ms=paginated_ms * wobble, seconds=0.5 * wobble / speed,
                    errors=paginated_errors,
                )
            )  # fmt: skip
    servers = tuple(
        LoadServer(
            side=side,
            state="after",
            database="bench_r1_load_after",
            address=f"127.0.0.1:{port}",
            app="project.wsgi:application",
            settings="project.settings",
            worker_class="sync",
            workers=2,
            threads=1,
            server="gunicorn 23.0.0",
        )
        for side, port in (("legacy", 8001), ("paginated", 8002))
    )
    calibration = tuple(
        dataclasses.replace(burst("trivial", max(levels), i, ms=5, seconds=0.1), endpoint="(trivial)")
        for i in range(2)
    )
    return LoadRun(
        status="ok", error=None, generator="locust 2.x", cpu_count=2, levels=levels, pairs=pairs, rounds=3,
        min_requests=20, burst_seconds=30.0, timeout_s=10.0, order_seed=42, servers=servers,
        endpoints=(
            LoadEndpoint(
                name=ENDPOINT, title="Helpdesk loadPeoples over HTTP", kind="variant", baseline="legacy",
                candidate="paginated",
                paths={"legacy": "/api/y_helpdesk/?action=loadPeoplesLegacy",
                       "paginated": "/api/y_helpdesk/?action=loadPeoples&page=1"},
                states={"legacy": "after", "paginated": "after"},
            ),
        ),
        bursts=tuple(bursts), calibration=calibration, profile="tiny", seconds=12.0,
    )  # fmt: skip


def with_load(run: LoadRun | None = None, **changes: object) -> Results:
    base = sample_results()
    return dataclasses.replace(base, load=run if run is not None else load_run(), **changes)  # type: ignore[arg-type]


TIMEOUTS = {TIMEOUT: 2}
