"""The seeder's chunked drawing (bounded memory) and parallel rebuild (recovered when interrupted)."""

from __future__ import annotations

import itertools

import numpy as np
import psycopg
import pytest

from django_index_bench.bench.pg import server as embedded
from django_index_bench.seed.binary import Fixed
from django_index_bench.seed.copying import ensure_seeded, recover
from project.seeding import generate
from project.seeding.generate import ChunkedTable
from project.seeding.profiles import request_for
from project.seeding.source import SampleSource
from tests.cli import bench
from tests.test_seed import checksums, seed_cli


def definitions(url: str) -> list[tuple[str, str]]:
    """Every key, foreign key and index of the seeded tables, as the catalog prints them."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) || ' valid=' || convalidated FROM pg_constraint"
            " WHERE conrelid = ANY(%(t)s::regclass[]) AND contype IN ('p', 'u', 'f')"
            " UNION ALL SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) || ' valid='"
            " || indisvalid FROM pg_index WHERE indrelid = ANY(%(t)s::regclass[]) ORDER BY 1, 2",
            {"t": ["tenants_tenant", "peoples_people", "tracking", "journal_journalentry"]},
        ).fetchall()
    return [(str(name), str(text)) for name, text in rows]


def one(url: str, query: str) -> object:
    with psycopg.connect(url) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


def test_big_tables_are_drawn_a_chunk_at_a_time_in_time_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generate, "CHUNK", 5_000)
    request = request_for("tiny", 5, tracking=60_000, journal=30_000)
    for data in generate.tables(request)[2:]:
        assert isinstance(data, ChunkedTable)
        ranges = data.ranges()
        assert ranges[0][0] == 0
        assert ranges[-1][1] == data.rows
        assert all(hi == next_lo for (_, hi), (next_lo, _) in itertools.pairwise(ranges))
        last_instant, drawn_at_once = -(2**63), []
        for lo, hi in ranges:
            columns = {c.name: c for c in data.columns(lo, hi) if isinstance(c, Fixed)}
            drawn_at_once.append(len(columns["id"].values))
            assert {len(c.values) for c in columns.values()} == {hi - lo}
            assert columns["id"].values[0] == lo + 1
            assert columns["id"].values[-1] == hi
            when = columns["receiveddate" if data.table == "tracking" else "timestamp"].values
            assert when[0] >= last_instant
            assert bool(np.all(np.diff(when) >= 0))
            last_instant = when[-1]
        # Whole minutes per chunk: never more than the chunk size here (a minute holds a few rows).
        assert max(drawn_at_once) <= 5_000
        assert sum(drawn_at_once) == data.rows
        assert len(ranges) >= data.rows // 5_000
        # The same chunk is the same bytes whichever process draws it, and only whole chunks are drawn.
        assert data.render(*ranges[1]) == data.render(*ranges[1])
        with pytest.raises(ValueError, match="not one of its chunks"):
            data.render(ranges[1][0], ranges[1][1] - 1)


def test_one_at_a_time_and_parallel_give_the_same_tables_and_definitions(server_url: str) -> None:
    seed_cli("seeded_modes", "--seed", "4")  # parallel, as `bench seed` does it
    url = embedded.with_database(server_url, "seeded_modes")
    parallel = checksums(url), definitions(url)
    source = SampleSource(request_for("tiny", 4))
    outcome = ensure_seeded(url, source, force=True, progress=False, mode="one at a time")
    assert outcome.rebuild == "one at a time"
    assert (checksums(url), definitions(url)) == parallel
    assert all(text.endswith("valid=true") for _, text in parallel[1])


def test_a_failed_rebuild_is_finished_by_the_next_seed(server_url: str) -> None:
    """An index whose build fails (a real error, raised by PostgreSQL mid-rebuild) after the rows are
    committed: the seed fails loudly and leaves no marker; recover() (which the next seed also runs
    first) brings every definition back, and the next seed the same rows."""
    seed_cli("seeded_broken", "--seed", "6")
    url = embedded.with_database(server_url, "seeded_broken")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION probe(x bigint) RETURNS bigint IMMUTABLE LANGUAGE plpgsql AS $$ BEGIN"
            " IF current_setting('bench_test.fail', true) = 'on' THEN RAISE EXCEPTION 'probe says no';"
            " END IF; RETURN x; END $$"
        )
        conn.execute("CREATE INDEX tracking_probe ON tracking (probe(id))")
    wanted, data = definitions(url), checksums(url)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute("ALTER DATABASE seeded_broken SET bench_test.fail = 'on'")

    failed = bench("seed", "--profile", "tiny", "--seed", "6", "--force-seed", "--no-progress", "--database",
                   "seeded_broken")  # fmt: skip
    assert failed.returncode == 1
    assert "build tracking_probe on tracking failed: probe says no" in failed.stderr
    assert one(url, "SELECT count(*) FROM bench_seed_marker") == 0
    # Saved once each; a key shows twice in definitions() (constraint and index), 6 keys here.
    assert one(url, "SELECT count(*) FROM bench_seed_pending") == len(wanted) - 6
    assert "tracking_probe" not in dict(definitions(url))

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute("ALTER DATABASE seeded_broken RESET bench_test.fail")
    # What runs before migrating: everything back, on empty tables (their rows were never declared done).
    assert recover(url)
    assert definitions(url) == wanted
    assert one(url, "SELECT count(*) FROM tracking") == 0
    assert "reused" not in seed_cli("seeded_broken", "--seed", "6")  # no marker: seeded again
    assert definitions(url) == wanted
    assert checksums(url) == data
    assert one(url, "SELECT count(*) FROM bench_seed_pending") == 0
    assert not recover(url)
