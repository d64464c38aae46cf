"""What the indexes cost, set against what they buy: migration time, locks and write stalls, the bytes the
new indexes add, and the write slowdown, all computed from `Results.costs`.

The figures are computed here (and by the tests, with the same functions); render only lays them out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from django_index_bench.bench.results import (
    INDEX_STATEMENTS,
    REINSERTED,
    Costs,
    MigrationCost,
    RelationSize,
    WriteCost,
)
from django_index_bench.reports import fmt, order_stats
from django_index_bench.reports import method as methods
from django_index_bench.reports.analysis import Analysis
from django_index_bench.verdicts import defaults, stats, words
from django_index_bench.verdicts.defaults import DEFAULT_ALPHA, DEFAULT_THRESHOLD

PLAIN = "plain"
CONCURRENT = "concurrent"
BEFORE = "before"
AFTER = "after"
FORWARD = "forward"
BACKWARD = "backward"


WRITERS = "ROW EXCLUSIVE"  # the lock every insert holds
# The locks that conflict with it (PostgreSQL's table-level lock conflict matrix): a migration holding one
# of these makes every writer wait.
BLOCKS_WRITERS = frozenset({"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"})


@dataclass(frozen=True)
class Repeated:
    """One migration figure over its few repetitions: the median, its order-statistic interval with
    the confidence it really has (reports/order_stats.py), and the range."""

    n: int
    median: float
    minimum: float
    maximum: float
    interval: order_stats.MedianInterval | None


def repeated(values: Sequence[float]) -> Repeated:
    return Repeated(
        n=len(values),
        median=float(np.median(values)),
        minimum=min(values),
        maximum=max(values),
        interval=order_stats.median_interval(values),
    )


@dataclass(frozen=True)
class MigrationRuns:
    """Every repetition of one variant of one migration in one direction."""

    migration: str
    variant: str
    direction: str
    table: str
    lock: str
    runs: tuple[MigrationCost, ...]

    @property
    def blocks_writers(self) -> bool:
        return self.lock in BLOCKS_WRITERS

    def summary(self, value: Callable[[MigrationCost], float | None]) -> Repeated | None:
        """Median, interval and range of one figure over the repetitions; None when it was not recorded."""
        values = [v for v in map(value, self.runs) if v is not None]
        return repeated(values) if values else None

    @property
    def invalid(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for m in self.runs for n in m.invalid_indexes))


@dataclass(frozen=True)
class MigrationSummary:
    migration: str
    table: str
    variants: tuple[MigrationRuns, ...]  # plain forward, plain backward, concurrent forward, ... as measured
    index_bytes_before: int
    index_bytes_after: int

    @property
    def index_bytes_added(self) -> int:
        return self.index_bytes_after - self.index_bytes_before

    def runs(self, variant: str, direction: str = FORWARD) -> MigrationRuns | None:
        return next((v for v in self.variants if (v.variant, v.direction) == (variant, direction)), None)

    @property
    def plain(self) -> MigrationRuns | None:
        return self.runs(PLAIN)

    @property
    def concurrent(self) -> MigrationRuns | None:
        return self.runs(CONCURRENT)


@dataclass(frozen=True)
class WriteFigure:
    """One table and insert method, before against after, pair by pair.

    `time` compares seconds per row (ratio above 1: after is faster, below 1: slower); `wal` compares WAL
    bytes per row the same way (ratio below 1: after writes more). Both with bench.stats' paired rules.
    """

    table: str
    method: str
    before: tuple[WriteCost, ...]  # in pair order, matched with after
    after: tuple[WriteCost, ...]
    time: stats.Comparison
    wal: stats.Comparison | None  # None when a repetition logged no WAL

    @property
    def rows(self) -> int:
        return self.before[0].rows

    @property
    def pairs(self) -> int:
        return len(self.before)

    @property
    def rate_before(self) -> float:
        return 1.0 / self.time.baseline.median

    @property
    def rate_after(self) -> float:
        return 1.0 / self.time.candidate.median


@dataclass(frozen=True)
class IndexSize:
    table: str
    relation: str
    before: int | None  # None: the index did not exist before the migration
    after: int | None  # None: the migration dropped it


def index_bytes(sizes: tuple[RelationSize, ...], table: str) -> int:
    return sum(s.bytes for s in sizes if s.table == table and s.kind == "index")


def migrations(costs: Costs) -> list[MigrationSummary]:
    """One summary per migration, its variants and directions in measured order."""
    names = list(dict.fromkeys((m.migration, m.table) for m in costs.migrations))
    summaries = []
    for name, table in names:
        runs = [m for m in costs.migrations if m.migration == name]
        keys = dict.fromkeys((m.variant, m.direction) for m in runs)
        variants = tuple(
            MigrationRuns(
                migration=name,
                variant=variant,
                direction=direction,
                table=table,
                lock=next(m.lock for m in runs if (m.variant, m.direction) == (variant, direction)),
                runs=tuple(m for m in runs if (m.variant, m.direction) == (variant, direction)),
            )
            for variant, direction in keys
        )
        summaries.append(
            MigrationSummary(
                migration=name,
                table=table,
                variants=variants,
                index_bytes_before=index_bytes(costs.sizes_before, table),
                index_bytes_after=index_bytes(costs.sizes_after, table),
            )
        )
    return summaries


def write_figures(costs: Costs, *, alpha: float, threshold: float) -> list[WriteFigure]:
    """Each (table, method) with repetitions in both states, matched by pair; a figure with no usable
    pair (measured in one state only, in no time or with no rows) is left out."""
    figures = []
    for table, method in dict.fromkeys((w.table, w.method) for w in costs.writes):
        sides = {
            state: {w.pair: w for w in costs.writes if (w.table, w.method, w.state) == (table, method, state)}
            for state in (BEFORE, AFTER)
        }
        common = sorted(
            p for p in sides[BEFORE].keys() & sides[AFTER].keys()
            if all(s[p].seconds > 0 and s[p].rows > 0 for s in sides.values())
        )  # fmt: skip
        if not common:
            continue
        before = tuple(sides[BEFORE][p] for p in common)
        after = tuple(sides[AFTER][p] for p in common)
        has_wal = all(w.wal_bytes > 0 for w in (*before, *after))
        time = _paired(before, after, lambda w: w.seconds_per_row, alpha, threshold)
        wal = _paired(before, after, lambda w: w.wal_bytes_per_row, alpha, threshold) if has_wal else None
        figures.append(WriteFigure(table, method, before, after, time, wal))
    return figures


def _paired(
    before: Sequence[WriteCost],
    after: Sequence[WriteCost],
    value: Callable[[WriteCost], float],
    alpha: float,
    threshold: float,
) -> stats.Comparison:
    """bench.stats' paired comparison, the read timings' rules: before is the baseline."""
    return stats.compare_paired(
        [value(w) for w in before], [value(w) for w in after], alpha=alpha, threshold=threshold
    )


def write_slowdowns(costs: Costs) -> list[WriteFigure]:
    """The write figures with the report's default rules."""
    return write_figures(costs, alpha=DEFAULT_ALPHA, threshold=DEFAULT_THRESHOLD)


def index_sizes(costs: Costs) -> list[IndexSize]:
    """Every index in either state, by table then name."""
    before = {(s.table, s.relation): s.bytes for s in costs.sizes_before if s.kind == "index"}
    after = {(s.table, s.relation): s.bytes for s in costs.sizes_after if s.kind == "index"}
    return [
        IndexSize(table, relation, before.get((table, relation)), after.get((table, relation)))
        for table, relation in sorted(before.keys() | after.keys())
    ]


def read_speedup(analysis: Analysis, table: str) -> str:
    """The read side of the trade-off for the cases whose SQL reads this table, in the report's terms."""
    compared = [c.comparison for c in analysis.reading(table) if c.comparison is not None]
    if not compared:
        return "no read measurements of this table"
    faster = sorted(c.ratio for c in compared if c.significant and c.ratio > 1)
    slower = [c for c in compared if c.significant and c.ratio < 1]
    text = f"{len(faster)} of {len(compared)} cases reading `{table}` significantly faster"
    if faster:
        low, high = fmt.ratio(faster[0]), fmt.ratio(faster[-1])
        text += f" ({low})" if low == high else f" ({low} to {high})"
    if slower:
        text += f", {len(slower)} slower"
    return text


def signed_size(num_bytes: int) -> str:
    return ("+" if num_bytes >= 0 else "-") + fmt.size(abs(num_bytes))


def spread_text(summary: stats.Summary | None, unit: Callable[[float], str] = fmt.duration) -> str:
    """Median [CI of the median] (min to max): "1.25 s [1.20 s, 1.31 s] (1.19 s to 1.33 s)"."""
    if summary is None:
        return "not recorded"
    if summary.n == 1:
        return f"{unit(summary.median)} (one measurement)"
    ci = f" [{unit(summary.median_ci[0])}, {unit(summary.median_ci[1])}]" if summary.median_ci else ""
    return f"{unit(summary.median)}{ci} ({unit(summary.minimum)} to {unit(summary.maximum)})"


def repeated_text(figure: Repeated | None, unit: Callable[[float], str] = fmt.duration) -> str:
    """Median [interval, its exact confidence] (min to max): "1.25 s [1.19 s, 1.33 s: 75 %] (1.19 s to
    1.33 s)". The confidence is the interval's own, never a nominal 95 % it does not have."""
    if figure is None:
        return "not recorded"
    if figure.n == 1 or figure.interval is None:
        return f"{unit(figure.median)} (one measurement)"
    found = figure.interval
    ci = f" [{unit(found.low)}, {unit(found.high)}: {fmt.percent(found.confidence, 0)}]"
    return f"{unit(figure.median)}{ci} ({unit(figure.minimum)} to {unit(figure.maximum)})"


def _lock_held(runs: MigrationRuns) -> Repeated | None:
    return runs.summary(lambda m: m.lock_held_s)


def _variant(runs: MigrationRuns | None) -> str:
    """One variant in one direction, in a sentence: its time, lock, how long writers waited."""
    if runs is None:
        return "not measured"
    took = repeated_text(runs.summary(lambda m: m.seconds))
    held = _lock_held(runs)
    blocks = "blocks writers" if runs.blocks_writers else "writers go on"
    lock = f"{runs.lock} ({blocks}" + (f", held {fmt.duration(held.median)})" if held else ")")
    stall = repeated_text(runs.summary(lambda m: m.max_write_stall_s))
    p99 = runs.summary(lambda m: m.stall_p99_s)
    gaps = f" (p99 of the writer's gaps {fmt.duration(p99.median)})" if p99 else ""
    return f"{took} under {lock}, longest write stall {stall}{gaps}; n = {len(runs.runs)}"


def _invalid(summary: MigrationSummary) -> str:
    return ", ".join(n for v in summary.variants for n in v.invalid) or "none"


def _inverted(value: float, interval: tuple[float, float] | None, form: Callable[[float], str]) -> str:
    """1 / value with its interval, which inverting turns around: "x [1/high, 1/low]"."""
    text = form(1.0 / value)
    if interval is None:
        return text
    low, high = interval
    return f"{text} [{form(1.0 / high)}, {form(1.0 / low)}]"


def _wal_factor(comparison: stats.Comparison) -> str:
    """WAL per row after / before, with its interval: "1.88x [1.80x, 1.95x]"."""
    return _inverted(comparison.ratio, comparison.ratio_ci, fmt.factor)


WAL_WORDS = {words.FASTER: "less WAL", words.SLOWER: "more WAL"}


def verdict_text(comparison: stats.Comparison, change: str, words: dict[str, str] | None = None) -> str:
    """The verdict first, the estimate after it: "slower: 7.00x slower [...], p = 0.031", or "no
    significant change (1.11x faster [...], p = 0.44)", so noise never reads as a finding."""
    verdict = (words or {}).get(comparison.verdict, comparison.verdict)
    detail = f"{change}, {fmt.p_is(comparison.p_value)}" if comparison.p_value is not None else change
    if comparison.significant:
        return f"**{verdict}**: {detail}"
    return f"{verdict} ({detail})"


def writes_line(figure: WriteFigure) -> str:
    rates = f"{fmt.rate(figure.rate_before)} -> {fmt.rate(figure.rate_after)} rows/s"
    verdict = verdict_text(figure.time, fmt.change_ci(figure.time))
    text = f"{figure.method} into `{figure.table}`: {rates}, {verdict}"
    if figure.wal is not None:
        wal = figure.wal
        sizes = f"{fmt.size(wal.baseline.median)} -> {fmt.size(wal.candidate.median)}"
        text += f"; WAL per row {sizes}, {verdict_text(wal, _wal_factor(wal), WAL_WORDS)}"
    return text + f"; {figure.pairs} pair" + ("" if figure.pairs == 1 else "s")


def figures_of(analysis: Analysis) -> list[WriteFigure]:
    costs = analysis.results.costs
    if costs is None or not costs.ok:
        return []
    return write_figures(costs, alpha=analysis.alpha, threshold=analysis.threshold)


def concurrent_form(migration: str) -> str:
    """What the concurrent variant of this change is, in the words the summary uses."""
    if migration.startswith(INDEX_STATEMENTS):
        return "`CREATE INDEX CONCURRENTLY` / `DROP INDEX CONCURRENTLY`"
    return "`AddIndexConcurrently` / `RemoveIndexConcurrently`"


def summary_context(analysis: Analysis) -> list[dict[str, Any]]:
    """The executive summary's "What it costs" block: one entry per migration; none when the cost step
    failed (detail_context carries its error, which the block shows instead)."""
    costs = analysis.results.costs
    if costs is None or not costs.ok:
        return []
    figures = figures_of(analysis)
    return [
        {
            "migration": m.migration,
            "table": m.table,
            "plain": _variant(m.plain),
            "rollback": _variant(m.runs(PLAIN, BACKWARD)),
            "concurrent": _variant(m.concurrent),
            "concurrent_form": concurrent_form(m.migration),
            "concurrent_rollback": _variant(m.runs(CONCURRENT, BACKWARD)),
            "added": signed_size(m.index_bytes_added),
            "index_before": fmt.size(m.index_bytes_before),
            "index_after": fmt.size(m.index_bytes_after),
            "invalid": _invalid(m),
            "reads": read_speedup(analysis, m.table),
            "writes": [writes_line(w) for w in figures if w.table == m.table],
        }
        for m in migrations(costs)
    ]


def _sizes(costs: Costs) -> list[dict[str, str]]:
    table_sizes = {
        (s.table, when): fmt.size(s.bytes)
        for when, sizes in ((BEFORE, costs.sizes_before), (AFTER, costs.sizes_after))
        for s in sizes
        if s.kind == "table"
    }
    tables = sorted({t for t, _ in table_sizes})
    return [
        {
            "table": t,
            "relation": t,
            "kind": "table",
            "before": table_sizes.get((t, BEFORE), "absent"),
            "after": table_sizes.get((t, AFTER), "absent"),
        }
        for t in tables
    ] + [
        {
            "table": i.table,
            "relation": i.relation,
            "kind": "index",
            "before": "absent" if i.before is None else fmt.size(i.before),
            "after": "dropped" if i.after is None else fmt.size(i.after),
        }
        for i in index_sizes(costs)
    ]


def _migration_row(runs: MigrationRuns) -> dict[str, str]:
    writes = runs.summary(lambda m: float(m.writes_during))
    return {
        "migration": runs.migration,
        "variant": runs.variant,
        "direction": runs.direction,
        "table": runs.table,
        "lock": runs.lock,
        "blocks": "yes" if runs.blocks_writers else "no",
        "n": str(len(runs.runs)),
        "seconds": repeated_text(runs.summary(lambda m: m.seconds)),
        "held": repeated_text(_lock_held(runs)),
        "stall": repeated_text(runs.summary(lambda m: m.max_write_stall_s)),
        "p50": repeated_text(runs.summary(lambda m: m.stall_p50_s)),
        "p99": repeated_text(runs.summary(lambda m: m.stall_p99_s)),
        "writes": fmt.count(round(writes.median)) if writes else "-",
        "invalid": ", ".join(runs.invalid) or "none",
    }


def _rate(summary: stats.Summary) -> str:
    """Rows per second from a seconds-per-row summary: the median and its interval, inverted."""
    return _inverted(summary.median, summary.median_ci, fmt.rate)


def _bytes(summary: stats.Summary) -> str:
    return spread_text(summary, fmt.size).split(" (", 1)[0]


def _write_row(figure: WriteFigure) -> dict[str, str]:
    time, wal = figure.time, figure.wal
    return {
        "table": figure.table,
        "method": figure.method,
        "rows": fmt.count(figure.rows),
        "pairs": str(figure.pairs),
        "before": _rate(time.baseline),
        "after": _rate(time.candidate),
        "change": fmt.change_ci(time),
        "p": fmt.p_value(time.p_value),
        "verdict": time.verdict,
        "wal_before": _bytes(wal.baseline) if wal else "-",
        "wal_after": _bytes(wal.candidate) if wal else "-",
        "wal_change": _wal_factor(wal) if wal else "-",
        "wal_p": fmt.p_value(wal.p_value) if wal else "-",
        "wal_verdict": WAL_WORDS.get(wal.verdict, wal.verdict) if wal else "no WAL recorded",
    }


def _ordinal(k: int) -> str:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th") if k % 100 not in (11, 12, 13) else "th"
    return f"{k}{suffix}"


def interval_note(repetitions: list[int]) -> str:
    """What a migration figure's interval is, in the run's own numbers: "3 repetitions: min to max,
    which holds the median 75.0 % of the time; 6 would reach 95 %"."""
    notes = []
    for n in repetitions:
        if n < 2:
            notes.append(f"{n} repetition: no interval")
            continue
        k = order_stats.rank(n)
        confidence = order_stats.coverage(n, k)
        which = "min to max" if k == 1 else f"the {_ordinal(k)} smallest to the {_ordinal(k)} largest"
        note = f"{n} repetitions: {which}, which holds the median {fmt.percent(confidence, 1)} of the time"
        if confidence < defaults.CONFIDENCE:
            needed = order_stats.repetitions_for(defaults.CONFIDENCE)
            note += f"; {needed} would reach {fmt.percent(defaults.CONFIDENCE, 0)}"
        notes.append(note)
    return "; ".join(notes) or "no repetitions"


def detail_context(analysis: Analysis) -> dict[str, Any] | None:
    """The "Cost of the migration" section's tables; when the cost step failed, only its error: no
    table, which would read like "no cost"."""
    costs = analysis.results.costs
    if costs is None:
        return None
    if not costs.ok:
        return {"error": costs.error, "database": costs.database}
    figures = figures_of(analysis)
    pairs = sorted({f.pairs for f in figures})
    repetitions = sorted({len(v.runs) for m in migrations(costs) for v in m.variants})
    return {
        "error": None,
        "failures": [{"figure": f.figure, "error": f.error} for f in costs.failures],
        "database": costs.database,
        "databases": ", ".join(f"`{name}` ({state})" for state, name in costs.databases.items()),
        "single": costs.order == "single",
        "pairs": "/".join(map(str, pairs)) or "0",
        "repetitions": "/".join(map(str, repetitions)) or "0",
        "threshold": fmt.percent(analysis.threshold, 0),
        "confidence": fmt.percent(defaults.CONFIDENCE, 0),
        "interval": interval_note(repetitions),
        "test": "; ".join(sorted({methods.test_name(f.time.method) for f in figures})) or "none",
        "alpha": str(analysis.alpha),
        "migrations": [_migration_row(v) for m in migrations(costs) for v in m.variants],
        "sizes": _sizes(costs),
        "writes": [_write_row(f) for f in figures],
        "reinserted": ", ".join(
            f"`{t}`" for t in sorted({w.table for w in costs.writes if w.method.endswith(REINSERTED)})
        ),
    }
