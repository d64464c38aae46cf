"""The write-up's KPIs as budgets (the [[budget]] tables of claims.toml), each judged against a run:
met, not met, or not measurable here.

A budget names what it is about (scenarios or a group: judged on the single-call timings of the main
measurement; or an endpoint: judged on the load results), a statistic and a limit. It is judged on the
candidate side (the code or state the change ships). A budget judged on data smaller than production
says so: a limit met on 1,000 people may not hold on 5,000.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.results import Results
from django_index_bench.reports import fmt
from django_index_bench.reports.analysis import OK, Analysis, CaseResult
from django_index_bench.verdicts import load_levels
from django_index_bench.verdicts.words import MET, NOT_MEASURABLE, NOT_MET

STATISTICS = ("p95", "max", "errors", "timeouts")
LATENCY = ("p95", "max")
FORMAT = 'see the README\'s "Claims and budgets" for the [[budget]] format'


@dataclass(frozen=True)
class Budget:
    id: str
    source: str
    quote: str
    statistic: str  # "p95" or "max" (seconds), "errors" or "timeouts" (a count)
    limit: float
    group: str | None = None
    scenarios: tuple[str, ...] = ()
    endpoint: str | None = None
    users: int | None = None  # endpoint budgets: the concurrency level judged; None: every level
    production: dict[str, int] | None = None  # the row counts the write-up's figures are for

    @property
    def about(self) -> str:
        if self.endpoint is not None:
            level = f" at {self.users} concurrent users" if self.users else " at every concurrency level"
            return f"endpoint {self.endpoint}{level}"
        return f"group {self.group}" if self.group else ", ".join(self.scenarios)

    @property
    def limit_text(self) -> str:
        if self.statistic in LATENCY:
            return f"{self.statistic} < {fmt.duration(self.limit)}"
        return f"{self.statistic} <= {fmt.count(int(self.limit))}"


@dataclass(frozen=True)
class BudgetVerdict:
    budget: Budget
    status: str
    measured: str
    why: str
    scale_note: str  # "" when the run's data is at least production's size


def _budget(entry: dict[str, Any], source: str) -> Budget:
    where = f"{source}: budget {entry.get('id', '?')!r}"
    unknown = sorted(set(entry) - {f.name for f in fields(Budget)})
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r}; {FORMAT}")
    for key in ("id", "source", "quote", "statistic"):
        if not isinstance(entry.get(key), str):
            raise UsageError(f"{where}: {key} must be a string; {FORMAT}")
    limit = entry.get("limit")
    if not isinstance(limit, int | float) or isinstance(limit, bool) or not 0 <= limit < math.inf:
        raise UsageError(f"{where}: limit must be a finite number of at least 0, got {limit!r}")
    if entry["statistic"] not in STATISTICS:
        raise UsageError(
            f"{where}: unknown statistic {entry['statistic']!r}; choose one of {', '.join(STATISTICS)}"
        )
    targets = [k for k in ("group", "scenarios", "endpoint") if entry.get(k)]
    if len(targets) != 1:
        raise UsageError(f"{where}: needs exactly one of group, scenarios or endpoint")
    users = entry.get("users")
    if users is not None and (not isinstance(users, int) or users < 1 or "endpoint" not in entry):
        raise UsageError(f"{where}: users must be a whole number of at least 1, for an endpoint budget")
    production = entry.get("production")
    if production is not None and not (
        isinstance(production, dict)
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in production.values())
    ):
        raise UsageError(f"{where}: production must be a table of row counts, like {{people = 5000}}")
    scenarios = entry.get("scenarios", [])
    if not isinstance(scenarios, list) or not all(isinstance(s, str) for s in scenarios):
        raise UsageError(f"{where}: scenarios must be an array of names")
    return Budget(
        id=entry["id"], source=entry["source"], quote=entry["quote"], statistic=entry["statistic"],
        limit=float(limit), group=entry.get("group"), scenarios=tuple(scenarios),
        endpoint=entry.get("endpoint"), users=users, production=production,
    )  # fmt: skip


def load(path: Path) -> tuple[Budget, ...]:
    """The budgets of a claims file (none when it has no [[budget]]); UsageError when malformed."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read claims file {path}: {exc}") from None
    entries = data.get("budget", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise UsageError(f"{path}: budget must be [[budget]] tables; {FORMAT}")
    return tuple(_budget(entry, str(path)) for entry in entries)


def scale_note(budget: Budget, results: Results) -> str:
    """Why a verdict may not carry over to production: smaller data, or no production size given."""
    counts = results.dataset.counts
    profile = results.dataset.profile or "custom"
    if not budget.production:
        return f"the write-up gives no production size; judged on profile `{profile}`"
    smaller = [
        f"{fmt.count(counts.get(table))} {table} (production: {fmt.count(rows)})"
        for table, rows in budget.production.items()
        if counts.get(table, 0) < rows
    ]
    if not smaller:
        return ""
    return f"judged at profile `{profile}`, smaller than production: {', '.join(smaller)}"


def _case_value(statistic: str, case: CaseResult) -> float | None:
    summary = case.candidate.summary
    if summary is None:
        return None
    return summary.p95 if statistic == "p95" else summary.maximum


def _judge_scenarios(budget: Budget, analysis: Analysis) -> tuple[str, str, str]:
    if budget.group is not None:
        cases = [c for s in analysis.group(budget.group) for c in s.cases]
    else:
        found = [analysis.scenario(name) for name in budget.scenarios]
        cases = [c for s in found if s is not None for c in s.cases]
    if not cases:
        return NOT_MEASURABLE, "-", "no measurement of it in the results"
    if budget.statistic in ("errors", "timeouts"):
        failed = [c for c in cases if c.candidate.status != OK]
        measured = f"{len(failed)} of {len(cases)} case(s) failed"
        return (MET if len(failed) <= budget.limit else NOT_MET), measured, "single calls"
    values = [(c, _case_value(budget.statistic, c)) for c in cases]
    unmeasured = [c.label for c, v in values if v is None]
    if unmeasured:
        return NOT_MEASURABLE, "-", f"no timings for {', '.join(unmeasured)}"
    worst_case, worst = max(values, key=lambda cv: cv[1] or 0.0)
    assert worst is not None
    measured = (
        f"worst {budget.statistic} {fmt.duration(worst)} ({worst_case.label}, "
        f"{worst_case.candidate.name}) over {len(cases)} case(s)"
    )
    basis = "single calls, one client, warm cache (the main measurement)"
    status = MET if worst < budget.limit else NOT_MET
    return status, measured, basis


def _users(count: int) -> str:
    return f"{count} user" if count == 1 else f"{count} users"


def _side_value(statistic: str, side: load_levels.SideLoad) -> float | None:
    if statistic == "p95":
        return side.p95_ms / 1e3 if side.p95_ms is not None else None
    if statistic == "max":
        return side.max_ms / 1e3 if side.max_ms is not None else None
    return float(side.timeouts if statistic == "timeouts" else side.error_count)


def _judge_endpoint(budget: Budget, results: Results) -> tuple[str, str, str]:
    run = results.load
    if run is None:
        return (
            NOT_MEASURABLE,
            "-",
            "the run has no load results (`bench load`, or `bench run` without --no-load)",
        )
    if not run.ok:
        return NOT_MEASURABLE, "FAILED", f"the load step failed: {fmt.first_line(run.error)}"
    assert budget.endpoint is not None
    levels = [
        level
        for level in load_levels.compare_all(run, 0.0)
        if level.endpoint == budget.endpoint and budget.users in (None, level.users)
    ]
    if not levels:
        at = f" at {budget.users} users" if budget.users else ""
        return NOT_MEASURABLE, "-", f"no load results for {budget.endpoint}{at} (levels run: {run.levels})"
    judged = [(level, _side_value(budget.statistic, level.candidate)) for level in levels]
    parts, over = [], []
    for level, value in judged:
        shown = (
            "-"
            if value is None
            else (fmt.duration(value) if budget.statistic in LATENCY else fmt.count(int(value)))
        )
        parts.append(f"{shown} at {_users(level.users)}")
        exceeded = value is None or (
            value >= budget.limit if budget.statistic in LATENCY else value > budget.limit
        )
        if exceeded:
            over.append(level)
    side = levels[0].candidate.side
    measured = f"{side}: " + ", ".join(parts)
    basis = f"under load: gunicorn + locust on {run.cpu_count} CPU(s) shared by server and generator"
    return (NOT_MET if over else MET), measured, basis


def judge(budget: Budget, analysis: Analysis) -> BudgetVerdict:
    results = analysis.results
    if budget.endpoint is not None:
        status, measured, why = _judge_endpoint(budget, results)
    else:
        status, measured, why = _judge_scenarios(budget, analysis)
    return BudgetVerdict(budget, status, measured, why, scale_note(budget, results))


def judge_all(budgets: tuple[Budget, ...], analysis: Analysis) -> list[BudgetVerdict]:
    return [judge(b, analysis) for b in budgets]


def context(verdicts: list[BudgetVerdict]) -> list[dict[str, str]]:
    return [
        {
            "id": v.budget.id,
            "quote": v.budget.quote,
            "source": v.budget.source,
            "about": v.budget.about,
            "limit": v.budget.limit_text,
            "measured": v.measured,
            "status": v.status,
            "why": v.why + (f"; {v.scale_note}" if v.scale_note else ""),
        }
        for v in verdicts
    ]
