"""The seeder's speed and memory, measured: `bench seed --force` of a profile, this checkout against an
older ref (alternating which goes first), and the peak memory of the seeding processes per profile.
Never a test: its figures go to the README, with the command that produced them.

    python benchmarks/seeder.py [--base REF] [--pairs 5] [--memory default,large] [--profile default]

Runs against the harness's own server (BENCH_PGDATA, or DATABASE_URL) in a database of its own
(`seed_bench`, created and marked by the harness). Writes benchmarks/seeder.json (or --output).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from django_index_bench.bench.gate import harness

REPO = Path(__file__).resolve().parent.parent
DATABASE = "seed_bench"
POLL_S = 0.05


def checkout(ref: str, where: Path) -> Path:
    """The files of `ref`, as `git archive` gives them."""
    data = subprocess.run(["git", "archive", ref], cwd=REPO, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(where, filter="data")
    return where


class Peaks:
    """Polls a process and its descendants: the largest resident set of the parent and of any child,
    and the largest proportional total (PSS: pages the forked encoders share are counted once)."""

    def __init__(self, pid: int) -> None:
        self.parent_rss = self.child_rss = self.total_pss = 0
        self._root = psutil.Process(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                processes = [self._root, *self._root.children(recursive=True)]
                total = 0
                for process in processes:
                    info = process.memory_full_info()
                    total += info.pss
                    if process.pid == self._root.pid:
                        self.parent_rss = max(self.parent_rss, info.rss)
                    else:
                        self.child_rss = max(self.child_rss, info.rss)
                self.total_pss = max(self.total_pss, total)
            except psutil.Error:
                pass  # a worker ended between listing and reading
            time.sleep(POLL_S)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        mb = 1024 * 1024
        return {
            "parent_rss_mb": self.parent_rss / mb,
            "largest_child_rss_mb": self.child_rss / mb,
            "total_pss_mb": self.total_pss / mb,
        }


def seed(code: Path, *args: str, watch: bool = False) -> dict[str, Any]:
    """One `bench seed --force` with `code`'s seeder: wall seconds, the seeder's own total, peaks."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    command = [
        sys.executable,
        "-m",
        harness.module(harness.in_tree(code)),  # an older checkout runs its own top-level bench
        "seed",
        "--force",
        "--no-progress",
        "--database",
        DATABASE,
        *args,
    ]
    load = os.getloadavg()[0]
    began = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=code, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peaks = Peaks(process.pid) if watch else None
    out, err = process.communicate(timeout=3600)
    wall = time.perf_counter() - began
    memory = peaks.stop() if peaks else {}
    if process.returncode != 0:
        raise SystemExit(f"bench seed failed: {err.strip().splitlines()[-1:]}")
    total = next(float(line.split()[-2]) for line in out.splitlines() if line.startswith("total"))
    return {"wall_s": wall, "seeder_s": total, "load_before": load, **memory, "output": out}


def pairs(base: Path, head: Path, count: int, profile: str) -> dict[str, Any]:
    """Alternating order: the base goes first in even pairs, the head in odd ones."""
    runs: list[dict[str, Any]] = []
    for n in range(count):
        order = [("base", base), ("head", head)] if n % 2 == 0 else [("head", head), ("base", base)]
        pair: dict[str, Any] = {}
        for side, code in order:
            pair[side] = seed(code, "--profile", profile)
            pair[side].pop("output")
        runs.append(pair)
        ratio = pair["base"]["wall_s"] / pair["head"]["wall_s"]
        base_s, head_s = pair["base"]["wall_s"], pair["head"]["wall_s"]
        load = pair["base"]["load_before"]
        print(
            f"pair {n + 1}/{count}: base {base_s:.1f} s, head {head_s:.1f} s ({ratio:.2f}x), load {load:.1f}"
        )
    ratios = [p["base"]["wall_s"] / p["head"]["wall_s"] for p in runs]
    return {
        "profile": profile,
        "pairs": runs,
        "median_wall_s": {s: statistics.median(p[s]["wall_s"] for p in runs) for s in ("base", "head")},
        "median_seeder_s": {s: statistics.median(p[s]["seeder_s"] for p in runs) for s in ("base", "head")},
        "pair_ratio": {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)},
        "load_average": {"min": min(p[s]["load_before"] for p in runs for s in p),
                         "max": max(p[s]["load_before"] for p in runs for s in p)},
    }  # fmt: skip


def memory(code: Path, profiles: list[str]) -> dict[str, Any]:
    found = {}
    for profile in profiles:
        run = seed(code, "--profile", profile, watch=True)
        print(run.pop("output"), flush=True)
        found[profile] = run
        print(f"{profile}: {json.dumps({k: round(v, 1) for k, v in run.items()})}", flush=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default="main", help="the ref to compare against (default: main)")
    parser.add_argument("--pairs", type=int, default=5, help="base/head pairs of the timing (0: none)")
    parser.add_argument("--profile", default="default", help="the profile of the timing")
    parser.add_argument("--memory", default="default,large", help="profiles whose peak memory to measure")
    parser.add_argument(
        "--output", type=Path, default=REPO / "benchmarks" / "seeder.json", help="where to write"
    )
    parser.add_argument(
        "--base-memory", default="", help="profiles whose peak memory to measure for the base"
    )
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
    results: dict[str, Any] = {"commit": commit.stdout.strip()}
    with tempfile.TemporaryDirectory() as tmp:
        base = checkout(args.base, Path(tmp) / "base")
        head = checkout("HEAD", Path(tmp) / "head")
        profiles = [p for p in args.memory.split(",") if p]
        if profiles:
            results["memory"] = {"head": memory(head, profiles)}
        if args.base_memory:
            results.setdefault("memory", {})["base"] = memory(base, args.base_memory.split(","))
        if args.pairs:
            results["timing"] = {"base": args.base, **pairs(base, head, args.pairs, args.profile)}
    out: Path = args.output
    out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
