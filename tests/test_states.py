"""Migration states come from the configuration and Django's migration graph; bad targets are one-line
usage errors naming where they were configured."""

from __future__ import annotations

import pytest

from django_index_bench.bench.config import StateSpec
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.steps.states import parse_target, resolve_states

SAMPLE_BEFORE = StateSpec(migrations={"attendance": "0030", "journal": "0015"})


def test_the_samples_states_are_the_change_under_test() -> None:
    before, after = resolve_states(SAMPLE_BEFORE, StateSpec())
    assert before.targets == {
        "attendance": "0030_add_performance_indexes_post_assignment",
        "journal": "0015_migrate_to_encrypted_fields",
    }
    assert after.targets == {
        "attendance": "0031_add_tracking_performance_indexes",
        "journal": "0016_optimize_entry_indexes",
    }


def test_the_command_line_overrides_the_configured_before_state() -> None:
    before, after = resolve_states(SAMPLE_BEFORE, StateSpec(), {"attendance": "0001"})
    assert before.targets == {"attendance": "0001_initial"}
    assert after.targets == {"attendance": "0031_add_tracking_performance_indexes"}


def test_index_only_states_keep_every_app_at_its_latest_migration() -> None:
    before, after = resolve_states(
        StateSpec(drop_indexes=("tracking_people_date_idx",)),
        StateSpec(create_indexes=("CREATE INDEX extra_idx ON tracking (gpslocation)",)),
    )
    assert (before.targets, before.drop_indexes, before.create_indexes) == (
        {},
        ("tracking_people_date_idx",),
        (),
    )
    assert (after.targets, after.create_indexes) == (
        {},
        ("CREATE INDEX extra_idx ON tracking (gpslocation)",),
    )


def test_two_identical_states_are_an_a_a_comparison() -> None:
    # A ref of `bench compare` from before the index migration has nothing between its states.
    before, after = resolve_states(StateSpec(), StateSpec())
    assert (before.name, after.name, before.targets, after.targets) == ("before", "after", {}, {})


@pytest.mark.parametrize(
    ("before", "message"),
    [
        ({"nosuchapp": "0001"}, "states.before.migrations: unknown app 'nosuchapp'"),
        (
            {"attendance": "0099"},
            "states.before.migrations: app 'attendance' has no migration starting with '0099'",
        ),
        ({"attendance": "00"}, "ambiguous"),
    ],
)
def test_bad_targets_are_usage_errors(before: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        resolve_states(StateSpec(migrations=before), StateSpec())


@pytest.mark.parametrize("text", ["attendance", "=0030", "attendance=", ""])
def test_parse_target_rejects_malformed_text(text: str) -> None:
    with pytest.raises(ValueError, match="APP=MIGRATION"):
        parse_target(text)


def test_parse_target() -> None:
    assert parse_target("journal=0015") == ("journal", "0015")


def test_before_on_the_command_line_replaces_an_index_only_before_state_whole() -> None:
    """--before names the before side: the configured index to drop is not silently dropped too."""
    configured = StateSpec(drop_indexes=("tracking_people_date_idx",))
    before, after = resolve_states(configured, StateSpec(), {"attendance": "0031"})
    assert (before.targets, before.drop_indexes, before.create_indexes) == (
        {"attendance": "0031_add_tracking_performance_indexes"},
        (),
        (),
    )
    assert after.targets == {"attendance": "0031_add_tracking_performance_indexes"}
