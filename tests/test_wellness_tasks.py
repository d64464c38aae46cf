"""The N+1 loop and its prefetch fix issue the query counts the write-up claims, and agree on the result."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.test.utils import CaptureQueriesContext

from project.background_tasks.journal_wellness_tasks import (
    tenant_wellness_summaries,
    tenant_wellness_summaries_n_plus_one,
)
from tests.factories import make_people, make_tenant

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

TENANTS = 20


@pytest.fixture
def twenty_tenants(db: BaseDatabaseWrapper) -> None:
    for index in range(TENANTS):
        make_people(make_tenant(index), 1 + index % 4)


def test_n_plus_one_variant_issues_one_query_per_tenant(
    twenty_tenants: None, db: BaseDatabaseWrapper
) -> None:
    with CaptureQueriesContext(db) as captured:
        summaries = tenant_wellness_summaries_n_plus_one()
    assert len(summaries) == TENANTS
    assert len(captured) == 1 + TENANTS


def test_prefetch_variant_issues_two_queries(twenty_tenants: None, db: BaseDatabaseWrapper) -> None:
    with CaptureQueriesContext(db) as captured:
        summaries = tenant_wellness_summaries()
    assert len(summaries) == TENANTS
    assert len(captured) == 2


def test_both_variants_compute_the_same_summaries(twenty_tenants: None) -> None:
    summaries = tenant_wellness_summaries()
    assert summaries == tenant_wellness_summaries_n_plus_one()
    assert sum(s.people for s in summaries) == sum(1 + i % 4 for i in range(TENANTS))
