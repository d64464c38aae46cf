"""Hand-built BASE/HEAD results pairs for `bench compare` on files: no database, no git."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from bench import results
from bench.results import Measurement, Results
from tests.sample_results import plan, sample_results, timing

SAMPLES = 30
INDEX = "tracking_people_date_idx"


def samples(median: float, *, spread: float = 0.02, shift: int = 0) -> tuple[float, ...]:
    """SAMPLES deterministic values around median, +-spread; shift rotates them (a different run)."""
    values = [median * (1 + spread * (((i + shift) * 7) % 11 - 5) / 5) for i in range(SAMPLES)]
    return tuple(values)


def base_results() -> Results:
    """Every measurement ok, with enough samples for the statistics to speak."""
    original = sample_results()
    idx = plan(f"Index Scan using {INDEX} on tracking", index=INDEX, hit=12)
    seq = plan("Seq Scan on tracking", index=None, hit=900, read=100)
    measurements = (
        dataclasses.replace(original.measurements[0], plans=(seq,), timing=timing(*samples(0.010))),
        dataclasses.replace(original.measurements[1], plans=(idx,), timing=timing(*samples(0.002))),
        dataclasses.replace(original.measurements[2], timing=timing(*samples(0.020)), query_count=4),
        Measurement(
            scenario="wellness_summary",
            case="all",
            side="prefetch",
            state="after",
            status="ok",
            timing=timing(*samples(0.004)),
            query_count=2,
        ),
    )
    # More cases: the between-run noise is estimated from all timings, and needs a handful.
    extra = tuple(
        dataclasses.replace(m, case=case, timing=timing(*samples(_median(m) * factor)))
        for case, factor in (("typical", 0.5), ("light", 0.25))
        for m in measurements[:2]
    )
    return dataclasses.replace(original, measurements=measurements + extra)


def head_results(base: Results, **changes: Measurement) -> Results:
    """Another run of the same data (new run id, other samples), with some measurements replaced.

    changes maps "scenario__side" to the replacement measurement of that scenario, side and its case.
    """
    measurements = []
    for m in base.measurements:
        rerun = dataclasses.replace(m, timing=timing(*samples(_median(m), shift=3)) if m.timing else None)
        replacement = changes.get(f"{m.scenario}__{m.side}")
        measurements.append(replacement if replacement and replacement.case == m.case else rerun)
    return dataclasses.replace(
        base,
        run_id="20261129T010000Z-def5678",
        started_at="2026-11-29T01:00:00+00:00",
        environment=dataclasses.replace(base.environment, git_commit="def5678"),
        measurements=tuple(measurements),
    )


def _median(m: Measurement) -> float:
    assert m.timing is not None
    return sorted(m.timing.samples_s)[len(m.timing.samples_s) // 2]


def measurement(base: Results, scenario: str, side: str) -> Measurement:
    found = next(m for m in base.measurements if (m.scenario, m.side) == (scenario, side))
    return dataclasses.replace(found, timing=timing(*samples(_median(found), shift=3)))


def write(results_obj: Results, path: Path) -> Path:
    path.write_text(results.to_json(results_obj), encoding="utf-8")
    return path


def write_raw(data: dict[str, object], path: Path) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path
