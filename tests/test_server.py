"""Database URLs are read as libpq reads them, in every form it takes, and `bench db status` is a
health check. Connections go to the tests' real server, through its Unix socket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from django_index_bench.bench.pg import db
from django_index_bench.bench.pg import server as embedded
from tests.cli import bench


@pytest.fixture(scope="module")
def socket(server_url: str) -> tuple[str, str]:
    """(socket directory, port) of the tests' server."""
    params = conninfo_to_dict(server_url)
    return str(params["host"]), str(params["port"])


@pytest.fixture(scope="module")
def host_query_url(socket: tuple[str, str]) -> str:
    """The tests' database, its socket given the libpq way: ?host=/socket/dir."""
    directory, port = socket
    return f"postgresql://postgres@/bench_test?host={directory}&port={port}"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://postgres@/bench?host=/run/pg", "postgresql://postgres@/other?host=/run/pg"),
        (
            "postgresql://u:secret@db.example:5433/bench?sslmode=require",
            "postgresql://u:secret@db.example:5433/other?sslmode=require",
        ),
        ("postgresql://u@%2Frun%2Fpg:5432/bench", "postgresql://u@%2Frun%2Fpg:5432/other"),
        ("postgresql://h1:5432,h2:5433/bench", "postgresql://h1:5432,h2:5433/other"),
        ("postgresql:///bench", "postgresql:///other"),
        ("postgres://h", "postgres://h/other"),
        ("postgresql://h/bench?dbname=shadow&port=5", "postgresql://h/other?port=5"),
        ("host=/run/pg user=u dbname=bench", "user=u dbname=other host=/run/pg"),
    ],
)
def test_with_database_changes_only_the_database(url: str, expected: str) -> None:
    assert embedded.with_database(url, "other") == expected
    assert conninfo_to_dict(expected) == {**conninfo_to_dict(url), "dbname": "other"}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://postgres@/bench?host=/run/pg", "bench"),
        ("postgresql://u@%2Frun%2Fpg:5432/my%20db", "my db"),
        ("postgresql://h/bench?dbname=shadow", "shadow"),
        ("host=/run/pg dbname=bench", "bench"),
        ("postgresql://alice@h", "alice"),  # no database: libpq uses the user's name
    ],
)
def test_database_name_is_the_one_libpq_connects_to(
    url: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PGDATABASE", raising=False)
    assert embedded.database_name(url) == expected


def test_a_url_libpq_cannot_read_is_one_line() -> None:
    result = bench("db", "url", env={"DATABASE_URL": "bench on localhost"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        'bench: error: not a PostgreSQL connection URL (missing "=" after "bench" in connection info '
        "string); write it like postgresql://user@host:5432/name or postgresql://user@/name?host=/socket/dir"
    ]


def test_the_socket_url_reads_the_same_to_libpq_and_django() -> None:
    url = embedded.socket_url(Path("/run/pg sock"), 5433, "bench")
    assert url == "postgresql://postgres@%2Frun%2Fpg%20sock:5433/bench"
    assert conninfo_to_dict(url) == {
        "user": "postgres",
        "host": "/run/pg sock",
        "port": "5433",
        "dbname": "bench",
    }
    parsed = db.django_settings(url)
    assert (parsed["HOST"], parsed["PORT"], parsed["NAME"]) == ("/run/pg sock", "5433", "bench")


def test_a_host_query_url_reaches_the_server(host_query_url: str, socket: tuple[str, str]) -> None:
    maintenance = embedded.with_database(host_query_url, "postgres")
    assert maintenance == f"postgresql://postgres@/postgres?host={socket[0]}&port={socket[1]}"
    with psycopg.connect(maintenance) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("postgres",)
    assert embedded.database_name(host_query_url) == "bench_test"
    assert embedded.is_owned(host_query_url) is True


def test_django_settings_put_the_socket_in_host(host_query_url: str, socket: tuple[str, str]) -> None:
    assert db.django_settings(host_query_url + "&sslmode=disable") == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "bench_test",
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": socket[0],
        "PORT": socket[1],
        "OPTIONS": {"sslmode": "disable"},
    }


@pytest.fixture
def django_on(database_url: str) -> Iterator[None]:
    """Whatever a test points Django at, it points back at the tests' database afterwards."""
    yield
    db.switch_django(db.Target(database_url, embedded=False))


def test_django_connects_through_a_host_query_url(
    host_query_url: str, socket: tuple[str, str], django_on: None
) -> None:
    from django.db import connection

    db.switch_django(db.Target(embedded.with_database(host_query_url, "postgres"), embedded=False))
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        assert cursor.fetchone() == ("postgres",)
    assert connection.settings_dict["HOST"] == socket[0]


def test_the_cli_works_with_a_host_query_database_url(host_query_url: str) -> None:
    url = bench("db", "url", env={"DATABASE_URL": host_query_url})
    assert url.returncode == 0, url.stderr
    assert url.stdout == host_query_url + "\n"
    status = bench("db", "status", env={"DATABASE_URL": host_query_url})
    assert status.returncode == 0, status.stderr
    # Other tests' copies still in use may be listed after it (`in use:`).
    assert "database: bench_test, owned by the harness" in status.stdout.splitlines()


def test_db_status_fails_when_the_database_is_unreachable() -> None:
    result = bench("db", "status", env={"DATABASE_URL": "postgresql://x@127.0.0.1:1/x"})
    assert result.returncode == 1
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        "server:   DATABASE_URL (not managed by the harness)",
        "url:      postgresql://x@127.0.0.1:1/x",
    ]
    assert lines[2].startswith("database: unreachable (connection failed: ")
    assert len(lines) == 3


def test_db_status_fails_when_the_embedded_server_is_stopped(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    result = bench("db", "status", env={"BENCH_PGDATA": str(pgdata)}, drop=("DATABASE_URL",))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"server:   embedded PostgreSQL, data directory {pgdata}",
        "status:   stopped (bench db start, or any command that needs it, starts it)",
    ]
    assert not pgdata.exists()


def test_db_status_of_a_database_not_created_yet_is_healthy(server_url: str) -> None:
    url = embedded.with_database(server_url, "not_created_yet")
    result = bench("db", "status", env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "database: not_created_yet, not created yet (bench db start, or any command that needs it, makes it)"
    )
    with psycopg.connect(server_url) as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = 'not_created_yet'").fetchone() is None


def test_db_status_never_prints_the_password() -> None:
    result = bench("db", "status", env={"DATABASE_URL": "postgresql://x:s3cret@127.0.0.1:1/x"})
    assert result.returncode == 1
    assert result.stdout.splitlines()[1] == "url:      postgresql://x:****@127.0.0.1:1/x"
    assert "s3cret" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://me@/bench?host=/tmp/s&password=pw",
            "postgresql://me@/bench?host=/tmp/s&password=****",
        ),
        ("postgresql://me:p%40w@db:5432/x?sslmode=require", "postgresql://me:****@db:5432/x?sslmode=require"),
        ("dbname=x password=pw", "password=**** dbname=x"),  # as psycopg.conninfo writes it
        ("postgresql://me@db/x", "postgresql://me@db/x"),
    ],
)
def test_a_password_is_redacted_wherever_the_url_holds_it(url: str, shown: str) -> None:
    assert db.redacted(url) == shown
