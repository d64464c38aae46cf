"""The measurement targets of the pairing work, measured: how often identical code is flagged, how often
a known 10 % slowdown is caught, and how long the main commands take. Never a test: its figures go to
the README, with the command that produced them.

    python benchmarks/targets.py [--aa-compares 20] [--busy 2] [--aa-runs 10] [--detect 20]
        [--detect-busy 0] [--slowdown 0.1] [--large-runs 10] [--artefact-compares 10] [--timings]

Each mode runs when its count is above 0 (--timings when given); `--help` lists the modes' options.
The A/A runs on big data (aa_large.py) and the injected copy artefact (artefact.py) are modules of
their own.

Everything runs in a throwaway git repository made from this checkout's HEAD, against the harness's
own server (BENCH_PGDATA, or DATABASE_URL), with the tiny profile.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aa_large import DEFAULT_ROWS, large_aa_runs
from artefact import artefact_compares
from targets_lib import (
    REPO,
    TINY,
    bench,
    branch,
    busy_cores,
    compare,
    could_see,
    migration_calls,
    refuted,
    repository,
    sh,
    timing_flags,
)

# A sub-ms call end to end (in this process: about 0.9 ms at the tiny profile) and a query that spends
# over a millisecond in the database before the change (tracking_device heavy, before the index).
ORM_SCENARIO = ("tracking_person_range", "light", "after")
DB_SCENARIO = ("tracking_device", "heavy", "before")
SLOWDOWN = 0.10


def median_ms(path: Path, key: tuple[str, str, str], series: str) -> float:
    data = json.loads(path.read_text(encoding="utf-8"))
    for m in data["measurements"]:
        if (m["scenario"], m["case"], m["side"]) == key and m["timing"]:
            values = sorted(m["timing"][series])
            return float(values[len(values) // 2]) * 1e3
    raise SystemExit(f"no timing for {key} in {path}")


def aa_compares(repo: Path, tmp: Path, count: int, busy: int, *extra: str) -> dict[str, Any]:
    """A/A compares while `busy` other processes spin: every timing still flagged after confirmation is
    a false alarm; those the second measurement refuted are counted apart."""
    flagged, noise, seen = [], [], []
    with busy_cores(busy):
        for n in range(count):
            data = compare(repo, tmp / f"aa{n}", "main", *extra)
            flags, not_confirmed = timing_flags(data), refuted(data)
            flagged.append(flags)
            noise.append(not_confirmed)
            seen.append(could_see(tmp / f"aa{n}"))
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
        "could_see": seen,
    }


def aa_runs(repo: Path, tmp: Path, count: int) -> dict[str, Any]:
    """The same state on both sides: every case the report would call faster or slower is a false alarm."""
    called = []
    cases = 0
    for n in range(count):
        out = tmp / f"run{n}"
        done = bench(
            "run", *TINY, "--before", "attendance=0031", "--before", "journal=0016", "--no-costs",
            "--no-cold", "--no-progress", "--results-dir", str(out), cwd=repo,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"bench run failed: {done.stderr.strip().splitlines()[-1:]}")
        cases, flags = migration_calls(out / "latest.json")
        called.append(flags)
        print(f"A/A run {n + 1}/{count}: {len(flags)} case(s) called faster or slower {flags}", flush=True)
    return {
        "runs": count,
        "cases": cases,
        "runs_calling_any": sum(bool(f) for f in called),
        "called": called,
    }


def detection(repo: Path, tmp: Path, count: int, slowdown: float, busy: int) -> dict[str, Any]:
    """A known slowdown (`slowdown` of the case's median, measured under the same load) injected on HEAD,
    end to end and in database time: how many of `count` compares flag it, while `busy` processes spin,
    and the change each compare's report says it could detect."""
    with busy_cores(busy):
        return _detection(repo, tmp, count, slowdown, busy)


def _detection(repo: Path, tmp: Path, count: int, slowdown: float, busy: int) -> dict[str, Any]:
    probe = compare(repo, tmp / "probe", "main", "--scenario", ORM_SCENARIO[0], "--scenario", DB_SCENARIO[0])
    base = Path(probe["base"]["path"])
    orm_ms = median_ms(base, ORM_SCENARIO, "total_s")
    db_ms = median_ms(base, DB_SCENARIO, "db_s")
    wait_s = slowdown * orm_ms / 1e3
    branch(
        repo, "slow-orm", "django_index_bench/bench/scenarios/__init__.py",
        "        return Outcome(rows=len(list(self.queryset(params))))",
        "        rows = len(list(self.queryset(params)))\n"
        f"        if self.name == {ORM_SCENARIO[0]!r}:\n"
        f"            import time\n            end = time.perf_counter() + {wait_s!r}\n"
        "            while time.perf_counter() < end:\n                pass\n"
        "        return Outcome(rows=rows)",
    )  # fmt: skip
    rows = server_rows(slowdown * db_ms / 1e3)
    branch(
        repo, "slow-db", "django_index_bench/bench/scenarios/__init__.py",
        "        return Outcome(rows=len(list(self.queryset(params))))",
        f"        if self.name == {DB_SCENARIO[0]!r}:\n"
        "            from django.db import connection\n\n"
        "            with connection.cursor() as cursor:\n"
        f"                cursor.execute('SELECT count(*) FROM generate_series(1, {rows})')\n"
        "        return Outcome(rows=len(list(self.queryset(params))))",
    )  # fmt: skip
    found: dict[str, Any] = {
        "slowdown": slowdown,
        "busy_processes": busy,
        "orm_median_ms": orm_ms,
        "db_median_ms": db_ms,
        "server_rows": rows,
    }
    for name, head, key, metric in (
        ("orm", "slow-orm", ORM_SCENARIO, "time"),
        ("db", "slow-db", DB_SCENARIO, "db_time"),
    ):
        hits, widths, seen = 0, [], []
        for n in range(count):
            data = compare(repo, tmp / f"{name}{n}", head, "--scenario", key[0])
            row = next(r for r in data["rows"] if (r["scenario"], r["case"], r["side"]) == key)
            hit = any(f["metric"] == metric and f["direction"] == "regression" for f in row["findings"])
            hits += hit
            widths.append(half_width(row["timing" if metric == "time" else "db_timing"]))
            seen.append(could_see(tmp / f"{name}{n}"))
            print(
                f"{name} {slowdown:.0%} slowdown {n + 1}/{count} ({busy} busy): "
                f"{'flagged' if hit else 'missed'}; the row's interval reaches +-{widths[-1] or 0:.1%}",
                flush=True,
            )
        found[name] = {
            "compares": count,
            "flagged": hits,
            "row_half_widths": widths,
            "could_see": seen,
        }
    return found


def half_width(timing: dict[str, Any] | None) -> float | None:
    """How far the row's interval reaches from its ratio (stats.Comparison.half_width): the smallest
    change that compare could tell from none for that row."""
    if not timing or not timing.get("ratio_ci") or not timing.get("ratio"):
        return None
    low, high = timing["ratio_ci"]
    ratio = float(timing["ratio"])
    return float(max(high / ratio - 1.0, 1.0 - low / ratio))


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
    args = arguments()
    found: dict[str, Any] = {
        "commit": sh("git", "rev-parse", "HEAD").stdout.strip(),
        "load": os.getloadavg(),
        "arguments": {k: v for k, v in vars(args).items() if k != "output"},
    }
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
    print(f"targets: {args.output}")
    return 1 if found.get("invalid") else 0


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])

    def count(flag: str, default: int, what: str) -> None:
        parser.add_argument(flag, type=int, metavar="N", default=default, help=f"{what} (default: {default})")

    count("--aa-compares", 20, "A/A compares under --busy (0: skip)")
    count("--busy", 2, "processes kept spinning during the A/A compares")
    count("--aa-runs", 10, "A/A bench runs, tiny profile (0: skip)")
    count("--detect", 20, "compares per injected slowdown (0: skip)")
    count("--detect-busy", 0, "processes kept spinning during --detect, its probe included")
    parser.add_argument("--slowdown", type=float, default=SLOWDOWN, help="the injected slowdown (0.1: 10 %%)")
    count("--large-runs", 10, "A/A bench runs on data >= 4x shared_buffers (0: skip)")
    parser.add_argument("--large-profile", default="small", help="their profile (default: small)")
    parser.add_argument(
        "--large-rows", action="append", metavar="TABLE=N", help=f"their row counts (default: {DEFAULT_ROWS})"
    )
    parser.add_argument("--large-buffers-mb", type=int, default=32, help="their server's shared_buffers (32)")
    parser.add_argument(
        "--large-scenario", action="append", default=[], help="only these (default: the 6 migrations)"
    )
    count("--artefact-compares", 10, "A/A compares with HEAD copy 0 kept evicted (0: skip)")
    parser.add_argument(
        "--artefact-passes",
        choices=("first", "all"),
        default="all",
        help="evict copy 0 in the first measurement only, or in the confirming one too (default: all)",
    )
    parser.add_argument("--evict-interval", type=float, default=0.1, help="seconds between evictions (0.1)")
    parser.add_argument("--timings", action="store_true", help="also time bench run (tiny) and the main job")
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "targets.json")
    args = parser.parse_args()
    counts = ("aa_compares", "busy", "aa_runs", "detect", "detect_busy", "large_runs", "artefact_compares")
    for name in counts:
        if getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must be 0 or more")
    if not 0 < args.slowdown <= 1:
        parser.error("--slowdown must be above 0 and at most 1 (0.2 is 20 %)")
    if args.large_buffers_mb < 1 or args.evict_interval <= 0:
        parser.error("--large-buffers-mb and --evict-interval must be positive")
    if args.large_runs and os.environ.get("DATABASE_URL"):
        parser.error("--large-runs needs the embedded server (it lowers shared_buffers): unset DATABASE_URL")
    if not args.output.parent.is_dir():
        parser.error(f"--output: no directory {args.output.parent}")
    args.large_rows = args.large_rows or list(DEFAULT_ROWS)
    return args


def measure(args: argparse.Namespace, repo: Path, tmp: Path, found: dict[str, Any]) -> None:
    """Each mode asked for, its figures written to --output as soon as it ends (with its seconds and the
    load average then), so a later mode failing loses nothing measured."""
    modes = (
        ("seconds", args.timings, lambda: timings(repo, tmp)),
        ("aa_runs", args.aa_runs, lambda: aa_runs(repo, tmp, args.aa_runs)),
        (
            "large_aa_runs",
            args.large_runs,
            lambda: large_aa_runs(repo, tmp, args.large_runs, args),
        ),
        (
            "detection",
            args.detect,
            lambda: detection(repo, tmp, args.detect, args.slowdown, args.detect_busy),
        ),
        ("aa_compares", args.aa_compares, lambda: aa_compares(repo, tmp, args.aa_compares, args.busy)),
        (
            "artefact",
            args.artefact_compares,
            lambda: artefact_compares(
                repo, tmp, args.artefact_compares, args.artefact_passes, args.evict_interval, server_url()
            ),
        ),
    )
    for key, wanted, run in modes:
        if not wanted:
            continue
        started = time.perf_counter()
        try:
            found[key] = run()
        except SystemExit as exc:  # one mode failing: recorded, the others still measured, exit 1
            found[key] = {"failed": str(exc.code)}
            found.setdefault("invalid", []).append(f"{key}: failed: {exc.code}")
            print(f"{key}: FAILED: {exc.code}", file=sys.stderr, flush=True)
        found.setdefault("mode_seconds", {})[key] = time.perf_counter() - started
        found.setdefault("mode_load", {})[key] = os.getloadavg()
        if key == "large_aa_runs" and "refused" in found[key]:
            found.setdefault("invalid", []).append(f"{key}: {found[key]['refused']}")
        if key == "artefact" and found[key].get("compares_where_it_happened", 0) < args.artefact_compares:
            found.setdefault("invalid", []).append(f"{key}: the artefact did not happen in every compare")
        args.output.write_text(json.dumps(found, indent=1) + "\n", encoding="utf-8")


def server_url() -> str:
    """The maintenance database of the server the compares run on (started now if it is not yet)."""
    from django_index_bench.bench.pg import server as embedded

    configured = os.environ.get("DATABASE_URL")
    return embedded.with_database(configured, embedded.MAINTENANCE) if configured else embedded.start()


if __name__ == "__main__":
    raise SystemExit(main())
