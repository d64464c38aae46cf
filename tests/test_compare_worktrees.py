"""`bench compare REF REF` plumbing, with a stand-in `bench run`: worktrees, databases, the user's tree.

The repository here stands for a checkout of this harness from before it was one package: a tiny
top-level `bench` package whose `run` writes a canned results file, beside the old layout's marks
(bench/cli.py, seed/load.py, reports/render.py), so these tests check the lifecycle (and that each
ref's own code runs) in seconds; the real
measurement end to end is in test_compare_e2e.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from django_index_bench.bench import results
from django_index_bench.bench.gate import harness
from django_index_bench.bench.pg import server as embedded
from tests.cli import REPO, bench
from tests.compare_fixtures import base_results
from tests.git_repos import git, snapshot

FAKE_MAIN = f"""
import json, os, subprocess, sys, time, uuid
from pathlib import Path

args = sys.argv[1:]
if "--help" in args:
    print("usage: bench run [--quick] [--no-costs] [--database NAME] [--results-dir DIR]")
    sys.exit(0)
if Path("sleep.txt").exists():
    Path(os.environ["FAKE_STARTED"]).write_text("started")
    time.sleep(120)
name = args[args.index("--database") + 1]
server = os.environ["DATABASE_URL"].rpartition("/")[0] + "/postgres"
import psycopg
with psycopg.connect(server, autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
        conn.execute(f'CREATE DATABASE "{{name}}"')
        conn.execute(f"COMMENT ON DATABASE \\"{{name}}\\" IS '{embedded.OWNER_MARK}'")
data = json.loads(Path("fixture.json").read_text())
data["run_id"] = uuid.uuid4().hex
head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
data["environment"]["git_commit"] = head.stdout.strip()
for m in data["measurements"]:
    if m["side"] == "prefetch":
        m["query_count"] = int(Path("queries.txt").read_text())
out = Path(args[args.index("--results-dir") + 1])
out.mkdir(parents=True, exist_ok=True)
(out / "latest.json").write_text(json.dumps(data))
"""


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", message)


@pytest.fixture
def fake_repo(tmp_path: Path) -> Path:
    """main: 2 queries; nplus1: 4; unrelated: a README change; sleepy: a run that hangs. Dirty tree."""
    repo = tmp_path / "repo"
    (repo / "bench").mkdir(parents=True)
    (repo / "bench" / "__init__.py").write_text("", encoding="utf-8")
    (repo / "bench" / "__main__.py").write_text(FAKE_MAIN, encoding="utf-8")
    for mark in harness.LEGACY_MARKS:
        (repo / mark).parent.mkdir(exist_ok=True)
        (repo / mark).touch()
    (repo / "fixture.json").write_text(results.to_json(base_results()), encoding="utf-8")
    (repo / "queries.txt").write_text("2\n", encoding="utf-8")
    (repo / "README.md").write_text("fake\n", encoding="utf-8")
    git(repo, "init", "--quiet", "--initial-branch", "main")
    commit(repo, "fake bench")
    git(repo, "checkout", "--quiet", "-b", "nplus1")
    (repo / "queries.txt").write_text("4\n", encoding="utf-8")
    commit(repo, "n+1")
    git(repo, "checkout", "--quiet", "-b", "unrelated", "main")
    (repo / "README.md").write_text("fake, reworded\n", encoding="utf-8")
    commit(repo, "docs")
    git(repo, "checkout", "--quiet", "-b", "sleepy", "main")
    (repo / "sleep.txt").write_text("", encoding="utf-8")
    commit(repo, "a run that hangs")
    git(repo, "checkout", "--quiet", "main")
    (repo / "README.md").write_text("uncommitted edit\n", encoding="utf-8")
    (repo / "untracked.txt").write_text("mine\n", encoding="utf-8")
    git(repo, "add", "untracked.txt")  # staged: the index must survive too
    return repo


def compare_refs(repo: Path, out: Path, *refs: str) -> subprocess.CompletedProcess[str]:
    return bench("compare", *refs, "--output", str(out))


def cmp_databases(server_url: str) -> list[str]:
    with psycopg.connect(server_url, autocommit=True) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'bench_cmp_%'").fetchall()
    return [r[0] for r in rows]


@pytest.mark.parametrize(
    ("head", "status"), [("nplus1", 1), ("unrelated", 0), ("main", 0)], ids=["n+1", "unrelated", "A/A"]
)
def test_each_ref_runs_its_own_code_and_the_users_tree_is_untouched(
    fake_repo: Path, tmp_path: Path, server_url: str, head: str, status: int
) -> None:
    before = snapshot(fake_repo)
    done = compare_refs(fake_repo, tmp_path / "out", "main", head, "--repo", str(fake_repo))
    assert done.returncode == status, done.stderr
    assert snapshot(fake_repo) == before
    assert cmp_databases(server_url) == []
    if status:
        assert "REGRESSION wellness_summary[all] prefetch: more queries: 2 -> 4" in done.stdout
    kept = results.load(tmp_path / "out" / "head.json")
    assert kept.environment.git_commit == git(fake_repo, "rev-parse", head).strip()
    assert "cloned from bench_cmp_base_" in done.stderr
    data = json.loads((tmp_path / "out" / "comparison.json").read_text(encoding="utf-8"))
    assert data["head"]["label"] == head


def test_an_interrupted_compare_leaves_no_worktree(fake_repo: Path, tmp_path: Path, server_url: str) -> None:
    started = tmp_path / "started"
    before = snapshot(fake_repo)
    process = subprocess.Popen(
        [sys.executable, "-m", "django_index_bench", "compare", "sleepy", "main", "--repo", str(fake_repo),
         "--output", str(tmp_path / "out")],
        cwd=REPO, env={**os.environ, "FAKE_STARTED": str(started)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert started.exists(), process.communicate(timeout=30)
    assert len(git(fake_repo, "worktree", "list").splitlines()) == 2
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    assert err.splitlines()[-1] == "bench: terminated; cleaned up"
    assert snapshot(fake_repo) == before
    assert cmp_databases(server_url) == []


def test_what_a_killed_compare_left_the_next_compare_removes_and_says(
    fake_repo: Path, tmp_path: Path, server_url: str
) -> None:
    started = tmp_path / "started"
    before = snapshot(fake_repo)
    process = subprocess.Popen(
        [sys.executable, "-m", "django_index_bench", "compare", "sleepy", "main", "--repo", str(fake_repo),
         "--output", str(tmp_path / "out")],
        cwd=REPO, env={**os.environ, "FAKE_STARTED": str(started)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert started.exists(), process.communicate(timeout=30)
    os.killpg(process.pid, signal.SIGKILL)  # no finally block runs: everything is left behind
    process.communicate(timeout=60)
    scratch = list(Path(tempfile.gettempdir()).glob(f"bench-compare-{process.pid}-*"))
    assert len(scratch) == 1
    left = cmp_databases(server_url)
    assert len(left) == 1
    assert len(git(fake_repo, "worktree", "list").splitlines()) == 2
    done = compare_refs(fake_repo, tmp_path / "out2", "main", "unrelated", "--repo", str(fake_repo))
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert f"bench: removed {scratch[0]}, left by compare pid {process.pid} (no longer running)" in lines
    assert (
        f"bench: dropped database {left[0]}, left by run compare (pid {process.pid}, no longer running)"
        in lines
    )
    assert not scratch[0].exists()
    assert cmp_databases(server_url) == []
    assert snapshot(fake_repo) == before
