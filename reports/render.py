"""Render PERFORMANCE_BASELINE_REPORT.md and its charts from a results file, and nothing else.

Every figure is formatted here from the results (via bench.stats and reports.fmt); the Jinja2 template
only lays the strings out, so no number can be typed into it by hand.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from bench import stats
from bench.results import Measurement, Plan, Results
from reports import charts, claims, cost_charts, fmt, scaling, tradeoff, warm_cold
from reports.analysis import NOISE_THRESHOLD, OK, Analysis, CaseResult, ScenarioResult, Side, analyze

REPORT_NAME = "PERFORMANCE_BASELINE_REPORT.md"
CHARTS_DIR = "charts"
TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class Written:
    report: Path
    charts: tuple[Path, ...]


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # markdown, not HTML; cells are escaped by fmt.cell
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = fmt.cell
    return env


def _verdict(case: CaseResult) -> str:
    if case.status != OK:
        failed = [s.name for s in (case.baseline, case.candidate) if s.status != OK]
        return f"**{case.status.upper()}** ({', '.join(failed)})"
    if case.comparison is None:
        return "no timings"
    verdict = case.comparison.verdict
    return f"**{verdict}**" if case.comparison.significant else verdict


def _summary_row(case: CaseResult) -> dict[str, str]:
    comparison = case.comparison
    base, cand = case.baseline.summary, case.candidate.summary
    return {
        "scenario": case.scenario.name,
        "case": case.case,
        "sides": f"{case.baseline.name} -> {case.candidate.name}",
        "before": fmt.duration(base.median) if base else case.baseline.status,
        "after": fmt.duration(cand.median) if cand else case.candidate.status,
        "change": fmt.change(comparison) if comparison else "-",
        "ci": fmt.ratio_ci(comparison.ratio_ci) if comparison else "-",
        "p": fmt.p_value(comparison.p_value) if comparison else "-",
        "verdict": _verdict(case),
    }


def _findings(analysis: Analysis) -> list[str]:
    """One plain sentence per scenario: what changed, by how much, how sure."""
    lines = []
    for scenario in analysis.scenarios:
        counts: dict[str, int] = {}
        reductions = []
        for case in scenario.cases:
            key = case.status if case.status != OK else (case.comparison.verdict if case.comparison else "-")
            counts[key] = counts.get(key, 0) + 1
            if case.comparison and case.comparison.significant:
                reductions.append(case.comparison.reduction)
        tally = ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items()))
        line = f"`{scenario.info.name}` ({scenario.info.baseline} -> {scenario.info.candidate}): {tally}"
        if reductions:
            low, high = min(reductions), max(reductions)
            span = fmt.saving(low) if low == high else f"{fmt.saving(low)} to {fmt.saving(high)}"
            line += f"; significant changes: {span}"
        lines.append(line + ".")
    return lines


def _plan(side: str, plan: Plan) -> dict[str, str]:
    return {
        "side": side,
        "shape": plan.shape,
        "indexes": ", ".join(plan.index_names) or "none",
        "directions": ", ".join(plan.scan_directions) or "-",
        "sort": "yes" if plan.has_sort else "no",
        "buffers": f"{fmt.count(plan.shared_hit_blocks)} hit + {fmt.count(plan.shared_read_blocks)} read",
        "removed": fmt.count(plan.rows_removed_by_filter),
        "planning": fmt.duration(plan.planning_ms / 1e3),
        "execution": fmt.duration(plan.execution_ms / 1e3),
        "mode": plan.plan_mode,
    }


def _side_row(side: Side) -> dict[str, str]:
    m: Measurement | None = side.measurement
    summary = side.summary

    def metric(value: str) -> str:
        return value if m is not None and m.ok else "-"

    return {
        "side": side.name,
        "status": side.status if side.status == OK else f"**{side.status}**",
        "error": (side.error or "").splitlines()[0] if side.error else "",
        "state": m.state if m else "-",
        "n": str(summary.n) if summary else "-",
        "median": fmt.duration(summary.median) if summary else "-",
        "p95": fmt.duration(summary.p95) if summary else "-",
        "iqr": fmt.duration(summary.iqr) if summary else "-",
        "queries": metric(fmt.count(m.query_count)) if m else "-",
        "rows": metric(fmt.count(m.rows)) if m else "-",
        "buffers": metric(fmt.count(m.shared_blocks)) if m else "-",
        "response": metric(fmt.size(m.response_bytes)) if m else "-",
        "memory": metric(fmt.size(m.peak_memory_bytes)) if m else "-",
    }


def _scenario(scenario: ScenarioResult) -> dict[str, Any]:
    cases = []
    for case in scenario.cases:
        sides = (case.baseline, case.candidate)
        plans = [
            _plan(side.name, plan)
            for side in sides
            if side.measurement is not None
            for plan in side.measurement.plans
        ]
        params = next((s.measurement.params for s in sides if s.measurement and s.measurement.params), {})
        cases.append(
            {
                "case": case.case,
                "verdict": _verdict(case),
                "change": fmt.change(case.comparison) if case.comparison else "-",
                "params": ", ".join(f"{k}={v}" for k, v in params.items()),
                "sides": [_side_row(s) for s in sides],
                "plans": plans,
            }
        )
    return {
        "name": scenario.info.name,
        "title": scenario.info.title,
        "group": scenario.info.group,
        "kind": scenario.info.kind,
        "baseline": scenario.info.baseline,
        "candidate": scenario.info.candidate,
        "description": scenario.info.description,
        "known": scenario.known,
        "cases": cases,
    }


def _claims(verdicts: Iterable[claims.Verdict]) -> list[dict[str, Any]]:
    return [
        {
            "id": v.claim.id,
            "claimed": v.claim.claimed,
            "quote": v.claim.quote,
            "source": v.claim.source,
            "about": (v.claim.group and f"group {v.claim.group}") or ", ".join(v.claim.scenarios),
            "metric": v.claim.metric,
            "status": v.status,
            "measured": v.measured,
            "why": v.why,
            "checks": [dataclasses.asdict(c) for c in v.checks],
            "several": len(v.checks) > 1,
        }
        for v in verdicts
    ]


def _methodology(results: Results) -> dict[str, Any]:
    timings = [m.timing for m in results.measurements if m.timing is not None]
    plan_modes = sorted({p.plan_mode for m in results.measurements for p in m.plans})
    rounds = sorted({t.rounds for t in timings})
    return {
        "rounds": f"{rounds[0]} to {rounds[-1]}" if len(rounds) > 1 else (str(rounds[0]) if rounds else "-"),
        "warmup": ", ".join(str(w) for w in sorted({t.warmup_rounds for t in timings})) or "-",
        "timers": ", ".join(sorted({t.timer for t in timings})) or "-",
        "plan_modes": plan_modes,
        "settings": sorted(results.environment.postgres_settings.items()),
        "cold": bool(results.cold),
        "scales": len(results.scales),
    }


def _charts(written: list[charts.Chart], section: str) -> list[dict[str, str]]:
    return [
        {"path": f"{CHARTS_DIR}/{c.filename}", "title": c.title, "caption": c.caption}
        for c in written
        if c.section == section
    ]


def context(
    analysis: Analysis, written_charts: list[charts.Chart], verdicts: list[claims.Verdict]
) -> dict[str, Any]:
    results = analysis.results
    # The cold series covers only some scenarios by design; the others are not "missing" from it.
    cold_names = {m.scenario for m in results.cold}
    cold_infos = tuple(i for i in results.scenarios if i.name in cold_names)
    cold_results = dataclasses.replace(results, scenarios=cold_infos, measurements=results.cold)
    cold = analyze(cold_results, alpha=analysis.alpha, threshold=analysis.threshold) if results.cold else None
    dataset = results.dataset
    env = results.environment
    reproduce = results.command
    return {
        "r": results,
        "confidence": f"{stats.CONFIDENCE * 100:g} %",
        "alpha": f"{analysis.alpha:g}",
        "threshold": f"{analysis.threshold:.0%}",
        "summary": [_summary_row(c) for c in analysis.all_cases()],
        "findings": _findings(analysis),
        "problems": [_summary_row(c) for c in analysis.all_cases() if c.status != OK],
        "claims": _claims(verdicts),
        "charts": _charts(written_charts, "main"),
        "scale_charts": _charts(written_charts, cost_charts.SCALE),
        "cost_charts": _charts(written_charts, cost_charts.COSTS),
        "tradeoff": tradeoff.summary_context(analysis),
        "scale": scaling.context(results),
        "warm_cold": warm_cold.context(results),
        "scenarios": [_scenario(s) for s in analysis.scenarios],
        "states": [
            {
                "state": s.state,
                "targets": ", ".join(f"{app} {name}" for app, name in sorted(s.targets.items())),
                "migrations": ", ".join(s.migrations) or "none",
                "migrate": fmt.duration(s.migrate_seconds),
                "analyze": fmt.duration(s.analyze_seconds),
            }
            for s in results.states
        ],
        "costs": tradeoff.detail_context(results.costs),
        "cold": [_summary_row(c) for c in cold.all_cases()] if cold else [],
        "dataset": {
            "profile": dataset.profile or "custom",
            "seed": str(dataset.seed),
            "fingerprint": dataset.fingerprint,
            "seeder": dataset.seeder_version,
            "reused": "reused from an earlier run"
            if dataset.reused
            else f"seeded in {fmt.duration(dataset.seed_seconds)}",
            "counts": [(table, fmt.count(n)) for table, n in sorted(dataset.counts.items())],
        },
        "env": {
            "postgres": env.postgres_version,
            "python": env.python,
            "django": env.django,
            "psycopg": env.psycopg,
            "pytest_benchmark": env.pytest_benchmark,
            "platform": env.platform,
            "cpus": str(env.cpu_count),
            "commit": (env.git_commit or "unknown") + (" (uncommitted changes)" if env.git_dirty else ""),
            "database": env.database,
        },
        "method": _methodology(results),
        "reproduce": {
            "command": reproduce,
            "checkout": f"git checkout {shlex.quote(env.git_commit)}" if env.git_commit else None,
        },
    }


def render_markdown(
    analysis: Analysis, written_charts: list[charts.Chart], verdicts: list[claims.Verdict]
) -> str:
    template = _environment().get_template("report.md.j2")
    return template.render(context(analysis, written_charts, verdicts))


def render(
    results: Results,
    output: Path,
    *,
    claims_path: Path = claims.DEFAULT_PATH,
    threshold: float = NOISE_THRESHOLD,
) -> Written:
    """Write output/PERFORMANCE_BASELINE_REPORT.md and output/charts/*.png; return their paths."""
    claim_list = claims.load(claims_path)
    output.mkdir(parents=True, exist_ok=True)
    chart_dir = output / CHARTS_DIR
    # Charts of an earlier render that this results file has no data for must not linger beside it.
    for stale in chart_dir.glob("*.png") if chart_dir.is_dir() else ():
        stale.unlink()
    analysis = analyze(results, threshold=threshold)
    written_charts = charts.draw_all(analysis, chart_dir) + cost_charts.draw_all(results, chart_dir)
    verdicts = claims.judge_all(claim_list, analysis)
    text = render_markdown(analysis, written_charts, verdicts)
    report = output / REPORT_NAME
    report.write_text(text, encoding="utf-8")
    return Written(report, tuple(chart_dir / c.filename for c in written_charts))
