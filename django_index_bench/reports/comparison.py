"""Render a bench.compare.RefComparison as markdown fit for a pull-request comment, plus one chart.

Every figure is formatted here (with reports.fmt where it has the formatter); the template only lays
out strings and words, and says how the timings were measured from the comparison's own record.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django_index_bench.bench.results import write_atomic
from django_index_bench.reports import detectable, fmt
from django_index_bench.verdicts import defaults, gate, load_gate, stats, words
from django_index_bench.verdicts.gate import RefComparison, Row

MARKDOWN_NAME = "COMPARISON.md"
CHART_NAME = "comparison_time.png"
CHARTS_DIR = "charts"
COLOURS = {words.REGRESSION: "#c0392b", words.IMPROVEMENT: "#27ae60", words.UNCHANGED: "#7f8c8d"}


@dataclass(frozen=True)
class Written:
    markdown: Path
    chart: Path | None


def _measurable(timing: stats.Comparison | None) -> bool:
    return timing is not None and 0 < timing.ratio < float("inf")


# The two formatters below are not in reports.fmt: its ratios are BASE/HEAD factors ("1.25x slower");
# a pull-request table reads better as HEAD's signed change, like the chart's axis.
def time_change(timing: stats.Comparison | None) -> str:
    """HEAD's time relative to BASE's: '+12.0 %' is slower."""
    if timing is None or not _measurable(timing):
        return "-"
    return f"{1 / timing.ratio - 1:+.1%}"


def time_ci(timing: stats.Comparison | None) -> str:
    if timing is None or timing.ratio_ci is None:
        return "-"
    low, high = timing.ratio_ci  # of base/head; head/base runs the other way
    return f"{1 / high - 1:+.1%} to {1 / low - 1:+.1%}"


def pair(base: int | None, head: int | None) -> str:
    if base is None and head is None:
        return "-"
    return str(base) if base == head else f"{base} -> {head}"


def _p_values(row: Row) -> str:
    if row.timing is None and row.db_timing is None:
        return "-"
    return " / ".join(fmt.p_value(t.p_value if t else None) for t in (row.timing, row.db_timing))


def _support(row: Row) -> str:
    """What a row's timing verdicts rest on: "30 pairs", or rounds per side when not paired."""
    timing = row.timing or row.db_timing
    return fmt.pairs(timing) if timing is not None else "-"


def _row(row: Row, verdict: str) -> dict[str, str]:
    timing = row.timing
    findings = row.of(verdict) if verdict != words.UNCHANGED else row.of(words.CHANGED)
    return {
        "scenario": row.scenario,
        "case": row.case,
        "side": row.side,
        "base": fmt.duration(timing.baseline.median) if timing else row.base_status,
        "head": fmt.duration(timing.candidate.median) if timing else row.head_status,
        "change": time_change(timing),
        "ci": time_ci(timing),
        "db_change": time_change(row.db_timing),
        "db_ci": time_ci(row.db_timing),
        "n": _support(row),
        "p": _p_values(row),
        "queries": pair(row.base_queries, row.head_queries),
        "blocks": pair(row.base_blocks, row.head_blocks),
        "copies": copy_spread(row),
        "why": "; ".join([f.message for f in findings] + _buffers(row)) or "-",
    }


def _buffers(row: Row) -> list[str]:
    """The sentence when BASE and HEAD took their pages from different places, with the figures."""
    if not row.buffers_differ:
        return []
    return [fmt.blocks_differ("BASE", row.base_buffers, "HEAD", row.head_buffers)]


def copy_spread(row: Row) -> str:
    """The copy-level spread beside a verdict: HEAD's end-to-end change on the pair of database copies
    where it was smallest and where it was largest ('-' with one copy a side)."""
    if row.copy_spread is None:
        return "-"
    low, high = row.copy_spread
    return f"{low - 1:+.1%} to {high - 1:+.1%}"


def _errors(timings: list[stats.Comparison]) -> tuple[list[float], list[float], list[float]]:
    """HEAD/BASE factors and their CI as error bar lengths below and above."""
    values, low, high = [], [], []
    for t in timings:
        value = 1 / t.ratio
        values.append(value)
        # A resampled interval (whole worker processes) can lie beside its point estimate: the bar then
        # reaches from the point to the interval's far end, and the table gives both ends.
        low.append(max(0.0, value - 1 / t.ratio_ci[1]) if t.ratio_ci else 0.0)
        high.append(max(0.0, 1 / t.ratio_ci[0] - value) if t.ratio_ci else 0.0)
    return values, low, high


def _draw(ax: Any, comparison: RefComparison, rows: list[Row]) -> None:
    positions = list(range(len(rows)))
    values, low, high = _errors([r.timing for r in rows if r.timing is not None])
    ax.barh(
        positions, [v - 1 for v in values], left=1, color=[COLOURS[r.verdict] for r in rows],
        xerr=[low, high], ecolor="#333333", capsize=2, label="end to end",
    )  # fmt: skip
    with_db = [(p, r.db_timing) for p, r in zip(positions, rows, strict=True) if _measurable(r.db_timing)]
    if with_db:
        db_values, db_low, db_high = _errors([t for _, t in with_db if t is not None])
        ax.errorbar(
            db_values, [p + 0.3 for p, _ in with_db], xerr=[db_low, db_high], fmt="D", markersize=3,
            color="#2c3e50", ecolor="#2c3e50", capsize=1.5, linewidth=0.8, label="database time",
        )  # fmt: skip
        ax.legend(fontsize=7, loc="lower right")
    ax.axvspan(1 / (1 + comparison.threshold), 1 + comparison.threshold, color="#dddddd", zorder=0)
    ax.axvline(1, color="black", linewidth=0.8)
    ax.set_yticks(positions, [f"{r.scenario} [{r.case}] {r.side}" for r in rows], fontsize=7)


def chart(comparison: RefComparison, path: Path) -> Path | None:
    """HEAD/BASE time per measurement with its CI, end to end (bars) and database time (diamonds), on a
    log axis; the threshold band shaded."""
    rows = [r for r in comparison.rows if _measurable(r.timing)]
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.5))
    try:
        _draw(ax, comparison, rows)
        ax.set_xscale("log")
        # Log ticks default to 3x10^-1; factors read better as 0.3x.
        factor = ticker.FuncFormatter(lambda value, _: f"{value:g}x")
        ax.xaxis.set_major_formatter(factor)
        ax.xaxis.set_minor_formatter(factor)
        ax.tick_params(axis="x", which="minor", labelsize=6)
        ax.margins(y=0.01)
        ax.invert_yaxis()
        what = "median paired ratio" if comparison.interleaved else "median / median"
        ax.set_xlabel(f"HEAD / BASE time, {what} (log; right is slower)")
        confidence = f"{defaults.CONFIDENCE:.0%}"
        ax.set_title(f"{comparison.base.label} -> {comparison.head.label}: time, {confidence} CI")
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
        path.chmod(0o644)  # readable by all whatever the umask, like the markdown beside it
    finally:
        plt.close(fig)
    return path


def _source(source: gate.Source) -> str:
    commit = f" ({source.commit[:7]})" if source.commit else ""
    return f"`{source.label}`{commit}"


def pairs_range(comparison: RefComparison) -> str:
    """How many pairs the paired timings rest on: '180' or '40 to 180'."""
    counts = sorted({t.n for r in comparison.rows for t in (r.timing, r.db_timing) if t is not None})
    if not counts:
        return "no"
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"


def noise_text(floor: gate.NoiseFloor) -> str:
    return (
        f"{words.METRIC_WORDS[floor.metric]}: a slowdown must exceed x{floor.floor:.2f} "
        f"({defaults.NOISE_SIGMAS:g} robust SDs of all {floor.timings} HEAD/BASE ratios above their "
        f"median x{floor.run_factor:.2f})"
    )


def _figures(timing: stats.Comparison | None, db_timing: stats.Comparison | None) -> str:
    """One measurement's two timings, as the confirmation table shows them side by side."""
    parts = []
    for name, t in (("end to end", timing), ("database", db_timing)):
        if t is not None:
            parts.append(f"{name} {time_change(t)} ({time_ci(t)}, {fmt.pairs(t)}, {fmt.p_is(t.p_value)})")
    return "; ".join(parts) or "-"


def _remeasured(comparison: RefComparison) -> list[dict[str, str]]:
    """Each timing regression measured again: both measurements' figures and what came of it."""
    out = []
    for row in comparison.rows:
        done = row.confirmation
        if done is None:
            continue
        second = _figures(done.timing, done.db_timing) if done.error is None else f"failed: {done.error}"
        out.append(
            {
                "scenario": row.scenario,
                "case": row.case,
                "side": row.side,
                "outcome": words.CONFIRMATION_WORDS[done.outcome],
                "first": _figures(row.timing, row.db_timing),
                "second": second,
            }
        )
    return out


def _method(comparison: RefComparison) -> dict[str, object]:
    """Everything the template says about how the timings were tested, from the record."""
    timed = len({r.key for r in comparison.rows if r.timing is not None or r.db_timing is not None})
    return {
        "interleaved": comparison.interleaved,
        "pairing": comparison.pairing,
        "weakness": gate.UNPAIRED_WEAKNESS,
        "pairs": pairs_range(comparison),
        "threshold": f"{comparison.threshold:.0%}",
        "confidence": f"{defaults.CONFIDENCE:.0%}",
        "alpha": f"{comparison.alpha:g}",
        "alpha_per_test": f"{comparison.alpha_per_test:.2g}",
        "tests": comparison.tests,
        "timed": timed,
        "noise": [noise_text(n) for n in comparison.noise],
        "noise_min": defaults.NOISE_MIN_TIMINGS,
        "confirmation": comparison.confirmation,
        "copies": comparison.copies,
        "copies_reason": comparison.copies_reason,
        "prewarm": comparison.prewarm,
        "detectable": detectable.limits(
            [
                (r.timing.baseline.median, r.timing, r.db_timing)
                for r in comparison.rows
                if r.timing is not None
            ],
            comparison.threshold,
        ),
    }


def _state(failure: gate.StateFailure) -> str:
    return f"`{failure.state}` (database {failure.database}): {failure.error}"


def render_markdown(comparison: RefComparison, chart_path: str | None) -> str:
    sections = {
        verdict: [_row(r, verdict) for r in comparison.with_verdict(verdict)]
        for verdict in (words.REGRESSION, words.IMPROVEMENT, words.UNCHANGED)
    }
    return (
        fmt.jinja_environment()
        .get_template("comparison.md.j2")
        .render(
            base=_source(comparison.base),
            head=_source(comparison.head),
            regressed=comparison.regressed,
            head_states=[_state(f) for f in comparison.failed_in("head")],
            base_states=[_state(f) for f in comparison.failed_in("base")],
            regressions=sections[words.REGRESSION],
            improvements=sections[words.IMPROVEMENT],
            unchanged=sections[words.UNCHANGED],
            method=_method(comparison),
            remeasured=_remeasured(comparison),
            chart=chart_path,
            only_in_head=[" ".join(k) for k in comparison.only_in_head],
            notes=list(comparison.notes),
            load=[
                {"direction": f.direction, "line": line}
                for f, line in zip(comparison.load, load_gate.lines(comparison.load), strict=True)
            ],
        )
    )


def render(comparison: RefComparison, output: Path) -> Written:
    output.mkdir(parents=True, exist_ok=True)
    drawn = chart(comparison, output / CHARTS_DIR / CHART_NAME)
    relative = f"{CHARTS_DIR}/{CHART_NAME}" if drawn else None
    markdown = output / MARKDOWN_NAME
    write_atomic(markdown, render_markdown(comparison, relative))  # 0644 whatever the umask
    return Written(markdown, drawn)
