"""The deterministic facts of one side of an item: query count, SQL, plans with buffers, payload, memory.

They repeat exactly, so they are taken once, outside the timed rounds; the executor adds the timing.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_index_bench.bench.results import Measurement
from django_index_bench.bench.rounds.explain import explain

if TYPE_CHECKING:
    from django_index_bench.bench.scenarios import Case, Outcome, Scenario

# An N+1 loop over a long list issues hundreds of queries; their plans repeat, so keep the first few.
MAX_PLANS = 25


def facts(
    scenario: Scenario, case: Case, side: str, state: str, *, cold: Callable[[], None] | None = None
) -> Measurement:
    """One side's facts, on the current connection; with `cold`, plans are taken right after evicting."""

    def once() -> Outcome:
        return scenario.execute(side, case.params)

    # Warm the connection, the caches and Django's model machinery first.
    once()

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
        query_count=len(queries),
        queries=queries,
        plans=plans,
        rows=outcome.rows,
        response_bytes=outcome.response_bytes,
        peak_memory_bytes=peak,
    )


def failed(scenario: str, case: Case, side: str, state: str, error: str) -> Measurement:
    return Measurement(
        scenario=scenario,
        case=case.name,
        side=side,
        state=state,
        status="failed",
        error=error,
        params=dict(case.params),
    )


def describe(error: BaseException) -> str:
    """The error as the user should read it: its type and first line."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")
