"""The results file round-trips exactly, refuses other schema versions, and is written atomically."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import results
from bench.errors import UsageError
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
