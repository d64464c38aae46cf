"""`bench compare BASE HEAD`: measure two git refs (or read two results files) and gate regressions.

Exit status: 0 no regression, 1 a regression (a measurement or state that failed or is missing in
HEAD, a deterministic metric that got worse, or a timing significant and beyond --threshold, and, when
the refs were measured here, slower again on a second measurement), 2 bad input. Every option is
checked before any worktree is made: a typo must not cost a measuring run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from django_index_bench.bench import results
from django_index_bench.bench.config import ProjectConfig
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.gate import git as worktree
from django_index_bench.bench.gate import harness
from django_index_bench.bench.gate import refs as compare_refs
from django_index_bench.bench.gate.measure import measure_refs
from django_index_bench.bench.gate.refs import Confirm, Key, Measured, Remeasured
from django_index_bench.bench.options import (
    add_config_argument,
    add_no_confirm_argument,
    alpha,
    copies,
    seconds,
    threshold,
    writable_dir,
)
from django_index_bench.bench.results import Results
from django_index_bench.bench.rounds.copies import MAX_COPIES, MIN_COPIES, SMALL_DATABASE_BYTES
from django_index_bench.bench.seeding import add_seed_arguments, check_options, rows_from_args
from django_index_bench.bench.steps import stopwatch
from django_index_bench.seed.inputs import DEFAULT_SEED
from django_index_bench.verdicts import confirm as confirming
from django_index_bench.verdicts import gate, load_gate, words
from django_index_bench.verdicts.defaults import DEFAULT_ALPHA, DEFAULT_THRESHOLD

NAME = "compare"
HELP = "Compare two git refs (measured now) or two results files, and exit 1 on a regression."
DEFAULT_OUTPUT = Path("comparison")
JSON_NAME = "comparison.json"
Inputs = tuple[gate.Source, gate.Source, Results, Results]

# What was done about timing regressions before failing, as comparison.json and COMPARISON.md say it.
CONFIRM_DONE = (
    "each timing regression was measured a second time, on fresh database copies by fresh worker "
    "processes, and stands only if the second measurement agrees (slower again, significantly)"
)
CONFIRM_NONE = "no timing regression to measure again"
CONFIRM_OFF = "turned off (--no-confirm): a timing regression stands on one measurement"
CONFIRM_FILES = (
    "compared from results files: nothing is measured again, a timing regression stands on one measurement"
)


def _seed_dests() -> tuple[str, ...]:
    """The options add_seed_arguments defines (profile, seed, counts), read off a scratch parser so
    the list is never written out twice."""
    probe = argparse.ArgumentParser(add_help=False)
    add_seed_arguments(probe)
    return tuple(vars(probe.parse_args([])))


# Passed through to `bench run` in each ref, and only when the user gave them: a ref's `bench run`
# applies its own defaults otherwise.
SEED_DESTS = _seed_dests()


class _HelpFormatter(argparse.HelpFormatter):
    """The seed options default to None here (only what the user gives is passed on): say so rather
    than print "(default: None)"."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.help and action.dest in SEED_DESTS:
            return action.help.replace("%(default)s", "that of each ref's `bench run`")
        return action.help


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = _HelpFormatter
    parser.add_argument(
        "base",
        metavar="BASE",
        help="a git ref of the repository, or a results .json file; alone, a ref whose merge base with "
        "HEAD is compared against HEAD (`bench compare main` in a feature branch)",
    )
    parser.add_argument(
        "head",
        metavar="HEAD",
        nargs="?",
        default=None,
        help="a git ref of the repository, or a results .json file (default: HEAD, against the merge "
        "base of BASE and HEAD)",
    )
    parser.add_argument(
        "--threshold",
        type=threshold,
        default=DEFAULT_THRESHOLD,
        metavar="PCT",
        help="a timing change smaller than this is no change; also the tolerance on shared buffers "
        f"(default: {DEFAULT_THRESHOLD:.0%}%)",  # %% for argparse,
    )
    parser.add_argument(
        "--alpha",
        type=alpha,
        default=DEFAULT_ALPHA,
        help="significance level over all timed comparisons, Bonferroni-corrected (default: %(default)s)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        metavar="DIR",
        help="where COMPARISON.md, comparison.json, its chart and both results files go "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--export",
        action="store_true",
        help="also write each side as pytest-benchmark JSON and Bencher Metric Format in --output "
        "(base.pytest-benchmark.json, base.bmf.json, head.*), for tools that keep benchmark history",
    )
    _add_run_arguments(parser)


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
    add_seed_arguments(parser)  # the same types and checks as `bench run`; both refs get the same data
    parser.set_defaults(**dict.fromkeys(SEED_DESTS))
    runs = parser.add_argument_group("when BASE and HEAD are git refs")
    add_config_argument(runs)  # type: ignore[arg-type]
    runs.add_argument(
        "--repo",
        type=Path,
        default=None,
        metavar="DIR",
        help="the git repository to benchmark (default: the one containing the current directory)",
    )
    runs.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="NAME",
        help="measure only this scenario (repeatable)",
    )
    timing = runs.add_mutually_exclusive_group()
    timing.add_argument(
        "--seconds",
        type=seconds,
        default=None,
        help="time budget of one item (a scenario's case and side, both refs paired), once it has its "
        "minimum of pairs (default: that of bench run)",
    )
    timing.add_argument(
        "--quick", action="store_true", help="a few rounds only (for tests; timings say little)"
    )
    runs.add_argument(
        "--copies",
        type=copies,
        default=None,
        metavar="N",
        help=f"database copies per ref and state, {MIN_COPIES} to {MAX_COPIES}, the workers spread over them "
        f"(default: {MAX_COPIES} when the seeded data is at most {SMALL_DATABASE_BYTES // 1024**2} MB, else "
        f"{MIN_COPIES})",
    )
    add_no_confirm_argument(runs, what="fail on a timing regression (slower, end to end or in database time)")
    runs.add_argument(
        "--keep-databases",
        action="store_true",
        help="keep the seeded databases and their copies per state (bench_cmp_<tag>_*) afterwards",
    )


def _is_results_file(arg: str) -> bool:
    return arg.endswith(".json") or Path(arg).is_file()


def run_args(args: argparse.Namespace) -> list[str]:
    out: list[str] = []
    for dest in SEED_DESTS:
        value = getattr(args, dest)
        if dest == "rows":
            out += [arg for table, rows in value or () for arg in ("--rows", f"{table}={rows}")]
        elif value is not None:
            out += [f"--{dest}", str(value)]
    for name in args.scenario:
        out += ["--scenario", name]
    if args.quick:
        out.append("--quick")
    if args.seconds is not None:
        out += ["--seconds", str(args.seconds)]
    return out


def _check_seed_request(args: argparse.Namespace, repo: Path) -> ProjectConfig | None:
    """The project's configuration in this checkout, and the seed options checked against its seeder:
    they may each be fine and still contradict (a profile the plan lacks, counts the seeder refuses).
    None for a repository with a harness of its own from before configuration (this project's older
    commits): its refs' commands need none."""
    from django_index_bench.bench import config

    cwd = Path.cwd().resolve()
    start = cwd if cwd.is_relative_to(repo) else repo
    legacy = harness.legacy(harness.in_tree(repo))
    if args.config is None and config.find(start) is None and legacy:
        return None
    project = config.load(args.config, start=start)
    rows = rows_from_args(argparse.Namespace(**{**vars(args), "rows": args.rows or []}))
    check_options(project, args.profile, DEFAULT_SEED if args.seed is None else args.seed, rows)
    return project


def _refuse_directories(*args: str) -> None:
    for arg in args:
        if arg.endswith(".json") and Path(arg).is_dir():
            raise UsageError(f"{arg} is a directory, not a results file")


def _from_files(args: argparse.Namespace) -> Inputs:
    if (
        run_args(args)
        or args.repo is not None
        or args.keep_databases
        or args.config is not None
        or args.no_confirm
        or args.copies is not None
    ):
        raise UsageError(
            "--repo, --config, --copies, --no-confirm and the run options only apply when BASE and HEAD "
            "are git refs"
        )
    base_path, head_path = Path(args.base), Path(args.head)
    base, head = gate.load_pair(base_path, head_path)
    writable_dir(args.output)
    base_source = gate.Source(args.base, base.environment.git_commit, base.run_id, str(base_path))
    head_source = gate.Source(args.head, head.environment.git_commit, head.run_id, str(head_path))
    return base_source, head_source, base, head


def _compare(args: argparse.Namespace, inputs: Inputs) -> gate.RefComparison:
    base_source, head_source, base, head = inputs
    return gate.compare(
        base, head, base_source=base_source, head_source=head_source,
        threshold=args.threshold, alpha=args.alpha,
    )  # fmt: skip


def _sources(args: argparse.Namespace, base: Measured, head: Measured) -> Inputs:
    return (
        gate.Source(args.base, base.ref.commit, base.results.run_id, str(base.path)),
        gate.Source(args.head, head.ref.commit, head.results.run_id, str(head.path)),
        base.results,
        head.results,
    )


def _keys_to_confirm(args: argparse.Namespace) -> Confirm:
    """From the first measurement, what to measure again: the rows whose timing regressed."""

    def keys(base: Results, head: Results) -> tuple[Key, ...]:
        first = gate.compare(
            base, head, base_source=gate.Source(args.base, None, base.run_id),
            head_source=gate.Source(args.head, None, head.run_id),
            threshold=args.threshold, alpha=args.alpha,
        )  # fmt: skip
        return confirming.to_confirm(first)

    return keys


def _confirmed(
    args: argparse.Namespace, first: gate.RefComparison, again: Remeasured | None
) -> gate.RefComparison:
    """The first comparison, its timing regressions confirmed or not by the second measurement."""
    if args.no_confirm:
        return confirming.unconfirmed(first, CONFIRM_OFF)
    if again is None or not again.keys:
        return confirming.unconfirmed(first, CONFIRM_NONE)
    second = None
    if again.base is not None and again.head is not None:
        second = _compare(args, _sources(args, again.base, again.head))
    return confirming.confirm(first, second, error=again.error, note=CONFIRM_DONE)


def _from_refs(args: argparse.Namespace, watch: stopwatch.Stopwatch) -> tuple[Inputs, Remeasured | None]:
    repo = worktree.toplevel((args.repo or Path.cwd()).resolve())
    for ref in (args.base, args.head):
        worktree.resolve_ref(repo, ref)  # an unknown ref is refused before --output is made
    project = _check_seed_request(args, repo)
    setup = compare_refs.RefSetup.of(repo, project) if project else compare_refs.RefSetup()
    writable_dir(args.output)
    started = time.perf_counter()
    measured_base, measured_head, again = measure_refs(
        repo, args.base, args.head, run_args(args), args.output, setup,
        keep_databases=args.keep_databases, clock=watch,
        confirm=None if args.no_confirm else _keys_to_confirm(args), copies=args.copies,
    )  # fmt: skip
    # Worktrees, their setup, worker processes, dropping the databases: what no step inside counted
    # (all of the measuring when the refs ran one after the other).
    watch.add("other", time.perf_counter() - started - sum(watch.seconds.values()))
    return _sources(args, measured_base, measured_head), again


def _merge_base(args: argparse.Namespace) -> None:
    """One ref: compare where the branch left it (their merge base) with HEAD, as a pull request does."""
    if _is_results_file(args.base):
        raise UsageError("compare two results files, or give one git ref to compare its merge base with HEAD")
    repo = worktree.toplevel((args.repo or Path.cwd()).resolve())
    worktree.resolve_ref(repo, args.base)
    done = worktree.git(repo, "merge-base", "--end-of-options", args.base, "HEAD", check=False)
    if done.returncode != 0:
        raise UsageError(f"{args.base} and HEAD have no common ancestor in {repo}")
    base = done.stdout.strip()
    print(f"comparing the merge base of {args.base} and HEAD ({base[:7]}) with HEAD")
    args.base, args.head = base, "HEAD"


def handle(args: argparse.Namespace) -> int:
    if args.head is None:
        _merge_base(args)
    _refuse_directories(args.base, args.head)
    files = [_is_results_file(a) for a in (args.base, args.head)]
    if any(files) and not all(files):
        raise UsageError("compare two git refs or two results files, not one of each")
    watch = stopwatch.Stopwatch()
    if all(files):
        inputs = _from_files(args)
        with watch.step("verdicts"):
            outcome = confirming.unconfirmed(_compare(args, inputs), CONFIRM_FILES)
    else:
        inputs, again = _from_refs(args, watch)
        with watch.step("verdicts"):
            outcome = _confirmed(args, _compare(args, inputs), again)
    base, head = inputs[2], inputs[3]
    with watch.step("report"):
        # Imported here: matplotlib is slow to import and only rendering needs it.
        from django_index_bench.reports import comparison as rendering

        written = rendering.render(outcome, args.output)
    results.write_atomic(args.output / JSON_NAME, gate.to_json(outcome, watch.recorded()))
    _print_summary(outcome)
    if args.export:
        from django_index_bench.reports import exports

        for role, measured in (("base", base), ("head", head)):
            for path in exports.write_both(measured, args.output, role):
                print(f"export: {path}")
    if base.load is None or head.load is None:
        # Said, not implied: a gate that is silent about what it did not check passes it.
        missing = " and ".join(role for role, run in (("BASE", base), ("HEAD", head)) if run.load is None)
        print(
            f"load: not compared ({missing} has no load results; ref comparisons measure single calls "
            "only: compare two `bench run` results files for the load gate)"
        )
    print(f"comparison: {written.markdown}")
    print(f"json: {args.output / JSON_NAME}")
    for line in stopwatch.lines(watch.recorded()):
        print(line)
    return gate.exit_status(outcome)


def _print_summary(outcome: gate.RefComparison) -> None:
    for failure in outcome.failed_in("head"):
        print(f"REGRESSION head state {failure.state} ({failure.database}) failed: {failure.error}")
    for row in outcome.with_verdict(words.REGRESSION):
        for finding in row.of(words.REGRESSION):
            print(f"REGRESSION {row.scenario}[{row.case}] {row.side}: {finding.message}")
    for row in outcome.rows:
        if row.confirmation is not None and row.confirmation.outcome == words.NOT_CONFIRMED:
            for finding in row.of(words.CHANGED):
                if finding.metric in confirming.TIMED:
                    print(f"NOT CONFIRMED {row.scenario}[{row.case}] {row.side}: {finding.message}")
    for line in load_gate.lines(outcome.load):
        print(line)
    if not outcome.interleaved:
        print(
            f"timings not interleaved: {outcome.pairing}. Weaker: {gate.UNPAIRED_WEAKNESS}; "
            "a timing counts only beyond this comparison's run-to-run noise"
        )
    counts = {v: len(outcome.with_verdict(v)) for v in (words.REGRESSION, words.IMPROVEMENT, words.UNCHANGED)}
    print(
        f"{counts[words.REGRESSION]} regressed, {counts[words.IMPROVEMENT]} improved, "
        f"{counts[words.UNCHANGED]} unchanged (threshold {outcome.threshold:.0%}, "
        f"{'paired' if outcome.interleaved else 'unpaired'} timings)"
    )
