"""`bench`: only wiring. Each subcommand lives in bench/commands/.

Only the chosen subcommand's module is imported: each pulls in its own share of Django, psycopg, numpy
and the harness (up to a second or more of imports), and `bench run` has no use for what `bench report`
or `bench compare` import. Everything is imported only for the top-level help, which lists them all.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import pkgutil
import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import NoReturn

from django_index_bench.bench import __version__, commands
from django_index_bench.bench.commands import Command, discover
from django_index_bench.bench.errors import Terminated, UsageError


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (what is wrong and where to read more), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _names() -> list[str]:
    """Every subcommand's name (its module's), without importing any of them."""
    return sorted(m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_"))


def _chosen(argv: Sequence[str] | None, names: list[str]) -> Command | None:
    """The subcommand argv names, imported alone; None when argv names none (then all are imported, for
    the help that lists them). bench's own options (--help, --version) take no value, so the subcommand,
    when there is one, is the first argument."""
    if not argv or argv[0] not in names:
        return None
    module = importlib.import_module(f"{commands.__name__}.{argv[0]}")
    return Command(module.NAME, module.HELP, module.add_arguments, module.handle)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for argv (default: every subcommand's arguments): the subcommand argv names is the only
    one whose module is imported; the others are still its choices, so a wrong name is refused as before."""
    names = _names()
    chosen = _chosen(argv, names)
    loaded = {command.name: command for command in (discover() if chosen is None else [chosen])}
    parser = Parser(
        prog="bench",
        description="Seed PostgreSQL, measure a Django change before and after, and report it.",
        epilog="The database is DATABASE_URL when set, else an embedded PostgreSQL the harness starts.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in names:
        command = loaded.get(name)
        if command is None:  # another subcommand than the one argv chose: never parsed
            subparsers.add_parser(name)
            continue
        sub = subparsers.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(sub)
        sub.set_defaults(handle=command.handle)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    with contextlib.suppress(ValueError):  # ValueError: not the main thread (main() called by a test)
        signal.signal(signal.SIGTERM, _terminate)
    try:
        status: int = args.handle(args)
    except UsageError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    except Terminated:
        print("bench: terminated; cleaned up", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        line = _input_error(exc)
        if line is None:
            raise
        print(line, file=sys.stderr)
        return 2
    return status


def _input_error(exc: Exception) -> str | None:
    """The one line for an error that is the user's input or an unreachable server, None for any other
    (which goes on up, traceback and all). Imported only here, on the way out: a command that raised one of
    these had imported its module already, so this costs nothing, and a command that never touches seed/
    or psycopg does not pay for their imports."""
    # seed/ knows nothing of bench, so its input errors are turned into ours here, at the edge.
    if "django_index_bench.seed.inputs" in sys.modules:
        from django_index_bench.seed.inputs import SeedInputError

        if isinstance(exc, SeedInputError):
            return f"bench: error: {exc}"
    if "psycopg" in sys.modules:
        import psycopg

        from django_index_bench.bench.pg.db import first_line

        if isinstance(exc, psycopg.OperationalError):
            return f"bench: error: database unreachable: {first_line(exc)}"
    return None


def _terminate(signum: int, frame: FrameType | None) -> None:
    # Ignored from here on: cleaning up must not be cut short by a second SIGTERM (CI sends several).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated


def run() -> None:
    raise SystemExit(main())


if __name__ == "__main__":
    run()
