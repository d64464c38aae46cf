"""Time the README's test command on a clean clone: `.ci/run`, which CI runs (`python3 -m pip install tox
&& python3 -m tox p`, with pyenv's Python 3.12+ on PATH for the Django 6 environments).

It is timed end to end, with tox's line per environment (its setup against its commands), pytest's
summary lines and the load average before and after, and written to benchmarks/test_command.json. Run it
under the shared timing lock on a shared machine:

    flock /tmp/timing.lock python benchmarks/test_command.py
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# tox's summary: "  tests: OK (412.33=setup[25.10]+cmd[387.23] seconds)"
ENV_LINE = re.compile(
    r"^\s*(\S+): (OK|FAIL|SKIP)[^(]*\(([\d.]+)(?:=setup\[([\d.]+)\]\+cmd\[([\d.,]+)\])? seconds\)"
)
PYTEST_LINE = re.compile(r"=+ .*\b(passed|failed|error)\b.* in [\d.]+s")


def sh(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def environments(output: str) -> dict[str, dict[str, Any]]:
    """tox's per-environment summary: status, seconds in all, in setup and in its commands."""
    found: dict[str, dict[str, Any]] = {}
    for line in output.splitlines():
        match = ENV_LINE.match(line)
        if match:
            name, status, seconds, setup, commands = match.groups()
            found[name] = {
                "status": status,
                "seconds": float(seconds),
                "setup": float(setup) if setup else None,
                "commands": [float(x) for x in commands.split(",")] if commands else [],
            }
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commit", default="HEAD", help="what to clone and time (default: HEAD)")
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "test_command.json")
    args = parser.parse_args()
    commit = sh("git", "rev-parse", args.commit, cwd=REPO).stdout.strip()
    found: dict[str, Any] = {"commit": commit, "cpu_count": os.cpu_count(), "command": "bash .ci/run"}
    with tempfile.TemporaryDirectory(prefix="bench-test-command-") as name:
        clone = Path(name) / "clone"
        sh("git", "clone", "-q", str(REPO), str(clone), cwd=REPO)
        sh("git", "checkout", "-q", commit, cwd=clone)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BENCH_", "VIRTUAL_ENV"))}
        env.pop("DATABASE_URL", None)
        before = os.getloadavg()
        started = time.perf_counter()
        done = sh("bash", ".ci/run", cwd=clone, env=env)
        seconds = time.perf_counter() - started
    output = done.stdout + done.stderr
    found.update(
        seconds=round(seconds, 1),
        exit=done.returncode,
        load_before=[round(x, 2) for x in before],
        load_after=[round(x, 2) for x in os.getloadavg()],
        environments=environments(output),
        pytest=[line.strip("= ") for line in output.splitlines() if PYTEST_LINE.search(line)],
    )
    print(f"test command: {seconds:.0f} s (exit {done.returncode})", flush=True)
    if done.returncode != 0:
        print(output[-3000:], file=sys.stderr)
    args.output.write_text(json.dumps(found, indent=1) + "\n", encoding="utf-8")
    print(f"test command: {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
