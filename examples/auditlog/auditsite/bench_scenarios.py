"""django-auditlog's trail as its admin shows it: the newest entries first (LogEntry's ordering is
-timestamp), all of them or one action's. Migration 0013 indexes timestamp."""

from __future__ import annotations

from typing import Any

from auditlog.models import LogEntry
from django.db.models import QuerySet

from django_index_bench.bench.scenarios import Case, MigrationScenario, ranked_by_count, register, spread

PAGE = 100


@register
class NewestEntries(MigrationScenario):
    name = "newest_entries"
    title = "An action's newest audit entries (the admin's changelist, filtered)"
    group = "auditlog"
    description = (
        f"LogEntry.objects.filter(action=A)[:{PAGE}] (ordering -timestamp), with each entry's JSON "
        "changes; migration 0013 indexes timestamp."
    )

    def draw_cases(self) -> list[Case]:
        ranked = ranked_by_count(LogEntry.objects.all(), "action")
        return [Case(case, {"action": key, "entries": n}) for case, key, n in spread(ranked)]

    def queryset(self, params: dict[str, Any]) -> QuerySet[LogEntry]:
        return LogEntry.objects.filter(action=params["action"])[:PAGE]
