"""The project's configuration: found from the current directory up, read once, and every mistake in it
(or in what it names) one line with the file, the key and what is expected, exit status 2.

The command-line cases run `bench` in a copy of examples/library with one thing broken, as a user who
got it wrong would."""

from __future__ import annotations

from pathlib import Path

import pytest

from django_index_bench.bench import config
from django_index_bench.bench.config import ConfigError, StateSpec
from tests.cli import REPO, bench
from tests.test_bad_inputs import one_line_error
from tests.test_example_project import example_copy


def test_the_samples_configuration_is_the_file_at_the_top_of_this_repository() -> None:
    project = config.load(start=REPO / "project" / "apps")
    assert project.path == REPO / "bench.toml"
    assert project.settings == "project.settings"
    assert project.pythonpath == (REPO,)
    assert project.before == StateSpec(migrations={"attendance": "0030", "journal": "0015"})
    assert project.after == StateSpec()
    assert project.claims == REPO / "project" / "claims.toml"
    assert project.seed.hook == "project.seeding.source:source"


def test_a_pyproject_table_is_a_configuration(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.django-index-bench]\n'
        'settings = "x.settings"\nscenarios = ["x.bench"]\n'
        '[tool.django-index-bench.seed]\nhook = "x.seeding:source"\n'
        '[tool.django-index-bench.states.before]\ndrop_indexes = ["x_idx"]\n',
        encoding="utf-8",
    )
    (tmp_path / "sub").mkdir()
    project = config.load(start=tmp_path / "sub")
    assert (project.settings, project.scenarios, project.before.drop_indexes) == (
        "x.settings",
        ("x.bench",),
        ("x_idx",),
    )


GOOD = 'settings = "x"\nscenarios = ["x"]\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('settings = "x.settings"\n', r"bench.toml: scenarios: missing; expected the modules"),
        (GOOD + "scenario = 1\n", r"bench.toml: scenario: unknown key; expected one of"),
        ('settings = "x"\nscenarios = "x"\n', r"bench.toml: scenarios: expected a list of non-empty strings"),
        (GOOD + '[seed]\nhook = "x"\n', r"bench.toml: seed.hook: expected 'package.module:function'"),
        (GOOD + '[seed]\nhook = "a:b"\nplan = "bench.toml"\n', r"seed.plan: expected one of .* not both"),
        (GOOD + '[seed]\nplan = "nope.toml"\n', r"bench.toml: seed.plan: no such file"),
        (GOOD + "[states.middle]\n", r"bench.toml: states.middle: unknown state"),
        (GOOD + "[states.before]\nmigrations = { shop = 17 }\n", r"states.before.migrations.shop: expected"),
        ("settings = \n", r"bench.toml: not valid TOML"),
    ],
)
def test_a_bad_configuration_names_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "bench.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        config.load(start=tmp_path)


def test_without_a_configuration_the_error_says_how_to_write_one(tmp_path: Path) -> None:
    done = bench("run", "--profile", "tiny", cwd=tmp_path)
    assert one_line_error(done) == (
        f"bench: error: no bench.toml (or [tool.django-index-bench] in pyproject.toml) in {tmp_path} "
        "or above; write one (README: 'Measure your own project') or pass --config PATH"
    )


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


BROKEN = {
    "missing settings module": ("bench.toml", 'settings = "library.settings"', 'settings = "library.nosuch"'),
    "missing scenarios module": ("bench.toml", '["catalog.bench_scenarios"]', '["catalog.nosuch"]'),
    "unknown app": ("bench.toml", 'catalog = "0001"', 'shelves = "0001"'),
    "unknown migration": ("bench.toml", 'catalog = "0001"', 'catalog = "0099"'),
    "unknown field in the seed plan": ("seed_plan.toml", "fields.pages =", "fields.colour ="),
    "a plan that violates a unique constraint": (
        "seed_plan.toml",
        'fields.isbn = { template = "978{n:010d}" }',
        'fields.isbn = { choices = ["x", "y"] }',
    ),
    "a plan that violates a foreign key": (
        "seed_plan.toml",
        '[models."catalog.Author"]',
        '[models."catalog.Nothing"]',
    ),
}
EXPECTED = {
    "missing settings module": "bench.toml: settings 'library.nosuch': ModuleNotFoundError: "
    "No module named 'library.nosuch'",
    "missing scenarios module": "bench.toml: scenarios: cannot import 'catalog.nosuch': ModuleNotFoundError: "
    "No module named 'catalog.nosuch'",
    "unknown app": "bench.toml: states.before.migrations: unknown app 'shelves'; migrated apps: catalog",
    "unknown migration": "bench.toml: states.before.migrations: app 'catalog' has no migration starting "
    "with '0099'",
    "unknown field in the seed plan": 'seed_plan.toml: models."catalog.Book".fields.colour: unknown field',
    "a plan that violates a unique constraint": 'seed_plan.toml: models."catalog.Book".fields.isbn',
    "a plan that violates a foreign key": "seed_plan.toml: models.",
}


@pytest.mark.parametrize("broken", list(BROKEN))
def test_a_broken_project_is_one_line_and_exit_2_before_any_work(tmp_path: Path, broken: str) -> None:
    project = example_copy(tmp_path)
    name, old, new = BROKEN[broken]
    _edit(project / name, old, new)
    done = bench("run", "--profile", "tiny", "--quick", "--database", "broken_config", cwd=project)
    assert EXPECTED[broken] in one_line_error(done)
    assert not (project / "results").exists()
