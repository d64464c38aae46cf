"""Confirm before reporting: which of bench run's items are measured a second time, with how many pairs,
and what the report says of each outcome. Hand-built timings, no database: the measuring itself runs in
test_run.py's module-scoped runs.

Every timing here comes from one copy (the order-statistic interval and Wilcoxon's exact test), so the
expected values are exact.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from django_index_bench.bench import results
from django_index_bench.bench.results import (
    Measurement,
    Remeasured,
    Results,
    RunConfirmation,
    ScheduledItem,
    Status,
    Timing,
)
from django_index_bench.bench.rounds.executor import ItemResult
from django_index_bench.bench.rounds.schedule import Item, Rules, SideSpec
from django_index_bench.bench.scenarios import Case
from django_index_bench.bench.steps import confirm_run
from django_index_bench.reports import render
from django_index_bench.reports.analysis import analyze
from django_index_bench.verdicts import run_confirm, stats, words
from tests.sample_results import sample_results, timing

RULES = Rules(seconds=2.0, min_pairs=20, floor_pairs=9, max_pairs=2_000)
ALPHA = 0.05


def wobble(base: float, n: int, spread: float, phase: float = 0.0) -> tuple[float, ...]:
    """n rounds around `base`, deterministically a little apart (no two alike)."""
    return tuple(base * (1 + spread * math.sin(1.7 * i + phase)) for i in range(n))


def item(scenario: str, case: str = "typical", cache: str = "warm") -> Item:
    return Item(
        scenario, Case(case, {"person": 1}), cache,  # type: ignore[arg-type]
        SideSpec("before", "before"), SideSpec("after", "after"),
    )  # fmt: skip


def measured(
    found: Item, base: Timing | None, cand: Timing | None, *, error: str | None = None
) -> ItemResult:
    status: Status = "failed" if error else "ok"

    def side(spec: SideSpec, t: Timing | None) -> Measurement:
        return Measurement(found.scenario, found.case.name, spec.name, spec.state, status, error, timing=t)

    pairs = 0 if base is None else base.rounds
    scheduled = ScheduledItem(
        found.scenario, found.case.name, found.cache, "before", "after", "before", "after", pairs,
        "failed" if error else "budget", 0.5,
    )  # fmt: skip
    return ItemResult(side(found.baseline, base), side(found.candidate, cand), scheduled)


def ten_times_faster(n: int = 40) -> ItemResult:
    return measured(item("fast"), timing(*wobble(10e-3, n, 0.02)), timing(*wobble(1e-3, n, 0.02, 1.0)))


def the_same(n: int = 40) -> ItemResult:
    """A/A: the candidate within 1 % of the baseline, each way half the time."""
    return measured(item("same"), timing(*wobble(2e-3, n, 0.0)), timing(*wobble(2e-3, n, 0.01)))


def test_only_items_the_report_calls_are_measured_again() -> None:
    fast, same = ten_times_faster(), the_same()
    broken = measured(item("broken"), None, None, error="ZeroDivisionError: boom")
    ran = [(item("fast"), fast), (item("same"), same), (item("broken"), broken)]
    flags = confirm_run.flagged(ran, RULES, 1)
    assert [(f.item.scenario, f.called) for f in flags] == [("fast", {"time": "faster", "db_time": "faster"})]
    # A 10x change needs no more than the minimum of pairs to show again (slow rounds: the floor).
    # It stops there when it agrees; else it looks again at twice as many, up to the first's 40 pairs,
    # each look (and the last judgement) at alpha over the two.
    rules = flags[0].rules
    assert (rules.min_pairs, rules.max_pairs, rules.floor, rules.seconds) == (20, 40, 9, 2.0)
    assert (flags[0].looks, flags[0].alpha) == ((20, 40), 0.025)


@pytest.mark.parametrize(
    ("first", "most", "looks"),
    [(20, 20, (20,)), (20, 40, (20, 40)), (20, 300, (20, 40, 80, 160, 300)), (48, 100, (48, 96, 100))],
)
def test_a_second_measurement_looks_again_at_twice_the_pairs(
    first: int, most: int, looks: tuple[int, ...]
) -> None:
    assert run_confirm.looks(first, most) == looks
    assert run_confirm.look_alpha(0.05, looks) == 0.05 / len(looks)


def _comparison(ratio: float, low: float, high: float, n: int) -> stats.Comparison:
    summary = stats.summarize([1.0, 1.0, 1.0])
    return stats.Comparison(
        summary, summary, ratio, (low, high), 0.001, "faster", ALPHA, 0.05, 0.95, "paired", n
    )


@pytest.mark.parametrize(
    ("ratio", "low", "high", "n", "pairs"),
    [
        (10.0, 9.0, 11.0, 100, 20),  # a large effect: the fewest allowed
        (1.20, 1.15, 1.25, 100, 48),  # 100 * (3 * 0.04169 / 0.18232)^2 = 47.06
        (1.06, 1.001, 1.12, 30, 30),  # barely beyond no change: as many as the first measurement had
    ],
)
def test_pairs_scale_with_how_far_the_effect_stands_out(
    ratio: float, low: float, high: float, n: int, pairs: int
) -> None:
    assert run_confirm.pairs_needed(_comparison(ratio, low, high, n), fewest=20, most=n) == pairs


def test_the_second_measurement_must_agree_in_metric_and_direction() -> None:
    fast, slow, same = ten_times_faster(), ten_times_faster(), the_same()
    b, c = fast.baseline.timing, fast.candidate.timing
    assert b is not None
    assert c is not None
    faster = run_confirm.item_timings(b, c, copies=(0,), alpha=ALPHA, threshold=0.05)
    slower = run_confirm.item_timings(c, b, copies=(0,), alpha=ALPHA, threshold=0.05)
    assert slow.baseline.timing is not None
    assert same.baseline.timing
    assert same.candidate.timing
    nothing = run_confirm.item_timings(
        same.baseline.timing, same.candidate.timing, copies=(0,), alpha=ALPHA, threshold=0.05
    )
    assert run_confirm.outcome("faster", faster.time, ALPHA) == words.CONFIRMED
    assert run_confirm.outcome("faster", faster.db_time, ALPHA) == words.CONFIRMED
    assert run_confirm.outcome("faster", slower.time, ALPHA) == words.NOT_CONFIRMED
    assert run_confirm.outcome("slower", slower.time, ALPHA) == words.CONFIRMED
    assert run_confirm.outcome("faster", nothing.time, ALPHA) == words.NOT_CONFIRMED
    assert run_confirm.outcome("faster", None, ALPHA) == words.NOT_CONFIRMED


def test_a_second_measurement_that_fails_leaves_the_call_standing_with_its_reason() -> None:
    flag = confirm_run.flagged([(item("fast"), ten_times_faster())], RULES, 1)[0]
    failed = measured(item("fast"), None, None, error="OperationalError: gone")
    judged = confirm_run.judge(flag, failed, 1, 0.05)
    assert judged.outcomes == {"time": words.NOT_REMEASURED, "db_time": words.NOT_REMEASURED}
    assert judged.error == "the second measurement failed: OperationalError: gone; OperationalError: gone"
    again = confirm_run.judge(flag, the_same(9), 1, 0.05)
    assert again.outcomes == {"time": words.NOT_CONFIRMED, "db_time": words.NOT_CONFIRMED}
    assert again.error is None


def _with_confirmation(again: ItemResult, *, enabled: bool = True) -> Results:
    """sample_results with tracking_person_range[heavy] measured 10x faster, and measured again."""
    run = sample_results()
    first = ten_times_faster(40)
    replaced = []
    for m in run.measurements:
        if (m.scenario, m.case) == ("tracking_person_range", "heavy"):
            m = dataclasses.replace(
                m, timing=(first.baseline if m.side == "before" else first.candidate).timing
            )
        replaced.append(m)
    flag = confirm_run.Flagged(
        item("tracking_person_range", "heavy"), {"time": "faster", "db_time": "faster"}, RULES
    )
    judged = confirm_run.judge(flag, again, 1, 0.05)
    done = RunConfirmation(
        enabled=enabled,
        note="1 item(s) measured again",
        seed=43,
        alpha=ALPHA,
        threshold=0.05,
        items=(judged,),
    )
    return dataclasses.replace(run, measurements=tuple(replaced), confirmation=done)


def _case_verdict(run: Results) -> str:
    found = analyze(run).scenario("tracking_person_range")
    assert found is not None
    return render.verdict(next(c for c in found.cases if c.case == "heavy"))


def test_a_confirmed_call_says_so_with_the_second_figure() -> None:
    text = _case_verdict(_with_confirmation(ten_times_faster(9)))
    assert text == (
        "database time 10.00x faster, end to end 10.00x faster; n = 40 pairs; "
        "database time confirmed on a second measurement: 9.99x faster (95 % CI 9.83x to 10.14x faster, "
        "p = 0.004, n = 9 pairs); "
        "end to end confirmed on a second measurement: 9.99x faster (95 % CI 9.83x to 10.14x faster, "
        "p = 0.004, n = 9 pairs)"
    )
    assert "not confirmed" not in text


def test_an_unconfirmed_call_is_no_significant_change_with_both_figures() -> None:
    run = _with_confirmation(the_same(9))
    text = _case_verdict(run)
    assert text.startswith(
        "database time no significant change (10.00x faster), end to end no significant change (10.00x "
        "faster); n = 40 pairs; "
    )
    assert (
        "end to end not confirmed: treated as noise: first 10.00x faster (95 % CI 9.90x to 10.11x faster, "
        "p < 0.001, n = 40 pairs); second 1.00x (95 % CI 1.01x slower to 1.01x faster, p = 0.773, n = 9 "
        "pairs)" in text
    )
    case = next(c for c in analyze(run).all_cases() if c.label == "tracking_person_range / heavy")
    assert case.comparison is not None
    assert case.comparison.verdict == words.NO_CHANGE
    markdown = render.render_markdown(analyze(run), [], [])
    assert "- **Confirmed before reported.** Every case whose first measurement" in markdown
    assert "Calls in this report: 2 not confirmed: treated as noise." in markdown
    assert (
        "- Measured again, on fresh database copies: Ran 9 pair(s) in 500 ms; stopped because its" in markdown
    )


def test_the_report_states_confirmation_only_when_the_run_did_it() -> None:
    off = dataclasses.replace(sample_results(), confirmation=RunConfirmation(enabled=False, note="off"))
    text = render.render_markdown(analyze(off), [], [])
    assert "- **Confirmed before reported.** Not done (--no-confirm)" in text
    assert "confirmed on a second measurement" not in text
    unrecorded = render.render_markdown(analyze(sample_results()), [], [])
    assert "Confirmed before reported" not in unrecorded


def test_a_schema_10_file_reads_with_no_confirmation_recorded(tmp_path: Path) -> None:
    current = _with_confirmation(ten_times_faster(9))
    data = json.loads(results.to_json(current))
    assert data["confirmation"]["items"][0]["outcomes"] == {"time": "confirmed", "db_time": "confirmed"}
    assert len(data["confirmation"]["items"][0]["baseline"]["timing"]["total_s"]) == 9
    assert results.from_dict(data) == current
    data["schema_version"] = 10
    del data["confirmation"]
    path = tmp_path / "v10.json"
    path.write_text(json.dumps(data))
    old = results.load(path)
    assert old.schema_version == results.SCHEMA_VERSION == 11
    assert old.confirmation is None
    assert old == dataclasses.replace(current, confirmation=None)


def test_remeasured_items_carry_their_key() -> None:
    found = RunConfirmation(
        enabled=True,
        note="",
        items=(Remeasured("a", "b", "cold", {}, {}), Remeasured("a", "b", "warm", {}, {})),
    )
    again = found.find("a", "b", "warm")
    assert again is not None
    assert again.cache == "warm"
    assert found.find("a", "c", "warm") is None
