"""EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of the SQL the ORM sent, boiled down to what explains a timing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.db import connection

from django_index_bench.bench.results import Plan
from django_index_bench.bench.rounds.plan_relations import relations

# Django's psycopg backend binds parameters on the client, so the captured SQL carries literal values and is
# byte for byte what the app sent: PostgreSQL plans it as a custom plan, exactly like the app's query.
PLAN_MODE = "custom plan: EXPLAIN of the literal SQL the ORM sent (client-side binding, as the app runs it)"
EXPLAIN = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "


def explain(sql: str, *, cold: Callable[[], None] | None = None) -> Plan:
    """The warm plan (the second of two runs: the first settles hint bits and caches), or, given an
    eviction function, the plan right after evicting. Each run is inside a savepoint rolled back at
    once, so EXPLAIN ANALYZE of a write changes nothing; called inside the scenario's own transaction
    (rounds/facts.py), the plan sees what the statement itself sees, its earlier writes included."""
    raw = connection.connection  # the psycopg connection itself: no execute wrapper sees these
    assert raw is not None
    with raw.cursor() as cursor:
        if cold is None:
            _in_savepoint(cursor, EXPLAIN + sql)
        else:
            cold()
        document = _in_savepoint(cursor, EXPLAIN + sql)
    return summarize(sql, document)


def _in_savepoint(cursor: Any, statement: str) -> Any:
    cursor.execute("SAVEPOINT bench_explain")
    try:
        cursor.execute(statement)
        (document,) = cursor.fetchone()
    finally:
        cursor.execute("ROLLBACK TO SAVEPOINT bench_explain")
        cursor.execute("RELEASE SAVEPOINT bench_explain")
    return document


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


def _label(node: dict[str, Any]) -> str:
    label = str(node["Node Type"])
    if node.get("Scan Direction") == "Backward":
        label += " Backward"
    if "Index Name" in node:
        label += f" using {node['Index Name']}"
    if "Relation Name" in node:
        label += f" on {node['Relation Name']}"
    return label


def shape(node: dict[str, Any]) -> str:
    """One line, root first: "Limit > Index Scan Backward using idx on t"; siblings in parentheses."""
    children = [shape(child) for child in node.get("Plans", ())]
    if not children:
        return _label(node)
    if len(children) == 1:
        return f"{_label(node)} > {children[0]}"
    return f"{_label(node)} > ({', '.join(children)})"


def summarize(sql: str, document: Any) -> Plan:
    top = document[0]
    root = top["Plan"]
    nodes = list(_nodes(root))
    return Plan(
        sql=sql,
        plan_mode=PLAN_MODE,
        shape=shape(root),
        node_types=tuple(n["Node Type"] for n in nodes),
        index_names=tuple(n["Index Name"] for n in nodes if "Index Name" in n),
        scan_directions=tuple(n["Scan Direction"] for n in nodes if "Scan Direction" in n),
        has_sort=any(n["Node Type"] in {"Sort", "Incremental Sort"} for n in nodes),
        # The root's buffer counts already include its children's (and parallel workers').
        shared_hit_blocks=int(root.get("Shared Hit Blocks", 0)),
        shared_read_blocks=int(root.get("Shared Read Blocks", 0)),
        # Per-loop averages in the JSON; times loops gives the rows actually thrown away.
        rows_removed_by_filter=sum(
            int(n.get("Rows Removed by Filter", 0)) * int(n.get("Actual Loops", 1)) for n in nodes
        ),
        planning_ms=float(top.get("Planning Time", 0.0)),
        execution_ms=float(top.get("Execution Time", 0.0)),
        workers_planned=sum(int(n.get("Workers Planned", 0)) for n in nodes),
        workers_launched=sum(int(n.get("Workers Launched", 0)) for n in nodes),
        jit="JIT" in top,
        raw=document,
        relations=relations(document),
    )
