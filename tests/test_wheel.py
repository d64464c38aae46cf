"""The built wheel, installed as a user installs it: into a fresh virtual environment, beside a project
whose own apps are called `reports` and `seed`, whose settings package is `project`, and which has a
top-level `bench/` package of its own. The wheel holds one package; nothing of the harness shadows the
project, nothing of the project shadows the harness, and every one of the project's apps is migrated.

The virtual environment gets the harness from the wheel alone (`--no-deps`); its third-party
requirements come from this test environment's site-packages through a `.pth` line, which adds their
folder but runs none of the `.pth` files in it, so this checkout's editable install stays out of it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import psycopg
import pytest

from django_index_bench.bench import results
from django_index_bench.bench.pg import server as embedded
from tests.cli import REPO
from tests.git_repos import git

EXAMPLE = REPO / "examples" / "library"
DATABASE = "wheel_user_project"
TIMEOUT = 900
# An app of the user's named like a harness package, with a model and a migration of its own.
APP_MODELS = """from django.db import models


class {model}(models.Model):
    name = models.CharField(max_length=50)
"""
APP_MIGRATION = """from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []
    operations = [
        migrations.CreateModel(
            name="{model}",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=50)),
            ],
        ),
    ]
"""
USER_APPS = {"reports": "Report", "seed": "Seedling"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(REPO)],
        capture_output=True, text=True, check=False, timeout=TIMEOUT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (built,) = out.glob("django_index_bench-*.whl")
    return built


def test_the_wheel_holds_one_package_and_its_templates(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/", 1)[0] for n in names} == {
        "django_index_bench",
        wheel.name.split("-py3")[0] + ".dist-info",
    }
    assert "django_index_bench/reports/templates/report.md.j2" in names
    assert "django_index_bench/py.typed" in names
    assert not [n for n in names if n.startswith(("django_index_bench/project", "project/", "tests/"))]


def user_project(where: Path) -> Path:
    """examples/library with its settings package renamed `project`, two apps named `reports` and
    `seed`, and a `bench/` package of its own, as a git repository."""
    repo = where / "user"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("__pycache__", "results", "report"))
    (repo / "library").rename(repo / "project")
    settings = (repo / "project" / "settings.py").read_text(encoding="utf-8")
    settings = settings.replace('ROOT_URLCONF = "library.urls"', 'ROOT_URLCONF = "project.urls"')
    settings = settings.replace(
        'INSTALLED_APPS = ["catalog"]', 'INSTALLED_APPS = ["catalog", "reports", "seed"]'
    )
    (repo / "project" / "settings.py").write_text(settings, encoding="utf-8")
    toml = (repo / "bench.toml").read_text(encoding="utf-8")
    (repo / "bench.toml").write_text(
        toml.replace('"library.settings"', '"project.settings"'), encoding="utf-8"
    )
    for app, model in USER_APPS.items():
        (repo / app / "migrations").mkdir(parents=True)
        (repo / app / "__init__.py").touch()
        (repo / app / "migrations" / "__init__.py").touch()
        (repo / app / "models.py").write_text(APP_MODELS.format(model=model), encoding="utf-8")
        (repo / app / "migrations" / "0001_initial.py").write_text(
            APP_MIGRATION.format(model=model), encoding="utf-8"
        )
    (repo / "bench").mkdir()
    (repo / "bench" / "__init__.py").write_text('raise ImportError("the project\'s own bench package")\n')
    (repo / "bench" / "cli.py").write_text("")
    git(repo, "init", "--quiet", "--initial-branch", "main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "the user's project")
    return repo


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed; returns its bin/ folder."""
    env = tmp_path_factory.mktemp("venv") / "env"
    venv.EnvBuilder(with_pip=False).create(env)
    python = env / "bin" / "python"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet", str(wheel)],
        capture_output=True, text=True, check=False, timeout=TIMEOUT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    (Path(site) / "requirements-from-tests.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env / "bin"


def run(bin_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    environment["PATH"] = f"{bin_dir}{os.pathsep}{environment.get('PATH', '')}"
    return subprocess.run(
        [str(bin_dir / "bench"), *args], cwd=cwd, env=environment,
        capture_output=True, text=True, check=False, timeout=TIMEOUT,
    )  # fmt: skip


def test_the_harness_comes_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(installed / "python"), "-c", "import django_index_bench as p; print(p.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert Path(done.stdout.strip()).is_relative_to(installed.parent)


def test_seed_run_report_and_compare_beside_a_project_with_the_same_names(
    installed: Path, tmp_path: Path, server_url: str
) -> None:
    repo = user_project(tmp_path)
    seeded = run(installed, repo, "seed", "--profile", "tiny", "--database", DATABASE, "--no-progress")
    assert seeded.returncode == 0, seeded.stderr
    with psycopg.connect(embedded.with_database(server_url, DATABASE)) as conn:
        applied = {r[0] for r in conn.execute("SELECT DISTINCT app FROM django_migrations").fetchall()}
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"catalog", "reports", "seed"} <= applied
    assert {"reports_report", "seed_seedling", "catalog_book"} <= tables

    measured = run(
        installed, repo, "run", "--profile", "tiny", "--quick", "--no-cold", "--no-costs", "--no-progress",
        "--database", DATABASE,
    )  # fmt: skip
    assert measured.returncode == 0, measured.stderr
    latest = results.load(repo / "results" / results.LATEST)
    assert {m.scenario for m in latest.measurements} == {"books_by_author", "books_in_genre"}
    assert all(m.ok for m in latest.measurements)

    reported = run(installed, repo, "report")
    assert reported.returncode == 0, reported.stderr
    assert (repo / "report" / "PERFORMANCE_BASELINE_REPORT.md").is_file()

    out = tmp_path / "comparison"
    compared = run(
        installed, repo, "compare", "main", "main", "--profile", "tiny", "--quick",
        "--scenario", "books_by_author", "--output", str(out),
    )  # fmt: skip
    assert compared.returncode == 0, compared.stderr
    assert (out / "COMPARISON.md").is_file()
