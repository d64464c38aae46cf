"""A change inside the machine's run-to-run noise is no change, however small its p-value."""

from __future__ import annotations

import dataclasses

from django_index_bench.bench.results import Results
from django_index_bench.reports.analysis import analyze
from django_index_bench.verdicts.defaults import DEFAULT_THRESHOLD
from tests.sample_results import sample_results, timing


def three_percent_faster() -> Results:
    """The tracking case, after 3 % faster than before, with almost no spread: highly significant."""
    base = sample_results()
    before = tuple(0.0100 + i * 1e-6 for i in range(30))
    after = tuple(0.0097 + i * 1e-6 for i in range(30))
    measurements = tuple(
        dataclasses.replace(m, timing=timing(*(before if m.side == "before" else after)))
        if m.scenario == "tracking_person_range"
        else m
        for m in base.measurements
    )
    return dataclasses.replace(base, measurements=measurements)


def verdict(results: Results, threshold: float) -> str:
    analysis = analyze(results, threshold=threshold)
    (case,) = next(s for s in analysis.scenarios if s.info.name == "tracking_person_range").cases
    assert case.comparison is not None
    return case.comparison.verdict


def test_a_significant_change_inside_the_noise_is_no_change() -> None:
    assert DEFAULT_THRESHOLD == 0.05
    assert verdict(three_percent_faster(), DEFAULT_THRESHOLD) == "no significant change"


def test_without_a_threshold_it_would_be_called_faster() -> None:
    assert verdict(three_percent_faster(), 0.0) == "faster"
