"""Plan summaries: read from real EXPLAIN output of the project's tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django_index_bench.bench.rounds.explain import PLAN_MODE, explain, shape, summarize
from project.apps.attendance.models import Tracking

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper


def test_explain_of_an_index_lookup(db: BaseDatabaseWrapper) -> None:
    with db.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = explain("SELECT * FROM tracking ORDER BY deviceid DESC LIMIT 5")
    assert plan.plan_mode == PLAN_MODE
    assert "tracking_device_idx" in plan.index_names
    assert "Backward" in plan.scan_directions
    assert "Index Scan Backward using tracking_device_idx on tracking" in plan.shape
    assert plan.shared_hit_blocks + plan.shared_read_blocks >= 1
    assert plan.execution_ms >= 0
    assert not plan.has_sort


def test_explain_of_a_sorted_seq_scan(db: BaseDatabaseWrapper) -> None:
    with db.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
    plan = explain(str(Tracking.objects.filter(speed__gt=1).order_by("receiveddate").query))
    assert plan.shape == "Sort > Seq Scan on tracking"
    assert plan.has_sort
    assert plan.index_names == ()


def test_rows_removed_count_every_loop() -> None:
    document: list[dict[str, Any]] = [
        {
            "Plan": {
                "Node Type": "Nested Loop",
                "Shared Hit Blocks": 7,
                "Shared Read Blocks": 3,
                "Plans": [
                    {"Node Type": "Seq Scan", "Relation Name": "a", "Rows Removed by Filter": 5},
                    {
                        "Node Type": "Index Scan",
                        "Index Name": "b_idx",
                        "Relation Name": "b",
                        "Scan Direction": "Forward",
                        "Rows Removed by Filter": 2,
                        "Actual Loops": 10,
                    },
                ],
            },
            "Planning Time": 0.5,
            "Execution Time": 1.5,
            "JIT": {"Functions": 3},
        }
    ]
    plan = summarize("SELECT 1", document)
    assert plan.rows_removed_by_filter == 5 + 2 * 10
    assert plan.shared_blocks == 10
    assert plan.jit
    assert (plan.planning_ms, plan.execution_ms) == (0.5, 1.5)
    assert plan.shape == "Nested Loop > (Seq Scan on a, Index Scan using b_idx on b)"
    assert shape(document[0]["Plan"]["Plans"][0]) == "Seq Scan on a"
