"""Render a bench.compare.Comparison as markdown fit for a pull-request comment, plus one chart.

Every figure is formatted here; the template only lays out strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from bench import compare, stats
from bench.compare import Comparison, Row

if TYPE_CHECKING:
    from bench.stats import Comparison as Timing

MARKDOWN_NAME = "COMPARISON.md"
CHART_NAME = "comparison_time.png"
CHARTS_DIR = "charts"
TEMPLATES = Path(__file__).with_name("templates")
COLOURS = {compare.REGRESSION: "#c0392b", compare.IMPROVEMENT: "#27ae60", compare.UNCHANGED: "#7f8c8d"}


@dataclass(frozen=True)
class Written:
    markdown: Path
    chart: Path | None


def cell(text: object) -> str:
    """One markdown table cell: pipes and newlines would break the row."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def duration(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:#.3g} µs"
    return f"{seconds * 1e3:#.3g} ms" if seconds < 1 else f"{seconds:#.3g} s"


def time_change(timing: Timing | None) -> str:
    """HEAD's median time relative to BASE's: '+12.0 %' is slower."""
    if timing is None or timing.ratio <= 0 or timing.ratio == float("inf"):
        return "-"
    return f"{1 / timing.ratio - 1:+.1%}"


def time_ci(timing: Timing | None) -> str:
    if timing is None or timing.ratio_ci is None:
        return "-"
    low, high = timing.ratio_ci  # of base/head; head/base runs the other way
    return f"{1 / high - 1:+.1%} to {1 / low - 1:+.1%}"


def p_value(timing: Timing | None) -> str:
    if timing is None or timing.p_value is None:
        return "-"
    return f"{timing.p_value:.2g}"


def pair(base: int | None, head: int | None) -> str:
    if base is None and head is None:
        return "-"
    return str(base) if base == head else f"{base} -> {head}"


def _row(row: Row, verdict: str) -> dict[str, str]:
    timing = row.timing
    findings = row.of(verdict) if verdict != compare.UNCHANGED else row.of(compare.CHANGED)
    return {
        "scenario": row.scenario,
        "case": row.case,
        "side": row.side,
        "base": duration(timing.baseline.median) if timing else row.base_status,
        "head": duration(timing.candidate.median) if timing else row.head_status,
        "change": time_change(timing),
        "ci": time_ci(timing),
        "p": p_value(timing),
        "queries": pair(row.base_queries, row.head_queries),
        "blocks": pair(row.base_blocks, row.head_blocks),
        "why": "; ".join(f.message for f in findings) or "-",
    }


def chart(comparison: Comparison, path: Path) -> Path | None:
    """HEAD/BASE median time per measurement, with its CI, on a log axis; the threshold band shaded."""
    rows = [r for r in comparison.rows if r.timing is not None and 0 < r.timing.ratio < float("inf")]
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    labels = [f"{r.scenario} [{r.case}] {r.side}" for r in rows]
    values, low_err, high_err = [], [], []
    for r in rows:
        assert r.timing is not None
        value = 1 / r.timing.ratio
        values.append(value)
        ci = r.timing.ratio_ci
        low_err.append(value - 1 / ci[1] if ci else 0.0)
        high_err.append(1 / ci[0] - value if ci else 0.0)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.5))
    try:
        positions = range(len(rows))
        ax.barh(
            positions,
            [v - 1 for v in values],
            left=1,
            color=[COLOURS[r.verdict] for r in rows],
            xerr=[low_err, high_err],
            ecolor="#333333",
            capsize=2,
        )
        ax.axvspan(1 / (1 + comparison.threshold), 1 + comparison.threshold, color="#dddddd", zorder=0)
        ax.axvline(1, color="black", linewidth=0.8)
        ax.set_xscale("log")
        # Log ticks default to 3x10^-1; factors read better as 0.3x.
        factor = ticker.FuncFormatter(lambda value, _: f"{value:g}x")
        ax.xaxis.set_major_formatter(factor)
        ax.xaxis.set_minor_formatter(factor)
        ax.tick_params(axis="x", which="minor", labelsize=6)
        ax.margins(y=0.01)
        ax.set_yticks(list(positions), labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("HEAD median time / BASE median time (log; right is slower)")
        ax.set_title(f"{comparison.base.label} -> {comparison.head.label}: time, 95 % CI")
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return path


def _source(source: compare.Source) -> str:
    commit = f" ({source.commit[:7]})" if source.commit else ""
    return f"`{source.label}`{commit}"


def render_markdown(comparison: Comparison, chart_path: str | None) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # markdown, not HTML; cells are escaped by the cell filter
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = cell
    timed = sum(1 for r in comparison.rows if r.timing is not None)
    sections = {
        verdict: [_row(r, verdict) for r in comparison.with_verdict(verdict)]
        for verdict in (compare.REGRESSION, compare.IMPROVEMENT, compare.UNCHANGED)
    }
    return env.get_template("comparison.md.j2").render(
        base=_source(comparison.base),
        head=_source(comparison.head),
        regressed=comparison.regressed,
        regressions=sections[compare.REGRESSION],
        improvements=sections[compare.IMPROVEMENT],
        unchanged=sections[compare.UNCHANGED],
        threshold=f"{comparison.threshold:.0%}",
        confidence=f"{stats.CONFIDENCE:.0%}",
        alpha=f"{comparison.alpha:g}",
        alpha_per_test=f"{comparison.alpha_per_test:.2g}",
        timed=timed,
        noise=(
            f"x{comparison.noise_floor:.2f} (3 robust SDs of all {timed} HEAD/BASE time ratios above their "
            f"median x{comparison.run_factor:.2f})"
            if comparison.noise_floor is not None and comparison.run_factor is not None
            else None
        ),
        chart=chart_path,
        only_in_base=[" ".join(k) for k in comparison.only_in_base],
        only_in_head=[" ".join(k) for k in comparison.only_in_head],
        notes=list(comparison.notes),
    )


def render(comparison: Comparison, output: Path) -> Written:
    output.mkdir(parents=True, exist_ok=True)
    drawn = chart(comparison, output / CHARTS_DIR / CHART_NAME)
    relative = f"{CHARTS_DIR}/{CHART_NAME}" if drawn else None
    markdown = output / MARKDOWN_NAME
    markdown.write_text(render_markdown(comparison, relative), encoding="utf-8")
    return Written(markdown, drawn)
