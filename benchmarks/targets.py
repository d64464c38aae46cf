"""The measurement targets of the pairing work, measured: how often identical code is flagged, how often
a known 10 % slowdown is caught, and how long the main commands take. Never a test: its figures go to
the README, with the command that produced them.

    python benchmarks/targets.py [--aa-compares 20] [--busy 2] [--aa-runs 10] [--detect 20] [--timings]

Everything runs in a throwaway git repository made from this checkout's HEAD, against the harness's
own server (BENCH_PGDATA, or DATABASE_URL), with the tiny profile.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TINY = ("--profile", "tiny", "--seed", "7")
# A sub-ms call end to end (in this process: about 0.9 ms at the tiny profile) and a query that spends
# over a millisecond in the database before the change (tracking_device heavy, before the index).
ORM_SCENARIO = ("tracking_person_range", "light", "after")
DB_SCENARIO = ("tracking_device", "heavy", "before")
SLOWDOWN = 0.10


def sh(*args: str, cwd: Path = REPO, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=check, timeout=3600)


def bench(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [sys.executable, "-m", "django_index_bench", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )


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
    sh("git", "checkout", "-q", "-b", name, "main", cwd=repo)
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


def compare(repo: Path, out: Path, head: str, *extra: str) -> dict[str, Any]:
    done = bench("compare", "main", head, "--output", str(out), *TINY, *extra, cwd=repo)
    if done.returncode not in (0, 1):
        raise SystemExit(f"bench compare failed: {done.stderr.strip().splitlines()[-1:]}")
    data: dict[str, Any] = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    return data


def timing_flags(data: dict[str, Any]) -> list[str]:
    """Rows whose timings (either metric) were called a regression or an improvement."""
    return [
        f"{r['scenario']}[{r['case']}] {r['side']}"
        for r in data["rows"]
        if any(f["metric"] in ("time", "db_time") and f["direction"] in ("regression", "improvement")
               for f in r["findings"])
    ]  # fmt: skip


def median_ms(path: Path, key: tuple[str, str, str], series: str) -> float:
    data = json.loads(path.read_text(encoding="utf-8"))
    for m in data["measurements"]:
        if (m["scenario"], m["case"], m["side"]) == key and m["timing"]:
            values = sorted(m["timing"][series])
            return float(values[len(values) // 2]) * 1e3
    raise SystemExit(f"no timing for {key} in {path}")


def refuted(data: dict[str, Any]) -> list[str]:
    """Rows whose timing regression a second measurement did not confirm (treated as noise)."""
    return [
        f"{r['scenario']}[{r['case']}] {r['side']}"
        for r in data["rows"]
        if r.get("confirmation") and r["confirmation"]["outcome"] == "not confirmed"
    ]


def aa_compares(repo: Path, tmp: Path, count: int, busy: int, *extra: str) -> dict[str, Any]:
    """A/A compares while `busy` other processes spin: every timing still flagged after confirmation is
    a false alarm; those the second measurement refuted are counted apart."""
    flagged, noise = [], []
    with busy_cores(busy):
        for n in range(count):
            data = compare(repo, tmp / f"aa{n}", "main", *extra)
            flags, not_confirmed = timing_flags(data), refuted(data)
            flagged.append(flags)
            noise.append(not_confirmed)
            print(
                f"A/A compare {n + 1}/{count} ({busy} busy): {len(flags)} timing flag(s) {flags}, "
                f"{len(not_confirmed)} not confirmed {not_confirmed}",
                flush=True,
            )
    return {
        "runs": count,
        "busy_processes": busy,
        "runs_flagging": sum(bool(f) for f in flagged),
        "flags": flagged,
        "runs_with_unconfirmed": sum(bool(f) for f in noise),
        "not_confirmed": noise,
    }


def aa_runs(repo: Path, tmp: Path, count: int) -> dict[str, Any]:
    """The same state on both sides: every case the report would call faster or slower is a false alarm."""
    from django_index_bench.bench import results
    from django_index_bench.reports.analysis import analyze

    called = []
    for n in range(count):
        out = tmp / f"run{n}"
        done = bench(
            "run", *TINY, "--before", "attendance=0031", "--before", "journal=0016", "--no-costs",
            "--no-cold", "--no-progress", "--results-dir", str(out), cwd=repo,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"bench run failed: {done.stderr.strip().splitlines()[-1:]}")
        # Only the migration scenarios are A/A here; the code variants differ on purpose.
        cases = [
            c
            for c in analyze(results.load(out / "latest.json")).all_cases()
            if c.scenario.kind == "migration"
        ]
        flags = [
            f"{c.label} {metric}"
            for c in cases
            for metric, x in (("end to end", c.comparison), ("database time", c.db_comparison))
            if x is not None and x.significant
        ]
        called.append(flags)
        print(f"A/A run {n + 1}/{count}: {len(flags)} case(s) called faster or slower {flags}", flush=True)
    return {
        "runs": count,
        "cases": len(cases),
        "runs_calling_any": sum(bool(f) for f in called),
        "called": called,
    }


def detection(repo: Path, tmp: Path, count: int) -> dict[str, Any]:
    probe = compare(repo, tmp / "probe", "main", "--scenario", ORM_SCENARIO[0], "--scenario", DB_SCENARIO[0])
    base = Path(probe["base"]["path"])
    orm_ms = median_ms(base, ORM_SCENARIO, "total_s")
    db_ms = median_ms(base, DB_SCENARIO, "db_s")
    wait_s = SLOWDOWN * orm_ms / 1e3
    branch(
        repo, "slow-orm", "django_index_bench/bench/scenarios/__init__.py",
        "        return Outcome(rows=len(list(self.queryset(params))))",
        "        rows = len(list(self.queryset(params)))\n"
        f"        if self.name == {ORM_SCENARIO[0]!r}:\n"
        f"            import time\n            end = time.perf_counter() + {wait_s!r}\n"
        "            while time.perf_counter() < end:\n                pass\n"
        "        return Outcome(rows=rows)",
    )  # fmt: skip
    rows = server_rows(SLOWDOWN * db_ms / 1e3)
    branch(
        repo, "slow-db", "django_index_bench/bench/scenarios/__init__.py",
        "        return Outcome(rows=len(list(self.queryset(params))))",
        f"        if self.name == {DB_SCENARIO[0]!r}:\n"
        "            from django.db import connection\n\n"
        "            with connection.cursor() as cursor:\n"
        f"                cursor.execute('SELECT count(*) FROM generate_series(1, {rows})')\n"
        "        return Outcome(rows=len(list(self.queryset(params))))",
    )  # fmt: skip
    found: dict[str, Any] = {"orm_median_ms": orm_ms, "db_median_ms": db_ms, "server_rows": rows}
    for name, head, key, metric in (
        ("orm", "slow-orm", ORM_SCENARIO, "time"),
        ("db", "slow-db", DB_SCENARIO, "db_time"),
    ):
        hits = 0
        for n in range(count):
            data = compare(repo, tmp / f"{name}{n}", head, "--scenario", key[0])
            row = next(r for r in data["rows"] if (r["scenario"], r["case"], r["side"]) == key)
            hit = any(f["metric"] == metric and f["direction"] == "regression" for f in row["findings"])
            hits += hit
            print(f"{name} 10 % slowdown {n + 1}/{count}: {'flagged' if hit else 'missed'}", flush=True)
        found[name] = {"compares": count, "flagged": hits}
    return found


def server_rows(seconds: float) -> int:
    """How many generate_series rows take `seconds` on this server, beyond the query's round trip."""
    from django_index_bench.bench import config
    from django_index_bench.bench.pg import db
    from django_index_bench.bench.steps.sensitivity import ServerWork

    db.setup_django(db.resolve(None), config.load(REPO / "bench.toml"))
    work = ServerWork()
    rows = work.rows_for(seconds)
    if rows is None:
        raise SystemExit(f"a {seconds * 1e6:.0f} µs database slowdown is below one extra query's round trip")
    return rows


def timings(repo: Path, tmp: Path) -> dict[str, float]:
    found = {}
    quiet = ("--no-progress", "--results-dir")
    for name, args in (
        ("bench run --profile tiny", ("run", "--profile", "tiny", *quiet, str(tmp / "t1"))),
        (
            "tox -e bench (bench run --scales 10k,100k,1M)",
            ("run", "--scales", "10k,100k,1M", *quiet, str(tmp / "t2")),
        ),
    ):
        started = time.perf_counter()
        done = bench(*args, cwd=repo)
        found[name] = time.perf_counter() - started
        print(f"{name}: {found[name]:.0f} s (exit {done.returncode})", flush=True)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aa-compares", type=int, default=20)
    parser.add_argument("--busy", type=int, default=2, help="processes kept spinning during the A/A compares")
    parser.add_argument("--aa-runs", type=int, default=10)
    parser.add_argument("--detect", type=int, default=20)
    parser.add_argument("--timings", action="store_true", help="also time bench run (tiny) and the main job")
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "targets.json")
    args = parser.parse_args()
    found: dict[str, Any] = {"commit": sh("git", "rev-parse", "HEAD").stdout.strip(), "load": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="bench-targets-") as name:
        tmp = Path(name)
        repo = repository(tmp)
        if not os.environ.get("DATABASE_URL"):
            # A server of its own, from scratch like a fresh clone's, stopped before its folder goes.
            os.environ.setdefault("BENCH_PGDATA", str(tmp / "pgdata"))
        try:
            measure(args, repo, tmp, found)
        finally:
            bench("db", "stop", cwd=repo)
    args.output.write_text(json.dumps(found, indent=1) + "\n", encoding="utf-8")
    print(f"targets: {args.output}")
    return 0


def measure(args: argparse.Namespace, repo: Path, tmp: Path, found: dict[str, Any]) -> None:
    if args.timings:
        found["seconds"] = timings(repo, tmp)
    if args.aa_runs:
        found["aa_runs"] = aa_runs(repo, tmp, args.aa_runs)
    if args.detect:
        found["detection"] = detection(repo, tmp, args.detect)
    if args.aa_compares:
        found["aa_compares"] = aa_compares(repo, tmp, args.aa_compares, args.busy)


if __name__ == "__main__":
    raise SystemExit(main())
