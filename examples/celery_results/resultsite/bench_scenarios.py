"""django-celery-results' own paths on its result table: a periodic task's latest results (the admin's
periodic_task_name filter; migration 0013 indexes that column), and the backend's store_result, which
a worker calls for every finished task (get_or_create in a savepoint, then an INSERT)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet
from django_celery_results.models import TaskResult

from django_index_bench.bench.scenarios import (
    Case,
    MigrationScenario,
    Outcome,
    Scenario,
    ranked_by_count,
    register,
    spread,
)

PAGE = 20


def _periodic() -> list[Case]:
    ranked = ranked_by_count(TaskResult.objects.exclude(periodic_task_name=None), "periodic_task_name")
    return [Case(case, {"periodic_task_name": key, "results": n}) for case, key, n in spread(ranked)]


@register
class PeriodicResults(MigrationScenario):
    name = "periodic_results"
    title = "A periodic task's latest results"
    group = "celery_results"
    description = (
        f"TaskResult.objects.filter(periodic_task_name=P).order_by('-date_done')[:{PAGE}]; "
        "migration 0013 indexes periodic_task_name."
    )

    def draw_cases(self) -> list[Case]:
        return _periodic()

    def queryset(self, params: dict[str, Any]) -> QuerySet[TaskResult]:
        return TaskResult.objects.filter(periodic_task_name=params["periodic_task_name"]).order_by(
            "-date_done"
        )[:PAGE]


@register
class StoreResult(Scenario):
    name = "store_result"
    title = "A worker stores a periodic task's result (the result backend's write)"
    group = "celery_results"
    kind = "migration"
    baseline = "before"
    candidate = "after"
    description = (
        "TaskResult.objects.store_result(...): get_or_create(task_id=...) in a savepoint, an INSERT "
        "that now also updates the periodic_task_name index."
    )

    def draw_cases(self) -> list[Case]:
        return _periodic()

    def execute(self, side: str, params: dict[str, Any]) -> Outcome:
        TaskResult.objects.store_result(
            "application/json",
            "utf-8",
            "ffffffff-0000-4000-8000-000000000000",
            '"done"',
            "SUCCESS",
            periodic_task_name=params["periodic_task_name"],
            task_name="shop.tasks.sync_stock",
            task_args="[]",
            task_kwargs="{}",
            worker="celery@worker-01",
            date_started=datetime(2026, 4, 1, tzinfo=UTC),
        )
        return Outcome(rows=1)
