"""Fill a project's tables with deterministic, realistically skewed data, loaded with COPY.

A Source (seed/source.py) says what to load: the sample project's own seeder (seed/sample.py) or a
declarative plan for any Django models (seed/plan.py). seed/load.py loads any source.
seed/ knows nothing about benchmarks and never decides whether a database may be wiped: its caller does.
"""

from __future__ import annotations

from seed.load import SEEDER_VERSION, SeedOutcome, TableLoad, ensure_seeded, fingerprint
from seed.profiles import PROFILES, Counts, SeedInputError, SeedRequest, request_for
from seed.sample import SampleSource
from seed.source import Source

__all__ = [
    "PROFILES",
    "SEEDER_VERSION",
    "Counts",
    "SampleSource",
    "SeedInputError",
    "SeedOutcome",
    "SeedRequest",
    "Source",
    "TableLoad",
    "ensure_seeded",
    "fingerprint",
    "request_for",
]
