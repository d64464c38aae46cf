"""Both refs measured, the best way their harnesses allow: interleaved in worker processes
(gate/interleaved.py) when both speak the worker protocol, else one `bench run` per ref, one after the
other (gate/refs.py), which the output says. Its own module, so refs.py and interleaved.py, which this
chooses between, do not import each other."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from django_index_bench.bench.gate import git as worktree
from django_index_bench.bench.gate import harness
from django_index_bench.bench.gate.interleaved import measure_interleaved
from django_index_bench.bench.gate.refs import (
    NO_REMEASURE_SEQUENTIAL,
    Confirm,
    Log,
    Measured,
    Ref,
    RefSetup,
    Remeasured,
    log_to_stderr,
    measure_sequentially,
)
from django_index_bench.bench.steps.stopwatch import Stopwatch


def has_worker(repo: Path, commit: str) -> bool:
    """Does the harness that measures this commit speak the worker protocol? A commit of this repository
    from before the package brings its own harness (bench/); any other is measured by a harness that does."""

    def has(path: str) -> bool:
        return worktree.git(repo, "cat-file", "-e", f"{commit}:{path}", check=False).returncode == 0

    return not harness.legacy(has) or has("bench/worker.py")


def measure_refs(
    repo: Path,
    base_name: str,
    head_name: str,
    run_args: Sequence[str],
    out: Path,
    setup: RefSetup,
    *,
    keep_databases: bool = False,
    log: Log = log_to_stderr,
    clock: Stopwatch | None = None,
    confirm: Confirm | None = None,
    copies: int | None = None,
) -> tuple[Measured, Measured, Remeasured | None]:
    """Both refs measured; `clock` gets the steps of an interleaved measurement (one ref after the
    other runs each ref's own `bench run`, timed as a whole by the caller). `confirm` names, from the
    first measurement, what to measure again; one ref after the other cannot, and says so."""
    base = Ref("base", base_name, worktree.resolve_ref(repo, base_name))
    head = Ref("head", head_name, worktree.resolve_ref(repo, head_name))
    worktree.reap_scratch(repo)  # what a killed compare left: its checkouts and temporary directory
    old = [ref for ref in (base, head) if not has_worker(repo, ref.commit)]
    if not old:
        return measure_interleaved(
            repo, base, head, run_args, out, setup,
            keep_databases=keep_databases, log=log, clock=clock, confirm=confirm, copies=copies,
        )  # fmt: skip
    log(
        f"{' and '.join(f'{r.role} {r.name} ({r.short})' for r in old)} predates the worker protocol: "
        "measuring one ref after the other, NOT interleaved; drift between the two runs can read as a change"
    )
    measured_base, measured_head = measure_sequentially(
        repo, base, head, run_args, out, setup, keep_databases=keep_databases, log=log
    )
    keys = confirm(measured_base.results, measured_head.results) if confirm is not None else ()
    again = Remeasured(keys, None, None, NO_REMEASURE_SEQUENTIAL) if keys else None
    return measured_base, measured_head, again
