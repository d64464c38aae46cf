"""The per-tenant wellness summary job, in the two variants the write-up compares."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from project.apps.peoples.models import People
from project.apps.tenants.models import Tenant


@dataclass(frozen=True)
class TenantWellness:
    tenant_id: int
    tenant_name: str
    people: int
    active_people: int
    verified_people: int


def _summarise(tenant: Tenant, people: Iterable[People]) -> TenantWellness:
    members = list(people)
    return TenantWellness(
        tenant_id=tenant.pk,
        tenant_name=tenant.tenantname,
        people=len(members),
        active_people=sum(p.enable for p in members),
        verified_people=sum(p.isverified for p in members),
    )


def tenant_wellness_summaries_n_plus_one() -> list[TenantWellness]:
    """The code before the change: one query for tenants, then one per tenant for its people."""
    return [_summarise(tenant, tenant.people_set.all()) for tenant in Tenant.objects.order_by("pk")]


def tenant_wellness_summaries() -> list[TenantWellness]:
    """The code after the change: people of every tenant fetched by one prefetch query."""
    tenants = Tenant.objects.prefetch_related("people_set").order_by("pk")
    return [_summarise(tenant, tenant.people_set.all()) for tenant in tenants]
