"""Small, explicit rows for tests that need a handful of objects (the seeder builds the large sets)."""

from __future__ import annotations

import datetime as dt

from project.apps.peoples.models import People
from project.apps.tenants.models import Tenant

EPOCH = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def make_tenant(index: int) -> Tenant:
    return Tenant.objects.create(
        tenantname=f"Tenant {index}", subdomain_prefix=f"tenant{index}", created_at=EPOCH
    )


def make_people(tenant: Tenant, count: int, *, start: int = 0) -> list[People]:
    return People.objects.bulk_create(
        People(
            tenant=tenant,
            peoplecode=f"P{tenant.pk}-{i:05d}",
            peoplename=f"Person {i:05d}",
            loginid=f"t{tenant.pk}-user{i}",
            email=f"user{i}@tenant{tenant.pk}.example",
            mobno="+10000000000",
            gender=People.Gender.OTHER,
            dateofbirth=dt.date(1990, 1, 1),
            dateofjoin=dt.date(2020, 1, 1),
            designation="Guard",
            department="Operations",
            enable=True,
            isverified=i % 2 == 0,
            created_at=EPOCH,
        )
        for i in range(start, start + count)
    )
