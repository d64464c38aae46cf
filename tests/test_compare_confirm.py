"""Confirm before failing: a timing regression of `bench compare` stands only when a second measurement
agrees, and whatever the second measurement could not do leaves the finding standing.

Hand-built results pairs (no database, no git): the second measurement is a results pair as the
interleaved path writes it for the flagged items. The measuring itself is checked end to end in
test_compare_replicas.py.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from django_index_bench.bench.cli import main
from django_index_bench.bench.results import Results
from django_index_bench.reports import comparison as rendering
from django_index_bench.verdicts import confirm, gate, words
from tests.compare_fixtures import base_results, interleaved, on_workers, paired_rerun, timing_of, write

KEY = ("tracking_person_range", "typical", "after")
CHANGE = "tracking_person_range__typical__after"
NOTE = "measured again"


def _compare(base: Results, head: Results) -> gate.RefComparison:
    return gate.compare(
        base,
        head,
        base_source=gate.Source("main", "a" * 40, base.run_id),
        head_source=gate.Source("branch", "b" * 40, head.run_id),
        threshold=0.05,
    )


def _slower(factor: float) -> tuple[Results, Results]:
    base = on_workers(base_results(), 2)
    slower = paired_rerun(timing_of(base, *KEY), total=factor)
    return interleaved(base, {CHANGE: slower})


def _first() -> gate.RefComparison:
    return _compare(*_slower(1.10))


def _row(comparison: gate.RefComparison) -> gate.Row:
    return next(r for r in comparison.rows if r.key == KEY)


def test_only_timing_regressions_are_measured_again() -> None:
    first = _first()
    assert confirm.to_confirm(first) == (KEY,)
    more_queries = dataclasses.replace(base_results().measurements[2], query_count=9)
    base, head = interleaved(base_results())
    head = dataclasses.replace(
        head,
        measurements=tuple(
            more_queries
            if (m.scenario, m.case, m.side) == (more_queries.scenario, more_queries.case, more_queries.side)
            else m
            for m in head.measurements
        ),
    )
    deterministic = _compare(base, head)
    assert deterministic.regressed
    assert confirm.to_confirm(deterministic) == ()


def test_a_slowdown_found_again_stands_with_both_figures(tmp_path: Path) -> None:
    outcome = confirm.confirm(_first(), _compare(*_slower(1.12)), error=None, note=NOTE)
    row = _row(outcome)
    assert row.verdict == words.REGRESSION
    assert gate.exit_status(outcome) == 1
    assert row.confirmation is not None
    assert row.confirmation.outcome == words.CONFIRMED
    assert [f.message for f in row.of(words.REGRESSION)] == [
        "end to end 1.10x slower (n=30 pairs, p < 0.001); confirmed on a second measurement: "
        "end to end 1.12x slower (n=30 pairs, p < 0.001)",
        "database time 1.10x slower (n=30 pairs, p < 0.001); confirmed on a second measurement: "
        "database time 1.12x slower (n=30 pairs, p < 0.001)",
    ]
    markdown = rendering.render_markdown(outcome, None)
    assert "**Confirm before failing**: measured again." in markdown
    assert (
        "| `tracking_person_range` | typical | after | confirmed on a second measurement | "
        "end to end +10.0%" in markdown
    )
    assert "| end to end +12.0%" in markdown


def test_a_slowdown_not_found_again_is_noise_and_passes(tmp_path: Path) -> None:
    outcome = confirm.confirm(_first(), _compare(*_slower(1.0)), error=None, note=NOTE)
    row = _row(outcome)
    assert row.verdict == words.UNCHANGED
    assert gate.exit_status(outcome) == 0
    assert row.confirmation is not None
    assert row.confirmation.outcome == words.NOT_CONFIRMED
    messages = [f.message for f in row.findings]
    assert messages[0].startswith(
        "not confirmed: treated as noise: first end to end 1.10x slower (n=30 pairs, p < 0.001); "
        "second end to end 1.00x (n=30 pairs, p = "
    )
    markdown = rendering.render_markdown(outcome, None)
    assert "| not confirmed: treated as noise | end to end +10.0%" in markdown
    assert "No regression" in markdown


def test_a_second_measurement_the_other_way_is_not_agreement() -> None:
    outcome = confirm.confirm(_first(), _compare(*_slower(0.9)), error=None, note=NOTE)
    assert _row(outcome).verdict == words.UNCHANGED


def test_a_second_measurement_that_could_not_run_leaves_the_finding_standing() -> None:
    outcome = confirm.confirm(_first(), None, error="WorkerError: worker 2 exited with status 1", note=NOTE)
    row = _row(outcome)
    assert row.verdict == words.REGRESSION
    assert row.confirmation is not None
    assert row.confirmation.outcome == words.NOT_REMEASURED
    assert row.of(words.REGRESSION)[0].message.endswith(
        "; could not be measured again, so it stands: WorkerError: worker 2 exited with status 1"
    )
    markdown = rendering.render_markdown(outcome, None)
    assert "| failed: WorkerError: worker 2 exited with status 1 |" in markdown


def test_a_second_measurement_that_failed_in_head_leaves_the_finding_standing() -> None:
    base, head = _slower(1.0)
    found = head.find(*KEY)
    assert found is not None
    failed = dataclasses.replace(found, status="failed", error="boom", timing=None)
    head = dataclasses.replace(
        head,
        measurements=tuple(failed if (m.scenario, m.case, m.side) == KEY else m for m in head.measurements),
    )
    outcome = confirm.confirm(_first(), _compare(base, head), error=None, note=NOTE)
    row = _row(outcome)
    assert row.verdict == words.REGRESSION
    assert row.confirmation is not None
    assert row.confirmation.error == "the second measurement failed: failed in HEAD: boom"


def test_the_json_records_both_measurements() -> None:
    outcome = confirm.confirm(_first(), _compare(*_slower(1.0)), error=None, note=NOTE)
    data = json.loads(gate.to_json(outcome))
    assert data["comparison_version"] == 4
    assert data["confirmation"] == NOTE
    (row,) = [r for r in data["rows"] if r["confirmation"] is not None]
    assert row["confirmation"]["outcome"] == "not confirmed"
    assert round(1 / row["timing"]["ratio"], 2) == 1.10
    assert round(1 / row["confirmation"]["timing"]["ratio"], 2) == 1.00


def test_no_confirm_with_results_files_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, head = _slower(1.10)
    a, b = write(base, tmp_path / "a.json"), write(head, tmp_path / "b.json")
    assert main(["compare", str(a), str(b), "--no-confirm", "--output", str(tmp_path / "out")]) == 2
    assert "--no-confirm" in capsys.readouterr().err


def test_results_files_are_not_measured_again_and_say_so(tmp_path: Path) -> None:
    base, head = _slower(1.10)
    a, b = write(base, tmp_path / "a.json"), write(head, tmp_path / "b.json")
    assert main(["compare", str(a), str(b), "--output", str(tmp_path / "out")]) == 1
    data = json.loads((tmp_path / "out" / "comparison.json").read_text(encoding="utf-8"))
    assert data["confirmation"].startswith("compared from results files: nothing is measured again")
    markdown = (tmp_path / "out" / "COMPARISON.md").read_text(encoding="utf-8")
    assert "**Confirm before failing**: compared from results files" in markdown
