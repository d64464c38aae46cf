"""Optional pruning with HypoPG: when the server has the extension, each candidate is created
hypothetically on a copy in the chosen state and the captured SQL of its scenarios EXPLAINed; a candidate
no plan would use is dropped before anything is built. Without HypoPG every candidate is measured."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from django_index_bench.bench.pg import clones, db
from django_index_bench.bench.results import Measurement
from django_index_bench.bench.steps.states import State, reach
from django_index_bench.bench.suggest.results import Candidate, Dropped

NOT_INSTALLED = "not installed on the server: no candidate pruned, every one measured"


@dataclass(frozen=True)
class Pruning:
    summary: str
    dropped: tuple[Dropped, ...] = ()


def available(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'").fetchone()
    return row is not None


def _indexes(plan: Any) -> set[str]:
    found: set[str] = set()
    stack = [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        if "Index Name" in node:
            found.add(str(node["Index Name"]))
        stack += node.get("Plans", [])
    return found


def _uses(conn: psycopg.Connection[Any], candidate: Candidate, queries: Sequence[str]) -> bool:
    conn.execute("SELECT hypopg_reset()")
    row = conn.execute("SELECT indexname FROM hypopg_create_index(%s)", (candidate.sql,)).fetchone()
    assert row is not None
    name = str(row[0])
    for sql in queries:
        (plan,) = conn.execute("EXPLAIN (FORMAT JSON) " + sql).fetchone() or (None,)
        if plan and name in _indexes(plan):
            return True
    return False


def prune(
    target: db.Target,
    state: State,
    candidates: Sequence[Candidate],
    captured: Sequence[Measurement],
    tag: str,
) -> Pruning:
    if not candidates:
        return Pruning("no candidate to prune")
    if not available(clones.maintenance_url(target)):
        return Pruning(NOT_INSTALLED)
    from django.db import connection

    connection.close()
    copied = clones.clone(target, clones.name_for(target, tag, "hypopg"))
    try:
        db.switch_django(copied)
        reach(state)
        connection.close()
        dropped = []
        with psycopg.connect(copied.url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
            for candidate in candidates:
                queries = [q for m in captured if m.scenario in candidate.scenarios for q in m.queries]
                if not _uses(conn, candidate, queries):
                    dropped.append(
                        Dropped(candidate.name, "not used by the planner (HypoPG)", "no plan used it")
                    )
    finally:
        db.switch_django(target)
        clones.drop_all(target, [copied])
    return Pruning(f"pruned {len(dropped)} of {len(candidates)} candidates no plan would use", tuple(dropped))
