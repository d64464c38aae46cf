"""Results for the report tests: one of every outcome a report must tell apart, and no database.

Timings are schema 3: round i of one side pairs with round i of the other (tests.sample_results.timing),
and every results object carries a schedule item per case, as a run records it."""

from __future__ import annotations

import dataclasses

import numpy as np

from django_index_bench.bench.results import (
    Costs,
    Measurement,
    MigrationCost,
    Plan,
    RelationSize,
    Results,
    ScaleRun,
    ScenarioInfo,
    ScheduledItem,
    StopReason,
    Timing,
    WriteCost,
)
from tests.sample_results import plan, sample_results, schedule, timing


def samples(center: float, *, seed: int, n: int = 12) -> tuple[float, ...]:
    rng = np.random.default_rng(seed)
    return tuple(round(float(x), 9) for x in rng.normal(center, center * 0.03, n))


def scheduled(results: Results) -> Results:
    """One schedule item per described case, as the run would record it: its pairs are the rounds both
    sides have, and it stopped on the precision rule, or "failed" when a side did not measure."""
    items = []
    for info in results.scenarios:
        for case in info.cases:
            sides = [results.find(info.name, case, side) for side in (info.baseline, info.candidate)]
            timings = [m.timing for m in sides if m is not None and m.ok and m.timing is not None]
            pairs = min((t.rounds for t in timings), default=0) if len(timings) == 2 else 0
            stop: StopReason = "precision" if len(timings) == 2 else "failed"
            before, after = (m.state if m else "after" for m in sides)
            items.append(
                ScheduledItem(
                    scenario=info.name,
                    case=case,
                    cache="warm",
                    baseline=info.baseline,
                    candidate=info.candidate,
                    baseline_state=before,
                    candidate_state=after,
                    pairs=pairs,
                    stop=stop,
                    seconds=0.5,
                )
            )
    return dataclasses.replace(results, schedule=dataclasses.replace(schedule(), items=tuple(items)))


def _info(
    name: str, group: str, cases: tuple[str, ...], *, variant: tuple[str, str] | None = None
) -> ScenarioInfo:
    baseline, candidate = variant or ("before", "after")
    return ScenarioInfo(
        name=name,
        title=f"{group}: {name}",
        group=group,
        kind="variant" if variant else "migration",
        baseline=baseline,
        candidate=candidate,
        description=f"{name} as the app runs it",
        cases=cases,
    )


def _timed(
    scenario: str,
    case: str,
    side: str,
    center: float,
    seed: int,
    *,
    plans: tuple[Plan, ...] = (),
    rows: int | None = None,
    queries: int = 1,
    response_bytes: int | None = None,
    peak_memory_bytes: int | None = None,
) -> Measurement:
    return Measurement(
        scenario=scenario,
        case=case,
        side=side,
        state=side if side in ("before", "after") else "after",
        status="ok",
        timing=timing(*samples(center, seed=seed)),
        query_count=queries,
        plans=plans,
        rows=rows,
        response_bytes=response_bytes,
        peak_memory_bytes=peak_memory_bytes,
    )


def every_outcome() -> Results:
    """tracking: much faster (meets its claim); journal: a little faster (misses its claim), one case
    missing and one failed; wellness: 4 -> 2 queries; helpdesk: smaller response and memory."""
    base = sample_results()
    seq = plan("Seq Scan on tracking", index=None, hit=900, read=100)
    idx = plan(
        "Index Scan using tracking_people_date_idx on tracking", index="tracking_people_date_idx", hit=12
    )
    scenarios = (
        _info("tracking_person_range", "tracking", ("heavy",)),
        _info("journal_user_timeline", "journal", ("heavy", "typical", "light")),
        _info("wellness_summary", "wellness", ("all",), variant=("n_plus_one", "prefetch")),
        _info("helpdesk_load_peoples", "helpdesk", ("page_1",), variant=("legacy", "paginated")),
    )
    measurements = (
        _timed("tracking_person_range", "heavy", "before", 0.0200, 1, plans=(seq,), rows=250),
        _timed("tracking_person_range", "heavy", "after", 0.0020, 2, plans=(idx,), rows=250),
        _timed("journal_user_timeline", "heavy", "before", 0.0100, 3),
        _timed("journal_user_timeline", "heavy", "after", 0.0080, 4),
        _timed("journal_user_timeline", "typical", "before", 0.0050, 5),
        Measurement(
            scenario="journal_user_timeline",
            case="typical",
            side="after",
            state="after",
            status="failed",
            error="OperationalError: canceling statement due to statement timeout",
        ),
        # journal_user_timeline / light: never written (the runner died), so it must show as missing.
        _timed("wellness_summary", "all", "n_plus_one", 0.0300, 6, queries=4),
        _timed("wellness_summary", "all", "prefetch", 0.0100, 7, queries=2),
        _timed(
            "helpdesk_load_peoples",
            "page_1",
            "legacy",
            0.2000,
            8,
            response_bytes=2_000_000,
            peak_memory_bytes=8_000_000,
        ),
        _timed(
            "helpdesk_load_peoples",
            "page_1",
            "paginated",
            0.0100,
            9,
            response_bytes=12_000,
            peak_memory_bytes=400_000,
        ),
    )
    return scheduled(dataclasses.replace(base, scenarios=scenarios, measurements=measurements))


def with_a_slower_control() -> Results:
    """journal_user_timeline half the time after (meets a 40-55 % claim), and the control
    journal_privacy_scope, in the same group, 1.5 times slower after, by chance of the machine."""
    base = every_outcome()
    scenarios = (
        _info("journal_user_timeline", "journal", ("heavy",)),
        _info("journal_privacy_scope", "journal", ("heavy",)),
    )
    measurements = (
        _timed("journal_user_timeline", "heavy", "before", 0.0100, 21),
        _timed("journal_user_timeline", "heavy", "after", 0.0050, 22),
        _timed("journal_privacy_scope", "heavy", "before", 0.0040, 23),
        _timed("journal_privacy_scope", "heavy", "after", 0.0060, 24),
    )
    return scheduled(dataclasses.replace(base, scenarios=scenarios, measurements=measurements))


def with_costs_and_cold() -> Results:
    """every_outcome plus what the indexes cost and a cold series for the tracking scenario only."""
    results = every_outcome()
    costs = Costs(
        database="bench_costs",
        migrations=(
            MigrationCost(
                migration="attendance.0031_add_tracking_performance_indexes",
                variant="plain",
                table="tracking",
                lock="SHARE",
                seconds=1.25,
                statements=(),
                max_write_stall_s=1.2,
                writes_during=3,
                invalid_indexes=(),
            ),
        ),
        sizes_before=(RelationSize("tracking", "tracking", "table", 4_000_000),),
        sizes_after=(
            RelationSize("tracking", "tracking", "table", 4_000_000),
            RelationSize("tracking", "tracking_people_date_idx", "index", 900_000),
        ),
        writes=(),
    )
    cold = tuple(
        dataclasses.replace(m, timing=timing(*samples(center, seed=seed)))
        for m, center, seed in (
            (results.find("tracking_person_range", "heavy", "before"), 0.050, 11),
            (results.find("tracking_person_range", "heavy", "after"), 0.004, 12),
        )
        if m is not None
    )
    return dataclasses.replace(results, costs=costs, cold=cold)


SCALE_ROWS = (1_000, 10_000, 100_000)


def _scale_run(rows: int, seed: int) -> ScaleRun:
    """A seq scan that grows with the rows before the migration, an index lookup that barely does after."""
    thousands = rows / 1_000
    centers = {
        ("tracking_person_range", "before"): 0.0002 * thousands,
        ("tracking_person_range", "after"): 0.0005 * thousands**0.05,
        ("journal_user_timeline", "before"): 0.0010 * thousands**0.5,
        ("journal_user_timeline", "after"): 0.0008 * thousands**0.1,
    }
    measurements = tuple(
        _timed(scenario, "typical", side, center, seed + i)
        for i, ((scenario, side), center) in enumerate(centers.items())
    )
    return ScaleRun(
        counts={"tenants": 3, "people": 60, "tracking": rows, "journal": rows},
        fingerprint=f"scale{rows}",
        measurements=measurements,
    )


TRACKING_MIGRATION = "attendance.0031_add_tracking_performance_indexes"
JOURNAL_MIGRATION = "journal.0016_optimize_entry_indexes"
# Per pair, how far each repetition strays from its figure's centre: before and after of an "unchanged"
# figure stray in opposite directions pair by pair, so their ratios straddle 1.
NOISE = (0.02, -0.03, 0.01, 0.04, -0.02, -0.01)


def migration_runs(
    migration: str, table: str, variant: str, direction: str, lock: str, seconds: float, stall: float
) -> tuple[MigrationCost, ...]:
    """Three repetitions, a few percent apart; the writer's median and p99 gaps well below its longest."""
    return tuple(
        MigrationCost(
            migration=migration,
            variant=variant,
            table=table,
            lock=lock,
            seconds=round(seconds * (1 + 0.04 * i), 6),
            statements=(),
            max_write_stall_s=round(stall * (1 + 0.04 * i), 6),
            writes_during=3 + i,
            invalid_indexes=(),
            direction=direction,  # type: ignore[arg-type]
            repetition=i,
            lock_held_s=round(seconds * 0.9 * (1 + 0.04 * i), 6),
            stall_p50_s=0.0004,
            stall_p99_s=round(0.001 + 0.0005 * i, 6),
        )
        for i in range(3)
    )


def write_pairs(
    table: str,
    method: str,
    rows: int,
    seconds: tuple[float, float],
    wal: tuple[int, int],
    *,
    same: bool = False,
) -> tuple[WriteCost, ...]:
    """Six alternating pairs around (before, after) seconds and WAL bytes; `same`: the after side strays
    opposite to the before side, so the time ratios straddle 1."""
    found = []
    for pair, noise in enumerate(NOISE):
        for state, centre, bytes_, sign in (
            ("before", seconds[0], wal[0], 1),
            ("after", seconds[1], wal[1], -1),
        ):
            stray = noise * (sign if same else 1) + (0.005 if state == "after" and not same else 0)
            found.append(
                WriteCost(
                    state=state,
                    table=table,
                    method=method,
                    rows=rows,
                    seconds=round(centre * (1 + stray), 6),
                    wal_bytes=round(bytes_ * (1 + abs(noise) / 10)),
                    pair=pair,
                    first=(pair % 2 == 0) == (state == "before"),
                )
            )
    return tuple(found)


def with_everything() -> Results:
    """with_costs_and_cold plus every variant and direction of both migrations (three repetitions each),
    six pairs of every write figure for both tables, and a three-size scale curve.

    Inserting by COPY into tracking is clearly slower after; ORM creates into tracking are unchanged
    within the noise (their interval includes 1). The main run has journal_user_timeline / typical
    "before" (4,000 journal rows) but not "after" (it failed), so only the before line gains the main
    run's point."""
    results = with_costs_and_cold()
    assert results.costs is not None
    migrations = (
        *migration_runs(TRACKING_MIGRATION, "tracking", "plain", "forward", "SHARE", 1.25, 1.2),
        *migration_runs(TRACKING_MIGRATION, "tracking", "plain", "backward", "ACCESS EXCLUSIVE", 0.05, 0.04),
        *migration_runs(
            TRACKING_MIGRATION, "tracking", "concurrent", "forward", "SHARE UPDATE EXCLUSIVE", 2.5, 0.004
        ),
        *migration_runs(
            TRACKING_MIGRATION, "tracking", "concurrent", "backward", "SHARE UPDATE EXCLUSIVE", 0.08, 0.003
        ),
        *migration_runs(
            JOURNAL_MIGRATION, "journal_journalentry", "plain", "forward", "ACCESS EXCLUSIVE", 0.5, 0.45
        ),
        *migration_runs(
            JOURNAL_MIGRATION, "journal_journalentry", "plain", "backward", "ACCESS EXCLUSIVE", 0.4, 0.35
        ),
    )
    sizes_before = (
        *results.costs.sizes_before,
        RelationSize("journal_journalentry", "journal_journalentry", "table", 3_000_000),
        RelationSize("journal_journalentry", "journal_user_ts_idx", "index", 500_000),
    )
    sizes_after = (
        *results.costs.sizes_after,
        RelationSize("tracking", "tracking_ident_date_idx", "index", 1_100_000),
        RelationSize("journal_journalentry", "journal_journalentry", "table", 3_000_000),
        RelationSize("journal_journalentry", "journal_user_ts_desc_idx", "index", 520_000),
    )
    writes = (
        *write_pairs("tracking", "copy", 10_000, (0.1, 0.7), (4_000_000, 7_500_000)),
        *write_pairs("tracking", "orm_create", 200, (0.25, 0.25), (130_000, 190_000), same=True),
        *write_pairs("journal_journalentry", "copy", 10_000, (0.2, 0.3), (5_000_000, 6_000_000)),
        *write_pairs("journal_journalentry", "orm_create", 200, (0.3, 0.33), (150_000, 170_000)),
    )
    costs = dataclasses.replace(
        results.costs,
        migrations=migrations,
        sizes_before=sizes_before,
        sizes_after=sizes_after,
        writes=writes,
        databases={"before": "bench_costs_before", "after": "bench_costs_after"},
    )
    scales = tuple(_scale_run(rows, seed=100 + 10 * i) for i, rows in enumerate(SCALE_ROWS))
    return dataclasses.replace(results, costs=costs, scales=scales)


def rounds(
    total: tuple[float, ...], db: tuple[float, ...], *, first_pair: int = 0, workers: tuple[int, ...] = ()
) -> Timing:
    """One side's rounds with their database time, pairs numbered from first_pair, in one worker unless
    `workers` names each round's."""
    n = len(total)
    return Timing(
        total_s=total,
        db_s=db,
        pair=tuple(range(first_pair, first_pair + n)),
        first=tuple(i % 2 == 0 for i in range(n)),
        worker=workers or (0,) * n,
        warmup_rounds=1,
        timer="time.perf_counter",
    )


def one_case(before: Timing, after: Timing) -> Results:
    """Only tracking_person_range / heavy, with these rounds on its two sides."""
    base = sample_results()
    info = _info("tracking_person_range", "tracking", ("heavy",))
    measurements = tuple(
        Measurement(
            scenario=info.name,
            case="heavy",
            side=side,
            state=side,
            status="ok",
            timing=timing,
            query_count=1,
        )
        for side, timing in (("before", before), ("after", after))
    )
    return scheduled(dataclasses.replace(base, scenarios=(info,), measurements=measurements))


# A machine that drifts: each pair 5 % slower than the one before it, over a range wider than any effect.
DRIFT = tuple(round(0.010 * (1 + 0.05 * i), 9) for i in range(20))


def scaled(values: tuple[float, ...], factor: float) -> tuple[float, ...]:
    return tuple(round(v * factor, 12) for v in values)
