"""A results file in the formats benchmark-history tools read: pytest-benchmark's JSON (read by
`pytest-benchmark compare`, github-action-benchmark's `pytest` tool, Bencher's `python_pytest` adapter)
and the Bencher Metric Format. From the results file only, like every report.

pytest-benchmark: one benchmark per scenario, case and side (the cold series too, in groups of their
own), its rounds as `data` and pytest-benchmark's own statistics of them; database time, queries,
shared buffers, the state and, on the candidate, the paired comparison go in `extra_info`.
Bencher: one benchmark per scenario, case and side, with measures latency (the median end to end, in
nanoseconds, as Bencher's built-in latency is; bounds: the median's 95 % interval), database-time
(likewise), queries and shared-buffers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django_index_bench.bench.results import Measurement, Results
from django_index_bench.reports.analysis import CaseResult, Side, analyze
from django_index_bench.verdicts import stats

NS = 1e9
# The pytest-benchmark JSON layout this writes (its `version` field); `compare` reads 3.x to 5.x.
PYTEST_BENCHMARK_LAYOUT = "5.1.0"


def comparison_info(total: stats.Comparison | None, database: stats.Comparison | None) -> dict[str, Any]:
    """A paired comparison as plain JSON: the ratio (above 1: the candidate is faster), its interval,
    p-value and verdict, end to end and in the database."""

    def one(found: stats.Comparison | None) -> dict[str, Any] | None:
        if found is None:
            return None
        return {
            "ratio": found.ratio,
            "ratio_ci": list(found.ratio_ci) if found.ratio_ci else None,
            "p_value": found.p_value,
            "verdict": found.verdict,
            "pairs": found.n,
        }

    return {"comparison": one(total), "db_comparison": one(database)}


def _cases(results: Results) -> Iterator[tuple[str, CaseResult]]:
    """Every case of the warm series, then of the cold one (group suffix " (cold)")."""
    for case in analyze(results).all_cases():
        yield "", case
    if results.cold:
        cold = analyze(_cold_series(results), cache="cold")
        for case in cold.all_cases():
            yield " (cold)", case


def _cold_series(results: Results) -> Results:
    from dataclasses import replace

    return replace(results, measurements=results.cold, cold=())


def _sides(case: CaseResult) -> Iterator[tuple[Side, bool]]:
    yield case.baseline, False
    yield case.candidate, True


def _timed(side: Side) -> Measurement | None:
    measurement = side.measurement
    if measurement is None or not measurement.ok or measurement.timing is None:
        return None
    return measurement if measurement.timing.total_s else None


def _pytest_stats(samples: tuple[float, ...]) -> dict[str, Any]:
    from pytest_benchmark.stats import Stats

    computed = Stats()  # type: ignore[no-untyped-call]
    for value in samples:
        computed.update(value)  # type: ignore[no-untyped-call]
    found: dict[str, Any] = computed.as_dict()  # type: ignore[no-untyped-call]
    return {**found, "data": list(samples), "iterations": 1}


def _extra(case: CaseResult, side: Side, measurement: Measurement, candidate: bool) -> dict[str, Any]:
    assert measurement.timing is not None
    db_s = measurement.timing.db_s
    extra: dict[str, Any] = {
        "scenario": case.scenario.name,
        "case": case.case,
        "side": side.name,
        "state": measurement.state,
        "db_median_s": side.db_summary.median if side.db_summary else None,
        "db_s": list(db_s),
        "query_count": measurement.query_count,
        "shared_blocks": measurement.shared_blocks,
        "index_names": sorted({name for plan in measurement.plans for name in plan.index_names}),
    }
    if candidate:
        extra |= {"baseline": case.baseline.name, **comparison_info(case.comparison, case.db_comparison)}
    return extra


def pytest_benchmark_json(results: Results) -> dict[str, Any]:
    benchmarks = []
    for suffix, case in _cases(results):
        group = f"{case.scenario.name}[{case.case}]{suffix}"
        for side, candidate in _sides(case):
            measurement = _timed(side)
            if measurement is None:
                continue
            assert measurement.timing is not None
            name = f"{case.scenario.name}[{case.case}-{side.name}]{suffix}"
            benchmarks.append(
                {
                    "group": group,
                    "name": name,
                    # Stable across runs and their options: history tools key on it.
                    "fullname": f"bench::{name}",
                    "params": {"case": case.case, "side": side.name},
                    "param": f"{case.case}-{side.name}",
                    "extra_info": _extra(case, side, measurement, candidate),
                    "options": {
                        "disable_gc": False,
                        "timer": measurement.timing.timer,
                        "min_rounds": results.schedule.min_pairs,
                        "max_time": results.schedule.seconds,
                        "min_time": 0.0,
                        "warmup": measurement.timing.warmup_rounds > 0,
                    },
                    "stats": _pytest_stats(measurement.timing.total_s),
                }
            )
    return {
        "machine_info": _machine_info(results),
        "commit_info": _commit_info(results),
        "benchmarks": benchmarks,
        "datetime": results.started_at,
        "version": PYTEST_BENCHMARK_LAYOUT,
    }


def _machine_info(results: Results) -> dict[str, Any]:
    """Where the results were measured, as far as the results file says."""
    env = results.environment
    return {
        "node": "",
        "processor": "",
        "machine": "",
        "python_compiler": "",
        "python_implementation": "",
        "python_implementation_version": env.python,
        "python_version": env.python,
        "python_build": [],
        "release": "",
        "system": env.platform,
        "cpu": {"count": env.cpu_count},
        "postgres_version": env.postgres_version,
        "django": env.django,
    }


def _commit_info(results: Results) -> dict[str, Any]:
    env = results.environment
    return {"id": env.git_commit or "", "dirty": bool(env.git_dirty), "project": "", "branch": ""}


def _measure(summary: stats.Summary | None, scale: float) -> dict[str, float] | None:
    if summary is None:
        return None
    measure = {"value": summary.median * scale}
    if summary.median_ci is not None:
        low, high = summary.median_ci
        measure |= {"lower_value": low * scale, "upper_value": high * scale}
    return measure


def bencher_metric_format(results: Results) -> dict[str, dict[str, dict[str, float]]]:
    benchmarks: dict[str, dict[str, dict[str, float]]] = {}
    for suffix, case in _cases(results):
        for side, _ in _sides(case):
            measurement = _timed(side)
            if measurement is None:
                continue
            measures = {
                "latency": _measure(side.summary, NS),
                "database-time": _measure(side.db_summary, NS),
                "queries": {"value": float(measurement.query_count or 0)},
                "shared-buffers": (
                    {"value": float(measurement.shared_blocks)}
                    if measurement.shared_blocks is not None
                    else None
                ),
            }
            name = f"{case.scenario.name}[{case.case}-{side.name}]{suffix}"
            benchmarks[name] = {slug: value for slug, value in measures.items() if value is not None}
    return benchmarks


def to_json(document: object) -> str:
    import json

    return json.dumps(document, indent=1) + "\n"


PYTEST_BENCHMARK_SUFFIX = ".pytest-benchmark.json"
BENCHER_SUFFIX = ".bmf.json"


def write_both(results: Results, directory: Path, stem: str) -> tuple[Path, Path]:
    """STEM.pytest-benchmark.json and STEM.bmf.json in directory."""
    from django_index_bench.bench.results import write_atomic

    pytest_path = directory / f"{stem}{PYTEST_BENCHMARK_SUFFIX}"
    bencher_path = directory / f"{stem}{BENCHER_SUFFIX}"
    write_atomic(pytest_path, to_json(pytest_benchmark_json(results)))
    write_atomic(bencher_path, to_json(bencher_metric_format(results)))
    return pytest_path, bencher_path
