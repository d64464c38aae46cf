"""The deterministic facts of one side of an item: query count, SQL, plans with buffers, payload, memory.

They repeat exactly, so they are taken once, outside the timed rounds; the executor adds the timing.
"""

from __future__ import annotations

import re
import tracemalloc
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import connection

from django_index_bench.bench.results import Measurement, Plan
from django_index_bench.bench.rounds.explain import explain
from django_index_bench.bench.rounds.isolation import rolled_back, run_commit_hooks

if TYPE_CHECKING:
    from django_index_bench.bench.scenarios import Case, Outcome, Scenario

# An N+1 loop over a long list issues hundreds of queries; their plans repeat, so keep the first few.
MAX_PLANS = 25


# The statements EXPLAIN accepts; transaction control (BEGIN, COMMIT, SAVEPOINT, RELEASE, ROLLBACK ...)
# and anything else the ORM sends (SET, DDL) is recorded as sent but never planned.
EXPLAINABLE = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "WITH", "TABLE"})
TRANSACTION_CONTROL = frozenset(
    {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "PREPARE"}
)
WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE"})
_FIRST_WORD = re.compile(r"\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*|\(\s*)*([A-Za-z]+)", re.DOTALL)


def keyword(sql: str) -> str:
    """The statement's first keyword, upper case, past comments and opening parentheses."""
    found = _FIRST_WORD.match(sql)
    return found.group(1).upper() if found else ""


class _Recorder:
    """An execute wrapper that plans each statement right before it runs, on the same connection and
    inside the same transaction as the call, so the plan sees the data the statement sees."""

    def __init__(self, cold: Callable[[], None] | None) -> None:
        self.cold = cold
        self.statements: list[str] = []
        self.plans: list[Plan] = []
        self.writes = False
        self.planning = False

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        kind = keyword(sql)
        # The harness's own statements while planning (the eviction before a cold plan) are not the app's.
        if kind in TRANSACTION_CONTROL or self.planning:
            return execute(sql, params, many, context)
        literal = sql if params is None or many else context["connection"].ops.compose_sql(sql, params)
        self.writes = self.writes or kind in WRITES
        if kind in EXPLAINABLE and not many and len(self.plans) < MAX_PLANS:
            self.planning = True
            try:
                plan = explain(literal, cold=self.cold)
            finally:
                self.planning = False
            self.writes = self.writes or "ModifyTable" in plan.node_types
            self.plans.append(plan)
        self.statements.append(literal)
        return execute(sql, params, many, context)


def facts(
    scenario: Scenario,
    case: Case,
    side: str,
    state: str,
    *,
    cold: Callable[[], None] | None = None,
    warm_first: bool = True,
) -> Measurement:
    """One side's facts, on the current connection; with `cold`, plans are taken right after evicting.
    Every call runs in a transaction rolled back afterwards, as every timed round does. warm_first=False:
    the connection already ran this call (the cold series follows the warm one), so it is not run once
    more before the recorded call."""

    def once() -> Outcome:
        with rolled_back():
            outcome = scenario.execute(side, case.params)
            run_commit_hooks()
        return outcome

    # Warm the connection, the caches and Django's model machinery first.
    if warm_first:
        once()

    recorder = _Recorder(cold)
    with connection.execute_wrapper(recorder):
        outcome = once()
    queries = tuple(recorder.statements)

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
        plans=tuple(recorder.plans),
        rows=outcome.rows,
        response_bytes=outcome.response_bytes,
        peak_memory_bytes=peak,
        writes=recorder.writes,
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
