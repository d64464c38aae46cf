"""A plan's value is what the column stores (issue 20, item 4, for text columns): it goes in exactly as
written, never through the field's to_python, which for an encoding field (a pickled one) would decode
it; `python = ...` gives the Python value instead, which the field's own get_db_prep_save encodes. The
field here is the test's own TextField that stores "b64:" + base64 of its value, as a pickled field
stores an encoded pickle; the rows are COPYed into a real table and read back. A JSON column takes its
stored JSON text as value, or a TOML value as python: seeded by the keyed test project's plan and read
back through its own ORM."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
from django.db import models

from django_index_bench.bench.pg import server as embedded
from django_index_bench.seed.binary import HEADER, TRAILER
from django_index_bench.seed.distributions import Drawn, ResolvedModel, draw_model
from django_index_bench.seed.plan import SeedPlan
from django_index_bench.seed.plan_models import _column, _Context
from tests.cli import bench
from tests.test_keyed_project import PROJECT

STORED = "b64:" + base64.b64encode(b"hello").decode()


class Encoded(models.TextField):  # type: ignore[type-arg]
    """Stores "b64:" + base64 of the text; reads it back decoded."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith("b64:"):
            return base64.b64decode(value[4:]).decode()
        return value

    def get_prep_value(self, value: Any) -> Any:
        return "b64:" + base64.b64encode(str(value).encode()).decode()


def settled(spec: dict[str, Any]) -> Any:
    field = Encoded()
    field.set_attributes_from_name("payload")
    context = _Context(SeedPlan(Path("plan.toml"), {}, ()), {})
    return _column(context, "fields.payload", "x.Y", field, spec)


def test_a_value_is_stored_as_written_and_a_python_value_is_encoded(database_url: str) -> None:
    as_stored = settled({"kind": "value", "value": STORED})
    as_python = settled({"kind": "python", "python": "hello"})
    assert (as_stored.kind, as_stored.params["value"]) == ("value", STORED)
    assert (as_python.kind, as_python.params["value"]) == ("value", STORED)
    columns = (
        dataclasses.replace(as_stored, column="stored"),
        dataclasses.replace(as_python, column="given"),
    )
    table = draw_model(ResolvedModel("x.Y", "scratch", columns), 3, Drawn(seed=1, locale="en_US"))
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TEMP TABLE scratch (stored text, given text)")
        with conn.cursor().copy("COPY scratch (stored, given) FROM STDIN WITH (FORMAT binary)") as copy:
            copy.write(HEADER + table.render(0, 3) + TRAILER)
        rows = conn.execute("SELECT stored, given FROM scratch").fetchall()
        conn.rollback()
    assert rows == [(STORED, STORED)] * 3
    assert Encoded().to_python(rows[0][0]) == "hello"  # what the app reads back


def test_a_json_value_is_stored_as_written(database_url: str) -> None:
    field = models.JSONField()
    field.set_attributes_from_name("data")
    context = _Context(SeedPlan(Path("plan.toml"), {}, ()), {})
    column = _column(context, "fields.data", "x.Y", field, {"kind": "value", "value": '{"b": [1, 2]}'})
    assert column is not None
    table = draw_model(ResolvedModel("x.Y", "scratch", (column,)), 2, Drawn(seed=1, locale="en_US"))
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TEMP TABLE scratch (data jsonb)")
        with conn.cursor().copy("COPY scratch (data) FROM STDIN WITH (FORMAT binary)") as copy:
            copy.write(HEADER + table.render(0, 2) + TRAILER)
        rows = conn.execute("SELECT data::text FROM scratch").fetchall()
        conn.rollback()
    assert rows == [('{"b": [1, 2]}',)] * 2


def test_a_json_python_value_reads_back_through_the_orm(server_url: str) -> None:
    """bench seed of the keyed project's plan, then its own ORM reads the JSON back."""
    done = bench("seed", "--database", "keys_json", "--no-progress", cwd=PROJECT)
    try:
        assert done.returncode == 0, done.stderr
        url = embedded.with_database(server_url, "keys_json")
        read = subprocess.run(
            [sys.executable, "-c", READ_BACK],
            cwd=PROJECT,
            env={**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(PROJECT),
                 "DJANGO_SETTINGS_MODULE": "keysite.settings"},
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        assert read.returncode == 0, read.stderr
        assert json.loads(read.stdout) == [[{"kind": "seeded", "n": 3, "tags": ["a", "b"]}], 50]
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS keys_json WITH (FORCE)")


READ_BACK = """
import json, django
django.setup()
from keyed.models import Token
values = {json.dumps(t.payload, sort_keys=True) for t in Token.objects.all()}
print(json.dumps([[json.loads(v) for v in values], Token.objects.count()]))
"""
