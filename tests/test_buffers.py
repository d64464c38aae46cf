"""Where each side's pages came from: the shared-buffer hits and reads of its timed rounds, recorded per
measurement (schema 10), and said beside a verdict when the two sides clearly differ, in the report and
in COMPARISON.md, with the figures."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from django_index_bench.bench import results
from django_index_bench.bench.results import Timing
from django_index_bench.reports import comparison as comparison_md
from django_index_bench.reports import render
from django_index_bench.reports.analysis import analyze
from django_index_bench.verdicts import buffers, gate
from tests.compare_fixtures import base_results, interleaved, paired_rerun, timing_of
from tests.report_fixtures import one_case, rounds, with_everything

TOTAL = tuple(0.010 + 0.0001 * (i % 5) for i in range(20))
DB = tuple(t / 2 for t in TOTAL)
MOVED = (
    "pages came from different places: before read 50.0 % of its blocks from outside shared buffers "
    "(600 of 1,200), after 0.0 % (0 of 1,200)"
)


def _with_blocks(timing: Timing, hit: int, read: int) -> Timing:
    return dataclasses.replace(timing, blocks_hit=hit, blocks_read=read)


def test_sides_differ_only_when_their_read_shares_are_far_apart_and_reads_are_not_a_handful() -> None:
    def blocks(hit: int, read: int, rounds: int = 20) -> buffers.Blocks:
        return buffers.Blocks(hit, read, rounds)

    assert buffers.differ(blocks(600, 600), blocks(1_200, 0))
    assert buffers.differ(blocks(1_200, 0), blocks(600, 600))
    assert not buffers.differ(blocks(1_100, 100), blocks(1_200, 0))  # 8.3 points apart: not clearly
    assert not buffers.differ(blocks(5, 15), blocks(100, 0))  # 75 % apart, but 15 reads over 20 rounds
    assert not buffers.differ(blocks(600, 600), None)  # not recorded on one side
    assert not buffers.differ(blocks(0, 0), blocks(100, 0))  # a side that requested no block
    assert round(blocks(600, 600).read_share, 3) == 0.5


def test_the_report_says_so_beside_the_verdict_with_the_figures() -> None:
    before = _with_blocks(rounds(TOTAL, DB), 600, 600)
    after = _with_blocks(rounds(TOTAL, DB), 1_200, 0)
    analysis = analyze(one_case(before, after))
    (case,) = analysis.all_cases()
    assert case.blocks_differ
    assert render.verdict(case).endswith(MOVED)
    text = render.render_markdown(analysis, [], [])
    assert MOVED in text
    assert (
        "- Shared buffers in the timed rounds: before 600 hit + 600 read (50.0 % read); after 1,200 hit + "
        "0 read (0.0 % read)." in text
    )


def test_alike_sources_add_nothing_to_the_verdict() -> None:
    before = _with_blocks(rounds(TOTAL, DB), 1_200, 0)
    after = _with_blocks(rounds(TOTAL, DB), 1_190, 10)
    (case,) = analyze(one_case(before, after)).all_cases()
    assert not case.blocks_differ
    assert "pages came from" not in render.verdict(case)


def test_comparison_md_says_so_in_the_row_with_the_figures() -> None:
    base = base_results()
    key = ("tracking_person_range", "typical", "after")
    base_timing = timing_of(base, *key)
    base = dataclasses.replace(
        base,
        measurements=tuple(
            dataclasses.replace(m, timing=_with_blocks(m.timing, 1_200, 0))
            if (m.scenario, m.case, m.side) == key and m.timing is not None
            else m
            for m in base.measurements
        ),
    )
    head_timing = _with_blocks(paired_rerun(base_timing), 600, 600)
    base, head = interleaved(base, {"__".join(key): head_timing})
    outcome = gate.compare(
        base, head, base_source=gate.Source("main", None, base.run_id),
        head_source=gate.Source("branch", None, head.run_id), threshold=0.05,
    )  # fmt: skip
    row = next(r for r in outcome.rows if r.key == key)
    assert row.buffers_differ
    assert (row.base_buffers, row.head_buffers) == (
        buffers.Blocks(1_200, 0, base_timing.rounds),
        buffers.Blocks(600, 600, base_timing.rounds),
    )
    markdown = comparison_md.render_markdown(outcome, None)
    assert (
        "pages came from different places: BASE read 0.0 % of its blocks from outside shared buffers "
        "(0 of 1,200), HEAD 50.0 % (600 of 1,200)" in markdown
    )
    others = [r for r in outcome.rows if r.key != key]
    assert not any(r.buffers_differ for r in others)


def test_a_schema_9_file_reads_with_its_buffers_not_recorded(tmp_path: Path) -> None:
    current = with_everything()
    data = json.loads(results.to_json(current))
    data["schema_version"] = 9
    timings = [m["timing"] for series in ("measurements", "cold") for m in data[series] if m["timing"]]
    timings += [m["timing"] for run in data["scales"] for m in run["measurements"] if m["timing"]]
    assert timings
    for timing in timings:
        del timing["blocks_hit"], timing["blocks_read"]
    path = tmp_path / "v9.json"
    path.write_text(json.dumps(data))
    old = results.load(path)
    assert old.schema_version == results.SCHEMA_VERSION == 11
    assert old == current
    assert {(m.timing.blocks_hit, m.timing.blocks_read) for m in old.measurements if m.timing} == {
        (None, None)
    }
    text = render.render_markdown(analyze(old), [], [])
    assert "- Shared buffers in the timed rounds: not recorded." in text
    assert "pages came from" not in text
