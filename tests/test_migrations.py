"""The before and after heads of both apps, read back from pg_indexes rather than from the Python files."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import connection

TRACKING_NEW = {"tracking_people_date_idx", "tracking_ident_date_idx", "tracking_device_idx"}
JOURNAL_OLD = {"journal_user_ts_idx", "journal_type_user_idx"}
JOURNAL_NEW = {"journal_user_ts_desc_idx", "journal_type_ts_desc_idx"}


def indexes(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


@pytest.fixture
def before_state(migrated_schema: None) -> Iterator[None]:
    """Both apps at their "before" heads; moved back to the latest migrations afterwards."""
    call_command("migrate", "attendance", "0030", verbosity=0)
    call_command("migrate", "journal", "0015", verbosity=0)
    yield
    call_command("migrate", verbosity=0)


def test_models_and_migrations_agree(migrated_schema: None) -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_after_state_has_the_new_indexes(migrated_schema: None) -> None:
    tracking = indexes("tracking")
    journal = indexes("journal_journalentry")
    assert tracking.keys() >= TRACKING_NEW
    assert "(people_id, receiveddate)" in tracking["tracking_people_date_idx"]
    assert "(identifier, receiveddate)" in tracking["tracking_ident_date_idx"]
    assert "(deviceid)" in tracking["tracking_device_idx"]
    assert journal.keys() >= JOURNAL_NEW
    assert not JOURNAL_OLD & journal.keys()
    assert '(user_id, "timestamp" DESC)' in journal["journal_user_ts_desc_idx"]
    assert '(entry_type, "timestamp" DESC)' in journal["journal_type_ts_desc_idx"]
    assert "journal_scope_user_idx" in journal


def test_before_state_lacks_them(before_state: None) -> None:
    tracking = indexes("tracking")
    journal = indexes("journal_journalentry")
    assert not TRACKING_NEW & tracking.keys()
    assert "tracking_tenant_created_idx" in tracking
    assert journal.keys() >= JOURNAL_OLD
    assert not JOURNAL_NEW & journal.keys()
    assert '(user_id, "timestamp")' in journal["journal_user_ts_idx"]
    assert "(entry_type, user_id)" in journal["journal_type_user_idx"]


def test_forward_again_restores_the_after_state(before_state: None) -> None:
    call_command("migrate", verbosity=0)
    assert indexes("tracking").keys() >= TRACKING_NEW
    assert indexes("journal_journalentry").keys() >= JOURNAL_NEW
