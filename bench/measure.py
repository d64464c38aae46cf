"""One measurement: a scenario's side, on one case, in the current migration state.

Deterministic facts first (query count, SQL, plans with buffers, payload), then the timing, which the
caller supplies: pytest-benchmark's fixture in a run, nothing in the tests of the deterministic metrics.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.plans import explain
from bench.results import Measurement, Timing

if TYPE_CHECKING:
    from bench.scenarios import Case, Outcome, Scenario

# A wellness run on a big tenant list issues hundreds of queries; their plans repeat, so keep the first few.
MAX_PLANS = 25

Timer = Callable[[Callable[[], object], float], Timing]


@dataclass(frozen=True)
class Budget:
    """How long to spend timing one measurement, and the bounds on its rounds."""

    seconds: float = 2.0
    min_rounds: int = 10
    max_rounds: int = 200

    def split(self, blocks: int) -> Budget:
        """The share of one block when a measurement is spread over `blocks` blocks."""
        return Budget(
            seconds=self.seconds / blocks,
            min_rounds=-(-self.min_rounds // blocks),
            max_rounds=-(-self.max_rounds // blocks),
        )

    def rounds_for(self, one_call_seconds: float) -> int:
        wanted = int(self.seconds / max(one_call_seconds, 1e-6))
        return max(self.min_rounds, min(self.max_rounds, wanted))


QUICK = Budget(seconds=0.05, min_rounds=4, max_rounds=6)


def measure(
    scenario: Scenario,
    case: Case,
    side: str,
    state: str,
    *,
    timer: Timer | None = None,
    cold: Callable[[], None] | None = None,
) -> Measurement:
    """Measure one side; with `cold`, plans are taken right after it evicts (and the timer should too)."""

    def once() -> Outcome:
        return scenario.execute(side, case.params)

    # Warm the connection, the caches and Django's model machinery; time it to size the rounds.
    started = time.perf_counter()
    once()
    one_call = time.perf_counter() - started

    with CaptureQueriesContext(connection) as captured:
        outcome = once()
    queries = tuple(q["sql"] for q in captured.captured_queries)
    plans = tuple(explain(sql, cold=cold) for sql in queries[:MAX_PLANS])

    peak = None
    if scenario.measures_memory:
        tracemalloc.start()
        try:
            once()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    return Measurement(
        scenario=scenario.name,
        case=case.name,
        side=side,
        state=state,
        status="ok",
        params=dict(case.params),
        timing=timer(once, one_call) if timer else None,
        query_count=len(queries),
        queries=queries,
        plans=plans,
        rows=outcome.rows,
        response_bytes=outcome.response_bytes,
        peak_memory_bytes=peak,
    )


def failed(scenario: str, case: Case, side: str, state: str, error: BaseException) -> Measurement:
    return Measurement(
        scenario=scenario,
        case=case.name,
        side=side,
        state=state,
        status="failed",
        error=f"{type(error).__name__}: {error}",
        params=dict(case.params),
    )
