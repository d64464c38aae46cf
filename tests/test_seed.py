"""The seeder against the tests' real PostgreSQL: deterministic, complete, skewed, idempotent, guarded."""

from __future__ import annotations

import psycopg
import pytest

from django_index_bench.bench.pg import server as embedded
from django_index_bench.seed import SeedInputError
from project.seeding.profiles import PROFILES, request_for
from tests.cli import bench

TABLES = ("tenants_tenant", "peoples_people", "tracking", "journal_journalentry")
TINY = PROFILES["tiny"]


def seed_cli(database: str, *args: str) -> str:
    done = bench("seed", "--profile", "tiny", "--no-progress", "--database", database, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def checksums(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return {
            table: str(
                conn.execute(f"SELECT md5(string_agg(t::text, E'\\n' ORDER BY id)) FROM {table} t").fetchone()
            )
            for table in TABLES
        }


@pytest.fixture(scope="module")
def seeded(server_url: str) -> str:
    """A database seeded by `bench seed --profile tiny --seed 1`, as a user runs it."""
    seed_cli("seeded_one", "--seed", "1")
    return embedded.with_database(server_url, "seeded_one")


def test_same_seed_gives_byte_identical_tables(seeded: str, server_url: str) -> None:
    seed_cli("seeded_two", "--seed", "1")
    assert checksums(embedded.with_database(server_url, "seeded_two")) == checksums(seeded)


def test_another_seed_gives_other_tables(seeded: str, server_url: str) -> None:
    seed_cli("seeded_other", "--seed", "2")
    other, first = checksums(embedded.with_database(server_url, "seeded_other")), checksums(seeded)
    assert all(other[table] != first[table] for table in TABLES)


def test_counts_match_the_request(seeded: str) -> None:
    with psycopg.connect(seeded) as conn:
        counts = [conn.execute(f"SELECT count(*) FROM {t}").fetchone() for t in TABLES]
    assert counts == [(TINY.tenants,), (TINY.people,), (TINY.tracking,), (TINY.journal,)]


def test_foreign_keys_resolve_and_constraints_are_back(seeded: str) -> None:
    with psycopg.connect(seeded) as conn:
        orphans = conn.execute(
            "SELECT (SELECT count(*) FROM tracking t LEFT JOIN peoples_people p ON p.id = t.people_id"
            "        WHERE p.id IS NULL)"
            " + (SELECT count(*) FROM journal_journalentry j LEFT JOIN peoples_people p ON p.id = j.user_id"
            "    WHERE p.id IS NULL)"
            " + (SELECT count(*) FROM peoples_people p LEFT JOIN tenants_tenant t ON t.id = p.tenant_id"
            "    WHERE t.id IS NULL)"
        ).fetchone()
        foreign_keys = conn.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
            (list(TABLES),),
        ).fetchone()
        mismatched = conn.execute(
            "SELECT count(*) FROM tracking t JOIN peoples_people p ON p.id = t.people_id"
            " WHERE t.tenant_id <> p.tenant_id"
        ).fetchone()
    assert orphans == (0,)
    assert foreign_keys == (5,)  # people->tenant, tracking->people/tenant, journal->user/tenant
    assert mismatched == (0,)


def test_the_data_is_skewed(seeded: str) -> None:
    with psycopg.connect(seeded) as conn:
        top_share = conn.execute(
            "WITH per AS (SELECT people_id, count(*) n FROM tracking GROUP BY 1),"
            " ranked AS (SELECT n, ntile(10) OVER (ORDER BY n DESC) decile FROM per)"
            " SELECT sum(n) FILTER (WHERE decile = 1)::float / sum(n) FROM ranked"
        ).fetchone()
        identifier_shares = conn.execute(
            "SELECT max(n)::float / min(n) FROM (SELECT identifier, count(*) n FROM tracking GROUP BY 1) s"
        ).fetchone()
        devices = conn.execute(
            "SELECT max(d), (SELECT max(o) FROM (SELECT count(DISTINCT people_id) o FROM tracking"
            " GROUP BY deviceid) owners)"
            " FROM (SELECT count(DISTINCT deviceid) d FROM tracking GROUP BY people_id) x"
        ).fetchone()
        weekend = conn.execute(
            "SELECT avg((extract(isodow FROM receiveddate) >= 6)::int) FROM tracking"
        ).fetchone()
    assert top_share is not None
    assert top_share[0] > 0.3  # the busiest tenth of people send well over a tenth of the fixes
    assert identifier_shares is not None
    assert identifier_shares[0] > 5
    assert devices == (3, 1)  # up to three devices a person, never shared
    assert weekend is not None
    assert weekend[0] < 2 / 7  # quieter weekends


def inserted_tenant(url: str) -> tuple[object, ...] | None:
    """A tenant inserted as the app would, rolled back: its row (the id the sequence gave it)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "INSERT INTO tenants_tenant (tenantname, subdomain_prefix, created_at, is_active)"
            " VALUES ('new', 'new-after-seed', now(), true) RETURNING id"
        ).fetchone()
        conn.rollback()
    return row


def test_the_orm_inserts_after_seeding(seeded: str) -> None:
    assert inserted_tenant(seeded) == (TINY.tenants + 1,)


def test_a_matching_request_is_reused_and_force_reseeds(seeded: str) -> None:
    assert seed_cli("seeded_one", "--seed", "1").startswith("reused: seeded_one already holds seed 1")
    before = checksums(seeded)
    assert "tracking" in seed_cli("seeded_one", "--seed", "1", "--force-seed")
    assert checksums(seeded) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rows", "tracking=0"], "expected TABLE=N with N from 1 to"),
        (["--rows", "tracking=-5"], "expected TABLE=N with N from 1 to"),
        (["--rows", "peoples_people=many"], "expected TABLE=N"),
        (["--rows", "journal_journalentry=99999999999"], "expected TABLE=N with N from 1 to"),
        (
            ["--rows", "peoples_people=20000000"],
            "the people count must be a whole number from 1 to 10,000,000",
        ),
        (["--profile", "huge"], "unknown profile 'huge'; choose one of tiny, small, default, large"),
        (["--seed", "1.5"], "expected an integer seed"),
        (["--rows", "tenants_tenant=500", "--rows", "peoples_people=10"], "every tenant needs a person"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    args: list[str], message: str, server_url: str
) -> None:
    done = bench("seed", "--database", "never_created", *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    with psycopg.connect(server_url) as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = 'never_created'").fetchone() is None


def test_request_for_rejects_bad_values() -> None:
    with pytest.raises(SeedInputError, match="unknown profile"):
        request_for("gigantic")
    with pytest.raises(SeedInputError, match="seed must be an integer"):
        request_for("tiny", seed=-1)
    assert request_for("tiny", 3).profile == "tiny"
    assert request_for("tiny", 3, tracking=10).profile is None
