"""`bench compare`: two git refs, each in its own worktree and worker processes, and the verdict that
gates a pull request."""
