"""`bench run` replicates the database level: several copies per state, each with its own connections,
the pairs spread over them, every copy prewarmed alike, and the report's verdicts resampling whole
copies with the copy-level spread shown beside them. Run on examples/library as a user runs it (tiny
profile, --quick): the timings say nothing here, the shape of the results and the report must."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from django_index_bench.bench import results
from tests.cli import bench
from tests.test_example_project import example_copy

COPIES = 4  # the tiny data is far below rounds.copies.SMALL_DATABASE_BYTES


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, results.Results]:
    project = example_copy(tmp_path_factory.mktemp("run_copies"))
    done = bench(
        "run", "--profile", "tiny", "--quick", "--no-cold", "--no-costs", "--no-load", "--no-progress",
        "--database", "example_run_copies", cwd=project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return project, results.load(project / "results" / results.LATEST)


def test_each_state_gets_copies_chosen_by_the_data_size_and_recorded(
    measured: tuple[Path, results.Results],
) -> None:
    _, run = measured
    schedule = run.schedule
    assert (schedule.sides, schedule.workers, schedule.copies) == ("databases", 1, COPIES)
    assert schedule.worker_copies == (0, 1, 2, 3)
    assert re.fullmatch(
        r"4 per state, each with its own connections: the data \(\d+ MB\) is at most 64 MB, so cloning "
        r"its migrated copies is cheap",
        schedule.copies_reason,
    ), schedule.copies_reason
    assert schedule.prewarm.startswith("pg_prewarm of every table and index of each of the 8 copies ("), (
        schedule.prewarm
    )


def test_every_copy_of_each_state_is_used_and_a_pair_stays_on_one_copy(
    measured: tuple[Path, results.Results],
) -> None:
    _, run = measured
    used: dict[str, set[int]] = {}
    for m in run.measurements:
        assert m.ok, m.error
        assert m.timing is not None
        timing = m.timing
        # --quick: at least 6 pairs, so each item's rounds reach all four copies.
        assert set(timing.worker) == {0, 1, 2, 3}
        assert list(timing.worker) == [p % COPIES for p in timing.pair]
        used.setdefault(m.state, set()).update(timing.worker)
    assert used == {"before": {0, 1, 2, 3}, "after": {0, 1, 2, 3}}
    # The facts (plans, query counts) are taken once, on the first copy: one plan per statement.
    heavy = [m for m in run.measurements if (m.scenario, m.case) == ("books_by_author", "heavy")]
    assert [len(m.plans) for m in heavy] == [1, 1]


def test_the_report_shows_per_copy_medians_and_the_spread_across_copies(
    measured: tuple[Path, results.Results],
) -> None:
    project, run = measured
    done = bench("report", cwd=project)
    assert done.returncode == 0, done.stderr
    text = (project / "report" / "PERFORMANCE_BASELINE_REPORT.md").read_text(encoding="utf-8")
    assert "| Verdict | Across copies |" in text
    medians = re.findall(
        r"^- Per database copy \(median end to end / database time, rounds\): (.*)$", text, re.M
    )
    cases = sum(len(s.cases) for s in run.scenarios)
    assert len(medians) == cases
    for line in medians:
        # Each side on each of its four copies, with how many rounds ran there (6 to 8 pairs: 1 or 2).
        sides = line.split("; ")
        assert len(sides) == 2, line
        for side in sides:
            copies = re.findall(r"copy (\d) \S+ \S+ / \S+ \S+ \((\d)\)", side)
            assert [c for c, _ in copies] == ["0", "1", "2", "3"], side
            assert all(n in ("1", "2") for _, n in copies), side
    # The spread column: the lowest and highest change over the copies, beside each verdict.
    assert re.search(r"\| [+-]\d+\.\d% to [+-]\d+\.\d% \|$", text, re.M)
    assert "Each state had 4 database copies (4 per state, each with its own connections" in text


def test_copies_outside_two_to_four_are_refused_before_anything_runs(tmp_path: Path) -> None:
    done = bench("run", "--copies", "5", "--database", "never_created", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "bench run: error: argument --copies: must be 2 to 4 (see bench run --help)"
    ]
    assert "Traceback" not in done.stderr


def test_each_side_records_the_shared_buffer_hits_and_reads_of_its_timed_rounds(
    measured: tuple[Path, results.Results],
) -> None:
    project, run = measured
    assert run.schema_version >= 10  # counted since schema 10
    for m in run.measurements:
        assert m.timing is not None
        hit, read = m.timing.blocks_hit, m.timing.blocks_read
        assert hit is not None, m.scenario
        assert read is not None, m.scenario
        # Both scenarios read catalog_book (5,000 rows): every round requests some of its blocks.
        assert hit + read >= m.timing.rounds, (m.scenario, m.case, m.side, hit, read)
    done = bench("report", cwd=project)
    assert done.returncode == 0, done.stderr
    text = (project / "report" / "PERFORMANCE_BASELINE_REPORT.md").read_text(encoding="utf-8")
    lines = re.findall(r"^- Shared buffers in the timed rounds: (.*)$", text, re.M)
    assert len(lines) == sum(len(s.cases) for s in run.scenarios)
    for line in lines:
        assert re.fullmatch(
            r"before [\d,]+ hit \+ [\d,]+ read \(\d+\.\d % read\); after [\d,]+ hit \+ [\d,]+ read "
            r"\(\d+\.\d % read\)\.",
            line,
        ), line
