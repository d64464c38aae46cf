"""The report on schema 3: paired verdicts on database time and end to end, each with the pairs it rests
on; FAILED and MISSING wherever a case appears; controls beside a claim, never in its verdict; and a
methodology written from the recorded schedule.

Expected strings are written out literally, not built with the report's own formatter."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from django_index_bench.bench import results as results_file
from django_index_bench.bench.results import Results
from django_index_bench.reports import claims, fmt, render
from django_index_bench.reports.analysis import analyze
from django_index_bench.verdicts import stats
from tests.cli import SAMPLE_CLAIMS
from tests.report_fixtures import DRIFT, one_case, rounds, scaled, with_a_slower_control
from tests.sample_results import sample_results


def markdown_of(results: Results, tmp_path: Path, *, threshold: float = 0.10) -> str:
    return render.render(results, tmp_path, claims_path=SAMPLE_CLAIMS, threshold=threshold).report.read_text(
        encoding="utf-8"
    )


def section(markdown: str, heading: str) -> str:
    assert heading in markdown, heading
    return re.split(r"\n#{2,4} ", markdown.split(heading, 1)[1], maxsplit=1)[0]


def summary_row(markdown: str, scenario: str, case: str) -> str:
    table = section(markdown, "## Executive summary")
    (line,) = [r for r in table.splitlines() if r.startswith(f"| `{scenario}` | {case} |")]
    return line


def ten_percent_slower() -> Results:
    """Every pair's candidate round exactly 1.1 times its baseline round, on a drifting machine."""
    return one_case(
        rounds(DRIFT, scaled(DRIFT, 0.5)),
        rounds(scaled(DRIFT, 1.1), scaled(DRIFT, 0.55)),
    )


def test_a_consistent_slowdown_in_every_pair_is_called_slower(tmp_path: Path) -> None:
    results = ten_percent_slower()
    (case,) = analyze(results, threshold=0.05).all_cases()
    assert case.comparison is not None
    assert case.comparison.method == "paired"
    assert case.comparison.n == 20
    assert case.comparison.verdict == "slower"
    line = summary_row(markdown_of(results, tmp_path, threshold=0.05), "tracking_person_range", "heavy")
    assert "database time 1.10x slower, end to end 1.10x slower; n = 20 pairs" in line


def test_the_drift_hides_the_slowdown_from_an_unpaired_test() -> None:
    """Why pairing: the same rounds, compared as two independent samples, show nothing."""
    assert stats.compare(DRIFT, scaled(DRIFT, 1.1), threshold=0.05).verdict == "no significant change"


def test_identical_pairs_are_no_significant_change(tmp_path: Path) -> None:
    results = one_case(rounds(DRIFT, scaled(DRIFT, 0.3)), rounds(DRIFT, scaled(DRIFT, 0.3)))
    line = summary_row(markdown_of(results, tmp_path), "tracking_person_range", "heavy")
    assert (
        "database time no significant change (1.00x), end to end no significant change (1.00x); "
        "n = 20 pairs" in line
    )


def test_database_time_and_end_to_end_are_judged_apart(tmp_path: Path) -> None:
    """The index makes the query 8 times faster; the call takes as long, the ORM's share having grown."""
    results = one_case(rounds(DRIFT, scaled(DRIFT, 0.8)), rounds(DRIFT, scaled(DRIFT, 0.1)))
    markdown = markdown_of(results, tmp_path)
    line = summary_row(markdown, "tracking_person_range", "heavy")
    assert "database time 8.00x faster, end to end no significant change (1.00x); n = 20 pairs" in line
    assert "| 8.00x faster [8.00x to 8.00x faster] |" in line
    detail = section(markdown, "#### tracking_person_range / heavy")
    assert "Database time: 8.00x faster, 95 % CI " in detail
    assert "Wilcoxon signed-rank on paired log ratios" in detail
    where = section(markdown, "## Where the time goes")
    assert "| `tracking_person_range` | heavy | before | 11.8 ms | 2.95 ms | 14.7 ms | 80 % |" in where
    assert "| `tracking_person_range` | heavy | after | 1.47 ms | 13.3 ms | 14.7 ms | 10 % |" in where
    assert "![Where the time goes](charts/time_split.png)" in where
    assert (tmp_path / "charts" / "time_split.png").is_file()


def test_only_pairs_both_sides_have_are_compared() -> None:
    before = rounds(DRIFT[:10], DRIFT[:10])
    after = rounds(DRIFT[:10], DRIFT[:10], first_pair=2, workers=(1,) * 10)
    base_rounds, cand_rounds, workers = results_file.pairs(before, after)
    assert base_rounds == [2, 3, 4, 5, 6, 7, 8, 9]
    assert cand_rounds == [0, 1, 2, 3, 4, 5, 6, 7]
    assert workers == [(0, 1)] * 8


def test_sides_without_common_pairs_fall_back_to_mann_whitney(tmp_path: Path) -> None:
    results = one_case(rounds(DRIFT, DRIFT), rounds(scaled(DRIFT, 0.1), scaled(DRIFT, 0.1), first_pair=100))
    (case,) = analyze(results).all_cases()
    assert case.comparison is not None
    assert case.comparison.method == "independent"
    markdown = markdown_of(results, tmp_path)
    assert "n = 20 rounds per side, unpaired" in summary_row(markdown, "tracking_person_range", "heavy")
    method = section(markdown, "## Methodology and caveats")
    assert "Mann-Whitney U (two-sided), for 2 comparison(s) whose sides share no pairs" in method
    assert "Wilcoxon" not in method


def test_a_failed_side_is_failed_in_the_summary_the_claims_and_the_detail(tmp_path: Path) -> None:
    markdown = markdown_of(sample_results(), tmp_path)
    assert (
        "**FAILED** (n_plus_one: not measured: its pair's other side failed; prefetch: RuntimeError: boom)"
        in summary_row(markdown, "wellness_summary", "all")
    )
    (claim,) = [r for r in markdown.splitlines() if r.startswith("| 21 -> 2 queries |")]
    assert "| FAILED | **not measurable here** |" in claim
    assert "prefetch: RuntimeError: boom" in claim
    assert "**met**" not in claim
    detail = section(markdown, "#### wellness_summary / all")
    assert "| prefetch | **FAILED** |" in detail
    assert "- `prefetch` **FAILED**: `RuntimeError: boom`" in detail
    assert "stopped because it failed" in detail


def test_a_failed_state_change_is_shown_before_the_summary(tmp_path: Path) -> None:
    base = sample_results()
    broken = dataclasses.replace(
        base.states[1],
        status="failed",
        error="attendance.0031: ProgrammingError: could not create unique index\nDETAIL: Key (id)=(7)",
    )
    markdown = markdown_of(dataclasses.replace(base, states=(base.states[0], broken)), tmp_path)
    top = markdown.split("## Executive summary", 1)[0]
    assert "> **1 state change(s) FAILED.**" in top
    assert (
        "> - state `after` (database `bench_run_after`, migrations "
        "attendance.0031_add_tracking_performance_indexes): "
        "`attendance.0031: ProgrammingError: could not create unique index`" in top
    )
    assert "DETAIL" not in top
    assert "| after | `bench_run_after` | **FAILED**: attendance.0031: ProgrammingError" in markdown


def test_a_control_that_got_slower_does_not_touch_the_claim() -> None:
    analysis = analyze(with_a_slower_control())
    claim = claims.Claim(
        id="journal",
        source="write-up",
        quote="40-55% faster timeline queries",
        claimed="40-55 % faster",
        metric="latency",
        group="journal",
        reduction=(40.0, 55.0),
        controls=("journal_privacy_scope",),
    )
    verdict = claims.judge(claim, analysis)
    assert verdict.status == "met"
    assert [c.label for c in verdict.checks] == ["journal_user_timeline / heavy"]
    (control,) = verdict.controls
    assert control.label == "journal_privacy_scope / heavy"
    assert control.status == "control, not judged"
    assert control.measured.startswith("end to end 1.50x slower")
    # The same claim with the control swept into its group would have failed on it.
    swept = claims.judge(dataclasses.replace(claim, controls=()), analysis)
    assert swept.status == "not met"
    markdown = render.render_markdown(analysis, [], [verdict])
    (line,) = [r for r in markdown.splitlines() if r.startswith("| 40-55 % faster |")]
    assert "| group journal (controls, not judged: journal_privacy_scope) |" in line
    assert "| **met** |" in line
    assert "- journal_privacy_scope / heavy: control, not judged; end to end 1.50x slower" in markdown


def test_the_methodology_is_written_from_the_schedule(tmp_path: Path) -> None:
    results = ten_percent_slower()
    method = section(markdown_of(results, tmp_path / "a"), "## Methodology and caveats")
    assert "at least 5 and at most 400 pairs" in method
    assert "within 2.0 % of it, or when its budget of 2.00 s ran out" in method
    assert "the first pair's order came from seed 42; the baseline ran first in 10 of 20 pairs" in method
    assert "1 untimed warmup round(s) per side" in method
    assert "1 item(s) (warm cache) ran 20 to 20 pairs each (median 20)" in method
    assert "1 because its interval reached the precision" in method
    assert "state `before` on database `bench_run_before`" in method
    assert "Wilcoxon signed-rank on paired log ratios (two-sided)" in method
    assert "independent of one another and the differences of log times symmetric" in method
    assert "alternate in blocks" not in method
    assert "resamples whole workers" not in method
    assert "the interval of the median paired ratio is from order statistics of the pairs' ratios" in method

    schedule = dataclasses.replace(
        results.schedule, min_pairs=30, precision=0.05, sides="workers", workers=3, order_seed=7
    )
    changed = section(
        markdown_of(dataclasses.replace(results, schedule=schedule), tmp_path / "b"),
        "## Methodology and caveats",
    )
    assert "at least 30 and at most 400 pairs" in changed
    assert "within 5.0 % of it" in changed
    assert "the first pair's order came from seed 7" in changed
    assert "Each side ran in 3 worker process(es) of its own" in changed
    assert "with 3 worker processes per side, pairs of one process are not independent" in changed
    assert "that resamples whole workers, each side's independently" in changed
    assert "at least 5 and" not in changed
    assert "within 2.0 %" not in changed


@pytest.mark.parametrize("name", ["report.md.j2"])
def test_templates_hold_no_typed_figures(name: str) -> None:
    text = (Path(render.__file__).with_name("templates") / name).read_text(encoding="utf-8")
    assert not re.search(r"\d+(\.\d+)?\s*(ms|µs|s\b|%|x\b)", text)


def test_a_schema_2_file_is_reported_as_unpaired_without_database_time(tmp_path: Path) -> None:
    old = results_file.load(Path(__file__).with_name("data") / "results_v2.json")
    markdown = markdown_of(old, tmp_path)
    line = summary_row(markdown, "tracking_person_range", "heavy")
    assert "| 11.0 ms | 2.00 ms | 5.50x faster [4.76x to 6.50x faster] | 0.012 | - | - | - | - |" in line
    assert "end to end 5.50x faster; n = 5 rounds per side, unpaired" in line
    method = section(markdown, "## Methodology and caveats")
    assert "predates paired measurement (schema 2)" in method
    assert "Mann-Whitney U (two-sided)" in method
    assert "Wilcoxon" not in method
    assert "seed 0" not in method
    assert "No database time in the results" in section(markdown, "## Where the time goes")
    assert not (tmp_path / "charts" / "time_split.png").exists()


def test_the_journal_claims_keep_their_control_out() -> None:
    journal = [c for c in claims.load(SAMPLE_CLAIMS) if c.group == "journal"]
    assert journal
    assert all(c.controls == ("journal_privacy_scope",) for c in journal)


@pytest.mark.parametrize(
    ("interval", "words"),
    [
        ((1.30, 1.50), "1.30x to 1.50x faster"),
        ((0.80, 0.95), "1.05x to 1.25x slower"),
        ((0.80, 1.20), "1.25x slower to 1.20x faster"),
    ],
)
def test_an_interval_reads_in_the_words_of_its_change(interval: tuple[float, float], words: str) -> None:
    assert fmt.ratio_ci(interval) == words
