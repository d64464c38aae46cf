"""Draw the report's charts side by side: each is about a second of matplotlib layout and rasterising,
they share nothing but the analysis already in memory, and a reviewer re-rendering a report waits for
all of them. Forked processes inherit the analysis and the imported matplotlib, so nothing is pickled
but the finished Chart records; the files are the same bytes whichever process draws them.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

from django_index_bench.reports.charts import Chart

Drawer = Callable[[], Chart | None]

MAX_PROCESSES = 4

# The drawers of the draw() in progress: set before the fork, so each child finds them by index.
_pending: list[Drawer] = []


def _draw_one(index: int) -> Chart | None:
    return _pending[index]()


def _processes(count: int) -> int:
    """1 (draw here) where forking is unsafe: without fork (macOS, Windows default), or with other
    threads running, whose locks a child would inherit held."""
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return 1
    return max(1, min(count, MAX_PROCESSES, len(os.sched_getaffinity(0))))


def draw(drawers: Sequence[Drawer]) -> list[Chart]:
    """Run every drawer, in processes when that can help; their charts in the drawers' order, without
    the Nones (a chart the results have no data for). A drawer's exception is raised here."""
    processes = _processes(len(drawers))
    if processes == 1:
        drawn = [drawer() for drawer in drawers]
    else:
        _pending[:] = drawers
        try:
            # An executor, not a Pool: a child that dies (killed, out of memory) raises BrokenProcessPool
            # here instead of leaving its chart waited for forever.
            with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
                drawn = list(pool.map(_draw_one, range(len(drawers))))
        finally:
            _pending.clear()
    return [chart for chart in drawn if chart is not None]
