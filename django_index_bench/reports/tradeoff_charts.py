"""One chart per migration: what it buys (read speedups, end to end and database time) beside what it
costs (write slowdown, WAL per row, lock time, index bytes), each with its interval.

Same conventions as reports.charts: Figure without pyplot, no "Software" tag, so identical results give
byte-identical files; a migration with nothing to show gets no chart.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from django_index_bench.reports import fmt, tradeoff
from django_index_bench.reports.analysis import Analysis
from django_index_bench.reports.charts import (
    BASELINE_COLOR,
    CANDIDATE_COLOR,
    DATABASE_COLOR,
    DPI,
    WIDTH_IN,
    Chart,
    fitted,
    log_x,
    save,
)
from django_index_bench.verdicts import stats

GAIN_COLOR = CANDIDATE_COLOR
COST_COLOR = BASELINE_COLOR
NEUTRAL_COLOR = "#999999"
ROW = 0.42  # inches per labelled row
TITLE_POINTS = 13.0


def _interval(
    ax: Axes, y: float, value: float, interval: tuple[float, float] | None, colour: str, label: str
) -> None:
    """A point with its interval as a horizontal error bar; a point alone when there is none."""
    low, high = interval if interval is not None else (value, value)
    # A resampled interval (whole database copies and processes) can lie beside its point estimate: the
    # bar then reaches from the point to the interval's far end only.
    ax.errorbar(
        [value],
        [y],
        xerr=[[max(0.0, value - low)], [max(0.0, high - value)]],
        fmt="o",
        color=colour,
        capsize=3,
        label=label,
    )
    # The value itself beside the point: a log axis over a narrow range has too few labels to read it.
    ax.annotate(
        fmt.factor(value), (value, y), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=7
    )


def _factor_axis(ax: Axes, labels: list[str], xlabel: str) -> None:
    ax.set_yticks(np.arange(len(labels)), labels, fontsize="small")
    ax.axvline(1.0, color=NEUTRAL_COLOR, linewidth=1)
    log_x(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.margins(x=0.15)


def _unique_legend(ax: Axes) -> None:
    handles, labels = ax.get_legend_handles_labels()
    seen = dict(zip(labels, handles, strict=True))
    ax.legend(seen.values(), seen.keys(), fontsize="x-small", loc="best")


def _reads(ax: Axes, analysis: Analysis, table: str) -> bool:
    """Each case's speedup (before / after), end to end and in database time, with its interval."""
    cases = [c for c in analysis.reading(table) if c.comparison is not None]
    if not cases:
        ax.set_axis_off()
        ax.set_title("What it buys: no read\nmeasurements of this table", fontsize="medium")
        return False
    for y, case in enumerate(cases):
        assert case.comparison is not None
        _interval(ax, y - 0.12, case.comparison.ratio, case.comparison.ratio_ci, GAIN_COLOR, "end to end")
        if case.db_comparison is not None:
            db = case.db_comparison
            _interval(ax, y + 0.12, db.ratio, db.ratio_ci, DATABASE_COLOR, "database time")
    _factor_axis(ax, [c.label for c in cases], "read speedup, before / after (log; right of 1: faster)")
    ax.set_title("What it buys: reads", fontsize="medium")
    _unique_legend(ax)
    return True


def _inverse(comparison: stats.Comparison) -> tuple[float, tuple[float, float] | None]:
    """after / before (a cost factor, above 1 is worse) from a before / after comparison."""
    ci = comparison.ratio_ci
    return 1.0 / comparison.ratio, (1.0 / ci[1], 1.0 / ci[0]) if ci else None


def _writes(ax: Axes, figures: list[tradeoff.WriteFigure]) -> bool:
    if not figures:
        ax.set_axis_off()
        ax.set_title("What it costs: writes not measured", fontsize="medium")
        return False
    for y, figure in enumerate(figures):
        value, interval = _inverse(figure.time)
        _interval(ax, y - 0.12, value, interval, COST_COLOR, "time per row")
        if figure.wal is not None:
            value, interval = _inverse(figure.wal)
            _interval(ax, y + 0.12, value, interval, DATABASE_COLOR, "WAL per row")
    _factor_axis(ax, [f.method for f in figures], "after / before (log; right of 1: costlier)")
    ax.set_title("What it costs: each insert", fontsize="medium")
    _unique_legend(ax)
    return True


def _locks(ax: Axes, summary: tradeoff.MigrationSummary) -> bool:
    """How long each variant and direction held its lock: median, min to max."""
    rows = [(v, s) for v in summary.variants if (s := v.summary(lambda m: m.lock_held_s)) is not None]
    if not rows:
        ax.set_axis_off()
        return False
    positions = np.arange(len(rows))
    medians = [s.median for _, s in rows]
    errors = [[s.median - s.minimum for _, s in rows], [s.maximum - s.median for _, s in rows]]
    colours = [COST_COLOR if v.blocks_writers else NEUTRAL_COLOR for v, _ in rows]
    ax.barh(positions, medians, xerr=errors, color=colours, capsize=3)
    labels = [f"{v.variant} {v.direction}\n{v.lock}" for v, _ in rows]
    ax.set_yticks(positions, labels, fontsize="x-small")
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: fmt.duration(value)))
    ax.set_xlabel("lock held, median (min to max); orange: writers wait")
    ax.set_title("What it costs: the lock", fontsize="medium")
    ax.grid(axis="x", alpha=0.3)
    return True


def _bytes(ax: Axes, summary: tradeoff.MigrationSummary) -> None:
    values = [summary.index_bytes_before, summary.index_bytes_after]
    bars = ax.barh([0, 1], values, color=[BASELINE_COLOR, CANDIDATE_COLOR])
    ax.bar_label(bars, labels=[fmt.size(v) for v in values], padding=3, fontsize="small")
    ax.set_yticks([0, 1], ["before", "after"], fontsize="small")
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: fmt.size(value)))
    ax.set_xlabel(f"all indexes on {summary.table} (exact)")
    added = tradeoff.signed_size(summary.index_bytes_added)
    ax.set_title(f"What it costs: index bytes ({added})", fontsize="medium")
    ax.margins(x=0.25)


def filename(migration: str) -> str:
    return "tradeoff_" + re.sub(r"[^A-Za-z0-9]+", "_", migration) + ".png"


def figure_of(analysis: Analysis, summary: tradeoff.MigrationSummary) -> Figure:
    figures = [f for f in tradeoff.figures_of(analysis) if f.table == summary.table]
    cases = len(analysis.reading(summary.table))
    top, bottom = max(cases, 2 * len(figures), 2), max(len(summary.variants), 2)
    figure = Figure(figsize=(WIDTH_IN, max(5.0, ROW * (top + bottom) + 2.5)), dpi=DPI, layout="constrained")
    (reads, writes), (locks, sizes) = figure.subplots(2, 2, height_ratios=[top, bottom])
    _reads(reads, analysis, summary.table)
    _writes(writes, figures)
    _locks(locks, summary)
    _bytes(sizes, summary)
    title = f"{summary.migration} on {summary.table}: what it buys and what it costs"
    figure.suptitle(fitted(title, WIDTH_IN - 0.5, TITLE_POINTS), fontsize=TITLE_POINTS)
    return figure


def chart_of(analysis: Analysis, summary: tradeoff.MigrationSummary, directory: Path, section: str) -> Chart:
    name = filename(summary.migration)
    save(figure_of(analysis, summary), directory, name)
    return Chart(
        name,
        f"Trade-off of {summary.migration}",
        "Top left: each read case's speedup with its 95 % interval, end to end and in database time. "
        "Top right: each insert method's time and WAL per row, after over before, with 95 % intervals. "
        "Bottom: how long each variant held its lock (median, min to max) and the table's index bytes.",
        section,
    )


def drawers(analysis: Analysis, directory: Path, section: str) -> list[Callable[[], Chart]]:
    """One trade-off chart per migration, to be drawn by reports.drawing."""
    costs = analysis.results.costs
    if costs is None:
        return []
    return [partial(chart_of, analysis, m, directory, section) for m in tradeoff.migrations(costs)]
