"""Rows for the four tables, drawn in bulk with numpy, deterministically, as binary COPY columns.

The two big tables are drawn chunk by chunk, where they are encoded (in the encoder processes), so
memory stays flat whatever the row count: first how many rows fall in each minute of the year (one
multinomial draw, a few MB), then each chunk of consecutive minutes from its own random stream. Time
order across the table holds because a chunk owns whole minutes; people, devices and tenants are drawn
once per table and shared by every chunk.

Shape matters more than words: tenants and people are heavy-tailed (a few big tenants, a few very
active people, a long tail), time has a yearly trend and weekly and daily rhythms, each person has one
to three devices, and the categorical columns are far from uniform. Rows are stored in time order, as
an app inserts them, so physical order correlates with time the way it does in production.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from django_index_bench.seed import binary
from django_index_bench.seed.binary import (
    BIGINT,
    BOOL,
    CHUNK,
    DATE,
    FLOAT8,
    SMALLINT,
    TIMESTAMPTZ,
    UUID,
    Fixed,
    TableData,
    Text,
)
from project.seeding.profiles import SeedRequest
from project.seeding.vocabulary import Vocabulary, build

# A fixed calendar, not "now": the same seed must give the same rows next year too.
END = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
DAYS = 365
START_US = int(END.timestamp() * 1_000_000) - DAYS * 86_400_000_000
DAY_US, HOUR_US, MINUTE_US = 86_400_000_000, 3_600_000_000, 60_000_000
WEEKDAY = np.array([1.0, 1.0, 1.0, 1.0, 0.95, 0.45, 0.3])  # Monday first

Array = npt.NDArray[Any]


def _rng(request: SeedRequest, stream: int) -> np.random.Generator:
    # One independent stream per table: a different tracking count leaves people untouched.
    return np.random.default_rng([request.seed, stream])


def _p(weights: Sequence[float] | Array) -> Array:
    array: Array = np.asarray(weights, dtype=float)
    total: Array = array / array.sum()
    return total


def _ids(n: int) -> Fixed:
    return Fixed("id", BIGINT, np.arange(1, n + 1))


def _minute_counts(rng: np.random.Generator, n: int, hours: Array) -> Array:
    """How many of n rows fall in each minute of the year: growth, weekly and daily rhythm."""
    weekday = (np.arange(DAYS) + dt.datetime.fromtimestamp(START_US / 1e6, dt.UTC).weekday()) % 7
    per_hour = np.outer(_p(WEEKDAY[weekday] * np.linspace(0.7, 1.3, DAYS)), _p(hours)).ravel()
    counts: Array = rng.multinomial(n, _p(np.repeat(per_hour, 60)))
    return counts


def _chunk_bounds(offsets: Array, size: int) -> Array:
    """Row offsets where chunks start (and the end): whole minutes, at most `size` rows each unless
    one minute alone holds more. offsets[m] is the first row of minute m; offsets[-1] the row count."""
    bounds = [0]
    rows = int(offsets[-1])
    while bounds[-1] < rows:
        start = bounds[-1]
        end = int(offsets[np.searchsorted(offsets, start + size, side="right") - 1])
        if end <= start:  # one minute over `size` rows: it is a chunk of its own
            end = int(offsets[np.searchsorted(offsets, start, side="right")])
        bounds.append(end)
    return np.asarray(bounds, dtype=np.int64)


# Draws one chunk's columns from its random stream, the rows' instants and the chunk's first row.
Draw = Callable[[np.random.Generator, Array, int], tuple[Fixed | Text, ...]]


@dataclass(frozen=True)
class ChunkedTable:
    """A time-ordered table drawn chunk by chunk, on demand: only the counts per minute are held."""

    table: str
    rows: int
    seed: int
    stream: int
    offsets: Array  # first row of each minute, then the row count
    bounds: Array  # first row of each chunk, then the row count
    draw: Draw

    @property
    def column_names(self) -> list[str]:
        return binary.order(self.draw(np.random.default_rng(0), np.empty(0, dtype=np.int64), 0))

    def ranges(self) -> list[tuple[int, int]]:
        return [(int(lo), int(hi)) for lo, hi in zip(self.bounds[:-1], self.bounds[1:], strict=True)]

    def columns(self, lo: int, hi: int) -> tuple[Fixed | Text, ...]:
        """The rows [lo, hi) of one chunk, as ranges() names it: the same whichever process draws it."""
        chunk = int(np.searchsorted(self.bounds, lo))
        if chunk + 1 >= len(self.bounds) or self.bounds[chunk] != lo or self.bounds[chunk + 1] != hi:
            raise ValueError(f"rows [{lo}, {hi}) of {self.table} are not one of its chunks")
        rng = np.random.default_rng([self.seed, self.stream, chunk])
        first, last = np.searchsorted(self.offsets, [lo, hi])
        minutes = np.repeat(np.arange(first, last), np.diff(self.offsets[first : last + 1]))
        # Whole minutes per chunk: sorting within the chunk keeps the whole table in time order.
        when = np.sort(START_US + minutes * MINUTE_US + rng.integers(0, MINUTE_US, hi - lo))
        return self.draw(rng, when, lo)

    def render(self, lo: int, hi: int) -> bytes:
        return binary.encode(self.columns(lo, hi), 0, hi - lo)


def _chunked(
    table: str, n: int, request: SeedRequest, stream: int, rng: np.random.Generator, hours: Array, draw: Draw
) -> ChunkedTable:
    offsets = np.concatenate([[0], np.cumsum(_minute_counts(rng, n, hours))])
    return ChunkedTable(table, n, request.seed, stream, offsets, _chunk_bounds(offsets, CHUNK), draw)


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


def _activity(rng: np.random.Generator, pop: Population, sigma: float) -> Array:
    """Lognormal activity per person, so a few people write most rows: the cumulative shares."""
    activity = rng.lognormal(0.0, sigma, size=len(pop.tenant_of)) * np.where(pop.enabled, 1.0, 0.15)
    cdf: Array = np.cumsum(activity)
    shares: Array = cdf / cdf[-1]
    return shares


def _writers(rng: np.random.Generator, cdf: Array, n: int) -> Array:
    """Who writes each of n rows, weighted by activity (0-based people)."""
    who: Array = np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1)
    return who


IDENTIFIERS = ("TRACKING", "CONVEYANCE", "SITEVISIT", "INTERNALTOUR", "EXTERNALTOUR", "NONE")
IDENTIFIER_SHARES = (0.55, 0.15, 0.12, 0.08, 0.06, 0.04)
TRANSPORT = ("WALK", "CAR", "BIKE", "BUS", "TRAIN")
TRANSPORT_SHARES = (0.4, 0.3, 0.15, 0.1, 0.05)
WORK_HOURS = np.array([1, 1, 1, 1, 2, 4, 10, 18, 22, 20, 18, 16, 14, 16, 18, 18, 16, 12, 8, 5, 3, 2, 1, 1])


def tracking(request: SeedRequest, pop: Population) -> ChunkedTable:
    people_count = len(pop.tenant_of)
    rng = _rng(request, 4)
    activity = _activity(rng, pop, sigma=1.4)
    # One to three devices per person; the first carries most fixes. Device ids are never shared.
    devices_per_person = rng.choice([1, 2, 3], size=people_count, p=[0.6, 0.3, 0.1])
    platforms = np.where(rng.random(people_count * 3) < 0.7, "android", "ios").tolist()
    serials = rng.bytes(6 * people_count * 3).hex()
    devices = [f"{platform}-{serials[i * 12 : i * 12 + 12]}" for i, platform in enumerate(platforms)]
    person_lat = pop.tenant_lat[pop.tenant_of] + rng.normal(0, 0.05, people_count)
    person_lon = pop.tenant_lon[pop.tenant_of] + rng.normal(0, 0.05, people_count)

    def draw(rng: np.random.Generator, when: Array, first: int) -> tuple[Fixed | Text, ...]:
        n = len(when)
        who = _writers(rng, activity, n)
        slot = np.minimum(rng.choice(3, size=n, p=[0.8, 0.15, 0.05]), devices_per_person[who] - 1)
        nulls = rng.random((3, n)) < np.array([[0.02], [0.10], [0.05]])
        return (
            Fixed("id", BIGINT, np.arange(first + 1, first + n + 1)),
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
        )

    return _chunked("tracking", request.counts.tracking, request, 4, rng, WORK_HOURS, draw)


ENTRY_TYPES = (
    "MOOD_CHECK_IN", "DAILY_REFLECTION", "STRESS_LOG", "GRATITUDE",
    "SITE_INSPECTION", "SAFETY_CONCERN", "TRAINING_COMPLETED", "PERSONAL_WIN",
)  # fmt: skip
ENTRY_TYPE_SHARES = (0.35, 0.2, 0.12, 0.1, 0.09, 0.06, 0.05, 0.03)
SCOPES = ("private", "manager", "team", "aggregate_only", "shared")
SCOPE_SHARES = (0.55, 0.2, 0.12, 0.08, 0.05)
EVENING_HOURS = np.array([2, 1, 1, 1, 1, 2, 4, 8, 9, 6, 5, 5, 7, 6, 5, 5, 6, 9, 12, 14, 13, 10, 6, 3])


def journal(request: SeedRequest, words: Vocabulary, pop: Population) -> ChunkedTable:
    rng = _rng(request, 5)
    activity = _activity(rng, pop, sigma=1.2)
    sites = ("", *words.sites)

    def draw(rng: np.random.Generator, when: Array, first: int) -> tuple[Fixed | Text, ...]:
        n = len(when)
        who = _writers(rng, activity, n)
        nulls = rng.random((3, n)) < np.array([[0.15], [0.2], [0.15]])
        edited = np.where(rng.random(n) < 0.2, rng.integers(0, 3 * DAY_US, n), 0)
        return (
            Fixed("id", BIGINT, np.arange(first + 1, first + n + 1)),
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
        )

    return _chunked("journal_journalentry", request.counts.journal, request, 5, rng, EVENING_HOURS, draw)


def tables(request: SeedRequest) -> list[TableData | ChunkedTable]:
    """The four tables, parents first, for this request (the big two drawn later, chunk by chunk)."""
    words = build(request.seed)
    pop = population(request)
    return [
        tenants(request, words),
        people(request, words, pop),
        tracking(request, pop),
        journal(request, words, pop),
    ]
