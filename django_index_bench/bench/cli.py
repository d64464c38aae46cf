"""`bench`: only wiring. Each subcommand lives in bench/commands/."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

import psycopg

from django_index_bench.bench import __version__
from django_index_bench.bench.commands import discover
from django_index_bench.bench.errors import UsageError
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
    try:
        status: int = args.handle(args)
    except (UsageError, SeedInputError) as exc:
        # seed/ knows nothing of bench, so its input errors are turned into ours here, at the edge.
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    except psycopg.OperationalError as exc:
        print(f"bench: error: database unreachable: {first_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    return status


def run() -> None:
    raise SystemExit(main())


if __name__ == "__main__":
    run()
