"""The sample project's seeder as a Source: tenants, people, tracking and journal (seed/generate.py).

Its rows and fingerprints are those of the seeder before sources existed: results from either side of
that change describe the same data and stay comparable.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from django_index_bench.seed.source import Table
from project.seeding.profiles import SeedInputError, SeedRequest, request_for

# Bump whenever the same request would produce different rows.
# 2: tracking and journal are drawn in chunks of whole minutes, each from its own random stream
#    (seed, table, chunk), after one multinomial draw of rows per minute, so memory stays flat.
SEEDER_VERSION = "2"
# Database tables, parents first, and the Counts field (and --option) of each.
TABLES = {
    "tenants_tenant": "tenants",
    "peoples_people": "people",
    "tracking": "tracking",
    "journal_journalentry": "journal",
}


@dataclass(frozen=True)
class SampleSource:
    request: SeedRequest

    @property
    def seed(self) -> int:
        return self.request.seed

    @property
    def profile(self) -> str | None:
        return self.request.profile

    @property
    def version(self) -> str:
        return SEEDER_VERSION

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(TABLES)

    @property
    def counts(self) -> dict[str, int]:
        return {table: getattr(self.request.counts, name) for table, name in TABLES.items()}

    @property
    def dataset_counts(self) -> dict[str, int]:
        return dataclasses.asdict(self.request.counts)

    def identity(self) -> dict[str, object]:
        return {
            "seeder": "sample",
            "version": SEEDER_VERSION,
            "seed": self.seed,
            "counts": self.dataset_counts,
        }

    def fingerprint(self) -> str:
        """The historical formula: the same request and seeder version give byte-identical tables."""
        text = json.dumps([SEEDER_VERSION, self.seed, self.dataset_counts], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def draw(self) -> list[Table]:
        from project.seeding.generate import tables

        return [*tables(self.request)]

    def with_counts(self, counts: Mapping[str, int]) -> SampleSource:
        """The same seed and population with some tables resized; explicit counts, so no profile."""
        resized = dataclasses.replace(self.request.counts, **_fields(counts))
        return SampleSource(dataclasses.replace(self.request, counts=resized, profile=None))


def _fields(rows: Mapping[str, int]) -> dict[str, int]:
    unknown = sorted(set(rows) - TABLES.keys())
    if unknown:
        raise SeedInputError(
            f"the sample seeder has no table {', '.join(unknown)}; its tables: {', '.join(TABLES)}"
        )
    return {TABLES[table]: count for table, count in rows.items()}


def source(profile: str | None, seed: int, rows: Mapping[str, int] | None = None) -> SampleSource:
    """The sample's rows for a profile and seed, `rows` overriding some tables' counts (by table name).

    SeedInputError (one line) for an unknown profile or table, a bad seed or count, or more tenants
    than people.
    """
    return SampleSource(request_for(profile, seed, **_fields(rows or {})))
