"""`bench`: only wiring. Each subcommand lives in bench/commands/."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import NoReturn

import psycopg

from django_index_bench.bench import __version__
from django_index_bench.bench.commands import discover
from django_index_bench.bench.errors import Terminated, UsageError
from django_index_bench.bench.pg.db import first_line
from django_index_bench.seed import SeedInputError


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (what is wrong and where to read more), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="bench",
        description="Seed PostgreSQL, measure a Django change before and after, and report it.",
        epilog="The database is DATABASE_URL when set, else an embedded PostgreSQL the harness starts.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in discover():
        sub = subparsers.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(sub)
        sub.set_defaults(handle=command.handle)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with contextlib.suppress(ValueError):  # ValueError: not the main thread (main() called by a test)
        signal.signal(signal.SIGTERM, _terminate)
    try:
        status: int = args.handle(args)
    except (UsageError, SeedInputError) as exc:
        # seed/ knows nothing of bench, so its input errors are turned into ours here, at the edge.
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    except psycopg.OperationalError as exc:
        print(f"bench: error: database unreachable: {first_line(exc)}", file=sys.stderr)
        return 2
    except Terminated:
        print("bench: terminated; cleaned up", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    return status


def _terminate(signum: int, frame: FrameType | None) -> None:
    # Ignored from here on: cleaning up must not be cut short by a second SIGTERM (CI sends several).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated


def run() -> None:
    raise SystemExit(main())


if __name__ == "__main__":
    run()
