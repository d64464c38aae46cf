"""Declarative seed plans against the tests' real PostgreSQL: the sample project's models seeded from a
TOML plan at a tiny profile, then the shape of what landed, determinism, and one test per bad plan."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from django_index_bench.bench.pg import db
from django_index_bench.bench.pg import server as embedded
from django_index_bench.seed import SeedInputError, ensure_seeded
from django_index_bench.seed.plan import SeedPlan, read_plan
from django_index_bench.seed.plan_source import check, source
from tests.test_seed import inserted_tenant

PLAN = """
[profiles]
tiny = 0.01
default = 1.0

[models."tenants.Tenant"]
rows = 500
fields.tenantname = { faker = "company" }

[models."peoples.People"]
rows = 20_000
fields.tenant = { skew = 1.2 }
fields.gender = { choices = { M = 48, F = 48, O = 4 } }
fields.peoplecode = { template = "P{n:06d}" }

[models."attendance.Tracking"]
rows = 300_000
fields.people = { skew = 1.1 }
fields.tenant = { via = "people.tenant" }
fields.receiveddate = { start = 2026-01-01, end = 2026-04-01, growth = 3.0, weekly = "workweek", \
daily = "office", sorted = true }
fields.speed = { min = 0, max = 40, round = 1, null = 0.3 }
fields.identifier = { choices = { TRACKING = 55, CONVEYANCE = 15, NONE = 30 } }

[models."journal.JournalEntry"]
rows = 200_000
fields.mood_rating = { min = 1, max = 10, null = 0.15 }
fields.is_draft = { true = 0.03 }
fields.tenant = { via = "user.tenant" }
"""
TABLES = ("tenants_tenant", "peoples_people", "tracking", "journal_journalentry")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.toml"
    path.write_text(text)
    return path


def checksum(url: str, table: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT md5(string_agg(t::text, E'\\n' ORDER BY id)) FROM {table} t").fetchone()
    assert row is not None
    return str(row[0])


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> SeedPlan:
    return read_plan(write(tmp_path_factory.mktemp("plan"), PLAN))


@pytest.fixture(scope="module")
def seeded(server_url: str, database_url: str, plan: SeedPlan) -> str:
    """A fresh database at the latest migrations, seeded from the plan's tiny profile with seed 1."""
    from django.core.management import call_command

    embedded.create_owned_database(server_url, "plan_seeded")
    url = embedded.with_database(server_url, "plan_seeded")
    db.switch_django(db.Target(url, embedded=False))
    try:
        call_command("migrate", verbosity=0)
        check(plan)
        outcome = ensure_seeded(url, source(plan, "tiny", 1), progress=False)
    finally:
        db.switch_django(db.Target(database_url, embedded=False))
    assert not outcome.reused
    return url


def scalar(url: str, query: str) -> object:
    with psycopg.connect(url) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


def test_counts_follow_the_profile(seeded: str, plan: SeedPlan) -> None:
    counts = [scalar(seeded, f"SELECT count(*) FROM {t}") for t in TABLES]
    assert counts == [5, 200, 3000, 2000]
    assert source(plan, "tiny", 1).counts == dict(zip(TABLES, [5, 200, 3000, 2000], strict=True))


def test_foreign_keys_resolve_and_constraints_are_back(seeded: str) -> None:
    orphans = scalar(
        seeded,
        "SELECT (SELECT count(*) FROM peoples_people p LEFT JOIN tenants_tenant t ON t.id = p.tenant_id"
        "        WHERE t.id IS NULL)"
        " + (SELECT count(*) FROM tracking t LEFT JOIN peoples_people p ON p.id = t.people_id"
        "    WHERE p.id IS NULL)"
        " + (SELECT count(*) FROM tracking t LEFT JOIN tenants_tenant n ON n.id = t.tenant_id"
        "    WHERE n.id IS NULL)"
        " + (SELECT count(*) FROM journal_journalentry j LEFT JOIN peoples_people p ON p.id = j.user_id"
        "    WHERE p.id IS NULL)",
    )
    foreign_keys = scalar(
        seeded,
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
        " AND conrelid = ANY('{tenants_tenant,peoples_people,tracking,journal_journalentry}'::regclass[])",
    )
    # `via`: a row's tenant is its person's tenant, as the app keeps them.
    mismatched = scalar(
        seeded,
        "SELECT (SELECT count(*) FROM tracking t JOIN peoples_people p ON p.id = t.people_id"
        "        WHERE t.tenant_id <> p.tenant_id)"
        " + (SELECT count(*) FROM journal_journalentry j JOIN peoples_people p ON p.id = j.user_id"
        "    WHERE j.tenant_id <> p.tenant_id)",
    )
    assert orphans == 0
    assert foreign_keys == 5
    assert mismatched == 0


def test_unique_columns_are_distinct(seeded: str) -> None:
    assert scalar(seeded, "SELECT count(DISTINCT subdomain_prefix) FROM tenants_tenant") == 5
    assert scalar(seeded, "SELECT count(DISTINCT loginid) FROM peoples_people") == 200
    assert (
        scalar(seeded, "SELECT min(peoplecode) || ' ' || max(peoplecode) FROM peoples_people")
        == "P000001 P000200"
    )


def test_choices_come_only_from_the_allowed_set(seeded: str) -> None:
    with psycopg.connect(seeded) as conn:
        identifiers = {r[0] for r in conn.execute("SELECT DISTINCT identifier FROM tracking")}
        genders = {r[0] for r in conn.execute("SELECT DISTINCT gender FROM peoples_people")}
        scopes = {r[0] for r in conn.execute("SELECT DISTINCT privacy_scope FROM journal_journalentry")}
    assert identifiers == {"TRACKING", "CONVEYANCE", "NONE"}
    assert genders == {"M", "F", "O"}
    # An omitted field with Django choices: uniform over all of them.
    assert scopes == {"private", "manager", "team", "aggregate_only", "shared"}


def test_null_shares_and_ranges(seeded: str) -> None:
    speed_nulls = scalar(seeded, "SELECT avg((speed IS NULL)::int)::float FROM tracking")
    mood_nulls = scalar(seeded, "SELECT avg((mood_rating IS NULL)::int)::float FROM journal_journalentry")
    assert isinstance(speed_nulls, float)
    assert isinstance(mood_nulls, float)
    assert abs(speed_nulls - 0.3) < 0.05  # 3000 rows: about 6 standard errors
    assert abs(mood_nulls - 0.15) < 0.05
    # Nullable but not given a share: never NULL.
    assert (
        scalar(seeded, "SELECT count(*) FROM tracking WHERE accuracy IS NULL OR battery_level IS NULL") == 0
    )
    assert (
        scalar(seeded, "SELECT min(mood_rating) || '..' || max(mood_rating) FROM journal_journalentry")
        == "1..10"
    )
    assert scalar(seeded, "SELECT min(speed) >= 0 AND max(speed) <= 40 FROM tracking") is True


def test_time_range_growth_rhythm_and_order(seeded: str) -> None:
    bounds = scalar(
        seeded,
        "SELECT min(receiveddate) >= '2026-01-01' AND max(receiveddate) < '2026-04-01' FROM tracking",
    )
    unsorted = scalar(
        seeded,
        "SELECT count(*) FROM (SELECT receiveddate < lag(receiveddate) OVER (ORDER BY id) d FROM tracking) s"
        " WHERE d",
    )
    months = scalar(
        seeded,
        "SELECT (count(*) FILTER (WHERE receiveddate >= '2026-03-01'))::float"
        " / count(*) FILTER (WHERE receiveddate < '2026-02-01') FROM tracking",
    )
    weekend = scalar(seeded, "SELECT avg((extract(isodow FROM receiveddate) >= 6)::int)::float FROM tracking")
    night = scalar(
        seeded,
        "SELECT avg((extract(hour FROM receiveddate AT TIME ZONE 'UTC') < 5)::int)::float FROM tracking",
    )
    assert bounds is True
    assert unsorted == 0
    assert isinstance(months, float)
    assert months > 1.8  # growth 3: March has well over January's rows
    assert isinstance(weekend, float)
    assert weekend < 2 / 7
    assert isinstance(night, float)
    assert night < 5 / 24


def test_foreign_keys_are_skewed(seeded: str) -> None:
    ratio = scalar(
        seeded,
        "WITH per AS (SELECT people_id, count(*) n FROM tracking GROUP BY 1)"
        " SELECT max(n)::float / percentile_disc(0.5) WITHIN GROUP (ORDER BY n) FROM per",
    )
    assert isinstance(ratio, float)
    assert ratio > 10  # the busiest person sends over ten times the median person's fixes


def test_the_orm_inserts_after_seeding(seeded: str) -> None:
    assert inserted_tenant(seeded) == (6,)


def test_same_seed_same_rows_other_seed_other_rows_and_reuse(seeded: str, plan: SeedPlan) -> None:
    first = {t: checksum(seeded, t) for t in TABLES}
    assert ensure_seeded(seeded, source(plan, "tiny", 1), progress=False).reused
    other = ensure_seeded(seeded, source(plan, "tiny", 2), progress=False)
    assert not other.reused
    assert all(checksum(seeded, t) != first[t] for t in TABLES)
    again = ensure_seeded(seeded, source(plan, "tiny", 1), progress=False)
    assert not again.reused
    assert {t: checksum(seeded, t) for t in TABLES} == first
    assert again.fingerprint == source(plan, "tiny", 1).fingerprint() != other.fingerprint


def test_a_plan_of_a_parent_alone_empties_the_tables_that_point_into_it(
    seeded: str, plan: SeedPlan, tmp_path: Path
) -> None:
    """Rows of people, tracking and journal would point at replaced tenants: they go too."""
    alone = read_plan(write(tmp_path, '[models."tenants.Tenant"]\nrows = 3\n'))
    try:
        ensure_seeded(seeded, source(alone, None, 1), progress=False)
        counts = [scalar(seeded, f"SELECT count(*) FROM {t}") for t in TABLES]
        foreign_keys = scalar(seeded, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'")
    finally:
        ensure_seeded(seeded, source(plan, "tiny", 1), progress=False)
    assert counts == [3, 0, 0, 0]
    assert foreign_keys == 5


def test_changing_one_field_leaves_the_others(plan: SeedPlan, tmp_path: Path) -> None:
    changed = read_plan(write(tmp_path, PLAN.replace("round = 1, null = 0.3", "round = 2, null = 0.3")))
    before = source(plan, "tiny", 1).draw()[2]
    after = source(changed, "tiny", 1).draw()[2]
    assert before.render(0, 100) != after.render(0, 100)
    assert isinstance(before, type(after))
    columns = {c.name: c for c in before.columns}  # type: ignore[attr-defined]
    for column in after.columns:  # type: ignore[attr-defined]
        if column.name != "speed":
            assert repr(column) == repr(columns[column.name])


def test_with_counts_resizes_only_the_given_tables(plan: SeedPlan) -> None:
    tiny = source(plan, "tiny", 1)
    resized = tiny.with_counts({"tracking": 700})
    assert resized.counts == {**tiny.counts, "tracking": 700}
    assert resized.profile is None
    assert tiny.with_counts({"attendance.Tracking": 700}).counts == resized.counts
    assert source(plan, None, 1, {"journal.JournalEntry": 9}).counts["journal_journalentry"] == 9


BASE = """
[models."tenants.Tenant"]
rows = 5
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[models."catalog.Book"]\nrows = 5\n',
            'plan.toml: models."catalog.Book": unknown model; expected app_label.ModelName',
        ),
        (
            BASE + 'fields.colour = { faker = "color_name" }\n',
            'plan.toml: models."tenants.Tenant".fields.colour: unknown field; fields of tenants.Tenant: id, '
            "tenantname, subdomain_prefix, created_at, is_active",
        ),
        (
            BASE + 'fields.is_active = { faker = "name" }\n',
            'plan.toml: models."tenants.Tenant".fields.is_active: faker does not fit a BooleanField; '
            "it takes choices, true, value or null",
        ),
        (
            BASE + 'fields.created_at = { start = "yesterday" }\n',
            'plan.toml: models."tenants.Tenant".fields.created_at.start: expected a date or ISO datetime',
        ),
        (
            BASE + "fields.tenantname = { faker = 3 }\n",
            'plan.toml: models."tenants.Tenant".fields.tenantname.faker: expected a Faker provider name',
        ),
        (
            BASE + 'fields.tenantname = { faker = "name", choices = ["a"] }\n',
            'plan.toml: models."tenants.Tenant".fields.tenantname: mixes faker and choices',
        ),
        (
            '[models."peoples.People"]\nrows = 5\n',
            'plan.toml: models."peoples.People".fields.tenant: foreign key to tenants.Tenant, which the plan '
            'does not seed; add [models."tenants.Tenant"]',
        ),
        (
            BASE + 'fields.subdomain_prefix = { choices = ["a", "b", "c"] }\n',
            'plan.toml: models."tenants.Tenant".fields.subdomain_prefix: unique, but only 3 choices '
            "for 5 rows",
        ),
        (
            BASE + "fields.tenantname = { null = 0.5 }\n",
            'plan.toml: models."tenants.Tenant".fields.tenantname.null: the field is not nullable',
        ),
        (
            BASE + "fields.created_at = { start = 2030-01-01 }\n",
            'plan.toml: models."tenants.Tenant".fields.created_at.start: expected start before end',
        ),
        (
            BASE + '[models."peoples.People"]\nrows = 5\nfields.tenant = { via = "gender.tenant" }\n',
            'plan.toml: models."peoples.People".fields.tenant.via: gender is not another foreign key of '
            "peoples.People; they are: none",
        ),
        ("[models\n", "plan.toml: not valid TOML"),
    ],
    ids=[
        "unknown model",
        "unknown field",
        "kind of the wrong type",
        "bad date",
        "wrong shape",
        "two kinds",
        "fk to an unplanned model",
        "unsatisfiable unique",
        "null on a non-null field",
        "start after the default end",
        "via a field that is no foreign key",
        "bad toml",
    ],
)
def test_a_bad_plan_is_one_line_naming_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SeedInputError) as raised:
        check(read_plan(path))
    line = str(raised.value)
    assert line.startswith(str(tmp_path)), line
    assert message in line
    assert "\n" not in line


def test_an_unknown_profile_lists_the_plans_profiles(plan: SeedPlan) -> None:
    with pytest.raises(
        SeedInputError,
        match=r"plan.toml: profiles: unknown profile 'huge'; profiles of the plan: tiny, default$",
    ):
        source(plan, "huge", 1)


def test_numeric_uuid_time_and_date_columns_load_exactly(database_url: str) -> None:
    """The encoders the sample never needed, COPYed into real columns and read back."""
    from django_index_bench.seed.binary import HEADER, TRAILER
    from django_index_bench.seed.distributions import Column, Drawn, ResolvedModel, draw_model, parse_moment

    money = [-12.5, 0.0, 3.14, 99999999.99]
    columns = (
        Column(
            "price",
            "price",
            "numeric",
            "choices",
            {"choices": [(v, 1.0) for v in money], "digits": 10, "scale": 2},
            unique=True,
        ),
        Column("ratio", "ratio", "numeric", "range", {"min": -0.5, "max": 0.5, "digits": 5, "scale": 4}),
        Column("big", "big", "numeric", "value", {"value": 123456789012.0, "digits": 18, "scale": 0}),
        Column("token", "token", "uuid", "uuid"),
        Column("at", "at", "time", "clock"),
        Column(
            "day",
            "day",
            "date",
            "time",
            {
                "start": parse_moment("2024-02-28"),
                "end": parse_moment("2024-03-02"),
                "growth": 1.0,
                "weekly": [1.0] * 7,
                "daily": [1.0] * 24,
            },
        ),
        Column(
            "label",
            "label",
            "text",
            "faker",
            {"faker": "word", "pool": 3, "args": {}, "max_length": 4},
            null=0.5,
        ),
    )
    table = draw_model(ResolvedModel("x.Y", "scratch", columns), 4, Drawn(seed=3, locale="en_US"))
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "CREATE TEMP TABLE scratch (price numeric(10, 2), ratio numeric(5, 4), big numeric(18, 0),"
            " token uuid, at time, day date, label varchar(4))"
        )
        names = ", ".join(table.column_names)
        with conn.cursor().copy(f"COPY scratch ({names}) FROM STDIN WITH (FORMAT binary)") as copy:
            copy.write(HEADER + table.render(0, 4) + TRAILER)
        prices = sorted(float(r[0]) for r in conn.execute("SELECT price FROM scratch"))
        ratios = conn.execute(
            "SELECT bool_and(ratio BETWEEN -0.5 AND 0.5), bool_and(scale(ratio) = 4) FROM scratch"
        ).fetchone()
        big = conn.execute("SELECT DISTINCT big::text FROM scratch").fetchall()
        tokens = conn.execute(
            "SELECT count(DISTINCT token), bool_and(token::text LIKE '________-____-4%') FROM scratch"
        ).fetchone()
        days = conn.execute(
            "SELECT bool_and(day BETWEEN '2024-02-28' AND '2024-03-01'), bool_and(at < '24:00') FROM scratch"
        ).fetchone()
        labels = conn.execute("SELECT bool_and(length(label) <= 4) FROM scratch").fetchone()
        conn.rollback()
    assert prices == money
    assert ratios == (True, True)
    assert big == [("123456789012",)]
    assert tokens == (4, True)
    assert days == (True, True)
    assert labels is not None


def test_a_plan_of_row_counts_alone_draws_every_column(tmp_path: Path) -> None:
    """Defaults by type: a few lines are a whole plan."""
    text = "".join(
        f'[models."{m}"]\nrows = 3\n' for m in ("tenants.Tenant", "peoples.People", "journal.JournalEntry")
    )
    drawn = source(read_plan(write(tmp_path, text)), None, 7).draw()
    assert [(t.table, t.rows, len(t.column_names)) for t in drawn] == [
        ("tenants_tenant", 3, 5),
        ("peoples_people", 3, 15),
        ("journal_journalentry", 3, 16),
    ]


def test_the_sample_source_takes_counts_by_table() -> None:
    from project.seeding import source as sample

    tiny = sample.source("tiny", 3, {"tracking": 10})
    assert tiny.counts == {
        "tenants_tenant": 4,
        "peoples_people": 120,
        "tracking": 10,
        "journal_journalentry": 4000,
    }
    assert tiny.profile is None
    assert tiny.dataset_counts == {"tenants": 4, "people": 120, "tracking": 10, "journal": 4000}
    assert sample.source("tiny", 3).with_counts({"tracking": 10}) == tiny
    with pytest.raises(
        SeedInputError, match="the sample seeder has no table trips; its tables: tenants_tenant, "
    ):
        sample.source("tiny", 3, {"trips": 5})
    with pytest.raises(SeedInputError, match="every tenant needs a person"):
        sample.source("tiny", 3, {"tenants_tenant": 500})
