"""The bursts of a load run, in the order they run: levels, then pairs; the two sides of an endpoint
back to back in each pair, their order alternating A B, B A (from a seeded first side) so that drift
and warm-up effects hit both sides alike."""

from __future__ import annotations

import random
from dataclasses import dataclass

from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.load.endpoints import Endpoint

# Beyond these a typo is likelier than a plan: 2 cores cannot drive more, and bursts add up.
MAX_USERS = 1_000
MAX_PAIRS = 50
MAX_ROUNDS = 100
# The write-up's `ab -n 1000 -c 100`: 1000 requests from 100 concurrent clients (10 each).
AB_PRESET = (100, 10)
DEFAULT_LEVELS = (1, 10, 100)
DEFAULT_PAIRS = 3
DEFAULT_ROUNDS = 3
QUICK_LEVELS = (1, 10)
QUICK_PAIRS = 2
MIN_REQUESTS = 20  # per burst: a p95 needs a few dozen latencies


@dataclass(frozen=True)
class Burst:
    id: int
    endpoint: str
    side: str
    users: int
    requests: int
    pair: int
    first: bool


def check_levels(levels: tuple[int, ...]) -> tuple[int, ...]:
    if not levels:
        raise UsageError("give at least one concurrency level")
    for users in levels:
        if not 1 <= users <= MAX_USERS:
            raise UsageError(f"concurrency must be 1..{MAX_USERS} users, got {users}")
    return tuple(sorted(set(levels)))


def check_counts(pairs: int, rounds: int) -> None:
    if not 1 <= pairs <= MAX_PAIRS:
        raise UsageError(f"--pairs must be 1..{MAX_PAIRS}, got {pairs}")
    if not 1 <= rounds <= MAX_ROUNDS:
        raise UsageError(f"--rounds must be 1..{MAX_ROUNDS}, got {rounds}")


def requests_per_burst(users: int, rounds: int, min_requests: int = MIN_REQUESTS) -> int:
    return max(users * rounds, min_requests)


def plan(
    endpoints: tuple[Endpoint, ...],
    levels: tuple[int, ...],
    *,
    pairs: int,
    rounds: int,
    seed: int,
    min_requests: int = MIN_REQUESTS,
) -> list[Burst]:
    first = random.Random(seed).randrange(2)
    bursts: list[Burst] = []
    for users in levels:
        requests = requests_per_burst(users, rounds, min_requests)
        for pair in range(pairs):
            for endpoint in endpoints:
                sides = endpoint.sides if (pair + first) % 2 == 0 else endpoint.sides[::-1]
                for position, side in enumerate(sides):
                    bursts.append(
                        Burst(len(bursts), endpoint.name, side, users, requests, pair, position == 0)
                    )
    return bursts
