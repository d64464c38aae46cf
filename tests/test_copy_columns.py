"""The cost step's COPY of copied rows between two states' copies whose tables differ in columns (issue
25 item 4): the payload is read from one copy with the columns both have and inserted into the other
under that explicit column list; a column of the other state only is left to its default. Without the
list the row's field count would not match the table's (BadCopyFileFormat)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from django_index_bench.bench.costs.writes import copy_cost, copy_payload
from django_index_bench.bench.pg import server as embedded

TABLES = {
    "cols_before": "CREATE TABLE item (id bigint PRIMARY KEY, name text NOT NULL, hits int NOT NULL)",
    "cols_after": (
        "CREATE TABLE item (id bigint PRIMARY KEY, name text NOT NULL, port inet, hits int NOT NULL,"
        " seen boolean NOT NULL DEFAULT false)"
    ),
}


@pytest.fixture(scope="module")
def states(server_url: str) -> Iterator[dict[str, str]]:
    urls = {}
    with psycopg.connect(server_url, autocommit=True) as conn:
        for name, ddl in TABLES.items():
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
            urls[name] = embedded.with_database(server_url, name)
            with psycopg.connect(urls[name], autocommit=True) as target:
                target.execute(ddl)
                target.execute(
                    "INSERT INTO item (id, name, hits)"
                    " SELECT i, 'n' || i, i * 2 FROM generate_series(1, 20) i"
                )
    yield urls
    with psycopg.connect(server_url, autocommit=True) as conn:
        for name in TABLES:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_rows_of_one_state_copy_into_the_other_by_their_shared_columns(states: dict[str, str]) -> None:
    shared = ["id", "name", "hits"]
    payload = copy_payload(states["cols_before"], "item", 5, shared)
    cost = copy_cost(
        states["cols_after"], "item", 5, "after", pair=0, first=True, data=payload, columns=shared
    )
    assert (cost.rows, cost.method, cost.state) == (5, "copy", "after")
    with psycopg.connect(states["cols_after"]) as conn:
        assert conn.execute("SELECT count(*) FROM item").fetchone() == (20,)  # rolled back, as it was


def test_without_the_shared_list_the_field_counts_differ(states: dict[str, str]) -> None:
    payload = copy_payload(states["cols_before"], "item", 5)
    with pytest.raises(psycopg.errors.BadCopyFileFormat):
        copy_cost(states["cols_after"], "item", 5, "after", pair=0, first=True, data=payload)
