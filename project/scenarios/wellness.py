"""Scenario 7: the per-tenant wellness summary, N+1 loop against the prefetch_related fix."""

from __future__ import annotations

from typing import Any

from django_index_bench.bench.scenarios import Case, Outcome, Scenario, register
from project.apps.tenants.models import Tenant
from project.background_tasks import journal_wellness_tasks as tasks

VARIANTS = {
    "n_plus_one": tasks.tenant_wellness_summaries_n_plus_one,
    "prefetch": tasks.tenant_wellness_summaries,
}


@register
class WellnessSummary(Scenario):
    name = "wellness_summary"
    title = "Wellness task: per-tenant people summary"
    group = "wellness"
    kind = "variant"
    baseline = "n_plus_one"
    candidate = "prefetch"
    description = (
        "background_tasks.journal_wellness_tasks: for tenant in Tenant.objects...: tenant.people_set.all(); "
        "n_plus_one is the loop before the change, prefetch adds prefetch_related('people_set')."
    )

    def draw_cases(self) -> list[Case]:
        return [Case("all", {"tenants": Tenant.objects.count()})]

    def execute(self, side: str, params: dict[str, Any]) -> Outcome:
        return Outcome(rows=len(VARIANTS[side]()))
