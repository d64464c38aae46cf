"""`bench suggest`: index candidates from the SQL the scenarios send, each built on a copy of the seeded
data and measured there, ranked by measured benefit against measured cost.

Writes the suggestions file (JSON, the measurements), the markdown rendered from it, and with
--migration a Django migration for the best candidate. Nothing is applied to any database of the user.
Exit status: 0 done (candidates the budget did not cover are listed, not failed), 1 the chosen state,
a scenario or a trial failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from django_index_bench.bench.config import ProjectConfig
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.options import (
    add_config_argument,
    add_database_arguments,
    add_reseed_arguments,
    project_config,
    writable_dir,
)
from django_index_bench.bench.pg import db
from django_index_bench.bench.rounds.schedule import QUICK, Rules
from django_index_bench.bench.seeding import add_seed_arguments, rows_from_args
from django_index_bench.bench.suggest.results import FILE_NAME

if TYPE_CHECKING:
    from django_index_bench.bench.suggest.results import Suggestions

NAME = "suggest"
HELP = "Derive index candidates from the scenarios' SQL and measure each on a copy: reads, writes, build."

DEFAULT_RESULTS = Path("results") / FILE_NAME
DEFAULT_OUTPUT = Path("report") / "SUGGESTIONS.md"
ITEM_SECONDS = 0.5  # per scenario case and trial: the budget is spread over many trials


MAX_BUDGET = 7 * 24 * 3600.0


def _budget(text: str) -> float:
    """argparse type for --seconds: the whole search's budget, above 0 (a week at most)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value <= MAX_BUDGET:
        raise argparse.ArgumentTypeError(f"expected 0 < seconds <= {MAX_BUDGET:g}, got {text!r}")
    return value


def _weight(text: str) -> tuple[str, float]:
    name, sep, number = text.partition("=")
    try:
        value = float(number)
    except ValueError:
        value = -1.0
    if not sep or not name or not value >= 0:
        raise argparse.ArgumentTypeError(f"expected NAME=N with N >= 0, got {text!r}")
    return name, value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    add_seed_arguments(parser)
    parser.add_argument(
        "--state",
        choices=("before", "after"),
        default="after",
        help="the configured state to suggest indexes for (default: %(default)s, the latest migrations)",
    )
    parser.add_argument(
        "--scenario", action="append", default=[], metavar="NAME", help="only this scenario (repeatable)"
    )
    parser.add_argument(
        "--seconds",
        type=_budget,
        default=600.0,
        help="the budget of measuring the candidates (after seeding and one pass of every scenario to "
        "capture its SQL): a trial starts only while what is left covers the longest so far; the "
        "candidates it cannot cover are listed as not measured (default: %(default)s)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a few pairs per case only: checks that all runs"
    )
    parser.add_argument(
        "--weight",
        type=_weight,
        action="append",
        default=[],
        metavar="SCENARIO=N",
        help="calls of this scenario per unit of work, for the ranking (repeatable; default: "
        "[suggest] weights of the configuration, else 1 each)",
    )
    parser.add_argument(
        "--writes",
        type=_weight,
        action="append",
        default=[],
        metavar="TABLE=N",
        help="rows inserted into this table per unit of work, for the ranking (repeatable; default: "
        "[suggest] writes of the configuration, else 1)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=DEFAULT_RESULTS,
        metavar="FILE",
        help="the suggestions file (JSON) to write (default: %(default)s)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        metavar="FILE",
        help="the markdown to write (default: %(default)s)",
    )
    parser.add_argument(
        "--migration",
        type=Path,
        default=None,
        metavar="FILE",
        help="write a Django migration adding the best candidate here (e.g. app/migrations/0003_x.py)",
    )
    parser.add_argument(
        "--candidate",
        action="append",
        default=[],
        metavar="NAME",
        help="the migration adds this candidate (repeatable) instead of the best recommended one",
    )
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        default=None,
        metavar="FILE",
        help="measure nothing: render the report and --migration from this earlier suggestions file",
    )
    parser.add_argument(
        "--plain-migration",
        action="store_true",
        help="the migration uses AddIndex (holds a SHARE lock: writes wait) instead of AddIndexConcurrently",
    )
    add_database_arguments(parser)
    add_reseed_arguments(parser, refuse=False)
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def _check_paths(args: argparse.Namespace) -> None:
    for option, path in (
        ("--results", args.results),
        ("--output", args.output),
        ("--migration", args.migration),
    ):
        if path is None:
            continue
        if path.is_dir():
            raise UsageError(f"{option} {path} is a directory; give a file")
        writable_dir(path.parent, option=option)
    if args.migration is not None and args.migration.suffix != ".py":
        raise UsageError(f"--migration {args.migration}: a migration is a .py file")


def handle(args: argparse.Namespace) -> int:
    from django_index_bench.bench.suggest import results

    _check_paths(args)
    if args.candidate and args.migration is None:
        raise UsageError("--candidate says which candidates --migration FILE adds: give --migration too")
    project = project_config(args)
    if args.source is not None:
        found = results.load(args.source)
        _check_candidates(found, args.candidate)
        # Django only for the models and the migration graph: no database is reached.
        db.setup_django(db.Target("dbname=unused", embedded=False), project)
        found = _with_migration(found, args.migration, args.candidate, concurrent=not args.plain_migration)
        results.save(found, args.results)  # as read, plus the migration it names now
        return _render(args.output, found)
    return _measure(args, project)


def _check_candidates(found: Suggestions, names: list[str]) -> None:
    known = {c.name for c in found.candidates}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"--candidate {unknown[0]}: not a candidate of this search; see its report")


def _measure(args: argparse.Namespace, project: ProjectConfig) -> int:
    from django_index_bench.bench.suggest import results
    from django_index_bench.bench.suggest.search import SearchConfig, search

    if args.candidate:
        raise UsageError("--candidate names a candidate of an earlier search: give it with --from FILE")
    config = SearchConfig(
        project=project,
        profile=args.profile,
        seed=args.seed,
        command="bench " + " ".join(sys.argv[1:]),
        state=args.state,
        rows=rows_from_args(args),
        database=args.database,
        scenarios=tuple(args.scenario),
        budget_s=args.seconds,
        rules=QUICK if args.quick else Rules(seconds=ITEM_SECONDS),
        # The command line adds to (or replaces) the configuration's [suggest] weighing.
        weights={**project.suggest.weights, **dict(args.weight)},
        writes={**project.suggest.writes, **dict(args.writes)},
        allow_foreign=args.allow_foreign_database,
        force_seed=args.force_seed,
        wait=not args.no_wait,
        progress=not args.no_progress,
    )
    found = search(config)
    found = _with_migration(found, args.migration, [], concurrent=not args.plain_migration)
    results.save(found, args.results)
    print(f"suggestions: {args.results}")
    return _render(args.output, found)


def _with_migration(
    found: Suggestions, path: Path | None, names: list[str], *, concurrent: bool
) -> Suggestions:
    """The named candidates, else the best recommended trial's indexes, as a migration at `path`; none
    when nothing is named or recommended."""
    from django_index_bench.bench.suggest import migration, rank

    if path is None:
        return found
    if not names:
        ranked = rank.ranking(found.trials, found.weights, found.writes)
        best = next((r for r in ranked if r.verdict == "recommended"), None)
        if best is None:
            print("bench: no migration written: no candidate is recommended", file=sys.stderr)
            return found
        names = list(best.trial.indexes)
    by_name = {c.name: c for c in found.candidates}
    chosen = [by_name[name] for name in names]
    note = (
        f"Measured by bench suggest on {found.dataset.profile or 'its'} data; see its report for the figures."
    )
    migration.write(path, migration.render(chosen, concurrent=concurrent, note=note))
    print(f"migration: {path}")
    return dataclasses.replace(found, migration=str(path))


def _render(output: Path, found: Suggestions) -> int:
    from django_index_bench.reports import suggestions

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(suggestions.render(found), encoding="utf-8")
    print(f"report: {output}")
    problems = [f"failed: {e}" for e in found.errors]
    problems += [f"failed: trial {t.label}: {t.reason}" for t in found.trials if t.status == "failed"]
    if not found.trials:
        print("bench: no candidate left to measure (see the report: redundant or none derived)")
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0
