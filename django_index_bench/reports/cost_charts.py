"""Charts of what the change costs and how it scales: the scale curve, the write trade-off, index sizes.

Same conventions as reports.charts: Figure without pyplot, no "Software" tag, so identical results give
byte-identical files; a chart with no data is not drawn at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MultipleLocator, NullFormatter

from django_index_bench.bench.results import Results
from django_index_bench.reports import fmt, scaling, tradeoff, tradeoff_charts
from django_index_bench.reports.analysis import Analysis
from django_index_bench.reports.charts import (
    BASELINE_COLOR,
    CANDIDATE_COLOR,
    DPI,
    WIDTH_IN,
    Chart,
    new_figure,
    save,
)

SCALE = "scale"
COSTS = "costs"
# One colour per scenario on the scale curve (colour-blind-safe Tableau 10); the side is the line style.
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
STYLES = {"before": "--", "after": "-"}


def _log_y(ax: Axes, unit: str = "") -> None:
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: fmt.short(value) + unit))
    ax.yaxis.set_minor_formatter(NullFormatter())


def scale_curve(results: Results, directory: Path, section: str = SCALE) -> Chart | None:
    found = scaling.lines(results)
    if not found:
        return None
    figure = Figure(figsize=(WIDTH_IN, 5.5), dpi=DPI, layout="constrained")
    ax = figure.add_subplot()
    names = dict.fromkeys(line.scenario for line in found)
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
    for line in found:
        rows = [p.rows for p in line.points]
        medians = [p.median * 1e3 for p in line.points]
        slope = line.slope
        label = f"{line.scenario} {line.side}" + (f" (slope {fmt.slope(slope)})" if slope is not None else "")
        ax.plot(
            rows,
            medians,
            linestyle=STYLES.get(line.side, ":"),
            marker="o",
            color=colours[line.scenario],
            label=label,
        )
        main = [p for p in line.points if p.source == scaling.MAIN_RUN]
        if main:
            # The main run's point is drawn hollow: it comes from another database of another shape.
            ax.scatter(
                [p.rows for p in main],
                [p.median * 1e3 for p in main],
                s=70,
                facecolors="white",
                edgecolors=colours[line.scenario],
                zorder=3,
            )
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: fmt.short(value)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    _log_y(ax, " ms")
    ax.grid(which="both", alpha=0.3)
    ax.set_xlabel("rows in the scenario's table (log scale)")
    ax.set_ylabel("median latency, ms (log scale)")
    ax.set_title("Latency against table size: before dashed, after solid")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    save(figure, directory, "scale.png")
    return Chart(
        "scale.png",
        "Scale curve",
        "Median latency of the typical case per dataset size, log-log; each line's fitted slope is in the "
        "legend. Hollow points come from the main run.",
        section,
    )


def _pair(
    ax: Axes,
    labels: list[str],
    before: Sequence[float | None],
    after: Sequence[float | None],
    *,
    log: bool,
    label: Callable[[float], str] = fmt.short,
) -> None:
    """Two horizontal bars per label, before on top; a missing value gets no bar."""
    positions = np.arange(len(labels), dtype=float)
    height = 0.38
    for offset, values, colour, name in (
        (-height / 2, before, BASELINE_COLOR, "before"),
        (height / 2, after, CANDIDATE_COLOR, "after"),
    ):
        ys = [y + offset for y, v in zip(positions, values, strict=True) if v]
        widths = [v for v in values if v]
        bars = ax.barh(ys, widths, height=height, color=colour, label=name)
        ax.bar_label(bars, labels=[label(w) for w in widths], padding=3, fontsize="small")
    ax.set_yticks(positions, labels, fontsize="small")
    ax.invert_yaxis()
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
    elif label is fmt.size:
        # Ticks at whole binary steps (256 KiB, 1 MiB, ...), so their labels read as round numbers.
        top = max((v for v in (*before, *after) if v), default=1.0)
        ax.xaxis.set_major_locator(MultipleLocator(2.0 ** max(0, math.floor(math.log2(top / 2)))))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: label(value)))
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.margins(x=0.2)


def writes(analysis: Analysis, directory: Path) -> Chart | None:
    figures = tradeoff.figures_of(analysis)
    if not figures:
        return None
    labels = [f"{w.table} / {w.method}" for w in figures]
    figure = Figure(figsize=(WIDTH_IN, max(2.5, 0.6 * len(labels) + 1.8)), dpi=DPI, layout="constrained")
    rate, wal = figure.subplots(1, 2)
    _pair(rate, labels, [w.rate_before for w in figures], [w.rate_after for w in figures], log=True)
    rate.set_xlabel("rows inserted per second, median (log scale)")
    rate.set_title("Insert throughput")
    wal_before = [w.wal.baseline.median if w.wal else None for w in figures]
    wal_after = [w.wal.candidate.median if w.wal else None for w in figures]
    _pair(wal, labels, wal_before, wal_after, log=False, label=fmt.size)
    wal.set_xlabel("WAL bytes per row, median")
    wal.set_title("WAL per row")
    wal.set_yticks([])
    rate.legend(loc="upper center", bbox_to_anchor=(1.0, -0.3), ncols=2, fontsize="small", frameon=False)
    save(figure, directory, "writes.png")
    return Chart(
        "writes.png",
        "Write cost: insert throughput and WAL per row",
        "Before and after the migration, per table and insert method, medians over the pairs; longer on "
        "the left is faster, longer on the right is more WAL. Intervals and verdicts are in the tables.",
        COSTS,
    )


def index_sizes(results: Results, directory: Path) -> Chart | None:
    sizes = tradeoff.index_sizes(results.costs) if results.costs else []
    if not sizes:
        return None
    figure = new_figure(len(sizes))
    ax = figure.add_subplot()
    _pair(
        ax,
        [s.relation for s in sizes],
        [float(s.before) if s.before else None for s in sizes],
        [float(s.after) if s.after else None for s in sizes],
        log=False,
        label=fmt.size,
    )
    ax.set_xlabel("size on disk (pg_relation_size); no bar: no such index in that state")
    ax.set_title("Index sizes before and after the migrations")
    ax.legend(loc="lower right", fontsize="small")
    save(figure, directory, "index_sizes.png")
    return Chart("index_sizes.png", "Index sizes", "One pair of bars per index.", COSTS)


def drawers(analysis: Analysis, directory: Path) -> list[Callable[[], Chart | None]]:
    """One call per chart, in report order (reports.drawing runs them)."""
    results = analysis.results
    return [
        partial(scale_curve, results, directory),
        partial(writes, analysis, directory),
        partial(index_sizes, results, directory),
        *tradeoff_charts.drawers(analysis, directory, COSTS),
    ]
