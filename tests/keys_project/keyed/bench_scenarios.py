"""The keyed project's scenarios: a read, a transaction with row locks, and one that writes."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from django_index_bench.bench.scenarios import Case, MigrationScenario, Outcome, Scenario, register
from keyed.models import Ticket, Token, Visit


@register
class NewestTickets(MigrationScenario):
    name = "newest_tickets"
    title = "The newest tickets"
    group = "keyed"
    description = "Ticket.objects.order_by('-opened')[:10]"

    def draw_cases(self) -> list[Case]:
        return [Case("all", {})]

    def queryset(self, params: dict[str, Any]) -> QuerySet[Any]:
        return Ticket.objects.order_by("-opened")[:10]


class _BothStates(Scenario):
    kind = "migration"
    baseline = "before"
    candidate = "after"
    group = "keyed"

    def draw_cases(self) -> list[Case]:
        return [Case("newest", {})]


@register
class LockNewest(_BothStates):
    """A transaction with row locks, a savepoint and an on_commit callback."""

    name = "lock_newest"
    title = "Lock the newest tickets, count their tokens in a savepoint"
    description = "atomic(): select_for_update()[:5]; atomic(): Token count; on_commit"

    def execute(self, side: str, params: dict[str, Any]) -> Outcome:
        with transaction.atomic():
            tickets = list(Ticket.objects.select_for_update().order_by("-opened")[:5])
            with transaction.atomic():
                tokens = Token.objects.filter(ticket__in=tickets).count()
            transaction.on_commit(lambda: None)
        return Outcome(rows=len(tickets) + tokens)


@register
class Churn(_BothStates):
    """INSERT (under a fixed key: a second INSERT would collide), UPDATE and DELETE."""

    name = "churn"
    title = "Open a ticket, touch the newest tokens, drop a ticket's visits"
    description = "Ticket.objects.create(); Token update; Visit delete"

    def execute(self, side: str, params: dict[str, Any]) -> Outcome:
        newest = Ticket.objects.order_by("-opened").first()
        assert newest is not None
        Ticket.objects.create(code="NEW-1", title="new", opened=newest.opened, slug="new-1")
        touched = Token.objects.filter(ticket=newest).update(payload={"touched": True})
        deleted, _ = Visit.objects.filter(ticket=newest).delete()
        return Outcome(rows=touched + deleted)
