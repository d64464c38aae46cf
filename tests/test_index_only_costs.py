"""What an index costs when the states are index-only (`drop_indexes` / `create_indexes` at the latest
schema): the two cost copies really differ by the index, the writes into its table are paired, and the
index's build and drop are timed like a migration. End to end on a copy of examples/library, tiny and
--quick: the shapes of the figures, never their speed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from django_index_bench.bench import results
from django_index_bench.bench.costs.collect import WRITE_REPETITIONS
from django_index_bench.bench.costs.indexes import IndexChange, concurrently, differences, index_catalog
from django_index_bench.bench.costs.migrations import REPETITIONS
from tests.cli import bench
from tests.test_example_project import example_copy

INDEX = "book_author_published_idx"
BEFORE_WITHOUT_THE_INDEX = """
[states.before]
drop_indexes = ["book_author_published_idx"]
"""


def test_the_index_catalog_names_each_index_s_table(database_url: str, migrated_schema: None) -> None:
    catalog = index_catalog(database_url)
    table, definition = catalog["tracking_device_idx"]
    assert table == "tracking"
    assert definition.startswith("CREATE INDEX tracking_device_idx ON public.tracking ")
    assert not any(name.startswith("pg_") for name in catalog)


def test_the_states_differ_by_the_indexes_only_one_side_has() -> None:
    before = {"a_idx": ("t", "CREATE INDEX a_idx ON public.t USING btree (a)"), "same": ("u", "X")}
    after = {"b_idx": ("s", "CREATE UNIQUE INDEX b_idx ON public.s USING btree (b)"), "same": ("u", "Y")}
    assert differences(before, after) == [
        IndexChange("b_idx", "s", "CREATE UNIQUE INDEX b_idx ON public.s USING btree (b)", added=True),
        IndexChange("a_idx", "t", "CREATE INDEX a_idx ON public.t USING btree (a)", added=False),
    ]
    assert [c.label for c in differences(before, after)] == ["CREATE INDEX b_idx", "DROP INDEX a_idx"]
    assert concurrently("CREATE UNIQUE INDEX b_idx ON public.s USING btree (b)") == (
        "CREATE UNIQUE INDEX CONCURRENTLY b_idx ON public.s USING btree (b)"
    )


def run_with_states(where: Path, states: str) -> tuple[Path, results.Results]:
    """`bench run` on a copy of the example whose bench.toml has these states instead of its own."""
    project = example_copy(where)
    config = project / "bench.toml"
    text = config.read_text(encoding="utf-8")
    own = '[states.before]\nmigrations = { catalog = "0001" }\n'
    assert own in text
    config.write_text(text.replace(own, states), encoding="utf-8")
    done = bench(
        "run", "--profile", "tiny", "--quick", "--no-cold", "--no-load", "--no-progress",
        "--scenario", "books_by_author", "--database", "example_index_only", cwd=project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return project, results.load(project / "results" / results.LATEST)


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, results.Results]:
    return run_with_states(tmp_path_factory.mktemp("index_only"), BEFORE_WITHOUT_THE_INDEX)


def test_both_cost_copies_are_in_their_own_state(measured: tuple[Path, results.Results]) -> None:
    _, run = measured
    assert [(s.state, s.status, s.migrations) for s in run.states] == [
        ("before", "ok", ('DROP INDEX "book_author_published_idx"',)),
        ("after", "ok", ()),
    ]
    costs = run.costs
    assert costs is not None
    assert costs.ok
    assert {s.table for s in (*costs.sizes_before, *costs.sizes_after)} == {"catalog_book"}
    assert INDEX not in {s.relation for s in costs.sizes_before}
    assert INDEX in {s.relation for s in costs.sizes_after}
    # Everything else on the table is the same in both.
    assert {s.relation for s in costs.sizes_after} - {s.relation for s in costs.sizes_before} == {INDEX}


def test_writes_into_the_index_s_table_are_paired_in_both_states(
    measured: tuple[Path, results.Results],
) -> None:
    _, run = measured
    assert run.costs is not None
    assert Counter((w.table, w.method, w.state) for w in run.costs.writes) == {
        ("catalog_book", method, state): WRITE_REPETITIONS
        for method in ("copy", "orm_create")
        for state in ("before", "after")
    }


def test_the_index_build_and_its_drop_are_timed_like_a_migration(
    measured: tuple[Path, results.Results],
) -> None:
    _, run = measured
    assert run.costs is not None
    migrations = run.costs.migrations
    assert Counter((m.migration, m.variant, m.direction) for m in migrations) == {
        (f"CREATE INDEX {INDEX}", variant, direction): REPETITIONS
        for variant in ("plain", "concurrent")
        for direction in ("forward", "backward")
    }
    locks = {(m.variant, m.direction): m.lock for m in migrations}
    assert locks == {
        ("plain", "forward"): "SHARE",  # CREATE INDEX
        ("plain", "backward"): "ACCESS EXCLUSIVE",  # DROP INDEX
        ("concurrent", "forward"): "SHARE UPDATE EXCLUSIVE",
        ("concurrent", "backward"): "SHARE UPDATE EXCLUSIVE",
    }
    for m in migrations:
        assert m.table == "catalog_book"
        assert m.invalid_indexes == ()
        assert m.writes_during >= 1
        assert [s.sql.split(" ", 3)[:3] for s in m.statements] in (
            [["CREATE", "INDEX", INDEX]],
            [["CREATE", "INDEX", "CONCURRENTLY"]],
            [["DROP", "INDEX", f'"{INDEX}"']],
            [["DROP", "INDEX", "CONCURRENTLY"]],
        )


def test_the_report_shows_the_index_s_cost(measured: tuple[Path, results.Results]) -> None:
    project, _ = measured
    done = bench("report", cwd=project)
    assert done.returncode == 0, done.stderr
    text = (project / "report" / "PERFORMANCE_BASELINE_REPORT.md").read_text(encoding="utf-8")
    assert "No cost measurements" not in text
    assert f"- **CREATE INDEX {INDEX}** (table `catalog_book`)" in text
    assert "  - the same with `CREATE INDEX CONCURRENTLY` / `DROP INDEX CONCURRENTLY`: " in text


AFTER_SWAPS_AN_INDEX = """
[states.after]
drop_indexes = ["book_author_published_idx"]
create_indexes = ["CREATE INDEX author_country_idx ON catalog_author (country)"]
"""


def test_an_index_the_after_state_drops_is_timed_as_a_drop_and_one_it_creates_as_a_build(
    tmp_path: Path,
) -> None:
    _, run = run_with_states(tmp_path, AFTER_SWAPS_AN_INDEX)
    costs = run.costs
    assert costs is not None
    assert costs.ok
    before = {(s.table, s.relation) for s in costs.sizes_before}
    after = {(s.table, s.relation) for s in costs.sizes_after}
    assert before - after == {("catalog_book", INDEX)}
    assert after - before == {("catalog_author", "author_country_idx")}
    assert {(w.table, w.state) for w in costs.writes} == {
        (table, state) for table in ("catalog_author", "catalog_book") for state in ("before", "after")
    }
    locks = {(m.migration, m.table, m.variant, m.direction): m.lock for m in costs.migrations}
    create, drop = "CREATE INDEX author_country_idx", f"DROP INDEX {INDEX}"
    assert locks == {
        (create, "catalog_author", "plain", "forward"): "SHARE",
        (create, "catalog_author", "plain", "backward"): "ACCESS EXCLUSIVE",
        (create, "catalog_author", "concurrent", "forward"): "SHARE UPDATE EXCLUSIVE",
        (create, "catalog_author", "concurrent", "backward"): "SHARE UPDATE EXCLUSIVE",
        (drop, "catalog_book", "plain", "forward"): "ACCESS EXCLUSIVE",  # the drop goes from before to after
        (drop, "catalog_book", "plain", "backward"): "SHARE",  # its rollback rebuilds the index
        (drop, "catalog_book", "concurrent", "forward"): "SHARE UPDATE EXCLUSIVE",
        (drop, "catalog_book", "concurrent", "backward"): "SHARE UPDATE EXCLUSIVE",
    }
    assert Counter(m.migration for m in costs.migrations) == {create: 4 * REPETITIONS, drop: 4 * REPETITIONS}
    assert all(m.invalid_indexes == () for m in costs.migrations)
