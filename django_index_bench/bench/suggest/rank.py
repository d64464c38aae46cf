"""Candidates ranked by measured benefit against measured cost, from the suggestions file alone (the
report calls these too, so what it shows is what the ranking used).

Benefit: the time each scenario saves per call (end to end when that change is significant by `bench
run`'s paired rules, else database time when that one is, else none), weighted by how often the scenario
runs. Cost: the time every insert into the table pays more (single-row ORM creates, paired), when that
slowdown is significant, weighted by how many rows are inserted per unit of work; then the smaller index
breaks ties. Without weights,
every scenario runs once and one row goes into each affected table per unit of work.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from django_index_bench.bench.results import Costs, Measurement, MigrationCost, Timing, WriteCost, pairs
from django_index_bench.bench.suggest.results import Trial
from django_index_bench.verdicts import stats, words
from django_index_bench.verdicts.defaults import DEFAULT_ALPHA, DEFAULT_THRESHOLD
from django_index_bench.verdicts.stats import Comparison

Verdict = Literal[
    "recommended",
    "no read benefit",
    "makes reads slower",
    "write cost outweighs read benefit",
    "failed",
    "not measured",
]
ORDER: tuple[Verdict, ...] = (
    "recommended",
    "write cost outweighs read benefit",
    "no read benefit",
    "makes reads slower",
    "failed",
    "not measured",
)


@dataclass(frozen=True)
class CaseEffect:
    scenario: str
    case: str
    end_to_end: Comparison
    database: Comparison
    saved_s: float  # seconds saved per call (_saved); 0 when the plan did not change
    # The plans with the index differ from those without it. Only then is a timing the index's doing:
    # with the same plans it cannot change what the query does, and a difference is the copies' or the
    # machine's, so such a case neither helps, hurts nor saves anything.
    plan_changed: bool


@dataclass(frozen=True)
class WriteEffect:
    table: str
    slowdown: Comparison  # insert seconds per row, paired: ratio < 1 means inserts got slower
    extra_s_per_row: float
    wal_factor: float  # WAL bytes per row with / without


@dataclass(frozen=True)
class Ranked:
    trial: Trial
    verdict: Verdict
    cases: tuple[CaseEffect, ...]
    writes: tuple[WriteEffect, ...]
    benefit_s: float  # weighted seconds saved per unit of work
    cost_s: float  # weighted seconds added to writes per unit of work
    index_bytes: int
    build_s: float | None  # CREATE INDEX CONCURRENTLY, forward
    lock: str  # what a plain CREATE INDEX takes
    lock_held_s: float | None
    max_stall_s: float | None  # the longest gap a writer saw during CREATE INDEX CONCURRENTLY

    @property
    def net_s(self) -> float:
        return self.benefit_s - self.cost_s

    @property
    def helped(self) -> frozenset[str]:
        """The scenarios with a case significantly faster, end to end or in database time."""
        return frozenset(
            c.scenario
            for c in self.cases
            if c.plan_changed and words.FASTER in (c.end_to_end.verdict, c.database.verdict)
        )

    @property
    def hurt(self) -> frozenset[str]:
        return frozenset(
            c.scenario for c in self.cases if c.plan_changed and c.end_to_end.verdict == words.SLOWER
        )


def _pairs(before: Timing, after: Timing) -> tuple[list[float], list[float], list[float], list[float]]:
    """End to end without, with, then database time without, with: matched pair by pair."""
    base, cand, _ = pairs(before, after)
    return (
        [before.total_s[i] for i in base],
        [after.total_s[j] for j in cand],
        [before.db_s[i] for i in base],
        [after.db_s[j] for j in cand],
    )


def _saved(end_to_end: Comparison, database: Comparison, times: tuple[list[float], ...]) -> float:
    """Seconds saved per call: end to end when that change is significant, else database time when that
    one is, else none (a change inside the noise saves nothing)."""
    total_b, total_a, db_b, db_a = times
    if end_to_end.significant:
        return statistics.median(total_b) - statistics.median(total_a)
    if database.significant:
        return statistics.median(db_b) - statistics.median(db_a)
    return 0.0


def _timed(measurements: Sequence[Measurement]) -> list[tuple[str, str, Measurement, Measurement]]:
    """(scenario, case, without, with) for every case both sides timed."""
    by_item: dict[tuple[str, str], dict[str, Measurement]] = {}
    for m in measurements:
        by_item.setdefault((m.scenario, m.case), {})[m.side] = m
    found = []
    for (scenario, case), sides in by_item.items():
        before, after = sides.get("before"), sides.get("after")
        if before and after and before.ok and after.ok and before.timing and after.timing:
            found.append((scenario, case, before, after))
    return found


def case_effects(measurements: Sequence[Measurement]) -> list[CaseEffect]:
    """Each case's change, end to end and in database time. Alpha is Bonferroni-corrected over the
    trial's tests (as `bench compare` does): with many cases, one would otherwise come out significant
    by chance now and then, and a verdict rests on any of them."""
    timed = _timed(measurements)
    alpha = DEFAULT_ALPHA / max(2 * len(timed), 1)
    found = []
    for scenario, case, before, after in timed:
        assert before.timing is not None
        assert after.timing is not None
        times = _pairs(before.timing, after.timing)
        end_to_end = stats.compare_paired(times[0], times[1], alpha=alpha, threshold=DEFAULT_THRESHOLD)
        database = stats.compare_paired(times[2], times[3], alpha=alpha, threshold=DEFAULT_THRESHOLD)
        changed = [p.shape for p in before.plans] != [p.shape for p in after.plans]
        saved = _saved(end_to_end, database, times) if changed else 0.0
        found.append(CaseEffect(scenario, case, end_to_end, database, saved, changed))
    return found


def write_effects(costs: Costs, states: tuple[str, str]) -> list[WriteEffect]:
    """Single-row ORM creates, paired by repetition: what every insert of the app pays."""
    found = []
    for table in dict.fromkeys(w.table for w in costs.writes):
        rows = [w for w in costs.writes if w.table == table and w.method == "orm_create"]
        before = {w.pair: w for w in rows if w.state == states[0]}
        after = {w.pair: w for w in rows if w.state == states[1]}
        common = sorted(before.keys() & after.keys())
        if not common:
            continue
        base = [before[p].seconds_per_row for p in common]
        cand = [after[p].seconds_per_row for p in common]
        found.append(
            WriteEffect(
                table,
                stats.compare_paired(base, cand, alpha=DEFAULT_ALPHA, threshold=DEFAULT_THRESHOLD),
                statistics.median(cand) - statistics.median(base),
                _wal(after.values()) / max(_wal(before.values()), 1e-9),
            )
        )
    return found


def _wal(rows: Iterable[WriteCost]) -> float:
    return statistics.median(w.wal_bytes_per_row for w in rows)


def _index_bytes(costs: Costs, names: Sequence[str]) -> int:
    return sum(s.bytes for s in costs.sizes_after if s.kind == "index" and s.relation in names)


def _builds(costs: Costs) -> list[MigrationCost]:
    return [m for m in costs.migrations if m.direction == "forward"]


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def rank_trial(trial: Trial, weights: Mapping[str, float], writes: Mapping[str, float]) -> Ranked:
    if trial.status != "measured" or trial.costs is None:
        verdict: Verdict = "failed" if trial.status == "failed" else "not measured"
        return Ranked(trial, verdict, (), (), 0.0, 0.0, 0, None, "", None, None)
    cases = case_effects(trial.measurements)
    states = _states(trial.measurements)
    written = write_effects(trial.costs, states)
    # Per scenario: the mean of its cases' savings (heavy, typical and light alike), times its weight.
    by_scenario: dict[str, list[float]] = {}
    for c in cases:
        by_scenario.setdefault(c.scenario, []).append(c.saved_s)
    benefit = sum(weights.get(s, 1.0) * statistics.mean(v) for s, v in by_scenario.items())
    # As for reads, a write slowdown inside the noise costs nothing: only a significant one counts.
    cost = sum(
        writes.get(w.table, 1.0) * w.extra_s_per_row for w in written if w.slowdown.verdict == words.SLOWER
    )
    builds = _builds(trial.costs)
    concurrent = [m for m in builds if m.variant == "concurrent"]
    plain = [m for m in builds if m.variant == "plain"]
    ranked = Ranked(
        trial=trial, verdict="recommended", cases=tuple(cases), writes=tuple(written),
        benefit_s=benefit, cost_s=cost, index_bytes=_index_bytes(trial.costs, trial.indexes),
        build_s=_median([m.seconds for m in concurrent]),
        lock=plain[0].lock if plain else "",
        lock_held_s=_median([m.lock_held_s for m in plain if m.lock_held_s is not None]),
        max_stall_s=max((m.max_write_stall_s for m in concurrent), default=None),
    )  # fmt: skip
    return _judged(ranked)


def _states(measurements: Sequence[Measurement]) -> tuple[str, str]:
    before = next((m.state for m in measurements if m.side == "before"), "before")
    after = next((m.state for m in measurements if m.side == "after"), "after")
    return before, after


def _judged(ranked: Ranked) -> Ranked:
    if not ranked.helped:
        return replace(ranked, verdict="makes reads slower" if ranked.hurt else "no read benefit")
    if ranked.hurt:
        return replace(ranked, verdict="makes reads slower")
    if ranked.net_s <= 0:
        return replace(ranked, verdict="write cost outweighs read benefit")
    return ranked


def ranking(
    trials: Sequence[Trial], weights: Mapping[str, float], writes: Mapping[str, float]
) -> list[Ranked]:
    """Recommended first, by net seconds saved per unit of work, then the smaller index; the rest by
    verdict, in the order they were tried."""
    ranked = [rank_trial(t, weights, writes) for t in trials]
    return sorted(
        ranked,
        key=lambda r: (
            ORDER.index(r.verdict),
            -r.net_s if r.verdict == "recommended" else 0.0,
            r.index_bytes,
        ),
    )


def combinations(ranked: Sequence[Ranked], tables: Mapping[str, str]) -> list[tuple[str, str]]:
    """Pairs of single candidates worth trying together: both on one table, each helping scenarios the
    other does not. `tables` maps a candidate name to its table."""
    singles = [r for r in ranked if len(r.trial.indexes) == 1 and r.helped]
    found = []
    for i, first in enumerate(singles):
        for second in singles[i + 1 :]:
            a, b = first.trial.indexes[0], second.trial.indexes[0]
            if tables[a] == tables[b] and first.helped - second.helped and second.helped - first.helped:
                found.append((a, b))
    return found
