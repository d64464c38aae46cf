"""Older results files read as the current schema, for what must still read them (compare's fallback
for a ref that predates pairing). Each upgrade says what the older file cannot have."""

from __future__ import annotations

import json
from typing import Any

from django_index_bench.bench.rounds.plan_relations import relations


def _timing_2(timing: dict[str, Any] | None) -> dict[str, Any] | None:
    if timing is None:
        return None
    return {
        "total_s": timing["samples_s"],
        "db_s": [],
        "pair": [],
        "first": [],
        "worker": [],
        "warmup_rounds": timing["warmup_rounds"],
        "timer": timing["timer"],
    }


def upgrade_2(data: dict[str, Any]) -> dict[str, Any]:
    """A schema 2 file as schema 3, for `bench compare` against a ref that predates pairing: its
    timings keep their samples, without pairs or database time, and its schedule says "blocks"."""
    data = json.loads(json.dumps(data))
    series = [data.get("measurements", []), data.get("cold", [])]
    series += [scale.get("measurements", []) for scale in data.get("scales", [])]
    for measurements in series:
        for m in measurements:
            m["timing"] = _timing_2(m.get("timing"))
    for change in data.get("states", []):
        change.setdefault("database", "")
    data["schedule"] = {
        "sides": "blocks",
        "workers": 1,
        "order_seed": 0,
        "warmup_rounds": 0,
        "min_pairs": 0,
        "max_pairs": 0,
        "precision": 0.0,
        "seconds": 0.0,
        "timer": "time.perf_counter",
        "timer_resolution_s": 0.0,
        "order": "none",
    }
    data["schema_version"] = 3
    return data


def upgrade_3(data: dict[str, Any]) -> dict[str, Any]:
    """A schema 3 file as schema 4: its costs were one measurement of each figure, so each reads as a
    single repetition (`order` "single"); what it did not record (how long a lock was held, the writer's
    stall distribution) stays None. Its writes ran before, then after: "before" went first."""
    data = json.loads(json.dumps(data))
    costs = data.get("costs")
    if costs is not None:
        costs["order"] = "single"
        for write in costs.get("writes", []):
            write["pair"] = 0
            write["first"] = write.get("state") == "before"
    data["schema_version"] = 4
    return data


def upgrade_4(data: dict[str, Any]) -> dict[str, Any]:
    """A schema 4 file as schema 5: nothing to change. Schema 4 had no `Costs.error`: a cost step that
    failed there wrote no file at all, so any costs it holds were measured (`error` stays None)."""
    return {**data, "schema_version": 5}


def upgrade_5(data: dict[str, Any]) -> dict[str, Any]:
    """A schema 5 file as schema 6: it did not time its steps, so it has none (`steps` empty); each
    plan's relations are read from its raw JSON (the same nodes the runner now reads them from); its
    state changes ran ANALYZE only and recorded no rewritten tables (the defaults)."""
    data = json.loads(json.dumps(data))
    series = [data.get("measurements", []), data.get("cold", [])]
    series += [scale.get("measurements", []) for scale in data.get("scales", [])]
    for measurements in series:
        for m in measurements:
            for plan in m.get("plans", []):
                plan.setdefault("relations", list(relations(plan.get("raw"))))
    data["steps"] = []
    data["schema_version"] = 6
    return data


def upgrade_6(data: dict[str, Any]) -> dict[str, Any]:
    """A schema 6 file as schema 7: nothing to change. Its calls ran in autocommit (`isolation` None),
    no measurement was known to write (`writes` False), and a cost step failed whole or not at all
    (`failures` empty; `Costs.error` says which)."""
    return {**data, "schema_version": 7}


def upgrade_7(data: dict[str, Any]) -> dict[str, Any]:
    """A schema 7 file as schema 8: nothing to change. No item could stop for slow rounds (`floor_pairs`
    0: no such floor), and every scale point was seeded and measured on its own (`reused` None)."""
    return {**data, "schema_version": 8}


def upgrade_8(data: dict[str, Any]) -> dict[str, Any]:
    """A schema 8 file as schema 9: nothing to change. It measured each (ref, state) on one database copy
    (`Schedule.copies` 1, no `worker_copies`: every worker on copy 0), with no prewarm recorded."""
    return {**data, "schema_version": 9}


def upgrade_9(data: dict[str, Any]) -> dict[str, Any]:
    """A schema 9 file as schema 10: nothing to change. It did not count its rounds' shared-buffer hits
    and reads (`Timing.blocks_hit`, `blocks_read` None): where its pages came from is not recorded."""
    return {**data, "schema_version": 10}


def upgrade_10(data: dict[str, Any]) -> dict[str, Any]:
    """A schema 10 file as schema 11: no confirmation recorded (`confirmation` None). Its calls stand on
    one measurement, and its report says nothing of a second one."""
    return {**data, "schema_version": 11, "confirmation": None}
