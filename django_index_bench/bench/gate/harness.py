"""Which harness measures a ref: the one package this distribution installs, or, in a checkout of the
harness's own repository from before it was one package, that checkout's top-level bench/.

A project's own top-level bench/ (or seed/, reports/) is never taken for the harness: the old layout is
recognised by all three of its packages' entry modules together, and by the missing package.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

PACKAGE = "django_index_bench"
LEGACY_MARKS = ("bench/cli.py", "seed/load.py", "reports/render.py")

Has = Callable[[str], bool]  # does the checkout (or commit) hold this file?


def in_tree(tree: Path) -> Has:
    return lambda relative: (tree / relative).is_file()


def legacy(has: Has) -> bool:
    """A checkout of this repository from before the package: its harness is `python -m bench`."""
    return not has(f"{PACKAGE}/__init__.py") and all(has(mark) for mark in LEGACY_MARKS)


def module(has: Has) -> str:
    """What `python -m` runs for the harness's command line in this checkout."""
    return "bench" if legacy(has) else PACKAGE


def worker_module(has: Has) -> str:
    """What `python -m` runs for a worker process in this checkout."""
    return "bench.worker" if legacy(has) else f"{PACKAGE}.bench.gate.worker"
