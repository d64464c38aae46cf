"""django-q2's own code paths on its task table: the save path a worker runs after every task (it prunes
the group's oldest success under select_for_update, then inserts the result), and the group lookup
behind django_q.tasks.result_group. Migration 0018's partial index success_index serves both."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet
from django_q.models import Task
from django_q.monitor import save_task

from django_index_bench.bench.scenarios import (
    Case,
    MigrationScenario,
    Outcome,
    Scenario,
    ranked_by_count,
    register,
    spread,
)


class _Failed(logging.Handler):
    """save_task logs and swallows any error: a failure must fail the round, not pass as fast."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _groups() -> list[Case]:
    ranked = ranked_by_count(Task.objects.filter(success=True), "group")
    return [Case(case, {"group": key, "successes": n}) for case, key, n in spread(ranked)]


@register
class SaveTask(Scenario):
    name = "save_task"
    title = "A worker saves a successful task (prune the group's oldest success, insert)"
    group = "django_q"
    kind = "migration"
    baseline = "before"
    candidate = "after"
    description = (
        "django_q.monitor.save_task(task) with save_limit 250 per group: atomic(), "
        "Success.objects.filter(group=G).select_for_update(), delete the oldest, Task.objects.create()."
    )

    def draw_cases(self) -> list[Case]:
        return _groups()

    def execute(self, side: str, params: dict[str, Any]) -> Outcome:
        now = datetime(2026, 4, 1, tzinfo=UTC)
        task = {
            "id": "f" * 32,
            "name": "bench-save-task",
            "func": "shop.tasks.send_receipt",
            "args": (42,),
            "kwargs": {"retries": 3},
            "started": now,
            "stopped": now,
            "result": "done",
            "group": params["group"],
            "success": True,
            # sync: save_task would otherwise close "old" connections, the harness's own among them.
            "sync": True,
        }
        failed = _Failed()
        logger = logging.getLogger("django-q")
        logger.addHandler(failed)
        try:
            save_task(task, broker=None)
        finally:
            logger.removeHandler(failed)
        if failed.records:
            record = failed.records[0]
            raise RuntimeError(f"save_task failed: {record.getMessage()} {record.exc_info!r}")
        return Outcome(rows=1)


@register
class GroupResults(MigrationScenario):
    name = "result_group"
    title = "A group's successful results (django_q.tasks.result_group)"
    group = "django_q"
    description = "Task.get_result_group(G): filter(group=G).exclude(success=False).values_list('result')"

    def draw_cases(self) -> list[Case]:
        return _groups()

    def queryset(self, params: dict[str, Any]) -> QuerySet[Any]:
        return Task.get_result_group(params["group"])  # type: ignore[no-any-return]
