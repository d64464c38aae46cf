"""A seed plan checked against the Django models: every field's kind settled, defaults by type filled,
unique constraints made to hold, models ordered parents first. Needs Django set up; draws nothing."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.apps.registry import Apps
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection, models
from django.db.models.fields import NOT_PROVIDED

from django_index_bench.seed import encoders, hooks
from django_index_bench.seed.binary import PG_EPOCH_US
from django_index_bench.seed.distributions import (
    DAY_US,
    FLOAT_WIRES,
    INTEGER_WIRES,
    UNIX_DAY_OF_PG_EPOCH,
    Column,
    ResolvedModel,
    encoded_wire,
    parse_moment,
)
from django_index_bench.seed.encoders import ELEMENT_OIDS, RANGE_SUBTYPES
from django_index_bench.seed.inputs import SeedInputError
from django_index_bench.seed.plan import DAILY, WEEKLY, ModelPlan, SeedPlan, model_key
from django_index_bench.seed.plan_unique import uniques

DEFAULT_SKEW = 0.5
DEFAULT_POOL = 1000
# A fixed calendar, not "now": the same plan and seed must give the same rows next year too.
DEFAULT_START, DEFAULT_END = parse_moment("2025-10-01"), parse_moment("2026-10-01")
WIRE_BOUNDS = {"int2": 2**15 - 1, "int4": 2**31 - 1, "int8": 2**63 - 1}
# The Faker provider an omitted text field gets: by the field's class, else by a word in its name.
BY_CLASS = {"EmailField": "email", "URLField": "url", "SlugField": "slug", "TextField": "paragraph"}
BY_NAME = (
    ("email", "email"), ("first_name", "first_name"), ("last_name", "last_name"), ("name", "name"),
    ("phone", "phone_number"), ("mobile", "phone_number"), ("city", "city"), ("country", "country"),
    ("address", "street_address"), ("company", "company"), ("title", "sentence"), ("url", "url"),
    ("slug", "slug"), ("description", "paragraph"),
)  # fmt: skip
# The drawing kinds each wire type accepts (besides value, and fk for foreign keys).
ACCEPTS = {
    "faker": ("text",),
    "template": ("text", "json", "jsonb"),
    "choices": ("text", "bool", "numeric", "json", "jsonb", "inet", "interval", *INTEGER_WIRES, *FLOAT_WIRES),
    "time": ("date", "timestamptz", "timestamp", "daterange", "tstzrange", "tsrange"),
    "true": ("bool",),
    "range": ("numeric", "interval", "int4range", "int8range", *INTEGER_WIRES, *FLOAT_WIRES),
    "network": ("inet",),
    "length": ("bytea",),  # and arrays, whose wires end in "[]"
    "document": ("json", "jsonb", "hstore"),
}
# Range fields whose bounds a plan can draw: the lower bound as its subtype's range or time, then a span.
DRAWN_RANGES = ("int4range", "int8range", "daterange", "tstzrange", "tsrange")
DEFAULT_SPAN = {"int4": [1, 100], "int8": [1, 100], "date": [1, 30], "timestamptz": [60, 86_400]}
DEFAULT_SPAN["timestamp"] = DEFAULT_SPAN["timestamptz"]

if TYPE_CHECKING:
    Field = models.Field[Any, Any]


WIRE_OF_TYPE = {
    "smallint": "int2",
    "smallserial": "int2",
    "integer": "int4",
    "serial": "int4",
    "bigint": "int8",
    "bigserial": "int8",
    "double precision": "float8",
    "real": "float4",
    "boolean": "bool",
    "timestamp with time zone": "timestamptz",
    "timestamp": "timestamp",
    "timestamp without time zone": "timestamp",
    "time": "time",
    "time without time zone": "time",
    "date": "date",
    "uuid": "uuid",
    "varchar": "text",
    "character varying": "text",
    "text": "text",
    "char": "text",
    "character": "text",
    "citext": "text",
    "jsonb": "jsonb",
    "json": "json",
    "numeric": "numeric",
    "inet": "inet",
    "interval": "interval",
    "bytea": "bytea",
    "hstore": "hstore",
    **{name: name for name in RANGE_SUBTYPES},
}


def _db_type(field: Field) -> str:
    return re.sub(r"\(.*?\)", "", (field.db_type(connection) or "").lower()).strip()


def wire_of(field: Field) -> str | None:
    """The binary COPY type the field's column takes, from its database type; None: not supported. A
    one-dimensional array of a built-in type is its element's wire and "[]"."""
    db_type = _db_type(field)
    if db_type.endswith("[]"):
        element = db_type[:-2].strip()
        wire = WIRE_OF_TYPE.get(element)
        return f"{wire}[]" if wire is not None and element in ELEMENT_OIDS else None
    return WIRE_OF_TYPE.get(db_type)


def _refused(field: Field, why: str) -> str:
    """One line naming the table, the column and its type, for a field the plan cannot fill."""
    table = field.model._meta.db_table
    return f"{table}.{field.column} ({type(field).__name__}, {field.db_type(connection)}): {why}"


@dataclasses.dataclass(frozen=True)
class _Context:
    plan: SeedPlan
    planned: dict[str, int]  # canonical label -> rows

    def fail(self, key: str, expected: str) -> SeedInputError:
        return SeedInputError(f"{self.plan.path}: {key}: {expected}")


def resolve(
    plan: SeedPlan, counts: Mapping[str, int], registry: Apps | None = None
) -> tuple[tuple[ResolvedModel, int], ...]:
    """Each planned model settled, with its rows from `counts` (keyed by the plan's label, the model's
    label or its table; missing: the plan's rows), parents first. SeedInputError (one line) otherwise.
    registry: the models as they are at the seeded schema state (Django's migration state); None:
    today's model classes."""
    found = [(mp, _model(plan, mp.label, registry or apps)) for mp in plan.models]
    seen: dict[str, str] = {}
    for mp, model in found:
        if model._meta.label in seen:
            raise SeedInputError(
                f"{plan.path}: {model_key(mp.label)}: planned twice (also as {seen[model._meta.label]})"
            )
        seen[model._meta.label] = mp.label
    keys = {k for mp, m in found for k in (mp.label, m._meta.label, m._meta.db_table)}
    unknown = sorted(set(counts) - keys)
    if unknown:
        planned = ", ".join(f"{m._meta.label} ({m._meta.db_table})" for _, m in found)
        raise SeedInputError(
            f"{plan.path}: no planned model or table {', '.join(unknown)}; planned: {planned}"
        )
    rows = {m._meta.label: _rows(counts, mp, m) for mp, m in found}
    context = _Context(plan, rows)
    resolved = [_resolve_model(context, mp, model) for mp, model in found]
    return tuple((m, rows[m.label]) for m in _parents_first(plan, resolved))


def _rows(counts: Mapping[str, int], mp: ModelPlan, model: type[models.Model]) -> int:
    for key in (model._meta.db_table, model._meta.label, mp.label):
        if key in counts:
            return counts[key]
    return mp.rows


def _model(plan: SeedPlan, label: str, registry: Apps) -> type[models.Model]:
    try:
        return registry.get_model(label)
    except (LookupError, ValueError):
        known = sorted(m._meta.label for m in registry.get_models())
        shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
        raise SeedInputError(
            f"{plan.path}: {model_key(label)}: unknown model; expected app_label.ModelName of an installed "
            f"app, one of: {shown}"
        ) from None


def _resolve_model(context: _Context, mp: ModelPlan, model: type[models.Model]) -> ResolvedModel:
    key = model_key(mp.label)
    concrete = model._meta.concrete_model
    if model._meta.proxy and concrete is not None:
        raise context.fail(key, f"a proxy model; plan its concrete model {concrete._meta.label}")
    fields: list[Field] = list(model._meta.local_concrete_fields)
    names = {f.name: f for f in fields} | {f.attname: f for f in fields}
    for name in mp.fields:
        if name not in names:
            raise context.fail(
                f"{key}.fields.{name}",
                f"unknown field; fields of {model._meta.label}: {', '.join(f.name for f in fields)}",
            )
    specs = {names[name].name: spec for name, spec in mp.fields.items()}
    label = model._meta.label
    columns: dict[str, Column] = {}
    for field in fields:
        column = _column(context, f"{key}.fields.{field.name}", label, field, specs.get(field.name, {}))
        if column is not None:
            columns[field.name] = column
    for name, column in columns.items():
        follows = columns.get(column.params.get("via", ""))
        if "via" in column.params and (follows is None or follows.null >= 1 or "via" in follows.params):
            raise context.fail(
                f"{key}.fields.{name}.via", f"{column.params['via']} must be drawn, not NULL or via"
            )
    columns = uniques(context.fail, key, model, columns, specs, context.planned)
    checked_copies(context, key, columns, context.planned[label])
    code = ""
    if mp.hook is not None:
        try:
            code = hooks.fingerprint(hooks.load(mp.hook))
        except ValueError as exc:
            raise context.fail(f"{key}.hook", str(exc)) from None
    return ResolvedModel(label, model._meta.db_table, tuple(columns.values()), mp.hook, code)


def _column(context: _Context, key: str, label: str, field: Field, spec: dict[str, Any]) -> Column | None:
    null = float(spec.get("null", 0.0))
    if null > 0 and not field.null:
        raise context.fail(f"{key}.null", "the field is not nullable (null=False); leave null out")
    kind = spec.get("kind")
    wire = wire_of(field)
    base = Column(field.name, str(field.column), wire or "", "value", null=null)
    if field.is_relation and (field.many_to_one or field.one_to_one):
        return _foreign_key(context, key, label, field, spec, base)
    if wire is None:
        if (field.null or field.db_default is not NOT_PROVIDED) and kind is None:
            return None  # left to the database: NULL or its db_default
        raise context.fail(
            key,
            _refused(field, "no generator for this type; leave it out of the plan, and make it nullable "
                     "or give it a db_default"),
        )  # fmt: skip
    if wire in JSON_WIRES and kind is None and (field.null or field.db_default is not NOT_PROVIDED):
        return None  # left to the database, as before JSON values could be planned
    if null >= 1:
        return base
    if spec.get("sorted") and kind not in (None, "time", "range"):
        raise context.fail(f"{key}.sorted", "only dates, datetimes and number ranges can be sorted")
    if "span" in spec and wire not in DRAWN_RANGES:
        raise context.fail(
            f"{key}.span", f"span is for integer, date and datetime range fields, not {type(field).__name__}"
        )
    if kind is None and (encodes(field) or wire in ("hstore", "numrange", *JSON_WIRES)):
        kind, spec = "python", {**spec, "python": _python_default(context, key, field, wire)}
    if kind is None:
        kind, params = _default(field, wire)
        params["sorted"] = spec.get("sorted", False)
        if wire in DRAWN_RANGES:
            params = _typed_params(context, key, field, wire, kind, params, spec)
            kind = "bounds"
    elif wire in DRAWN_RANGES and kind in ("range", "time"):
        params = _typed_params(
            context, key, field, wire, kind, _explicit(context, key, field, wire, kind, spec), spec
        )
        kind = "bounds"
    else:
        params = _explicit(context, key, field, wire, kind, spec)
        if kind == "python":  # settled to its stored form: drawn as a value (a JSON default: documents)
            kind = "value" if "value" in params else "document"
    if wire.endswith("[]") and kind == "length":
        params = _typed_params(context, key, field, wire, kind, params, spec)
    if wire == "numeric":
        params |= dict(zip(("digits", "scale"), _numeric(field), strict=True))
    return dataclasses.replace(base, kind=kind, params=params)


def encodes(field: Field) -> bool:
    """Does the field store its values through code of its own (a pickled or encrypted field's
    get_prep_value or get_db_prep_value)? Then text drawn for its column would be no value it can read;
    an omitted one takes the field's default, encoded by that code."""
    cls = type(field)
    if cls.__module__.startswith("django."):
        return False
    base = next(c for c in cls.__mro__ if c.__module__.startswith("django."))
    return any(getattr(cls, m) is not getattr(base, m) for m in ("get_prep_value", "get_db_prep_value"))


def _python_default(context: _Context, key: str, field: Field, wire: str) -> Any:
    """An omitted field drawn by no generator of its type: the Python value the app would give it, its
    default; a JSON field without one gets small documents instead."""
    if field.has_default():
        return field.get_default()
    if wire in JSON_WIRES:
        return None
    raise context.fail(
        key,
        _refused(field, "no generator for this type and no default; give it python = ... (the value the "
                 "app would assign) or value = ... (the column's stored form)"),
    )  # fmt: skip


def _typed_params(
    context: _Context,
    key: str,
    field: Field,
    wire: str,
    kind: str,
    params: dict[str, Any],
    spec: dict[str, Any],
) -> dict[str, Any]:
    """A range field's lower bound and span, or an array's length and elements, settled."""
    if wire in DRAWN_RANGES:
        subtype = RANGE_SUBTYPES[wire]
        span = spec.get("span", DEFAULT_SPAN[subtype])
        lower = {k: v for k, v in params.items() if k != "sorted"}
        return {"subtype": subtype, "lower": {"kind": kind, "params": lower}, "span": list(span)}
    base_field = field.base_field  # type: ignore[attr-defined]
    element_wire = wire[:-2]
    out = {**params, "oid": ELEMENT_OIDS[_db_type(base_field)], "element_wire": element_wire}
    out["length"] = list(params.get("length", [0, 5]))
    if "items" in params:
        out["items"] = [
            _convert(context, f"{key}.items", base_field, element_wire, v, None, hex_of=True)
            for v in params["items"]
        ]
    else:
        if element_wire not in ("text", "numeric", "bool", "date", "timestamptz", "timestamp", "uuid", "time",
                                *INTEGER_WIRES, *FLOAT_WIRES):  # fmt: skip
            raise context.fail(
                key, _refused(field, f"no generator for arrays of {element_wire}; give items = [...]")
            )
        element_kind, element = _default(base_field, element_wire)
        if element_wire == "numeric":
            element |= dict(zip(("digits", "scale"), _numeric(base_field), strict=True))
        out["element"] = {"kind": element_kind, "params": element}
    out.pop("sorted", None)
    return out


def _foreign_key(
    context: _Context, key: str, label: str, field: Field, spec: dict[str, Any], base: Column
) -> Column | None:
    kind = spec.get("kind")
    if kind not in (None, "fk"):
        raise context.fail(key, f"a foreign key takes skew and null, not {kind}")
    if spec.get("sorted"):
        raise context.fail(f"{key}.sorted", "only dates, datetimes and number ranges can be sorted")
    assert field.related_model is not None
    assert not isinstance(field.related_model, str)
    parent = field.related_model._meta.label
    if base.null >= 1:
        return base
    if parent == label:
        if field.null and kind is None:
            return dataclasses.replace(base, null=1.0)  # a tree's links: left NULL
        raise context.fail(key, "a foreign key to its own model can only be left NULL (null = 1)")
    if parent not in context.planned:
        raise context.fail(
            key,
            f'foreign key to {parent}, which the plan does not seed; add [models."{parent}"]'
            + (", or null = 1" if field.null else ""),
        )
    target = field.target_field.column  # type: ignore[attr-defined]
    if "via" in spec:
        params = _via(context, f"{key}.via", field, spec["via"])
    else:
        params = {"skew": float(spec.get("skew", DEFAULT_SKEW))}
    return dataclasses.replace(base, kind="fk", params=params, parent=parent, target=target)


def _via(context: _Context, key: str, field: Field, via: str) -> dict[str, Any]:
    """A foreign key copied from the row's parent: `first` of this model, then `second` of its parent."""
    first_name, second_name = via.split(".")
    model = field.model
    first = _relation(model, first_name)
    if first is None or first is field or first.related_model is None or isinstance(first.related_model, str):
        others = [f.name for f in model._meta.local_concrete_fields if f.is_relation and f is not field]
        raise context.fail(
            key,
            f"{first_name} is not another foreign key of {model._meta.label}; "
            f"they are: {', '.join(others) or 'none'}",
        )
    middle = first.related_model
    if middle._meta.label not in context.planned or middle._meta.label == model._meta.label:
        raise context.fail(key, f"{first_name} must point to another planned model")
    second = _relation(middle, second_name)
    if (
        second is None
        or second.related_model is not field.related_model
        or second.target_field.column != field.target_field.column  # type: ignore[attr-defined]
    ):
        raise context.fail(
            key,
            f"{second_name} is not a foreign key of {middle._meta.label} to "
            f"{field.related_model._meta.label}",  # type: ignore[union-attr]
        )
    return {"via": first.name, "via_model": middle._meta.label, "via_column": second.column}


def _relation(model: type[models.Model], name: str) -> Field | None:
    try:
        found = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if isinstance(found, models.Field) and found.concrete and (found.many_to_one or found.one_to_one):
        return found
    return None


def _default(field: Field, wire: str) -> tuple[str, dict[str, Any]]:
    if field.primary_key and isinstance(
        field, models.AutoField | models.BigAutoField | models.SmallAutoField
    ):
        return "sequence", {}
    if field.choices:
        return "choices", {"choices": [(v, 1.0) for v, _ in field.flatchoices]}
    if wire == "text":
        return "faker", {
            "faker": _provider(field),
            "pool": DEFAULT_POOL,
            "args": {},
            "max_length": field.max_length,
        }
    if wire in INTEGER_WIRES:
        return "range", {"min": 0, "max": 100 if wire == "int2" else 10_000}
    if wire in FLOAT_WIRES:
        return "range", {"min": 0.0, "max": 1000.0, "round": 2}
    if wire == "numeric":
        digits, scale = _numeric(field)
        return "range", {
            "min": 0,
            "max": min(1000.0, 10 ** (digits - scale) - 10**-scale),
            "digits": digits,
            "scale": scale,
        }
    if wire == "bool":
        return "true", {"true": 0.5}
    if wire in ("date", "timestamptz", "timestamp"):
        return "time", _time({})
    if wire == "time":
        return "clock", {}
    if wire == "inet":
        return "network", {
            "network": "fd00::/8" if getattr(field, "protocol", "") == "ipv6" else "10.0.0.0/8"
        }
    if wire == "interval":
        return "range", {"min": 0, "max": 86_400}
    if wire == "bytea" or wire.endswith("[]"):
        return "length", {"length": [16, 64] if wire == "bytea" else [0, 5]}
    if wire in DRAWN_RANGES:
        subtype = RANGE_SUBTYPES[wire]
        return ("time", _time({})) if subtype not in INTEGER_WIRES else ("range", {"min": 0, "max": 10_000})
    return "uuid", {}


def _provider(field: Field) -> str:
    by_class = BY_CLASS.get(type(field).__name__)
    if by_class:
        return by_class
    for word, provider in BY_NAME:
        if word in field.name.lower():
            return provider
    return "word" if (field.max_length or 100) < 30 else "sentence"


def _numeric(field: Field) -> tuple[int, int]:
    digits = min(int(getattr(field, "max_digits", None) or 18), 18)
    return digits, int(getattr(field, "decimal_places", None) or 0)


def _time(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "start": spec.get("start", DEFAULT_START),
        "end": spec.get("end", DEFAULT_END),
        "growth": spec.get("growth", 1.0),
        "weekly": spec.get("weekly", WEEKLY["flat"]),
        "daily": spec.get("daily", DAILY["flat"]),
        "sorted": spec.get("sorted", False),
    }


def _explicit(
    context: _Context, key: str, field: Field, wire: str, kind: str, spec: dict[str, Any]
) -> dict[str, Any]:
    type_name = type(field).__name__
    if kind == "fk":
        raise context.fail(f"{key}.skew", f"skew is for foreign keys; {field.name} is a {type_name}")
    if kind in ("derived", "ranked"):
        return _correlated(context, key, field, wire, kind, spec)
    if kind == "python":
        allowed = [v for v, _ in field.flatchoices] if field.choices else None
        if allowed is not None and spec["python"] not in allowed:
            raise context.fail(f"{key}.python", f"{spec['python']!r} is not one of the field's choices")
        try:
            if wire in JSON_WIRES:  # get_db_prep_save gives the driver's adapter, not the text
                encoder = getattr(field, "encoder", None)
                python = spec["python"]
                stored = json.dumps(field.get_prep_value(python), cls=encoder) if python is not None else None
            else:
                stored = field.get_db_prep_save(spec["python"], connection)
        except (ValidationError, TypeError, ValueError) as exc:
            raise context.fail(f"{key}.python", f"{type(field).__name__} refused it: {exc}") from None
        if stored is None and wire in JSON_WIRES and not field.null:  # no default: small documents
            return {
                "document": {
                    "n": {"leaf": "range", "min": 0, "max": 10_000},
                    "word": {"leaf": "faker", "faker": "word"},
                }
            }
        if stored is None:
            raise context.fail(f"{key}.python", "it is stored as NULL; give null = 1 instead")
        return {"value": _convert(context, f"{key}.python", field, wire, stored, None, prepped=True)}
    if kind not in ("value", "python") and not _accepts(kind, wire):
        fits = ", ".join(k for k, wires in ACCEPTS.items() if wire in wires) or "value"
        raise context.fail(key, f"{kind} does not fit a {type_name}; it takes {fits}, value or null")
    allowed = [v for v, _ in field.flatchoices] if field.choices else None
    if allowed is not None and kind not in ("choices", "value", "python"):
        raise context.fail(key, f"the field has choices; give choices (some of {_show(allowed)}) or value")
    params = {k: v for k, v in spec.items() if k not in ("kind", "null")}
    if kind == "faker":
        _check_provider(context, key, context.plan.locale, spec)
        params["max_length"] = field.max_length
    elif kind == "template":
        longest = spec["template"].format(n=context.planned[field.model._meta.label])
        _fits(context, f"{key}.template", field, longest)
    elif kind == "choices":
        params["choices"] = [
            (_convert(context, f"{key}.choices", field, wire, v, allowed), w) for v, w in spec["choices"]
        ]
    elif kind == "value":
        params["value"] = _convert(context, f"{key}.value", field, wire, spec["value"], allowed)
    elif kind == "time":
        params = _time(spec)
        if params["end"] <= params["start"]:
            side = "end" if "end" in spec else "start"
            raise context.fail(
                f"{key}.{side}",
                "expected start before end (the default range is 2025-10-01 to 2026-10-01: give both)",
            )
    elif kind == "range":
        params = _range(context, key, field, wire, spec)
    elif kind == "template" and wire in JSON_WIRES:
        try:
            json.loads(spec["template"].format(n=1))
        except ValueError:
            raise context.fail(f"{key}.template", f"{spec['template']!r} does not give JSON text") from None
    elif (
        kind == "document"
        and wire == "hstore"
        and any(leaf["leaf"] not in ("faker", "choices") for leaf in spec["document"].values())
    ):
        raise context.fail(f"{key}.document", "an hstore holds text: give lists of values or Faker providers")
    return params


def _accepts(kind: str, wire: str) -> bool:
    return wire in ACCEPTS.get(kind, ()) or (kind == "length" and wire.endswith("[]"))


JSON_WIRES = ("json", "jsonb")
# Wires whose values a derived field can offset and a ranked field can order by.
ORDERED = ("date", "timestamptz", "timestamp", *INTEGER_WIRES, *FLOAT_WIRES)


def _other(context: _Context, key: str, field: Field, name: str) -> Field:
    """Another field of the same model, one with ordered values (a number, a date or a datetime)."""
    model = field.model
    try:
        other = model._meta.get_field(name)
    except FieldDoesNotExist:
        raise context.fail(key, f"{model._meta.label} has no field {name!r}") from None
    if other is field or not isinstance(other, models.Field) or other.is_relation:
        raise context.fail(key, f"expected another field of {model._meta.label} with numbers or moments")
    if wire_of(other) not in ORDERED:
        raise context.fail(key, f"{name} is a {type(other).__name__}; expected a number, date or datetime")
    return other


def _correlated(
    context: _Context, key: str, field: Field, wire: str, kind: str, spec: dict[str, Any]
) -> dict[str, Any]:
    """A derived field (another one's value plus an offset, of the same type) or a ranked one (`set` in
    the first rows of an order, `else` in the rest): their source is settled to its column here."""
    if field.unique:
        raise context.fail(key, f"{kind} values are not distinct; {field.name} is unique")
    allowed = [v for v, _ in field.flatchoices] if field.choices else None
    if kind == "derived" and "offset" not in spec:
        return _copy(context, f"{key}.from", field, wire, spec["from"])
    if kind == "derived":
        source = _other(context, f"{key}.from", field, spec["from"])
        if wire_of(source) != wire:
            raise context.fail(
                f"{key}.from",
                f"{source.name} and {field.name} must be of one type to offset one by the other",
            )
        return {"from": str(source.column), "offset": list(spec["offset"])}
    descending = spec["order_by"].startswith("-")
    source = _other(context, f"{key}.order_by", field, spec["order_by"].lstrip("-"))
    return {
        "first": spec["first"],
        "order_by": str(source.column),
        "descending": descending,
        "set": _convert(context, f"{key}.set", field, wire, spec["set"], allowed),
        "else": _convert(context, f"{key}.else", field, wire, spec["else"], allowed),
    }


# A derived copy's conversions: this field's wire -> the wires it can be copied from (besides its own).
COPIES = {"text": ("uuid", *INTEGER_WIRES), **dict.fromkeys(INTEGER_WIRES, ("text", *INTEGER_WIRES))}


def _copy(context: _Context, key: str, field: Field, wire: str, name: str) -> dict[str, Any]:
    """{ from = "object_id" } without offset: the other field's value in this one's type (its text, or
    the number its text holds), as an app keeps object_pk = str(object_id)."""
    model = field.model
    try:
        other = model._meta.get_field(name)
    except FieldDoesNotExist:
        raise context.fail(key, f"{model._meta.label} has no field {name!r}") from None
    if other is field or not isinstance(other, models.Field) or not other.concrete:
        raise context.fail(key, f"expected another field of {model._meta.label} with a column")
    source = wire_of(other.target_field if other.is_relation else other)  # type: ignore[attr-defined]
    if source is None or (source != wire and source not in COPIES.get(wire, ())):
        raise context.fail(
            key, f"{type(field).__name__} cannot be copied from a {type(other).__name__} ({name}); a copy "
            "is of one type, text of a number or UUID, or a number of text"
        )  # fmt: skip
    return {"from": str(other.column), "from_wire": source}


def checked_copies(context: _Context, key: str, columns: dict[str, Column], rows: int) -> None:
    """A derived field reads a drawn column that is neither derived nor ranked, and a ranked one orders by
    a field that is not ranked (so no two fields read each other); a number copied from text
    reads text that holds whole numbers (a template of {n}, choices or a value), checked here rather than
    when the rows are drawn."""
    by_column = {c.column: c for c in columns.values()}
    for name, column in columns.items():
        if (
            column.kind == "ranked"
            and getattr(by_column.get(column.params["order_by"]), "kind", "") == "ranked"
        ):
            raise context.fail(f"{key}.fields.{name}.order_by", "its field must not be ranked itself")
        if column.kind != "derived":
            continue
        where = f"{key}.fields.{name}.from"
        source = by_column.get(column.params["from"])
        if source is None or source.null >= 1 or source.kind in ("derived", "ranked"):
            raise context.fail(
                where, "its field must be drawn (not NULL, derived, ranked or left to the database)"
            )
        if "offset" in column.params or column.wire not in INTEGER_WIRES or source.wire != "text":
            continue
        if source.kind == "template":
            samples = [source.params["template"].format(n=i) for i in (1, rows)]
        elif source.kind in ("choices", "value"):
            samples = (
                [str(v) for v, _ in source.params["choices"]]
                if source.kind == "choices"
                else [str(source.params["value"])]
            )
        elif source.kind == "fk":
            continue  # the parent's key: checked when drawn
        else:
            raise context.fail(
                where,
                f"{source.field} is drawn by {source.kind}; a number can be read only from a template "
                "of {n}, choices or a value",
            )
        for sample in samples:
            if not sample.lstrip("-").isdigit():
                raise context.fail(where, f"{source.field} gives {sample!r}, which is not a whole number")


def _range(context: _Context, key: str, field: Field, wire: str, spec: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {k: spec[k] for k in ("min", "max", "round", "sorted") if k in spec}
    if "round" in spec and wire not in FLOAT_WIRES:
        raise context.fail(f"{key}.round", "round is for floats; integers and decimals are exact")
    if wire in INTEGER_WIRES:
        bound = WIRE_BOUNDS[wire]
        for end in ("min", "max"):
            value = spec[end]
            if not isinstance(value, int) or not -bound - 1 <= value <= bound:
                raise context.fail(
                    f"{key}.{end}", f"expected a whole number from {-bound - 1:,} to {bound:,}, got {value!r}"
                )
    if wire == "numeric":
        digits, scale = _numeric(field)
        limit = 10 ** (digits - scale)
        for end in ("min", "max"):
            if not -limit < spec[end] < limit:
                raise context.fail(
                    f"{key}.{end}",
                    f"expected a number of at most {digits - scale} integer digits, got {spec[end]!r}",
                )
        params |= {"digits": digits, "scale": scale}
    return params


def _check_provider(context: _Context, key: str, locale: str, spec: dict[str, Any]) -> None:
    from faker import Faker

    try:
        fake = Faker(locale)
    except AttributeError:
        raise context.fail("locale", f"unknown Faker locale {locale!r}; e.g. en_US, de_DE, fr_FR") from None
    make = getattr(fake, spec["faker"], None)
    if not callable(make):
        raise context.fail(
            f"{key}.faker", f"unknown Faker provider {spec['faker']!r}; e.g. name, email, sentence, company"
        )
    try:
        make(**spec.get("args", {}))
    except (TypeError, ValueError, AttributeError) as exc:
        raise context.fail(f"{key}.args", f"Faker's {spec['faker']} refused them: {exc}") from None


def _fits(context: _Context, key: str, field: Field, text: str) -> None:
    if field.max_length is not None and len(text) > field.max_length:
        raise context.fail(key, f"{text!r} is longer than the field's max_length {field.max_length}")


def _show(values: list[Any]) -> str:
    shown = ", ".join(map(str, values[:10]))
    return shown + (", ..." if len(values) > 10 else "")


def _convert(
    context: _Context,
    key: str,
    field: Field,
    wire: str,
    value: object,
    allowed: list[Any] | None,
    *,
    prepped: bool = False,
    hex_of: bool = False,
) -> Any:
    """A plan's value as the column stores it. Text goes in exactly as written: a field's to_python may
    decode what it stores (a pickled field would turn its stored form into the object's repr). For the
    other wires the field's own to_python decides what it accepts. `prepped`: the value is already what
    the field's get_db_prep_save gave. Wires without a numpy type (encoded_wire: inet, arrays, ranges,
    exact numerics, ...) settle to their binary form as hex text; `hex_of` asks that of any wire (an
    array's element)."""
    if encoded_wire(wire) or hex_of:
        return _binary(context, key, field, wire, value, allowed, prepped, hex_of)
    if wire in JSON_WIRES:
        if not isinstance(value, str):
            why = f"expected the column's JSON text, got {value!r}; a TOML value goes in python"
            raise context.fail(key, why)
        try:
            json.loads(value)
        except ValueError:
            raise context.fail(key, f"{value!r} is not JSON text") from None
        return ("\x01" if wire == "jsonb" else "") + value  # jsonb's binary format: version 1, then the text
    if wire == "text":
        if not isinstance(value, str | int | float | bool) and parse_moment(value) is None:
            raise context.fail(
                key, f"expected the column's text, got {value!r}; give a Python value as python"
            )
        text = str(value)
        if allowed is not None and text not in [str(a) for a in allowed]:
            raise context.fail(key, f"{value!r} is not one of the field's choices: {_show(allowed)}")
        _fits(context, key, field, text)
        return text
    try:
        python = field.to_python(value)
    except ValidationError:
        raise context.fail(key, f"{value!r} is not a valid value of a {type(field).__name__}") from None
    if allowed is not None and python not in allowed:
        raise context.fail(key, f"{value!r} is not one of the field's choices: {_show(allowed)}")
    if wire in ("date", "timestamptz", "timestamp"):
        moment = parse_moment(python)
        if moment is None:
            raise context.fail(key, f"expected a date or datetime, got {value!r}")
        return moment // DAY_US - UNIX_DAY_OF_PG_EPOCH if wire == "date" else moment - PG_EPOCH_US
    if wire in ("uuid", "time"):
        raise context.fail(key, f"a {type(field).__name__} takes no value in a plan; leave it out")
    if wire in ("json", "jsonb"):
        raise AssertionError("settled above")
    if wire == "bool" and not isinstance(python, bool):
        raise context.fail(key, f"expected true or false, got {value!r}")
    if wire in INTEGER_WIRES and (not isinstance(python, int) or abs(python) > WIRE_BOUNDS[wire]):
        raise context.fail(key, f"expected a whole number that fits {wire}, got {value!r}")
    return float(python) if wire in FLOAT_WIRES else python


def _binary(
    context: _Context,
    key: str,
    field: Field,
    wire: str,
    value: object,
    allowed: list[Any] | None,
    prepped: bool,
    hex_of: bool,
) -> str:
    """The value's binary form, as hex text. bytea's stored form is PostgreSQL's hex text ("\\x0a0b");
    any other value goes through the field's to_python and get_db_prep_save, as the ORM would save it."""
    element_oid = ELEMENT_OIDS.get(_db_type(field.base_field), 0) if wire.endswith("[]") else 0  # type: ignore[attr-defined]
    try:
        if prepped:
            stored = value
        elif wire == "bytea":
            if not isinstance(value, str) or not value.startswith("\\x"):
                raise context.fail(key, f"expected bytea's hex text such as \"\\\\x0a0b\", got {value!r}; "
                                   "text to store as UTF-8 goes in python")  # fmt: skip
            stored = bytes.fromhex(value[2:])
        else:
            python = field.to_python(value)
            if allowed is not None and python not in allowed:
                raise context.fail(key, f"{value!r} is not one of the field's choices: {_show(allowed)}")
            stored = field.get_db_prep_save(python, connection)
        if wire == "bytea" and isinstance(stored, str):
            stored = stored.encode()
        if wire == "numeric":
            stored = _exact(context, key, field, stored)
            if not hex_of:
                return str(stored)  # its decimal text: exact, and readable in the plan's identity
        return encoders.encode(wire, stored, element_oid).hex()
    except (ValidationError, ValueError, TypeError) as exc:
        if isinstance(exc, SeedInputError):
            raise
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        raise context.fail(key, f"{value!r} is not a value of a {type(field).__name__}: {message}") from None


def _exact(context: _Context, key: str, field: Field, value: object) -> Decimal:
    """A decimal as the column keeps it: rounded to its decimal places, refused when it has more integer
    digits than the column holds (the server would refuse it mid-COPY)."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    digits = getattr(field, "max_digits", None)
    places = getattr(field, "decimal_places", None)
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-int(places)))
        if digits is not None and number != 0 and number.adjusted() >= int(digits) - int(places):
            raise context.fail(key, f"{value} has more than {int(digits) - int(places)} integer digits")
    return number


def _parents_first(plan: SeedPlan, resolved: list[ResolvedModel]) -> list[ResolvedModel]:
    waiting = {
        m.label: {c.parent for c in m.columns if c.parent and c.null < 1 and c.parent != m.label}
        for m in resolved
    }
    ordered: list[ResolvedModel] = []
    while waiting:
        ready = [
            m for m in resolved if m.label in waiting and not waiting[m.label] - {o.label for o in ordered}
        ]
        if not ready:
            cycle = " -> ".join(sorted(waiting))
            raise SeedInputError(
                f"{plan.path}: models: foreign keys form a cycle among {cycle}; give one of them null = 1"
            )
        for model in ready:
            ordered.append(model)
            del waiting[model.label]
    return ordered
