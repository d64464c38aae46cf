"""The scale curve: median latency against table rows, per (scenario, side), from `Results.scales`.

Each line is fitted in log-log space (numpy.polyfit): a slope near 1 means latency grows in proportion
to the rows (what a sequential scan does), a slope near 0 means it barely grows (an index lookup).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from django_index_bench.bench.results import Measurement, Results, Timing
from django_index_bench.reports import fmt
from django_index_bench.verdicts.defaults import DEFAULT_ALPHA, DEFAULT_THRESHOLD
from django_index_bench.verdicts.timings import compare_timings, total

CASE = "typical"  # the case bench.scales measures at every size
SIDES = ("before", "after")
SCALE_RUN = "scale run"
MAIN_RUN = "main run"
# Where the words for a slope change; only the words, the number is always printed beside them.
LINEAR_FROM = 0.7
FLAT_UNTIL = 0.3


@dataclass(frozen=True)
class Point:
    rows: int
    timing: Timing
    source: str  # SCALE_RUN or MAIN_RUN

    @property
    def samples(self) -> tuple[float, ...]:
        """End to end, as the main series' latency."""
        return self.timing.total_s

    @property
    def median(self) -> float:
        return float(np.median(self.samples))


@dataclass(frozen=True)
class Line:
    scenario: str
    side: str
    points: tuple[Point, ...]  # sorted by rows, at most one per row count

    @property
    def slope(self) -> float | None:
        """The fitted log-log slope, or None with fewer than two row counts."""
        if len(self.points) < 2:
            return None
        x = np.log10([p.rows for p in self.points])
        y = np.log10([p.median for p in self.points])
        return float(np.polyfit(x, y, 1)[0])


def rows_for(tables: tuple[str, ...], scenario_group: str | None, counts: dict[str, int]) -> int | None:
    """The size of the table a scenario reads: the largest of the tables its plans read that the counts
    name; else its group's, when the counts name it (files before schema 4 counted rows by group name);
    else the largest table, the one a scale point resizes."""
    read = [counts[t] for t in tables if t in counts]
    if read:
        return max(read)
    if scenario_group is not None and scenario_group in counts:
        return counts[scenario_group]
    return max(counts.values(), default=None)


def _timing(m: Measurement) -> Timing | None:
    return m.timing if m.ok and m.timing is not None and m.timing.rounds else None


def lines(results: Results) -> list[Line]:
    """Every (scenario, side) the scale runs measured, plus the main run's point where it has one."""
    if not results.scales:
        return []
    groups = {s.name: s.group for s in results.scenarios}
    found: dict[tuple[str, str], dict[int, Point]] = {}
    for run in results.scales:
        for m in run.measurements:
            timing = _timing(m)
            rows = rows_for(m.relations, groups.get(m.scenario), run.counts)
            if m.case == CASE and m.side in SIDES and timing and rows:
                found.setdefault((m.scenario, m.side), {})[rows] = Point(rows, timing, SCALE_RUN)
    for (scenario, side), points in found.items():
        main = results.find(scenario, CASE, side)
        timing = _timing(main) if main else None
        rows = rows_for(main.relations if main else (), groups.get(scenario), results.dataset.counts)
        # A scale run of the main dataset's size is the same point measured twice: keep the scale run's.
        if timing and rows and rows not in points:
            points[rows] = Point(rows, timing, MAIN_RUN)
    order = {s.name: i for i, s in enumerate(results.scenarios)}
    keys = sorted(found, key=lambda k: (order.get(k[0], len(order)), k[0], SIDES.index(k[1])))
    return [Line(s, side, tuple(sorted(found[(s, side)].values(), key=lambda p: p.rows))) for s, side in keys]


def slope_words(slope: float) -> str:
    if slope >= LINEAR_FROM:
        return "grows about in proportion to the rows, as a scan does"
    if slope <= FLAT_UNTIL:
        return "barely grows with the rows, as an index lookup does"
    return "grows, but less than in proportion to the rows"


def _change(before: Point, after: Point, threshold: float, copies: tuple[int, ...]) -> str:
    """Paired when both points come from the same run (their rounds were paired), like the summary;
    `copies`: the database copy of each worker (the schedule's worker_copies), resampled whole."""
    comparison = compare_timings(
        before.timing, after.timing, total, alpha=DEFAULT_ALPHA, threshold=threshold,
        worker_copies=(copies, copies),
    )  # fmt: skip
    if comparison is None:
        return "-"
    return fmt.change(comparison) + ("" if comparison.significant else ", not significant")


def _table(by_side: dict[str, Line], threshold: float, copies: tuple[int, ...]) -> list[dict[str, str]]:
    before, after = by_side.get("before"), by_side.get("after")
    b_points = {p.rows: p for p in before.points} if before else {}
    a_points = {p.rows: p for p in after.points} if after else {}
    out = []
    for rows in sorted(b_points.keys() | a_points.keys()):
        b, a = b_points.get(rows), a_points.get(rows)
        change = _change(b, a, threshold, copies) if b and a else "-"
        sources = sorted({p.source for p in (b, a) if p})
        out.append(
            {
                "rows": fmt.count(rows),
                "before": fmt.duration(b.median) if b else "not measured",
                "after": fmt.duration(a.median) if a else "not measured",
                "change": change,
                "source": ", ".join(sources),
            }
        )
    return out


def context(results: Results, threshold: float = DEFAULT_THRESHOLD) -> dict[str, Any]:
    """The scale section: per scenario, its fitted slopes in words and its rows -> medians table."""
    found = lines(results)
    scenarios: dict[str, dict[str, Line]] = {}
    for found_line in found:
        scenarios.setdefault(found_line.scenario, {})[found_line.side] = found_line
    out = []
    copies = results.schedule.worker_copies
    for name, by_side in scenarios.items():
        slopes = []
        for side in SIDES:
            line = by_side.get(side)
            slope = line.slope if line else None
            if line and slope is not None:
                slopes.append(f"{side}: slope {fmt.slope(slope)}, {slope_words(slope)}")
            elif line:
                slopes.append(f"{side}: one size only, no slope")
        out.append(
            {
                "scenario": name,
                "slopes": "; ".join(slopes),
                "rows": _table(by_side, threshold, copies),
            }
        )
    return {"runs": len(results.scales), "scenarios": out}
