"""Items stop by time as well as by pairs, classes follow measured medians, and a scale point that is
the main dataset is not measured twice: each recorded in the results and said in the method text."""

from __future__ import annotations

import copy
import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from django_index_bench.bench import results
from django_index_bench.bench.config import ScaleSpec
from django_index_bench.bench.results import Measurement
from django_index_bench.bench.rounds.executor import run_item
from django_index_bench.bench.rounds.schedule import Item, Rules, SideSpec, record
from django_index_bench.bench.rounds.sides import LocalSides
from django_index_bench.bench.scenarios import Case, Outcome, Scenario
from django_index_bench.bench.steps.scales import MainSeries, reused, scaled
from django_index_bench.reports import method
from django_index_bench.verdicts import defaults, stats
from project.apps.peoples.models import People
from project.scenarios.tracking import TrackingDevice, TrackingPersonRange
from project.seeding.source import source
from tests.factories import make_people, make_tenant
from tests.sample_results import sample_results, timing

STATE = "after"


class SlowPage(Scenario):
    """One ORM query, then a sleep of `seconds`: rounds as slow as the test wants them."""

    name = "test_slow_page"
    title = "A slow page"
    group = "tests"
    kind = "variant"
    baseline = "plain"
    candidate = "same"
    description = "People.objects.filter(tenant=T)[:10], then a sleep"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def draw_cases(self) -> list[Case]:
        raise NotImplementedError  # the tests hand the executor their case

    def execute(self, side: str, params: dict[str, Any]) -> Outcome:
        rows = list(People.objects.filter(tenant_id=params["tenant"])[:10])
        time.sleep(self.seconds)
        return Outcome(rows=len(rows))


@pytest.fixture(scope="module")
def tenant(migrated_schema: None) -> Iterator[int]:
    created = make_tenant(90_002)
    make_people(created, 20)
    yield created.pk
    People.objects.filter(tenant=created).delete()
    created.delete()


def run(scenario: SlowPage, tenant: int, rules: Rules) -> tuple[int, str, int]:
    """(pairs, why it stopped, warmup rounds recorded) of one warm item."""
    database = copy.deepcopy(connections["default"].settings_dict)
    sides = LocalSides({scenario.name: scenario}, {STATE: database})
    item = Item(
        scenario.name,
        Case("page", {"tenant": tenant}),
        "warm",
        SideSpec(scenario.baseline, STATE),
        SideSpec(scenario.candidate, STATE),
    )
    try:
        result = run_item(item, sides, rules, 7, broken={})
    finally:
        sides.close()
    assert result.baseline.ok, result.baseline.error
    assert result.baseline.timing is not None
    assert result.scheduled.pairs == result.baseline.timing.rounds
    return result.scheduled.pairs, result.scheduled.stop, result.baseline.timing.warmup_rounds


def test_an_item_with_slow_rounds_stops_by_time_at_its_floor(tenant: int) -> None:
    # Pairs of about 0.2 s against a 0.3 s budget: spent after 2 pairs, so it stops at the floor of 4,
    # long before its minimum of 50 pairs.
    rules = Rules(seconds=0.3, min_pairs=50, floor_pairs=4, max_pairs=100, warmup_rounds=0, check_every=2)
    assert run(SlowPage(0.1), tenant, rules) == (4, "slow", 0)


def test_without_a_floor_an_item_runs_its_minimum_of_pairs(tenant: int) -> None:
    # No floor (the default): the budget is spent long before, and the item still runs its 6 pairs.
    rules = Rules(seconds=0.01, min_pairs=6, max_pairs=100, warmup_rounds=0, check_every=2, precision=0.0)
    assert (rules.floor_pairs, rules.floor) == (0, 6)
    assert run(SlowPage(0.01), tenant, rules) == (6, "budget", 0)


def test_the_schedule_records_the_floor() -> None:
    rules = Rules(min_pairs=20, floor_pairs=defaults.MIN_VERDICT_PAIRS)
    schedule = record(rules, sides="databases", workers=1, seed=1, items=())
    assert (schedule.min_pairs, schedule.floor_pairs) == (20, 9)
    # No floor, or one above the minimum, is the minimum: no item can stop for slow rounds.
    assert record(Rules(min_pairs=6), sides="databases", workers=1, seed=1, items=()).floor_pairs == 6
    assert (
        record(Rules(min_pairs=6, floor_pairs=9), sides="databases", workers=1, seed=1, items=()).floor_pairs
        == 6
    )


def test_the_floor_is_the_fewest_pairs_whose_interval_one_stray_pair_cannot_decide() -> None:
    floor = defaults.MIN_VERDICT_PAIRS
    values = [float(i) for i in range(floor)]
    # The 95 % interval of 9 values leaves out the smallest and the largest; of 8 it is [min, max].
    assert stats.median_interval(values) == (1.0, float(floor - 2))
    assert stats.median_interval(values[:-1]) == (0.0, float(floor - 2))
    # The exact two-sided signed-rank test's smallest p with n pairs, all of one sign, is 2 / 2**n.
    assert 2 / 2**floor < defaults.DEFAULT_ALPHA
    same_sign = stats.compare_paired([1.2] * floor, [1.0] * floor, threshold=0.05)
    assert same_sign.p_value is not None
    assert same_sign.p_value < defaults.DEFAULT_ALPHA


def test_the_method_text_says_what_each_stop_means_from_the_results() -> None:
    run = sample_results()
    slow = dataclasses.replace(run.schedule.items[0], stop="slow", pairs=6)
    schedule = dataclasses.replace(run.schedule, min_pairs=20, floor_pairs=6, items=(slow,))
    text = method._stopping(schedule)
    assert "never before 6" in text
    assert "as few as 6 pairs" in text
    assert "(0.0312 at 6)" in text
    assert "its rounds were slow" in method._items(dataclasses.replace(run, schedule=schedule))
    # No floor recorded (schema 7): the text says nothing of slow rounds.
    assert "slow" not in method._stopping(dataclasses.replace(schedule, floor_pairs=0))


@pytest.mark.parametrize(
    ("seconds", "name"),
    [(0.0004, "sub-ms"), (0.004, "ms"), (0.04, "tens of ms"), (0.35, "hundreds of ms"), (2.0, "seconds")],
)
def test_classes_follow_the_measured_median(seconds: float, name: str) -> None:
    assert defaults.speed_class(seconds) == name


def measurement(scenario: str, case: str, side: str) -> Measurement:
    return Measurement(
        scenario=scenario, case=case, side=side, state=side, status="ok", timing=timing(0.01, 0.011)
    )


def test_a_scale_point_that_is_the_main_dataset_reuses_its_measurements() -> None:
    spec = ScaleSpec(tables=("tracking", "journal_journalentry"), case="typical")
    main_source = source("tiny", 7).with_counts({"tracking": 4_000, "journal_journalentry": 4_000})
    chosen: dict[str, Scenario] = {
        "tracking_device": TrackingDevice(),
        "tracking_person_range": TrackingPersonRange(),
    }
    warm = tuple(
        measurement(name, case, side)
        for name in (*chosen, "wellness_summary")
        for case in ("heavy", "typical")
        for side in ("before", "after")
    )
    main = MainSeries(main_source.fingerprint(), warm)
    point = reused(main, scaled(main_source, spec, 4_000), spec, chosen)
    assert point is not None
    assert point.reused == "main"
    assert point.fingerprint == main.fingerprint
    assert (point.counts["tracking"], point.counts["journal"]) == (4_000, 4_000)
    assert [(m.scenario, m.case, m.side) for m in point.measurements] == [
        ("tracking_device", "typical", "before"),
        ("tracking_device", "typical", "after"),
        ("tracking_person_range", "typical", "before"),
        ("tracking_person_range", "typical", "after"),
    ]
    # Other data, or a scenario the main series did not measure at the point's case: measured anew.
    assert reused(main, scaled(main_source, spec, 2_000), spec, chosen) is None
    assert (
        reused(main, scaled(main_source, spec, 4_000), dataclasses.replace(spec, case="light"), chosen)
        is None
    )


def test_a_schema_7_file_reads_with_no_floor_and_nothing_reused(tmp_path: Path) -> None:
    current = sample_results()
    data = json.loads(results.to_json(current))
    data["schema_version"] = 7
    del data["schedule"]["floor_pairs"]
    for scale in data["scales"]:
        del scale["reused"]
    path = tmp_path / "v7.json"
    path.write_text(json.dumps(data))
    old = results.load(path)
    assert old.schema_version == results.SCHEMA_VERSION == 11
    assert old.schedule.floor_pairs == 0
    assert all(scale.reused is None for scale in old.scales)
    assert old == current
