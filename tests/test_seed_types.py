"""Every field type a seed plan fills from the plan alone (issue 20 item 4, issue 25 item 1): tests/
types_project's plan seeds JSON documents, inet addresses (unique, in a network), arrays, integer and
datetime ranges, hstore, intervals, bytea, exact decimals, a field that pickles its values, derived
copies (object_id = int(object_pk), a text copy of the id) by `bench seed`, and the project's own ORM
reads every column back. A model with a point column is refused in one line, exit 2, before anything is
seeded."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from django_index_bench.bench.pg import server as embedded
from tests.cli import bench

Seeded = dict[str, list[Any]]  # column -> its values, as the ORM reads them, in JSON
PROJECT = Path(__file__).resolve().parent / "types_project"
DATABASE = "types_seeded"

READ_BACK = """
import datetime as dt, json, django
django.setup()
from kinds.models import Host
rows = list(Host.objects.order_by("id"))
def show(v):
    if isinstance(v, (dt.datetime, dt.date, dt.timedelta)):
        return str(v)
    if isinstance(v, (bytes, memoryview)):
        return bytes(v).hex()
    if hasattr(v, "bounds"):
        return [show(v.lower), show(v.upper), v.bounds]
    return v
out = {f.name: [show(getattr(r, f.attname)) for r in rows] for f in Host._meta.concrete_fields}
out["price"] = [str(v) for v in out["price"]]
out["cost"] = [str(v) for v in out["cost"]]
print(json.dumps(out, default=str))
"""


@pytest.fixture(scope="module")
def seeded(server_url: str) -> Iterator[Seeded]:
    """`bench seed` of the types project's plan, read back column by column through its ORM."""
    done = bench("seed", "--database", DATABASE, "--no-progress", cwd=PROJECT)
    try:
        assert done.returncode == 0, done.stderr
        url = embedded.with_database(server_url, DATABASE)
        read = subprocess.run(
            [sys.executable, "-c", READ_BACK],
            cwd=PROJECT,
            env={**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(PROJECT),
                 "DJANGO_SETTINGS_MODULE": "typesite.settings"},
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        assert read.returncode == 0, read.stderr
        yield json.loads(read.stdout)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def test_json_documents_have_the_plans_shape(seeded: Seeded) -> None:
    documents = seeded["document"]
    assert len(documents) == 40
    for document in documents:
        assert isinstance(document, dict)
        assert sorted(document) == ["score", "status", "user"]
        assert document["status"] in ("open", "closed")
        assert isinstance(document["score"], int)
        assert 0 <= document["score"] <= 9
        assert isinstance(document["user"], str)
        assert document["user"]
    assert seeded["settings"] == [{"theme": "dark", "sizes": [1, 2]}] * 40
    assert seeded["defaulted"] == [{}] * 40  # omitted: the field's default, dict()
    assert seeded["serial"] == [{"n": n} for n in range(1, 41)]  # unique JSON from a template of {n}


def test_inet_addresses_lie_in_the_network_and_are_distinct(seeded: Seeded) -> None:
    addresses = seeded["address"]
    assert len(set(addresses)) == 40
    assert all(isinstance(a, str) and a.startswith("10.20.") for a in addresses)
    assert seeded["fixed_address"] == ["192.168.1.7"] * 40


def test_arrays_ranges_hstore_read_back(seeded: Seeded) -> None:
    for tags in seeded["tags"]:
        assert isinstance(tags, list)
        assert 1 <= len(tags) <= 3
        assert set(tags) <= {"red", "green", "blue"}
    assert all(isinstance(p, list) and len(p) <= 4 for p in seeded["ports"])
    assert any(seeded["ports"])  # elements drawn, not only empty arrays
    assert all(isinstance(v, int) for p in seeded["ports"] for v in p)
    for lower, upper, bounds in seeded["slots"]:
        assert bounds == "[)"
        assert 10 <= lower <= 20
        assert 1 <= upper - lower <= 5
    for lower, upper, bounds in seeded["window"]:
        assert bounds == "[)"
        assert lower.startswith("2026-01")
        span = dt.datetime.fromisoformat(upper) - dt.datetime.fromisoformat(lower)
        assert dt.timedelta(hours=1) <= span <= dt.timedelta(hours=2)
    assert seeded["planned"] == [["2026-03-01 00:00:00+00:00", "2026-03-02 00:00:00+00:00", "[)"]] * 40
    assert seeded["attrs"] == [{"colour": "blue", "size": "L"}] * 40


def test_durations_bytea_decimals_and_pickles_read_back(seeded: Seeded) -> None:
    for uptime in seeded["uptime"]:
        assert isinstance(uptime, str)
        assert "0:01:00" <= uptime.zfill(7) <= "0:02:00"
    assert seeded["timeout"] == ["1 day, 2:03:04"] * 40
    assert all(isinstance(b, str) and len(b) == 16 for b in seeded["blob"])  # 8 bytes, in hex
    assert len(set(seeded["blob"])) > 30
    assert seeded["magic"] == ["cafe00ff"] * 40
    assert seeded["price"] == ["1234567890123456.7891"] * 40  # exact: no float on the way
    assert all(0.01 <= float(str(c)) <= 99.99 and len(str(c).split(".")[1]) == 2 for c in seeded["cost"])
    assert seeded["state"] == [{"answer": 42, "items": ["a", "b"]}] * 40  # pickled by the field, unpickled


def test_derived_copies_follow_their_source(seeded: Seeded) -> None:
    assert seeded["object_pk"] == [str(n) for n in range(1, 41)]
    assert seeded["object_id"] == list(range(1, 41))
    assert seeded["code"] == [str(i) for i in seeded["id"]]


def test_a_type_without_a_generator_is_refused_in_one_line(server_url: str) -> None:
    done = bench(
        "seed", "--config", "refused.toml", "--database", "types_refused", "--no-progress", cwd=PROJECT
    )
    try:
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert "kinds_place.where (PointField, point): no generator for this type" in lines[0]
        assert "Traceback" not in done.stderr
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS types_refused WITH (FORCE)")


# Host's pickled field and its hstore have no default: a plan must give them a value.
HOST = '[models."kinds.Host"]\nrows = 40\nfields.state = { python = 1 }\nfields.attrs = { python = {} }\n'


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (
            '[models."kinds.Switch"]\nrows = 3\n',
            'models."kinds.Switch".fields.on: unique, but a boolean has 2 values for 3 rows',
        ),
        (
            HOST + 'fields.address = { network = "10.0.0.0/30" }\n'
            "fields.serial = { template = '{{\"n\": {n}}}' }\n",
            "fields.address: unique, but 10.0.0.0/30 holds 4 addresses for 40 rows",
        ),
        (
            HOST + "fields.serial = { document = { a = [1, 2] } }\n",
            "fields.serial: unique, but JSON documents can repeat; give it a template of {n}",
        ),
        (
            HOST + 'fields.object_pk = { faker = "word" }\n'
            'fields.object_id = { from = "object_pk" }\n'
            "fields.serial = { template = '{{\"n\": {n}}}' }\n",
            "fields.object_id.from: object_pk is drawn by faker; a number can be read only from",
        ),
        (
            HOST + 'fields.object_id = { from = "window" }\n'
            "fields.serial = { template = '{{\"n\": {n}}}' }\n",
            "PositiveIntegerField cannot be copied from a DateTimeRangeField (window)",
        ),
        (
            '[models."kinds.Host"]\nrows = 40\n',
            "fields.state: kinds_host.state (PickledField, text): no generator for this type and no default",
        ),
    ],
)
def test_a_plan_its_types_cannot_satisfy_is_refused_in_one_line(
    tmp_path: Path, plan: str, message: str
) -> None:
    """Checked against the models before any database is touched: no server is named at all."""
    (tmp_path / "plan.toml").write_text(plan)
    (tmp_path / "bench.toml").write_text(
        f'settings = "typesite.settings"\npythonpath = ["{PROJECT}"]\n'
        'scenarios = ["kinds.bench_scenarios"]\n[seed]\nplan = "plan.toml"\n'
    )
    done = bench("seed", "--database", "types_never", "--no-progress", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert message in done.stderr
