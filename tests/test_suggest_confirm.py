"""What `bench suggest` predicts, `bench run` confirms: on a copy of examples/library without migration
0002, the migration suggest writes for its best candidate is applied by `migrate` in the run's `after`
state, its plans use the index, and every case the search found significantly changed changes the same way
in the run, with overlapping intervals. Verdicts and intervals, never wall-clock thresholds."""

from __future__ import annotations

from pathlib import Path

from django_index_bench.bench import results
from django_index_bench.bench.suggest import rank
from django_index_bench.bench.suggest import results as found_file
from django_index_bench.bench.suggest.results import Key
from django_index_bench.reports.analysis import analyze
from django_index_bench.verdicts import words
from tests.cli import bench
from tests.test_example_project import example_copy

# Enough books that the most prolific author's newest 20 are a sort of thousands of rows without the
# index, and a 20-row index scan with it: a change no busy machine hides.
ROWS = ("--rows", "catalog_book=100000")
DATABASE = ("--database", "example_confirm")
MIGRATION = "catalog/migrations/0002_suggested.py"


def _overlap(a: tuple[float, float] | None, b: tuple[float, float] | None) -> bool:
    return a is not None and b is not None and a[0] <= b[1] and b[0] <= a[1]


def test_the_run_after_the_suggested_migration_confirms_the_predicted_speedup(tmp_path: Path) -> None:
    project = example_copy(tmp_path)
    # Without 0002, "after" is 0001 plus whatever suggest writes: the run measures that index alone.
    (project / "catalog" / "migrations" / "0002_book_author_published_idx.py").unlink()
    done = bench(
        "suggest", "--state", "before", "--scenario", "books_by_author", "--seconds", "300", "--no-progress",
        "--migration", MIGRATION, *ROWS, *DATABASE, cwd=project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"migration: {MIGRATION}" in done.stdout
    found = found_file.load(project / "results" / "suggestions.json")
    assert found.migration == MIGRATION
    best = rank.ranking(found.trials, found.weights, found.writes)[0]
    assert best.verdict == "recommended"
    (name,) = best.trial.indexes
    (candidate,) = [c for c in found.candidates if c.name == name]
    assert (candidate.table, candidate.keys[:2]) == (
        "catalog_book",
        (Key("author_id"), Key("published", True)),
    )
    predicted = {c.case: c.end_to_end for c in best.cases if c.scenario == "books_by_author"}
    assert predicted["heavy"].verdict == words.FASTER

    done = bench(
        "run", "--scenario", "books_by_author", "--seconds", "0.5", "--no-cold", "--no-load", "--no-costs",
        "--no-progress", *ROWS, *DATABASE, cwd=project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run = results.load(project / "results" / "latest.json")
    after = next(s for s in run.states if s.state == "after")
    assert after.status == "ok"
    assert "catalog.0002_suggested" in after.migrations
    used = {
        p.index_names for m in run.measurements if m.side == "after" and m.case == "heavy" for p in m.plans
    }
    assert used == {(name,)}
    measured = {c.case: c.comparison for c in analyze(run).all_cases()}
    assert measured.keys() == predicted.keys()
    confirmed = {}
    for case, guess in predicted.items():
        if guess.verdict not in (words.FASTER, words.SLOWER):
            continue  # nothing predicted: no change, or one too small to tell, is both consistent
        seen = measured[case]
        assert seen is not None
        confirmed[case] = (seen.verdict == guess.verdict, _overlap(seen.ratio_ci, guess.ratio_ci))
        # Consistent everywhere: never the opposite verdict. A case the index speeds up only a little may
        # read "no significant change" in the run's short series on a busy machine: no contradiction.
        assert seen.verdict in (guess.verdict, words.NO_CHANGE), (case, predicted, measured)
    # The case the index is for is confirmed outright: same verdict, overlapping intervals.
    assert confirmed["heavy"] == (True, True), (predicted, measured)
