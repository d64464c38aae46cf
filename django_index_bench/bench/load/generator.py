"""The load generator's own process: `python -m django_index_bench.bench.load.generator < plan.json`.

locust in library mode (Environment + local runner, FastHttpUser), which monkey-patches the standard
library with gevent on import: hence a process of its own, started by bench.load.drive. The plan (JSON
on stdin) lists the bursts in the order to run them; one JSON line per finished burst goes to stdout.

Every burst is bounded twice: by its request count (no user sends once the count is reached) and by its
time (after `seconds` nobody sends, and requests still unanswered `timeout_s` later are abandoned).
"""

from __future__ import annotations

import json
import logging
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from django_index_bench.bench.load.loopback import check_url
from django_index_bench.bench.load.results import CUT_OFF, TIMEOUT

POLL_S = 0.005
# After a burst that abandoned requests, its server may still be working on them: the next burst (the
# other side's server, on the same cores) waits until this one has been idle for SETTLE_WINDOW_S.
SETTLE_WINDOW_S = 0.2
SETTLE_IDLE_CPU_S = 0.02


@dataclass
class _Burst:
    """What the users of one burst share: greenlets are cooperative, so plain counters are safe."""

    planned: int
    deadline: float
    sent: int = 0
    ok: int = 0
    response_bytes: int = 0
    first_sent: float | None = None
    last_done: float | None = None
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def take(self) -> bool:
        if self.sent >= self.planned or time.monotonic() >= self.deadline:
            return False
        if self.first_sent is None:
            self.first_sent = time.monotonic()
        self.sent += 1
        return True

    @property
    def done(self) -> int:
        return len(self.latencies_ms)


def _kind(exception: BaseException, status: int | None) -> str:
    if status and status >= 400:
        return f"HTTP {status}"
    text = str(exception).lower()
    if isinstance(exception, TimeoutError | socket.timeout) or "timed out" in text or "timeout" in text:
        return TIMEOUT
    return type(exception).__name__


def _cpu(pids: list[int]) -> dict[int, float]:
    """user + system CPU seconds of each process of the given trees (a gunicorn master and workers)."""
    seen: dict[int, float] = {}
    for pid in pids:
        try:
            root = psutil.Process(pid)
            for process in [root, *root.children(recursive=True)]:
                times = process.cpu_times()
                seen[process.pid] = times.user + times.system
        except psutil.Error:
            continue
    return seen


def _cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    # A worker that appeared meanwhile (a restart) counts whole; one that vanished has no "after".
    return sum(max(0.0, seconds - before.get(pid, 0.0)) for pid, seconds in after.items())


def settle(pids: list[int], limit_s: float) -> float:
    """Wait (at most limit_s) until the servers' processes used almost no CPU for a short window; the
    seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        before = _cpu(pids)
        time.sleep(SETTLE_WINDOW_S)
        if _cpu_delta(before, _cpu(pids)) < SETTLE_IDLE_CPU_S:
            break
    return time.monotonic() - started


def _own_cpu() -> float:
    times = psutil.Process().cpu_times()
    return float(times.user + times.system)


def run_burst(spec: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    import gevent
    from locust import FastHttpUser, constant, task
    from locust.env import Environment
    from locust.exception import StopUser

    url = check_url(spec["url"])
    base, _, path = url.partition("://")[2].partition("/")
    state = _Burst(planned=int(spec["requests"]), deadline=time.monotonic() + float(spec["seconds"]))

    class Client(FastHttpUser):
        host = f"http://{base}"
        wait_time = constant(0)
        network_timeout = timeout_s
        connection_timeout = timeout_s

        @task
        def hit(self) -> None:
            if not state.take():
                raise StopUser()
            self.client.get("/" + path, name=spec["name"])

    def on_request(
        response_time: float,
        response_length: int,
        response: Any = None,
        exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        state.last_done = time.monotonic()
        state.latencies_ms.append(round(float(response_time), 3))
        if exception is None:
            state.ok += 1
            state.response_bytes += int(response_length or 0)
            return
        status = getattr(response, "status_code", None)
        kind = _kind(exception, status if isinstance(status, int) else None)
        state.errors[kind] = state.errors.get(kind, 0) + 1

    environment = Environment(user_classes=[Client], catch_exceptions=True)
    environment.events.request.add_listener(on_request)  # type: ignore[no-untyped-call]
    runner = environment.create_local_runner()
    servers = [int(p) for p in spec.get("server_pids", [])]
    server_before, own_before = _cpu(servers), _own_cpu()
    users = int(spec["users"])
    runner.start(users, spawn_rate=users)
    stop = "count"
    give_up = state.deadline + timeout_s
    while state.done < state.planned:
        now = time.monotonic()
        if now >= state.deadline and state.done >= state.sent:
            stop = "time"
            break
        if now >= give_up:
            stop = "time"
            break
        gevent.sleep(POLL_S)
    runner.quit()
    generator_cpu = _own_cpu() - own_before
    server_cpu = _cpu_delta(server_before, _cpu(servers))
    if state.sent > state.done:  # abandoned when the time ran out
        state.errors[CUT_OFF] = state.errors.get(CUT_OFF, 0) + state.sent - state.done
    if state.errors.get(CUT_OFF) or state.errors.get(TIMEOUT):
        settle(servers, timeout_s + 5.0)
    started = state.first_sent if state.first_sent is not None else time.monotonic()
    ended = state.last_done if state.last_done is not None else started
    return {
        "id": spec["id"],
        "sent": state.sent,
        "ok": state.ok,
        "errors": state.errors,
        "seconds": max(ended - started, 0.0),
        "latencies_ms": state.latencies_ms,
        "response_bytes": state.response_bytes,
        "server_cpu_s": server_cpu,
        "generator_cpu_s": generator_cpu,
        "stop": stop,
    }


def main() -> int:
    import locust  # noqa: F401  # first: it monkey-patches the standard library with gevent

    # locust logs every spawn at INFO and warns about open-file limits: noise on the harness's stderr.
    logging.basicConfig(level=logging.ERROR)
    plan = json.load(sys.stdin)
    for spec in plan["bursts"]:
        check_url(spec["url"])  # every target, before the first request
    for spec in plan["bursts"]:
        print(json.dumps(run_burst(spec, float(plan["timeout_s"]))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
