"""`bench report`'s section for `bench suggest`, from a suggestions file and a results file only (no
database): the ranking with its verdicts (a recommended candidate, one whose write cost outweighs its read
benefit, one the budget did not cover), each case's speedup with its interval, the redundant candidate and
the unused index, the plans without and with; and which file it came from, or none."""

from __future__ import annotations

from pathlib import Path

import pytest

from django_index_bench.bench.results import to_json
from django_index_bench.bench.suggest import results as found_file
from django_index_bench.bench.suggest.results import (
    SCHEMA,
    Candidate,
    Dropped,
    ExistingIndex,
    Key,
    Suggestions,
    Trial,
)
from tests.cli import bench
from tests.report_fixtures import every_outcome
from tests.test_suggest import _trial


def _candidate(name: str, keys: tuple[Key, ...], scenario: str) -> Candidate:
    sql = f'CREATE INDEX "{name}" ON "t" ({", ".join(k.sql for k in keys)})'
    return Candidate(name, "t", keys, 1, scenarios=(scenario,), why=f"equality {keys[0].column}", sql=sql)


READ = _candidate("t_a_b_1a2b3c", (Key("a"), Key("b", True)), "reads")
WRITTEN = _candidate("t_c_4d5e6f", (Key("c"),), "others")
LATE = _candidate("t_d_7a8b9c", (Key("d"),), "reads")
TWIN = _candidate("t_a_b_0f0f0f", (Key("a"), Key("b")), "reads")
EXISTING = (
    ExistingIndex("t_ab_idx", "t", (Key("a"), Key("b")), (), None, False, False, "btree", "CREATE INDEX"),
    ExistingIndex("t_e_idx", "t", (Key("e"),), (), None, False, False, "btree", "CREATE INDEX t_e_idx"),
    ExistingIndex("t_pkey", "t", (Key("id"),), (), None, True, True, "btree", "CREATE UNIQUE INDEX t_pkey"),
)  # fmt: skip


def suggestions() -> Suggestions:
    # READ: twice as fast, inserts unchanged. WRITTEN: twice as fast too, but each insert 0.5 ms slower
    # and 50 rows inserted per unit of work against one call: 25 ms added for 5 ms saved.
    read = _trial(0.100, 0.100, plan_with=f"Index Scan using {READ.name} on t", helps=("reads", READ.name))
    written = _trial(
        0.100, 0.150, plan_with=f"Index Scan using {WRITTEN.name} on t", helps=("others", WRITTEN.name)
    )
    late = Trial((LATE.name,), "not measured", "budget: 0 s of --seconds 60 left; a trial took 70 s")
    return Suggestions(
        schema=SCHEMA, started_at="2026-01-01T00:00:00+00:00", finished_at="2026-01-01T00:10:00+00:00",
        command="bench suggest --seconds 60", state="before", targets={"app": "0001_initial"},
        dataset=every_outcome().dataset, budget_s=60.0, hypopg="not installed on the server",
        captured=(), existing=EXISTING, candidates=(READ, WRITTEN, LATE, TWIN),
        dropped=(Dropped(TWIN.name, "redundant", "t_ab_idx"),),
        trials=(read, written, late), writes={"t": 50.0},
    )  # fmt: skip


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    here = tmp_path_factory.mktemp("suggest_report")
    (here / "results").mkdir()
    (here / "results" / "latest.json").write_text(to_json(every_outcome()), encoding="utf-8")
    return here


@pytest.fixture(scope="module")
def section(project: Path) -> str:
    found_file.save(suggestions(), project / "results" / "suggestions.json")
    done = bench("report", "--output", "with", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "suggestions: results/suggestions.json" in done.stdout.splitlines()
    text = (project / "with" / "PERFORMANCE_BASELINE_REPORT.md").read_text(encoding="utf-8")
    return text.split("## Index suggestions (`bench suggest`)\n")[1].split("\n## Environment and data")[0]


def _rows(text: str, heading: str) -> list[list[str]]:
    part = text.split(f"### {heading}\n")[1].split("\n### ")[0]
    return [
        [c.strip() for c in line.strip("|").split(" | ")] for line in part.splitlines() if line[:2] == "| "
    ]


def test_the_report_ranks_a_write_heavy_candidate_below_a_recommended_one(section: str) -> None:
    assert section.startswith("\nFrom `results/suggestions.json`, measured on the same data as this run")
    assert "HypoPG: not installed on the server." in section
    assert "A unit of work is 1 call(s) of reads, 1 call(s) of others; 50 row(s) inserted into t." in section
    ranking = _rows(section, "Ranking")
    assert [row[:3] for row in ranking[2:]] == [
        ["1", f'`CREATE INDEX "{READ.name}" ON "t" ("a", "b" DESC)`', "recommended"],
        ["2", f'`CREATE INDEX "{WRITTEN.name}" ON "t" ("c")`', "write cost outweighs read benefit"],
    ]
    # saved per unit, added to writes per unit: 5.1 ms read for nothing; 5.1 ms read for 50 x 0.5 ms written.
    assert [row[5:7] for row in ranking[2:]] == [["5.10 ms", "0 µs"], ["5.10 ms", "25.0 ms"]]
    assert _rows(section, "Not measured or failed")[2:] == [
        [LATE.name, "NOT MEASURED", "budget: 0 s of --seconds 60 left; a trial took 70 s"]
    ]
    assert _rows(section, "Redundant and pruned candidates")[2:] == [
        [f'`CREATE INDEX "{TWIN.name}" ON "t" ("a", "b")`', "redundant", "t_ab_idx"]
    ]
    # t_ab_idx and t_e_idx: no captured plan uses them; the primary key is listed as still enforcing.
    assert [row[:3] for row in _rows(section, "Existing indexes no scenario uses")[2:]] == [
        ["t_ab_idx", "t", "-"],
        ["t_e_idx", "t", "-"],
        ["t_pkey", "t", "primary key"],
    ]


def test_the_report_shows_each_case_s_speedup_with_its_interval_and_the_plans(section: str) -> None:
    speedups = _rows(section, "Measured speedups")
    assert [row[:4] for row in speedups[2:]] == [
        ["1", READ.name, "reads[heavy]", "yes"],
        ["2", WRITTEN.name, "others[heavy]", "yes"],
    ]
    # 10 ms against 5 ms, pair by pair (tests/test_suggest.py's _trial): the ratio, its interval, the verdict.
    change = "2.00x faster [1.98x to 2.04x faster], faster"
    assert [row[4:] for row in speedups[2:]] == [[change, change, "95 %", "5.10 ms"]] * 2
    assert f"#### {READ.name}: recommended\n\nWhy: equality a." in section
    assert _rows(section, "Plans without and with each candidate")[2] == [
        "reads[heavy]",
        "Seq Scan on t",
        f"Index Scan using {READ.name} on t",
    ]


def test_a_report_without_suggestions_has_no_section_and_a_bad_file_is_refused(
    project: Path, section: str
) -> None:
    done = bench("report", "--output", "without", "--no-suggestions", cwd=project)
    assert done.returncode == 0, done.stderr
    text = (project / "without" / "PERFORMANCE_BASELINE_REPORT.md").read_text(encoding="utf-8")
    assert "Index suggestions" not in text
    assert "suggestions:" not in done.stdout
    done = bench("report", "--output", "missing", "--suggestions", "results/none.json", cwd=project)
    assert done.returncode == 2
    assert done.stderr == (
        "bench: error: no suggestions file at results/none.json; run `bench suggest` first\n"
    )
    assert not (project / "missing").exists()
    (project / "results" / "old.json").write_text('{"schema": 0}', encoding="utf-8")
    done = bench("report", "--output", "old", "--suggestions", "results/old.json", cwd=project)
    assert done.returncode == 2
    assert done.stderr == (
        f"bench: error: results/old.json is not a suggestions file of schema {SCHEMA} (schema 0)\n"
    )
    assert not (project / "old").exists()


def test_a_search_on_other_data_says_so(project: Path) -> None:
    found = suggestions()
    other = found.dataset.__class__(**{**vars(found.dataset), "fingerprint": "other", "profile": "tiny"})
    found_file.save(Suggestions(**{**vars(found), "dataset": other}), project / "elsewhere.json")
    done = bench("report", "--output", "other", "--suggestions", "elsewhere.json", cwd=project)
    assert done.returncode == 0, done.stderr
    text = (project / "other" / "PERFORMANCE_BASELINE_REPORT.md").read_text(encoding="utf-8")
    run = every_outcome().dataset
    assert (
        "From `elsewhere.json`, measured on other data than this run (profile tiny, fingerprint `other`; "
        f"this run: profile {run.profile}, `{run.fingerprint}`): its figures are not this run's."
    ) in text
