"""The scale curve: the main scenarios on datasets of several sizes, each in its own database.

A sequential scan grows with the table; an index lookup barely does. One size cannot show that.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from bench import db
from bench.results import ScaleRun
from bench.session import plan_work, run_session

if TYPE_CHECKING:
    from collections.abc import Callable

    from bench.measure import Budget
    from bench.scenarios import Scenario
    from bench.states import State
    from seed import SeedOutcome, SeedRequest

SCALE_SCENARIOS = (
    "tracking_person_range",
    "tracking_identifier_range",
    "tracking_device",
    "journal_user_timeline",
    "journal_type_timeline",
)
SCALE_CASE = "typical"


def scaled(request: SeedRequest, rows: int) -> SeedRequest:
    """The same seed and population, with `rows` tracking rows and `rows` journal entries."""
    counts = dataclasses.replace(request.counts, tracking=rows, journal=rows)
    return dataclasses.replace(request, counts=counts, profile=None)


def run_scales(
    main: db.Target,
    request: SeedRequest,
    rows: tuple[int, ...],
    states: tuple[State, State],
    scenarios: dict[str, Scenario],
    budget: Budget,
    prepare: Callable[[db.Target, SeedRequest], SeedOutcome],
    *,
    allow_foreign: bool,
    blocks: int,
    progress: bool,
) -> tuple[ScaleRun, ...]:
    chosen = {name: s for name, s in scenarios.items() if name in SCALE_SCENARIOS}
    runs: list[ScaleRun] = []
    try:
        for count in rows:
            target = db.resolve(f"{main.name}_scale_{count}")
            db.guard(target, allow_foreign=allow_foreign)
            db.switch_django(target)
            outcome = prepare(target, scaled(request, count))
            cases = {
                name: [c for c in scenario.draw_cases() if c.name == SCALE_CASE]
                for name, scenario in chosen.items()
            }
            items = plan_work(chosen, cases, states, cold=False, blocks=blocks)
            collected = run_session(
                items, states, chosen, budget, label=f"scale {count:,} rows", progress=progress
            )
            runs.append(
                ScaleRun(
                    counts=dict(dataclasses.asdict(outcome.request.counts)),
                    fingerprint=outcome.fingerprint,
                    measurements=tuple(collected.warm),
                )
            )
    finally:
        db.switch_django(main)
    return tuple(runs)
