"""What every mode of benchmarks/targets.py shares: the throwaway repository, the `bench` commands run in
it, the spinning processes, and the reading of a compare's or a run's verdicts."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TINY = ("--profile", "tiny", "--seed", "7")
TIMEOUT_S = 3600


def sh(*args: str, cwd: Path = REPO, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=check, timeout=TIMEOUT_S)


def bench_env(cwd: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, **(env or {}), "PYTHONPATH": str(cwd)}


def bench(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`bench ARGS` with the throwaway repository's own harness (`env` added to this process's)."""
    return subprocess.run(
        [sys.executable, "-m", "django_index_bench", *args],
        cwd=cwd,
        env=bench_env(cwd, env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def last_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = (done.stderr.strip() or done.stdout.strip() or "?").splitlines()
    return lines[-1]


def repository(where: Path) -> Path:
    """This checkout's HEAD as a fresh repository with one commit on main."""
    repo = where / "repo"
    repo.mkdir()
    data = subprocess.run(["git", "archive", "HEAD"], cwd=REPO, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(repo, filter="data")
    for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-qm", "HEAD")):
        sh("git", "-c", "user.name=t", "-c", "user.email=t@t", *args, cwd=repo)
    return repo


def branch(repo: Path, name: str, path: str, old: str, new: str) -> None:
    """Branch `name` off main with one replacement in one file (an injected slowdown)."""
    sh("git", "checkout", "-q", "-B", name, "main", cwd=repo)
    file = repo / path
    text = file.read_text(encoding="utf-8")
    if old not in text:
        raise SystemExit(f"{path} no longer contains {old!r}: update benchmarks/targets.py")
    file.write_text(text.replace(old, new, 1), encoding="utf-8")
    sh("git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", name, cwd=repo)
    sh("git", "checkout", "-q", "main", cwd=repo)


@contextlib.contextmanager
def busy_cores(count: int) -> Iterator[None]:
    """Other processes keep `count` cores busy, as other work on a shared machine does."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def read_comparison(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    return data


def compare(repo: Path, out: Path, head: str, *extra: str) -> dict[str, Any]:
    done = bench("compare", "main", head, "--output", str(out), *TINY, *extra, cwd=repo)
    if done.returncode not in (0, 1):
        raise SystemExit(f"bench compare failed (exit {done.returncode}): {last_line(done)}")
    return read_comparison(out)


def timing_flags(data: dict[str, Any]) -> list[str]:
    """Rows whose timings (either metric) were called a regression or an improvement."""
    return [
        f"{r['scenario']}[{r['case']}] {r['side']}"
        for r in data["rows"]
        if any(f["metric"] in ("time", "db_time") and f["direction"] in ("regression", "improvement")
               for f in r["findings"])
    ]  # fmt: skip


def refuted(data: dict[str, Any]) -> list[str]:
    """Rows whose timing regression a second measurement did not confirm (treated as noise)."""
    return [
        f"{r['scenario']}[{r['case']}] {r['side']}"
        for r in data["rows"]
        if r.get("confirmation") and r["confirmation"]["outcome"] == "not confirmed"
    ]


def could_see(out: Path) -> list[str]:
    """The sentences of COMPARISON.md's "What this comparison could see": the change it could detect,
    per class of speed, as the report states it (comparison.json does not carry them)."""
    text = (out / "COMPARISON.md").read_text(encoding="utf-8")
    found = re.search(r"\*\*What this comparison could see\.\*\*\n((?:- .*\n)+)", text)
    return [line[2:].rstrip(".") for line in found.group(1).splitlines()] if found else []


def migration_calls(latest: Path) -> tuple[int, list[str]]:
    """An A/A `bench run`'s migration cases (the same state on both sides), and those the report calls
    faster or slower, end to end or in database time. The code variants differ on purpose: not counted."""
    from django_index_bench.bench import results
    from django_index_bench.reports.analysis import analyze

    cases = [c for c in analyze(results.load(latest)).all_cases() if c.scenario.kind == "migration"]
    flags = [
        f"{c.label} {metric}"
        for c in cases
        for metric, x in (("end to end", c.comparison), ("database time", c.db_comparison))
        if x is not None and x.significant
    ]
    return len(cases), flags
