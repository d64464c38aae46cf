"""Run the load generator's process over a list of bursts and read back one result per burst.

The generator is a child process (bench.load.generator: locust, gevent). It is always stopped on the
way out, also when this process is interrupted, and its whole run is bounded: every burst is bounded
in count and time, so the plan's total bounds the process; past that it is killed.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from django_index_bench.bench.children import die_with_parent
from django_index_bench.bench.load.loopback import check_url
from django_index_bench.bench.load.results import BurstStop, LoadBurst

STOP_S = 10.0
STARTUP_S = 60.0  # importing locust and gevent on a busy machine


class GeneratorFailed(RuntimeError):
    """The generator exited before reporting every burst; the message carries its stderr's end."""


@dataclass(frozen=True)
class Target:
    """What one burst drives: a URL on one server, whose processes' CPU is charged to the burst."""

    endpoint: str
    side: str
    state: str
    users: int
    requests: int
    pair: int
    first: bool
    url: str
    server_pid: int


def generator_version() -> str:
    return f"locust {version('locust')} (FastHttpUser, library mode, in a process of its own)"


def _spec(index: int, target: Target, seconds: float) -> dict[str, Any]:
    return {
        "id": index,
        "name": f"{target.endpoint}/{target.side}",
        "url": check_url(target.url),
        "users": target.users,
        "requests": target.requests,
        "seconds": seconds,
        "server_pids": [target.server_pid],
    }


def _burst(target: Target, line: dict[str, Any]) -> LoadBurst:
    stop: BurstStop = "time" if line["stop"] == "time" else "count"
    return LoadBurst(
        endpoint=target.endpoint,
        side=target.side,
        state=target.state,
        users=target.users,
        pair=target.pair,
        first=target.first,
        planned=target.requests,
        sent=int(line["sent"]),
        ok=int(line["ok"]),
        errors={str(k): int(v) for k, v in line["errors"].items()},
        seconds=float(line["seconds"]),
        latencies_ms=tuple(float(x) for x in line["latencies_ms"]),
        response_bytes=int(line["response_bytes"]),
        server_cpu_s=float(line["server_cpu_s"]),
        generator_cpu_s=float(line["generator_cpu_s"]),
        stop=stop,
    )


def bound_s(bursts: int, burst_seconds: float, timeout_s: float) -> float:
    """The longest the generator may take: each burst sends for at most burst_seconds and waits at
    most timeout_s more for its last answers; plus its start. Past this it is killed (a watchdog), so
    even a generator that hangs cannot hold the run."""
    return STARTUP_S + bursts * (burst_seconds + timeout_s + 1.0)


@contextlib.contextmanager
def _process(plan: dict[str, Any], limit_s: float) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    errors = Path(tempfile.mkstemp(prefix="bench-generator-", suffix=".log")[1])
    with errors.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "django_index_bench.bench.load.generator"],
            preexec_fn=die_with_parent,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    watchdog = threading.Timer(limit_s, process.kill)
    watchdog.daemon = True
    watchdog.start()
    try:
        assert process.stdin is not None
        process.stdin.write(json.dumps(plan))
        process.stdin.close()
        yield process, errors
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()
        errors.unlink(missing_ok=True)


def _tail(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(line.strip() for line in lines[-3:])


def drive(
    targets: list[Target],
    *,
    burst_seconds: float,
    timeout_s: float,
    done: Callable[[LoadBurst], None] = lambda _burst: None,
) -> list[LoadBurst]:
    """Every burst, in order, in one generator process; `done` is called after each (progress)."""
    if not targets:
        return []
    plan = {
        "timeout_s": timeout_s,
        "bursts": [_spec(i, t, burst_seconds) for i, t in enumerate(targets)],
    }
    found: list[LoadBurst] = []
    limit = bound_s(len(targets), burst_seconds, timeout_s)
    with _process(plan, limit) as (process, errors):
        assert process.stdout is not None
        for raw in process.stdout:
            line = json.loads(raw)
            burst = _burst(targets[int(line["id"])], line)
            found.append(burst)
            done(burst)
        # Each burst is bounded by burst_seconds + timeout_s; the process's exit needs only moments.
        status = process.wait(timeout=STOP_S)
        if status != 0 or len(found) != len(targets):
            raise GeneratorFailed(
                f"the load generator exited with status {status} after {len(found)} of {len(targets)} "
                f"bursts: {_tail(errors) or 'no output'}"
            )
    return found
