"""`bench compare A.json B.json`: what counts as a regression, the outputs, and the bad input."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from django_index_bench.bench.cli import build_parser, main
from django_index_bench.bench.commands.compare import run_args
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.gate import git as worktree
from django_index_bench.bench.options import threshold
from django_index_bench.verdicts import gate, words
from tests.compare_fixtures import (
    INDEX,
    as_schema_2,
    base_results,
    failed_state,
    head_results,
    interleaved,
    measurement,
    on_workers,
    paired_rerun,
    samples,
    timing_of,
    without,
    write,
    write_raw,
)
from tests.git_repos import git
from tests.sample_results import plan, timing

SAMPLE_CONFIG = str(Path(__file__).resolve().parent.parent / "bench.toml")


def run_compare(tmp_path: Path, base: object, head: object, *extra: str) -> int:
    base_path = write(base, tmp_path / "base.json")  # type: ignore[arg-type]
    head_path = write(head, tmp_path / "head.json")  # type: ignore[arg-type]
    return main(["compare", str(base_path), str(head_path), "--output", str(tmp_path / "out"), *extra])


def test_a_rerun_of_the_same_code_is_no_regression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = base_results()
    assert run_compare(tmp_path, base, head_results(base)) == 0
    out = capsys.readouterr().out
    assert "REGRESSION" not in out
    assert "0 regressed, 0 improved, 8 unchanged" in out


def test_an_index_no_longer_used_is_a_regression_naming_scenario_and_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = base_results()
    seq = plan("Seq Scan on tracking", index=None, hit=900, read=100)
    after = dataclasses.replace(measurement(base, "tracking_person_range", "after"), plans=(seq,))
    assert run_compare(tmp_path, base, head_results(base, tracking_person_range__after=after)) == 1
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("REGRESSION tracking_person_range[heavy] after"))
    assert f"index no longer used: {INDEX}" in line
    assert f"Index Scan using {INDEX} on tracking` -> `Seq Scan on tracking" in line
    markdown = (tmp_path / "out" / "COMPARISON.md").read_text(encoding="utf-8")
    regressions = markdown.split("### Regressions")[1].split("### Improvements")[0]
    assert "`tracking_person_range`" in regressions
    assert "Seq Scan on tracking" in regressions


@pytest.mark.parametrize(
    ("sort", "hit", "status", "finding"),
    [
        (False, 10, 0, "index tracking_people_date_idx replaced by better_idx"),
        (True, 10, 1, "REGRESSION tracking_person_range[heavy] after: index no longer used"),
        (False, 40, 1, "REGRESSION tracking_person_range[heavy] after: index no longer used"),
    ],
    ids=["no worse", "a Sort appears", "more buffers"],
)
def test_an_index_replaced_by_a_new_one_is_a_regression_only_when_the_plan_got_worse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sort: bool, hit: int, status: int, finding: str
) -> None:
    # The branch adds a better index and the planner takes it: a gate that failed it would be switched off.
    base = base_results()
    better = plan("Index Scan using better_idx on tracking", index="better_idx", hit=hit, sort=sort)
    after = dataclasses.replace(measurement(base, "tracking_person_range", "after"), plans=(better,))
    assert run_compare(tmp_path, base, head_results(base, tracking_person_range__after=after)) == status
    assert finding in capsys.readouterr().out + (tmp_path / "out" / "comparison.json").read_text("utf-8")


def test_more_queries_is_a_regression_even_with_identical_timings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = base_results()
    prefetch = measurement(base, "wellness_summary", "prefetch")
    nplus1 = dataclasses.replace(prefetch, query_count=4)
    assert run_compare(tmp_path, base, head_results(base, wellness_summary__prefetch=nplus1)) == 1
    assert "REGRESSION wellness_summary[all] prefetch: more queries: 2 -> 4" in capsys.readouterr().out


def test_fewer_queries_and_a_new_index_are_improvements(tmp_path: Path) -> None:
    base = base_results()
    idx = plan(f"Index Scan using {INDEX} on tracking", index=INDEX, hit=12)
    before = dataclasses.replace(measurement(base, "tracking_person_range", "before"), plans=(idx,))
    n_plus_one = dataclasses.replace(measurement(base, "wellness_summary", "n_plus_one"), query_count=2)
    head = head_results(base, tracking_person_range__before=before, wellness_summary__n_plus_one=n_plus_one)
    assert run_compare(tmp_path, base, head) == 0
    data = json.loads((tmp_path / "out" / "comparison.json").read_text(encoding="utf-8"))
    verdicts = {(r["scenario"], r["case"], r["side"]): r["verdict"] for r in data["rows"]}
    assert verdicts[("tracking_person_range", "heavy", "before")] == words.IMPROVEMENT
    assert verdicts[("wellness_summary", "all", "n_plus_one")] == words.IMPROVEMENT
    assert data["regressed"] is False
    assert data["counts"] == {"regression": 0, "improvement": 2, "unchanged": 6}


def test_a_significant_slowdown_beyond_the_threshold_is_a_regression(tmp_path: Path) -> None:
    base = base_results()
    slow = dataclasses.replace(
        measurement(base, "tracking_person_range", "after"), timing=timing(*samples(0.003, shift=3))
    )
    assert run_compare(tmp_path, base, head_results(base, tracking_person_range__after=slow)) == 1
    data = json.loads((tmp_path / "out" / "comparison.json").read_text(encoding="utf-8"))
    row = next(r for r in data["rows"] if r["verdict"] == words.REGRESSION)
    assert (row["scenario"], row["side"]) == ("tracking_person_range", "after")
    assert [f["metric"] for f in row["findings"]] == ["time", "db_time"]
    assert row["timing"]["p_value"] < data["alpha_per_test"]
    assert data["alpha_per_test"] == 0.05 / 16  # end to end and database time of 8 measurements


def test_a_slowdown_within_the_threshold_passes(tmp_path: Path) -> None:
    base = base_results()
    slightly = dataclasses.replace(
        measurement(base, "tracking_person_range", "after"), timing=timing(*samples(0.00215, shift=3))
    )
    head = head_results(base, tracking_person_range__after=slightly)
    assert run_compare(tmp_path, base, head, "--threshold", "10%") == 0
    assert run_compare(tmp_path, base, head, "--threshold", "2%") == 1


def test_a_slowdown_within_the_run_to_run_noise_is_not_a_regression(tmp_path: Path) -> None:
    """Every timing moves by up to 40 % between the runs; the one 30 % slower is no outlier."""
    base = base_results()
    head = head_results(base)
    factors = (1.3, 0.7, 1.4, 0.6, 1.2, 0.8, 1.35, 0.65)
    noisy = tuple(
        dataclasses.replace(m, timing=timing(*samples(sorted(m.timing.total_s)[15] * f, shift=3)))
        for m, f in zip(head.measurements, factors, strict=True)
        if m.timing is not None
    )
    assert run_compare(tmp_path, base, dataclasses.replace(head, measurements=noisy)) == 0
    data = json.loads((tmp_path / "out" / "comparison.json").read_text(encoding="utf-8"))
    assert [n["metric"] for n in data["noise"]] == ["time", "db_time"]
    assert all(n["floor"] > 1.4 for n in data["noise"])
    assert any("run-to-run noise" in f["message"] for r in data["rows"] for f in r["findings"])


def markdown_of(tmp_path: Path) -> str:
    return (tmp_path / "out" / "COMPARISON.md").read_text(encoding="utf-8")


def regressions_section(tmp_path: Path) -> str:
    return markdown_of(tmp_path).split("### Regressions")[1].split("### Improvements")[0]


def test_a_measurement_that_fails_in_head_is_a_regression_with_heads_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = base_results()
    failed = dataclasses.replace(
        measurement(base, "wellness_summary", "prefetch"), status="failed", error="boom", timing=None
    )
    assert run_compare(tmp_path, base, head_results(base, wellness_summary__prefetch=failed)) == 1
    assert "REGRESSION wellness_summary[all] prefetch: failed in HEAD: boom\n" in capsys.readouterr().out
    assert "| failed | - | - | - | - | - | - | - | 2 | - | failed in HEAD: boom |" in regressions_section(
        tmp_path
    )


def test_a_measurement_missing_in_head_is_a_regression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A branch whose migration breaks a scenario often writes no measurement at all for it."""
    base = base_results()
    head = without(head_results(base), "tracking_person_range", "typical", "after")
    assert run_compare(tmp_path, base, head) == 1
    out = capsys.readouterr().out
    assert "REGRESSION tracking_person_range[typical] after: missing in HEAD\n" in out
    assert "1 regressed, 0 improved, 7 unchanged" in out
    row = "| `tracking_person_range` | typical | after | ok | missing |"
    assert row in regressions_section(tmp_path)
    assert "missing in HEAD |" in regressions_section(tmp_path)


def test_a_measurement_failed_in_both_is_still_a_regression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = base_results()
    broken = dataclasses.replace(
        measurement(base, "wellness_summary", "prefetch"), status="failed", error="boom", timing=None
    )
    base = dataclasses.replace(
        base, measurements=tuple(broken if m.side == "prefetch" else m for m in base.measurements)
    )
    assert run_compare(tmp_path, base, head_results(base, wellness_summary__prefetch=broken)) == 1
    expected = "REGRESSION wellness_summary[all] prefetch: failed in HEAD: boom (failed in BASE too: boom)"
    assert expected in capsys.readouterr().out


def test_a_failed_head_state_is_listed_first_and_fails_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = base_results()
    error = "attendance.0031: DuplicateTable: relation already exists"
    assert run_compare(tmp_path, base, failed_state(head_results(base), "after", error)) == 1
    out = capsys.readouterr().out
    assert f"REGRESSION head state after (bench_run_after) failed: {error}\n" in out
    head = markdown_of(tmp_path).split("### Regressions")[0]
    assert ":x: **0 regression(s)**, 1 failed HEAD state(s)," in head
    assert f"- `after` (database bench_run_after): {error}\n" in head


def test_two_separate_runs_say_the_timings_were_not_interleaved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = base_results()
    assert run_compare(tmp_path, base, head_results(base)) == 0
    reason = "BASE and HEAD are two separate runs (neither names the other as its partner)"
    out = capsys.readouterr().out
    weaker = (
        f"Weaker: {gate.UNPAIRED_WEAKNESS}; a timing counts only beyond this comparison's run-to-run noise"
    )
    assert f"timings not interleaved: {reason}. {weaker}\n" in out
    assert "8 unchanged (threshold 5%, unpaired timings)" in out
    assert f":warning: **Timings were not interleaved**: {reason}. This is weaker" in markdown_of(tmp_path)
    data = json.loads((tmp_path / "out" / "comparison.json").read_text(encoding="utf-8"))
    assert (data["method"], data["interleaved"]) == ("independent", False)


def test_a_base_from_before_pairing_is_compared_end_to_end_only_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = base_results()
    assert run_compare(tmp_path, as_schema_2(base), head_results(base)) == 0
    reason = "BASE came from a bench that predates pairing (results schema 2: no pairs, no database time)"
    assert f"timings not interleaved: {reason}." in capsys.readouterr().out
    data = json.loads((tmp_path / "out" / "comparison.json").read_text(encoding="utf-8"))
    assert {(r["timing"]["method"], r["db_timing"]) for r in data["rows"]} == {("independent", None)}
    assert data["tests"] == 8
    row = (
        "| heavy | before | 10.0 ms | 10.0 ms | +0.0% | -1.0% to +1.2% | - | - | - | "
        "30 rounds per side, unpaired |"
    )
    assert row in markdown_of(tmp_path)


# ---- interleaved partners: paired timings ---------------------------------------------------------


def test_partners_with_identical_pairs_are_no_regression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A/A: HEAD's rounds equal BASE's pair for pair (stored in another order): no change at all."""
    base, head = interleaved(base_results(), jitter=0.0)
    assert run_compare(tmp_path, base, head) == 0
    out = capsys.readouterr().out
    assert "0 regressed, 0 improved, 8 unchanged (threshold 5%, paired timings)" in out
    # Identical pairs leave the intervals no width: only the threshold limits what could be seen.
    assert (
        "- ms cases (5): changes end to end under 5.0 % and database time under 5.0 % cannot be seen here"
    ) in markdown_of(tmp_path)
    assert "not interleaved" not in out
    data = json.loads((tmp_path / "out" / "comparison.json").read_text(encoding="utf-8"))
    assert (data["method"], data["interleaved"], data["noise"]) == ("paired", True, [])
    timings = [r[name] for r in data["rows"] for name in ("timing", "db_timing")]
    assert {(t["method"], t["n"], t["ratio"], tuple(t["ratio_ci"]), t["p_value"]) for t in timings} == {
        ("paired", 30, 1.0, (1.0, 1.0), 1.0)
    }
    assert "Timings were interleaved: BASE and HEAD ran as partners in one `bench compare` (workers)" in (
        markdown_of(tmp_path)
    )
    assert "(30 pairs per measurement)" in markdown_of(tmp_path)


def test_partners_with_jittered_pairs_are_no_regression(tmp_path: Path) -> None:
    base, head = interleaved(base_results(), jitter=0.02)
    assert run_compare(tmp_path, base, head) == 0


def test_partners_with_a_consistent_slowdown_on_one_case_regress_naming_the_pairs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = on_workers(base_results(), 2)  # two worker processes a side: the CI resamples them whole
    slower = paired_rerun(timing_of(base, "tracking_person_range", "typical", "after"), total=1.10)
    base, head = interleaved(base, {"tracking_person_range__typical__after": slower})
    assert run_compare(tmp_path, base, head, "--threshold", "5%") == 1
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("REGRESSION")]
    assert lines == [
        "REGRESSION tracking_person_range[typical] after: end to end 1.10x slower (n=30 pairs, p < 0.001)",
        "REGRESSION tracking_person_range[typical] after: database time 1.10x slower (n=30 pairs, p < 0.001)",
    ]
    assert "| +10.0% |" in regressions_section(tmp_path)
    assert "| 30 pairs |" in regressions_section(tmp_path)


def test_partners_with_the_same_slowdown_below_the_threshold_pass(tmp_path: Path) -> None:
    """Significant, yet a change within --threshold is no change (asv wants a test and a factor)."""
    base = base_results()
    slower = paired_rerun(timing_of(base, "tracking_person_range", "typical", "after"), total=1.10)
    base, head = interleaved(base, {"tracking_person_range__typical__after": slower})
    assert run_compare(tmp_path, base, head, "--threshold", "15%") == 0


def test_partners_with_slower_database_time_and_flat_end_to_end_regress_naming_database_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = base_results()
    db_slower = paired_rerun(timing_of(base, "wellness_summary", "all", "prefetch"), total=1.0, db=1.3)
    base, head = interleaved(base, {"wellness_summary__all__prefetch": db_slower})
    assert run_compare(tmp_path, base, head) == 1
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("REGRESSION")]
    assert lines == [
        "REGRESSION wellness_summary[all] prefetch: database time 1.30x slower (n=30 pairs, p < 0.001), "
        "end to end 1.00x"
    ]
    data = json.loads((tmp_path / "out" / "comparison.json").read_text(encoding="utf-8"))
    (row,) = [r for r in data["rows"] if r["verdict"] == words.REGRESSION]
    assert [f["metric"] for f in row["findings"]] == ["db_time"]
    assert row["timing"]["verdict"] == "no significant change"
    assert "| +0.0% |" in regressions_section(tmp_path)
    assert "| +30.0% |" in regressions_section(tmp_path)


def test_outputs_are_a_pr_comment_a_chart_and_strict_json(tmp_path: Path) -> None:
    base = base_results()
    assert run_compare(tmp_path, base, head_results(base)) == 0
    out = tmp_path / "out"
    markdown = (out / "COMPARISON.md").read_text(encoding="utf-8")
    assert markdown.startswith("## Benchmark comparison: `")
    assert "**No regression**" in markdown
    assert "![HEAD/BASE time per measurement](charts/comparison_time.png)" in markdown
    assert (out / "charts" / "comparison_time.png").read_bytes().startswith(b"\x89PNG")
    text = (out / "comparison.json").read_text(encoding="utf-8")
    data = json.loads(text, parse_constant=lambda name: pytest.fail(f"non-standard JSON {name}"))
    assert data["comparison_version"] == gate.COMPARISON_VERSION
    assert data["head"]["commit"] == "def5678"
    # Two results files: nothing was measured, so only judging and rendering took time.
    assert [s["step"] for s in data["steps"]] == ["verdicts", "report"]


def bad(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Exit 2 with one line on stderr, whether argparse refused an option or the command did."""
    try:
        status = main(["compare", *argv])
    except SystemExit as exited:
        status = exited.code  # type: ignore[assignment]
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith(("bench: error: ", "bench compare: error: "))
    assert err.count("\n") == 1
    return err


def test_the_same_file_twice_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(base_results(), tmp_path / "a.json")
    assert "same file" in bad(capsys, str(path), str(path), "--output", str(tmp_path / "out"))
    copy = tmp_path / "b.json"
    copy.write_bytes(path.read_bytes())
    assert "identical" in bad(capsys, str(path), str(copy), "--output", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_another_schema_version_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = write(base_results(), tmp_path / "a.json")
    old = write_raw({"schema_version": 0}, tmp_path / "old.json")
    assert "schema version 0" in bad(capsys, str(base), str(old))


def test_results_of_other_data_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = base_results()
    head = head_results(base)
    other = dataclasses.replace(head, dataset=dataclasses.replace(head.dataset, fingerprint="0" * 16))
    a, b = write(base, tmp_path / "a.json"), write(other, tmp_path / "b.json")
    assert "different dataset fingerprint" in bad(capsys, str(a), str(b))


def test_a_missing_file_and_a_file_with_a_ref_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = write(base_results(), tmp_path / "a.json")
    assert "no results file" in bad(capsys, str(a), str(tmp_path / "nope.json"))
    assert "not one of each" in bad(capsys, str(a), "HEAD")


def test_run_options_with_files_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = base_results()
    a, b = write(base, tmp_path / "a.json"), write(head_results(base), tmp_path / "b.json")
    assert "only apply when" in bad(capsys, str(a), str(b), "--quick")


@pytest.mark.parametrize(("text", "value"), [("10%", 0.10), ("2.5%", 0.025), ("0.1", 0.1), ("0%", 0.0)])
def test_threshold_accepts_percentages_and_fractions(text: str, value: float) -> None:
    assert threshold(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["ten", "10", "-5%", "%"])
def test_threshold_refuses_the_rest(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["compare", "a.json", "b.json", "--threshold", text])
    assert exited.value.code == 2


def test_a_directory_that_is_not_a_repository_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "not inside a git repository" in bad(capsys, "main", "HEAD", "--repo", str(tmp_path))


@pytest.fixture
def small_repo(tmp_path: Path) -> Path:
    """A git repository with one commit and an uncommitted change."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch", "main")
    (repo / "a.txt").write_text("one\n", encoding="utf-8")
    git(repo, "add", "a.txt")
    git(repo, "commit", "--quiet", "-m", "one")
    (repo / "a.txt").write_text("uncommitted\n", encoding="utf-8")
    return repo


def test_an_unknown_ref_is_refused(small_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "unknown git ref 'no-such-branch'" in bad(
        capsys, "main", "no-such-branch", "--repo", str(small_repo)
    )


def test_a_worktree_is_removed_when_the_run_fails(small_repo: Path, tmp_path: Path) -> None:
    commit = worktree.resolve_ref(small_repo, "main")
    where = tmp_path / "tree"
    seen: list[tuple[str, int]] = []

    def fail_inside() -> None:
        with worktree.checkout(small_repo, commit, where) as tree:
            seen.append(((tree / "a.txt").read_text(encoding="utf-8"), len(worktree.worktrees(small_repo))))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_inside()
    assert seen == [("one\n", 2)]
    assert not where.exists()
    assert worktree.worktrees(small_repo) == [small_repo.resolve()]
    assert (small_repo / "a.txt").read_text(encoding="utf-8") == "uncommitted\n"


def test_resolve_ref_refuses_options(small_repo: Path) -> None:
    with pytest.raises(UsageError, match="not a git ref"):
        worktree.resolve_ref(small_repo, "--all")


def worktree_count(repo: Path) -> int:
    return len(git(repo, "worktree", "list").splitlines())


def test_a_directory_named_like_a_results_file_is_refused(
    small_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "x.json"
    folder.mkdir()
    other = write(base_results(), tmp_path / "b.json")
    expected = f"bench: error: {folder} is a directory, not a results file\n"
    assert bad(capsys, str(folder), str(other), "--output", str(tmp_path / "out")) == expected
    assert bad(capsys, str(other), str(folder), "--output", str(tmp_path / "out")) == expected
    assert bad(capsys, str(folder), "main", "--repo", str(small_repo)) == expected
    assert worktree_count(small_repo) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("refs", [False, True], ids=["files", "git refs"])
def test_an_output_that_cannot_be_written_is_refused_up_front(
    small_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], refs: bool
) -> None:
    base = base_results()
    a, b = write(base, tmp_path / "a.json"), write(head_results(base), tmp_path / "b.json")
    inputs = (
        ["main", "main", "--repo", str(small_repo), "--config", SAMPLE_CONFIG] if refs else [str(a), str(b)]
    )
    blocker = tmp_path / "file"
    blocker.write_text("not a directory\n", encoding="utf-8")
    err = bad(capsys, *inputs, "--output", str(blocker))
    assert err == f"bench: error: --output {blocker} exists and is not a directory; pass a directory\n"
    err = bad(capsys, *inputs, "--output", str(blocker / "out"))
    assert err.startswith(f"bench: error: --output {blocker / 'out'}: cannot create or write this directory")
    assert worktree_count(small_repo) == 1


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--threshold", "ten"], "argument --threshold: expected a percentage like 10%, got 'ten'"),
        (["--alpha", "1.5"], "argument --alpha: expected a number between 0 and 1 (exclusive), got '1.5'"),
        (
            ["--profile", "huge"],
            "bench: error: unknown profile 'huge'; choose one of tiny, small, default, large",
        ),
        (["--seed", "x"], "argument --seed: expected an integer seed, got 'x'"),
        (["--rows", "tenants_tenant=0"], "argument --rows: expected TABLE=N with N from 1 to 500,000,000"),
        (
            ["--rows", "tenants_tenant=50", "--rows", "peoples_people=10"],
            "bench: error: every tenant needs a person: 10 people are fewer than 50 tenants",
        ),
    ],
    ids=["threshold", "alpha", "profile", "seed", "count", "counts that contradict"],
)
def test_bad_run_options_for_git_refs_are_refused_before_any_worktree(
    small_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], expected: str
) -> None:
    out = tmp_path / "out"
    err = bad(
        capsys,
        "main",
        "main",
        "--repo",
        str(small_repo),
        "--config",
        SAMPLE_CONFIG,
        "--output",
        str(out),
        *options,
    )
    assert expected in err
    assert worktree_count(small_repo) == 1
    assert not out.exists()


def test_a_repository_without_a_configuration_is_refused_before_any_worktree(
    small_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bad(capsys, "main", "main", "--repo", str(small_repo)) == (
        f"bench: error: no bench.toml (or [tool.django-index-bench] in pyproject.toml) in {small_repo} "
        "or above; write one (README: 'Measure your own project') or pass --config PATH\n"
    )
    assert worktree_count(small_repo) == 1


def test_only_the_run_options_the_user_gave_reach_each_refs_run() -> None:
    """A ref's own `bench run` defaults apply to the rest (an older ref may have other ones)."""
    given = build_parser().parse_args(
        ["compare", "main", "HEAD", "--seed", "7", "--rows", "tracking=1_000", "--quick"]
    )
    assert run_args(given) == ["--seed", "7", "--rows", "tracking=1000", "--quick"]
    assert run_args(build_parser().parse_args(["compare", "main", "HEAD"])) == []
