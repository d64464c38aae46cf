"""The seed option group, defined once and shared by `bench seed` and `bench run`.

`count(name)` and `seed_value` are its argparse types, for commands that pass these options on.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from seed.profiles import DEFAULT_PROFILE, DEFAULT_SEED, LIMITS, MAX_SEED, PROFILES, request_for
from seed.sample import SampleSource


def count(name: str) -> Callable[[str], int]:
    """argparse type of --NAME: a whole number from 1 to the seeder's limit for that table."""
    limit = getattr(LIMITS, name)

    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not 1 <= value <= limit:
            raise argparse.ArgumentTypeError(f"expected 1 to {limit:,}, got {text!r}")
        return value

    parse.__name__ = f"{name} count"
    return parse


def seed_value(text: str) -> int:
    """argparse type of --seed: 0 to MAX_SEED."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected 0 to {MAX_SEED}, got {text!r}")
    return value


def add_seed_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data", "what to seed (the same seed and counts give identical tables)")
    group.add_argument(
        "--profile",
        choices=list(PROFILES),
        default=DEFAULT_PROFILE,
        help="named counts of tenants/people/tracking/journal rows: "
        + "; ".join(
            f"{name}: {c.tenants:,}/{c.people:,}/{c.tracking:,}/{c.journal:,}" for name, c in PROFILES.items()
        )
        + " (default: %(default)s)",
    )
    group.add_argument(
        "--seed", type=seed_value, default=DEFAULT_SEED, help="random seed (default: %(default)s)"
    )
    for name in ("tenants", "people", "tracking", "journal"):
        group.add_argument(
            f"--{name}", type=count(name), metavar="N", help=f"override the profile's {name} count"
        )


def request_from_args(args: argparse.Namespace) -> SampleSource:
    """The sample's source the options describe; SeedInputError when they contradict each other.

    Pure and instant: a command calls it first, so a contradiction (more tenants than people) is
    refused before any work. The CLI turns SeedInputError into a one-line error, exit status 2.
    """
    return SampleSource(
        request_for(
            args.profile,
            args.seed,
            tenants=args.tenants,
            people=args.people,
            tracking=args.tracking,
            journal=args.journal,
        )
    )
