"""Every bad input is one line on stderr and exit status 2, with no traceback and nothing changed.

Each case runs `bench` as a user does, in a child process, against real files and the tests' server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from django_index_bench.bench.pg import server as embedded
from django_index_bench.bench.results import to_json
from tests.cli import REPO, bench, interruptible
from tests.sample_results import sample_results


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a refused command (exit 2, no traceback, nothing on stdout)."""
    assert "Traceback" not in result.stderr
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def database_exists(server_url: str, name: str) -> bool:
    with psycopg.connect(server_url, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def snapshot(root: Path) -> dict[str, tuple[int, int, int, bytes | None]]:
    """Every path under root (and root) with its owner, group, mode and, for files, content."""
    paths = [root, *sorted(root.rglob("*"))] if root.is_dir() else [root]
    return {
        str(p): (p.stat().st_uid, p.stat().st_gid, p.stat().st_mode, p.read_bytes() if p.is_file() else None)
        for p in paths
    }


def test_more_tenants_than_people_is_refused_before_any_work(tmp_path: Path, server_url: str) -> None:
    results_dir = tmp_path / "results"
    result = bench(
        "run",
        "--rows",
        "tenants_tenant=200",
        "--rows",
        "peoples_people=100",
        "--database",
        "bad_inputs_run",
        "--results-dir",
        str(results_dir),
    )
    assert one_line_error(result) == (
        "bench: error: every tenant needs a person: 100 people are fewer than 200 tenants; "
        "raise --rows peoples_people=N or lower --rows tenants_tenant=N"
    )
    assert not results_dir.exists()
    assert not database_exists(server_url, "bad_inputs_run")


@pytest.fixture
def results_file(tmp_path: Path) -> Path:
    path = tmp_path / "results.json"
    path.write_text(to_json(sample_results()), encoding="utf-8")
    return path


def test_report_to_an_output_that_cannot_be_made(results_file: Path) -> None:
    result = bench("report", str(results_file), "--output", "/proc/nope/x")
    assert one_line_error(result) == (
        "bench: error: --output /proc/nope/x: cannot create or write this directory "
        "(No such file or directory); pass a directory you can write to"
    )


def test_report_to_an_output_inside_a_file_leaves_everything_as_it_was(
    results_file: Path, tmp_path: Path
) -> None:
    (tmp_path / "notes").write_text("keep me\n", encoding="utf-8")
    before = snapshot(tmp_path)
    result = bench("report", str(results_file), "--output", str(tmp_path / "notes" / "report"))
    assert one_line_error(result) == (
        f"bench: error: --output {tmp_path}/notes/report: cannot create or write this directory "
        "(Not a directory); pass a directory you can write to"
    )
    assert snapshot(tmp_path) == before


def test_report_to_an_output_that_is_a_file(results_file: Path, tmp_path: Path) -> None:
    output = tmp_path / "report.md"
    output.write_text("mine\n", encoding="utf-8")
    result = bench("report", str(results_file), "--output", str(output))
    assert one_line_error(result) == (
        f"bench: error: --output {output} exists and is not a directory; pass a directory"
    )
    assert output.read_text(encoding="utf-8") == "mine\n"


def test_compare_to_an_output_that_cannot_be_made(results_file: Path, tmp_path: Path) -> None:
    head = tmp_path / "head.json"
    head.write_text(to_json(replace(sample_results(), run_id="20261129T010000Z-def5678")), encoding="utf-8")
    result = bench("compare", str(results_file), str(head), "--output", "/proc/nope/x")
    assert one_line_error(result) == (
        "bench: error: --output /proc/nope/x: cannot create or write this directory "
        "(No such file or directory); pass a directory you can write to"
    )


FORMAT = 'see the README\'s "Claims and budgets" for the format'


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"claim = 5\n", "{path}: claim must be [[claim]] tables, got 5; " + FORMAT),
        (b'claim = "abc"\n', "{path}: claim must be [[claim]] tables, got 'abc'; " + FORMAT),
        (b"claim = [1, 2]\n", "{path}: claim must be [[claim]] tables, got [1, 2]; " + FORMAT),
        (b'# caf\xe9\nclaim = "x"\n', "claims file {path} is not UTF-8 (byte 5); save it as UTF-8"),
        (b"[[claim]]\nid = 7\n", "{path}: claim 7: id must be a string, got 7; " + FORMAT),
        (
            b'[[claim]]\nid = "a"\nreduction = "lots"\n',
            "{path}: claim 'a': reduction must be [low, high] in percent, got 'lots'",
        ),
    ],
    ids=["integer", "string", "array-of-numbers", "not-utf8", "id-not-a-string", "reduction-not-a-pair"],
)
def test_a_bad_claims_file_is_one_line(
    content: bytes, expected: str, results_file: Path, tmp_path: Path
) -> None:
    claims = tmp_path / "claims.toml"
    claims.write_bytes(content)
    output = tmp_path / "report"
    result = bench("report", str(results_file), "--claims", str(claims), "--output", str(output))
    assert one_line_error(result) == "bench: error: " + expected.format(path=claims)
    assert not output.exists()
    assert claims.read_bytes() == content


FIX = "set BENCH_PGDATA to a PostgreSQL data directory, or to an empty or missing directory"


@pytest.mark.parametrize("command", [("db", "start"), ("db", "url")])
def test_a_data_directory_that_is_a_file(command: tuple[str, ...], tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    pgdata.write_text("not a database\n", encoding="utf-8")
    before = snapshot(tmp_path)
    result = bench(*command, env={"BENCH_PGDATA": str(pgdata)}, drop=("DATABASE_URL",))
    assert (
        one_line_error(result) == f"bench: error: data directory {pgdata} is a file, not a directory; {FIX}"
    )
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", [("db", "start"), ("db", "url")])
def test_a_data_directory_that_holds_something_else(command: tuple[str, ...], tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "hello.txt").write_text("hello\n", encoding="utf-8")
    before = snapshot(tmp_path)
    result = bench(*command, env={"BENCH_PGDATA": str(pgdata)}, drop=("DATABASE_URL",))
    assert one_line_error(result) == (
        f"bench: error: {pgdata} is not empty and is not a PostgreSQL data directory (no PG_VERSION); {FIX}"
    )
    assert snapshot(tmp_path) == before


def test_a_data_directory_inside_a_file(tmp_path: Path) -> None:
    (tmp_path / "notes").write_text("keep me\n", encoding="utf-8")
    before = snapshot(tmp_path)
    pgdata = tmp_path / "notes" / "pgdata"
    result = bench("db", "start", env={"BENCH_PGDATA": str(pgdata)}, drop=("DATABASE_URL",))
    assert one_line_error(result) == (
        f"bench: error: data directory {pgdata} is inside a file, not a directory; {FIX}"
    )
    assert snapshot(tmp_path) == before


def _copying(server_url: str, database: str, child: subprocess.Popen[str], deadline: float) -> bool:
    """Wait until the seeder streams a COPY into database; False when the child ends or time runs out."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        while time.monotonic() < deadline and child.poll() is None:
            row = conn.execute(
                "SELECT 1 FROM pg_stat_activity WHERE datname = %s AND query LIKE 'COPY %%'", (database,)
            ).fetchone()
            if row is not None:
                return True
            time.sleep(0.01)
    return False


def test_ctrl_c_during_the_copy_is_one_line_exit_130_and_rolls_back(server_url: str) -> None:
    database = "bench_sigint"
    command = ["seed", "--profile", "small", "--force-seed", "--database", database, "--no-progress"]
    child = subprocess.Popen(
        [sys.executable, "-m", "django_index_bench", *command],
        cwd=REPO,
        env=dict(os.environ),  # the tests' server: DATABASE_URL and BENCH_PGDATA from conftest
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell gives a foreground job
        preexec_fn=interruptible,
    )
    try:
        assert _copying(server_url, database, child, time.monotonic() + 300), child.communicate()
        os.killpg(child.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()  # closes the pipes: left open, a later test's collection fails on them
    assert "Traceback" not in err
    assert err == "bench: interrupted\n"
    assert child.returncode == 130
    assert out == ""
    with psycopg.connect(embedded.with_database(server_url, database)) as conn:
        assert conn.execute("SELECT count(*) FROM tracking").fetchone() == (0,)


@pytest.mark.parametrize("command", ["report", "compare"])
def test_a_results_file_nested_200k_deep_is_one_line(command: str, tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    other = tmp_path / "other.json"
    other.write_text(to_json(sample_results()), encoding="utf-8")
    args = [str(deep)] if command == "report" else [str(deep), str(other)]
    result = bench(command, *args, "--output", str(tmp_path / "out"))
    assert one_line_error(result) == f"bench: error: {deep} nests deeper than any results file; is it one?"
    assert not (tmp_path / "out").exists()


def test_a_directory_named_like_a_results_file_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "x.json"
    folder.mkdir()
    result = bench("report", str(folder), "--output", str(tmp_path / "out"))
    assert one_line_error(result) == f"bench: error: {folder} is a directory, not a results file"


def test_importing_the_settings_starts_no_server(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "-c", "import project.settings"],
        cwd=REPO, env={**env, "BENCH_PGDATA": str(pgdata)}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not pgdata.exists()


def test_an_a_a_run_with_a_before_state_is_one_line(tmp_path: Path, server_url: str) -> None:
    result = bench(
        "run", "--aa", "--before", "attendance=0030", "--database", "bad_inputs_aa",
        "--results-dir", str(tmp_path / "results"), "--no-progress",
    )  # fmt: skip
    assert one_line_error(result) == (
        "bench: error: --aa puts both sides at the after state; it cannot be combined with --before"
    )
    assert not (tmp_path / "results").exists()
