"""What the indexes cost, set against what they buy: migration time, locks and write stalls, the bytes the
new indexes add, and the write slowdown, all computed from `Results.costs`.

The figures are computed here (and by the tests, with the same functions); render only lays them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.results import Costs, MigrationCost, RelationSize, WriteCost
from reports import fmt
from reports.analysis import Analysis

PLAIN = "plain"
CONCURRENT = "concurrent"
BEFORE = "before"
AFTER = "after"


@dataclass(frozen=True)
class MigrationSummary:
    migration: str
    table: str
    plain: MigrationCost | None
    concurrent: MigrationCost | None
    index_bytes_before: int
    index_bytes_after: int

    @property
    def index_bytes_added(self) -> int:
        return self.index_bytes_after - self.index_bytes_before


@dataclass(frozen=True)
class WriteSlowdown:
    table: str
    method: str
    before: WriteCost
    after: WriteCost

    @property
    def throughput_ratio(self) -> float:
        """after rows/s over before rows/s: below 1 means the indexes slowed inserts down."""
        return self.after.rows_per_s / self.before.rows_per_s

    @property
    def wal_ratio(self) -> float | None:
        before = self.before.wal_bytes_per_row
        return self.after.wal_bytes_per_row / before if before > 0 else None


@dataclass(frozen=True)
class IndexSize:
    table: str
    relation: str
    before: int | None  # None: the index did not exist before the migration
    after: int | None  # None: the migration dropped it


def index_bytes(sizes: tuple[RelationSize, ...], table: str) -> int:
    return sum(s.bytes for s in sizes if s.table == table and s.kind == "index")


def migrations(costs: Costs) -> list[MigrationSummary]:
    """One summary per migration, plain and concurrent variants side by side, in measured order."""
    names = list(dict.fromkeys((m.migration, m.table) for m in costs.migrations))

    def variant(name: str, kind: str) -> MigrationCost | None:
        return next((m for m in costs.migrations if (m.migration, m.variant) == (name, kind)), None)

    return [
        MigrationSummary(
            migration=name,
            table=table,
            plain=variant(name, PLAIN),
            concurrent=variant(name, CONCURRENT),
            index_bytes_before=index_bytes(costs.sizes_before, table),
            index_bytes_after=index_bytes(costs.sizes_after, table),
        )
        for name, table in names
    ]


def write_slowdowns(costs: Costs) -> list[WriteSlowdown]:
    """Each (table, method) measured in both states; a method measured in one state only is left out."""
    found = {(w.table, w.method, w.state): w for w in costs.writes}
    keys = dict.fromkeys((w.table, w.method) for w in costs.writes)
    return [
        WriteSlowdown(table, method, found[(table, method, BEFORE)], found[(table, method, AFTER)])
        for table, method in keys
        # A zero-length timing or an empty batch has no rate to compare.
        if all(
            (w := found.get((table, method, state))) is not None and w.seconds > 0 and w.rows > 0
            for state in (BEFORE, AFTER)
        )
    ]


def index_sizes(costs: Costs) -> list[IndexSize]:
    """Every index in either state, by table then name."""
    before = {(s.table, s.relation): s.bytes for s in costs.sizes_before if s.kind == "index"}
    after = {(s.table, s.relation): s.bytes for s in costs.sizes_after if s.kind == "index"}
    return [
        IndexSize(table, relation, before.get((table, relation)), after.get((table, relation)))
        for table, relation in sorted(before.keys() | after.keys())
    ]


def group_of(analysis: Analysis, table: str) -> str | None:
    """The scenario group that reads this table: "tracking" for tracking, "journal" for journal_*."""
    groups = dict.fromkeys(s.info.group for s in analysis.scenarios)
    return next((g for g in groups if table == g or table.startswith(f"{g}_")), None)


def read_speedup(analysis: Analysis, table: str) -> str:
    """The read side of the trade-off for the scenarios on this table, in the report's own terms."""
    group = group_of(analysis, table)
    cases = [c for s in analysis.group(group) for c in s.cases] if group else []
    compared = [c.comparison for c in cases if c.comparison is not None]
    if not compared:
        return "no read measurements of this table"
    faster = sorted(c.ratio for c in compared if c.significant and c.ratio > 1)
    slower = [c for c in compared if c.significant and c.ratio < 1]
    text = f"{len(faster)} of {len(compared)} `{group}` cases significantly faster"
    if faster:
        low, high = fmt.ratio(faster[0]), fmt.ratio(faster[-1])
        text += f" ({low})" if low == high else f" ({low} to {high})"
    if slower:
        text += f", {len(slower)} slower"
    return text


def signed_size(num_bytes: int) -> str:
    return ("+" if num_bytes >= 0 else "-") + fmt.size(abs(num_bytes))


def _variant(cost: MigrationCost | None) -> str:
    if cost is None:
        return "not measured"
    return (
        f"{fmt.duration(cost.seconds)} under {cost.lock}, longest write stall "
        f"{fmt.duration(cost.max_write_stall_s)}"
    )


def _invalid(summary: MigrationSummary) -> str:
    names = [n for m in (summary.plain, summary.concurrent) if m for n in m.invalid_indexes]
    return ", ".join(names) or "none"


def writes_line(slowdown: WriteSlowdown) -> str:
    b, a = slowdown.before, slowdown.after
    wal = fmt.factor(slowdown.wal_ratio) if slowdown.wal_ratio is not None else "no WAL before"
    rates = f"{fmt.rate(b.rows_per_s)} -> {fmt.rate(a.rows_per_s)} rows/s"
    return (
        f"{slowdown.method} into {slowdown.table}: {rates} "
        f"({fmt.ratio(slowdown.throughput_ratio)}), WAL per row {fmt.size(b.wal_bytes_per_row)} -> "
        f"{fmt.size(a.wal_bytes_per_row)} ({wal})"
    )


def summary_context(analysis: Analysis) -> list[dict[str, Any]]:
    """The executive summary's "What it costs" block: one entry per migration."""
    costs = analysis.results.costs
    if costs is None:
        return []
    slowdowns = write_slowdowns(costs)
    return [
        {
            "migration": m.migration,
            "table": m.table,
            "plain": _variant(m.plain),
            "concurrent": _variant(m.concurrent),
            "added": signed_size(m.index_bytes_added),
            "index_before": fmt.size(m.index_bytes_before),
            "index_after": fmt.size(m.index_bytes_after),
            "invalid": _invalid(m),
            "reads": read_speedup(analysis, m.table),
            "writes": [writes_line(w) for w in slowdowns if w.table == m.table],
        }
        for m in migrations(costs)
    ]


def detail_context(costs: Costs | None) -> dict[str, Any] | None:
    """The "Cost of the migration" section's tables."""
    if costs is None:
        return None
    table_sizes = {
        (s.table, when): fmt.size(s.bytes)
        for when, sizes in ((BEFORE, costs.sizes_before), (AFTER, costs.sizes_after))
        for s in sizes
        if s.kind == "table"
    }
    tables = sorted({t for t, _ in table_sizes})
    sizes = [
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
    return {
        "database": costs.database,
        "migrations": [
            {
                "migration": m.migration,
                "variant": m.variant,
                "table": m.table,
                "lock": m.lock,
                "seconds": fmt.duration(m.seconds),
                "stall": fmt.duration(m.max_write_stall_s),
                "writes": fmt.count(m.writes_during),
                "invalid": ", ".join(m.invalid_indexes) or "none",
            }
            for m in costs.migrations
        ],
        "sizes": sizes,
        "writes": [
            {
                "state": w.state,
                "table": w.table,
                "method": w.method,
                "rows": fmt.count(w.rows),
                "rate": fmt.rate(w.rows_per_s),
                "wal": fmt.size(w.wal_bytes_per_row),
            }
            for w in costs.writes
        ],
    }
