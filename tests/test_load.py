"""The load harness with a real gunicorn and a real locust, on tiny data, in short bounded bursts."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest

from django_index_bench.bench import cli as bench_cli
from django_index_bench.bench import results
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.load import drive, loopback
from django_index_bench.bench.load import gunicorn as server
from django_index_bench.bench.pg import server as embedded
from tests.cli import REPO, bench, interruptible

DATABASE = "bench_load_data"
# What the sample's bench.toml gives every server: its settings, its root, and its root on the path.
SAMPLE_PROJECT: dict[str, Any] = {"settings": "project.settings", "chdir": REPO, "pythonpath": (REPO,)}
PAGINATED = "/api/y_helpdesk/?action=loadPeoples&page=1"


@pytest.fixture(scope="module")
def seeded(server_url: str) -> str:
    """A tiny seeded database (through `bench seed`, as a user makes one); its URL."""
    done = bench("seed", "--profile", "tiny", "--database", DATABASE, "--no-progress")
    assert done.returncode == 0, done.stderr
    return embedded.with_database(server_url, DATABASE)


@pytest.fixture
def project_server(seeded: str) -> Iterator[server.Running]:
    spec = server.ServerSpec(
        "project", server.PROJECT_APP, server.free_port(), 1, database_url=seeded, **SAMPLE_PROJECT
    )
    with server.serving([spec]) as running:
        yield running[0]


def test_the_server_serves_the_project_paginated(project_server: server.Running, seeded: str) -> None:
    with urllib.request.urlopen(project_server.url + PAGINATED, timeout=30) as response:
        assert response.status == 200
        body = json.loads(response.read())
    with psycopg.connect(seeded) as conn:
        row = conn.execute("SELECT count(*) FROM peoples_people WHERE enable").fetchone()
    assert row is not None
    assert body["total_count"] == row[0]
    assert (body["page_size"], body["current_page"], body["has_previous"]) == (25, 1, False)
    assert len(body["items"]) == 25
    assert set(body["items"][0]) >= {"id", "peoplename", "loginid"}


@pytest.fixture(scope="module")
def test_app() -> Iterator[server.Running]:
    """The test-only URLconf on one worker: its per-process counter makes half-fail/ exactly half."""
    spec = server.ServerSpec(
        "test-app",
        server.PROJECT_APP,
        server.free_port(),
        1,
        **{**SAMPLE_PROJECT, "settings": "tests.load_app.settings"},
    )
    with server.serving([spec]) as running:
        yield running[0]


def _target(app: server.Running, path: str, users: int, requests: int) -> drive.Target:
    return drive.Target("test", "x", "-", users, requests, 0, True, app.url + path, app.process.pid)


def test_half_failing_endpoint_reads_as_half_errors(test_app: server.Running) -> None:
    [burst] = drive.drive([_target(test_app, "/half-fail/", 4, 40)], burst_seconds=60, timeout_s=30)
    assert (burst.sent, burst.ok, burst.errors, burst.stop) == (40, 20, {"HTTP 500": 20}, "count")
    assert len(burst.latencies_ms) == 40
    assert burst.response_bytes == 20 * len(b"fine")
    assert burst.server_cpu_s > 0
    assert burst.generator_cpu_s > 0


def test_an_answer_later_than_the_request_timeout_is_a_timeout(test_app: server.Running) -> None:
    [burst] = drive.drive([_target(test_app, "/slow/", 1, 2)], burst_seconds=60, timeout_s=0.5)
    assert (burst.sent, burst.ok, burst.errors) == (2, 0, {"timeout": 2})


def test_a_burst_stops_when_its_time_is_up(test_app: server.Running) -> None:
    """100 requests planned, 1 s allowed, each answer takes 1.5 s: one is sent, then the time is up."""
    [burst] = drive.drive([_target(test_app, "/slow/", 1, 100)], burst_seconds=1.0, timeout_s=5)
    assert (burst.sent, burst.ok, burst.errors, burst.stop) == (1, 1, {}, "time")


@pytest.mark.parametrize(
    "url", ["http://10.0.0.1:80/", "http://localhost:8000/", "https://127.0.0.1/", "http://example.com/"]
)
def test_only_loopback_targets_are_accepted(url: str) -> None:
    with pytest.raises(UsageError, match="refusing to send load"):
        loopback.check_url(url)


def test_loopback_addresses_are_accepted() -> None:
    assert loopback.check_url("http://127.0.0.1:8000/x") == "http://127.0.0.1:8000/x"
    assert loopback.check_url("http://[::1]:8000/") == "http://[::1]:8000/"


def test_the_generator_itself_refuses_a_remote_target_before_any_request() -> None:
    """Defence in depth: a plan naming another host stops the generator's process, with no burst run."""
    plan = {
        "timeout_s": 1,
        "bursts": [
            {"id": 0, "name": "x", "url": "http://127.0.0.1:9/", "users": 1, "requests": 1, "seconds": 1},
            {"id": 1, "name": "x", "url": "http://192.0.2.1:80/", "users": 1, "requests": 1, "seconds": 1},
        ],
    }
    done = subprocess.run(
        [sys.executable, "-m", "django_index_bench.bench.load.generator"],
        input=json.dumps(plan), capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert done.stdout == ""
    assert "refusing to send load to 192.0.2.1" in done.stderr


def _one_line_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert bench_cli.main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--levels", "0"], "concurrency must be 1..1000 users, got 0"),
        (["--levels", "1,100000"], "concurrency must be 1..1000 users, got 100000"),
        (["--endpoint", "nope"], "unknown endpoint nope; known: helpdesk_load_peoples"),
        (["--pairs", "0"], "--pairs must be 1..50, got 0"),
        (["--workers", "0"], "--workers must be 1..64, got 0"),
    ],
)
def test_bad_load_inputs_exit_2_before_any_work(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results_dir = tmp_path / "results"
    line = _one_line_error(["load", *args, "--results-dir", str(results_dir)], capsys)
    assert line == f"bench: error: {message}"
    assert not results_dir.exists()


def test_a_port_in_use_exits_2(busy_port: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = _one_line_error(["load", "--port", str(busy_port), "--results-dir", str(tmp_path / "r")], capsys)
    assert line == (
        f"bench: error: port {busy_port} on 127.0.0.1 is in use; pass another --port, or none for free ports"
    )


def test_bench_load_runs_end_to_end(seeded: str, tmp_path: Path) -> None:
    done = bench(
        "load", "--profile", "tiny", "--database", DATABASE, "--levels", "1,3", "--pairs", "2",
        "--workers", "1", "--no-progress",
        "--results-dir", str(tmp_path / "results"), "--output", str(tmp_path / "report"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith(f"results: {tmp_path / 'results'}/0001_")
    assert lines[1] == f"report: {tmp_path / 'report' / 'LOAD_REPORT.md'}"
    charts = [tmp_path / "report" / "charts" / f"load_{n}.png" for n in ("throughput", "latency")]
    assert lines[2] == f"charts: {charts[0]}, {charts[1]}"
    assert all(c.stat().st_size > 0 for c in charts)
    run = results.load(tmp_path / "results" / results.LATEST)
    load = run.load
    assert load is not None
    assert load.ok, load.error
    assert run.measurements == ()
    # Every level has its pairs, each pair both sides, in alternating order.
    keys = sorted((b.users, b.pair, b.side, b.first) for b in load.bursts)
    firsts = [(u, p, s) for u, p, s, f in keys if f]
    assert [(u, p) for u, p, _ in firsts] == [(1, 0), (1, 1), (3, 0), (3, 1)]
    assert firsts[0][2] != firsts[1][2]
    assert len(keys) == 8
    for burst in load.bursts:
        assert (burst.sent, burst.ok, burst.errors) == (20, 20, {}), burst
    paginated = [b for b in load.bursts if b.side == "paginated"]
    legacy = [b for b in load.bursts if b.side == "legacy"]
    assert max(b.response_bytes for b in paginated) < min(b.response_bytes for b in legacy)
    assert len(load.calibration) == 2
    assert {(s.workers, s.worker_class) for s in load.servers} == {(1, "sync")}
    report = (tmp_path / "report" / "LOAD_REPORT.md").read_text()
    assert "## Under load" in report
    assert "Zero pagination timeout errors" in report
    # The copies the load step made are gone.
    with psycopg.connect(embedded.with_database(seeded, "postgres")) as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (DATABASE + r"\_r%",)
        ).fetchall()
    assert left == []


def _descendants(pid: int) -> dict[int, str]:
    """pid -> command line of every live descendant of pid."""
    found = {}
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return {}
    for child in children:
        try:
            found[child.pid] = " ".join(child.cmdline())
        except psutil.Error:
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def _interrupted_midway(
    tmp_path: Path, deliver: Callable[[int], None]
) -> tuple[subprocess.Popen[str], str, dict[int, str]]:
    """`bench load` started, `deliver(pid)` once the generator is midway through a burst; (the process,
    its stderr, every descendant it had)."""
    run = subprocess.Popen(
        [
            sys.executable, "-m", "django_index_bench", "load", "--profile", "tiny", "--database", DATABASE,
            "--levels", "20", "--pairs", "20", "--rounds", "50", "--workers", "1", "--no-progress",
            "--results-dir", str(tmp_path / "results"), "--output", str(tmp_path / "report"),
        ],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=interruptible,
    )  # fmt: skip
    seen: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and run.poll() is None:
            seen.update(_descendants(run.pid))
            if "django_index_bench.bench.load.generator" in " ".join(_descendants(run.pid).values()):
                break
            time.sleep(0.2)
        assert run.poll() is None, run.communicate()
        time.sleep(1.0)  # midway through a burst
        seen.update(_descendants(run.pid))
        deliver(run.pid)
        _, stderr = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    return run, stderr, seen


def test_ctrl_c_midway_leaves_no_process(seeded: str, tmp_path: Path) -> None:
    """SIGINT to the whole process group (as a terminal's Ctrl-C) while the generator is driving."""
    run, stderr, seen = _interrupted_midway(tmp_path, lambda pid: os.killpg(pid, signal.SIGINT))
    assert run.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "bench: interrupted"
    commands = " ".join(seen.values())
    assert "gunicorn" in commands
    assert "django_index_bench.bench.load.generator" in commands
    assert [pid for pid in seen if _alive(pid)] == []
    assert list((tmp_path / "results").glob("0*.json")) == []


def test_sigterm_midway_stops_every_server_and_drops_the_copies(
    seeded: str, server_url: str, tmp_path: Path
) -> None:
    """SIGTERM to bench alone (a CI job cancelled, `kill PID`): its gunicorns, generator and load copies go
    too, and it says so in one line."""
    run, stderr, seen = _interrupted_midway(tmp_path, lambda pid: os.kill(pid, signal.SIGTERM))
    assert run.returncode == 143, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines() == ["bench: terminated; cleaned up"]
    assert "gunicorn" in " ".join(seen.values())
    assert [pid for pid in seen if _alive(pid)] == []
    with psycopg.connect(server_url, autocommit=True) as conn:
        copies = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{DATABASE}\\_r%",)
        ).fetchall()
    assert copies == []


def test_kill_9_of_bench_load_takes_its_servers_and_generator_with_it(seeded: str, tmp_path: Path) -> None:
    """SIGKILL runs no cleanup: the kernel's parent-death signal stops gunicorn and the generator."""
    run, _, seen = _interrupted_midway(tmp_path, lambda pid: os.kill(pid, signal.SIGKILL))
    assert run.returncode == -signal.SIGKILL
    assert "gunicorn" in " ".join(seen.values())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in seen):
        time.sleep(0.2)
    assert [cmd for pid, cmd in seen.items() if _alive(pid)] == []
    # Its copies are left: the next command drops them (and says so), so no later test sees them.
    following = bench("db", "url", env={"DATABASE_URL": seeded})
    assert following.returncode == 0, following.stderr
    assert "left by run r" in following.stderr
    with psycopg.connect(embedded.with_database(seeded, "postgres"), autocommit=True) as conn:
        copies = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{DATABASE}\\_r%",)
        ).fetchall()
    assert copies == []
