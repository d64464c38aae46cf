"""Every compare copy prewarmed alike before its timed rounds, or none, on a server whose shared_buffers
follows the machine's memory: real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from django_index_bench.bench.gate import prewarm
from django_index_bench.bench.pg import server as embedded


@pytest.fixture
def copies(server_url: str) -> Iterator[list[str]]:
    """Two small databases with a table and an index each, dropped afterwards."""
    names = [f"prewarm_{uuid.uuid4().hex[:8]}_{n}" for n in range(2)]
    with psycopg.connect(server_url, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    for name in names:
        with psycopg.connect(embedded.with_database(server_url, name), autocommit=True) as conn:
            conn.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
            conn.execute("INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 1000) i")
    yield names
    with psycopg.connect(server_url, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _extensions(server_url: str, name: str) -> list[str]:
    with psycopg.connect(embedded.with_database(server_url, name)) as conn:
        return [row[0] for row in conn.execute("SELECT extname FROM pg_extension ORDER BY 1")]


def test_every_copy_is_prewarmed_and_left_as_it_was(server_url: str, copies: list[str]) -> None:
    before = [_extensions(server_url, name) for name in copies]
    done = prewarm.prewarm(server_url, copies)
    # Each copy: the table and its primary key's index.
    assert done.startswith("pg_prewarm of every table and index of each of the 2 copies (4 relations, ")
    assert [_extensions(server_url, name) for name in copies] == before
    assert "pg_prewarm" not in before[0]


def test_copies_that_do_not_fit_together_are_none_of_them_prewarmed(
    server_url: str, copies: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prewarm, "SHARE_OF_BUFFERS", 1e-6)  # as if shared_buffers held next to nothing
    done = prewarm.prewarm(server_url, copies)
    assert done.startswith("not prewarmed: the 2 copies (")
    assert done.endswith("together, so prewarming the last would evict the first")


def test_a_new_embedded_server_sizes_shared_buffers_from_the_machines_memory(server_url: str) -> None:
    """The test session's server was started fresh by embedded.start, as a first `bench` command's is."""
    expected = embedded.shared_buffers_mb()
    assert expected is not None
    assert expected >= 128
    with psycopg.connect(server_url) as conn:
        row = conn.execute(
            "SELECT setting::bigint * current_setting('block_size')::bigint / 1024 / 1024 FROM pg_settings "
            "WHERE name = 'shared_buffers'"
        ).fetchone()
    assert row is not None
    assert row[0] == expected
