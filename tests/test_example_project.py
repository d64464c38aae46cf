"""The harness on a project that is not the sample: examples/library, a small app with its own models,
an index migration, scenarios and seed plan, measured through its bench.toml alone.

Everything runs as a user runs it: `bench` in a child process whose current directory is a copy of the
example (not this repository), against the tests' server. Tiny profile and --quick: the timings say
nothing here, the plans, the states and the shape of the results must say it all.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from django_index_bench.bench import results
from tests.cli import REPO, bench
from tests.git_repos import git

EXAMPLE = REPO / "examples" / "library"
MODELS = Path("catalog/models.py")
INDEX_MIGRATION = Path("catalog/migrations/0002_book_author_published_idx.py")
INDEX_META = """
    class Meta:
        indexes = [models.Index(fields=["author", "-published"], name="book_author_published_idx")]
"""


def example_copy(where: Path) -> Path:
    project = where / "library"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", "results", "report"))
    return project


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, results.Results]:
    project = example_copy(tmp_path_factory.mktemp("example"))
    done = bench(
        "run",
        "--profile",
        "tiny",
        "--quick",
        "--no-cold",
        "--no-progress",
        "--database",
        "example_run",
        cwd=project,
    )
    assert done.returncode == 0, done.stderr
    assert "results: results/" in done.stdout
    return project, results.load(project / "results" / results.LATEST)


def test_the_example_is_seeded_from_its_plan_and_measured_in_both_states(
    measured: tuple[Path, results.Results],
) -> None:
    _, run = measured
    assert [s.name for s in run.scenarios] == ["books_by_author", "books_in_genre"]
    assert run.dataset.counts == {"catalog_author": 25, "catalog_book": 5_000}
    assert [(s.state, s.status, s.targets) for s in run.states] == [
        ("before", "ok", {"catalog": "0001_initial"}),
        ("after", "ok", {"catalog": "0002_book_author_published_idx"}),
    ]
    assert all(m.ok for m in run.measurements)
    indexes = {
        m.side: {name for plan in m.plans for name in plan.index_names}
        for m in run.measurements
        if m.scenario == "books_by_author" and m.case == "heavy"
    }
    assert "book_author_published_idx" in indexes["after"]
    assert "book_author_published_idx" not in indexes["before"]
    assert run.costs is not None
    assert {c.migration for c in run.costs.migrations} == {"catalog.0002_book_author_published_idx"}
    # Copies of its rows get fresh ISBNs: the unique index is part of what a write costs, and holds.
    assert {(w.table, w.method) for w in run.costs.writes} == {
        ("catalog_book", "copy"),
        ("catalog_book", "orm_create"),
    }


def test_the_report_renders_the_examples_scenarios_and_claims(measured: tuple[Path, results.Results]) -> None:
    project, _ = measured
    done = bench("report", cwd=project)
    assert done.returncode == 0, done.stderr
    text = (project / "report" / "PERFORMANCE_BASELINE_REPORT.md").read_text(encoding="utf-8")
    assert "books_by_author" in text
    assert "The write-up's claims (from `claims.toml`)" in text
    assert "at least 50 % faster" in text


def test_compare_of_two_commits_that_differ_by_the_index_migration(tmp_path: Path) -> None:
    repo = example_copy(tmp_path)
    index_migration = (repo / INDEX_MIGRATION).read_text(encoding="utf-8")
    models = (repo / MODELS).read_text(encoding="utf-8")
    assert INDEX_META in models
    (repo / INDEX_MIGRATION).unlink()
    (repo / MODELS).write_text(models.replace(INDEX_META, ""), encoding="utf-8")
    git(repo, "init", "--quiet", "--initial-branch", "main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "the library, no index")
    git(repo, "checkout", "--quiet", "-b", "index")
    (repo / INDEX_MIGRATION).write_text(index_migration, encoding="utf-8")
    (repo / MODELS).write_text(models, encoding="utf-8")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "an index for an author's newest books")

    out = tmp_path / "comparison"
    done = bench(
        "compare", "main", "--profile", "tiny", "--quick", "--scenario", "books_by_author",
        "--output", str(out), cwd=repo,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "comparing the merge base of main and HEAD" in done.stdout
    data = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    after = [r for r in data["rows"] if r["scenario"] == "books_by_author" and r["side"] == "after"]
    assert {r["case"] for r in after} == {"heavy", "typical", "light"}
    assert all(r["verdict"] != "regression" for r in data["rows"])
    assert any("book_author_published_idx" in json.dumps(r) for r in after)
