"""How sensitive is this machine, now? Trials of A/A comparisons and of known injected slowdowns.

Both sides run the same scenario on two copies of the same data in the same state; the candidate's
timed call gets an extra, calibrated piece of work: a busy-wait in Python ("orm": the share of the call
Django and Python spend) or a server-side loop in one extra query ("db": counted as database time).
A trial is one paired item, judged by the same rule as `bench run`'s verdicts. The false-alarm rate is
the share of A/A trials called faster or slower; the detection rate the share of injected trials
called slower, end to end for "orm" and in database time for "db".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection

from django_index_bench.bench.pg import clones, db
from django_index_bench.bench.results import Measurement, Sensitivity, SensitivityKind, SensitivityLevel
from django_index_bench.bench.rounds.executor import run_item
from django_index_bench.bench.rounds.schedule import Item, Rules, SideSpec
from django_index_bench.bench.rounds.sides import LocalSides
from django_index_bench.bench.scenarios import Case, Outcome, Scenario
from django_index_bench.bench.steps.states import MigrationFailed, State, reach
from django_index_bench.verdicts import defaults, stats, words

BASELINE, CANDIDATE = "a", "b"
ONE, TWO = "one", "two"  # two copies of the data, in the same state
SLOWDOWNS = (0.02, 0.05, 0.10, 0.20)


def busy_wait(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


class ServerWork:
    """A query whose execution takes about a given time: count(*) over generate_series(1, n), with n
    calibrated on this server. Its round trip counts too, so the smallest extra it can add is one."""

    def __init__(self) -> None:
        self.floor_s = self._time(1)
        rows = 200_000
        self.per_row_s = max((self._time(rows) - self.floor_s) / rows, 1e-12)

    @staticmethod
    def _time(rows: int) -> float:
        samples = []
        with connection.cursor() as cursor:
            for _ in range(7):
                started = time.perf_counter()
                cursor.execute("SELECT count(*) FROM generate_series(1, %s)", [rows])
                cursor.fetchone()
                samples.append(time.perf_counter() - started)
        return float(np.median(samples))

    def rows_for(self, seconds: float) -> int | None:
        """None when even one row takes longer than `seconds`."""
        if seconds < self.floor_s:
            return None
        return max(int((seconds - self.floor_s) / self.per_row_s), 1)

    @staticmethod
    def run(rows: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM generate_series(1, %s)", [rows])
            cursor.fetchone()


class Injected(Scenario):
    """The wrapped scenario's new code path on both sides; on the candidate, `extra` runs inside the
    timed call."""

    name = "sensitivity"
    title = "sensitivity trial"
    group = "sensitivity"
    kind = "migration"
    baseline = BASELINE
    candidate = CANDIDATE
    description = "one scenario on both sides, the candidate slowed down by a known amount"

    def __init__(self, inner: Scenario, extra: Callable[[], None] | None) -> None:
        self.inner = inner
        self.extra = extra

    def draw_cases(self) -> list[Case]:
        return self.inner.draw_cases()

    def execute(self, side: str, params: dict[str, Any]) -> Outcome:
        outcome = self.inner.execute(self.inner.candidate, params)
        if side == CANDIDATE and self.extra is not None:
            self.extra()
        return outcome


def _item(scenario: str, case: Case) -> Item:
    return Item(scenario, case, "warm", SideSpec(BASELINE, ONE), SideSpec(CANDIDATE, TWO))


def _trial(
    inner: Scenario, case: Case, extra: Callable[[], None] | None, databases: dict[str, dict[str, Any]],
    rules: Rules, seed: int,
) -> tuple[Measurement, Measurement]:  # fmt: skip
    sides = LocalSides({inner.name: Injected(inner, extra)}, databases)
    try:
        done = run_item(_item(inner.name, case), sides, rules, seed, {})
    finally:
        sides.close()
    if not (done.baseline.ok and done.candidate.ok):
        raise RuntimeError(f"{inner.name}[{case.name}]: {done.baseline.error or done.candidate.error}")
    return done.baseline, done.candidate


def _verdict(
    base: Measurement, cand: Measurement, kind: SensitivityKind, threshold: float
) -> stats.Comparison:
    assert base.timing is not None
    assert cand.timing is not None
    series = (
        (base.timing.total_s, cand.timing.total_s) if kind == "orm" else (base.timing.db_s, cand.timing.db_s)
    )
    return stats.compare_paired(*series, threshold=threshold)


@dataclass(frozen=True)
class Representative:
    scenario_class: str
    scenario: Scenario
    case: Case
    total_s: float  # the baseline's median end to end, from a calibration trial
    db_s: float


def representatives(
    candidates: Sequence[tuple[Scenario, Case]], databases: dict[str, dict[str, Any]], rules: Rules
) -> list[Representative]:
    """One scenario case per class, the one nearest the middle of its class (log scale)."""
    measured = []
    for scenario, case in candidates:
        base, _ = _trial(scenario, case, None, databases, rules, 0)
        assert base.timing is not None
        measured.append(
            (scenario, case, float(np.median(base.timing.total_s)), float(np.median(base.timing.db_s)))
        )
    chosen = []
    for name, low, high in defaults.SPEED_CLASSES:
        inside = [m for m in measured if low <= m[2] < high]
        if inside:
            # The class's middle on a log scale; the open-ended top class is taken as one decade wide.
            bottom = max(low, 1e-4)
            centre = np.sqrt(bottom * (high if np.isfinite(high) else 10 * bottom))
            best = min(inside, key=lambda m: abs(np.log(m[2] / centre)))
            chosen.append(Representative(name, *best))
    return chosen


def level(
    rep: Representative,
    kind: SensitivityKind,
    slowdown: float,
    trials: int,
    databases: dict[str, dict[str, Any]],
    rules: Rules,
    threshold: float,
    work: ServerWork,
) -> SensitivityLevel:
    extra: Callable[[], None] | None = None
    note = ""
    if slowdown > 0 and kind == "orm":
        seconds = slowdown * rep.total_s
        extra = lambda: busy_wait(seconds)  # noqa: E731
    elif slowdown > 0:
        rows = work.rows_for(slowdown * rep.db_s)
        if rows is None:
            note = f"cannot inject less than one extra query ({work.floor_s * 1e6:.0f} µs)"
        else:
            extra = lambda: ServerWork.run(rows)  # noqa: E731
    ratios, flagged = [], 0
    for trial in range(0 if note else trials):
        base, cand = _trial(rep.scenario, rep.case, extra, databases, rules, trial + 1)
        verdict = _verdict(base, cand, kind, threshold)
        ratios.append(verdict.ratio)
        # A/A: any verdict is a false alarm; injected: only "slower" finds it.
        flagged += verdict.significant if slowdown == 0 else verdict.verdict == words.SLOWER
    return SensitivityLevel(
        scenario_class=rep.scenario_class,
        scenario=rep.scenario.name,
        case=rep.case.name,
        baseline_total_s=rep.total_s,
        baseline_db_s=rep.db_s,
        kind=kind,
        slowdown=slowdown,
        trials=len(ratios),
        flagged=flagged,
        ratios=tuple(ratios),
        note=note,
    )


def run(
    scenarios: dict[str, Scenario],
    cases: dict[str, list[Case]],
    database: dict[str, Any],
    rules: Rules,
    *,
    slowdowns: Sequence[float],
    kinds: Sequence[SensitivityKind],
    trials: int,
    threshold: float,
    alpha: float,
    progress: Callable[[str], None] = lambda text: None,
) -> Sensitivity:
    """The trials, both sides on two connections to `database` (one copy of the data, in one state)."""
    databases = {ONE: database, TWO: database}
    candidates = [
        (s, c) for name, s in scenarios.items() if s.kind == "migration" for c in cases.get(name, [])
    ]
    work = ServerWork()
    levels = []
    for rep in representatives(candidates, databases, rules):
        for kind in kinds:
            for slowdown in (0.0, *slowdowns):
                progress(f"{rep.scenario_class} {kind} +{slowdown:.0%}")
                levels.append(level(rep, kind, slowdown, trials, databases, rules, threshold, work))
    return Sensitivity(
        threshold=threshold, alpha=alpha, trials=trials, seconds=rules.seconds, levels=tuple(levels)
    )


def on_copy(
    target: db.Target,
    state: State,
    scenarios: dict[str, Scenario],
    cases: dict[str, list[Case]],
    rules: Rules,
    tag: str,
    **options: Any,
) -> Sensitivity:
    """`run` on a copy of the seeded data moved to `state` (the after state: what a change ships),
    dropped afterwards. The caller holds the seeded database's lock."""
    import copy as copying

    connection.close()
    copied = clones.clone(target, clones.name_for(target, tag, "sensitivity"), tag)
    try:
        db.switch_django(copied)
        change = reach(state)
        if not change.ok:
            raise MigrationFailed(f"the sensitivity copy could not reach {state.name}: {change.error}")
        settings = copying.deepcopy(connection.settings_dict)
        return run(scenarios, cases, settings, rules, **options)
    finally:
        db.switch_django(target)
        clones.drop(target, copied.name)
