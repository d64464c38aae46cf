"""`bench run` end to end at the tiny profile, on the tests' real PostgreSQL: shape, never speed."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import psycopg
import pytest

from django_index_bench.bench import cli, results
from django_index_bench.bench.pg import server as embedded
from django_index_bench.bench.results import Measurement, Results
from django_index_bench.bench.steps import confirm_run
from django_index_bench.verdicts import run_confirm, words
from tests.cli import REPO, bench, manage

DATABASE = "bench_run"
TRACKING_INDEXES = {
    "tracking_person_range": "tracking_people_date_idx",
    "tracking_identifier_range": "tracking_ident_date_idx",
    "tracking_device": "tracking_device_idx",
}


SCALES = (2_000, 4_000)
# --quick: at least this many pairs per item, at most this many (bench/schedule.py QUICK).
QUICK_MIN_PAIRS, QUICK_MAX_PAIRS = 6, 8


def run_tiny(results_dir: Path, *extra: str) -> Results:
    done = bench(
        "run", "--profile", "tiny", "--seed", "7", "--quick", "--no-progress",
        "--database", DATABASE, "--results-dir", str(results_dir), *extra,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("results: ")
    run = results.load(results_dir / results.LATEST)
    # The run ends with a line per step it timed, the same steps its results file records.
    shown = [line.split(":")[0] for line in done.stdout.splitlines()[1:]]
    assert shown == [f"step {s.step}" for s in run.steps] + ["step total"]
    return run


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> tuple[Results, Results]:
    """Two runs on the same data; between them the seeded database is moved to a state that is neither
    "before" nor "after" (journal's change applied, attendance's not): each copy must get there anyway."""
    # The first run also runs the load step, at one small level: bench run's load section end to end.
    first = run_tiny(tmp_path_factory.mktemp("first"), "--levels", "4", "--pairs", "1")
    mixed = manage(
        "migrate", "journal", "0016", "-v", "0",
        env={"DATABASE_URL": embedded.with_database(database_url, DATABASE)},
    )  # fmt: skip
    assert mixed.returncode == 0, mixed.stderr
    scales = ",".join(str(n) for n in SCALES)
    return first, run_tiny(tmp_path_factory.mktemp("second"), "--scales", scales, "--no-costs", "--no-load")


@pytest.fixture(scope="module")
def tiny_results(two_runs: tuple[Results, Results]) -> Results:
    return two_runs[0]


def key(m: Measurement) -> tuple[str, str, str]:
    return m.scenario, m.case, m.side


def every_measurement(run: Results) -> Iterator[Measurement]:
    yield from run.measurements
    yield from run.cold
    for scale in run.scales:
        yield from scale.measurements


def paired(run: Results, measurements: Iterable[Measurement]) -> Iterator[tuple[Measurement, Measurement]]:
    """Each item's baseline and candidate measurement in one series, in the order the items ran."""
    infos = {s.name: s for s in run.scenarios}
    by_key = {key(m): m for m in measurements}
    for m in by_key.values():
        info = infos[m.scenario]
        if m.side == info.baseline:
            yield m, by_key[(m.scenario, m.case, info.candidate)]


def sides_of(run: Results) -> Iterator[tuple[Measurement, Measurement]]:
    """Each item's baseline and candidate measurement, in every series of the run."""
    for series in (run.measurements, run.cold, *(scale.measurements for scale in run.scales)):
        yield from paired(run, series)


def reads(measurements: Iterable[Measurement]) -> int:
    return sum(p.shared_read_blocks for m in measurements for p in m.plans)


def pair(run: Results, scenario: str, case: str) -> tuple[Measurement, Measurement]:
    info = run.scenario(scenario)
    assert info is not None
    baseline, candidate = run.find(scenario, case, info.baseline), run.find(scenario, case, info.candidate)
    assert baseline is not None
    assert candidate is not None
    return baseline, candidate


def test_every_scenario_is_measured_on_both_sides(tiny_results: Results) -> None:
    assert {s.name for s in tiny_results.scenarios} == {
        *TRACKING_INDEXES,
        "journal_user_timeline",
        "journal_type_timeline",
        "journal_privacy_scope",
        "wellness_summary",
        "helpdesk_load_peoples",
    }
    for info in tiny_results.scenarios:
        assert info.cases
        for case in info.cases:
            for m in pair(tiny_results, info.name, case):
                assert m.ok, m.error
                assert m.timing is not None
                assert m.timing.rounds == len(m.timing.db_s) == len(m.timing.pair) >= QUICK_MIN_PAIRS
                assert m.query_count is not None
                assert m.query_count >= 1
                assert m.plans
                assert m.plans[0].sql == m.queries[0]


def test_run_records_states_environment_and_dataset(tiny_results: Results) -> None:
    # Each state in a copy of its own; the seeded database is at "before", so only "after" migrates.
    assert [s.state for s in tiny_results.states] == ["before", "after"]
    assert all(s.ok and s.error is None for s in tiny_results.states)
    before, after = tiny_results.states
    assert before.migrations == ()
    assert after.migrations == (
        "attendance.0031_add_tracking_performance_indexes",
        "journal.0016_optimize_entry_indexes",
    )
    env = tiny_results.environment
    assert env.postgres_version.startswith("18")
    assert {"jit", "max_parallel_workers_per_gather", "random_page_cost", "work_mem"} <= set(
        env.postgres_settings
    )
    assert env.cpu_count >= 1
    assert tiny_results.dataset.profile == "tiny"
    assert tiny_results.dataset.seed == 7
    assert tiny_results.dataset.fingerprint


@pytest.mark.parametrize(("scenario", "index"), TRACKING_INDEXES.items())
def test_tracking_scenarios_use_the_new_indexes_after(
    tiny_results: Results, scenario: str, index: str
) -> None:
    for case in ("heavy", "typical"):
        before, after = pair(tiny_results, scenario, case)
        assert index not in before.plans[0].index_names
        assert index in after.plans[0].index_names, after.plans[0].shape


def test_type_timeline_avoids_the_sort_after(tiny_results: Results) -> None:
    before, after = pair(tiny_results, "journal_type_timeline", "heavy")
    assert before.plans[0].has_sort
    assert not after.plans[0].has_sort
    assert "journal_type_ts_desc_idx" in after.plans[0].index_names
    assert after.shared_blocks is not None
    assert before.shared_blocks is not None
    assert after.shared_blocks < before.shared_blocks


def test_wellness_is_one_plus_n_against_two(tiny_results: Results) -> None:
    n_plus_one, prefetch = pair(tiny_results, "wellness_summary", "all")
    tenants = tiny_results.dataset.counts["tenants"]
    assert n_plus_one.query_count == 1 + tenants
    assert prefetch.query_count == 2
    assert n_plus_one.rows == prefetch.rows == tenants


def test_pagination_returns_25_items_and_fewer_bytes(tiny_results: Results) -> None:
    legacy, paginated = pair(tiny_results, "helpdesk_load_peoples", "page_1")
    assert paginated.rows == 25
    assert legacy.rows is not None
    assert legacy.rows > 25
    assert legacy.response_bytes is not None
    assert paginated.response_bytes is not None
    assert paginated.response_bytes < legacy.response_bytes
    assert legacy.peak_memory_bytes is not None
    assert paginated.peak_memory_bytes is not None


def run_tag(run: Results) -> str:
    """The per-run part of the names of the run's databases, the same for both of its states."""
    tags = set()
    for change in run.states:
        match = re.fullmatch(rf"{DATABASE}_(r[0-9a-f]{{8}})_{change.state}", change.database)
        assert match, change.database
        tags.add(match.group(1))
    (tag,) = tags
    return tag


def test_each_state_has_a_database_of_its_own_named_after_the_run(two_runs: tuple[Results, Results]) -> None:
    first, second = two_runs
    for run in two_runs:
        assert len({s.database for s in run.states}) == 2
    assert run_tag(first) != run_tag(second)
    # The second run started from a mixed state: each copy took its own way to its state.
    assert [s.migrations for s in second.states] == [
        ("-journal.0016_optimize_entry_indexes",),
        ("attendance.0031_add_tracking_performance_indexes",),
    ]


def test_bench_run_runs_the_load_step_unless_told_not_to(two_runs: tuple[Results, Results]) -> None:
    first, second = two_runs
    assert second.load is None  # --no-load
    load = first.load
    assert load is not None
    assert load.ok, load.error
    assert load.levels == (4,)
    assert [(b.side, b.users, b.pair) for b in load.bursts if b.first] == [(load.bursts[0].side, 4, 0)]
    assert sorted(b.side for b in load.bursts) == ["legacy", "paginated"]
    assert all(b.ok == b.planned == len(b.latencies_ms) and not b.errors for b in load.bursts)
    assert [s.side for s in load.servers] == ["legacy", "paginated"]
    # The variant endpoint runs both code paths in the state the change ships, on the copy of that
    # state's read copy taken before any round ran (not a copy migrated once more).
    assert {s.state for s in load.servers} == {first.states[-1].state}
    assert {s.database for s in load.servers} == {f"{DATABASE}_{run_tag(first)}_load_after"}


def test_the_cost_step_uses_copies_of_the_read_copies(tiny_results: Results) -> None:
    costs = tiny_results.costs
    assert costs is not None
    tag = run_tag(tiny_results)
    assert costs.databases == {state: f"{DATABASE}_{tag}_costs_{state}" for state in ("before", "after")}


def test_same_state_twice_gives_identical_deterministic_metrics(two_runs: tuple[Results, Results]) -> None:
    first, second = two_runs
    assert second.dataset.reused
    assert second.dataset.fingerprint == first.dataset.fingerprint
    again = {key(m): m for m in second.measurements}
    assert again.keys() == {key(m) for m in first.measurements}
    for m in first.measurements:
        other = again[key(m)]
        assert other.params == m.params, key(m)
        assert other.query_count == m.query_count, key(m)
        assert other.shared_blocks == m.shared_blocks, key(m)
        assert [p.shape for p in other.plans] == [p.shape for p in m.plans], key(m)


def test_the_guard_refuses_a_foreign_database_and_changes_nothing(server_url: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS customer_data")
        conn.execute("CREATE DATABASE customer_data")
    url = embedded.with_database(server_url, "customer_data")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id int primary key, total numeric)")
        conn.execute("INSERT INTO invoices VALUES (1, 99.5)")
    for command in (["run", "--profile", "tiny", "--quick"], ["seed", "--profile", "tiny"]):
        done = bench(*command, env={"DATABASE_URL": url})
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1
        assert lines[0].startswith("bench: error: refusing to touch database 'customer_data'")
    with psycopg.connect(url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        rows = conn.execute("SELECT id, total FROM invoices").fetchall()
    assert tables == {"invoices"}
    assert [(i, float(t)) for i, t in rows] == [(1, 99.5)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seconds", "abc"], "expected a number of seconds"),
        (["--seconds", "0"], "expected 0 < seconds"),
        (["--seconds", "nan"], "expected 0 < seconds"),
        (["--before", "attendance"], "expected APP=MIGRATION"),
        (["--quick", "--seconds", "1"], "not allowed with argument"),
        (["--scales", "inf"], "expected row counts like 10k,100k,1M"),
        (["--scales", "10"], "each scale must be 1k..100M rows"),
        (["--precision", "0"], "expected 0.1% to 50%"),
        (["--precision", "fast"], "argument --precision: expected a percentage like"),
    ],
)
def test_bad_run_options_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    # In process: argparse rejects them before anything runs, as it does in `bench run`.
    with pytest.raises(SystemExit) as exited:
        cli.main(["run", *args])
    assert exited.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert message in lines[0]


def test_cold_series_mirrors_the_warm_one_and_reads_more(tiny_results: Results) -> None:
    migration_scenarios = {s.name for s in tiny_results.scenarios if s.kind == "migration"}
    warm = {key(m): m for m in tiny_results.measurements if m.scenario in migration_scenarios}
    cold = {key(m): m for m in tiny_results.cold}
    assert cold.keys() == warm.keys()
    # Warmup rounds warm the connection and the code, not the buffers: each cold round evicts first, and
    # the warm series already ran the same code on the same connections, so the cold series has none.
    assert all(m.ok and m.timing is not None and m.timing.warmup_rounds == 0 for m in cold.values())
    assert all(m.timing is not None and m.timing.warmup_rounds == 1 for m in warm.values())
    assert reads(cold.values()) > reads(warm.values())
    assert {(i.cache, i.baseline_state, i.candidate_state) for i in tiny_results.schedule.items} == {
        ("warm", "before", "after"),
        ("warm", "after", "after"),
        ("cold", "before", "after"),
    }


def test_costs_record_the_lock_each_migration_takes(tiny_results: Results) -> None:
    costs = tiny_results.costs
    assert costs is not None
    locks = {(c.migration, c.variant): c.lock for c in costs.migrations if c.direction == "forward"}
    assert locks == {
        ("attendance.0031_add_tracking_performance_indexes", "plain"): "SHARE",
        ("attendance.0031_add_tracking_performance_indexes", "concurrent"): "SHARE UPDATE EXCLUSIVE",
        # 0016 starts with DROP INDEX, which locks out readers too.
        ("journal.0016_optimize_entry_indexes", "plain"): "ACCESS EXCLUSIVE",
        ("journal.0016_optimize_entry_indexes", "concurrent"): "SHARE UPDATE EXCLUSIVE",
    }
    for cost in costs.migrations:
        assert cost.invalid_indexes == ()
        assert cost.seconds > 0
        assert cost.writes_during >= 1
        assert cost.statements


def test_costs_record_sizes_before_and_after(tiny_results: Results) -> None:
    costs = tiny_results.costs
    assert costs is not None
    before = {s.relation: s.bytes for s in costs.sizes_before}
    after = {s.relation: s.bytes for s in costs.sizes_after}
    assert all(size > 0 for size in [*before.values(), *after.values()])
    new = set(TRACKING_INDEXES.values()) | {"journal_user_ts_desc_idx", "journal_type_ts_desc_idx"}
    assert not new & before.keys()
    assert new <= after.keys()


def test_inserts_after_the_migration_write_more_wal_per_row(tiny_results: Results) -> None:
    """Per method, the median over the pairs: tracking gains three indexes to maintain. Journal's 0016
    swaps two indexes for two, so its write figures are only required to be there."""
    costs = tiny_results.costs
    assert costs is not None
    wal: dict[tuple[str, str, str], list[float]] = {}
    for w in costs.writes:
        wal.setdefault((w.table, w.state, w.method), []).append(w.wal_bytes_per_row)
    assert {table for table, _, _ in wal} == {"tracking", "journal_journalentry"}
    for method in ("copy", "orm_create"):
        before, after = (statistics.median(wal[("tracking", state, method)]) for state in ("before", "after"))
        assert after > before, method
        for state in ("before", "after"):
            assert wal[("journal_journalentry", state, method)], (state, method)


def test_the_scale_series_has_a_point_per_scale_and_state(two_runs: tuple[Results, Results]) -> None:
    _, second = two_runs
    assert second.costs is None
    assert [run.counts["tracking"] for run in second.scales] == list(SCALES)
    for run in second.scales:
        points = {(m.scenario, m.side) for m in run.measurements}
        scenarios = {m.scenario for m in run.measurements}
        assert scenarios
        assert points == {(s, state) for s in scenarios for state in ("before", "after")}
        assert all(m.ok and m.case == "typical" for m in run.measurements)


def test_each_run_records_the_seconds_of_the_steps_it_ran(two_runs: tuple[Results, Results]) -> None:
    first, second = two_runs

    def confirm(run: Results) -> list[str]:
        """The confirm step runs (and has a line) only when something was measured again."""
        return ["confirm"] if run.confirmation is not None and run.confirmation.items else []

    assert [s.step for s in first.steps] == [
        "seed",
        "warm",
        "copies",
        "cold",
        *confirm(first),
        "costs",
        "load",
    ]
    assert [s.step for s in second.steps] == ["seed", "warm", "copies", "cold", *confirm(second), "scales"]
    assert all(s.seconds > 0 for s in (*first.steps, *second.steps))


def test_exactly_the_calls_of_the_report_are_measured_again_and_kept(
    two_runs: tuple[Results, Results],
) -> None:
    """Confirmation in a whole run: the items the report's own rule calls faster or slower (and no other:
    a case with no call, A/A-like, is not measured again) get a second measurement with its raw rounds,
    on fresh copies, with another seed, timings only; each called metric has an outcome."""
    for run in two_runs:
        done = run.confirmation
        assert done is not None
        assert (done.enabled, done.seed, done.copies, done.error) == (True, 7 + 1, run.schedule.copies, None)
        called = {}
        for series, cache in ((run.measurements, "warm"), (run.cold, "cold")):
            for base, cand in paired(run, series):
                if not (base.ok and cand.ok) or base.timing is None or cand.timing is None:
                    continue
                timings = run_confirm.item_timings(
                    base.timing, cand.timing, copies=run.schedule.worker_copies,
                    alpha=done.alpha, threshold=done.threshold,
                )  # fmt: skip
                if found := run_confirm.called(timings):
                    called[(base.scenario, base.case, cache)] = dict(found)
        assert {(i.scenario, i.case, i.cache): i.called for i in done.items} == called
        assert len(called) < len(run.schedule.items)  # some cases are no call, and were not measured again
        if not called:
            assert done.note == confirm_run.NONE_CALLED
        for again in done.items:
            assert set(again.outcomes) == set(again.called)
            assert set(again.outcomes.values()) <= {words.CONFIRMED, words.NOT_CONFIRMED}
            assert again.scheduled is not None
            assert again.baseline is not None
            assert again.candidate is not None
            for side in (again.baseline, again.candidate):
                assert side.ok
                assert side.timing is not None
                assert side.timing.rounds == again.scheduled.pairs >= QUICK_MIN_PAIRS
                assert (side.plans, side.query_count) == ((), None)


def test_every_round_is_paired_and_both_orders_occur(two_runs: tuple[Results, Results]) -> None:
    for run in two_runs:
        orders = set()
        for baseline, candidate in sides_of(run):
            assert baseline.timing is not None
            assert candidate.timing is not None
            pairs = list(range(baseline.timing.rounds))
            assert list(baseline.timing.pair) == list(candidate.timing.pair) == pairs, key(baseline)
            # In each pair exactly one side ran first.
            for base_first, cand_first in zip(baseline.timing.first, candidate.timing.first, strict=True):
                assert base_first != cand_first, key(baseline)
                orders.add(base_first)
            # Pair p ran on database copy p % copies, both sides (its "worker": bench run has one process).
            on_copy = [p % run.schedule.copies for p in pairs]
            assert list(baseline.timing.worker) == list(candidate.timing.worker) == on_copy
        assert orders == {True, False}


def test_the_schedule_records_each_item_with_its_pairs_and_why_it_stopped(tiny_results: Results) -> None:
    schedule = tiny_results.schedule
    assert (schedule.sides, schedule.workers, schedule.order_seed) == ("databases", 1, 7)
    assert (schedule.warmup_rounds, schedule.min_pairs, schedule.max_pairs) == (1, 6, 8)
    items = [(i.scenario, i.case, i.cache) for i in schedule.items]
    measured = [
        (b.scenario, b.case, "warm") for b, _ in sides_of(tiny_results) if b in tiny_results.measurements
    ]
    measured += [(b.scenario, b.case, "cold") for b, _ in sides_of(tiny_results) if b in tiny_results.cold]
    # One entry per item, every item measured: the warm series first, then the cold one.
    assert items == measured
    for item in schedule.items:
        series = {
            key(m): m for m in (tiny_results.cold if item.cache == "cold" else tiny_results.measurements)
        }
        baseline = series[(item.scenario, item.case, item.baseline)]
        candidate = series[(item.scenario, item.case, item.candidate)]
        assert (baseline.state, candidate.state) == (item.baseline_state, item.candidate_state)
        assert baseline.timing is not None
        assert item.pairs == baseline.timing.rounds
        assert QUICK_MIN_PAIRS <= item.pairs <= QUICK_MAX_PAIRS
        assert item.stop in ("precision", "budget", "max_pairs")
        assert item.stop != "max_pairs" or item.pairs == QUICK_MAX_PAIRS
        assert item.seconds > 0


def test_database_time_is_part_of_every_round(two_runs: tuple[Results, Results]) -> None:
    for run in two_runs:
        for m in every_measurement(run):
            assert m.ok, m.error
            assert m.timing is not None
            for total, database in zip(m.timing.total_s, m.timing.db_s, strict=True):
                assert 0 < database < total, key(m)


RANDOMLY_CONFTEST = "import random\n\nrandom.seed(99)\n"


def quick_run(results_dir: Path, cwd: Path, env: dict[str, str]) -> Results:
    """A plain `bench run` from `cwd`, importing this checkout's code."""
    done = subprocess.run(
        [
            sys.executable, "-m", "django_index_bench", "run", "--profile", "tiny", "--seed", "7", "--quick",
            "--no-costs", "--no-cold", "--no-load", "--no-progress", "--config", str(REPO / "bench.toml"),
            "--database", DATABASE, "--results-dir", str(results_dir),
        ],
        capture_output=True, text=True, cwd=cwd, check=False, timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return results.load(results_dir / results.LATEST)


def what_ran(run: Results) -> tuple[object, ...]:
    """The schedule's items in order, each side's first pairs' order (every item has at least
    QUICK_MIN_PAIRS; how many more depends on time), and the plans' shapes."""
    items = [
        (i.scenario, i.case, i.cache, i.baseline, i.candidate, i.baseline_state, i.candidate_state)
        for i in run.schedule.items
    ]
    firsts = {key(m): m.timing.first[:QUICK_MIN_PAIRS] for m in run.measurements if m.timing is not None}
    shapes = {key(m): [p.shape for p in m.plans] for m in run.measurements}
    assert len(firsts) == len(shapes) == len(run.measurements)
    return items, firsts, shapes


def test_a_test_runners_plugins_and_random_state_change_nothing(tmp_path: Path) -> None:
    """pytest-randomly (or any plugin, or a conftest seeding `random`) in the environment of a run
    changes neither the schedule, the pairs' order nor the plans."""
    plain = what_ran(quick_run(tmp_path / "plain", REPO, {}))
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    (workdir / "conftest.py").write_text(RANDOMLY_CONFTEST, encoding="utf-8")
    randomly = {"PYTEST_ADDOPTS": "-p randomly"}
    for attempt in ("first", "second"):
        assert what_ran(quick_run(tmp_path / attempt, workdir, randomly)) == plain, attempt
