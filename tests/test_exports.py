"""`bench export`: a results file as pytest-benchmark JSON, read back by the real `pytest-benchmark
compare`, and as Bencher Metric Format, checked against BMF's documented shape. No database needed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from django_index_bench.bench import results
from django_index_bench.reports import exports
from tests.cli import bench
from tests.compare_fixtures import base_results, head_results, write
from tests.report_fixtures import with_costs_and_cold
from tests.sample_results import sample_results

# BMF (bencher.dev/docs/reference/bencher-metric-format): benchmark name -> measure slug -> a metric
# with a required number `value` and optional numbers `lower_value`, `upper_value`; slugs at most 64.
BMF_KEYS = {"value", "lower_value", "upper_value"}


def _results_file(tmp_path: Path) -> Path:
    path = tmp_path / "run.json"
    results.write_atomic(path, results.to_json(sample_results()))
    return path


def _compare(*files: Path) -> subprocess.CompletedProcess[str]:
    """The real pytest-benchmark compare CLI, as a CI job runs it. It loads pytest's plugins, and
    pytest-django would set up the settings our conftest names: a CI job's shell names none."""
    # The console script pytest-benchmark installs beside this interpreter.
    command = [str(Path(sys.executable).parent / "pytest-benchmark"), "compare", "--columns=median,rounds"]
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [*command, "--sort=name", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=env,
    )


def _rows(table: str) -> list[list[str]]:
    """Each row's words but the second: the file it came from, which compare abbreviates its own way."""
    rows = [line.split() for line in table.splitlines() if re.match(r"\w+\[[^ ]+\] ", line)]
    return [[row[0], *row[2:]] for row in rows]


def test_pytest_benchmark_compare_reads_an_export(tmp_path: Path) -> None:
    exported = tmp_path / "run.pytest-benchmark.json"
    done = bench("export", str(_results_file(tmp_path)), "--pytest-benchmark", str(exported))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"pytest-benchmark: {exported}\n"

    table = _compare(exported)
    assert table.returncode == 0, table.stderr
    assert "benchmark 'tracking_person_range[heavy]': 2 tests" in table.stdout
    # The medians of the sample's rounds (10, 11, 12, 10, 13 ms before; 2.0, 2.1, 1.9, 2.0, 2.2 after).
    assert _rows(table.stdout) == [
        ["tracking_person_range[heavy-after]", "2.0000", "(1.0)", "5"],
        ["tracking_person_range[heavy-before]", "11.0000", "(5.50)", "5"],
    ]


def test_the_export_keeps_rounds_database_time_and_the_comparison(tmp_path: Path) -> None:
    exported = tmp_path / "out" / "pb.json"
    assert bench("export", str(_results_file(tmp_path)), "--pytest-benchmark", str(exported)).returncode == 0
    document = json.loads(exported.read_text())
    # The failed wellness pair has no rounds: it is not a benchmark.
    before, after = document["benchmarks"]
    assert (before["name"], after["name"]) == (
        "tracking_person_range[heavy-before]",
        "tracking_person_range[heavy-after]",
    )
    assert after["stats"]["data"] == [0.002, 0.0021, 0.0019, 0.002, 0.0022]
    # What github-action-benchmark's pytest tool reads: fullname, ops, stddev, mean, rounds.
    assert after["fullname"] == "bench::tracking_person_range[heavy-after]"
    assert after["stats"]["mean"] == pytest.approx(0.00204)
    assert after["stats"]["ops"] == pytest.approx(1 / 0.00204)
    assert (after["stats"]["rounds"], after["stats"]["iterations"]) == (5, 1)
    assert before["extra_info"]["query_count"] == 1
    assert before["extra_info"]["shared_blocks"] == 1000
    assert before["extra_info"]["index_names"] == []
    assert after["extra_info"]["index_names"] == ["tracking_people_date_idx"]
    assert after["extra_info"]["db_s"] == [0.0005, 0.000525, 0.000475, 0.0005, 0.00055]
    assert after["extra_info"]["state"] == "after"
    comparison = after["extra_info"]["comparison"]
    # The median of the five pairs' ratios: 11 / 2.1 (the others 10 / 2 twice, 12 / 1.9, 13 / 2.2).
    assert (comparison["pairs"], comparison["ratio"]) == (5, pytest.approx(11 / 2.1))
    assert "comparison" not in before["extra_info"]
    assert document["commit_info"]["id"] == "abc1234"


def _bmf_errors(document: Any) -> list[str]:
    """Every way `document` departs from BMF's JSON schema (empty: it validates)."""
    if not isinstance(document, dict):
        return ["not an object"]
    errors = []
    for name, measures in document.items():
        if not isinstance(measures, dict) or not measures:
            errors.append(f"{name}: not an object of measures")
            continue
        for slug, metric in measures.items():
            if len(slug) > 64 or not isinstance(metric, dict) or "value" not in metric:
                errors.append(f"{name}.{slug}: not a metric with a value")
                continue
            for key, value in metric.items():
                if key not in BMF_KEYS or not isinstance(value, int | float):
                    errors.append(f"{name}.{slug}.{key}: not one of {sorted(BMF_KEYS)} with a number")
    return errors


def test_a_bencher_export_is_bmf(tmp_path: Path) -> None:
    exported = tmp_path / "run.bmf.json"
    done = bench("export", str(_results_file(tmp_path)), "--bencher", str(exported))
    assert done.returncode == 0, done.stderr
    document = json.loads(exported.read_text())
    assert _bmf_errors(document) == []
    after = document["tracking_person_range[heavy-after]"]
    assert after["latency"]["value"] == 2_000_000.0  # nanoseconds, Bencher's unit of latency
    assert after["database-time"]["value"] == 500_000.0
    assert after["queries"] == {"value": 1.0}
    assert after["shared-buffers"] == {"value": 12.0}
    assert document["tracking_person_range[heavy-before]"]["shared-buffers"] == {"value": 1000.0}
    assert sorted(document) == ["tracking_person_range[heavy-after]", "tracking_person_range[heavy-before]"]


def test_the_shape_check_catches_what_bmf_refuses() -> None:
    assert _bmf_errors({"b": {"latency": {"lower_value": 1.0}}}) == ["b.latency: not a metric with a value"]
    assert _bmf_errors({"b": {"latency": {"value": "1"}}}) == [
        "b.latency.value: not one of ['lower_value', 'upper_value', 'value'] with a number"
    ]


def test_export_without_a_format_or_results_is_one_line(tmp_path: Path) -> None:
    done = bench("export", str(_results_file(tmp_path)))
    assert done.returncode == 2
    assert done.stderr == (
        "bench: error: nothing to write: name a file with --pytest-benchmark FILE and/or --bencher FILE\n"
    )
    target = tmp_path / "new" / "pb.json"
    done = bench("export", str(tmp_path / "missing.json"), "--pytest-benchmark", str(target))
    assert done.returncode == 2
    assert done.stderr.startswith("bench: error: no results file at ")
    assert not target.parent.exists()


def test_compare_exports_both_sides_for_pytest_benchmark_compare(tmp_path: Path) -> None:
    base = base_results()
    base_path = write(base, tmp_path / "base.json")
    head_path = write(head_results(base), tmp_path / "head.json")
    output = tmp_path / "out"
    done = bench("compare", str(base_path), str(head_path), "--output", str(output), "--export")
    assert done.returncode == 0, done.stderr
    names = ["base.pytest-benchmark.json", "base.bmf.json", "head.pytest-benchmark.json", "head.bmf.json"]
    assert [line for line in done.stdout.splitlines() if line.startswith("export: ")] == [
        f"export: {output / name}" for name in names
    ]
    for name in ("base.bmf.json", "head.bmf.json"):
        assert _bmf_errors(json.loads((output / name).read_text())) == []
    table = _compare(output / "base.pytest-benchmark.json", output / "head.pytest-benchmark.json")
    assert table.returncode == 0, table.stderr
    # Every benchmark of the base run, beside the same benchmark of the head run.
    exported = json.loads((output / "base.pytest-benchmark.json").read_text())["benchmarks"]
    listed = [row[0] for row in _rows(table.stdout)]
    assert sorted(listed) == sorted(b["name"] for b in exported for _ in range(2))


def test_the_cold_series_is_exported_in_groups_of_its_own() -> None:
    found = with_costs_and_cold()
    cold = [
        (b["group"], b["name"])
        for b in exports.pytest_benchmark_json(found)["benchmarks"]
        if b["group"].endswith("(cold)")
    ]
    assert cold == [
        ("tracking_person_range[heavy] (cold)", "tracking_person_range[heavy-before] (cold)"),
        ("tracking_person_range[heavy] (cold)", "tracking_person_range[heavy-after] (cold)"),
    ]
    bmf = exports.bencher_metric_format(found)
    assert [name for name in bmf if name.endswith("(cold)")] == [name for _, name in cold]
