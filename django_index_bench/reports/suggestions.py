"""SUGGESTIONS.md: `bench suggest`'s ranking, plans before and after, dropped and unmeasured candidates
and unused indexes, rendered from the suggestions file alone (no database)."""

from __future__ import annotations

from collections.abc import Iterable

from django_index_bench.bench.results import Dataset
from django_index_bench.bench.suggest import rank
from django_index_bench.bench.suggest.results import Candidate, Suggestions, Trial
from django_index_bench.reports import fmt
from django_index_bench.reports.fmt import cell
from django_index_bench.verdicts import stats


def _row(values: Iterable[object]) -> str:
    return "| " + " | ".join(cell(v) for v in values) + " |"


def _table(header: list[str], rows: Iterable[Iterable[object]]) -> list[str]:
    return [_row(header), _row("---" for _ in header), *(_row(r) for r in rows)]


def _indexes(trial: Trial, by_name: dict[str, Candidate]) -> str:
    return " + ".join(f"`{by_name[n].sql}`" if n in by_name else n for n in trial.indexes)


def _reads(ranked: rank.Ranked) -> str:
    by_scenario: dict[str, list[str]] = {}
    for c in ranked.cases:
        same = "" if c.plan_changed else " (same plan: not the index's doing)"
        by_scenario.setdefault(c.scenario, []).append(
            f"{c.case} {fmt.verdict_part('e2e', c.end_to_end)}, {fmt.verdict_part('db', c.database)}{same}"
        )
    return "; ".join(f"{s}: " + ", ".join(v) for s, v in by_scenario.items()) or "-"


def _writes(ranked: rank.Ranked) -> str:
    parts = [
        f"{w.table}: inserts {fmt.verdict_part('', w.slowdown).strip()}, WAL/row {fmt.factor(w.wal_factor)}"
        for w in ranked.writes
    ]
    return "; ".join(parts) or "-"


def _ranking(found: Suggestions, ranked: list[rank.Ranked], by_name: dict[str, Candidate]) -> list[str]:
    measured = _measured(ranked)
    if not measured:
        return ["No candidate was measured."]
    rows = [
        (
            n, _indexes(r.trial, by_name), r.verdict, _reads(r), _writes(r),
            fmt.duration(r.benefit_s), fmt.duration(r.cost_s), fmt.size(r.index_bytes),
            fmt.duration(r.build_s), f"{r.lock or '-'} for {fmt.duration(r.lock_held_s)}",
            fmt.duration(r.max_stall_s),
        )
        for n, r in enumerate(measured, start=1)
    ]  # fmt: skip
    header = [
        "#", "index", "verdict", "reads, paired (end to end, database time)", "single-row inserts, paired",
        "saved per unit", "added to writes per unit", "index size", "CREATE INDEX CONCURRENTLY",
        "plain CREATE INDEX lock", "longest writer stall (concurrent build)",
    ]  # fmt: skip
    unit = _unit(found)
    return [f"A unit of work is {unit}.", "", *_table(header, rows)]


def _unit(found: Suggestions) -> str:
    calls = ", ".join(f"{found.weights.get(s, 1.0):g} call(s) of {s}" for s in _scenarios(found))
    written = (
        ", ".join(f"{n:g} row(s) inserted into {t}" for t, n in found.writes.items())
        or "one row inserted into each table an index is added to"
    )
    return f"{calls}; {written}"


def _scenarios(found: Suggestions) -> list[str]:
    timed = (m.scenario for t in found.trials for m in t.measurements)
    return list(dict.fromkeys([*(m.scenario for m in found.captured), *timed]))


def _change(comparison: stats.Comparison) -> str:
    """A paired change, its interval and the test's word: "8.10x faster [7.90x to 8.30x faster], faster"."""
    interval = fmt.ratio_ci(comparison.ratio_ci)
    return f"{fmt.ratio(comparison.ratio)} [{interval}], {comparison.verdict}"


def _speedups(ranked: list[rank.Ranked]) -> list[str]:
    """Every measured case of every trial: the change the candidate made, end to end and in database
    time, with its interval (its level is Bonferroni-corrected over the trial's cases)."""
    rows = [
        (
            n, r.trial.label, f"{c.scenario}[{c.case}]",
            "yes" if c.plan_changed else "no (not the index's doing)", _change(c.end_to_end),
            _change(c.database), f"{c.end_to_end.confidence * 100:.3g} %", fmt.duration(c.saved_s),
        )
        for n, r in enumerate(_measured(ranked), start=1)
        for c in r.cases
    ]  # fmt: skip
    if not rows:
        return ["No case was timed with and without a candidate."]
    header = [
        "#", "candidate", "case", "plan changed", "end to end: without / with [CI], verdict",
        "database time: without / with [CI], verdict", "CI level", "saved per call",
    ]  # fmt: skip
    return [
        "Each case paired and interleaved against the copy without the candidate; # is the ranking's.",
        "",
        *_table(header, rows),
    ]


def _measured(ranked: list[rank.Ranked]) -> list[rank.Ranked]:
    return [r for r in ranked if r.trial.status == "measured"]


def _plans(ranked: list[rank.Ranked], by_name: dict[str, Candidate], level: int) -> list[str]:
    lines: list[str] = []
    for r in _measured(ranked):
        lines += ["", f"{'#' * level} {r.trial.label}: {r.verdict}", ""]
        lines += [f"Why: {by_name[n].why}." for n in r.trial.indexes if n in by_name]
        sides = {(m.scenario, m.case, m.side): m for m in r.trial.measurements}
        rows = []
        for (scenario, case, side), m in sides.items():
            if side != "before":
                continue
            after = sides.get((scenario, case, "after"))
            shape_before = " ; ".join(p.shape for p in m.plans) or "-"
            shape_after = " ; ".join(p.shape for p in after.plans) if after else "-"
            rows.append((f"{scenario}[{case}]", shape_before, shape_after))
        lines += ["", *_table(["case", "plan without", "plan with"], rows)]
    return lines


def _not_measured(found: Suggestions) -> list[str]:
    left = [t for t in found.trials if t.status != "measured"]
    if not left:
        return ["Every candidate left after pruning was measured."]
    return _table(["candidate", "status", "why"], ((t.label, t.status.upper(), t.reason or "") for t in left))


def _dropped(found: Suggestions, by_name: dict[str, Candidate]) -> list[str]:
    if not found.dropped:
        return ["None: no existing index already serves a candidate."]
    return _table(
        ["candidate", "dropped as", "because of"],
        ((f"`{by_name[d.candidate].sql}`", d.reason, d.because) for d in found.dropped),
    )


def _unused(found: Suggestions) -> list[str]:
    tables = {c.table for c in found.candidates} | {
        t for m in found.captured for p in m.plans for t in _tables_in(p.shape)
    }
    unused = [i for i in found.existing if not i.used_by and i.table in tables]
    if not unused:
        return ["Every index on the scenarios' tables is used by at least one of their plans."]
    rows = (
        (
            i.name,
            i.table,
            "primary key" if i.primary else "unique constraint" if i.unique else "-",
            i.definition,
        )
        for i in unused
    )
    return [
        "Indexes on the scenarios' tables that no scenario's plan uses (one backing a constraint still "
        "enforces it):",
        "",
        *_table(["index", "table", "enforces", "definition"], rows),
    ]


def _tables_in(shape: str) -> list[str]:
    words = shape.replace("(", " ").replace(")", " ").replace(",", " ").split()
    return [words[i + 1] for i, w in enumerate(words[:-1]) if w == "on"]


def _body(found: Suggestions, level: int) -> list[str]:
    """Everything but the title and the introduction, its headings at `level` (2 in SUGGESTIONS.md, 3 in
    bench report's section)."""
    ranked = rank.ranking(found.trials, found.weights, found.writes)
    by_name = {c.name: c for c in found.candidates}
    h = "#" * level
    lines = [
        f"HypoPG: {found.hypopg}.",
        "",
        f"{h} Ranking",
        "",
        *_ranking(found, ranked, by_name),
        "",
        f"{h} Measured speedups",
        "",
        *_speedups(ranked),
        "",
        f"{h} Not measured or failed",
        "",
        *_not_measured(found),
        "",
        f"{h} Redundant and pruned candidates",
        "",
        *_dropped(found, by_name),
        "",
        f"{h} Existing indexes no scenario uses",
        "",
        *_unused(found),
        "",
        f"{h} Plans without and with each candidate",
        *_plans(ranked, by_name, level + 1),
        "",
        f"{h} Migration",
        "",
        f"Written to `{found.migration}`: the best recommended candidate." if found.migration else
        "None written (give --migration FILE; it is written only when a candidate is recommended).",
    ]  # fmt: skip
    if found.errors:
        lines += ["", f"{h} Errors", "", *(f"- FAILED: {e}" for e in found.errors)]
    return lines


def _measured_how(found: Suggestions) -> str:
    state = ", ".join(f"{app} {migration}" for app, migration in found.targets.items()) or "latest migrations"
    return (
        f"`{found.command}`, {found.started_at} to {found.finished_at}: state `{found.state}` ({state}), "
        f"data profile {found.dataset.profile}, budget {found.budget_s:g} s. Each candidate was built on a "
        "copy of the seeded data and every scenario measured paired against a copy without it; nothing "
        "was applied to your database."
    )


def render(found: Suggestions) -> str:
    lines = ["# Index suggestions, measured", "", _measured_how(found), "", *_body(found, 2)]
    return "\n".join(lines) + "\n"


def section(found: Suggestions, source: str, run: Dataset) -> str:
    """`bench report`'s section: the same content as SUGGESTIONS.md, one heading level down, saying which
    suggestions file it comes from and whether that search ran on this run's data."""
    if found.dataset.fingerprint == run.fingerprint:
        data = "on the same data as this run (same fingerprint)."
    else:
        data = (
            f"on other data than this run (profile {found.dataset.profile}, fingerprint "
            f"`{found.dataset.fingerprint}`; this run: profile {run.profile}, `{run.fingerprint}`): its "
            "figures are not this run's."
        )
    lines = [
        "## Index suggestions (`bench suggest`)",
        "",
        f"From `{source}`, measured {data}",
        "",
        _measured_how(found),
        "",
        *_body(found, 3),
    ]
    return "\n".join(lines) + "\n"
