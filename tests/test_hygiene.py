"""Security and fault hygiene (issue 22): SQL from configuration is parsed, never concatenated; the
ownership guard trusts only what the harness recorded; secrets stay off argv and out of every line shown.

Each case runs `bench` as a user does, in a child process, against real files and the tests' server,
and asserts exit status, one line, no traceback and nothing created or changed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from django_index_bench.bench.pg import server as embedded
from django_index_bench.bench.results import to_json
from django_index_bench.bench.scenarios import Case
from tests.cli import REPO, bench
from tests.git_repos import git
from tests.sample_results import sample_results
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
    refused = bench("seed", "--profile", "tiny", "--force-seed", "--database", forged, "--no-progress")
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


SECRET = "s3cr3t-pw"


def test_a_worker_gets_its_urls_by_environment_and_ps_shows_no_password(
    tmp_path: Path, database_url: str
) -> None:
    from django_index_bench.bench.gate.refs import child_env
    from django_index_bench.bench.gate.workers import STATES_ENV, WorkerProcess, state_passing

    tree = example_copy(tmp_path)
    # The tests' server trusts local connections: libpq never sends this password, but carries it.
    url = f"{database_url}?password={SECRET}"
    args, env = state_passing(tree, {"before": url, "after": url})
    assert args == []
    assert json.loads(env[STATES_ENV]) == {"before": url, "after": url}
    worker = WorkerProcess(tree, {**child_env(tree), **env}, [*args, "--config", str(tree / "bench.toml")], 0)
    try:
        assert worker.call("hello")["worker"] == 0
        cmdline = Path(f"/proc/{worker.process.pid}/cmdline").read_bytes().decode()
        assert SECRET not in cmdline
        assert "--state" not in cmdline
    finally:
        worker.close()
    assert worker.process.returncode == 0


def test_an_older_worker_gets_urls_without_passwords_on_argv(tmp_path: Path) -> None:
    from django_index_bench.bench.gate.harness import LEGACY_MARKS
    from django_index_bench.bench.gate.workers import state_passing

    for mark in (*LEGACY_MARKS, "bench/worker.py"):
        (tmp_path / mark).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / mark).write_text("# a worker from before the environment\n", encoding="utf-8")
    urls = {
        "before": f"postgresql://postgres:{SECRET}@db.example:5432/bench_before?sslmode=require",
        "after": f"host=db.example password={SECRET} dbname=bench_after",
    }
    args, env = state_passing(tmp_path, urls)
    assert args == [
        "--state=before=postgresql://postgres@db.example:5432/bench_before?sslmode=require",
        "--state=after=dbname=bench_after host=db.example",
    ]
    assert env == {"PGPASSWORD": SECRET}


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"postgresql://postgres:{SECRET}@[::1/bench", "postgresql://postgres:****@[::1/bench"),
        (f"host=localhost password='{SECRET} dbname=x", "host=localhost password=****"),
    ],
    ids=["uri-that-does-not-parse", "unterminated-key-value"],
)
def test_a_malformed_url_never_shows_its_password(url: str, shown: str, tmp_path: Path) -> None:
    status = bench("db", "status", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert SECRET not in status.stdout + status.stderr
    assert f"url:      {shown}" in status.stdout
    seeded = bench("seed", "--profile", "tiny", "--database", "hygiene_never", env={"DATABASE_URL": url})
    line = one_line_error(seeded)
    assert SECRET not in line
    assert line.startswith("bench: error: not a PostgreSQL connection URL (")


def _at_umask_000(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "django_index_bench", *args],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=600, preexec_fn=lambda: os.umask(0),
    )  # fmt: skip


def test_report_and_compare_files_are_0644_whatever_the_umask(tmp_path: Path) -> None:
    base = tmp_path / "base.json"
    base.write_text(to_json(sample_results()), encoding="utf-8")
    head = tmp_path / "head.json"
    head.write_text(to_json(replace(sample_results(), run_id="20261129T010000Z-def5678")), encoding="utf-8")
    report = _at_umask_000("report", str(base), "--output", str(tmp_path / "report"))
    assert report.returncode == 0, report.stderr
    compared = _at_umask_000("compare", str(base), str(head), "--output", str(tmp_path / "compare"))
    assert compared.returncode in (0, 1), compared.stderr  # 1: its verdict, not a failure
    files = [p for p in (tmp_path / "report").rglob("*") if p.is_file()]
    files += [p for p in (tmp_path / "compare").rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".md", ".png", ".json"}
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in files} == {p.name: "0o644" for p in files}


CLAIM = '[[claim]]\nid = "c"\nsource = "s"\nquote = "q"\nclaimed = "x"\nscenarios = ["a"]\n'
BUDGET = '[[budget]]\nid = "b"\nsource = "s"\nquote = "q"\ngroup = "tracking"\n'


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            CLAIM + 'metric = "latency"\nreduction = [nan, inf]\n',
            "claim 'c': reduction must be [low, high] in percent, got [nan, inf]",
        ),
        (
            CLAIM + 'metric = "latency"\nreduction = [nan, 90]\n',
            "claim 'c': reduction must be [low, high] in percent, got [nan, 90]",
        ),
        (
            CLAIM + 'metric = "latency"\nreduction = [100, 50]\n',
            "claim 'c': reduction must be [low, high] with 0 <= low <= high <= 100 (percent), got [100, 50]",
        ),
        (
            CLAIM + 'metric = "latency"\nreduction = [-50, 500]\n',
            "claim 'c': reduction must be [low, high] with 0 <= low <= high <= 100 (percent), got [-50, 500]",
        ),
        (
            CLAIM + 'metric = "latency"\nat_most = 5\n',
            "claim 'c': a latency claim is judged on its reduction; "
            "at_most is for ('queries', 'response_bytes', 'peak_memory_bytes')",
        ),
        (
            CLAIM + 'metric = "queries"\nat_most = nan\n',
            "claim 'c': at_most must be a finite number of at least 0, got nan",
        ),
        (
            BUDGET + 'statistic = "p95"\nlimit = inf\n',
            "budget 'b': limit must be a finite number of at least 0, got inf",
        ),
        (
            BUDGET + 'statistic = "p95"\nlimit = nan\n',
            "budget 'b': limit must be a finite number of at least 0, got nan",
        ),
        (
            BUDGET + 'statistic = "p95"\nlimit = 1\nproduction = { tenants = -20 }\n',
            "budget 'b': production must be a table of row counts, like {people = 5000}",
        ),
    ],
    ids=["nan-inf", "nan-low", "reversed", "out-of-range", "latency-at-most", "nan-at-most", "inf-limit",
         "nan-limit", "negative-rows"],
)  # fmt: skip
def test_every_number_of_a_claims_file_is_checked(content: str, expected: str, tmp_path: Path) -> None:
    results_file = tmp_path / "results.json"
    results_file.write_text(to_json(sample_results()), encoding="utf-8")
    claims = tmp_path / "claims.toml"
    claims.write_text(content, encoding="utf-8")
    output = tmp_path / "report"
    result = bench("report", str(results_file), "--claims", str(claims), "--output", str(output))
    assert one_line_error(result) == f"bench: error: {claims}: {expected}"
    assert not output.exists()


def _edited(edit: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(to_json(sample_results()))
    timing = data["measurements"][0]["timing"]
    if edit == "nan":
        timing["total_s"][0] = float("nan")
    elif edit == "inf":
        timing["db_s"][1] = float("inf")
    elif edit == "negative":
        timing["total_s"][2] = -1.0
    elif edit == "string":
        data["measurements"] = "abc"
    return data


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ("nan", "measurements[0].timing.total_s[0] is nan; expected a finite number, not negative"),
        ("inf", "measurements[0].timing.db_s[1] is inf; expected a finite number, not negative"),
        ("negative", "measurements[0].timing.total_s[2] is -1.0; expected a finite number, not negative"),
        ("string", "measurements must be a list, got str"),
    ],
)
@pytest.mark.parametrize("command", ["report", "compare"])
def test_every_number_of_a_results_file_is_checked(
    edit: str, expected: str, command: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_edited(edit)), encoding="utf-8")
    good = tmp_path / "good.json"
    good.write_text(to_json(replace(sample_results(), run_id="20261129T010000Z-def5678")), encoding="utf-8")
    files = [str(bad)] if command == "report" else [str(good), str(bad)]
    output = tmp_path / "out"
    result = bench(command, *files, "--output", str(output))
    assert one_line_error(result) == f"bench: error: {bad}: {expected}"
    assert not output.exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("seed", "--profile", ""), "argument --profile: expected a name, got an empty one"),
        (("seed", "--database", ""), "argument --database: expected a database name, got an empty one"),
        (
            ("seed", "--database", "d" * 64),
            "argument --database: expected a database name of at most 63 bytes (PostgreSQL would cut it "
            "short), got 64",
        ),
        (("run", "--database", "é" * 32), "argument --database: expected a database name of at most 63"),
        (("load", "--rounds", "0"), "argument --rounds: expected a whole number of at least 1, got '0'"),
        (("suggest", "--database", ""), "argument --database: expected a database name, got an empty one"),
        (
            ("db", "reset", "--database", ""),
            "argument --database: expected a database name, got an empty one",
        ),
    ],
    ids=[
        "empty-profile",
        "empty-database",
        "long-database",
        "long-multibyte",
        "rounds-0",
        "suggest-empty-database",
        "db-reset-empty-database",
    ],
)
def test_an_empty_or_impossible_option_is_refused(
    args: tuple[str, ...], expected: str, tmp_path: Path, server_url: str
) -> None:
    project = example_copy(tmp_path)
    done = bench(*args, cwd=project)
    line = one_line_error(done)
    assert expected in line
    assert not database_exists(server_url, "d" * 63)
    assert not (project / "results").exists()


def test_a_long_database_name_in_database_url_is_refused_before_creating_anything(
    tmp_path: Path, server_url: str
) -> None:
    project = example_copy(tmp_path)
    url = embedded.with_database(server_url, "u" * 70)
    done = bench("seed", "--profile", "tiny", env={"DATABASE_URL": url}, cwd=project)
    assert one_line_error(done) == f"bench: error: database name {'u' * 70!r}: expected 1 to 63 bytes, got 70"
    assert not database_exists(server_url, "u" * 63)


def test_one_app_given_twice_in_before_is_refused(tmp_path: Path, server_url: str) -> None:
    project = example_copy(tmp_path)
    done = bench(
        "run", "--profile", "tiny", "--quick", "--database", "hygiene_twice",
        "--before", "catalog=0001", "--before", "catalog=0002", cwd=project,
    )  # fmt: skip
    assert one_line_error(done) == (
        "bench: error: --before catalog= is given twice (0001 and 0002); give it once"
    )
    assert not database_exists(server_url, "hygiene_twice")


def test_an_ambiguous_git_ref_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch", "main")
    (repo / "a.txt").write_text("a\n", encoding="utf-8")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "one")
    git(repo, "tag", "release")
    (repo / "a.txt").write_text("b\n", encoding="utf-8")
    git(repo, "commit", "--quiet", "-am", "two")
    git(repo, "branch", "release")
    output = tmp_path / "out"
    done = bench("compare", "release", "main", "--repo", str(repo), "--output", str(output))
    assert one_line_error(done) == (
        f"bench: error: git ref 'release' is ambiguous in {repo}: refs/tags/release and "
        "refs/heads/release; name one in full, e.g. refs/tags/release"
    )
    assert not output.exists()


def test_a_data_directory_that_cannot_be_created(tmp_path: Path) -> None:
    pgdata = Path("/proc/hygiene/pgdata")
    done = bench("db", "start", env={"BENCH_PGDATA": str(pgdata)}, drop=("DATABASE_URL",), cwd=tmp_path)
    assert one_line_error(done) == (
        f"bench: error: cannot create data directory {pgdata} (No such file or directory); set "
        "BENCH_PGDATA to a directory you can write to"
    )


@dataclass(frozen=True)
class _Drawn:
    """A scenario as draw() sees it: the cases the data gave, and its sides."""

    cases: tuple[str, ...]
    sides: tuple[str, str] = ("before", "after")

    def draw_cases(self) -> list[Case]:
        return [Case(name, {}) for name in self.cases]


def test_a_case_no_scenario_draws_is_a_failure_not_an_empty_pass() -> None:
    from django_index_bench.bench.steps.timed import draw

    scenarios: Any = {"books": _Drawn(("heavy", "typical", "light"))}
    cases, failures = draw(scenarios, "nosuchcase")
    assert cases == {"books": []}
    error = "no case named 'nosuchcase' (its cases: heavy, typical, light)"
    assert [(m.scenario, m.case, m.side, m.status, m.error) for m in failures] == [
        ("books", "nosuchcase", side, "failed", error) for side in ("before", "after")
    ]


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(done.stdout)


def test_a_copy_whose_owner_died_is_listed_then_reaped_by_the_next_command(
    server_url: str, database_url: str
) -> None:
    name = "hygiene_leftover_rdead_before"
    owner = embedded.Owner(run_tag="rdead", pid=_dead_pid())
    assert embedded.create_owned_database(server_url, name, owner=owner)
    status = bench("db", "status", env={"DATABASE_URL": database_url})
    assert status.returncode == 0, status.stderr
    assert (
        f"leftover: {name} (run rdead, pid {owner.pid} on {owner.host}, no longer running; "
        "the next command drops it)"
    ) in status.stdout.splitlines()
    following = bench("db", "url", env={"DATABASE_URL": database_url})
    assert following.returncode == 0, following.stderr
    assert following.stderr.splitlines() == [
        f"bench: dropped database {name}, left by run rdead (pid {owner.pid}, no longer running)"
    ]
    assert not database_exists(server_url, name)


def test_a_copy_whose_owner_runs_is_in_use_and_left_alone(server_url: str, database_url: str) -> None:
    from django_index_bench.bench.pg import db

    name = "hygiene_in_use_ralive_before"
    owner = embedded.Owner(run_tag="ralive")  # this process: alive
    assert embedded.create_owned_database(server_url, name, owner=owner)
    try:
        status = bench("db", "status", env={"DATABASE_URL": database_url})
        assert f"in use:   {name} (run ralive, pid {owner.pid} on {owner.host})" in status.stdout.splitlines()
        assert bench("db", "url", env={"DATABASE_URL": database_url}).stderr == ""
        assert database_exists(server_url, name)
    finally:
        db.drop_owned_database(server_url, name)


def test_kill_9_mid_run_leaves_copies_the_next_command_drops(tmp_path: Path, server_url: str) -> None:
    project = example_copy(tmp_path)
    database = "hygiene_killed"
    run = subprocess.Popen(
        [sys.executable, "-m", "django_index_bench", "run", "--profile", "tiny", "--database", database,
         "--no-progress", "--no-costs"],
        cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        copies: list[str] = []
        deadline = time.monotonic() + 300
        with psycopg.connect(server_url, autocommit=True) as conn:
            while time.monotonic() < deadline and run.poll() is None and len(copies) < 2:
                rows = conn.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1", (f"{database}\\_r%",)
                ).fetchall()
                copies = [str(r[0]) for r in rows]
                time.sleep(0.05)
        assert len(copies) == 2, "the run ended before both copies existed"
        os.killpg(run.pid, signal.SIGKILL)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    status = bench("db", "status", env={"DATABASE_URL": embedded.with_database(server_url, database)})
    for copy in copies:
        assert any(line.startswith(f"leftover: {copy} (run r") for line in status.stdout.splitlines())
    following = bench("db", "url", env={"DATABASE_URL": embedded.with_database(server_url, database)})
    assert following.returncode == 0, following.stderr
    assert sorted(following.stderr.splitlines()) == sorted(
        f"bench: dropped database {copy}, left by run {copy.split('_')[2]} (pid {run.pid}, no longer running)"
        for copy in copies
    )
    assert not any(database_exists(server_url, copy) for copy in copies)


def test_a_worker_sits_out_the_terminals_ctrl_c(tmp_path: Path, database_url: str) -> None:
    """Ctrl-C reaches compare's whole process group; its workers leave stopping to compare (which closes
    them) instead of each dying with a KeyboardInterrupt traceback."""
    from django_index_bench.bench.gate.refs import child_env
    from django_index_bench.bench.gate.workers import WorkerProcess, state_passing

    tree = example_copy(tmp_path)
    args, env = state_passing(tree, {"before": database_url, "after": database_url})
    worker = WorkerProcess(tree, {**child_env(tree), **env}, [*args, "--config", str(tree / "bench.toml")], 1)
    try:
        assert worker.call("hello")["worker"] == 1
        os.kill(worker.process.pid, signal.SIGINT)
        time.sleep(0.5)
        assert worker.call("hello")["worker"] == 1
    finally:
        worker.close()
    assert worker.process.returncode == 0


def test_sigterm_during_the_copy_is_one_line_exit_143_and_rolls_back(server_url: str) -> None:
    from tests.test_bad_inputs import _copying

    database = "bench_sigterm"
    command = ["seed", "--profile", "small", "--force-seed", "--database", database, "--no-progress"]
    child = subprocess.Popen(
        [sys.executable, "-m", "django_index_bench", *command],
        cwd=REPO, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert _copying(server_url, database, child, time.monotonic() + 300), child.communicate()
        child.send_signal(signal.SIGTERM)  # `kill PID`: bench alone, not its encoder processes
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    assert err == "bench: terminated; cleaned up\n"
    assert child.returncode == 143
    assert out == ""
    with psycopg.connect(embedded.with_database(server_url, database)) as conn:
        assert conn.execute("SELECT count(*) FROM tracking").fetchone() == (0,)
