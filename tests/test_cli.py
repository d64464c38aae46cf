"""The `bench` command line: help everywhere, the db subcommands, and one-line errors."""

from __future__ import annotations

import os

import psycopg
import pytest

from django_index_bench.bench.cli import build_parser, main
from django_index_bench.bench.commands import discover
from django_index_bench.bench.pg import server as embedded
from tests.cli import bench, manage


@pytest.mark.parametrize("command", [c.name for c in discover()])
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: bench {command}")


def test_top_level_help_lists_every_command() -> None:
    text = build_parser().format_help()
    for command in discover():
        assert command.name in text


def test_db_url_prints_the_configured_database(database_url: str) -> None:
    result = bench("db", "url")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == database_url


def test_db_status_reports_the_database(database_url: str) -> None:
    result = bench("db", "status")
    assert result.returncode == 0, result.stderr
    assert "bench_test, owned by the harness" in result.stdout


def test_db_status_of_the_embedded_server(database_url: str) -> None:
    result = bench("db", "status", drop=("DATABASE_URL",))
    assert result.returncode == 0, result.stderr
    assert f"data directory {os.environ['BENCH_PGDATA']}" in result.stdout
    assert "running, pid" in result.stdout


def test_database_url_is_honoured_by_manage_py(server_url: str) -> None:
    """A DATABASE_URL naming a new database: migrate creates the schema there, not in the default one."""
    url = embedded.with_database(server_url, "honoured")
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS honoured")
        conn.execute("CREATE DATABASE honoured")
    result = manage("migrate", "attendance", "0030", "-v", "0", env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    with psycopg.connect(url) as conn:
        names = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'tracking'")}
    assert "tracking_tenant_created_idx" in names
    assert "tracking_people_date_idx" not in names


def test_unreachable_database_url_is_a_one_line_error() -> None:
    result = bench("db", "url", env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing"})
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("bench: error: cannot reach the server in DATABASE_URL")


def test_db_stop_refuses_a_server_it_did_not_start() -> None:
    result = bench("db", "stop", env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing"})
    assert result.returncode == 2
    assert "only stops the embedded server" in result.stderr


def test_unknown_subcommand_exits_2() -> None:
    result = bench("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
