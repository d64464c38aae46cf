"""The load section: the endpoints under load, before and after, per concurrency level, with intervals;
what the generator could drive on this machine; two charts. From the results file only.

Also `render_load`, the report `bench load` writes on its own (LOAD_REPORT.md): the same section.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, NullFormatter

from django_index_bench.bench.load.results import LoadRun
from django_index_bench.bench.results import Results, write_atomic
from django_index_bench.reports import drawing, fmt
from django_index_bench.reports.charts import (
    BASELINE_COLOR,
    CANDIDATE_COLOR,
    DPI,
    WIDTH_IN,
    Chart,
    fitted,
    save,
)
from django_index_bench.verdicts import defaults, load_levels
from django_index_bench.verdicts.defaults import DEFAULT_THRESHOLD

LOAD = "load"
LOAD_REPORT = "LOAD_REPORT.md"
CHARTS_DIR = "charts"
PERCENTILE_STYLES = (
    ("p50_ms", "p50", ":"),
    ("p95_ms", "p95", "-"),
    ("p99_ms", "p99", "--"),
    ("max_ms", "max", "-."),
)


def _ms(value: float | None) -> str:
    return fmt.duration(value / 1e3) if value is not None else "-"


def _rate(value: float) -> str:
    return f"{fmt.short(value)}/s" if value > 0 else "-"


def _ratio(r: load_levels.Ratio) -> str:
    """after/before as a multiple with its interval: "0.12x [0.10x to 0.15x] (4 pairs): faster"."""
    if r.ratio is None:
        return "-"
    text = f"{r.ratio:.2f}x"
    if r.interval is not None:
        text += f" [{r.interval[0]:.2f}x to {r.interval[1]:.2f}x]"
    return f"{text} ({r.pairs} pair(s)): {r.verdict}"


def _errors(side: load_levels.SideLoad) -> str:
    if not side.error_count:
        return "0"
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(side.errors.items()))
    return f"{fmt.count(side.error_count)} ({fmt.percent(side.error_share)}: {kinds})"


def _side_row(side: load_levels.SideLoad) -> dict[str, str]:
    return {
        "side": side.side,
        "users": str(side.users),
        "bursts": str(side.bursts),
        "requests": fmt.count(side.finished),
        "throughput": _rate(side.throughput),
        "p50": _ms(side.p50_ms),
        "p95": _ms(side.p95_ms),
        "p99": _ms(side.p99_ms),
        "max": _ms(side.max_ms),
        "errors": _errors(side),
        "bytes": fmt.size(side.bytes_per_response),
        "server_cpu": _ms(side.server_cpu_ms_per_request),
        "server_cores": f"{side.server_cores:.2f}",
        "generator_cores": f"{side.generator_cores:.2f}",
    }


def _headroom(run: LoadRun) -> dict[str, str]:
    room = load_levels.headroom(run)
    if room.trivial_throughput is None:
        return {
            "measured": "",
            "verdict": "The generator was not calibrated against a trivial endpoint in this run.",
        }
    measured = (
        f"Against a trivial WSGI app (two bytes, no Django) at {max(run.levels)} users the generator drove "
        f"{_rate(room.trivial_throughput)}, using {room.trivial_generator_cores or 0:.2f} of a core. The "
        f"endpoints' highest rate was {_rate(room.best_throughput or 0.0)} "
        f"({fmt.percent(room.share_of_trivial, 0)} of that); the generator's busiest side used "
        f"{room.busiest_generator_cores or 0:.2f} of a core."
    )
    if room.generator_bound:
        verdict = (
            "**The generator may be the bottleneck**: an endpoint ran at more than half the rate the "
            "generator reaches at all, or the generator kept most of a core busy. Throughput figures "
            "near that rate are the generator's limit as much as the server's."
        )
    else:
        verdict = (
            "The generator was not the bottleneck: the endpoints ran well below the rate it reaches "
            "against a trivial app, and it never kept most of a core busy."
        )
    return {"measured": measured, "verdict": verdict}


def _meaning(run: LoadRun) -> list[str]:
    workers = sorted({s.workers for s in run.servers})
    lines = [
        f"Generator and servers share {run.cpu_count} CPU(s) on one machine, over loopback: there is no "
        "network, and every CPU second the generator spends is taken from the server. The figures rank "
        "before against after on this machine; they are not the capacity of a production deployment.",
        f"Each side runs on its own gunicorn ({', '.join(map(str, workers))} sync worker(s) each), so "
        "at more users than workers the requests queue in the listen backlog: latency at high "
        "concurrency is mostly queueing, as it would be on a saturated server.",
        "Clients are closed-loop (each sends its next request when the last is answered, like `ab`), "
        "so throughput is what the server sustained, and latency includes the queue wait.",
        "Server CPU is gunicorn's processes only: PostgreSQL's backends (one new connection per request, "
        "as the project's CONN_MAX_AGE = 0 has it) work on the same cores and are not in it.",
        f"Bursts are short ({run.rounds} request(s) per user, at least {run.min_requests} per burst; "
        f"a burst stops sending after {fmt.duration(run.burst_seconds)}), so ramp-up and draining are "
        "part of every burst, on both sides alike.",
    ]
    if not any(e.kind == "migration" for e in run.endpoints):
        lines.append(
            "No endpoint driven here runs in the two migration states, so the indexes are not under load "
            "here: their budgets are judged on the single calls of the main measurement."
        )
    return lines


def context(
    results: Results, written: list[Chart], threshold: float = DEFAULT_THRESHOLD
) -> dict[str, Any] | None:
    run = results.load
    if run is None:
        return None
    levels = load_levels.compare_all(run, threshold)
    return {
        "confidence": f"{defaults.CONFIDENCE:.0%}".replace("%", " %"),
        "ok": run.ok,
        "error": fmt.first_line(run.error),
        "generator": run.generator,
        "servers": [
            {
                "side": s.side,
                "state": s.state,
                "database": s.database,
                "address": s.address,
                "app": s.app,
                "server": s.server,
                "workers": f"{s.workers} {s.worker_class}",
            }
            for s in run.servers
        ],
        "endpoints": [
            {
                "name": e.name,
                "title": e.title,
                "paths": [
                    f"{side}: `{e.paths[side]}` (state {e.states[side]})"
                    for side in (e.baseline, e.candidate)
                ],
            }
            for e in run.endpoints
        ],
        "levels": [
            {
                "endpoint": level.endpoint,
                "users": f"{level.users} concurrent user{'s' if level.users != 1 else ''}",
                "rows": [_side_row(level.baseline), _side_row(level.candidate)],
                "throughput": _ratio(level.throughput),
                "p95": _ratio(level.p95),
            }
            for level in levels
        ],
        "headroom": _headroom(run),
        "meaning": _meaning(run),
        "plan": (
            f"levels {', '.join(map(str, run.levels))} users; {run.pairs} burst pair(s) per endpoint and "
            f"level, sides alternating A B, B A; requests time out after {fmt.duration(run.timeout_s)}"
        ),
        "seconds": fmt.duration(run.seconds),
        "threshold": fmt.percent(threshold, 0),
        "charts": [
            {"path": f"{CHARTS_DIR}/{c.filename}", "title": c.title, "caption": c.caption}
            for c in written
            if c.section == LOAD
        ],
    }


# ---- charts --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Series:
    endpoint: str
    baseline: str
    candidate: str
    levels: list[load_levels.LevelComparison]


def _series(run: LoadRun) -> list[_Series]:
    levels = load_levels.compare_all(run, DEFAULT_THRESHOLD)
    return [
        _Series(e.name, e.baseline, e.candidate, [lv for lv in levels if lv.endpoint == e.name])
        for e in run.endpoints
        if any(lv.endpoint == e.name for lv in levels)
    ]


def _log_axes(ax: Axes, ylabel: str) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt.short(v)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt.short(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("concurrent users (log scale)")
    ax.set_ylabel(ylabel)
    ax.grid(which="both", alpha=0.3)


# Axes titles are "large": 1.2 times matplotlib's 10 pt; an endpoint's path may be long.
TITLE_POINTS = 12.0


def _figure(count: int) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH_IN, 3.6 * count), dpi=DPI, layout="constrained")


def throughput_chart(run: LoadRun, directory: Path) -> Chart | None:
    series = _series(run)
    if not series:
        return None
    figure = _figure(len(series))
    for ax, s in zip(figure.subplots(len(series), 1, squeeze=False)[:, 0], series, strict=True):
        users = [lv.users for lv in s.levels]
        for attr, name, color in (
            ("baseline", s.baseline, BASELINE_COLOR),
            ("candidate", s.candidate, CANDIDATE_COLOR),
        ):
            sides = [getattr(lv, attr) for lv in s.levels]
            bursts = [[b.throughput for b in run.bursts_of(s.endpoint, name, u)] for u in users]
            ax.plot(users, [x.throughput for x in sides], marker="o", color=color, label=name)
            lows = [min(v) if v else 0 for v in bursts]
            highs = [max(v) if v else 0 for v in bursts]
            ax.fill_between(users, lows, highs, color=color, alpha=0.15)
        _log_axes(ax, "requests/s (log scale)")
        ax.set_title(fitted(f"{s.endpoint}: throughput against concurrency", WIDTH_IN - 1, TITLE_POINTS))
        ax.legend(fontsize="small")
    save(figure, directory, "load_throughput.png")
    return Chart(
        "load_throughput.png",
        "Throughput against concurrency, before and after",
        "Answered requests per second over all bursts of a side; the band spans its slowest to fastest "
        "burst. Higher is better. Log scales.",
        section=LOAD,
    )


def latency_chart(run: LoadRun, directory: Path) -> Chart | None:
    series = _series(run)
    if not series:
        return None
    figure = _figure(len(series))
    for ax, s in zip(figure.subplots(len(series), 1, squeeze=False)[:, 0], series, strict=True):
        users = [lv.users for lv in s.levels]
        for attr, name, color in (
            ("baseline", s.baseline, BASELINE_COLOR),
            ("candidate", s.candidate, CANDIDATE_COLOR),
        ):
            sides = [getattr(lv, attr) for lv in s.levels]
            for field, label, style in PERCENTILE_STYLES:
                values = [getattr(x, field) for x in sides]
                points = [(u, v) for u, v in zip(users, values, strict=True) if v is not None and v > 0]
                if points:
                    ax.plot(*zip(*points, strict=True), linestyle=style, marker=".", color=color,
                            label=f"{name} {label}")  # fmt: skip
        _log_axes(ax, "latency, ms (log scale)")
        ax.set_title(
            fitted(f"{s.endpoint}: latency percentiles against concurrency", WIDTH_IN - 1, TITLE_POINTS)
        )
        ax.legend(fontsize="x-small", ncols=2)
    save(figure, directory, "load_latency.png")
    return Chart(
        "load_latency.png",
        "Latency percentiles against concurrency, before and after",
        "p50, p95, p99 and max of every answered request of a side at each level. Lower is better. "
        "Log scales.",
        section=LOAD,
    )


def drawers(results: Results, directory: Path) -> list[Callable[[], Chart | None]]:
    """The load step's charts, to be drawn by reports.drawing; none without a load step."""
    run = results.load
    if run is None or not run.bursts:
        return []
    directory.mkdir(parents=True, exist_ok=True)
    return [partial(throughput_chart, run, directory), partial(latency_chart, run, directory)]


# ---- bench load's own report ---------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    report: Path
    charts: tuple[Path, ...]


def render_load(results: Results, output: Path, *, claims_path: Path | None = None) -> Written:
    """output/LOAD_REPORT.md and output/charts/load_*.png: the load section and the budgets it judges."""
    from django_index_bench.reports import budgets
    from django_index_bench.reports.analysis import analyze

    output.mkdir(parents=True, exist_ok=True)
    chart_dir = output / CHARTS_DIR
    for stale in chart_dir.glob("load_*.png") if chart_dir.is_dir() else ():
        stale.unlink()
    written = drawing.draw(drawers(results, chart_dir))
    verdicts = budgets.judge_all(budgets.load(claims_path) if claims_path else (), analyze(results))
    template = fmt.jinja_environment().get_template("load_report.md.j2")
    text = template.render(
        r=results,
        load=context(results, written),
        budgets=[b for b in budgets.context(verdicts) if b["about"].startswith("endpoint")],
    )
    report = output / LOAD_REPORT
    write_atomic(report, text)  # 0644 whatever the umask, like the results file
    return Written(report, tuple(chart_dir / c.filename for c in written))
