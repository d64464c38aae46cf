"""Measure two git refs, each with its own code and migrations, on identical data.

Each ref runs `python -m bench run` in a detached worktree of its own, with PYTHONPATH and cwd set to
that worktree, so the ref's packages are imported rather than the caller's (checked afterwards: the
results file records the commit its code came from). Both runs use the caller's server (the embedded one
via BENCH_PGDATA, or DATABASE_URL's) with a database each. When the seeder is the same in both refs, the
base database is cloned with CREATE DATABASE ... TEMPLATE instead of seeding twice.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench import db, results, worktree
from bench.errors import UsageError
from bench.results import Results
from bench import server as embedded

SEEDER_PATHS = ("seed",)
MIGRATION_PATHS = (":(glob)project/**/migrations/**",)
# Sections of `bench run` that compare does not read: skipped when the ref's `bench run` knows the flag.
SKIP_FLAGS = ("--no-costs", "--no-cold")
RUN_TIMEOUT = 6 * 3600


@dataclass(frozen=True)
class Ref:
    role: str  # "base" or "head"
    name: str  # as the user typed it
    commit: str

    @property
    def short(self) -> str:
        return self.commit[:7]

    @property
    def database(self) -> str:
        return f"bench_cmp_{self.role}_{self.short}"


@dataclass(frozen=True)
class Measured:
    ref: Ref
    results: Results
    path: Path


Log = Callable[[str], None]


def _stderr(line: str) -> None:
    print(f"bench compare: {line}", file=sys.stderr, flush=True)


def server_url() -> str:
    configured = db.configured_url()
    return embedded.with_database(configured, "postgres") if configured else embedded.start()


def child_env(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    if not db.configured_url():
        # One server for both refs: the caller's, not one per worktree's .bench/.
        env["BENCH_PGDATA"] = str(embedded.data_dir())
    return env


def run_flags(tree: Path) -> set[str]:
    """The options this ref's `bench run` accepts (older refs may lack some)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--help"],
        cwd=tree, env=child_env(tree), capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    if done.returncode != 0:
        raise UsageError(
            f"`bench run --help` fails in this ref: {(done.stderr.strip() or '?').splitlines()[-1]}"
        )
    return set(re.findall(r"--[a-z][a-z0-9-]*", done.stdout))


def measure(ref: Ref, tree: Path, run_args: Sequence[str], scratch: Path, out: Path, log: Log) -> Measured:
    flags = run_flags(tree)
    extra = [f for f in SKIP_FLAGS if f in flags]
    if "--no-progress" in flags and not sys.stderr.isatty():
        extra.append("--no-progress")
    results_dir = scratch / f"results_{ref.role}"
    command = [
        sys.executable, "-m", "bench", "run", *run_args, *extra,
        "--database", ref.database, "--results-dir", str(results_dir),
    ]  # fmt: skip
    log(f"measuring {ref.role} {ref.name} ({ref.short}) in {tree}")
    done = subprocess.run(command, cwd=tree, env=child_env(tree), check=False, timeout=RUN_TIMEOUT)
    latest = results_dir / results.LATEST
    # Exit 1 means some measurement failed but the file was written: those failures are compared too.
    if done.returncode not in (0, 1) or not latest.exists():
        raise UsageError(f"`bench run` failed in {ref.role} {ref.name} ({ref.short}), exit {done.returncode}")
    measured = results.load(latest)
    if measured.environment.git_commit not in (None, ref.commit):
        raise UsageError(
            f"the {ref.role} run imported code from commit {measured.environment.git_commit}, "
            f"not {ref.commit}: is another copy of bench first on sys.path?"
        )
    kept = out / f"{ref.role}.json"
    results.write_atomic(kept, latest.read_text(encoding="utf-8"))
    return Measured(ref, measured, kept)


def can_clone(repo: Path, base: Ref, head: Ref) -> bool:
    """Seed once, clone for head: same seeder, and head's migrations only add to base's."""
    return worktree.same_paths(repo, base.commit, head.commit, *SEEDER_PATHS) and worktree.only_added(
        repo, base.commit, head.commit, *MIGRATION_PATHS
    )


def measure_refs(
    repo: Path,
    base_name: str,
    head_name: str,
    run_args: Sequence[str],
    out: Path,
    *,
    keep_databases: bool = False,
    log: Log = _stderr,
) -> tuple[Measured, Measured]:
    base = Ref("base", base_name, worktree.resolve_ref(repo, base_name))
    head = Ref("head", head_name, worktree.resolve_ref(repo, head_name))
    server = server_url()
    created: list[str] = []
    with worktree.sigterm_as_interrupt(), tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        try:
            with worktree.checkout(repo, base.commit, Path(tmp) / "base") as tree:
                created.append(base.database)
                measured_base = measure(base, tree, run_args, Path(tmp), out, log)
            created.append(head.database)
            if can_clone(repo, base, head):
                db.drop_owned_database(server, head.database)
                embedded.create_owned_database(server, head.database, template=base.database)
                log(f"seeder unchanged: {head.database} cloned from {base.database}")
            with worktree.checkout(repo, head.commit, Path(tmp) / "head") as tree:
                measured_head = measure(head, tree, run_args, Path(tmp), out, log)
        finally:
            if not keep_databases:
                for name in created:
                    try:
                        db.drop_owned_database(server, name)
                    except (psycopg.Error, UsageError) as exc:
                        log(f"could not drop database {name}: {db.first_line(exc)}")
    return measured_base, measured_head
