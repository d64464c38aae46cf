"""Scenarios 4-6: the journal timelines that journal 0016's descending indexes are meant to serve."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from django_index_bench.bench.scenarios import Case, MigrationScenario, ranked_by_count, register, spread
from project.apps.journal.models import JournalEntry

PAGE = 25


@register
class JournalUserTimeline(MigrationScenario):
    name = "journal_user_timeline"
    title = "Journal: a user's timeline, newest first"
    group = "journal"
    description = (
        f"JournalEntry.objects.filter(user_id=U).order_by('-timestamp')[:{PAGE}]; "
        "before: journal_user_ts_idx (user, timestamp); after: journal_user_ts_desc_idx (user, -timestamp)."
    )

    def draw_cases(self) -> list[Case]:
        ranked = ranked_by_count(JournalEntry.objects.all(), "user_id")
        return [Case(case, {"user_id": key, "matching": n}) for case, key, n in spread(ranked)]

    def queryset(self, params: dict[str, Any]) -> QuerySet[JournalEntry]:
        return JournalEntry.objects.filter(user_id=params["user_id"]).order_by("-timestamp")[:PAGE]


@register
class JournalTypeTimeline(MigrationScenario):
    name = "journal_type_timeline"
    title = "Journal: one entry type's timeline, newest first"
    group = "journal"
    description = (
        f"JournalEntry.objects.filter(entry_type=T).order_by('-timestamp')[:{PAGE}]; "
        "before: journal_type_user_idx (entry_type, user) cannot give the order; "
        "after: journal_type_ts_desc_idx (entry_type, -timestamp)."
    )

    def draw_cases(self) -> list[Case]:
        ranked = ranked_by_count(JournalEntry.objects.all(), "entry_type")
        return [Case(case, {"entry_type": key, "matching": n}) for case, key, n in spread(ranked)]

    def queryset(self, params: dict[str, Any]) -> QuerySet[JournalEntry]:
        return JournalEntry.objects.filter(entry_type=params["entry_type"]).order_by("-timestamp")[:PAGE]


@register
class JournalPrivacyScope(MigrationScenario):
    name = "journal_privacy_scope"
    title = "Journal: a user's entries of one privacy scope"
    group = "journal"
    description = (
        f"JournalEntry.objects.filter(privacy_scope=S, user_id=U).order_by('-timestamp')[:{PAGE}]; "
        "journal_scope_user_idx (privacy_scope, user) is in both states: a control for the change."
    )

    def draw_cases(self) -> list[Case]:
        scope = ranked_by_count(JournalEntry.objects.all(), "privacy_scope")[0][0]
        ranked = ranked_by_count(JournalEntry.objects.filter(privacy_scope=scope), "user_id")
        return [
            Case(case, {"privacy_scope": scope, "user_id": key, "matching": n})
            for case, key, n in spread(ranked)
        ]

    def queryset(self, params: dict[str, Any]) -> QuerySet[JournalEntry]:
        return JournalEntry.objects.filter(
            privacy_scope=params["privacy_scope"], user_id=params["user_id"]
        ).order_by("-timestamp")[:PAGE]
