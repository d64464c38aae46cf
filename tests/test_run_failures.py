"""`bench run` when something breaks, end to end: a migration that fails, a scenario that raises (each on a
branch of a real git repository of this project, run from its checkout), and a server killed mid-run.

Each failure is one line per failed thing on stderr, exit 1, and is recorded in the results file; a dead
server ends the run with one line and no results file.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from django_index_bench.bench import results
from django_index_bench.bench.pg import server as embedded
from django_index_bench.bench.results import Measurement, Results
from tests.cli import REPO
from tests.git_repos import failure_branches, git, project_copy

DATABASE = "bench_failures"
TIMEOUT = 600.0
MIGRATION_ERROR = (
    'migration attendance.0032_broken failed: ProgrammingError: column "no_such_column" does not exist'
)


@pytest.fixture(scope="module")
def project_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This project's committed tree as a fresh repository, with a branch per failure."""
    repo = project_copy(tmp_path_factory.mktemp("project"))
    failure_branches(repo)
    return repo


def checkout(repo: Path, name: str, where: Path) -> Path:
    """A worktree of the branch: `bench run` runs inside it, on its code."""
    git(repo, "worktree", "add", "--quiet", "--detach", str(where), name)
    return where


def run_in(checkout: Path, results_dir: Path) -> subprocess.CompletedProcess[str]:
    """`bench run` as a user runs it in the checkout (its code first on the path), on the tests' server."""
    return subprocess.run(
        [
            sys.executable, "-m", "django_index_bench", "run", "--profile", "tiny", "--quick",
            "--no-costs", "--no-cold", "--no-load", "--no-progress", "--database", DATABASE,
            "--results-dir", str(results_dir),
        ],
        cwd=checkout, env={**os.environ, "PYTHONPATH": str(checkout)},
        capture_output=True, text=True, check=False, timeout=TIMEOUT,
    )  # fmt: skip


def failures(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("failed: ")]


def by_key(run: Results) -> dict[tuple[str, str, str], Measurement]:
    return {(m.scenario, m.case, m.side): m for m in run.measurements}


def test_a_failed_migration_fails_every_item_that_needs_its_state(project_repo: Path, tmp_path: Path) -> None:
    done = run_in(checkout(project_repo, "broken-migration", tmp_path / "checkout"), tmp_path / "results")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.startswith("results: ")
    run = results.load(tmp_path / "results" / results.LATEST)

    before, after = run.states
    assert (before.state, before.status, before.error) == ("before", "ok", None)
    assert (after.state, after.status, after.error) == ("after", "failed", MIGRATION_ERROR)
    assert after.migrations == (
        "attendance.0031_add_tracking_performance_indexes",
        "attendance.0032_broken",
        "journal.0016_optimize_entry_indexes",
    )
    lines = failures(done.stderr)
    assert lines[0] == f"failed: state after in {after.database}: {MIGRATION_ERROR}"

    # Every item has a side in "after" (the variant scenarios have both there): nothing was measured.
    assert run.measurements
    unreached = f"state 'after' not reached: {MIGRATION_ERROR}"
    for m in run.measurements:
        assert (m.status, m.timing, m.plans) == ("failed", None, ()), m
        if m.state == "after":
            assert m.error == unreached
        else:
            assert (m.state, m.side) == ("before", "before")
            assert m.error == "not measured: its pair's other side (after) failed"
    assert {m.state for m in run.measurements} == {"before", "after"}
    assert lines[1:] == [f"failed: {m.scenario}[{m.case}] {m.side}: {m.error}" for m in run.measurements]
    assert run.schedule.items
    assert {(i.stop, i.pairs) for i in run.schedule.items} == {("failed", 0)}


def test_a_scenario_that_raises_fails_alone(project_repo: Path, tmp_path: Path) -> None:
    done = run_in(checkout(project_repo, "raising-scenario", tmp_path / "checkout"), tmp_path / "results")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    run = results.load(tmp_path / "results" / results.LATEST)
    assert all(s.ok for s in run.states)
    measurements = by_key(run)
    device = {k: m for k, m in measurements.items() if k[0] == "tracking_device"}
    cases = sorted({case for _, case, _ in device})
    assert cases == ["heavy", "light", "typical"]
    # The baseline runs first (its facts), raises, and its partner is left unmeasured.
    for case in cases:
        assert device[("tracking_device", case, "before")].error == "RuntimeError: boom"
        assert device[("tracking_device", case, "after")].error == (
            "not measured: its pair's other side (before) failed"
        )
    assert all(m.status == "failed" and m.timing is None for m in device.values())
    others = [m for k, m in measurements.items() if k not in device]
    assert others
    assert all(m.ok and m.timing is not None for m in others)
    assert failures(done.stderr) == [
        f"failed: tracking_device[{case}] {side}: {device[('tracking_device', case, side)].error}"
        for case in ("heavy", "typical", "light")
        for side in ("before", "after")
    ]
    stops = {(i.scenario, i.stop) for i in run.schedule.items}
    assert {stop for scenario, stop in stops if scenario == "tracking_device"} == {"failed"}
    assert "failed" not in {stop for scenario, stop in stops if scenario != "tracking_device"}


@contextlib.contextmanager
def own_server(pgdata: Path) -> Iterator[str]:
    """An embedded server of this test's own (never the session's), stopped and removed afterwards."""
    try:
        yield embedded.start(pgdata)
    finally:
        with contextlib.suppress(Exception):
            embedded.stop(pgdata)
        shutil.rmtree(pgdata, ignore_errors=True)


def measuring(server_url: str) -> bool:
    """Both of the run's copies have a connection: the rounds are running (migrating uses one at a time)."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT datname FROM pg_stat_activity WHERE datname ~ '_r[0-9a-f]{8}_(before|after)$'"
            )
        ]
    return {name.rsplit("_", 1)[1] for name in names} == {"before", "after"}


def gone(pid: int) -> bool:
    """The process has exited and been reaped (a zombie still counts as there, for PostgreSQL too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def wait_for(what: str, condition: object, child: subprocess.Popen[str] | None = None) -> None:
    assert callable(condition)
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if child is not None and child.poll() is not None:
            pytest.fail(
                f"`bench run` exited with {child.returncode} before {what}:\n{child.communicate()[1]}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(0.1)


@pytest.fixture
def own_pgdata() -> Iterator[Path]:
    """A data directory outside pytest's temporary root: every pytest session that starts (another
    suite's, a child pytest) sets that root back to mode 0700, and the server, which runs as its own user
    when the tests run as root, could then no longer be started again there (pg_control: permission
    denied). The session's server lives outside it for the same reason (tests/conftest.py)."""
    root = Path(tempfile.mkdtemp(prefix="bench-killed-"))
    yield root / "pgdata"
    shutil.rmtree(root, ignore_errors=True)


def test_a_server_killed_mid_run_ends_it_with_one_line_and_no_results(
    tmp_path: Path, own_pgdata: Path
) -> None:
    pgdata = own_pgdata
    results_dir = tmp_path / "results"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"BENCH_PGDATA": str(pgdata)}
    with own_server(pgdata) as server_url:
        run = subprocess.Popen(
            [
                sys.executable, "-m", "django_index_bench", "run", "--profile", "tiny",
                "--no-costs", "--no-cold", "--no-load", "--seconds", "5", "--no-progress",
                "--results-dir", str(results_dir),
            ],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            wait_for("it measures", lambda: measuring(server_url), run)
            postmaster = embedded.status(pgdata).pid
            assert postmaster is not None
            os.kill(postmaster, signal.SIGKILL)
            out, err = run.communicate(timeout=TIMEOUT)
        finally:
            if run.poll() is None:
                run.kill()
                run.communicate()
        assert run.returncode == 1, err
        assert "Traceback" not in err
        last = err.strip().splitlines()[-1]
        assert re.fullmatch(
            r"bench: error: lost the connection to the database server: [^\n]+; no results written", last
        ), err
        assert "results:" not in out
        assert not results_dir.exists() or list(results_dir.iterdir()) == []

        # The server is down: once the killed postmaster is reaped, the harness says so, and starts it again.
        wait_for("the killed postmaster is reaped", lambda: gone(postmaster))
        stopped = db_command("status", env)
        assert stopped.returncode == 1, stopped.stdout + stopped.stderr
        assert "status:   stopped" in stopped.stdout
        started = db_command("start", env)
        assert started.returncode == 0, started.stderr
        running = db_command("status", env)
        assert running.returncode == 0, running.stdout + running.stderr
        assert "status:   running, pid " in running.stdout
        assert "database: bench, owned by the harness" in running.stdout


def db_command(action: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "django_index_bench", "db", action],
        cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=TIMEOUT,
    )  # fmt: skip
