"""Render PERFORMANCE_BASELINE_REPORT.md and its charts from a results file, and nothing else.

Every figure is formatted here from the results (via bench.stats and reports.fmt); the Jinja2 template
only lays the strings out, so no number can be typed into it by hand. The methodology is written from
the run's recorded schedule (reports.method), never from fixed text.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django_index_bench.bench.results import Measurement, Plan, Results, ScheduledItem, write_atomic
from django_index_bench.bench.suggest.results import Suggestions
from django_index_bench.reports import (
    budgets,
    charts,
    claims,
    cost_charts,
    detectable,
    drawing,
    fmt,
    load_section,
    method,
    scaling,
    suggestions,
    tradeoff,
    warm_cold,
)
from django_index_bench.reports.analysis import OK, Analysis, CaseResult, ScenarioResult, Side, analyze
from django_index_bench.verdicts import defaults, stats, words
from django_index_bench.verdicts.defaults import DEFAULT_THRESHOLD

REPORT_NAME = "PERFORMANCE_BASELINE_REPORT.md"
CHARTS_DIR = "charts"


@dataclass(frozen=True)
class Written:
    report: Path
    charts: tuple[Path, ...]


def verdict(case: CaseResult) -> str:
    """Both quantities and what they rest on: "database time 8.10x faster, end to end 1.40x faster;
    n = 30 pairs". A case that was not measured says so, with the first line of its error."""
    if case.status != OK:
        return f"**{case.status.upper()}** ({'; '.join(case.errors) or _unmeasured_sides(case)})"
    if case.comparison is None:
        return "no timings"
    parts = [fmt.verdict_part("database time", case.db_comparison)] if case.db_comparison else []
    parts.append(fmt.verdict_part("end to end", case.comparison))
    again = "".join(f"; {line}" for line in confirmation_words(case))
    return (
        f"{', '.join(parts)}; n = {fmt.pairs(case.comparison)}{again}{_rewrite_note(case)}"
        f"{_blocks_note(case)}"
    )


def _figure(comparison: stats.Comparison | None) -> str:
    """One measurement's figure of a metric, as a confirmation states both: "8.10x faster (CI 7.90x
    to 8.30x faster, p < 0.001, n = 20 pairs)"."""
    if comparison is None:
        return "not compared"
    return (
        f"{fmt.ratio(comparison.ratio)} ({fmt.percent(defaults.CONFIDENCE, 0)} CI "
        f"{fmt.ratio_ci(comparison.ratio_ci)}, {fmt.p_is(comparison.p_value)}, n = {fmt.pairs(comparison)})"
    )


def confirmation_words(case: CaseResult) -> list[str]:
    """Per metric the report calls and the run measured again: "confirmed on a second measurement" with
    the second figure; "not confirmed: treated as noise" with both; or why it stands on the first."""
    confirmed = case.confirmation
    if confirmed is None:
        return []
    lines = []
    for metric, outcome in confirmed.outcomes.items():
        label = words.METRIC_WORDS[metric]
        second = confirmed.second.of(metric) if confirmed.second is not None else None
        said = words.CONFIRMATION_WORDS.get(outcome, outcome)
        if outcome == words.CONFIRMED:
            lines.append(f"{label} {said}: {_figure(second)}")
        elif outcome == words.NOT_CONFIRMED:
            first = _figure(confirmed.first.of(metric))
            lines.append(f"{label} {said}: first {first}; second {_figure(second)}")
        else:
            lines.append(f"{label} {said}: {confirmed.remeasured.error or 'no reason recorded'}")
    return lines


def _blocks_note(case: CaseResult) -> str:
    if not case.blocks_differ:
        return ""
    return "; " + fmt.blocks_differ(
        case.baseline.name, case.base_blocks, case.candidate.name, case.head_blocks
    )


def _blocks_line(case: CaseResult) -> str:
    """Each side's shared-buffer hits and reads over its timed rounds."""
    if case.base_blocks is None and case.head_blocks is None:
        return "Shared buffers in the timed rounds: not recorded."
    return (
        f"Shared buffers in the timed rounds: {case.baseline.name} {fmt.blocks(case.base_blocks)}; "
        f"{case.candidate.name} {fmt.blocks(case.head_blocks)}."
    )


def _rewrite_note(case: CaseResult) -> str:
    """A plan change on a table the state move rewrote may come from the move, not the change."""
    if not case.rewritten or not case.plan_changed:
        return ""
    tables = ", ".join(f"`{t}`" for t in case.rewritten)
    after = (
        "its copy was vacuumed and analyzed after the move"
        if case.settled_by == "VACUUM (ANALYZE)"
        else f"its copy had only {case.settled_by or 'ANALYZE'} after the move, so its visibility map "
        "may be empty and an index-only scan become a sequential one"
    )
    return f"; the plan changed on {tables}, which a migration between the states rewrote ({after})"


def _unmeasured_sides(case: CaseResult) -> str:
    return ", ".join(f"{s.name} {s.status}" for s in (case.baseline, case.candidate) if s.status != OK)


def _median(summary: stats.Summary | None, side: Side) -> str:
    """The median, else why there is none: FAILED/MISSING, or "-" when the side simply has no such
    series (no database time in a schema 2 file)."""
    if summary is not None:
        return fmt.duration(summary.median)
    return "-" if side.status == OK else side.status.upper()


def _summary_row(case: CaseResult) -> dict[str, str]:
    e2e, db = case.comparison, case.db_comparison
    return {
        "scenario": case.scenario.name,
        "case": case.case,
        "before": _median(case.baseline.summary, case.baseline),
        "after": _median(case.candidate.summary, case.candidate),
        "change": fmt.change_ci(e2e),
        "p": fmt.p_value(e2e.p_value) if e2e else "-",
        "db_before": _median(case.baseline.db_summary, case.baseline),
        "db_after": _median(case.candidate.db_summary, case.candidate),
        "db_change": fmt.change_ci(db),
        "db_p": fmt.p_value(db.p_value) if db else "-",
        "verdict": verdict(case),
        "copies": copy_spread(case),
    }


def copy_spread(case: CaseResult) -> str:
    """The copy-level spread beside a verdict: the end-to-end change on the database copy where it was
    smallest and where it was largest ('-' with one copy)."""
    if case.copy_spread is None:
        return "-"
    low, high = case.copy_spread
    return f"{low - 1:+.1%} to {high - 1:+.1%}"


def copy_medians(case: CaseResult) -> str:
    """Each side's medians per database copy: where the copy-level spread comes from."""
    names = {"base": case.baseline.name, "head": case.candidate.name}
    by_side: dict[str, list[str]] = {}
    for found in case.copies:
        db_s = fmt.duration(found.db_s) if found.db_s is not None else "-"
        by_side.setdefault(found.role, []).append(
            f"copy {found.copy} {fmt.duration(found.total_s)} / {db_s} ({fmt.count(found.rounds)})"
        )
    return "; ".join(f"{names[role]}: {', '.join(parts)}" for role, parts in by_side.items())


def _tally(cases: Iterable[CaseResult], which: str) -> str:
    counts: dict[str, int] = {}
    for case in cases:
        comparison = case.comparison if which == "end to end" else case.db_comparison
        verdict_word = comparison.verdict if comparison else "not compared"
        key = case.status.upper() if case.status != OK else verdict_word
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{n} {word}" for word, n in sorted(counts.items()))


def _findings(analysis: Analysis) -> list[str]:
    """One plain sentence per scenario: what changed, by how much, how sure, for both quantities."""
    lines = []
    for scenario in analysis.scenarios:
        info = scenario.info
        line = (
            f"`{info.name}` ({info.baseline} -> {info.candidate}), cases by verdict: database time: "
            f"{_tally(scenario.cases, 'database time')}; end to end: {_tally(scenario.cases, 'end to end')}"
        )
        compared = [c.comparison for c in scenario.cases if c.comparison is not None]
        reductions = [c.reduction for c in compared if c.significant]
        if reductions:
            low, high = min(reductions), max(reductions)
            span = fmt.saving(low) if low == high else f"{fmt.saving(low)} to {fmt.saving(high)}"
            line += f"; significant end-to-end changes: {span}"
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
    summary, db = side.summary, side.db_summary
    measured = m is not None and m.ok

    def metric(value: str) -> str:
        return value if measured else "-"

    return {
        "side": side.name,
        "status": side.status if side.status == OK else f"**{side.status.upper()}**",
        "error": fmt.first_line(side.error),
        "state": m.state if m else "-",
        "n": str(summary.n) if summary else "-",
        "median": fmt.duration(summary.median) if summary else "-",
        "p95": fmt.duration(summary.p95) if summary else "-",
        "iqr": fmt.duration(summary.iqr) if summary else "-",
        "db": fmt.duration(db.median) if db else "-",
        "orm": fmt.duration(side.orm_median),
        "queries": metric(fmt.count(m.query_count if m else None)),
        "rows": metric(fmt.count(m.rows if m else None)),
        "buffers": metric(fmt.count(m.shared_blocks if m else None)),
        "response": metric(fmt.size(m.response_bytes if m else None)),
        "memory": metric(fmt.size(m.peak_memory_bytes if m else None)),
    }


def _comparison_line(label: str, comparison: stats.Comparison | None) -> str:
    if comparison is None:
        return f"{label}: not compared"
    return (
        f"{label}: {fmt.change(comparison)}, {fmt.percent(defaults.CONFIDENCE, 0)} CI "
        f"{fmt.ratio_ci(comparison.ratio_ci)}, {fmt.p_is(comparison.p_value)} "
        f"({method.test_name(comparison.method)}): {comparison.verdict}"
    )


def _item_line(item: ScheduledItem | None) -> str:
    if item is None:
        return "Not in the run's schedule."
    ran = f"Ran {fmt.count(item.pairs)} pair(s) in {fmt.duration(item.seconds)}"
    return f"{ran}; stopped because {method.STOPS[item.stop]}."


def _again_line(case: CaseResult) -> str:
    """The second measurement's schedule, for a case measured again; "" for any other."""
    if case.confirmation is None or case.confirmation.scheduled is None:
        return ""
    again = case.confirmation.remeasured
    looks = ", ".join(fmt.count(n) for n in again.looks)
    level = f"; judged at p < {again.alpha:.2g} (alpha over its looks, after {looks} pairs)" if looks else ""
    ran = _item_line(case.confirmation.scheduled).removesuffix(".")
    return f"Measured again, on fresh database copies: {ran}{level}."


def _case_detail(case: CaseResult) -> dict[str, Any]:
    sides = (case.baseline, case.candidate)
    plans = [_plan(s.name, p) for s in sides if s.measurement is not None for p in s.measurement.plans]
    params = next((s.measurement.params for s in sides if s.measurement and s.measurement.params), {})
    return {
        "case": case.case,
        "verdict": verdict(case),
        "comparisons": [
            _comparison_line("Database time", case.db_comparison),
            _comparison_line("End to end", case.comparison),
        ],
        "item": _item_line(case.schedule),
        "again": _again_line(case),
        "copies": copy_medians(case),
        "blocks": _blocks_line(case),
        "params": ", ".join(f"{k}={v}" for k, v in params.items()),
        "sides": [_side_row(s) for s in sides],
        "plans": plans,
    }


def _scenario(scenario: ScenarioResult) -> dict[str, Any]:
    info = scenario.info
    return {
        "name": info.name,
        "title": info.title,
        "group": info.group,
        "kind": info.kind,
        "baseline": info.baseline,
        "candidate": info.candidate,
        "description": info.description,
        "known": scenario.known,
        "cases": [_case_detail(case) for case in scenario.cases],
    }


def _about(claim: claims.Claim) -> str:
    about = (claim.group and f"group {claim.group}") or ", ".join(claim.scenarios)
    return about + (f" (controls, not judged: {', '.join(claim.controls)})" if claim.controls else "")


def _claims(verdicts: Iterable[claims.Verdict]) -> list[dict[str, Any]]:
    return [
        {
            "id": v.claim.id,
            "claimed": v.claim.claimed,
            "quote": v.claim.quote,
            "source": v.claim.source,
            "about": _about(v.claim),
            "metric": v.claim.metric,
            "status": v.status,
            "measured": v.measured,
            "why": v.why,
            "checks": [dataclasses.asdict(c) for c in v.checks],
            "controls": [dataclasses.asdict(c) for c in v.controls],
            "several": len(v.checks) > 1 or bool(v.controls),
        }
        for v in verdicts
    ]


def _time_split(analysis: Analysis) -> list[dict[str, str]]:
    """Where each side's time goes: median database time and median Django/Python time per round."""
    rows = []
    for case in analysis.all_cases():
        for side in (case.baseline, case.candidate):
            if side.summary is None or side.db_summary is None:
                continue
            share = side.db_summary.median / side.summary.median if side.summary.median > 0 else None
            rows.append(
                {
                    "scenario": case.scenario.name,
                    "case": case.case,
                    "side": side.name,
                    "db": fmt.duration(side.db_summary.median),
                    "orm": fmt.duration(side.orm_median),
                    "total": fmt.duration(side.summary.median),
                    "share": fmt.percent(share, 0),
                }
            )
    return rows


def _charts(written: list[charts.Chart], section: str) -> list[dict[str, str]]:
    return [
        {"path": f"{CHARTS_DIR}/{c.filename}", "title": c.title, "caption": c.caption}
        for c in written
        if c.section == section
    ]


def _failed_states(results: Results) -> list[dict[str, str]]:
    return [
        {
            "state": s.state,
            "database": s.database,
            "migrations": ", ".join(s.migrations) or "none",
            "error": fmt.first_line(s.error) or "no error recorded",
        }
        for s in results.states
        if not s.ok
    ]


def _states(results: Results) -> list[dict[str, str]]:
    return [
        {
            "state": s.state,
            "database": s.database,
            "status": s.status if s.ok else f"**{s.status.upper()}**: {fmt.first_line(s.error)}",
            "targets": ", ".join(f"{app} {name}" for app, name in sorted(s.targets.items())),
            "migrations": ", ".join(s.migrations) or "none",
            "migrate": fmt.duration(s.migrate_seconds),
            "analyze": f"{s.maintenance}: {fmt.duration(s.analyze_seconds)}",
            "rewritten": ", ".join(s.rewritten) or "none",
        }
        for s in results.states
    ]


def _cold(analysis: Analysis) -> Analysis | None:
    """The cold series, analysed alone: it covers only some scenarios by design, so the others are not
    "missing" from it."""
    results = analysis.results
    if not results.cold:
        return None
    names = {m.scenario for m in results.cold}
    infos = tuple(i for i in results.scenarios if i.name in names)
    cold = dataclasses.replace(results, scenarios=infos, measurements=results.cold)
    return analyze(cold, alpha=analysis.alpha, threshold=analysis.threshold, cache="cold")


def _dataset(results: Results) -> dict[str, Any]:
    dataset = results.dataset
    return {
        "profile": dataset.profile or "custom",
        "seed": str(dataset.seed),
        "fingerprint": dataset.fingerprint,
        "seeder": dataset.seeder_version,
        "reused": "reused from an earlier run"
        if dataset.reused
        else f"seeded in {fmt.duration(dataset.seed_seconds)}",
        "counts": [(table, fmt.count(n)) for table, n in sorted(dataset.counts.items())],
    }


def _env(results: Results) -> dict[str, str]:
    env = results.environment
    return {
        "postgres": env.postgres_version,
        "python": env.python,
        "django": env.django,
        "psycopg": env.psycopg,
        "pytest_benchmark": env.pytest_benchmark,
        "platform": env.platform,
        "cpus": str(env.cpu_count),
        "commit": (env.git_commit or "unknown") + (" (uncommitted changes)" if env.git_dirty else ""),
        "database": env.database,
    }


def context(
    analysis: Analysis,
    written_charts: list[charts.Chart],
    verdicts: list[claims.Verdict],
    budget_verdicts: list[budgets.BudgetVerdict] | None = None,
) -> dict[str, Any]:
    results = analysis.results
    cold = _cold(analysis)
    commit = results.environment.git_commit
    return {
        "r": results,
        "failed_states": _failed_states(results),
        "summary": [_summary_row(c) for c in analysis.all_cases()],
        "findings": _findings(analysis),
        "problems": [_summary_row(c) for c in analysis.all_cases() if c.status != OK],
        "detectable": detectable.limits(
            [
                (c.baseline.summary.median, c.comparison, c.db_comparison)
                for c in analysis.all_cases()
                if c.baseline.summary is not None
            ],
            analysis.threshold,
        ),
        "sensitivity": detectable.trials(results.sensitivity),
        "sensitivity_found": detectable.smallest_detected(results.sensitivity),
        "claims": _claims(verdicts),
        "budgets": budgets.context(budget_verdicts or []),
        "load": load_section.context(results, written_charts, analysis.threshold),
        "charts": _charts(written_charts, "main"),
        "time_charts": _charts(written_charts, charts.TIME),
        "time_split": _time_split(analysis),
        "scale_charts": _charts(written_charts, cost_charts.SCALE),
        "cost_charts": _charts(written_charts, cost_charts.COSTS),
        "tradeoff": tradeoff.summary_context(analysis),
        "scale": scaling.context(results, analysis.threshold),
        "warm_cold": warm_cold.context(results),
        "scenarios": [_scenario(s) for s in analysis.scenarios],
        "states": _states(results),
        "costs": tradeoff.detail_context(analysis),
        "cold": [_summary_row(c) for c in cold.all_cases()] if cold else [],
        "dataset": _dataset(results),
        "env": _env(results),
        "method": method.context(analysis, cold),
        "reproduce": {
            "command": results.command,
            "checkout": f"git checkout {shlex.quote(commit)}" if commit else None,
        },
    }


def render_markdown(
    analysis: Analysis,
    written_charts: list[charts.Chart],
    verdicts: list[claims.Verdict],
    claims_file: str | None = None,
    budget_verdicts: list[budgets.BudgetVerdict] | None = None,
    suggested: str = "",
) -> str:
    template = fmt.jinja_environment().get_template("report.md.j2")
    shown = {"claims_file": claims_file, "suggestions": suggested}
    return template.render({**context(analysis, written_charts, verdicts, budget_verdicts), **shown})


def _shown(path: Path) -> str:
    """A claims file as the reader knows it: relative to the current directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path.name


def render(
    results: Results,
    output: Path,
    *,
    claims_path: Path | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    suggested: tuple[Suggestions, Path] | None = None,
) -> Written:
    """Write output/PERFORMANCE_BASELINE_REPORT.md and output/charts/*.png; return their paths.
    Without a claims file, the claims section says that nothing was claimed; with `suggested` (a
    suggestions file, read, and its path) the report has bench suggest's section."""
    claim_list = claims.load(claims_path) if claims_path else ()
    budget_list = budgets.load(claims_path) if claims_path else ()
    output.mkdir(parents=True, exist_ok=True)
    chart_dir = output / CHARTS_DIR
    # Charts of an earlier render that this results file has no data for must not linger beside it.
    for stale in chart_dir.glob("*.png") if chart_dir.is_dir() else ():
        stale.unlink()
    analysis = analyze(results, threshold=threshold)
    written_charts = drawing.draw(
        charts.drawers(analysis, chart_dir)
        + cost_charts.drawers(analysis, chart_dir)
        + load_section.drawers(results, chart_dir)
    )
    verdicts = claims.judge_all(claim_list, analysis)
    shown = _shown(claims_path) if claims_path else None
    section = suggestions.section(suggested[0], _shown(suggested[1]), results.dataset) if suggested else ""
    text = render_markdown(
        analysis, written_charts, verdicts, shown, budgets.judge_all(budget_list, analysis), section
    )
    report = output / REPORT_NAME
    write_atomic(report, text)  # 0644 whatever the umask, like the results file
    return Written(report, tuple(chart_dir / c.filename for c in written_charts))
