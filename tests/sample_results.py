"""A small, hand-built results object with every kind of scenario, for tests that need no database."""

from __future__ import annotations

from django_index_bench.bench.results import (
    SCHEMA_VERSION,
    Dataset,
    Environment,
    Measurement,
    Plan,
    Results,
    ScenarioInfo,
    Schedule,
    ScheduledItem,
    StateChange,
    Timing,
)


def plan(shape: str, *, index: str | None, hit: int, read: int = 0, sort: bool = False) -> Plan:
    return Plan(
        sql="SELECT 1",
        plan_mode="custom plan: the literal SQL the ORM sent",
        shape=shape,
        node_types=tuple(part.split(" on ")[0] for part in shape.split(" > ")),
        index_names=(index,) if index else (),
        scan_directions=("Forward",) if index else (),
        has_sort=sort,
        shared_hit_blocks=hit,
        shared_read_blocks=read,
        rows_removed_by_filter=0 if index else 12345,
        planning_ms=0.1,
        execution_ms=1.0,
        workers_planned=0,
        workers_launched=0,
        jit=False,
        raw=[{"Plan": {"Node Type": shape.split(" > ")[0]}}],
        relations=tuple(sorted({part.split(" on ")[1] for part in shape.split(" > ") if " on " in part})),
    )


def timing(*samples: float, db_share: float = 0.25, worker: int = 0) -> Timing:
    """Rounds paired by position: round i pairs with round i of the other side's timing."""
    return Timing(
        total_s=samples,
        db_s=tuple(t * db_share for t in samples),
        pair=tuple(range(len(samples))),
        first=tuple(i % 2 == 0 for i in range(len(samples))),
        worker=(worker,) * len(samples),
        warmup_rounds=1,
        timer="time.perf_counter",
    )


def schedule(*items: ScheduledItem) -> Schedule:
    return Schedule(
        sides="databases",
        workers=1,
        order_seed=42,
        warmup_rounds=1,
        min_pairs=5,
        max_pairs=400,
        precision=0.02,
        seconds=2.0,
        timer="time.perf_counter",
        timer_resolution_s=1e-7,
        items=items,
    )


def sample_results() -> Results:
    seq = plan("Seq Scan on tracking", index=None, hit=900, read=100)
    idx = plan(
        "Index Scan using tracking_people_date_idx on tracking", index="tracking_people_date_idx", hit=12
    )
    return Results(
        schema_version=SCHEMA_VERSION,
        run_id="20261129T000000Z-abc1234",
        started_at="2026-11-29T00:00:00+00:00",
        finished_at="2026-11-29T00:05:00+00:00",
        command="bench run --profile tiny",
        environment=Environment(
            postgres_version="18.6",
            postgres_settings={"jit": "off", "max_parallel_workers_per_gather": "2"},
            python="3.11.7",
            django="5.2.19",
            psycopg="3.3.9",
            pytest_benchmark="5.3.1",
            platform="Linux-x86_64",
            cpu_count=2,
            git_commit="abc1234",
            git_dirty=False,
            database="embedded",
        ),
        dataset=Dataset(
            profile="tiny",
            seed=42,
            counts={"tenants": 3, "people": 60, "tracking": 5000, "journal": 4000},
            fingerprint="f" * 16,
            seeder_version="1",
            reused=False,
            seed_seconds=1.5,
        ),
        schedule=schedule(
            ScheduledItem(
                "tracking_person_range",
                "heavy",
                "warm",
                "before",
                "after",
                "before",
                "after",
                5,
                "budget",
                0.1,
            ),
            ScheduledItem(
                "wellness_summary",
                "all",
                "warm",
                "n_plus_one",
                "prefetch",
                "after",
                "after",
                0,
                "failed",
                0.1,
            ),
        ),
        states=(
            StateChange(
                state="before",
                database="bench_run_before",
                targets={"attendance": "0030_add_performance_indexes_post_assignment"},
                migrations=("-attendance.0031_add_tracking_performance_indexes",),
                migrate_seconds=0.4,
                analyze_seconds=0.1,
            ),
            StateChange(
                state="after",
                database="bench_run_after",
                targets={"attendance": "0031_add_tracking_performance_indexes"},
                migrations=("attendance.0031_add_tracking_performance_indexes",),
                migrate_seconds=2.5,
                analyze_seconds=0.1,
            ),
        ),
        scenarios=(
            ScenarioInfo(
                name="tracking_person_range",
                title="Tracking: one person's rows in a date range",
                group="tracking",
                kind="migration",
                baseline="before",
                candidate="after",
                description="Tracking.objects.filter(people=..., receiveddate__range=...)",
                cases=("heavy",),
            ),
            ScenarioInfo(
                name="wellness_summary",
                title="Wellness task: per-tenant summary",
                group="wellness",
                kind="variant",
                baseline="n_plus_one",
                candidate="prefetch",
                description="tenant loop",
                cases=("all",),
            ),
        ),
        measurements=(
            Measurement(
                scenario="tracking_person_range",
                case="heavy",
                side="before",
                state="before",
                status="ok",
                params={"people_id": 7},
                timing=timing(0.010, 0.011, 0.012, 0.010, 0.013),
                query_count=1,
                queries=("SELECT ...",),
                plans=(seq,),
                rows=250,
            ),
            Measurement(
                scenario="tracking_person_range",
                case="heavy",
                side="after",
                state="after",
                status="ok",
                params={"people_id": 7},
                timing=timing(0.002, 0.0021, 0.0019, 0.002, 0.0022),
                query_count=1,
                queries=("SELECT ...",),
                plans=(idx,),
                rows=250,
            ),
            Measurement(
                scenario="wellness_summary",
                case="all",
                side="n_plus_one",
                state="after",
                status="failed",
                error="not measured: its pair's other side failed",
                query_count=21,
            ),
            Measurement(
                scenario="wellness_summary",
                case="all",
                side="prefetch",
                state="after",
                status="failed",
                error="RuntimeError: boom",
            ),
        ),
    )
