"""The report's issue-7 parts, from results fixtures and no database: what the indexes cost next to the
speedup, the scale curve with its fitted slopes, warm against cold, and a one-line note for each absent part.

Expected figures are computed here with the same functions the report uses, from the fixture's data."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from pathlib import Path

import pytest

from django_index_bench.bench.results import Costs, Results, from_dict, to_json
from django_index_bench.reports import fmt, order_stats, render, scaling, tradeoff, warm_cold
from django_index_bench.reports.analysis import analyze
from django_index_bench.verdicts import stats, words
from tests.report_fixtures import SCALE_ROWS, every_outcome, with_everything


@pytest.fixture(scope="module")
def results() -> Results:
    return with_everything()


@pytest.fixture(scope="module")
def rendered(results: Results, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    output = tmp_path_factory.mktemp("report")
    return output, render.render(results, output).report.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rendered_without_extras(tmp_path_factory: pytest.TempPathFactory) -> str:
    output = tmp_path_factory.mktemp("plain")
    return render.render(every_outcome(), output).report.read_text(encoding="utf-8")


def section(markdown: str, heading: str) -> str:
    """The text under a heading, up to the next heading of any level."""
    assert heading in markdown, heading
    return re.split(r"\n#{2,4} ", markdown.split(heading, 1)[1], maxsplit=1)[0]


def test_what_it_costs_shows_every_variant_and_direction_with_its_spread(
    results: Results, rendered: tuple[Path, str]
) -> None:
    block = section(rendered[1], "### What it costs")
    assert results.costs is not None
    tracking = block.split("journal.0016_optimize_entry_indexes", 1)[0]
    # Plain forward: 1.25 s, 1.30 s, 1.35 s; its longest stalls 1.20 s, 1.248 s, 1.296 s. Min to max of 3
    # holds the median 75 % of the time, and says so.
    assert (
        "migration as written: 1.30 s [1.25 s, 1.35 s: 75 %] (1.25 s to 1.35 s) under SHARE "
        "(blocks writers, held" in (tracking)
    )
    assert "longest write stall 1.25 s [1.20 s, 1.30 s: 75 %] (1.20 s to 1.30 s)" in tracking
    assert (
        "its rollback: 52.0 ms [50.0 ms, 54.0 ms: 75 %] (50.0 ms to 54.0 ms) under ACCESS EXCLUSIVE"
        in tracking
    )
    assert (
        "`RemoveIndexConcurrently`: 2.60 s [2.50 s, 2.70 s: 75 %] (2.50 s to 2.70 s) under SHARE UPDATE"
        in tracking
    )
    assert "(writers go on, held" in tracking
    assert tracking.count("; n = 3") == 4
    # The journal migration was measured plain only: its concurrent variant says so.
    journal = block.split("journal.0016_optimize_entry_indexes", 1)[1]
    assert "`RemoveIndexConcurrently`: not measured" in journal
    assert "that variant's rollback: not measured" in journal


def test_the_migration_table_has_a_row_per_variant_and_direction(
    results: Results, rendered: tuple[Path, str]
) -> None:
    text = section(rendered[1], "## Cost of the migration")
    row = next(
        r
        for r in text.splitlines()
        if r.startswith("| attendance.0031_add_tracking_performance_indexes | plain | backward |")
    )
    assert (
        "| tracking | ACCESS EXCLUSIVE | yes | 3 | 52.0 ms [50.0 ms, 54.0 ms: 75 %] (50.0 ms to 54.0 ms) |"
        in row
    )
    # The writer's gaps: median 0.4 ms every time; p99 1.0, 1.5 and 2.0 ms.
    assert (
        "| 400 µs [400 µs, 400 µs: 75 %] (400 µs to 400 µs) "
        "| 1.50 ms [1.00 ms, 2.00 ms: 75 %] (1.00 ms to 2.00 ms) |" in row
    )
    assert row.endswith("| 4 | none |")
    assert len([r for r in text.splitlines() if r.startswith("| attendance.0031")]) == 4
    assert len([r for r in text.splitlines() if r.startswith("| journal.0016")]) == 2


def test_what_it_costs_shows_the_bytes_the_new_indexes_add(
    results: Results, rendered: tuple[Path, str]
) -> None:
    block = section(rendered[1], "### What it costs")
    assert results.costs is not None
    summaries = {m.migration: m for m in tradeoff.migrations(results.costs)}
    tracking = summaries["attendance.0031_add_tracking_performance_indexes"]
    added = sum(
        s.bytes for s in results.costs.sizes_after if s.table == "tracking" and s.kind == "index"
    ) - sum(s.bytes for s in results.costs.sizes_before if s.table == "tracking" and s.kind == "index")
    assert tracking.index_bytes_added == added == 2_000_000
    assert f"({tradeoff.signed_size(added)})" in block
    journal = summaries["journal.0016_optimize_entry_indexes"]
    assert journal.index_bytes_added == 20_000
    assert f"{fmt.size(500_000)} -> {fmt.size(520_000)} (+{fmt.size(20_000)})" in block


def test_what_it_costs_shows_the_write_slowdown_next_to_the_read_speedup(
    results: Results, rendered: tuple[Path, str]
) -> None:
    block = section(rendered[1], "### What it costs")
    assert results.costs is not None
    figures = {(w.table, w.method): w for w in tradeoff.write_slowdowns(results.costs)}
    assert set(figures) == {
        (t, m) for t in ("tracking", "journal_journalentry") for m in ("copy", "orm_create")
    }
    copy = figures[("tracking", "copy")]
    assert copy.pairs == 6
    assert copy.time.verdict == words.SLOWER
    assert fmt.rate(copy.rate_before) == "100,000"
    for figure in figures.values():
        assert tradeoff.writes_line(figure) in block
    assert "writes, copy into `tracking`: 100,000 -> 14,215 rows/s, **slower**: 7.04x slower [" in block
    assert "WAL per row 400 B -> 751 B, **more WAL**: 1.88x [" in block
    speedup = stats.compare_paired(
        *(
            m.timing.total_s
            for m in results.measurements
            if m.timing and m.scenario == "tracking_person_range"
        )
    )
    assert (
        f"reads: 1 of 1 cases reading `tracking` significantly faster ({fmt.ratio(speedup.ratio)})" in block
    )


def test_a_write_figure_whose_interval_includes_no_change_says_so(
    results: Results, rendered: tuple[Path, str]
) -> None:
    """ORM creates into tracking: before and after stray opposite ways pair by pair, around one centre."""
    assert results.costs is not None
    orm = {(w.table, w.method): w for w in tradeoff.write_slowdowns(results.costs)}[
        ("tracking", "orm_create")
    ]
    assert orm.time.ratio_ci is not None
    assert orm.time.ratio_ci[0] < 1 < orm.time.ratio_ci[1]
    block = section(rendered[1], "### What it costs")
    line = next(r for r in block.splitlines() if "writes, orm_create into `tracking`" in r)
    assert (
        "800 -> 800 rows/s, no significant change (1.00x [1.06x slower to 1.08x faster], p = 1.000)" in line
    )
    assert "faster:" not in line
    assert "**" not in line.split("; WAL", 1)[0]
    table = section(rendered[1], "## Cost of the migration")
    row = next(r for r in table.splitlines() if r.startswith("| tracking | orm_create |"))
    assert "| 1.00x [1.06x slower to 1.08x faster] | 1.000 | no significant change |" in row


def test_a_schema_3_file_shows_its_single_measurements_with_a_note(results: Results) -> None:
    assert results.costs is not None
    single = dataclasses.replace(
        results.costs,
        order="single",
        writes=tuple(w for w in results.costs.writes if w.pair == 0),
        migrations=tuple(m for m in results.costs.migrations if m.repetition == 0),
    )
    # The markdown alone: drawing every chart again would add nothing to what this checks.
    markdown = render.render_markdown(analyze(dataclasses.replace(results, costs=single)), [], [])
    text = section(markdown, "## Cost of the migration")
    assert "This results file (schema 3) measured each cost once" in text
    assert "| 1.25 s (one measurement) |" in text
    row = next(r for r in text.splitlines() if r.startswith("| tracking | copy |"))
    assert "| not enough samples |" in row


def test_cost_charts_are_linked_and_exist(rendered: tuple[Path, str]) -> None:
    output, markdown = rendered
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    tradeoffs = {
        "charts/tradeoff_attendance_0031_add_tracking_performance_indexes.png",
        "charts/tradeoff_journal_0016_optimize_entry_indexes.png",
    }
    assert {"charts/scale.png", "charts/writes.png", "charts/index_sizes.png", *tradeoffs} <= set(links)
    for link in links:
        assert (output / link).is_file(), link
    # The cost charts sit in the cost block, the scale chart in its section, not in the general list.
    assert "charts/writes.png" in section(markdown, "### What it costs")
    assert all(link in section(markdown, "### What it costs") for link in tradeoffs)
    assert "charts/scale.png" in section(markdown, "## Scale curve")
    assert "charts/scale.png" not in section(markdown, "## Charts")


def test_the_scale_series_has_one_point_per_scale_and_side(results: Results) -> None:
    lines = {(line.scenario, line.side): line for line in scaling.lines(results)}
    assert set(lines) == {
        ("tracking_person_range", "before"),
        ("tracking_person_range", "after"),
        ("journal_user_timeline", "before"),
        ("journal_user_timeline", "after"),
    }
    for (scenario, side), line in lines.items():
        scale_points = [p.rows for p in line.points if p.source == scaling.SCALE_RUN]
        assert tuple(scale_points) == SCALE_ROWS, (scenario, side)
    # The main run measured journal_user_timeline / typical before (4,000 journal rows), not after (failed);
    # it has no typical case of tracking_person_range at all.
    main = {key: [p.rows for p in line.points if p.source == scaling.MAIN_RUN] for key, line in lines.items()}
    assert main[("journal_user_timeline", "before")] == [results.dataset.counts["journal"]]
    assert main[("journal_user_timeline", "after")] == []
    assert main[("tracking_person_range", "before")] == []


def test_the_fitted_slopes_tell_a_scan_from_an_index_lookup(results: Results) -> None:
    lines = {(line.scenario, line.side): line for line in scaling.lines(results)}
    scan, lookup = lines[("tracking_person_range", "before")], lines[("tracking_person_range", "after")]
    assert scan.slope is not None
    assert lookup.slope is not None
    # The fixture's medians grow as rows^1 and rows^0.05, with a few percent of noise.
    assert scan.slope == pytest.approx(1.0, abs=0.05)
    assert lookup.slope == pytest.approx(0.05, abs=0.05)
    assert "as a scan does" in scaling.slope_words(scan.slope)
    assert "as an index lookup does" in scaling.slope_words(lookup.slope)


def test_the_scale_section_prints_the_fitted_slopes_and_the_medians(
    results: Results, rendered: tuple[Path, str]
) -> None:
    text = section(rendered[1], "## Scale curve")
    for line in scaling.lines(results):
        assert line.slope is not None
        assert f"{line.side}: slope {line.slope:.2f}, {scaling.slope_words(line.slope)}" in text
    run = results.scales[1]
    assert run.counts["tracking"] == SCALE_ROWS[1]
    by_side = {m.side: m for m in run.measurements if m.scenario == "tracking_person_range"}
    before, after = (by_side[s].timing for s in ("before", "after"))
    assert before is not None
    assert after is not None
    comparison = stats.compare_paired(before.total_s, after.total_s)
    row = next(r for r in text.splitlines() if r.startswith(f"| {fmt.count(SCALE_ROWS[1])} |"))
    assert (
        f"| {fmt.duration(comparison.baseline.median)} | {fmt.duration(comparison.candidate.median)} |" in row
    )
    assert fmt.change(comparison) in row


def test_warm_and_cold_sit_side_by_side(results: Results, rendered: tuple[Path, str]) -> None:
    text = section(rendered[1], "## Cold cache")
    assert "OS page cache" in text
    assert "memory, not from disk" in text
    pairs = warm_cold.pairs(results)
    assert [(p.scenario, p.side) for p in pairs] == [
        ("tracking_person_range", "before"),
        ("tracking_person_range", "after"),
    ]
    for pair in pairs:
        assert pair.warm.timing is not None
        assert pair.cold.timing is not None
        warm = stats.summarize(pair.warm.timing.total_s).median
        cold = stats.summarize(pair.cold.timing.total_s).median
        row = next(
            r for r in text.splitlines() if r.startswith(f"| `{pair.scenario}` | heavy | {pair.side} |")
        )
        assert f"| {fmt.duration(warm)} | {fmt.duration(cold)} |" in row
        # The series were not interleaved: their medians are never divided into a ratio.
        assert row.count("|") == 8
        assert fmt.factor(cold / warm) not in row
    assert "not compared" in text
    assert "Cold / warm" not in text


@pytest.mark.parametrize(
    ("heading", "note"),
    [
        ("### What it costs", "No cost measurements in this run"),
        ("## Scale curve", "No scale curve in this run: pass `--scales` to `bench run`"),
        ("## Cold cache", "No cold-cache series in this run"),
    ],
)
def test_an_absent_part_says_so_in_one_line(rendered_without_extras: str, heading: str, note: str) -> None:
    text = section(rendered_without_extras, heading).strip()
    assert text.startswith(note)
    assert len(text.splitlines()) <= 2


def test_scale_runs_without_a_usable_point_say_so(results: Results, tmp_path: Path) -> None:
    failed = tuple(
        dataclasses.replace(
            run,
            measurements=tuple(
                dataclasses.replace(m, status="failed", timing=None) for m in run.measurements
            ),
        )
        for run in results.scales
    )
    markdown = render.render(dataclasses.replace(results, scales=failed), tmp_path).report.read_text("utf-8")
    assert "No scale curve in this run: the scale runs hold no successful measurement" in markdown
    assert not (tmp_path / "charts" / "scale.png").exists()


def test_absent_costs_draw_no_cost_charts(tmp_path: Path) -> None:
    names = {p.name for p in render.render(every_outcome(), tmp_path).charts}
    assert not names & {"scale.png", "writes.png", "index_sizes.png"}


def test_the_same_results_render_the_same_cost_and_scale_charts(results: Results, tmp_path: Path) -> None:
    first = render.render(results, tmp_path / "one")
    second = render.render(results, tmp_path / "two")
    assert first.report.read_bytes() == second.report.read_bytes()
    assert [p.name for p in first.charts] == [p.name for p in second.charts]
    for a, b in zip(first.charts, second.charts, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_a_write_measured_in_one_state_only_or_in_no_time_is_not_compared(results: Results) -> None:
    assert results.costs is not None
    writes = tuple(w for w in results.costs.writes if not (w.method == "orm_create" and w.state == "after"))
    writes = tuple(dataclasses.replace(w, seconds=0.0) if w.method == "copy" else w for w in writes)
    assert tradeoff.write_slowdowns(dataclasses.replace(results.costs, writes=writes)) == []


def test_writes_pair_by_pair_index_not_by_position(results: Results) -> None:
    assert results.costs is not None
    shuffled = dataclasses.replace(results.costs, writes=tuple(reversed(results.costs.writes)))

    def figures(costs: Costs) -> dict[tuple[str, str], tuple[float, float | None]]:
        return {(w.table, w.method): (w.time.ratio, w.time.p_value) for w in tradeoff.write_slowdowns(costs)}

    assert figures(shuffled) == figures(results.costs)


def test_a_schema_3_file_reads_its_costs_as_single_measurements(results: Results) -> None:
    """What a schema 3 run wrote: one measurement per figure, no pairs, no lock time or stall spread."""
    data = json.loads(to_json(results))
    data["schema_version"] = 3
    costs = data["costs"]
    for key in ("order", "databases"):
        del costs[key]
    costs["writes"] = [w for w in costs["writes"] if w["pair"] == 0]
    # Schema 3 measured each variant once, forward only.
    forward = [m for m in costs["migrations"] if m["direction"] == "forward"]
    costs["migrations"] = [m for m in forward if m["repetition"] == 0]
    for w in costs["writes"]:
        del w["pair"], w["first"]
    for m in costs["migrations"]:
        for key in ("direction", "repetition", "lock_held_s", "stall_p50_s", "stall_p99_s"):
            del m[key]
    old = from_dict(data)
    assert old.costs is not None
    assert old.costs.order == "single"
    assert {(w.state, w.first) for w in old.costs.writes} == {("before", True), ("after", False)}
    assert all(m.lock_held_s is None and m.direction == "forward" for m in old.costs.migrations)
    figures = {(f.table, f.method): f for f in tradeoff.write_slowdowns(old.costs)}
    assert figures[("tracking", "copy")].time.verdict == words.NOT_ENOUGH


FAILED_COSTS = (
    "RuntimeError: journal_journalentry has no single-column primary key: its rows cannot be copied"
)


@pytest.fixture(scope="module")
def rendered_failed_costs(tmp_path_factory: pytest.TempPathFactory) -> str:
    failed = dataclasses.replace(
        with_everything(), costs=Costs.failed(FAILED_COSTS, "bench_costs_ab12_before")
    )
    output = tmp_path_factory.mktemp("failed_costs")
    return render.render(failed, output).report.read_text(encoding="utf-8")


def test_a_failed_cost_step_is_shown_as_failed_in_both_places_never_as_no_cost(
    rendered_failed_costs: str,
) -> None:
    summary = section(rendered_failed_costs, "### What it costs")
    assert summary.strip().splitlines()[:2] == [
        "> [!CAUTION]",
        f"> **The cost step FAILED:** `{FAILED_COSTS}`. Its figures (migration time and locks, index sizes,",
    ]
    detail = section(rendered_failed_costs, "## Cost of the migration")
    assert f"> **The cost step FAILED** (on the copy `bench_costs_ab12_before`): `{FAILED_COSTS}`." in detail
    # No migration, size or write table, and no per-migration entry: nothing that reads like "no cost".
    for absent in (
        "| Migration | Variant |",
        "| Table | Relation |",
        "| Table | Method |",
        "- **",
        "![",
        "not measured in this run.",
    ):
        assert absent not in summary + detail, absent
    # The state-change table is still there: it is the read measurement's, not the cost step's.
    assert "| State | Database | Status |" in detail


def test_a_failed_cost_step_has_no_figures() -> None:
    analysis = analyze(dataclasses.replace(with_everything(), costs=Costs.failed(FAILED_COSTS)))
    assert tradeoff.summary_context(analysis) == []
    assert tradeoff.figures_of(analysis) == []
    assert tradeoff.detail_context(analysis) == {"error": FAILED_COSTS, "database": ""}


EMPTY_COSTS = Costs(
    database="bench_costs_ab12_before",
    migrations=(),
    sizes_before=(),
    sizes_after=(),
    writes=(),
    databases={"before": "bench_costs_ab12_before", "after": "bench_costs_ab12_after"},
)


def test_a_cost_step_that_found_nothing_to_measure_says_so_not_that_there_is_no_costs_section() -> None:
    markdown = render.render_markdown(
        analyze(dataclasses.replace(with_everything(), costs=EMPTY_COSTS)), [], []
    )
    summary = section(markdown, "### What it costs").strip()
    assert summary.startswith("The cost step ran but found no table whose indexes the change touches:")
    detail = section(markdown, "## Cost of the migration")
    assert (
        "The cost step ran (on the copies `bench_costs_ab12_before` (before), "
        "`bench_costs_ab12_after` (after)) but found no table whose indexes the change touches:"
    ) in detail
    assert "no costs section" not in markdown
    assert "| Migration | Variant |" not in detail


def test_write_figures_without_a_timed_change_point_to_them(results: Results) -> None:
    assert results.costs is not None
    writes_only = dataclasses.replace(results.costs, migrations=())
    markdown = render.render_markdown(analyze(dataclasses.replace(results, costs=writes_only)), [], [])
    summary = section(markdown, "### What it costs").strip()
    assert summary.startswith(
        "The cost step timed no migration or index statement between the states; the relation sizes and the\n"
        'write figures it measured are under "Cost of the migration".'
    )
    assert "no costs section" not in markdown
    assert "| tracking | copy |" in section(markdown, "## Cost of the migration")


def test_an_index_statement_s_concurrent_variant_is_named_as_sql() -> None:
    assert tradeoff.concurrent_form("CREATE INDEX book_idx") == (
        "`CREATE INDEX CONCURRENTLY` / `DROP INDEX CONCURRENTLY`"
    )
    assert tradeoff.concurrent_form("DROP INDEX book_idx").startswith("`CREATE INDEX CONCURRENTLY`")
    assert (
        tradeoff.concurrent_form("catalog.0002_idx") == "`AddIndexConcurrently` / `RemoveIndexConcurrently`"
    )


def test_the_trade_off_chart_title_fits_even_for_long_names(results: Results) -> None:
    """A real app's migration and table names (as long as an audit log's) stay inside the figure."""
    from django_index_bench.reports import tradeoff_charts

    assert results.costs is not None
    summary = dataclasses.replace(
        tradeoff.migrations(results.costs)[0],
        migration="auditlog.0018_logentry_timestamp_idx_and_remote_port_backfill",
        table="auditlog_logentry",
    )
    figure = tradeoff_charts.figure_of(analyze(results), summary)
    figure.savefig(io.BytesIO(), format="png")  # lays the figure out as the report's file gets it
    title = figure.get_suptitle()
    assert title.replace("\n", " ") == (
        "auditlog.0018_logentry_timestamp_idx_and_remote_port_backfill on auditlog_logentry: "
        "what it buys and what it costs"
    )
    assert "\n" in title
    for text in [t for t in figure.texts if t.get_text() == title] + [ax.title for ax in figure.axes]:
        box = text.get_window_extent()
        assert box.x0 >= 0, text.get_text()
        assert box.x1 <= figure.bbox.width, text.get_text()


def test_a_long_name_is_broken_after_an_underscore() -> None:
    from django_index_bench.reports.charts import fitted

    assert fitted("app.0001_a_very_long_migration_name on t: x", 2.0, 12.0) == (
        "app.0001_a_very_\nlong_migration_name\non t: x"
    )


@pytest.mark.parametrize(
    ("n", "k", "confidence"),
    [(3, 1, 0.75), (5, 1, 0.9375), (6, 1, 0.96875), (9, 2, 0.9609375), (12, 3, 0.9614257812)],
)
def test_the_median_interval_of_n_repetitions_has_its_exact_binomial_confidence(
    n: int, k: int, confidence: float
) -> None:
    assert order_stats.rank(n) == k
    assert order_stats.coverage(n, k) == pytest.approx(confidence)
    found = order_stats.median_interval([float(v) for v in range(n, 0, -1)])
    assert found is not None
    assert (found.low, found.high) == (k, n + 1 - k)
    assert found.confidence == pytest.approx(confidence)


def test_the_cost_section_states_what_its_intervals_cover(rendered: tuple[Path, str]) -> None:
    assert order_stats.repetitions_for() == 6
    note = "3 repetitions: min to max, which holds the median 75.0 % of the time; 6 would reach 95 %"
    assert f"({note})" in section(rendered[1], "## Cost of the migration")
    assert f"({note})" in rendered[1].split("### What it costs", 1)[1]
    assert "CI of the median" not in rendered[1]


def test_a_scale_point_is_sized_by_the_table_its_plans_read() -> None:
    counts = {"catalog_author": 25, "catalog_book": 5_000, "audit_log": 90_000}
    assert scaling.rows_for(("catalog_author", "catalog_book"), "front_page", counts) == 5_000
    assert scaling.rows_for((), "catalog_author", counts) == 25  # an older file: by group name
    assert scaling.rows_for((), "front_page", counts) == 90_000  # else the largest table
