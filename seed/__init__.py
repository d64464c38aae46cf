"""Fill the project's tables with deterministic, realistically skewed data, loaded with COPY.

seed/ knows nothing about benchmarks and never decides whether a database may be wiped: its caller does.
"""

from __future__ import annotations

from seed.load import SEEDER_VERSION, SeedOutcome, TableLoad, ensure_seeded, fingerprint
from seed.profiles import PROFILES, Counts, SeedInputError, SeedRequest, request_for

__all__ = [
    "PROFILES",
    "SEEDER_VERSION",
    "Counts",
    "SeedInputError",
    "SeedOutcome",
    "SeedRequest",
    "TableLoad",
    "ensure_seeded",
    "fingerprint",
    "request_for",
]
