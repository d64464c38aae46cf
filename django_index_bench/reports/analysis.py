"""Pair every scenario's baseline and candidate measurements and compare them, once, for the whole report.

Expected pairs come from each ScenarioInfo's cases, so a measurement the runner never wrote shows up
as "missing" instead of silently vanishing. Measurements of a scenario with no ScenarioInfo are kept
too (as their own scenario), for the same reason.

Each case is compared twice, on the same rounds: end to end (`total_s`, what the app's caller waits)
and database time (`db_s`, inside the driver's execute). An index can make the database part much
faster and the whole call hardly at all; the report has to be able to say both.

A case the run measured a second time (bench run's confirmation, verdicts/run_confirm.py) carries both
measurements; a call the second one did not confirm becomes "no significant change" here, once, so every
section that reads the verdict (tallies, claims, charts) reads the same one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from django_index_bench.bench.results import (
    Cache,
    Measurement,
    Remeasured,
    Results,
    ScenarioInfo,
    ScheduledItem,
    Timing,
)
from django_index_bench.reports import fmt
from django_index_bench.verdicts import buffers, run_confirm, stats
from django_index_bench.verdicts.defaults import DEFAULT_ALPHA, DEFAULT_THRESHOLD
from django_index_bench.verdicts.gate import CopyMedian, copy_medians
from django_index_bench.verdicts.run_confirm import ItemTimings
from django_index_bench.verdicts.timings import (
    Values,
    copy_spread,
    database,
    rounds_to_compare,
    total,
)
from django_index_bench.verdicts.words import DB_TIME, END_TO_END, NO_CHANGE, NOT_CONFIRMED, Metric

OK = "ok"
FAILED = "failed"
MISSING = "missing"


def _summary(timing: Timing | None, values: Values) -> stats.Summary | None:
    # Empty values are normal: a schema 2 file, read as schema 3, recorded no database time.
    return stats.summarize(values(timing)) if timing is not None and values(timing) else None


@dataclass(frozen=True)
class Side:
    name: str
    measurement: Measurement | None
    summary: stats.Summary | None  # end to end, over all of this side's rounds
    db_summary: stats.Summary | None  # database time, same rounds

    @property
    def status(self) -> str:
        if self.measurement is None:
            return MISSING
        return OK if self.measurement.ok else FAILED

    @property
    def error(self) -> str | None:
        return self.measurement.error if self.measurement is not None else None

    @property
    def timing(self) -> Timing | None:
        m = self.measurement
        return m.timing if m is not None and m.ok and m.timing is not None and m.timing.rounds else None

    @property
    def orm_median(self) -> float | None:
        """Median of (end to end - database) per round: the time Django and Python took; None without
        database time (schema 2)."""
        timing = self.timing
        return float(np.median(timing.orm_s)) if timing is not None and timing.orm_s else None


@dataclass(frozen=True)
class CaseConfirmation:
    """A case the run measured a second time: the first measurement's comparisons as they were, the
    second's, and each metric's recorded outcome, for the metrics this report calls."""

    remeasured: Remeasured
    first: ItemTimings
    second: ItemTimings | None  # None: the second measurement failed or could not be made
    outcomes: dict[Metric, str]  # metric -> words.Confirmation, only for the metrics the report calls

    @property
    def scheduled(self) -> ScheduledItem | None:
        return self.remeasured.scheduled


@dataclass(frozen=True)
class CaseResult:
    scenario: ScenarioInfo
    case: str
    baseline: Side
    candidate: Side
    comparison: stats.Comparison | None  # end to end; None unless both sides have timings
    db_comparison: stats.Comparison | None  # database time; also None if a round spent no time there
    schedule: ScheduledItem | None = None  # the scheduled item it came from: its pairs, why it stopped
    # Tables this case reads whose storage the move to a side's state rewrote, and how that copy was
    # settled afterwards ("VACUUM (ANALYZE)" or "ANALYZE"): a plan change there may be the move's.
    rewritten: tuple[str, ...] = ()
    settled_by: str = ""
    # Per side ("base": baseline, "head": candidate) and database copy, the medians of its rounds; and the
    # lowest and highest end-to-end factor over the copies (None with one copy): the copy-level spread.
    copies: tuple[CopyMedian, ...] = ()
    copy_spread: tuple[float, float] | None = None
    # Each side's shared-buffer hits and reads over its timed rounds (None: not recorded), and whether
    # the sides clearly took their pages from different places (verdicts/buffers.py).
    base_blocks: buffers.Blocks | None = None
    head_blocks: buffers.Blocks | None = None
    blocks_differ: bool = False
    # Measured a second time before its call was reported (bench run's confirmation); None: not.
    confirmation: CaseConfirmation | None = None

    @property
    def status(self) -> str:
        """ "ok" when both sides were measured; else the worse of the two: failed beats missing."""
        statuses = {self.baseline.status, self.candidate.status}
        if statuses == {OK}:
            return OK
        return FAILED if FAILED in statuses else MISSING

    @property
    def label(self) -> str:
        return f"{self.scenario.name} / {self.case}"

    @property
    def plan_changed(self) -> bool:
        sides = (self.baseline.measurement, self.candidate.measurement)
        if any(m is None or not m.plans for m in sides):
            return False
        return len({tuple(p.shape for p in m.plans) for m in sides if m is not None}) > 1

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables either side's captured SQL read, as their plans name them."""
        sides = (self.baseline.measurement, self.candidate.measurement)
        return tuple(sorted({t for m in sides if m is not None for t in m.relations}))

    @property
    def errors(self) -> list[str]:
        """Each side's error, first line only (a traceback's last line is in the detail section)."""
        return [
            f"{side.name}: {fmt.first_line(side.error)}"
            for side in (self.baseline, self.candidate)
            if side.error
        ]


@dataclass(frozen=True)
class ScenarioResult:
    info: ScenarioInfo
    cases: tuple[CaseResult, ...]
    known: bool  # False when measurements named a scenario the results do not describe


@dataclass(frozen=True)
class Analysis:
    results: Results
    scenarios: tuple[ScenarioResult, ...]
    alpha: float
    threshold: float = 0.0

    def all_cases(self) -> list[CaseResult]:
        return [case for scenario in self.scenarios for case in scenario.cases]

    def scenario(self, name: str) -> ScenarioResult | None:
        return next((s for s in self.scenarios if s.info.name == name), None)

    def group(self, group: str) -> list[ScenarioResult]:
        return [s for s in self.scenarios if s.info.group == group]

    def reading(self, table: str) -> list[CaseResult]:
        """The cases whose SQL reads `table` (by their plans; a scenario's group is only a label)."""
        return [case for case in self.all_cases() if table in case.tables]


def _side(name: str, measurement: Measurement | None) -> Side:
    timing = measurement.timing if measurement is not None and measurement.ok else None
    return Side(name, measurement, _summary(timing, total), _summary(timing, database))


@dataclass(frozen=True)
class _Options:
    alpha: float
    threshold: float
    cache: Cache


def _item(results: Results, scenario: str, case: str, cache: Cache) -> ScheduledItem | None:
    return next(
        (i for i in results.schedule.items if (i.scenario, i.case, i.cache) == (scenario, case, cache)),
        None,
    )


def _case(info: ScenarioInfo, case: str, results: Results, options: _Options) -> CaseResult:
    alpha, threshold = options.alpha, options.threshold
    baseline = _side(info.baseline, results.find(info.name, case, info.baseline))
    candidate = _side(info.candidate, results.find(info.name, case, info.candidate))
    before, after = baseline.timing, candidate.timing
    comparison = db_comparison = spread = None
    # The copy each round ran on, by its worker: a copy-level difference widens the interval.
    copies = (results.schedule.worker_copies, results.schedule.worker_copies)
    confirmed = None
    if before is not None and after is not None:
        # The run's own rule (verdicts/run_confirm.py): the calls it measured again are these calls.
        first = run_confirm.item_timings(before, after, copies=copies[0], alpha=alpha, threshold=threshold)
        comparison, db_comparison = first.time, first.db_time
        spread = copy_spread(rounds_to_compare(before, after, total, worker_copies=copies))
        confirmed = _confirmation(results, info.name, case, options, first)
        if confirmed is not None:
            comparison, db_comparison = _withdrawn(first, confirmed)
    item = _item(results, info.name, case, options.cache)
    medians = copy_medians("base", before, copies[0]) + copy_medians("head", after, copies[1])
    found = CaseResult(
        info, case, baseline, candidate, comparison, db_comparison, item,
        copies=medians if results.schedule.copies > 1 else (), copy_spread=spread,
        base_blocks=buffers.of(before), head_blocks=buffers.of(after),
        blocks_differ=buffers.differ(buffers.of(before), buffers.of(after)), confirmation=confirmed,
    )  # fmt: skip
    moves = [
        s for s in results.states
        if any(side.measurement and side.measurement.state == s.state for side in (baseline, candidate))
    ]  # fmt: skip
    rewritten = sorted({t for s in moves for t in s.rewritten} & set(found.tables))
    if not rewritten:
        return found
    settled = " and ".join(dict.fromkeys(s.maintenance for s in moves if set(s.rewritten) & set(rewritten)))
    return dataclasses.replace(found, rewritten=tuple(rewritten), settled_by=settled)


def _confirmation(
    results: Results, scenario: str, case: str, options: _Options, first: ItemTimings
) -> CaseConfirmation | None:
    """The case's second measurement, when the run made one for a metric this report calls."""
    if results.confirmation is None:
        return None
    again = results.confirmation.find(scenario, case, options.cache)
    if again is None:
        return None
    outcomes: dict[Metric, str] = {
        metric: again.outcomes[metric]
        for metric in (DB_TIME, END_TO_END)
        if metric in again.outcomes and (found := first.of(metric)) is not None and found.significant
    }
    if not outcomes:
        return None
    second = None
    base, cand = again.baseline, again.candidate
    if again.error is None and base is not None and cand is not None and base.timing and cand.timing:
        second = run_confirm.item_timings(
            base.timing, cand.timing, copies=tuple(range(results.confirmation.copies)),
            alpha=options.alpha, threshold=options.threshold,
        )  # fmt: skip
    return CaseConfirmation(again, first, second, outcomes)


def _withdrawn(
    first: ItemTimings, confirmed: CaseConfirmation
) -> tuple[stats.Comparison | None, stats.Comparison | None]:
    """The first measurement's comparisons, each call the second measurement did not confirm made
    "no significant change" (its figures kept: the report shows what was measured)."""

    def one(metric: Metric) -> stats.Comparison | None:
        found = first.of(metric)
        if found is None or confirmed.outcomes.get(metric) != NOT_CONFIRMED:
            return found
        return dataclasses.replace(found, verdict=NO_CHANGE)

    return one(END_TO_END), one(DB_TIME)


def _orphan_info(name: str, measurements: list[Measurement]) -> ScenarioInfo:
    sides = list(dict.fromkeys(m.side for m in measurements))
    return ScenarioInfo(
        name=name,
        title=name,
        group="unknown",
        kind="unknown",
        baseline=sides[0],
        candidate=sides[1] if len(sides) > 1 else "(none)",
        description="measured, but not described in the results file's scenarios",
        cases=tuple(dict.fromkeys(m.case for m in measurements)),
    )


def analyze(
    results: Results,
    *,
    alpha: float = DEFAULT_ALPHA,
    threshold: float = DEFAULT_THRESHOLD,
    cache: Cache = "warm",
) -> Analysis:
    """`cache` says which series `results.measurements` holds, to find each case's scheduled item."""
    options = _Options(alpha, threshold, cache)
    scenarios = [
        ScenarioResult(info, tuple(_case(info, case, results, options) for case in info.cases), True)
        for info in results.scenarios
    ]
    described = {info.name for info in results.scenarios}
    for name in dict.fromkeys(m.scenario for m in results.measurements):
        if name not in described:
            info = _orphan_info(name, results.measurements_of(name))
            cases = tuple(_case(info, case, results, options) for case in info.cases)
            scenarios.append(ScenarioResult(info, cases, False))
    return Analysis(results, tuple(scenarios), alpha, threshold)
