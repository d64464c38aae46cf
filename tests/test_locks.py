"""One run per database at a time: bench/locks.py's advisory lock, in process and between two `bench run`s."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from django_index_bench.bench import results
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.pg import run_lock as locks
from django_index_bench.bench.pg import server as embedded
from django_index_bench.bench.results import Results
from tests.cli import REPO, bench

DATABASE = "bench_lockrun"
TRACKING_INDEXES = {
    "tracking_person_range": "tracking_people_date_idx",
    "tracking_identifier_range": "tracking_ident_date_idx",
    "tracking_device": "tracking_device_idx",
}
TIMEOUT = 300.0


def lock_rows(server_url: str, database: str) -> list[tuple[bool, int]]:
    """(granted, server pid) of each session holding or awaiting the advisory lock on `database`."""
    unsigned = locks.key(database) & 0xFFFF_FFFF_FFFF_FFFF
    with psycopg.connect(server_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT granted, pid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s"
            " AND objsubid = 1 ORDER BY granted DESC, pid",
            (unsigned >> 32, unsigned & 0xFFFF_FFFF),
        ).fetchall()
    return [(bool(granted), int(pid)) for granted, pid in rows]


def application_name(purpose: str) -> str:
    return f"{purpose} (pid {os.getpid()} on {socket.gethostname()})"[:63]


def test_a_second_holder_is_refused_naming_the_first(server_url: str) -> None:
    with contextlib.ExitStack() as held:
        held.enter_context(locks.hold(server_url, "bench_lock_a", purpose="first holder"))
        assert [granted for granted, _ in lock_rows(server_url, "bench_lock_a")] == [True]
        with pytest.raises(UsageError) as refused:
            held.enter_context(locks.hold(server_url, "bench_lock_a", purpose="second", wait=False))
        message = str(refused.value)
        assert message.startswith(
            f"database 'bench_lock_a' is in use by {application_name('first holder')} (server pid "
        ), message
        assert message.endswith("; wait for it, or run without --no-wait")
        assert "\n" not in message
        # Another database's lock is another lock.
        held.enter_context(locks.hold(server_url, "bench_lock_b", purpose="third", wait=False))
        assert [granted for granted, _ in lock_rows(server_url, "bench_lock_b")] == [True]
    assert lock_rows(server_url, "bench_lock_a") == []
    assert lock_rows(server_url, "bench_lock_b") == []


def test_the_lock_is_released_when_the_block_ends(server_url: str) -> None:
    with locks.hold(server_url, "bench_lock_c", purpose="first", wait=False):
        pass
    with (
        pytest.raises(RuntimeError, match="the work failed"),
        locks.hold(server_url, "bench_lock_c", purpose="x"),
    ):
        raise RuntimeError("the work failed")
    with locks.hold(server_url, "bench_lock_c", purpose="again", wait=False):
        assert len(lock_rows(server_url, "bench_lock_c")) == 1
    assert lock_rows(server_url, "bench_lock_c") == []


def run_args(results_dir: Path, *extra: str) -> list[str]:
    return [
        "run", "--profile", "tiny", "--quick", "--no-costs", "--no-cold", "--no-load", "--no-progress",
        "--database", DATABASE, "--results-dir", str(results_dir), *extra,
    ]  # fmt: skip


@contextlib.contextmanager
def started(args: list[str]) -> Iterator[subprocess.Popen[str]]:
    """A child `bench ARGS`, killed (by its own pid) if the test ends before it does."""
    child = subprocess.Popen(
        [sys.executable, "-m", "django_index_bench", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()


def wait_until(what: str, done: Callable[[], bool], *children: subprocess.Popen[str]) -> None:
    """Poll `done` until true; fail early, with its stderr, if a child exits meanwhile."""
    deadline = time.monotonic() + TIMEOUT
    while not done():
        for child in children:
            if child.poll() is not None:
                _, err = child.communicate()
                pytest.fail(f"`bench run` exited with {child.returncode} before {what}:\n{err}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(0.05)


def check_plans(run: Results) -> None:
    """Every tracking plan uses the indexes of its state: none of them before, the scenario's after."""
    for m in run.measurements:
        if m.scenario not in TRACKING_INDEXES:
            continue
        assert m.ok, m.error
        used = {name for p in m.plans for name in p.index_names}
        ours = {name for name in used if re.fullmatch(r"tracking_\w+_idx", name)}
        if m.state == "before":
            assert ours == set(), (m.scenario, m.case, used)
        else:
            assert TRACKING_INDEXES[m.scenario] in ours, (m.scenario, m.case, used)


def test_a_second_run_refuses_or_waits_and_neither_changes_the_others_states(
    server_url: str, tmp_path: Path
) -> None:
    seeded = bench("seed", "--profile", "tiny", "--database", DATABASE, "--no-progress")
    assert seeded.returncode == 0, seeded.stderr
    # A table lock of the test's own keeps the first run, once it holds the database, from finishing
    # before the second has seen it: it waits for the table while checking the seeded row counts.
    with psycopg.connect(embedded.with_database(server_url, DATABASE)) as blocker:
        blocker.execute("LOCK TABLE tracking IN ACCESS EXCLUSIVE MODE")
        with started(run_args(tmp_path / "first")) as first:
            wait_until("the first run holds the lock", lambda: lock_rows(server_url, DATABASE) != [], first)
            assert [granted for granted, _ in lock_rows(server_url, DATABASE)] == [True]

            refused = bench(*run_args(tmp_path / "refused", "--no-wait"))
            assert refused.returncode == 2, refused.stderr
            refusal = refused.stderr.strip().splitlines()
            assert len(refusal) == 1, refused.stderr
            assert list((tmp_path / "refused").iterdir()) == []

            with started(run_args(tmp_path / "second")) as second:
                wait_until(
                    "the second run waits for the lock",
                    lambda: [g for g, _ in lock_rows(server_url, DATABASE)] == [True, False],
                    first,
                    second,
                )
                blocker.close()  # the first run goes on (a copy needs its template alone), then the second
                first_out, first_err = first.communicate(timeout=TIMEOUT)
                second_out, second_err = second.communicate(timeout=TIMEOUT)
    assert first.returncode == 0, first_err
    assert second.returncode == 0, second_err
    assert "waiting" not in first_err
    runs = [results.load(tmp_path / name / results.LATEST) for name in ("first", "second")]
    # Both name the first run as the holder, by its run id.
    holder = f"database '{DATABASE}' is in use by bench run {runs[0].run_id} (pid {first.pid} on "
    assert refusal[0].startswith(f"bench: error: {holder}"), refusal
    assert refusal[0].endswith("; wait for it, or run without --no-wait"), refusal
    assert f"bench: {holder}" in second_err
    assert "; waiting for it" in second_err
    assert first_out.startswith("results: ")
    assert second_out.startswith("results: ")
    for run in runs:
        assert [s.state for s in run.states] == ["before", "after"]
        assert all(s.ok for s in run.states)
        check_plans(run)
    assert runs[1].dataset.reused
    assert {s.database for s in runs[0].states}.isdisjoint(s.database for s in runs[1].states)
