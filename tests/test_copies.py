"""The database level replicated in `bench compare`: several copies per (ref, state), the interval and
the p-value resampling whole copies with their workers, per-copy medians and the copy-level spread.

Hand-built rounds (no database): the measuring itself is checked end to end in
test_compare_replicas.py.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from django_index_bench.bench import results
from django_index_bench.bench.cli import main
from django_index_bench.bench.gate.interleaved import choose_copies
from django_index_bench.bench.results import Results, Timing
from django_index_bench.reports import comparison as rendering
from django_index_bench.verdicts import gate, stats, words
from tests.compare_fixtures import base_results, interleaved, on_workers, paired_rerun, timing_of, write
from tests.report_fixtures import with_everything

WORKER_COPIES = (0, 1, 0, 1)  # four workers round-robin over two copies, as compare spreads them
KEY = ("tracking_person_range", "typical", "after")


def _rounds(
    effect_on_copy: dict[int, float], pairs: int = 200
) -> tuple[list[float], list[float], list[tuple[int, int]]]:
    """Pairs on four workers a side over two copies; HEAD's rounds on copy k slower by effect_on_copy[k]."""
    rng = np.random.default_rng(5)
    base_workers, head_workers = rng.integers(0, 4, pairs), rng.integers(0, 4, pairs)
    base = 0.002 * np.exp(rng.normal(0, 0.02, pairs))
    head = np.array(
        [
            b * np.exp(rng.normal(0, 0.02)) * (1 + effect_on_copy.get(WORKER_COPIES[w], 0.0))
            for b, w in zip(base, head_workers, strict=True)
        ]
    )
    workers = list(zip(base_workers.tolist(), head_workers.tolist(), strict=True))
    return base.tolist(), head.tolist(), workers


def _copies(workers: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(WORKER_COPIES[b], WORKER_COPIES[h]) for b, h in workers]


def test_one_slow_copy_is_no_change_once_copies_are_resampled_whole() -> None:
    base, head, workers = _rounds({1: 0.12})
    # No threshold: the question is whether the test and the interval take the artefact for an effect.
    pairs_alone = stats.compare_paired(base, head, alpha=0.01, threshold=0.0)
    assert pairs_alone.verdict == words.SLOWER  # as independent pairs, a copy's artefact reads as an effect
    by_copy = stats.compare_paired(
        base, head, workers=workers, copies=_copies(workers), alpha=0.01, threshold=0.0
    )
    assert by_copy.verdict == words.NO_CHANGE
    assert by_copy.ratio_ci is not None
    assert by_copy.ratio_ci[0] < 1 / 1.10  # the interval reaches the slow copy
    assert by_copy.ratio_ci[1] > 0.99  # and the other one


def test_a_slowdown_on_every_copy_is_still_found() -> None:
    base, head, workers = _rounds({0: 0.10, 1: 0.10})
    found = stats.compare_paired(
        base, head, workers=workers, copies=_copies(workers), alpha=0.001, threshold=0.05
    )
    assert found.verdict == words.SLOWER
    assert found.p_value is not None
    assert found.p_value < 0.001


def test_the_number_of_copies_follows_the_data_size() -> None:
    small = choose_copies(12 * 1024**2, None)
    assert (small.count, small.worker_copies) == (4, (0, 1, 2, 3))
    assert small.reason.startswith(
        "4 per ref and state, one per worker: the seeded data (12 MB) is at most 64 MB"
    )
    large = choose_copies(3 * 1024**3, None)
    assert (large.count, large.worker_copies) == (2, (0, 1, 0, 1))
    assert "(3072 MB) is over 64 MB" in large.reason
    asked = choose_copies(12 * 1024**2, 3)
    assert (asked.count, asked.worker_copies) == (3, (0, 1, 2, 0))
    assert asked.reason == "3 per ref and state, as --copies asked (seeded data 12 MB)"


def _on_copies(run: Results) -> Results:
    schedule = dataclasses.replace(
        run.schedule, copies=2, worker_copies=WORKER_COPIES, copies_reason="two, for the test"
    )
    return dataclasses.replace(run, schedule=schedule)


def _slow_copy(timing: Timing, factor: float) -> Timing:
    """HEAD's rounds on copy 1 (odd workers) slower by factor."""
    total = tuple(
        t * factor if WORKER_COPIES[w] == 1 else t for t, w in zip(timing.total_s, timing.worker, strict=True)
    )
    return dataclasses.replace(timing, total_s=total)


def _copy_artefact() -> gate.RefComparison:
    base = on_workers(base_results(), 4)
    artefact = _slow_copy(paired_rerun(timing_of(base, *KEY), db=1.0), 1.12)
    base, head = interleaved(base, {"__".join(KEY): artefact})
    base, head = _on_copies(base), _on_copies(head)
    return gate.compare(
        base, head, base_source=gate.Source("main", None, base.run_id),
        head_source=gate.Source("branch", None, head.run_id), threshold=0.05,
    )  # fmt: skip


def test_the_gate_records_per_copy_medians_and_the_spread_across_copies() -> None:
    outcome = _copy_artefact()
    row = next(r for r in outcome.rows if r.key == KEY)
    assert row.verdict == words.UNCHANGED
    assert (outcome.copies, outcome.copies_reason) == (2, "two, for the test")
    assert [(c.role, c.copy, c.rounds) for c in row.copies] == [
        ("base", 0, 15),
        ("base", 1, 15),
        ("head", 0, 15),
        ("head", 1, 15),
    ]
    head_0, head_1 = row.copies[2].total_s, row.copies[3].total_s
    assert head_1 / head_0 > 1.08  # the artefact is there, in one copy only
    assert row.copy_spread is not None
    low, high = row.copy_spread
    assert round(low, 2) == 1.00
    assert round(high, 2) == 1.12
    data = json.loads(gate.to_json(outcome))
    assert data["copies"] == 2
    (raw,) = [r for r in data["rows"] if (r["scenario"], r["case"], r["side"]) == KEY]
    assert [c["copy"] for c in raw["copies"]] == [0, 1, 0, 1]
    markdown = rendering.render_markdown(outcome, None)
    assert "| +0.0% to +12.0% |" in markdown or "| -0.0% to +12.0% |" in markdown
    assert "on 2 database copies per ref and state (two, for the test)" in markdown
    assert "hierarchical cluster bootstrap" in markdown


def test_a_schema_7_file_reads_as_one_copy(tmp_path: Path) -> None:
    current = with_everything()
    data = json.loads(results.to_json(current))
    data["schema_version"] = 7
    for field in ("copies", "worker_copies", "copies_reason", "prewarm"):
        del data["schedule"][field]
    path = tmp_path / "v7.json"
    path.write_text(json.dumps(data))
    old = results.load(path)
    assert old.schema_version == results.SCHEMA_VERSION == 11
    assert (
        old.schedule.copies,
        old.schedule.worker_copies,
        results.copy_of(old.schedule.worker_copies, 3),
    ) == (1, (), 0)
    assert old == current


@pytest.mark.parametrize("value", ["1", "5", "two"])
def test_copies_outside_two_to_four_are_refused(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["compare", "main", "HEAD", "--copies", value, "--output", str(tmp_path / "out")])
    assert raised.value.code == 2
    assert "--copies" in capsys.readouterr().err


def test_copies_with_results_files_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, head = interleaved(base_results())
    a, b = write(base, tmp_path / "a.json"), write(head, tmp_path / "b.json")
    assert main(["compare", str(a), str(b), "--copies", "2", "--output", str(tmp_path / "out")]) == 2
    assert "--copies" in capsys.readouterr().err
