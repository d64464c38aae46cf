"""The scale curve: the main scenarios on datasets of several sizes, each in its own database.

A sequential scan grows with the table; an index lookup barely does. One size cannot show that.
A point whose data is the main dataset (the same seed, population and counts: the same fingerprint)
is neither seeded nor measured again: it is the main warm series' measurements of its scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django_index_bench.bench.pg import clones, db
from django_index_bench.bench.pg import run_lock as locks
from django_index_bench.bench.results import ScaleRun
from django_index_bench.bench.rounds.copies import count_for
from django_index_bench.bench.steps.timed import measure_states

if TYPE_CHECKING:
    from collections.abc import Callable

    from django_index_bench.bench.config import ScaleSpec
    from django_index_bench.bench.results import Measurement
    from django_index_bench.bench.rounds.schedule import Rules
    from django_index_bench.bench.scenarios import Scenario
    from django_index_bench.bench.steps.states import State
    from django_index_bench.seed import SeedOutcome
    from django_index_bench.seed.source import Source


def scaled(source: Source, spec: ScaleSpec, rows: int) -> Source:
    """The same seed and population, with `rows` rows in each of the configured scale tables."""
    return source.with_counts(dict.fromkeys(spec.tables, rows))


def chosen(scenarios: dict[str, Scenario], spec: ScaleSpec) -> dict[str, Scenario]:
    """The configured scale scenarios, else every scenario that runs in both migration states."""
    if spec.scenarios:
        return {name: s for name, s in scenarios.items() if name in spec.scenarios}
    return {name: s for name, s in scenarios.items() if s.kind == "migration"}


@dataclass(frozen=True)
class MainSeries:
    """What the main dataset already measured: its fingerprint and its warm series."""

    fingerprint: str
    warm: tuple[Measurement, ...]


def reused(
    main: MainSeries, source: Source, spec: ScaleSpec, scenarios: dict[str, Scenario]
) -> ScaleRun | None:
    """The scale point that is the main dataset: the main warm series' measurements of the point's
    scenarios and case, as the point would have measured them. None when the point's data differs, or
    the main series lacks one of them (the point then measures it, and says what is missing)."""
    if source.fingerprint() != main.fingerprint:
        return None
    measurements = tuple(m for m in main.warm if m.scenario in scenarios and m.case == spec.case)
    if {m.scenario for m in measurements} != set(scenarios):
        return None
    return ScaleRun(
        counts=dict(source.dataset_counts), fingerprint=main.fingerprint, measurements=measurements,
        reused="main",
    )  # fmt: skip


def scale_database(main: db.Target, rows: int) -> str:
    """Seeded once and reused by later runs, like the main database."""
    return f"{main.name}_scale_{rows}"


def run_scales(
    main: db.Target,
    source: Source,
    spec: ScaleSpec,
    rows: tuple[int, ...],
    states: tuple[State, State],
    scenarios: dict[str, Scenario],
    rules: Rules,
    prepare: Callable[[db.Target, Source], SeedOutcome],
    *,
    seed: int,
    tag: str,
    keep: bool,
    progress: bool,
    main_series: MainSeries | None = None,
    copies: int = 1,
) -> tuple[ScaleRun, ...]:
    """`main_series`: the main dataset's measurements, reused for a point whose data is the same.
    `copies`: the main run's database copies per state; a point gets as many, or fewer when its data is
    larger (rounds.copies' rule), never more: its rounds' copies are read by the main schedule's."""
    measured_here = chosen(scenarios, spec)
    runs: list[ScaleRun] = []
    try:
        for count in rows:
            point = scaled(source, spec, count)
            same = None if main_series is None else reused(main_series, point, spec, measured_here)
            if same is not None:
                runs.append(same)
                continue
            target = db.resolve(scale_database(main, count))
            with locks.hold(clones.maintenance_url(target), target.name, purpose=f"bench run scale {tag}"):
                db.switch_django(target)
                outcome = prepare(target, point)
                size = clones.databases_bytes(clones.maintenance_url(target), [target.name])
                measured = measure_states(
                    target, states, measured_here, rules,
                    cold=False, seed=seed, tag=tag, keep=keep, progress=progress,
                    label=f"scale {count:,} rows", only_case=spec.case,
                    copies_per_state=min(copies, count_for(size, None)),
                )  # fmt: skip
            runs.append(
                ScaleRun(
                    counts=dict(outcome.source.dataset_counts),
                    fingerprint=outcome.fingerprint,
                    measurements=measured.warm,
                )
            )
    finally:
        db.switch_django(main)
    return tuple(runs)
