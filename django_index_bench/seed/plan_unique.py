"""Unique fields, unique_together and UniqueConstraint(fields=...) of a planned model, made to hold.

One distinct column makes a unique set distinct, so for each set one field is drawn without repeats:
an omitted field first (the plan's own specs stay as written), else one the plan gave a kind that can
be distinct. A set none of whose fields can be distinct at the planned rows is refused, one line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from django.db import models

from django_index_bench.seed import typed
from django_index_bench.seed.distributions import FLOAT_WIRES, Column
from django_index_bench.seed.inputs import SeedInputError


def _distinct(column: Column, rows: int, planned: dict[str, int]) -> str | None:
    """Why the column cannot be drawn with `rows` distinct values; None when it can."""
    p, kind = column.params, column.kind
    if column.null >= 1 or kind in ("sequence", "uuid"):
        return None
    if kind == "template":
        return None if p["template"].format(n=1) != p["template"].format(n=2) else "its template has no {n}"
    if kind == "faker":
        limit = p.get("max_length")
        return None if limit is None or limit >= len(str(rows)) + 2 else f"max_length {limit} is too short"
    if kind == "range" and column.wire == "interval":
        span = (round(float(p["max"]) * 1e6) - round(float(p["min"]) * 1e6)) + 1
        return None if span >= rows else f"min..max holds {span:,} microseconds for {rows:,} rows"
    if kind == "network":
        size = typed.network_size(p)
        return None if size >= rows else f"{p['network']} holds {size:,} addresses for {rows:,} rows"
    if kind == "length" and column.wire == "bytea":
        return (
            None if p["length"][0] >= 8 else "values shorter than 8 bytes can repeat; give length = [8, ...]"
        )
    if kind == "length":
        element = p["element_wire"]
        if "items" in p or element not in ("text", "int4", "int8"):
            return f"arrays of {element} from items can repeat; leave items out (arrays of text or integers)"
        return None  # the first element is the row's number
    if kind == "bounds":
        lower = Column(column.field, column.column, p["subtype"], **p["lower"])
        if lower.kind != "range":
            return "ranges from moments can repeat; give an integer range field distinct min..max"
        return _distinct(lower, rows, planned)
    if kind == "document":
        return "JSON documents can repeat; give it a template of {n} such as '{{\"n\": {n}}}'"
    if kind == "range" and column.wire not in FLOAT_WIRES:
        scale = int(p.get("scale", 0))
        span = round(float(p["max"]) * 10**scale) - round(float(p["min"]) * 10**scale) + 1
        return None if span >= rows else f"min..max holds {span:,} values for {rows:,} rows"
    if kind == "choices":
        k = len(p["choices"])
        return None if k >= rows else f"only {k:,} choices for {rows:,} rows"
    if kind == "fk" and "via" in p:
        return f"it follows {p['via']}; give it a skew instead"
    if kind == "fk":
        assert column.parent is not None
        parents = planned[column.parent]
        return None if parents >= rows else f"{column.parent} has {parents:,} rows for {rows:,}"
    if kind == "true":
        return None if rows <= 2 else f"a boolean has 2 values for {rows:,} rows"
    if kind == "value":
        return None if rows <= 1 else f"one value for {rows:,} rows"
    return "values drawn from a range can repeat; give it an integer range, a template of {n} or faker"


def _unique_sets(model: type[models.Model]) -> list[tuple[str, ...]]:
    sets: list[tuple[str, ...]] = [(f.name,) for f in model._meta.local_concrete_fields if f.unique]
    sets += [tuple(names) for names in model._meta.unique_together]
    sets += [
        tuple(c.fields)
        for c in model._meta.constraints
        if isinstance(c, models.UniqueConstraint) and c.fields and c.condition is None
    ]
    return sets


def uniques(
    fail: Callable[[str, str], SeedInputError],
    key: str,
    model: type[models.Model],
    columns: dict[str, Column],
    specs: dict[str, Any],
    planned: dict[str, int],
) -> dict[str, Column]:
    """The columns with, for every unique field or set of fields, one column drawn distinct; `fail(key,
    expected)` makes the error when the plan cannot satisfy one."""
    rows = planned[model._meta.label]
    by_name = {f.attname: f.name for f in model._meta.local_concrete_fields}
    for names in _unique_sets(model):
        names = tuple(by_name.get(n, n) for n in names)
        if any(n not in columns for n in names):
            continue  # a column the database fills: its default decides
        if any(columns[n].unique or columns[n].null >= 1 for n in names):
            continue
        reasons = {n: _distinct(columns[n], rows, planned) for n in names}
        # One field distinct makes the set distinct: an omitted field first, so the plan's own specs stay.
        able = sorted((n for n in names if reasons[n] is None), key=lambda n: n in specs)
        if able:
            columns[able[0]] = dataclasses.replace(columns[able[0]], unique=True)
            continue
        if len(names) == 1:
            raise fail(
                f"{key}.fields.{names[0]}",
                f"unique, but {reasons[names[0]]}; give it more values or plan fewer rows",
            )
        why = "; ".join(f"{n}: {r}" for n, r in reasons.items())
        raise fail(
            key,
            f"unique ({', '.join(names)}), but none of them can be drawn distinct ({why}); give one "
            "a template of {n}, a faker spec or a wide enough integer range",
        )
    return columns
