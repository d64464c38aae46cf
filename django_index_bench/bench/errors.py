from __future__ import annotations


class UsageError(Exception):
    """Bad input or a refused operation: printed as one line, exit status 2, nothing changed."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (a CI job cancelled, `kill`), raised like Ctrl-C so every `finally` cleans up: servers
    stopped, copies dropped, worktrees removed. The command then exits 143, as a shell reports it."""
