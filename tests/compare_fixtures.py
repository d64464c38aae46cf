"""Hand-built BASE/HEAD results pairs for `bench compare` on files: no database, no git."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from django_index_bench.bench import results
from django_index_bench.bench.results import Measurement, Results, StateChange, Timing
from tests.sample_results import plan, sample_results, timing

SAMPLES = 30
INDEX = "tracking_people_date_idx"


def samples(median: float, *, spread: float = 0.02, shift: int = 0) -> tuple[float, ...]:
    """SAMPLES deterministic values around median, +-spread; shift rotates them (a different run)."""
    values = [median * (1 + spread * (((i + shift) * 7) % 11 - 5) / 5) for i in range(SAMPLES)]
    return tuple(values)


def base_results() -> Results:
    """Every measurement ok, with enough samples for the statistics to speak; no partner (one run)."""
    original = sample_results()
    idx = plan(f"Index Scan using {INDEX} on tracking", index=INDEX, hit=12)
    seq = plan("Seq Scan on tracking", index=None, hit=900, read=100)
    measurements = (
        dataclasses.replace(original.measurements[0], plans=(seq,), timing=timing(*samples(0.010))),
        dataclasses.replace(original.measurements[1], plans=(idx,), timing=timing(*samples(0.002))),
        dataclasses.replace(
            original.measurements[2], status="ok", error=None, timing=timing(*samples(0.020)), query_count=4
        ),
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
    return sorted(m.timing.total_s)[len(m.timing.total_s) // 2]


def measurement(base: Results, scenario: str, side: str) -> Measurement:
    found = next(m for m in base.measurements if (m.scenario, m.side) == (scenario, side))
    return dataclasses.replace(found, timing=timing(*samples(_median(found), shift=3)))


def without(results_obj: Results, scenario: str, case: str, side: str) -> Results:
    kept = tuple(
        m for m in results_obj.measurements if (m.scenario, m.case, m.side) != (scenario, case, side)
    )
    return dataclasses.replace(results_obj, measurements=kept)


def failed_state(results_obj: Results, state: str, error: str) -> Results:
    states: tuple[StateChange, ...] = tuple(
        dataclasses.replace(s, status="failed", error=error) if s.state == state else s
        for s in results_obj.states
    )
    return dataclasses.replace(results_obj, states=states)


def as_schema_2(results_obj: Results) -> Results:
    """What reading a schema 2 file gives (results.upgrade_2): the same samples, no pairs, no database
    time, a "blocks" schedule; as `bench compare` gets it from a base ref that predates pairing."""
    measurements = tuple(
        dataclasses.replace(m, timing=dataclasses.replace(m.timing, db_s=(), pair=(), first=(), worker=()))
        if m.timing is not None
        else m
        for m in results_obj.measurements
    )
    schedule = dataclasses.replace(results_obj.schedule, sides="blocks", items=())
    return dataclasses.replace(results_obj, measurements=measurements, schedule=schedule)


# ---- interleaved partners -------------------------------------------------------------------------


def _jitter(pair: int, size: float) -> float:
    """A deterministic factor 1 +- size per pair, centred on 1 (its median over SAMPLES pairs is 1)."""
    return 1 + size * (((pair * 7) % 11) - 5) / 5


def paired_rerun(
    base: Timing, *, total: float = 1.0, db: float | None = None, jitter: float = 0.01
) -> Timing:
    """HEAD's rounds, paired with BASE's: pair p's end-to-end time is BASE's pair p times `total`, its
    database time BASE's times `db` (default: `total`), each with the pair's jitter. The rounds are
    stored in reverse pair order, so only aligning by pair index (not position) pairs them right."""
    db = total if db is None else db
    order = list(reversed(range(base.rounds)))
    return dataclasses.replace(
        base,
        total_s=tuple(base.total_s[i] * total * _jitter(base.pair[i], jitter) for i in order),
        db_s=tuple(base.db_s[i] * db * _jitter(base.pair[i], jitter) for i in order),
        pair=tuple(base.pair[i] for i in order),
        first=tuple(not base.first[i] for i in order),
        worker=tuple(base.worker[i] for i in order),
    )


def interleaved(
    base: Results, changes: dict[str, Timing] | None = None, *, jitter: float = 0.01
) -> tuple[Results, Results]:
    """BASE and HEAD as one interleaved `bench compare` writes them: each names the other as partner.
    HEAD reruns every BASE round within +-jitter; changes maps "scenario__case__side" to HEAD's timing."""
    head = head_results(base)
    measurements = []
    for b, h in zip(base.measurements, head.measurements, strict=True):
        assert b.timing is not None
        new = (changes or {}).get(f"{b.scenario}__{b.case}__{b.side}", paired_rerun(b.timing, jitter=jitter))
        measurements.append(dataclasses.replace(h, timing=new))
    paired_base = dataclasses.replace(
        base, schedule=dataclasses.replace(base.schedule, sides="workers", partner=head.run_id)
    )
    paired_head = dataclasses.replace(
        head,
        measurements=tuple(measurements),
        schedule=dataclasses.replace(head.schedule, sides="workers", partner=base.run_id),
    )
    return paired_base, paired_head


def on_workers(results_obj: Results, workers: int) -> Results:
    """The same rounds, spread over worker processes by pair index (as `bench compare` spreads them)."""
    measurements = tuple(
        dataclasses.replace(
            m, timing=dataclasses.replace(m.timing, worker=tuple(p % workers for p in m.timing.pair))
        )
        if m.timing is not None
        else m
        for m in results_obj.measurements
    )
    return dataclasses.replace(results_obj, measurements=measurements)


def timing_of(results_obj: Results, scenario: str, case: str, side: str) -> Timing:
    found = results_obj.find(scenario, case, side)
    assert found is not None
    assert found.timing is not None
    return found.timing


def write(results_obj: Results, path: Path) -> Path:
    path.write_text(results.to_json(results_obj), encoding="utf-8")
    return path


def write_raw(data: dict[str, object], path: Path) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path
