"""Every test runs against a real PostgreSQL: a throwaway embedded server this session starts itself.

The server lives in its own temporary data directory (never the user's .bench/pgdata), so the suite
can run beside a benchmark, or beside another test run, without either seeing the other.

Parallel workers (pytest-xdist; the test command runs `pytest -n auto`, one worker per core, see
tox.ini): each worker is a session of its own with its own server, data directory and databases, so two
workers never share a database name; the controller that hands out the tests starts none. The tests are
handed out a whole file at a time (`--dist loadfile`), so a module-scoped fixture is built once, in one
worker, and the slowest modules first (`--no-loadscope-reorder`, SLOW_FIRST below), so no worker is left
with a long one at the end while the other idles. (`--dist loadgroup` would let a file of independent
tests spread, but pytest-xdist 3.8 cannot group under pytest 9: the group it writes into a test's id is no
longer read, and every test went alone, each module-scoped fixture built in both workers.)

Sharing an expensive run (the pattern to follow when a new test file needs one): a `scope="module"`
fixture runs the whole command once (a `bench run`, a compare, a seed) and returns what it wrote, and
every test of the module only reads it (tests/test_run.py's `two_runs`, tests/test_costs.py). Tests
that must change what they read get a run of their own. A module of whole-command runs goes into
E2E_MODULES below, so `-m "not e2e"` stays the quick answer; a slow one goes into SLOW_FIRST.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

TEST_DATABASE = "bench_test"
_state: dict[str, str] = {}

# Modules that run the harness end to end: whole `bench run`, `compare`, `load` or cost steps as they run
# for a user, in processes of their own or on real git repositories; most of the suite's minutes.
# `pytest -m "not e2e"` is the quick answer (unit tests, and tests of one part on the session's
# database), `pytest -m e2e` the rest; plain `pytest` runs both, as CI does.
E2E_MODULES = frozenset(
    {
        "test_compare_e2e",
        "test_compare_replicas",
        "test_compare_worktrees",
        "test_cost_failure",
        "test_costs",
        "test_example_project",
        "test_index_only_costs",
        "test_keyed_project",
        "test_load",
        "test_locks",
        "test_no_seed",
        "test_run",
        "test_run_failures",
        "test_suggest_confirm",
        "test_two_projects",
    }
)


# The modules that take longest (pytest --durations, summed per file), slowest first: handed out before the
# rest. A module not named here keeps its place after them; the order only decides how evenly the workers
# finish (a 50 s module handed out last keeps one worker busy 50 s after the other is done).
SLOW_FIRST = (
    "test_compare_e2e",
    "test_compare_replicas",
    "test_hygiene",
    "test_suggest",
    "test_run",
    "test_states_e2e",
    "test_load",
    "test_wheel",
    "test_pytest_plugin",
    "test_compare_worktrees",
    "test_report_costs",
    "test_example_project",
    "test_suggest_confirm",
    "test_run_failures",
    "test_seed",
    "test_index_only_costs",
    "test_config",
    "test_compare",
    "test_suggest_report",
    "test_no_seed",
    "test_two_projects",
    "test_bad_inputs",
    "test_keyed_project",
    "test_exports",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.stem in E2E_MODULES:
            item.add_marker(pytest.mark.e2e)
    rank = {stem: i for i, stem in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))  # stable: files keep their order


def _xdist_controller(config: pytest.Config) -> bool:
    """True in pytest-xdist's controller process, which runs no test (its workers do)."""
    return not hasattr(config, "workerinput") and bool(getattr(config.option, "numprocesses", None))


def pytest_configure(config: pytest.Config) -> None:
    from django_index_bench.bench.pg import server as embedded

    if _xdist_controller(config):
        return

    # DATABASE_URL from the caller's shell must not leak in: tests own their server.
    os.environ.pop("DATABASE_URL", None)
    data_root = Path(tempfile.mkdtemp(prefix="bench-tests-"))
    os.environ["BENCH_PGDATA"] = str(data_root / "pgdata")
    server = embedded.start()
    _never_wait_for_the_disk(server)
    embedded.create_owned_database(server, TEST_DATABASE)
    url = embedded.with_database(server, TEST_DATABASE)
    _state.update(root=str(data_root), server=server, url=url)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings"
    import django

    django.setup()


def _never_wait_for_the_disk(server: str) -> None:
    """This server is thrown away when the session ends, so nothing it writes has to survive a crash of
    the machine: it never waits for the disk (fsync, full_page_writes off). Each DROP DATABASE (a compare
    makes and drops 18) otherwise waits for a checkpoint's fsyncs, about half a second here; a compare
    at the tiny profile took half as long without them (26 s instead of 50 s at load average 5). What the
    tests assert (plans, counts, statuses, shapes) does not depend on it; the harness's own servers keep
    PostgreSQL's defaults. synchronous_commit stays on: with it off, a VACUUM right after a commit may not
    yet mark the pages all-visible, and index-only scans visit the heap (test_states_types)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(server, autocommit=True) as conn:
        for setting in ("fsync", "full_page_writes"):
            conn.execute(sql.SQL("ALTER SYSTEM SET {} = off").format(sql.Identifier(setting)))
        conn.execute("SELECT pg_reload_conf()")


def pytest_unconfigure(config: pytest.Config) -> None:
    from django_index_bench.bench.pg import server as embedded

    if "root" in _state:
        from django.db import connections

        connections.close_all()
        embedded.stop(Path(_state["root"]) / "pgdata")
        shutil.rmtree(_state["root"], ignore_errors=True)


@pytest.fixture(scope="session")
def server_url() -> str:
    """URL of the maintenance database of this session's server, for creating more databases."""
    return _state["server"]


@pytest.fixture(scope="session")
def database_url() -> str:
    """URL of the harness-owned database Django is configured with."""
    return _state["url"]


@pytest.fixture(scope="session")
def migrated_schema() -> None:
    """The schema at the latest migrations, created once per session."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


@pytest.fixture
def db(migrated_schema: None) -> Iterator[BaseDatabaseWrapper]:
    """A migrated database whose changes roll back when the test ends."""
    from django.db import connection, transaction

    with transaction.atomic():
        yield connection
        transaction.set_rollback(True)
