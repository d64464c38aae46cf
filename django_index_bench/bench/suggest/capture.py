"""The chosen state on a copy of the seeded data: every scenario's cases run once there, their SQL and
plans kept (bench.rounds.facts), and the indexes that exist, read from the copy's catalog."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import psycopg
from django.db import connection

from django_index_bench.bench.pg import clones, db
from django_index_bench.bench.results import Measurement, StateChange
from django_index_bench.bench.rounds.facts import describe, facts, failed
from django_index_bench.bench.scenarios import Case, Scenario
from django_index_bench.bench.steps.states import State, reach
from django_index_bench.bench.steps.timed import draw
from django_index_bench.bench.suggest.results import ExistingIndex, Key

# Every index of the user's tables: its keys (attribute 0 is an expression), their directions (bit 0 of
# indoption), the INCLUDE columns after the key columns, its condition and access method.
CATALOG = """
SELECT c.relname, t.relname, i.indisprimary, i.indisunique, am.amname, pg_get_indexdef(i.indexrelid),
       pg_get_expr(i.indpred, i.indrelid), i.indnkeyatts,
       array(SELECT coalesce(a.attname, '') FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(num, n)
             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num ORDER BY k.n),
       i.indoption::int2[]
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_class t ON t.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_am am ON am.oid = c.relam
 WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
 ORDER BY t.relname, c.relname
"""


@dataclass(frozen=True)
class Captured:
    change: StateChange
    measurements: tuple[Measurement, ...]
    existing: tuple[ExistingIndex, ...]


def existing_indexes(url: str) -> list[ExistingIndex]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(CATALOG).fetchall()
    found = []
    for name, table, primary, unique, method, definition, predicate, nkeys, columns, options in rows:
        keyed = list(columns[:nkeys])
        keys = () if "" in keyed else tuple(Key(c, bool(o & 1)) for c, o in zip(keyed, options, strict=False))
        found.append(
            ExistingIndex(
                name=name,
                table=table,
                keys=keys,
                include=tuple(columns[nkeys:]),
                predicate=predicate,
                unique=unique,
                primary=primary,
                method=method,
                definition=definition,
            )
        )
    return found


def used(existing: list[ExistingIndex], measurements: tuple[Measurement, ...]) -> list[ExistingIndex]:
    """Each index with the scenarios whose plans use it."""
    users: dict[str, list[str]] = {}
    for m in measurements:
        for plan in m.plans:
            for name in plan.index_names:
                users.setdefault(name, [])
                if m.scenario not in users[name]:
                    users[name].append(m.scenario)
    return [dataclasses.replace(i, used_by=tuple(users.get(i.name, ()))) for i in existing]


def _side_facts(scenario: Scenario, cases: list[Case], state: str) -> list[Measurement]:
    found: list[Measurement] = []
    for case in cases:
        try:
            measured = facts(scenario, case, scenario.baseline, state)
        except Exception as exc:  # the scenario's own error: recorded, the others still captured
            found.append(failed(scenario.name, case, scenario.baseline, state, describe(exc)))
            continue
        # The whole JSON plan would make the file large; the summary keeps what the report shows.
        plans = tuple(dataclasses.replace(p, raw=None) for p in measured.plans)
        found.append(dataclasses.replace(measured, plans=plans))
    return found


def capture(target: db.Target, state: State, scenarios: dict[str, Scenario], tag: str) -> Captured:
    """On a copy of target moved to `state`, dropped afterwards."""
    connection.close()
    copied = clones.clone(target, clones.name_for(target, tag, "capture"))
    try:
        db.switch_django(copied)
        change = reach(state)
        if not change.ok:
            return Captured(change, (), ())
        cases, failures = draw(scenarios, None)
        measurements = list(failures)
        for name, scenario in scenarios.items():
            if any(f.scenario == name for f in failures):
                continue
            measurements += _side_facts(scenario, cases[name], state.name)
        connection.close()
        existing = used(existing_indexes(copied.url), tuple(measurements))
    finally:
        db.switch_django(target)
        clones.drop_all(target, [copied])
    return Captured(change, tuple(measurements), tuple(existing))
