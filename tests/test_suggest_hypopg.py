"""`bench suggest`'s optional HypoPG pruning (bench/suggest/hypo.py): with the extension on the server, a
candidate no plan of its scenarios would use is told apart from one a plan would use. HypoPG is never
required: without it this test is skipped, saying why, and the search says that nothing was pruned
(tests/test_suggest.py checks that line in the suggestions file and its report)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from django_index_bench.bench.pg import server as embedded
from django_index_bench.bench.suggest import hypo
from django_index_bench.bench.suggest.results import Candidate, Key

DATABASE = "suggest_hypopg"


@pytest.fixture
def conn(server_url: str) -> Iterator[psycopg.Connection[Any]]:
    if not hypo.available(server_url):
        pytest.skip("HypoPG is not installed on the test server (no hypopg in pg_available_extensions)")
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    try:
        with psycopg.connect(embedded.with_database(server_url, DATABASE), autocommit=True) as c:
            c.execute("CREATE EXTENSION hypopg")
            c.execute("CREATE TABLE t AS SELECT n AS a, n % 7 AS b FROM generate_series(1, 100000) AS n")
            c.execute("ANALYZE t")
            yield c
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")


def _candidate(name: str, column: str) -> Candidate:
    return Candidate(name, "t", (Key(column),), 1, sql=f'CREATE INDEX "{name}" ON "t" ("{column}")')


def test_hypopg_keeps_what_a_plan_would_use_and_prunes_what_none_would(conn: psycopg.Connection[Any]) -> None:
    queries = ['SELECT "t"."b" FROM "t" WHERE "t"."a" = 4242']
    # An equality on a unique column: the planner takes the hypothetical index.
    assert hypo._uses(conn, _candidate("t_a_idx", "a"), queries)
    # An index on a column the query never filters on is of no use to it.
    assert not hypo._uses(conn, _candidate("t_b_idx", "b"), queries)
    # Nothing is left behind: the hypothetical indexes are the session's, and reset before each.
    conn.execute("SELECT hypopg_reset()")
    assert conn.execute("SELECT count(*) FROM hypopg_list_indexes").fetchone() == (0,)
