"""The options more than one command takes: their argparse types and defaults, defined once here.

The seed option group itself (--profile, --seed, --rows) is bench/seeding.py's.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from pathlib import Path

from django_index_bench.bench import config, results
from django_index_bench.bench.config import ProjectConfig
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.rounds.copies import MAX_COPIES, MIN_COPIES
from django_index_bench.seed.inputs import DEFAULT_SEED, MAX_SEED

__all__ = [
    "DEFAULT_SEED",
    "add_no_confirm_argument",
    "alpha",
    "copies",
    "positive_int",
    "seconds",
    "seed",
    "threshold",
    "writable_dir",
]


def seed(text: str) -> int:
    """argparse type of --seed: 0 to MAX_SEED."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected 0 to {MAX_SEED}, got {text!r}")
    return value


def threshold(text: str) -> float:
    """argparse type: '10%' (or a fraction like 0.1) -> 0.1."""
    token = text.strip()
    try:
        value = float(token[:-1]) / 100 if token.endswith("%") else float(token)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a percentage like 10%, got {text!r}") from None
    if not token.endswith("%") and value >= 1:
        raise argparse.ArgumentTypeError(f"a bare number is a fraction below 1; did you mean {text}%?")
    if not 0 <= value < 10:
        raise argparse.ArgumentTypeError(f"expected a threshold between 0% and 1000%, got {text!r}")
    return value


def seconds(text: str) -> float:
    """argparse type: a time budget in seconds, above 0 and at most 600."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError(f"expected 0 < seconds <= 600, got {text!r}")
    return value


def alpha(text: str) -> float:
    """argparse type: a significance level strictly between 0 and 1 (0.05)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number like 0.05, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1 (exclusive), got {text!r}")
    return value


def copies(text: str) -> int:
    """argparse type of --copies: database copies per state, MIN_COPIES to MAX_COPIES."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not MIN_COPIES <= value <= MAX_COPIES:
        raise argparse.ArgumentTypeError(f"must be {MIN_COPIES} to {MAX_COPIES}")
    return value


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1 (underscores allowed: 10_000)."""
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


# PostgreSQL's NAMEDATALEN - 1: a longer name is silently truncated into another database's name.
MAX_NAME_BYTES = 63


def database_name(text: str) -> str:
    """argparse type of --database: a name PostgreSQL keeps as given (not empty, at most 63 bytes)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a database name, got an empty one")
    if "\0" in text or len(text.encode()) > MAX_NAME_BYTES:
        raise argparse.ArgumentTypeError(
            f"expected a database name of at most {MAX_NAME_BYTES} bytes "
            f"(PostgreSQL would cut it short), got {len(text.encode())}"
        )
    return text


def nonempty(text: str) -> str:
    """argparse type of a name (a profile, a scenario): not empty, which would mean the default."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a name, got an empty one")
    return text


def targets(pairs: list[tuple[str, str]], option: str = "--before") -> dict[str, str]:
    """APP=MIGRATION options as a mapping; an app given twice is refused (the last would silently win)."""
    found: dict[str, str] = {}
    for app, migration in pairs:
        if app in found and found[app] != migration:
            raise UsageError(f"{option} {app}= is given twice ({found[app]} and {migration}); give it once")
        found[app] = migration
    return found


def writable_dir(path: Path, *, option: str = "--output") -> None:
    """Fail before any work when `path` cannot be made a directory and written to (UsageError).

    Creates the directory (the command writes there next); when that or the write fails, the
    directories it made are removed again, so a refused command leaves nothing behind.
    """
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path} exists and is not a directory; pass a directory")
    missing = [p for p in (path, *path.parents) if not p.exists()]
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path, prefix=".bench-write-check-"):
            pass
    except OSError as exc:
        for made in missing:  # deepest first
            with contextlib.suppress(OSError):
                made.rmdir()
        raise UsageError(
            f"{option} {path}: cannot create or write this directory ({exc.strerror or exc}); "
            "pass a directory you can write to"
        ) from None


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="PATH",
        help="the project's configuration: a bench.toml, or a pyproject.toml with [tool.django-index-bench] "
        "(default: the nearest one from the current directory up)",
    )


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    """Which database a command seeds, copies or changes, and how it treats one it did not create or one
    another run is using: defined once, so every command that takes them means the same by them."""
    group = parser.add_argument_group("the harness database")
    group.add_argument(
        "--database",
        type=database_name,
        metavar="NAME",
        help="the harness database on the server (created and marked when missing; default: bench, or the "
        "one named in DATABASE_URL)",
    )
    group.add_argument(
        "--allow-foreign-database",
        action="store_true",
        help="allow migrating, wiping and re-seeding a database the harness did not create (destroys its "
        "data)",
    )
    group.add_argument(
        "--no-wait",
        action="store_true",
        help="refuse, instead of waiting, when another run or seed is changing the database",
    )


def add_reseed_arguments(parser: argparse.ArgumentParser, *, refuse: bool = True) -> None:
    """When the data is seeded again. `refuse`: the command can also be told never to re-seed."""
    group = parser.add_argument_group("seeding again")
    group.add_argument(
        "--force-seed",
        action="store_true",
        help="seed again even when the database already holds the data asked for",
    )
    if refuse:
        group.add_argument(
            "--no-reseed",
            action="store_true",
            help="never seed again: when the database holds other data than asked for (another seed, "
            "plan, row counts or schema state), refuse in one line instead of replacing it",
        )


def project_config(args: argparse.Namespace) -> ProjectConfig:
    """The configuration the command line names, read once, at the edge."""
    return config.load(args.config)


def add_results_file_argument(parser: argparse.ArgumentParser) -> None:
    """The results file a command reads, `bench run`'s latest by default (bench report, bench export)."""
    parser.add_argument(
        "results_file",
        metavar="RESULTS.json",
        nargs="?",
        type=Path,
        default=Path("results") / results.LATEST,
        help="the results file `bench run` wrote (default: %(default)s)",
    )


# Why a call is measured again, in both commands' --help: a busy machine's one measurement can call a
# change that is not there.
CONFIRM_HELP = (
    "by default each one is measured a second time, on fresh database copies with fresh connections "
    "(bench compare: fresh worker processes) and another pair order, and stands only if the second "
    "measurement agrees (the same metric, the same direction, significant); this skips that (and its "
    "time) at the price of the false alarms a busy machine gives"
)


def add_no_confirm_argument(parser: argparse.ArgumentParser | argparse._ArgumentGroup, *, what: str) -> None:
    """--no-confirm, defined once for bench run and bench compare: `what` says what a first measurement
    calls in that command ("a timing regression fails the gate")."""
    parser.add_argument(
        "--no-confirm", action="store_true", help=f"{what} on one measurement; {CONFIRM_HELP}"
    )
