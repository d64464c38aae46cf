"""Run `bench` the way a user does: a child process, the current environment plus overrides."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE_CLAIMS = REPO / "project" / "claims.toml"


def bench(
    *args: str, env: dict[str, str] | None = None, drop: tuple[str, ...] = (), cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    """`python -m django_index_bench ARGS` in cwd (default: the repository), with env added and the
    variables in drop removed."""
    environment = {k: v for k, v in os.environ.items() if k not in drop}
    return subprocess.run(
        [sys.executable, "-m", "django_index_bench", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**environment, **(env or {})},
        check=False,
        timeout=900,
    )


def manage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python project/manage.py ARGS`, as the project's own users run it."""
    return subprocess.run(
        [sys.executable, "project/manage.py", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        check=False,
        timeout=300,
    )


def interruptible() -> None:
    """Popen's preexec_fn for a child that a test interrupts: Ctrl-C does its default again, as in a
    terminal, even when these tests run where SIGINT is ignored (a background job of a script), which a
    child would inherit and then never see the test's SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
