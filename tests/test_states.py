"""Migration states come from Django's migration graph; bad targets are one-line usage errors."""

from __future__ import annotations

import pytest

from bench.errors import UsageError
from bench.states import parse_target, resolve_states


def test_default_states_are_the_change_under_test() -> None:
    before, after = resolve_states()
    assert before.targets == {
        "attendance": "0030_add_performance_indexes_post_assignment",
        "journal": "0015_migrate_to_encrypted_fields",
    }
    assert after.targets == {
        "attendance": "0031_add_tracking_performance_indexes",
        "journal": "0016_optimize_entry_indexes",
    }


def test_states_are_configurable() -> None:
    before, after = resolve_states({"attendance": "0001"})
    assert before.targets == {"attendance": "0001_initial"}
    assert after.targets == {"attendance": "0031_add_tracking_performance_indexes"}


@pytest.mark.parametrize(
    ("before", "message"),
    [
        ({"nosuchapp": "0001"}, "unknown app 'nosuchapp'"),
        ({"attendance": "0099"}, "no migration starting with '0099'"),
        ({"attendance": "00"}, "ambiguous"),
    ],
)
def test_bad_targets_are_usage_errors(before: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        resolve_states(before)


@pytest.mark.parametrize("text", ["attendance", "=0030", "attendance=", ""])
def test_parse_target_rejects_malformed_text(text: str) -> None:
    with pytest.raises(ValueError, match="APP=MIGRATION"):
        parse_target(text)


def test_parse_target() -> None:
    assert parse_target("journal=0015") == ("journal", "0015")
