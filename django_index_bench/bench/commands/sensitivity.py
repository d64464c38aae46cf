"""`bench sensitivity`: how small a slowdown this machine can see right now, per scenario class.

A/A trials (the same code and state on both sides) give the false-alarm rate; trials with a known
slowdown injected into one side give the detection rate. Nothing of the project is changed: the trials
run on a copy of the seeded data, dropped afterwards.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from django_index_bench.bench import results
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.options import (
    add_config_argument,
    add_database_arguments,
    positive_int,
    project_config,
    seconds,
    threshold,
    writable_dir,
)
from django_index_bench.bench.pg import clones, db
from django_index_bench.bench.pg import run_lock as locks
from django_index_bench.bench.results import Sensitivity, SensitivityKind
from django_index_bench.bench.rounds.schedule import Rules
from django_index_bench.bench.seeding import add_seed_arguments, check_args, source_from_args
from django_index_bench.bench.steps.sensitivity import SLOWDOWNS
from django_index_bench.verdicts.defaults import DEFAULT_ALPHA, DEFAULT_THRESHOLD

NAME = "sensitivity"
HELP = "Measure the false-alarm rate and the smallest slowdown this machine detects, per scenario class."
OUTPUT = Path("results") / "sensitivity.json"
KINDS: dict[str, tuple[SensitivityKind, ...]] = {"orm": ("orm",), "db": ("db",), "both": ("orm", "db")}


def _slowdowns(text: str) -> tuple[float, ...]:
    try:
        values = tuple(sorted({float(p.strip().rstrip("%")) / 100 for p in text.split(",")}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected percentages like 2,5,10,20, got {text!r}") from None
    if not values or not all(0 < v <= 1 for v in values):
        raise argparse.ArgumentTypeError(f"each slowdown must be above 0% and at most 100%, got {text!r}")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    add_seed_arguments(parser)
    add_database_arguments(parser)
    parser.add_argument(
        "--slowdowns", type=_slowdowns, default=SLOWDOWNS, metavar="PCTS",
        help="injected slowdowns, as percentages of the median (default: 2,5,10,20)",
    )  # fmt: skip
    parser.add_argument("--trials", type=positive_int, default=10, help="trials per slowdown (default: 10)")
    parser.add_argument(
        "--kind", choices=list(KINDS), default="both",
        help="inject into Python time (orm), database time (db) or both (default: both)",
    )  # fmt: skip
    parser.add_argument(
        "--seconds", type=seconds, default=1.0, help="time budget of one trial (default: %(default)s)"
    )
    parser.add_argument(
        "--threshold", type=threshold, default=DEFAULT_THRESHOLD, metavar="PCT",
        help="the verdict rule's smallest change, as in bench run and report (default: "
        f"{DEFAULT_THRESHOLD * 100:g}%%)",
    )  # fmt: skip
    parser.add_argument(
        "--output", type=Path, default=OUTPUT, help="where the trials go (default: %(default)s)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress lines")


def handle(args: argparse.Namespace) -> int:
    from django_index_bench.bench.scenarios import load
    from django_index_bench.bench.steps import sensitivity
    from django_index_bench.bench.steps.run import prepare, select
    from django_index_bench.bench.steps.states import resolve_states, schema_state
    from django_index_bench.bench.steps.timed import draw

    output: Path = args.output
    if output.is_dir():
        raise UsageError(f"--output {output} is a directory; give a file name")
    writable_dir(output.parent, option="--output")
    project = project_config(args)
    check_args(project, args)
    target = db.resolve(args.database)
    db.guard(target, allow_foreign=args.allow_foreign_database)
    db.setup_django(target, project)
    states = resolve_states(project.before, project.after, where=f"{project.path}: states")
    source = source_from_args(project, args, schema_state(states[0]))
    scenarios = select(load(project.scenarios), ())
    with locks.hold(
        clones.maintenance_url(target), target.name, purpose="bench sensitivity", wait=not args.no_wait
    ):
        prepare(target, source, states[0], force=False, progress=not args.no_progress, project=project)
        cases, _ = draw(scenarios, None)
        found = sensitivity.on_copy(
            target, states[-1], scenarios, cases, Rules(seconds=args.seconds), clones.run_tag(),
            slowdowns=args.slowdowns, kinds=KINDS[args.kind], trials=args.trials,
            threshold=args.threshold, alpha=DEFAULT_ALPHA,
            progress=(lambda text: None) if args.no_progress else _progress,
        )  # fmt: skip
    results.write_atomic(output, results.sensitivity_json(found))
    for line in table(found):
        print(line)
    print(f"sensitivity: {output}")
    return 0


def _progress(text: str) -> None:
    print(f"bench sensitivity: {text}", file=sys.stderr, flush=True)


def table(found: Sensitivity) -> list[str]:
    lines = [f"{'class':<12}{'scenario':<34}{'kind':<6}{'slowdown':>9}{'flagged':>10}{'median ratio':>14}"]
    for lv in found.levels:
        ratio = f"{sorted(lv.ratios)[len(lv.ratios) // 2]:.3f}" if lv.ratios else "-"
        flagged = f"{lv.flagged}/{lv.trials}" if lv.trials else lv.note
        label = f"{lv.scenario}[{lv.case}]"
        lines.append(
            f"{lv.scenario_class:<12}{label:<34}{lv.kind:<6}{lv.slowdown:>9.0%}{flagged:>10}{ratio:>14}"
        )
    for cls in dict.fromkeys(lv.scenario_class for lv in found.levels):
        for kind in dict.fromkeys(lv.kind for lv in found.levels):
            smallest = found.detectable(cls, kind)
            words = f"{smallest:.0%}" if smallest is not None else "none of the injected slowdowns"
            lines.append(f"{cls}, {kind}: smallest slowdown flagged in at least 90% of trials: {words}")
    return lines
