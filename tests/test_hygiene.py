"""Security and fault hygiene (issue 22): SQL from configuration is parsed, never concatenated; the
ownership guard trusts only what the harness recorded; secrets stay off argv and out of every line shown.

Each case runs `bench` as a user does, in a child process, against real files and the tests' server,
and asserts exit status, one line, no traceback and nothing created or changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from django_index_bench.bench.pg import server as embedded
from tests.cli import bench
from tests.test_bad_inputs import database_exists, one_line_error
from tests.test_example_project import example_copy

INJECTED_DROP = 'book_author_published_idx"; CREATE TABLE smuggled (a int); --'


def _with_state(project: Path, lines: str) -> None:
    config = project / "bench.toml"
    text = config.read_text(encoding="utf-8")
    old = '[states.before]\nmigrations = { catalog = "0001" }\n'
    assert old in text
    config.write_text(text.replace(old, f"[states.before]\n{lines}\n"), encoding="utf-8")


def _run_refused(project: Path, server_url: str, database: str) -> str:
    done = bench("run", "--profile", "tiny", "--quick", "--database", database, cwd=project)
    line = one_line_error(done)
    assert not database_exists(server_url, database)  # refused before seeding: nothing was created
    assert not (project / "results").exists()
    return line


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (
            f"drop_indexes = ['{INJECTED_DROP}']",
            "states.before.drop_indexes[0]: expected an index name (no quotes, semicolons, control "
            f"characters or outer spaces), got {INJECTED_DROP!r}",
        ),
        (
            f"drop_indexes = ['{'x' * 64}']",
            f"states.before.drop_indexes[0]: expected an index name of at most 63 bytes, got {'x' * 64!r}",
        ),
        (
            "drop_indexes = ['book_author_published_idx', 'book_author_published_idx']",
            "states.before.drop_indexes: 'book_author_published_idx' is given twice",
        ),
        (
            "create_indexes = ['CREATE INDEX extra_idx ON catalog_book (pages); "
            "DROP TABLE catalog_author CASCADE']",
            "states.before.create_indexes[0]: expected exactly one CREATE [UNIQUE] INDEX statement, "
            "got 2 statements (IndexStmt, DropStmt)",
        ),
        (
            "create_indexes = ['SELECT pg_sleep(0)']",
            "states.before.create_indexes[0]: expected exactly one CREATE [UNIQUE] INDEX statement, "
            "got a SelectStmt",
        ),
        (
            f"create_indexes = [\"COMMENT ON DATABASE postgres IS '{embedded.OWNER_MARK}'\"]",
            "states.before.create_indexes[0]: expected exactly one CREATE [UNIQUE] INDEX statement, "
            "got a CommentStmt",
        ),
        (
            "create_indexes = ['CREATE INDEXX extra_idx ON catalog_book (pages)']",
            "states.before.create_indexes[0]: expected one CREATE [UNIQUE] INDEX statement, but "
            'PostgreSQL cannot parse it (syntax error at or near "INDEXX", at index 7)',
        ),
    ],
    ids=["quote-in-drop", "long-drop", "duplicate-drop", "two-statements", "select", "comment", "typo"],
)
def test_sql_in_the_states_is_refused_before_seeding(
    tmp_path: Path, server_url: str, state: str, expected: str
) -> None:
    project = example_copy(tmp_path)
    _with_state(project, state)
    line = _run_refused(project, server_url, "hygiene_sql")
    assert line == f"bench: error: {project / 'bench.toml'}: {expected}"


def test_a_single_create_index_is_accepted_by_the_configuration(tmp_path: Path) -> None:
    from django_index_bench.bench import config

    project = example_copy(tmp_path)
    _with_state(project, "create_indexes = ['CREATE UNIQUE INDEX CONCURRENTLY x_idx ON catalog_book (isbn)']")
    loaded = config.load(project / "bench.toml")
    assert loaded.before.create_indexes == ("CREATE UNIQUE INDEX CONCURRENTLY x_idx ON catalog_book (isbn)",)


def test_a_dropped_index_name_is_an_identifier_not_sql() -> None:
    from django_index_bench.bench.steps.states import drop_index

    assert drop_index('a"; DROP TABLE t; --') == 'DROP INDEX "a""; DROP TABLE t; --"'
    assert drop_index("Mixed", concurrently=True) == 'DROP INDEX CONCURRENTLY "Mixed"'


@pytest.fixture
def forged(server_url: str) -> Iterator[str]:
    """A database the harness did not create, carrying the harness's comment mark (as any SQL could)."""
    name = "hygiene_forged"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(embedded.OWNER_MARK)
            )
        )
        conn.execute(sql.SQL("CREATE TABLE keep_me (a int)"))
    yield name
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_a_forged_comment_does_not_make_a_database_the_harness_s(forged: str, server_url: str) -> None:
    url = embedded.with_database(server_url, forged)
    assert embedded.is_owned(url) is False
    done = bench("db", "status", env={"DATABASE_URL": url})
    assert f"database: {forged}, NOT owned by the harness" in done.stdout
    refused = bench("seed", "--profile", "tiny", "--force", "--database", forged, "--no-progress")
    assert one_line_error(refused).startswith(f"bench: error: refusing to touch database '{forged}'")
    assert database_exists(server_url, forged)


def test_a_database_the_harness_created_is_recorded(server_url: str) -> None:
    from django_index_bench.bench.pg import db

    name = "hygiene_created"
    assert embedded.create_owned_database(server_url, name) is True
    try:
        assert embedded.is_owned(embedded.with_database(server_url, name)) is True
    finally:
        db.drop_owned_database(server_url, name)
    assert not database_exists(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        query = sql.SQL("SELECT count(*) FROM {} WHERE datname = %s").format(sql.SQL(embedded.REGISTRY))
        assert conn.execute(query, (name,)).fetchone() == (0,)


def test_databases_an_older_harness_marked_are_adopted_when_the_registry_is_made(server_url: str) -> None:
    from django_index_bench.bench.pg import db

    name = "hygiene_legacy"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.SQL(embedded.REGISTRY)))
        # What a harness from before the registry did: create, then comment.
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(embedded.OWNER_MARK)
            )
        )
    assert embedded.is_owned(embedded.with_database(server_url, name)) is True
    db.drop_owned_database(server_url, name)
    assert not database_exists(server_url, name)
