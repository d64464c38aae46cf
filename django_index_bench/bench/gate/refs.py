"""Measure two git refs, each with its own code and migrations, on identical data, interleaved.

Each ref is checked out into a detached worktree of its own; its code runs there (PYTHONPATH and cwd
set to the worktree, so the ref's packages are imported rather than the caller's). Both refs use the
caller's server (the embedded one via BENCH_PGDATA, or DATABASE_URL's). The base ref's seeder fills a
database; when the seeder is the same in both refs, the head's is a TEMPLATE copy of it. Each ref then
gets a copy per state, moved there by the ref's own migrations, and worker processes of its own
(bench/worker.py); every pair of rounds runs the base and the head back to back, so both see the same
machine at the same moments.

A ref whose code predates the worker protocol is measured the old way: one `bench run` per ref, one
after the other, which the output says, because drift between the two runs then reads as an effect.
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

from django_index_bench import seed as seed_package
from django_index_bench.bench import results
from django_index_bench.bench.config import ProjectConfig
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.gate import git as worktree
from django_index_bench.bench.gate import harness
from django_index_bench.bench.pg import clones, db
from django_index_bench.bench.pg import server as embedded
from django_index_bench.bench.results import Results

MIGRATION_PATHS = (":(glob)**/migrations/**",)
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
        """The sequential path's database; the interleaved one names its databases per run."""
        return f"bench_cmp_{self.role}_{self.short}"


@dataclass(frozen=True)
class Measured:
    ref: Ref
    results: Results
    path: Path


Log = Callable[[str], None]
Key = tuple[str, str, str]  # (scenario, case, side), as a results file's measurement names it
# Given the first measurement of both refs, the measurements to measure again (confirm before failing).
Confirm = Callable[[Results, Results], tuple[Key, ...]]
# Why the sequential path measures nothing again (its refs' harness measures whole runs only).
NO_REMEASURE_SEQUENTIAL = (
    "the refs were measured one after the other by their own `bench run` (a harness from before the "
    "worker protocol), which cannot measure single items again"
)


@dataclass(frozen=True)
class Remeasured:
    """The second measurement of the items the first one flagged: fresh database copies, fresh worker
    processes. Without it (`error`), the first measurement's findings stand."""

    keys: tuple[Key, ...]
    base: Measured | None
    head: Measured | None
    error: str | None = None


@dataclass(frozen=True)
class RefSetup:
    """What the caller's configuration says about every ref: where its configuration file is (relative
    to the repository's top) and which paths decide the seeded data."""

    config: str | None = None
    seeder: tuple[str, ...] = ()
    # The caller's own files of the configuration (relative path -> content), for a ref that lacks them:
    # the pull request that adds bench.toml has a base without one.
    files: tuple[tuple[str, bytes], ...] = ()

    @classmethod
    def of(cls, repo: Path, project: ProjectConfig) -> RefSetup:
        where = project.path.resolve()
        relative = str(where.relative_to(repo)) if where.is_relative_to(repo) else None
        named = [where, *(p for p in (project.seed.plan, project.claims) if p is not None)]
        files = tuple(
            (str(p.resolve().relative_to(repo)), p.read_bytes())
            for p in named
            if p.resolve().is_relative_to(repo)
        )
        return cls(relative, seeder_paths(repo, project), files)

    def provide(self, tree: Path, log: Log) -> None:
        """Give a ref's checkout the caller's configuration files where it has none of its own."""
        for relative, content in self.files:
            if not (tree / relative).exists():
                (tree / relative).parent.mkdir(parents=True, exist_ok=True)
                (tree / relative).write_bytes(content)
                log(f"{tree.name} has no {relative}: using the current one")


def log_to_stderr(line: str) -> None:
    print(f"bench compare: {line}", file=sys.stderr, flush=True)


# The run tag compare's databases are recorded under (bench_cmp_<tag>_... in the interleaved path).
COMPARE_TAG = "compare"


def server_url() -> str:
    """The server compare works on; databases an earlier compare left (killed) are dropped first."""
    configured = db.configured_url()
    server = embedded.with_database(configured, "postgres") if configured else embedded.start()
    db.reap(server)
    return server


def seeder_paths(repo: Path, project: ProjectConfig) -> tuple[str, ...]:
    """What decides the seeded data, as paths of the repository: the configuration, the seed plan, the
    package of a seed hook's module when it lives in the repository (the sample's project/seeding/), and
    the harness's own seed/ when the repository holds the harness."""
    paths = [project.path, *([project.seed.plan] if project.seed.plan else [])]
    if project.seed.hook:
        module = project.seed.hook.split(":", 1)[0].split(".")
        relative = Path(*module[:-1]) if len(module) > 1 else Path(f"{module[0]}.py")
        paths += [folder / relative for folder in project.pythonpath if (folder / relative).exists()][:1]
    paths.append(Path(seed_package.__file__).parent)
    return tuple(str(p.resolve().relative_to(repo)) for p in paths if p.resolve().is_relative_to(repo))


def config_args(tree: Path, relative: str | None) -> list[str]:
    """--config for a ref's commands: the configuration at the same place in the ref's checkout. Not for
    a ref whose own harness predates configuration (it has bench/ but no bench/config.py), nor when the
    ref has no such file (its commands then look for one from the checkout's top down)."""
    if relative is None or not (tree / relative).is_file():
        return []
    has = harness.in_tree(tree)
    if harness.legacy(has) and not has("bench/config.py"):
        return []
    return [f"--config={tree / relative}"]


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
        [sys.executable, "-m", harness.module(harness.in_tree(tree)), "run", "--help"],
        cwd=tree, env=child_env(tree), capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    if done.returncode != 0:
        raise UsageError(
            f"`bench run --help` fails in this ref: {(done.stderr.strip() or '?').splitlines()[-1]}"
        )
    return set(re.findall(r"--[a-z][a-z0-9-]*", done.stdout))


def measure(
    ref: Ref, tree: Path, run_args: Sequence[str], scratch: Path, out: Path, setup: RefSetup, log: Log
) -> Measured:
    flags = run_flags(tree)
    extra = [f for f in SKIP_FLAGS if f in flags]
    extra += config_args(tree, setup.config) if "--config" in flags else []
    if "--no-progress" in flags and not sys.stderr.isatty():
        extra.append("--no-progress")
    results_dir = scratch / f"results_{ref.role}"
    command = [
        sys.executable, "-m", harness.module(harness.in_tree(tree)), "run", *run_args, *extra,
        "--database", ref.database, "--results-dir", str(results_dir),
    ]  # fmt: skip
    log(f"measuring {ref.role} {ref.name} ({ref.short}) in {tree}")
    # Created (and recorded as the harness's) here: an older ref's harness would only comment-mark it.
    embedded.create_owned_database(server_url(), ref.database, owner=embedded.Owner(COMPARE_TAG))
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


def seed_database(
    ref: Ref, tree: Path, seed_args: Sequence[str], name: str, setup: RefSetup, log: Log
) -> None:
    """Fill database `name` with the ref's own seeder (`bench seed` in its checkout)."""
    log(f"seeding {name} with {ref.role} {ref.name} ({ref.short})")
    # Created (and recorded as this process's) here, whatever the ref's own harness would do.
    embedded.create_owned_database(server_url(), name, owner=embedded.Owner(COMPARE_TAG))
    command = [
        sys.executable, "-m", harness.module(harness.in_tree(tree)), "seed", *seed_args,
        *config_args(tree, setup.config),
        "--database", name, "--no-progress",
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=tree, env=child_env(tree), check=False, timeout=RUN_TIMEOUT, stdout=subprocess.DEVNULL
    )
    if done.returncode != 0:
        raise UsageError(
            f"`bench seed` failed in {ref.role} {ref.name} ({ref.short}), exit {done.returncode}"
        )


def drop_all(server: str, names: Sequence[str], log: Log) -> None:
    for name in names:
        try:
            db.drop_owned_database(server, name)
        except (psycopg.Error, UsageError) as exc:
            log(f"could not drop database {name}: {db.first_line(exc)}")


def copy_database(server: str, template: str, name: str) -> None:
    target = db.Target(embedded.with_database(server, template), embedded=False)
    clones.clone(target, name, COMPARE_TAG)


def can_clone(repo: Path, base: Ref, head: Ref, seeder: Sequence[str]) -> bool:
    """Seed once, clone for head: same seeder, and head's migrations only add to base's."""
    same_seeder = not seeder or worktree.same_paths(repo, base.commit, head.commit, *seeder)
    return same_seeder and worktree.only_added(repo, base.commit, head.commit, *MIGRATION_PATHS)


def measure_sequentially(
    repo: Path,
    base: Ref,
    head: Ref,
    run_args: Sequence[str],
    out: Path,
    setup: RefSetup,
    *,
    keep_databases: bool = False,
    log: Log = log_to_stderr,
) -> tuple[Measured, Measured]:
    server = server_url()
    created: list[str] = []
    with (
        worktree.sigterm_as_interrupt(),
        tempfile.TemporaryDirectory(prefix=worktree.scratch_prefix()) as tmp,
    ):
        try:
            with worktree.checkout(repo, base.commit, Path(tmp) / "base") as tree:
                created.append(base.database)
                measured_base = measure(base, tree, run_args, Path(tmp), out, setup, log)
            created.append(head.database)
            if can_clone(repo, base, head, setup.seeder):
                db.drop_owned_database(server, head.database)
                owner = embedded.Owner(COMPARE_TAG)
                embedded.create_owned_database(server, head.database, template=base.database, owner=owner)
                log(f"seeder unchanged: {head.database} cloned from {base.database}")
            with worktree.checkout(repo, head.commit, Path(tmp) / "head") as tree:
                measured_head = measure(head, tree, run_args, Path(tmp), out, setup, log)
        finally:
            if keep_databases:
                embedded.keep(server, created)
            else:
                drop_all(server, created, log)
    return measured_base, measured_head
