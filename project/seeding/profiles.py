"""What to seed: named profiles and explicit counts, validated at the edge."""

from __future__ import annotations

from dataclasses import dataclass, replace

from django_index_bench.seed.inputs import DEFAULT_PROFILE, DEFAULT_SEED, MAX_SEED, SeedInputError

__all__ = [
    "DEFAULT_PROFILE",
    "DEFAULT_SEED",
    "MAX_SEED",
    "PROFILES",
    "Counts",
    "SeedInputError",
    "SeedRequest",
]


@dataclass(frozen=True)
class Counts:
    tenants: int
    people: int
    tracking: int
    journal: int


@dataclass(frozen=True)
class SeedRequest:
    seed: int
    counts: Counts
    profile: str | None  # None when any count was given explicitly


PROFILES: dict[str, Counts] = {
    "tiny": Counts(tenants=4, people=120, tracking=6_000, journal=4_000),
    "small": Counts(tenants=10, people=1_000, tracking=100_000, journal=100_000),
    "default": Counts(tenants=20, people=5_000, tracking=1_000_000, journal=1_000_000),
    "large": Counts(tenants=50, people=20_000, tracking=10_000_000, journal=2_000_000),
}

# Beyond these a typo is likelier than a plan (and the disk would fill first).
LIMITS = Counts(tenants=100_000, people=10_000_000, tracking=500_000_000, journal=500_000_000)


def request_for(
    profile: str | None = DEFAULT_PROFILE,
    seed: int = DEFAULT_SEED,
    *,
    tenants: int | None = None,
    people: int | None = None,
    tracking: int | None = None,
    journal: int | None = None,
) -> SeedRequest:
    name = profile or DEFAULT_PROFILE
    if name not in PROFILES:
        raise SeedInputError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise SeedInputError(f"the seed must be an integer from 0 to {MAX_SEED}, got {seed!r}")
    overrides = {
        k: v
        for k, v in {"tenants": tenants, "people": people, "tracking": tracking, "journal": journal}.items()
        if v is not None
    }
    counts = replace(PROFILES[name], **overrides)
    for field, value in vars(counts).items():
        limit = getattr(LIMITS, field)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
            raise SeedInputError(
                f"the {field} count must be a whole number from 1 to {limit:,}, got {value!r}"
            )
    if counts.tenants > counts.people:
        raise SeedInputError(
            f"every tenant needs a person: {counts.people} people are fewer than {counts.tenants} tenants; "
            "raise --rows peoples_people=N or lower --rows tenants_tenant=N"
        )
    return SeedRequest(seed=seed, counts=counts, profile=None if overrides else name)
