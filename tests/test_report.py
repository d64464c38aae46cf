"""The performance baseline report, rendered from results fixtures: the numbers are the results' numbers,
unmet claims say so, failures and gaps show, every linked chart exists, and bad input is refused."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from django_index_bench.bench import cli
from django_index_bench.bench.commands import _load
from django_index_bench.bench.results import Results, to_json
from django_index_bench.reports import claims, fmt, render
from django_index_bench.reports.analysis import analyze
from django_index_bench.reports.render import REPORT_NAME
from django_index_bench.verdicts import stats, words
from tests.cli import SAMPLE_CLAIMS
from tests.report_fixtures import every_outcome, with_costs_and_cold
from tests.sample_results import sample_results

TEMPLATES = Path(render.__file__).with_name("templates")


def main(argv: list[str]) -> int:
    """bench's real entry point and error handling, with only the report command wired in: the other
    commands' imports have nothing to do with rendering."""
    from django_index_bench.bench.commands import report

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "discover", lambda: [_load(report)])
        return cli.main(argv)


@pytest.fixture(scope="module")
def results() -> Results:
    return every_outcome()


@pytest.fixture(scope="module")
def rendered(results: Results, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    output = tmp_path_factory.mktemp("report")
    written = render.render(results, output, claims_path=SAMPLE_CLAIMS)
    return output, written.report.read_text(encoding="utf-8")


def samples_of(results: Results, scenario: str, case: str, side: str) -> tuple[float, ...]:
    measurement = results.find(scenario, case, side)
    assert measurement is not None
    assert measurement.timing is not None
    return measurement.timing.total_s


def summary(markdown: str) -> str:
    return markdown.split("## Executive summary", 1)[1].split("\n## ", 1)[0]


def row(markdown: str, *cells: str) -> str:
    """The one table row holding all these cells, in this order."""
    pattern = ".*".join(re.escape(c) for c in cells)
    found = [line for line in markdown.splitlines() if line.startswith("|") and re.search(pattern, line)]
    assert len(found) == 1, f"expected one row with {cells}, found {found}"
    return found[0]


def test_summary_figures_are_the_statistics_of_the_samples(
    results: Results, rendered: tuple[Path, str]
) -> None:
    _, markdown = rendered
    before = samples_of(results, "tracking_person_range", "heavy", "before")
    after = samples_of(results, "tracking_person_range", "heavy", "after")
    # The fixture's rounds pair by position, all in one worker process.
    comparison = stats.compare_paired(before, after, workers=[(0, 0)] * len(before))
    assert comparison.verdict == words.FASTER
    line = row(markdown, "`tracking_person_range` | heavy |", "pairs |")
    assert fmt.duration(comparison.baseline.median) in line
    assert fmt.duration(comparison.candidate.median) in line
    assert f"| {fmt.ratio(comparison.ratio)} [{fmt.ratio_ci(comparison.ratio_ci)}] |" in line
    assert fmt.p_value(comparison.p_value) in line
    assert f"end to end {fmt.ratio(comparison.ratio)}; n = 12 pairs" in line


def test_detail_tables_show_p95_and_iqr(results: Results, rendered: tuple[Path, str]) -> None:
    _, markdown = rendered
    summary = stats.summarize(samples_of(results, "tracking_person_range", "heavy", "after"))
    line = row(
        markdown, "| after | ok | after |", f"| {fmt.duration(summary.median)} | {fmt.duration(summary.p95)}"
    )
    assert f"| {summary.n} | {fmt.duration(summary.median)} | {fmt.duration(summary.p95)} " in line
    assert fmt.duration(summary.iqr) in line


def test_plans_are_described_with_their_indexes(rendered: tuple[Path, str]) -> None:
    _, markdown = rendered
    assert "`Index Scan using tracking_people_date_idx on tracking`" in markdown
    assert "indexes: tracking_people_date_idx" in markdown
    assert "rows removed by filter: 12,345" in markdown


def test_a_claim_that_is_met_says_met(rendered: tuple[Path, str]) -> None:
    _, markdown = rendered
    assert "| **met** |" in row(markdown, "| 80-90 % faster |", "group tracking")


def test_a_small_but_real_speedup_does_not_meet_a_bigger_claim(
    results: Results, rendered: tuple[Path, str]
) -> None:
    _, markdown = rendered
    comparison = stats.compare_paired(
        samples_of(results, "journal_user_timeline", "heavy", "before"),
        samples_of(results, "journal_user_timeline", "heavy", "after"),
    )
    assert comparison.verdict == words.FASTER
    assert comparison.reduction < 0.40
    line = row(markdown, "| 40-55 % faster |", "group journal")
    assert "**not met**" in line
    assert "below the claimed" in line


@pytest.mark.parametrize(
    ("claimed", "measured"),
    [
        ("| 85-95 % fewer queries |", "4 -> 2 (50.0 % less)"),
        ("| 99.5 % less memory |", "95.0 % less"),
        ("| 5 MB -> 25 KB (99.5 % smaller) |", "99.4 % less"),
    ],
)
def test_unmet_quantity_claims_say_not_met(rendered: tuple[Path, str], claimed: str, measured: str) -> None:
    _, markdown = rendered
    line = row(markdown, claimed)
    assert measured in line
    assert "**not met**" in line


def test_a_constant_query_count_claim_is_met(rendered: tuple[Path, str]) -> None:
    _, markdown = rendered
    assert "**met**" in row(markdown, "| 21 -> 2 queries |")


def test_absolute_claims_are_shown_but_not_judged(rendered: tuple[Path, str]) -> None:
    _, markdown = rendered
    assert "**not measurable here**" in row(markdown, "| 3-5 s -> 200-300 ms |")


def test_missing_and_failed_cases_show_as_such(rendered: tuple[Path, str]) -> None:
    _, markdown = rendered
    assert "**MISSING** (before missing, after missing)" in row(
        summary(markdown), "`journal_user_timeline`", "| light |"
    )
    failed = row(summary(markdown), "`journal_user_timeline`", "| typical |")
    assert "**FAILED** (after: OperationalError: canceling statement due to statement timeout)" in failed
    assert "| 4.99 ms | FAILED |" in failed
    assert "FAILED or are MISSING" in markdown


def test_a_scenario_a_claim_needs_but_the_run_lacks_is_not_measurable(tmp_path: Path) -> None:
    markdown = render.render(sample_results(), tmp_path, claims_path=SAMPLE_CLAIMS).report.read_text(
        encoding="utf-8"
    )
    line = row(markdown, "| 99.5 % less memory |")
    assert "**not measurable here**" in line
    assert "helpdesk_load_peoples: not in the results" in line


def test_every_linked_chart_exists_and_is_relative(rendered: tuple[Path, str]) -> None:
    output, markdown = rendered
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert {Path(link).name for link in links} >= {
        "latency.png",
        "distributions.png",
        "queries.png",
        "time_split.png",
    }
    for link in links:
        assert not Path(link).is_absolute()
        assert (output / link).is_file(), link


def test_charts_are_only_drawn_from_data_present(tmp_path: Path) -> None:
    written = render.render(sample_results(), tmp_path, claims_path=SAMPLE_CLAIMS)
    names = {path.name for path in written.charts}
    assert "response_size.png" not in names
    assert "memory.png" not in names
    assert not (tmp_path / "charts" / "memory.png").exists()
    assert "memory.png" not in written.report.read_text(encoding="utf-8")


def test_markdown_needs_no_raw_html(rendered: tuple[Path, str]) -> None:
    _, markdown = rendered
    assert not re.search(r"<[a-zA-Z/][^>]*>", markdown)


def test_the_same_results_render_the_same_files(results: Results, tmp_path: Path) -> None:
    first = render.render(results, tmp_path / "one")
    second = render.render(results, tmp_path / "two")
    assert first.report.read_bytes() == second.report.read_bytes()
    for a, b in zip(first.charts, second.charts, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_the_report_template_holds_no_typed_figures() -> None:
    text = (TEMPLATES / "report.md.j2").read_text(encoding="utf-8")
    assert not re.search(r"\d+(\.\d+)?\s*(ms|%|x\b)", text)


def test_the_claims_file_is_valid() -> None:
    loaded = claims.load(SAMPLE_CLAIMS)
    assert {c.metric for c in loaded} <= set(claims.METRICS)
    assert len({c.id for c in loaded}) == len(loaded)


def test_cli_renders_a_results_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "results.json"
    source.write_text(to_json(every_outcome()), encoding="utf-8")
    output = tmp_path / "out"
    assert main(["report", str(source), "--output", str(output)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"report: {output / REPORT_NAME}"
    assert re.fullmatch(r"step report: +\d+\.\d s", out[-1])
    assert (output / REPORT_NAME).is_file()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (json.dumps({"schema_version": 999}), "schema version 999"),
        ("{not json", "cannot read results file"),
        (json.dumps({"schema_version": "x"}) + "\n", "schema version 'x'"),
    ],
)
def test_cli_refuses_a_bad_results_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    source = tmp_path / "results.json"
    source.write_text(content, encoding="utf-8")
    output = tmp_path / "out"
    assert main(["report", str(source), "--output", str(output)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert message in err[0]
    assert not output.exists()


def test_cli_without_a_results_file_says_how_to_get_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path / "none.json"), "--output", str(tmp_path / "out")]) == 2
    assert "run `bench run` first" in capsys.readouterr().err


def test_costs_and_the_cold_series_are_reported(tmp_path: Path) -> None:
    results = with_costs_and_cold()
    markdown = render.render(results, tmp_path, claims_path=SAMPLE_CLAIMS).report.read_text(encoding="utf-8")
    line = row(markdown, "| attendance.0031_add_tracking_performance_indexes | plain | forward |")
    # One repetition: a single measurement, no interval.
    assert f"| {fmt.duration(1.25)} (one measurement) |" in line
    assert f"| {fmt.duration(1.2)} (one measurement) |" in line
    assert f"| absent | {fmt.size(900_000)} |" in row(markdown, "| tracking_people_date_idx |")
    cold = markdown.split("## Cold cache", 1)[1].split("##", 1)[0]
    before = next(m for m in results.cold if m.side == "before")
    assert before.timing is not None
    assert fmt.duration(stats.summarize(before.timing.total_s).median) in cold
    # Scenarios the cold series does not cover are not reported missing from it.
    assert "MISSING" not in cold
    assert "wellness_summary" not in cold


def test_a_plan_change_on_a_table_the_move_rewrote_is_said_in_the_verdict() -> None:
    """tracking_person_range's plan goes from a Seq Scan to an Index Scan on tracking; when the move to
    the after state also rewrote tracking, the verdict names it, and how the copy was settled."""
    base = sample_results()
    before, after = base.states
    rewritten = dataclasses.replace(
        base, states=(before, dataclasses.replace(after, rewritten=("tracking",), maintenance="ANALYZE"))
    )
    case = analyze(rewritten).scenario("tracking_person_range")
    assert case is not None
    assert render.verdict(case.cases[0]).endswith(
        "; the plan changed on `tracking`, which a migration between the states rewrote (its copy had only "
        "ANALYZE after the move, so its visibility map may be empty and an index-only scan become a "
        "sequential one)"
    )
    settled = dataclasses.replace(after, rewritten=("tracking",), maintenance="VACUUM (ANALYZE)")
    vacuumed = dataclasses.replace(rewritten, states=(before, settled))
    case = analyze(vacuumed).scenario("tracking_person_range")
    assert case is not None
    assert render.verdict(case.cases[0]).endswith(
        "which a migration between the states rewrote (its copy was vacuumed and analyzed after the move)"
    )
    case = analyze(base).scenario("tracking_person_range")
    assert case is not None
    assert "rewrote" not in render.verdict(case.cases[0])


@pytest.mark.parametrize(
    ("reduction", "words"),
    [
        (0.25, "25.0 % faster"),
        (0.5, "2.00x faster"),
        (1 - 1 / 659, "659.00x faster"),
        (-0.5, "50.0 % slower"),
        (-1.0, "2.00x slower"),
        (-29.23, "30.23x slower"),
    ],
)
def test_a_change_of_2x_or_more_reads_as_a_factor(reduction: float, words: str) -> None:
    assert fmt.saving(reduction) == words


def test_the_findings_give_a_big_speedup_as_a_factor(rendered: tuple[Path, str]) -> None:
    """tracking_person_range is about 10x faster: the summary says so, never "9x.x % faster"."""
    _, markdown = rendered
    (line,) = [r for r in markdown.splitlines() if r.startswith("- `tracking_person_range`")]
    assert re.search(r"significant end-to-end changes: \d+\.\d\dx faster\.$", line), line
    assert "% faster" not in line
