"""How long `bench report` takes on a results file, and where: the whole command as a user runs it, then
its phases in process (reading the file, the statistics, the charts, the markdown), wall and CPU time,
with the machine's load average beside them (on a shared machine the wall time says little alone).
Never a test.

    python benchmarks/report_speed.py [RESULTS.json] [--repeat 3] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended (the chart processes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(into: dict[str, list[float]], name: str, work: Callable[[], T]) -> T:
    wall, cpu = time.perf_counter(), _cpu()
    value = work()
    into.setdefault(f"{name}_wall_s", []).append(time.perf_counter() - wall)
    into.setdefault(f"{name}_cpu_s", []).append(_cpu() - cpu)
    return value


def command(results_file: Path, output: Path, into: dict[str, list[float]]) -> None:
    argv = [sys.executable, "-m", "django_index_bench", "report", str(results_file), "--output", str(output)]

    def run() -> None:
        subprocess.run(argv, check=True, capture_output=True)

    timed(into, "command", run)


def phases(results_file: Path, output: Path, into: dict[str, list[float]]) -> None:
    from django_index_bench.bench import results
    from django_index_bench.reports import charts, cost_charts, drawing, load_section, render
    from django_index_bench.reports.analysis import analyze

    loaded = timed(into, "read", lambda: results.load(results_file))
    analysis = timed(into, "statistics", lambda: analyze(loaded))
    chart_dir = output / render.CHARTS_DIR
    drawers = charts.drawers(analysis, chart_dir) + cost_charts.drawers(analysis, chart_dir)
    drawers += load_section.drawers(loaded, chart_dir)
    written = timed(into, "charts", lambda: drawing.draw(drawers))
    timed(into, "markdown", lambda: render.render_markdown(analysis, written, []))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results_file", nargs="?", type=Path, default=Path("results/latest.json"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    found: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="report-speed-") as tmp:
        for _ in range(args.repeat):
            command(args.results_file, Path(tmp) / "cmd", found)
            phases(args.results_file, Path(tmp) / "phases", found)
    summary: dict[str, Any] = {name: round(min(values), 2) for name, values in found.items()}
    summary["load_average_1m"] = os.getloadavg()[0]
    summary["cpus"] = os.cpu_count()
    summary["results_file"] = str(args.results_file)
    text = json.dumps(summary, indent=1)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
