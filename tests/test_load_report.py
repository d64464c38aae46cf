"""Load results without a server: the statistics, the budgets, the report section and compare's gate."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from django_index_bench.bench import config, results
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.load.endpoints import Endpoint, select
from django_index_bench.reports import budgets, render
from django_index_bench.reports.analysis import analyze
from django_index_bench.verdicts import gate, load_gate, load_levels, words
from django_index_bench.verdicts.gate import Source
from django_index_bench.verdicts.words import MET, NOT_MEASURABLE, NOT_MET
from tests.cli import SAMPLE_CLAIMS
from tests.load_fixtures import ENDPOINT, TIMEOUTS, load_run, with_load

SAMPLE = config.load(Path(__file__).resolve().parent.parent / "bench.toml")


def sample_endpoints() -> tuple[Endpoint, ...]:
    """The sample's endpoints, as its bench.toml configures them."""
    return select(SAMPLE, ())


def test_results_with_load_round_trip(tmp_path: Path) -> None:
    run = with_load()
    path = results.save(run, tmp_path)
    again = results.load(path)
    assert again == run
    assert again.load is not None
    assert again.load.bursts[0].latencies_ms == run.load.bursts[0].latencies_ms  # type: ignore[union-attr]


def test_a_schema_3_file_reads_without_load(tmp_path: Path) -> None:
    current = f'"schema_version": {results.SCHEMA_VERSION}'
    data = results.to_json(with_load()).replace(current, '"schema_version": 3')
    path = tmp_path / "old.json"
    path.write_text(data.replace(',\n "load": null', ""))
    import json

    raw = json.loads(path.read_text())
    raw.pop("load")
    path.write_text(json.dumps(raw))
    assert results.load(path).load is None


def test_side_figures_are_pooled_over_bursts() -> None:
    run = load_run(paginated_errors=TIMEOUTS)
    level = load_levels.compare_level(run, ENDPOINT, 100, 0.05)
    assert level is not None
    side = level.candidate
    assert (side.bursts, side.sent, side.finished, side.ok) == (3, 60, 60, 54)
    assert side.errors == {"timeout": 6}
    assert side.timeouts == 6
    assert side.error_share == pytest.approx(0.1)
    assert side.max_ms == pytest.approx(2 * 100 * 1.04)
    assert side.bytes_per_response == pytest.approx(100.0)
    # 60 requests over 0.5 + 0.51 + 0.52 s
    assert side.throughput == pytest.approx(60 / 1.53)
    assert side.server_cores == pytest.approx(0.5)
    assert side.generator_cores == pytest.approx(0.1)


def test_paired_bursts_give_an_interval_and_a_verdict() -> None:
    level = load_levels.compare_level(load_run(), ENDPOINT, 1, 0.05)
    assert level is not None
    # Every pair: paginated 4x the throughput (0.5 s against 2 s for 20 requests), p95 1/9 of legacy.
    assert level.throughput.ratio == pytest.approx(4.0)
    assert level.throughput.interval == pytest.approx((4.0, 4.0))
    assert level.throughput.verdict == "faster"
    assert level.p95.ratio == pytest.approx(1 / 9)
    assert level.p95.verdict == "faster"
    assert level.p95.pairs == 3


def test_one_pair_is_not_enough_for_an_interval() -> None:
    level = load_levels.compare_level(load_run(pairs=1), ENDPOINT, 1, 0.05)
    assert level is not None
    assert level.throughput.interval is None
    assert level.throughput.verdict == "not enough samples"


def test_the_t_interval_of_known_log_ratios() -> None:
    bounds = load_levels.log_interval([0.0, 0.2])  # mean 0.1, sd 0.1414, t(0.975, 1) = 12.706
    assert bounds == pytest.approx((0.1 - 12.7062 * 0.1, 0.1 + 12.7062 * 0.1), rel=1e-4)


def _budget(**entry: object) -> budgets.Budget:
    base = {"id": "b", "source": "s", "quote": "q", "statistic": "p95", "limit": 0.5}
    return budgets._budget({**base, **entry}, "test")


# Pooled p95 of the fixture's 60 latencies at 100 users (19 each of 100, 102, 104 ms, then 200, 204,
# 208 ms): 104 + 0.05 x (200 - 104) = 108.8 ms. The tracking case's p95 of its five rounds: 2.18 ms.
P95_AT_100 = "paginated: 109 ms at 100 users"
TRACKING = "worst p95 2.18 ms (tracking_person_range / heavy, after) over 1 case(s)"


@pytest.mark.parametrize(
    ("entry", "status", "measured"),
    [
        ({"endpoint": ENDPOINT, "users": 100, "limit": 0.5}, MET, P95_AT_100),
        ({"endpoint": ENDPOINT, "users": 100, "limit": 0.05}, NOT_MET, P95_AT_100),
        ({"endpoint": ENDPOINT, "users": 7}, NOT_MEASURABLE, "-"),
        (
            {"endpoint": ENDPOINT, "statistic": "max", "limit": 1.0},
            MET,
            "paginated: 208 ms at 1 user, 208 ms at 100 users",
        ),
        (
            {"endpoint": ENDPOINT, "statistic": "timeouts", "limit": 0},
            MET,
            "paginated: 0 at 1 user, 0 at 100 users",
        ),
        ({"group": "tracking", "limit": 0.2}, MET, TRACKING),
        ({"group": "tracking", "limit": 0.001}, NOT_MET, TRACKING),
        ({"scenarios": ["wellness_summary"], "statistic": "max", "limit": 5.0}, NOT_MEASURABLE, "-"),
    ],
)
def test_budgets_are_judged_met_not_met_or_not_measurable(
    entry: dict[str, object], status: str, measured: str
) -> None:
    verdict = budgets.judge(_budget(**entry), analyze(with_load()))
    assert (verdict.status, verdict.measured) == (status, measured)


def test_timeouts_fail_the_zero_timeouts_budget() -> None:
    run = with_load(load_run(paginated_errors=TIMEOUTS))
    verdict = budgets.judge(_budget(endpoint=ENDPOINT, statistic="timeouts", limit=0), analyze(run))
    assert (verdict.status, verdict.measured) == (NOT_MET, "paginated: 6 at 1 user, 6 at 100 users")


def test_an_endpoint_budget_without_load_results_is_not_measurable() -> None:
    verdict = budgets.judge(_budget(endpoint=ENDPOINT), analyze(dataclasses.replace(with_load(), load=None)))
    assert verdict.status == NOT_MEASURABLE
    assert "no load results" in verdict.why


def test_a_budget_on_smaller_data_than_production_says_so() -> None:
    verdict = budgets.judge(
        _budget(endpoint=ENDPOINT, users=100, production={"people": 5000}), analyze(with_load())
    )
    assert (
        verdict.scale_note
        == "judged at profile `tiny`, smaller than production: 60 people (production: 5,000)"
    )
    at_size = budgets.judge(
        _budget(endpoint=ENDPOINT, users=100, production={"people": 60}), analyze(with_load())
    )
    assert at_size.scale_note == ""


def test_the_sample_claims_file_has_the_five_kpis() -> None:
    found = budgets.load(SAMPLE_CLAIMS)
    assert [(b.id, b.statistic, b.limit) for b in found] == [
        ("kpi-tracking-p95", "p95", 0.2),
        ("kpi-journal-p95", "p95", 0.4),
        ("kpi-wellness-report", "max", 5.0),
        ("kpi-people-endpoint-p95", "p95", 0.5),
        ("kpi-pagination-timeouts", "timeouts", 0.0),
    ]


HEAD = '[[budget]]\nid = "x"\nsource = "s"\nquote = "q"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEAD + 'statistic = "p42"\nlimit = 1\ngroup = "g"\n', "unknown statistic"),
        (HEAD + 'statistic = "p95"\nlimit = 1\n', "exactly one of"),
        (HEAD + 'statistic = "p95"\nlimit = -1\ngroup = "g"\n', "limit must be"),
    ],
)
def test_a_malformed_budget_is_refused(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "claims.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        budgets.load(path)


def test_the_report_has_the_load_section_charts_and_budgets(tmp_path: Path) -> None:
    written = render.render(with_load(), tmp_path, claims_path=SAMPLE_CLAIMS)
    text = written.report.read_text()
    assert "## Under load" in text
    assert "![Throughput against concurrency, before and after](charts/load_throughput.png)" in text
    assert "![Latency percentiles against concurrency, before and after](charts/load_latency.png)" in text
    assert "throughput after/before 4.00x [4.00x to 4.00x] (3 pair(s)): faster" in text
    assert "| People loading endpoint: < 500ms (p95) |" in text
    assert "The generator was not the bottleneck" in text
    assert "with a\n95 % interval (Student's t over the pairs' log ratios" in text
    assert (tmp_path / "charts" / "load_throughput.png").stat().st_size > 0


def test_a_report_without_load_says_how_to_get_it(tmp_path: Path) -> None:
    text = render.render(dataclasses.replace(with_load(), load=None), tmp_path).report.read_text()
    assert "No load results in this run" in text


def _compare(base_load: object, head_load: object) -> gate.RefComparison:
    base = with_load(base_load)  # type: ignore[arg-type]
    head = dataclasses.replace(with_load(head_load), run_id="other")  # type: ignore[arg-type]
    return gate.compare(
        base, head, base_source=Source("a", None, "a"), head_source=Source("b", None, "b"), threshold=0.05
    )


def test_compare_gates_on_a_throughput_drop_and_new_errors() -> None:
    outcome = _compare(load_run(), load_run(speed=0.5, paginated_errors={"HTTP 500": 1}))
    assert outcome.regressed
    found = {(f.side, f.users, f.metric, f.direction) for f in outcome.load}
    assert ("paginated", 100, "throughput", words.REGRESSION) in found
    assert ("legacy", 100, "throughput", words.REGRESSION) in found
    assert ("paginated", 1, "errors", words.REGRESSION) in found
    [line] = [x for x in load_gate.lines(outcome.load) if "HTTP 500" in x and "at 1 user:" in x]
    assert line == (
        "REGRESSION load helpdesk_load_peoples paginated at 1 user: new error kind(s) HTTP 500: "
        "3 of 60 requests (3 HTTP 500) against 0 of 60 in BASE"
    )


def test_compare_of_the_same_load_finds_nothing() -> None:
    outcome = _compare(load_run(), load_run())
    assert outcome.load == ()
    assert not load_gate.regressed(outcome.load)


def test_compare_flags_a_failed_load_step_in_head() -> None:
    failed = dataclasses.replace(load_run(), status="failed", error="ServerFailed: boom", bursts=())
    outcome = _compare(load_run(), failed)
    assert outcome.regressed
    assert [f.message for f in outcome.load] == ["failed in HEAD: ServerFailed: boom"]


def test_welch_interval_of_known_values() -> None:
    bounds = load_gate.welch_interval([0.0, 2.0], [1.0, 3.0])  # diff 1, se 1.414, dof 2, t = 4.303
    assert bounds == pytest.approx((1 - 4.3027 * math.sqrt(2), 1 + 4.3027 * math.sqrt(2)), rel=1e-4)


def test_the_plan_alternates_the_first_side_pair_by_pair() -> None:
    from django_index_bench.bench.load import bursts as plan

    (helpdesk,) = sample_endpoints()
    bursts = plan.plan((helpdesk,), (1, 10), pairs=3, rounds=3, seed=0)
    assert [(b.users, b.requests, b.pair, b.side) for b in bursts if b.first] == [
        (1, 20, 0, "paginated"),
        (1, 20, 1, "legacy"),
        (1, 20, 2, "paginated"),
        (10, 30, 0, "paginated"),
        (10, 30, 1, "legacy"),
        (10, 30, 2, "paginated"),
    ]
    assert len(bursts) == 12
    assert helpdesk.state_of("legacy", "before", "after") == "after"


def test_the_ab_preset_is_the_write_ups_ab_command() -> None:
    """`--preset ab`: 100 users sending 10 requests each per burst, as `ab -n 1000 -c 100`."""
    from django_index_bench.bench.cli import build_parser
    from django_index_bench.bench.commands.load import load_config
    from django_index_bench.bench.load import bursts as plan

    args = build_parser().parse_args(["load", "--preset", "ab"])
    config = load_config(args, SAMPLE, quick=False, seed=1, progress=False)
    assert (config.levels, config.rounds, config.pairs) == ((100,), 10, plan.DEFAULT_PAIRS)
    assert plan.requests_per_burst(config.levels[0], config.rounds) == 1000
    quick = load_config(
        build_parser().parse_args(["run", "--quick"]), SAMPLE, quick=True, seed=1, progress=False
    )
    assert (quick.levels, quick.pairs) == (plan.QUICK_LEVELS, plan.QUICK_PAIRS)
