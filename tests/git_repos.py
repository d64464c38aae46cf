"""Real git repositories in temporary folders, for the tests of `bench compare`."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout


def snapshot(repo: Path) -> dict[str, object]:
    """Everything of a user's checkout that compare must leave alone: files, index, branch, worktrees."""
    files = {
        str(p.relative_to(repo)): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }
    return {
        "files": files,
        "index": git(repo, "ls-files", "--stage"),
        "status": git(repo, "status", "--porcelain", "--untracked-files=all"),
        "branch": git(repo, "symbolic-ref", "HEAD"),
        "worktrees": git(repo, "worktree", "list", "--porcelain"),
    }


def project_copy(where: Path) -> Path:
    """This checkout's committed tree as a fresh repository (branch main, one commit) in where/repo."""
    repo = where / "repo"
    repo.mkdir()
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=REPO, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(repo, filter="data")
    git(repo, "init", "--quiet", "--initial-branch", "main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "the project")
    return repo


def branch(repo: Path, name: str, edits: dict[Path, str]) -> None:
    """A branch off main with these files written, committed; the checkout stays on it."""
    git(repo, "checkout", "--quiet", "-b", name, "main")
    for path, text in edits.items():
        (repo / path).write_text(text, encoding="utf-8")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", name)


BROKEN_MIGRATION = "project/apps/attendance/migrations/0032_broken.py"
BROKEN_MIGRATION_TEXT = '''from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    """A migration the database refuses: the column does not exist."""

    dependencies = [("attendance", "0031_add_tracking_performance_indexes")]

    operations = [migrations.RunSQL("CREATE INDEX broken_idx ON tracking (no_such_column)")]
'''
TRACKING = "project/scenarios/tracking.py"
DEVICE_QUERY = 'return Tracking.objects.filter(deviceid=params["deviceid"])'


def failure_branches(repo: Path) -> None:
    """Two branches off main: "broken-migration" adds a migration that fails on the database, and
    "raising-scenario" makes tracking_device's query raise RuntimeError("boom")."""
    branch(repo, "broken-migration", {Path(BROKEN_MIGRATION): BROKEN_MIGRATION_TEXT})
    tracking = (repo / TRACKING).read_text(encoding="utf-8")
    assert tracking.count(DEVICE_QUERY) == 1
    raising = tracking.replace(DEVICE_QUERY, 'raise RuntimeError("boom")\n        ' + DEVICE_QUERY)
    branch(repo, "raising-scenario", {Path(TRACKING): raising})
    git(repo, "checkout", "--quiet", "main")
