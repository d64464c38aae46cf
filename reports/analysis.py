"""Pair every scenario's baseline and candidate measurements and compare them, once, for the whole report.

Expected pairs come from each ScenarioInfo's cases, so a measurement the runner never wrote shows up
as "missing" instead of silently vanishing. Measurements of a scenario with no ScenarioInfo are kept
too (as their own scenario), for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench import stats
from bench.results import Measurement, Results, ScenarioInfo

OK = "ok"
FAILED = "failed"
MISSING = "missing"


@dataclass(frozen=True)
class Side:
    name: str
    measurement: Measurement | None
    summary: stats.Summary | None

    @property
    def status(self) -> str:
        if self.measurement is None:
            return MISSING
        return OK if self.measurement.ok else FAILED

    @property
    def error(self) -> str | None:
        return self.measurement.error if self.measurement is not None else None


@dataclass(frozen=True)
class CaseResult:
    scenario: ScenarioInfo
    case: str
    baseline: Side
    candidate: Side
    comparison: stats.Comparison | None  # None unless both sides have timing samples

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


def _side(name: str, measurement: Measurement | None) -> Side:
    summary = None
    if measurement is not None and measurement.ok and measurement.timing and measurement.timing.samples_s:
        summary = stats.summarize(measurement.timing.samples_s)
    return Side(name, measurement, summary)


def _samples(side: Side) -> tuple[float, ...] | None:
    measurement = side.measurement
    if measurement is None or not measurement.ok or measurement.timing is None:
        return None
    return measurement.timing.samples_s or None


def _case(info: ScenarioInfo, case: str, results: Results, alpha: float, threshold: float) -> CaseResult:
    baseline = _side(info.baseline, results.find(info.name, case, info.baseline))
    candidate = _side(info.candidate, results.find(info.name, case, info.candidate))
    before, after = _samples(baseline), _samples(candidate)
    comparison = stats.compare(before, after, alpha=alpha, threshold=threshold) if before and after else None
    return CaseResult(info, case, baseline, candidate, comparison)


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


# Run-to-run latency noise on our machines is 3-10 %: a smaller change is not called an effect.
NOISE_THRESHOLD = 0.10


def analyze(results: Results, *, alpha: float = 0.05, threshold: float = NOISE_THRESHOLD) -> Analysis:
    scenarios = [
        ScenarioResult(info, tuple(_case(info, case, results, alpha, threshold) for case in info.cases), True)
        for info in results.scenarios
    ]
    described = {info.name for info in results.scenarios}
    for name in dict.fromkeys(m.scenario for m in results.measurements):
        if name not in described:
            info = _orphan_info(name, results.measurements_of(name))
            cases = tuple(_case(info, case, results, alpha, threshold) for case in info.cases)
            scenarios.append(ScenarioResult(info, cases, False))
    return Analysis(results, tuple(scenarios), alpha, threshold)
