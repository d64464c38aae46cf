"""The report says what the run could see: per class of speed, from its own intervals, and the
sensitivity trials when the run measured them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from django_index_bench.bench.results import Results, Sensitivity, SensitivityLevel
from django_index_bench.reports import render
from tests.sample_results import sample_results, timing

BEFORE = (0.010, 0.011, 0.012, 0.010, 0.013, 0.011)  # 6 pairs: the fewest with a 95 % interval


def exactly_five_times_faster() -> Results:
    """Every pair's ratio is exactly 5: the interval has no width, so only the threshold limits."""
    base = sample_results()
    measurements = tuple(
        dataclasses.replace(
            m, timing=timing(*(BEFORE if m.side == "before" else tuple(t / 5 for t in BEFORE)))
        )
        if m.scenario == "tracking_person_range"
        else m
        for m in base.measurements
    )
    return dataclasses.replace(base, measurements=measurements)


def level(kind: str, slowdown: float, flagged: int, note: str = "") -> SensitivityLevel:
    return SensitivityLevel(
        scenario_class="ms", scenario="tracking_person_range", case="typical",
        baseline_total_s=0.002, baseline_db_s=0.0005, kind=kind,  # type: ignore[arg-type]
        slowdown=slowdown, trials=0 if note else 10, flagged=flagged,
        ratios=() if note else (0.9,) * 10, note=note,
    )  # fmt: skip


def markdown(results: Results, tmp_path: Path) -> str:
    return render.render(results, tmp_path, threshold=0.05).report.read_text(encoding="utf-8")


def test_the_limit_of_a_class_is_the_threshold_when_the_intervals_are_narrower(tmp_path: Path) -> None:
    text = markdown(exactly_five_times_faster(), tmp_path)
    assert (
        "- tens of ms cases (1): changes end to end under 5.0 % and database time under 5.0 % cannot be seen "
        "here "
        "(the larger of the threshold, 5.0 %, and the median half-width of their 95 % intervals)."
    ) in text
    assert "- **Sensitivity trials**: not run" in text


def test_the_sensitivity_trials_are_shown_with_the_smallest_slowdown_detected(tmp_path: Path) -> None:
    found = Sensitivity(
        threshold=0.05, alpha=0.05, trials=10, seconds=1.0,
        levels=(
            level("orm", 0.0, 0), level("orm", 0.05, 4), level("orm", 0.10, 9), level("orm", 0.20, 10),
            level("db", 0.0, 1), level("db", 0.02, 0, note="cannot inject less than one extra query (75 µs)"),
            level("db", 0.10, 8),
        ),
    )  # fmt: skip
    text = markdown(dataclasses.replace(exactly_five_times_faster(), sensitivity=found), tmp_path)
    assert "  - ms, end to end: the smallest slowdown flagged in at least 90 % of trials: 10 %" in text
    assert (
        "  - ms, database time: the smallest slowdown flagged in at least 90 % of trials: none of the" in text
    )
    assert (
        "| ms | `tracking_person_range / typical` | end to end | none (A/A) | 0 of 10 | false alarms |"
        in text
    )
    assert "| ms | `tracking_person_range / typical` | end to end | 10 % | 9 of 10 | detected |" in text
    assert (
        "| ms | `tracking_person_range / typical` | database time | 2 % | "
        "cannot inject less than one extra query (75 µs) | detected |"
    ) in text
