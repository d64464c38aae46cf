"""Real git repositories in temporary folders, for the tests of `bench compare`."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


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
