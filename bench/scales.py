"""The scale curve: the main scenarios on datasets of several sizes, each in its own database.

A sequential scan grows with the table; an index lookup barely does. One size cannot show that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench import clones, db, locks
from bench.measured import measure_states
from bench.results import ScaleRun

if TYPE_CHECKING:
    from collections.abc import Callable

    from bench.scenarios import Scenario
    from bench.schedule import Rules
    from bench.states import State
    from seed import SeedOutcome, Source

SCALE_SCENARIOS = (
    "tracking_person_range",
    "tracking_identifier_range",
    "tracking_device",
    "journal_user_timeline",
    "journal_type_timeline",
)
SCALE_CASE = "typical"


SCALE_TABLES = ("tracking", "journal_journalentry")


def scaled(source: Source, rows: int) -> Source:
    """The same seed and population, with `rows` tracking rows and `rows` journal entries."""
    return source.with_counts({table: rows for table in SCALE_TABLES if table in source.counts})


def scale_database(main: db.Target, rows: int) -> str:
    """Seeded once and reused by later runs, like the main database."""
    return f"{main.name}_scale_{rows}"


def run_scales(
    main: db.Target,
    request: Source,
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
) -> tuple[ScaleRun, ...]:
    chosen = {name: s for name, s in scenarios.items() if name in SCALE_SCENARIOS}
    runs: list[ScaleRun] = []
    try:
        for count in rows:
            target = db.resolve(scale_database(main, count))
            with locks.hold(clones.maintenance_url(target), target.name, purpose=f"bench run scale {tag}"):
                db.switch_django(target)
                outcome = prepare(target, scaled(request, count))
                measured = measure_states(
                    target, states, chosen, rules,
                    cold=False, seed=seed, tag=tag, keep=keep, progress=progress,
                    label=f"scale {count:,} rows", only_case=SCALE_CASE,
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
