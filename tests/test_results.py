"""The results file round-trips exactly, refuses other schema versions, and is written atomically."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from django_index_bench.bench import results
from django_index_bench.bench.errors import UsageError
from tests.report_fixtures import with_everything
from tests.sample_results import sample_results


def test_round_trip_is_lossless(tmp_path: Path) -> None:
    original = sample_results()
    path = results.save(original, tmp_path)
    assert results.load(path) == original
    assert results.load(tmp_path / results.LATEST) == original


def test_files_are_numbered(tmp_path: Path) -> None:
    first = results.save(sample_results(), tmp_path)
    second = results.save(sample_results(), tmp_path)
    assert (first.name[:4], second.name[:4]) == ("0001", "0002")


def test_other_schema_version_is_refused(tmp_path: Path) -> None:
    data = json.loads(results.to_json(sample_results()))
    data["schema_version"] = 999
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError, match="schema version 999"):
        results.load(path)


def test_missing_and_broken_files_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no results file"):
        results.load(tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(UsageError, match="cannot read"):
        results.load(broken)


def test_unknown_field_is_refused(tmp_path: Path) -> None:
    data = json.loads(results.to_json(sample_results()))
    data["surprise"] = 1
    with pytest.raises(UsageError, match="not a valid results file"):
        results.from_dict(data)


def test_a_schema_2_file_is_read_without_pairs_or_database_time() -> None:
    """What a ref from before pairing writes: compare's fallback must still read it, honestly."""
    old = results.load(Path(__file__).with_name("data") / "results_v2.json")
    assert old.schema_version == results.SCHEMA_VERSION
    assert old.schedule.sides == "blocks"
    before = old.find("tracking_person_range", "heavy", "before")
    assert before is not None
    assert before.timing is not None
    assert before.timing.total_s == (0.010, 0.011, 0.012, 0.010, 0.013)
    assert before.timing.db_s == ()
    assert before.timing.pair == ()
    assert before.timing.orm_s == ()
    assert [s.database for s in old.states] == ["", ""]


def test_a_failed_cost_step_round_trips(tmp_path: Path) -> None:
    error = "RuntimeError: journal_journalentry is empty: nothing to copy"
    original = dataclasses.replace(sample_results(), costs=results.Costs.failed(error, "bench_costs_before"))
    again = results.load(results.save(original, tmp_path))
    assert again == original
    assert again.costs is not None
    assert (again.costs.ok, again.costs.error, again.costs.database) == (False, error, "bench_costs_before")
    assert (again.costs.migrations, again.costs.sizes_before, again.costs.writes) == ((), (), ())


def test_a_schema_4_file_reads_with_its_costs_measured(tmp_path: Path) -> None:
    """What a schema 4 run wrote: costs without `error` (a failed cost step wrote no file then)."""
    current = with_everything()
    assert current.costs is not None
    assert current.costs.migrations
    data = json.loads(results.to_json(current))
    data["schema_version"] = 4
    del data["costs"]["error"]
    path = tmp_path / "v4.json"
    path.write_text(json.dumps(data))
    old = results.load(path)
    assert old.schema_version == results.SCHEMA_VERSION
    assert old.costs is not None
    assert (old.costs.ok, old.costs.error) == (True, None)
    assert old == current


def test_a_schema_5_file_reads_with_no_step_times(tmp_path: Path) -> None:
    """What a run wrote before it timed its steps: everything else as it was, `steps` empty."""
    current = dataclasses.replace(with_everything(), steps=(results.StepTime("seed", 1.5),))
    data = json.loads(results.to_json(current))
    data["schema_version"] = 5
    del data["steps"]
    path = tmp_path / "v5.json"
    path.write_text(json.dumps(data))
    old = results.load(path)
    assert old.schema_version == results.SCHEMA_VERSION
    assert old.steps == ()
    assert old == dataclasses.replace(current, steps=())


def test_step_times_round_trip(tmp_path: Path) -> None:
    steps = (results.StepTime("seed", 12.5), results.StepTime("warm", 137.25))
    original = dataclasses.replace(sample_results(), steps=steps)
    assert results.load(results.save(original, tmp_path)).steps == steps
