"""Time the README's main job and its CI example on a clean clone: `python3 -m tox -e bench` (tox's
environment, `bench run --scales 10k,100k,1M`, `bench report`) and `bench compare main --profile small`.

Each is timed end to end, with the step lines its results record and the load average before and
after, and written to benchmarks/main_job.json. Run it under the shared timing lock on a shared machine:

    flock /tmp/timing.lock python benchmarks/main_job.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def sh(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def timed(name: str, args: list[str], cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    """One command, its wall time, exit status and the load average around it."""
    before = os.getloadavg()
    started = time.perf_counter()
    done = sh(*args, cwd=cwd, env=env)
    seconds = time.perf_counter() - started
    print(f"{name}: {seconds:.0f} s (exit {done.returncode})", flush=True)
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-2000:], sep="\n", file=sys.stderr)
    return {
        "seconds": round(seconds, 1),
        "exit": done.returncode,
        "load_before": [round(x, 2) for x in before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "step_lines": [line for line in done.stdout.splitlines() if line.startswith("step ")],
        # tox's own summary: its environment (setup) against the commands.
        "tox": [line.strip() for line in done.stdout.splitlines() if "setup[" in line],
    }


def steps(path: Path) -> dict[str, float]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {s["step"]: s["seconds"] for s in data.get("steps", [])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commit", default="HEAD", help="what to clone and time (default: HEAD)")
    parser.add_argument("--no-compare", action="store_true", help="time the main job only")
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "main_job.json")
    parser.add_argument("--keep", type=Path, help="copy the results files here (the clone is removed)")
    args = parser.parse_args()
    commit = sh("git", "rev-parse", args.commit, cwd=REPO).stdout.strip()
    found: dict[str, Any] = {"commit": commit, "cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="bench-main-job-") as name:
        clone = Path(name) / "clone"
        sh("git", "clone", "-q", str(REPO), str(clone), cwd=REPO)
        sh("git", "checkout", "-q", commit, cwd=clone)
        # `bench compare main` needs a local main, as a developer's clone has.
        sh("git", "branch", "-f", "main", "origin/main", cwd=clone)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BENCH_", "VIRTUAL_ENV"))}
        env.pop("DATABASE_URL", None)  # the clone's own embedded server, from scratch
        tox = [sys.executable, "-m", "tox", "-e", "bench"]
        found["tox -e bench"] = timed("tox -e bench", tox, clone, env)
        found["tox -e bench"]["results_steps"] = steps(clone / "results" / "latest.json")
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(clone / "results" / "latest.json", args.keep / "main_job_results.json")
        if not args.no_compare:
            bench = str(clone / ".tox" / "bench" / "bin" / "bench")
            out = Path(name) / "compare"
            command = [bench, "compare", "main", "--profile", "small", "--output", str(out)]
            found["bench compare main --profile small"] = timed("bench compare", command, clone, env)
            found["bench compare main --profile small"]["results_steps"] = steps(out / "comparison.json")
        sh(str(clone / ".tox" / "bench" / "bin" / "bench"), "db", "stop", cwd=clone, env=env)
    args.output.write_text(json.dumps(found, indent=1) + "\n", encoding="utf-8")
    print(f"main job: {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
