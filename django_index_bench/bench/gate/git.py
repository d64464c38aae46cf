"""Git plumbing for `bench compare`: resolve refs and check each out into a throwaway worktree.

The user's working tree, index and current branch are never touched: every ref is checked out with
`git worktree add --detach` into a temporary directory, and removed again however the run ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from django_index_bench.bench.errors import Terminated, UsageError

GIT_TIMEOUT = 120


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(
            ["git", *args], cwd=repo, capture_output=True, text=True, check=False, timeout=GIT_TIMEOUT
        )
    except FileNotFoundError:
        raise UsageError("git is not installed (bench compare needs it)") from None
    if check and done.returncode != 0:
        message = (done.stderr.strip() or done.stdout.strip() or "failed").splitlines()[-1]
        raise UsageError(f"git {' '.join(args)}: {message}")
    return done


def toplevel(path: Path) -> Path:
    """The top of the git repository containing path."""
    if not path.is_dir():
        raise UsageError(f"{path} is not a directory")
    done = git(path, "rev-parse", "--show-toplevel", check=False)
    if done.returncode != 0:
        raise UsageError(f"{path} is not inside a git repository")
    return Path(done.stdout.strip()).resolve()


def resolve_ref(repo: Path, ref: str) -> str:
    """The full commit id a ref names; a one-line error for anything else."""
    if ref.startswith("-"):
        raise UsageError(f"{ref!r} is not a git ref")
    named = _full_names(repo, ref)
    if len(named) > 1:
        raise UsageError(
            f"git ref {ref!r} is ambiguous in {repo}: {' and '.join(named)}; "
            f"name one in full, e.g. {named[0]}"
        )
    done = git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", check=False)
    if done.returncode != 0:
        raise UsageError(f"unknown git ref {ref!r} in {repo}")
    return done.stdout.strip()


def _full_names(repo: Path, ref: str) -> list[str]:
    """The refs a short name could mean, by git's own rules (gitrevisions: refs/NAME, refs/tags/NAME,
    refs/heads/NAME, refs/remotes/NAME, refs/remotes/NAME/HEAD); git takes the first and only warns."""
    candidates = [f"refs/{ref}", f"refs/tags/{ref}", f"refs/heads/{ref}", f"refs/remotes/{ref}"]
    candidates.append(f"refs/remotes/{ref}/HEAD")
    done = git(repo, "for-each-ref", "--format=%(refname)", *candidates, check=False)
    found = set(done.stdout.split())
    return [c for c in candidates if c in found]


def same_paths(repo: Path, base: str, head: str, *pathspecs: str) -> bool:
    """Are these paths identical in both commits?"""
    done = git(repo, "diff", "--quiet", base, head, "--", *pathspecs, check=False)
    if done.returncode not in (0, 1):
        raise UsageError(f"git diff {base[:7]} {head[:7]} failed: {done.stderr.strip()}")
    return done.returncode == 0


def only_added(repo: Path, base: str, head: str, *pathspecs: str) -> bool:
    """Does head only add files under these paths (nothing modified, deleted or renamed)?"""
    done = git(repo, "diff", "--name-only", "--diff-filter=MDRT", base, head, "--", *pathspecs)
    return done.stdout.strip() == ""


def worktrees(repo: Path) -> list[Path]:
    done = git(repo, "worktree", "list", "--porcelain")
    return [
        Path(line[len("worktree ") :]) for line in done.stdout.splitlines() if line.startswith("worktree ")
    ]


SCRATCH_PREFIX = "bench-compare-"


def scratch_prefix() -> str:
    """The prefix of compare's temporary directory: with the owner's pid, so the next compare can tell
    one whose owner was killed (-9, a runner stopped) from one a running compare still uses."""
    return f"{SCRATCH_PREFIX}{os.getpid()}-"


def reap_scratch(repo: Path) -> list[Path]:
    """Remove the temporary directories (and their worktrees of repo) of compares that are gone, saying
    so on stderr; then prune the worktrees git still lists but whose directories are gone."""
    import psutil

    removed = []
    for folder in sorted(Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*")):
        pid = folder.name[len(SCRATCH_PREFIX) :].partition("-")[0]
        if not pid.isdigit() or psutil.pid_exists(int(pid)) or not folder.is_dir():
            continue
        for tree in worktrees(repo):
            if tree.resolve().is_relative_to(folder.resolve()):
                git(repo, "worktree", "remove", "--force", str(tree), check=False)
        shutil.rmtree(folder, ignore_errors=True)
        print(f"bench: removed {folder}, left by compare pid {pid} (no longer running)", file=sys.stderr)
        removed.append(folder)
    git(repo, "worktree", "prune", check=False)
    return removed


@contextlib.contextmanager
def checkout(repo: Path, commit: str, where: Path) -> Iterator[Path]:
    """A detached worktree of commit at where, removed (and pruned) when the block ends, however."""
    git(repo, "worktree", "add", "--detach", "--quiet", str(where), commit)
    try:
        yield where
    finally:
        # --force: the run leaves files (bytecode, results) behind; they are ours to throw away.
        git(repo, "worktree", "remove", "--force", str(where), check=False)
        git(repo, "worktree", "prune", check=False)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM (a CI job cancelled) into KeyboardInterrupt, so `finally` blocks clean up."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one cleanup, not cut short by a second SIGTERM
        raise Terminated

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
