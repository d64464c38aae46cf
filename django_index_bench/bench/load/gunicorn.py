"""gunicorn serving one side: a process of its own, on loopback only, stopped whatever happens.

Each side gets its own gunicorn with its own DATABASE_URL (its state's copy of the seeded data), so the
two sides can alternate in short bursts without moving a database between states.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from django_index_bench.bench.children import die_with_parent
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.load.loopback import check_host

HOST = "127.0.0.1"
PROJECT_APP = "django_index_bench.bench.load.wsgi:application"  # the project's app on the harness's database
TRIVIAL_APP = "django_index_bench.bench.load.trivial:application"
WORKER_CLASS = "sync"
READY_S = 60.0  # Django's import and the first worker's boot, on a busy 2-core machine
STOP_S = 10.0


class ServerFailed(RuntimeError):
    """gunicorn did not come up (or died): the message carries the end of its log."""


@dataclass(frozen=True)
class ServerSpec:
    name: str
    app: str
    port: int
    workers: int
    database_url: str | None = None
    settings: str | None = None  # DJANGO_SETTINGS_MODULE; None for an app without Django
    host: str = HOST
    project_app: str | None = None  # BENCH_LOAD_APP: the project's own WSGI callable; None: Django's
    chdir: Path | None = None  # the project's root; None: the current directory
    pythonpath: tuple[Path, ...] = ()


@dataclass
class Running:
    spec: ServerSpec
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def address(self) -> str:
        return f"{self.spec.host}:{self.spec.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])


def default_workers() -> int:
    """Sync workers per server: one per core. gunicorn's (2 x cores) + 1 assumes the cores are the
    server's; here the generator and the other side's server share them."""
    return max(1, os.cpu_count() or 1)


def gunicorn_version() -> str:
    return f"gunicorn {version('gunicorn')}"


def port_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def check_ports(ports: list[int]) -> None:
    """UsageError (before any work) for a port something else already listens on."""
    for port in ports:
        if not 1 <= port <= 65535:
            raise UsageError(f"port {port} is not a TCP port (1..65535)")
        if not port_free(port):
            raise UsageError(f"port {port} on {HOST} is in use; pass another --port, or none for free ports")


def free_port(host: str = HOST) -> int:
    """A port the kernel says is free now (gunicorn binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def command(spec: ServerSpec) -> list[str]:
    check_host(spec.host)
    return [
        sys.executable, "-m", "gunicorn", spec.app,
        "--bind", f"{spec.host}:{spec.port}",
        "--workers", str(spec.workers),
        "--worker-class", WORKER_CLASS,
        "--timeout", "120",
        "--graceful-timeout", "5",
        "--log-level", "warning",
        "--name", f"bench-load-{spec.name}",
        *(["--chdir", str(spec.chdir)] if spec.chdir else []),
    ]  # fmt: skip


def start(spec: ServerSpec) -> Running:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if spec.settings is not None:
        env["DJANGO_SETTINGS_MODULE"] = spec.settings
    if spec.database_url is not None:
        env["DATABASE_URL"] = spec.database_url
    if spec.project_app is not None:
        env["BENCH_LOAD_APP"] = spec.project_app
    if spec.pythonpath:
        paths = [*map(str, spec.pythonpath), *filter(None, [env.get("PYTHONPATH")])]
        env["PYTHONPATH"] = os.pathsep.join(paths)
    handle, name = tempfile.mkstemp(prefix=f"bench-gunicorn-{spec.name}-", suffix=".log")
    with os.fdopen(handle, "wb") as log:
        process = subprocess.Popen(
            command(spec),
            env=env,
            cwd=spec.chdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            preexec_fn=die_with_parent,  # no gunicorn outlives bench, even one killed with -9
        )
    return Running(spec, process, Path(name))


def wait_ready(server: Running, deadline_s: float = READY_S) -> None:
    """Until the port accepts a connection; ServerFailed when gunicorn exits or never listens."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerFailed(
                f"gunicorn for {server.spec.name} exited with status {server.process.returncode}: "
                f"{server.log_tail() or 'no output'}"
            )
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.5)
            if probe.connect_ex((server.spec.host, server.spec.port)) == 0:
                return
        time.sleep(0.1)
    raise ServerFailed(f"gunicorn for {server.spec.name} did not listen within {deadline_s:.0f} s")


def stop(server: Running) -> None:
    """SIGTERM (gunicorn's graceful stop), SIGKILL after STOP_S; the log file goes too."""
    process = server.process
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_S)
        except subprocess.TimeoutExpired:
            _kill_tree(process.pid)
            process.wait(timeout=STOP_S)
    server.log.unlink(missing_ok=True)


def _kill_tree(pid: int) -> None:
    import psutil

    try:
        root = psutil.Process(pid)
        for process in [*root.children(recursive=True), root]:
            with contextlib.suppress(psutil.Error):
                process.kill()
    except psutil.Error:
        pass


@contextlib.contextmanager
def serving(specs: list[ServerSpec]) -> Iterator[list[Running]]:
    """Start every server, wait until each listens, and stop them all on the way out, whatever
    happened (an error, Ctrl-C): no gunicorn outlives the command."""
    running: list[Running] = []
    try:
        for spec in specs:
            running.append(start(spec))
        for server in running:
            wait_ready(server)
        yield running
    finally:
        for server in running:
            stop(server)
