"""What the measurement ran on: recorded in every results file, and compared before results are compared."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib.metadata import version
from pathlib import Path

from django.db import connection

from django_index_bench.bench.results import Environment

# Settings that change plans or timings. Recorded, never silently tuned: we measure what the app gets.
PLANNER_SETTINGS = (
    "jit",
    "max_parallel_workers_per_gather",
    "random_page_cost",
    "effective_cache_size",
    "shared_buffers",
    "work_mem",
    "plan_cache_mode",
    "effective_io_concurrency",
    "track_io_timing",
)


def postgres() -> tuple[str, dict[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (server_version,) = cursor.fetchone()
        settings = {}
        for name in PLANNER_SETTINGS:
            cursor.execute(f"SHOW {name}")
            settings[name] = str(cursor.fetchone()[0])
    return str(server_version), settings


def _git(repo: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=repo, capture_output=True, text=True, check=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def git_state(repo: Path) -> tuple[str | None, bool | None]:
    commit = _git(repo, "rev-parse", "HEAD")
    if commit is None:
        return None, None
    status = _git(repo, "status", "--porcelain", "--untracked-files=no")
    return commit, None if status is None else bool(status)


def collect(repo: Path, *, embedded: bool) -> Environment:
    server_version, settings = postgres()
    commit, dirty = git_state(repo)
    return Environment(
        postgres_version=server_version,
        postgres_settings=settings,
        python=platform.python_version(),
        django=version("django"),
        psycopg=version("psycopg"),
        pytest_benchmark=version("pytest-benchmark"),
        platform=platform.platform(),
        cpu_count=os.cpu_count() or 1,
        git_commit=commit,
        git_dirty=dirty,
        database="embedded" if embedded else "DATABASE_URL",
    )
