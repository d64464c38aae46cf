"""The sample's index and query checks, written as a team writes them in its own suite: the
django-index-bench pytest plugin's fixtures, on the states bench.toml describes (attendance 0030
before, the latest migrations after), seeded once per session at the tiny profile (the ini options in
pyproject.toml). Deterministic facts only: which index a plan uses, how many queries a job sends.

The last tests show what a branch that breaks them sees: the index dropped, the prefetch undone.

A paired timing as this test's pytest-benchmark result is checked in a team's suite of its own
(tests/test_pytest_plugin.py, test_person_range_timed): pytest-benchmark turns itself off in a
pytest-xdist worker, where the test command runs these.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from project.apps.attendance.models import Tracking
from project.background_tasks import journal_wellness_tasks as tasks

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from django_index_bench.pytest_plugin import IndexBench

PERSON_INDEX = "tracking_people_date_idx"
# The seeder's data ends on 2026-10-01; the view asks for a person's last 30 days.
LAST_MONTH = (dt.datetime(2026, 9, 1, tzinfo=dt.UTC), dt.datetime(2026, 10, 1, tzinfo=dt.UTC))


def person_range(people_id: int = 1) -> QuerySet[Tracking]:
    """The person-range view's query (project/scenarios/tracking.py: tracking_person_range)."""
    return Tracking.objects.filter(people_id=people_id, receiveddate__range=LAST_MONTH).order_by(
        "receiveddate"
    )


def test_the_person_range_query_uses_the_new_index(index_bench: IndexBench) -> None:
    observed = index_bench.observe(person_range(), state="after")
    observed.assert_uses_index(PERSON_INDEX)
    observed.assert_no_sort()  # the index hands the rows over in receiveddate order
    assert observed.query_count == 1


def test_before_the_migration_the_index_is_not_there(index_bench: IndexBench) -> None:
    observed = index_bench.observe(person_range(), state="before")
    assert PERSON_INDEX not in observed.index_names


def test_the_wellness_summary_prefetches(index_bench: IndexBench) -> None:
    # Tenants, then every tenant's people in one query: two, however many tenants there are.
    index_bench.observe(tasks.tenant_wellness_summaries).assert_query_count(2)


def test_a_branch_that_drops_the_index_fails_the_check(index_bench: IndexBench) -> None:
    dropped = index_bench.derive("after", "after_without_person_index", drop_indexes=[PERSON_INDEX])
    observed = index_bench.observe(person_range(), state=dropped)
    with pytest.raises(AssertionError) as failure:
        observed.assert_uses_index(PERSON_INDEX)
    message = str(failure.value)
    assert message.startswith(
        "no plan uses index 'tracking_people_date_idx' in state 'after_without_person_index': 1 query\n  1. "
    )
    assert observed.plans[0].shape in message
    assert 'FROM "tracking"' in message


def test_a_branch_that_undoes_the_prefetch_fails_the_check(index_bench: IndexBench) -> None:
    observed = index_bench.observe(tasks.tenant_wellness_summaries_n_plus_one)
    tenants = 4  # the tiny profile's
    with pytest.raises(AssertionError) as failure:
        observed.assert_query_count(2)
    assert str(failure.value).startswith(
        f"expected 2 queries, got {1 + tenants} in state 'after': {1 + tenants} queries\n"
    )
