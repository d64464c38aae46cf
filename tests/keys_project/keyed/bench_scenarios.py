"""One scenario: the newest tickets."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from django_index_bench.bench.scenarios import Case, MigrationScenario, register
from keyed.models import Ticket


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
