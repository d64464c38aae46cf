"""The report's charts: matplotlib, Agg, PNG about 900 px wide, drawn only from data the results hold.

Figures are built with matplotlib.figure.Figure (no pyplot, no global state) and saved without the
"Software" tag, so the same results give byte-identical files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from django_index_bench.reports import fmt
from django_index_bench.reports.analysis import Analysis, CaseResult, Side

WIDTH_IN = 9.0
DPI = 100
BASELINE_COLOR = "#d95f02"
CANDIDATE_COLOR = "#1b9e77"
DATABASE_COLOR = "#7570b3"
ORM_COLOR = "#e6ab02"
TIME = "time"  # the "Where the time goes" section
# A segment narrower than this share of the axis gets no label inside it: the text would overflow.
LABEL_MIN_SHARE = 0.12
CASE_GAP = 0.5


@dataclass(frozen=True)
class Chart:
    filename: str  # relative to the charts directory
    title: str
    caption: str
    section: str = "main"  # where the report shows it: "main" (the Charts section), TIME, "scale", "costs"


def _label(case: CaseResult) -> str:
    text = f"{case.scenario.name} / {case.case}"
    return text if case.status == "ok" else f"{text} ({case.status})"


def new_figure(rows: int) -> Figure:
    return Figure(figsize=(WIDTH_IN, max(2.5, 0.42 * rows + 1.6)), dpi=DPI, layout="constrained")


def log_x(ax: Axes) -> None:
    """Log scale with plain labels at 1-2-5 steps: "20", not "2 x 10^1"."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: fmt.short(value)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.grid(axis="x", which="both", alpha=0.3)


def save(figure: Figure, directory: Path, filename: str) -> None:
    figure.savefig(directory / filename, format="png", metadata={"Software": None})


def _paired_bars(
    ax: Axes,
    cases: Sequence[CaseResult],
    value: Callable[[Side], float | None],
    error: Callable[[Side], tuple[float, float] | None] | None = None,
    *,
    annotate: bool = False,
) -> None:
    """Two horizontal bars per case, baseline on top; a side without a value gets no bar."""
    positions = np.arange(len(cases), dtype=float)
    height = 0.38
    for offset, attr, color, name in (
        (-height / 2, "baseline", BASELINE_COLOR, "baseline (before / old code)"),
        (height / 2, "candidate", CANDIDATE_COLOR, "candidate (after / new code)"),
    ):
        ys, widths, lows, highs = [], [], [], []
        for y, case in zip(positions, cases, strict=True):
            side: Side = getattr(case, attr)
            width = value(side)
            if width is None or width <= 0:
                continue
            interval = error(side) if error else None
            ys.append(y + offset)
            widths.append(width)
            lows.append(width - interval[0] if interval else 0.0)
            highs.append(interval[1] - width if interval else 0.0)
        xerr = np.array([lows, highs]) if error and ys else None
        bars = ax.barh(ys, widths, height=height, color=color, label=name, xerr=xerr, capsize=3)
        if annotate:
            ax.bar_label(bars, fmt=fmt.short, padding=3, fontsize="small")
    ax.set_yticks(positions, [_label(c) for c in cases])
    ax.invert_yaxis()
    log_x(ax)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncols=2, fontsize="small", frameon=False)


def _latency(analysis: Analysis, directory: Path) -> Chart | None:
    cases = [c for c in analysis.all_cases() if c.baseline.summary or c.candidate.summary]
    if not cases:
        return None
    figure = new_figure(len(cases))
    ax = figure.add_subplot()
    _paired_bars(
        ax,
        cases,
        lambda side: side.summary.median * 1e3 if side.summary else None,
        lambda side: (
            (side.summary.median_ci[0] * 1e3, side.summary.median_ci[1] * 1e3)
            if side.summary and side.summary.median_ci
            else None
        ),
    )
    ax.set_xlabel("median end-to-end latency, ms (log scale); error bars: order-statistic CI of the median")
    ax.set_title("Latency before and after, per scenario and case")
    save(figure, directory, "latency.png")
    return Chart("latency.png", "Median latency, before and after", "Shorter is faster. Log scale.")


def _distributions(analysis: Analysis, directory: Path) -> Chart | None:
    data, labels, colors = [], [], []
    for case in analysis.all_cases():
        for side, color in ((case.baseline, BASELINE_COLOR), (case.candidate, CANDIDATE_COLOR)):
            timing = side.timing
            if timing is None:
                continue
            data.append(np.asarray(timing.total_s) * 1e3)
            labels.append(f"{case.scenario.name} / {case.case} / {side.name}")
            colors.append(color)
    if not data:
        return None
    figure = new_figure(len(data) // 2 + 1)
    ax = figure.add_subplot()
    boxes = ax.boxplot(
        data,
        orientation="horizontal",
        patch_artist=True,
        widths=0.6,
        showfliers=True,
        medianprops={"color": "black", "linewidth": 1.5},
    )
    for patch, color in zip(boxes["boxes"], colors, strict=True):
        patch.set_facecolor(color)
        patch.set_alpha(0.7)
    ax.set_yticks(np.arange(1, len(data) + 1), labels, fontsize="small")
    ax.invert_yaxis()
    log_x(ax)
    ax.set_xlabel("end-to-end latency per round, ms (log scale)")
    ax.set_title("Latency distributions (box: quartiles, whiskers: 1.5 IQR)")
    save(figure, directory, "distributions.png")
    return Chart("distributions.png", "Latency distributions", "Every timed round, per side.")


def _per_case_metric(
    analysis: Analysis,
    directory: Path,
    *,
    filename: str,
    title: str,
    xlabel: str,
    caption: str,
    value: Callable[[Side], float | None],
) -> Chart | None:
    cases = [c for c in analysis.all_cases() if value(c.baseline) or value(c.candidate)]
    if not cases:
        return None
    figure = new_figure(len(cases))
    ax = figure.add_subplot()
    _paired_bars(ax, cases, value, annotate=True)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    save(figure, directory, filename)
    return Chart(filename, title, caption)


def _attr(name: str) -> Callable[[Side], float | None]:
    def get(side: Side) -> float | None:
        if side.measurement is None or not side.measurement.ok:
            return None
        value = getattr(side.measurement, name)
        return float(value) if value is not None else None

    return get


def _split(side: Side) -> tuple[float, float] | None:
    """Median database time and median Django/Python time of one side, in seconds."""
    orm = side.orm_median
    if side.db_summary is None or orm is None:
        return None
    return side.db_summary.median, max(orm, 0.0)


def _stacked(ax: Axes, y: float, split: tuple[float, float], scale: float) -> None:
    """One bar: database time, then Django/Python time, as a share of `scale`; each labelled in time."""
    left = 0.0
    for seconds, color in zip(split, (DATABASE_COLOR, ORM_COLOR), strict=True):
        width = seconds / scale * 100
        ax.barh(y, width, left=left, height=0.7, color=color, edgecolor="white")
        if width >= LABEL_MIN_SHARE * 100:
            ax.text(left + width / 2, y, fmt.duration(seconds), ha="center", va="center", fontsize="small")
        left += width
    ax.text(left + 1, y, fmt.duration(sum(split)), va="center", fontsize="small")


def _time_split(analysis: Analysis, directory: Path) -> Chart | None:
    """Per case, before and after: where the median round's time goes. Each case is drawn as a share
    of its baseline's time, so cases a thousand times apart stay readable; the labels give the times."""
    labels: list[str] = []
    positions: list[float] = []
    y = 0.0
    figure_bars = []
    for case in analysis.all_cases():
        splits = [(side, _split(side)) for side in (case.baseline, case.candidate)]
        measured = [(side, split) for side, split in splits if split is not None and sum(split) > 0]
        if not measured:
            continue
        scale = sum(measured[0][1])  # the baseline's, unless only the candidate was measured
        for side, split in measured:
            labels.append(f"{case.label}: {side.name}")
            positions.append(y)
            figure_bars.append((y, split, scale))
            y += 1.0
        y += CASE_GAP  # space between cases, none between a case's two bars
    if not figure_bars:
        return None
    figure = new_figure(len(figure_bars))
    ax = figure.add_subplot()
    for position, split, scale in figure_bars:
        _stacked(ax, position, split, scale)
    ax.set_yticks(positions, labels, fontsize="small")
    ax.invert_yaxis()
    ax.margins(x=0.15, y=0.02)
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel("% of the baseline's median database + median Django/Python time; labels: medians")
    ax.set_title("Where the time goes: database and Django/Python, before and after")
    ax.legend(
        handles=[
            Patch(color=DATABASE_COLOR, label="database"),
            Patch(color=ORM_COLOR, label="Django/Python"),
        ],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
        ncols=2,
        fontsize="small",
        frameon=False,
    )
    save(figure, directory, "time_split.png")
    return Chart(
        "time_split.png",
        "Where the time goes",
        "Per side, its median database time (inside the driver's execute) stacked with its median "
        "Django/Python time (end to end minus database, per round); each case as a share of its "
        "baseline's stack, the time at the end of a bar is the stack's.",
        TIME,
    )


def drawers(analysis: Analysis, directory: Path) -> list[Callable[[], Chart | None]]:
    """One call per chart, in report order, each writing its file into directory (None: no data)."""
    directory.mkdir(parents=True, exist_ok=True)
    return [
        partial(_time_split, analysis, directory),
        partial(_latency, analysis, directory),
        partial(_distributions, analysis, directory),
        partial(
            _per_case_metric,
            analysis,
            directory,
            filename="queries.png",
            title="SQL queries per call, before and after",
            xlabel="queries (log scale)",
            caption="Counted with Django's query capture.",
            value=_attr("query_count"),
        ),
        partial(
            _per_case_metric,
            analysis,
            directory,
            filename="response_size.png",
            title="Response size, before and after",
            xlabel="bytes (log scale)",
            caption="Bytes of the HTTP response body.",
            value=_attr("response_bytes"),
        ),
        partial(
            _per_case_metric,
            analysis,
            directory,
            filename="memory.png",
            title="Peak Python memory while serving, before and after",
            xlabel="bytes (log scale)",
            caption="Peak traced memory of one call.",
            value=_attr("peak_memory_bytes"),
        ),
        partial(
            _per_case_metric,
            analysis,
            directory,
            filename="buffers.png",
            title="Shared buffers touched (hit + read), before and after",
            xlabel="8 KiB blocks (log scale)",
            caption="From EXPLAIN (ANALYZE, BUFFERS), summed over the call's statements.",
            value=_attr("shared_blocks"),
        ),
    ]
