"""Rows for the four tables, drawn in bulk with numpy, deterministically, as binary COPY columns.

Shape matters more than words: tenants and people are heavy-tailed (a few big tenants, a few very
active people, a long tail), time has a yearly trend and weekly and daily rhythms, each person has one
to three devices, and the categorical columns are far from uniform. Rows are stored in time order, as
an app inserts them, so physical order correlates with time the way it does in production.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from seed import binary
from seed.binary import BIGINT, BOOL, DATE, FLOAT8, SMALLINT, TIMESTAMPTZ, UUID, Fixed, Text
from seed.profiles import SeedRequest
from seed.vocabulary import Vocabulary, build

CHUNK = 100_000
# A fixed calendar, not "now": the same seed must give the same rows next year too.
END = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
DAYS = 365
START_US = int(END.timestamp() * 1_000_000) - DAYS * 86_400_000_000
DAY_US, HOUR_US = 86_400_000_000, 3_600_000_000
WEEKDAY = np.array([1.0, 1.0, 1.0, 1.0, 0.95, 0.45, 0.3])  # Monday first

Array = npt.NDArray[Any]


@dataclass(frozen=True)
class TableData:
    table: str
    columns: tuple[Fixed | Text, ...]
    rows: int

    @property
    def column_names(self) -> list[str]:
        return binary.order(self.columns)

    def ranges(self) -> list[tuple[int, int]]:
        return [(lo, min(lo + CHUNK, self.rows)) for lo in range(0, self.rows, CHUNK)]

    def render(self, lo: int, hi: int) -> bytes:
        return binary.encode(self.columns, lo, hi)


def _rng(request: SeedRequest, stream: int) -> np.random.Generator:
    # One independent stream per table: a different tracking count leaves people untouched.
    return np.random.default_rng([request.seed, stream])


def _p(weights: Sequence[float] | Array) -> Array:
    array: Array = np.asarray(weights, dtype=float)
    total: Array = array / array.sum()
    return total


def _ids(n: int) -> Fixed:
    return Fixed("id", BIGINT, np.arange(1, n + 1))


def _moments(rng: np.random.Generator, n: int, hours: Array) -> Array:
    """n instants (unix microseconds) over the year: growth, weekly and daily rhythm; sorted."""
    weekday = (np.arange(DAYS) + dt.datetime.fromtimestamp(START_US / 1e6, dt.UTC).weekday()) % 7
    days = rng.choice(DAYS, size=n, p=_p(WEEKDAY[weekday] * np.linspace(0.7, 1.3, DAYS)))
    hour = rng.choice(24, size=n, p=_p(hours))
    return np.sort(START_US + days * DAY_US + hour * HOUR_US + rng.integers(0, HOUR_US, size=n))


def _choice(
    name: str, rng: np.random.Generator, n: int, values: Sequence[str], shares: Sequence[float]
) -> Text:
    return Text(name, values, rng.choice(len(values), size=n, p=_p(shares)))


@dataclass(frozen=True)
class Population:
    """Tenants and people, which the big tables draw from."""

    tenant_of: Array  # per person: 0-based tenant index
    enabled: Array
    tenant_lat: Array
    tenant_lon: Array


def population(request: SeedRequest) -> Population:
    counts = request.counts
    rng = _rng(request, 2)
    # Zipf-like tenant sizes; the first people cover every tenant so none is empty.
    weights = 1.0 / np.arange(1, counts.tenants + 1) ** 1.1
    rest = rng.choice(counts.tenants, size=counts.people - counts.tenants, p=_p(weights))
    return Population(
        tenant_of=np.concatenate([np.arange(counts.tenants), rest]),
        enabled=rng.random(counts.people) < 0.92,
        tenant_lat=rng.uniform(-35, 55, size=counts.tenants),
        tenant_lon=rng.uniform(-120, 150, size=counts.tenants),
    )


def tenants(request: SeedRequest, words: Vocabulary) -> TableData:
    n = request.counts.tenants
    rng = _rng(request, 1)
    names = [
        words.companies[i % len(words.companies)] + (f" {i}" if i >= len(words.companies) else "")
        for i in range(n)
    ]
    slugs = [
        f"{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')[:40]}-{i + 1}" for i, name in enumerate(names)
    ]
    every = np.arange(n)
    return TableData(
        "tenants_tenant",
        (
            _ids(n),
            Text("tenantname", names, every),
            Text("subdomain_prefix", slugs, every),
            Fixed(
                "created_at", TIMESTAMPTZ, binary.timestamps(START_US - rng.integers(0, 3 * 365, n) * DAY_US)
            ),
            Fixed("is_active", BOOL, rng.random(n) < 0.95),
        ),
        n,
    )


def people(request: SeedRequest, words: Vocabulary, pop: Population) -> TableData:
    n = request.counts.people
    rng = _rng(request, 3)
    ids = range(1, n + 1)
    first = np.asarray(words.first_names, dtype=object)[rng.integers(0, len(words.first_names), n)].tolist()
    last = np.asarray(words.last_names, dtype=object)[rng.integers(0, len(words.last_names), n)].tolist()
    logins = [f"{f.lower()}.{s.lower()}{i}" for f, s, i in zip(first, last, ids, strict=True)]
    domains = [words.domains[t % len(words.domains)] for t in pop.tenant_of.tolist()]
    birth = np.datetime64("1960-01-01") + rng.integers(0, 44 * 365, n).astype("timedelta64[D]")
    joined = np.datetime64("2012-01-01") + rng.integers(0, 13 * 365, n).astype("timedelta64[D]")
    every = np.arange(n)
    return TableData(
        "peoples_people",
        (
            _ids(n),
            Text("peoplecode", [f"P{i:06d}" for i in ids], every),
            Text("peoplename", [f"{f} {s}" for f, s in zip(first, last, strict=True)], every),
            Text("loginid", logins, every),
            Text("email", [f"{login}@{d}" for login, d in zip(logins, domains, strict=True)], every),
            Text(
                "mobno",
                [f"+1{d:010d}" for d in rng.integers(2_000_000_000, 9_999_999_999, n).tolist()],
                every,
            ),
            _choice("gender", rng, n, ("M", "F", "O"), (0.48, 0.48, 0.04)),
            Fixed("dateofbirth", DATE, binary.dates(birth)),
            Fixed("dateofjoin", DATE, binary.dates(joined)),
            Text("designation", words.jobs, rng.integers(0, len(words.jobs), n)),
            Text("department", words.departments, rng.integers(0, len(words.departments), n)),
            Fixed("enable", BOOL, pop.enabled),
            Fixed("isverified", BOOL, rng.random(n) < 0.7),
            Fixed(
                "created_at", TIMESTAMPTZ, binary.timestamps(joined.astype("datetime64[us]").astype(np.int64))
            ),
            Fixed("tenant_id", BIGINT, pop.tenant_of + 1),
        ),
        n,
    )


def _active_people(rng: np.random.Generator, pop: Population, n: int, sigma: float) -> Array:
    """Who writes each of n rows: lognormal activity, so a few people write most of them."""
    activity = rng.lognormal(0.0, sigma, size=len(pop.tenant_of)) * np.where(pop.enabled, 1.0, 0.15)
    return rng.choice(len(pop.tenant_of), size=n, p=_p(activity))


IDENTIFIERS = ("TRACKING", "CONVEYANCE", "SITEVISIT", "INTERNALTOUR", "EXTERNALTOUR", "NONE")
IDENTIFIER_SHARES = (0.55, 0.15, 0.12, 0.08, 0.06, 0.04)
TRANSPORT = ("WALK", "CAR", "BIKE", "BUS", "TRAIN")
TRANSPORT_SHARES = (0.4, 0.3, 0.15, 0.1, 0.05)
WORK_HOURS = np.array([1, 1, 1, 1, 2, 4, 10, 18, 22, 20, 18, 16, 14, 16, 18, 18, 16, 12, 8, 5, 3, 2, 1, 1])


def tracking(request: SeedRequest, pop: Population) -> TableData:
    n = request.counts.tracking
    people_count = len(pop.tenant_of)
    rng = _rng(request, 4)
    when = _moments(rng, n, WORK_HOURS)
    who = _active_people(rng, pop, n, sigma=1.4)
    # One to three devices per person; the first carries most fixes. Device ids are never shared.
    devices_per_person = rng.choice([1, 2, 3], size=people_count, p=[0.6, 0.3, 0.1])
    slot = np.minimum(rng.choice(3, size=n, p=[0.8, 0.15, 0.05]), devices_per_person[who] - 1)
    platforms = np.where(rng.random(people_count * 3) < 0.7, "android", "ios").tolist()
    serials = rng.bytes(6 * people_count * 3).hex()
    devices = [f"{platform}-{serials[i * 12 : i * 12 + 12]}" for i, platform in enumerate(platforms)]
    person_lat = pop.tenant_lat[pop.tenant_of] + rng.normal(0, 0.05, people_count)
    person_lon = pop.tenant_lon[pop.tenant_of] + rng.normal(0, 0.05, people_count)
    nulls = rng.random((3, n)) < np.array([[0.02], [0.10], [0.05]])
    return TableData(
        "tracking",
        (
            _ids(n),
            Fixed("uuid", UUID, np.frombuffer(rng.bytes(16 * n), dtype=UUID)),
            Text("deviceid", devices, who * 3 + slot),
            Fixed("latitude", FLOAT8, np.round(person_lat[who] + rng.normal(0, 0.01, n), 6)),
            Fixed("longitude", FLOAT8, np.round(person_lon[who] + rng.normal(0, 0.01, n), 6)),
            Fixed("accuracy", FLOAT8, np.round(rng.lognormal(2.3, 0.6, n), 1), null=nulls[0]),
            Fixed("speed", FLOAT8, np.round(rng.gamma(2.0, 3.0, n), 2), null=nulls[1]),
            Fixed("battery_level", SMALLINT, rng.integers(5, 101, n), null=nulls[2]),
            Fixed("receiveddate", TIMESTAMPTZ, binary.timestamps(when)),
            _choice("transportmode", rng, n, TRANSPORT, TRANSPORT_SHARES),
            _choice("identifier", rng, n, IDENTIFIERS, IDENTIFIER_SHARES),
            Fixed("created_at", TIMESTAMPTZ, binary.timestamps(when + rng.integers(0, 120_000_000, n))),
            Fixed("people_id", BIGINT, who + 1),
            Fixed("tenant_id", BIGINT, pop.tenant_of[who] + 1),
        ),
        n,
    )


ENTRY_TYPES = (
    "MOOD_CHECK_IN", "DAILY_REFLECTION", "STRESS_LOG", "GRATITUDE",
    "SITE_INSPECTION", "SAFETY_CONCERN", "TRAINING_COMPLETED", "PERSONAL_WIN",
)  # fmt: skip
ENTRY_TYPE_SHARES = (0.35, 0.2, 0.12, 0.1, 0.09, 0.06, 0.05, 0.03)
SCOPES = ("private", "manager", "team", "aggregate_only", "shared")
SCOPE_SHARES = (0.55, 0.2, 0.12, 0.08, 0.05)
EVENING_HOURS = np.array([2, 1, 1, 1, 1, 2, 4, 8, 9, 6, 5, 5, 7, 6, 5, 5, 6, 9, 12, 14, 13, 10, 6, 3])


def journal(request: SeedRequest, words: Vocabulary, pop: Population) -> TableData:
    n = request.counts.journal
    rng = _rng(request, 5)
    when = _moments(rng, n, EVENING_HOURS)
    who = _active_people(rng, pop, n, sigma=1.2)
    nulls = rng.random((3, n)) < np.array([[0.15], [0.2], [0.15]])
    sites = ("", *words.sites)
    edited = np.where(rng.random(n) < 0.2, rng.integers(0, 3 * DAY_US, n), 0)
    return TableData(
        "journal_journalentry",
        (
            _ids(n),
            _choice("entry_type", rng, n, ENTRY_TYPES, ENTRY_TYPE_SHARES),
            _choice("privacy_scope", rng, n, SCOPES, SCOPE_SHARES),
            Fixed("timestamp", TIMESTAMPTZ, binary.timestamps(when)),
            Text("title", words.titles, rng.integers(0, len(words.titles), n)),
            Text("content", words.paragraphs, rng.integers(0, len(words.paragraphs), n)),
            Fixed("mood_rating", SMALLINT, rng.integers(1, 11, n), null=nulls[0]),
            Fixed("stress_level", SMALLINT, rng.integers(1, 6, n), null=nulls[1]),
            Fixed("energy_level", SMALLINT, rng.integers(1, 11, n), null=nulls[2]),
            Text(
                "location_site_name", sites, np.where(rng.random(n) < 0.6, 0, rng.integers(1, len(sites), n))
            ),
            Fixed("is_draft", BOOL, rng.random(n) < 0.03),
            Fixed("is_deleted", BOOL, rng.random(n) < 0.01),
            Fixed("created_at", TIMESTAMPTZ, binary.timestamps(when)),
            Fixed("updated_at", TIMESTAMPTZ, binary.timestamps(when + edited)),
            Fixed("tenant_id", BIGINT, pop.tenant_of[who] + 1),
            Fixed("user_id", BIGINT, who + 1),
        ),
        n,
    )


def tables(request: SeedRequest) -> list[TableData]:
    """The four tables, parents first, for this request."""
    words = build(request.seed)
    pop = population(request)
    return [
        tenants(request, words),
        people(request, words, pop),
        tracking(request, pop),
        journal(request, words, pop),
    ]
