"""Draw a resolved seed plan's columns with numpy, as binary COPY columns (seed/binary.py).

Pure numpy: no Django here. seed/plan_models.py turns a plan and the models into ResolvedModel values
(every field's kind and parameters settled, defaults included); this module draws them. Every field has
its own random stream, keyed by the seed, the model and the field, so changing one field's spec leaves
every other column as it was. Text comes from a pool of distinct Faker values (Faker is slow per row;
indexing a pool with numpy is not).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
from faker import Faker

from django_index_bench.seed import binary, encoders, hooks, typed
from django_index_bench.seed.binary import Fixed, TableData, Text

Array = npt.NDArray[Any]
DAY_US, HOUR_US = 86_400_000_000, 3_600_000_000
UNIX_DAY_OF_PG_EPOCH = 10_957  # 2000-01-01
UNIX_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# numpy big-endian types of the binary wire format, by the plan's wire names ("numeric" is built apart).
WIRES = {
    "int2": ">i2",
    "int4": ">i4",
    "int8": ">i8",
    "float4": ">f4",
    "float8": ">f8",
    "bool": "?",
    "date": ">i4",
    "timestamptz": ">i8",
    "timestamp": ">i8",
    "time": ">i8",
    "uuid": "V16",
}
INTEGER_WIRES = ("int2", "int4", "int8")
# Wires whose values are strings, sent as their bytes (a jsonb string carries its format's version byte).
TEXT_WIRES = ("text", "json", "jsonb")
FLOAT_WIRES = ("float4", "float8")
# Wires whose settled values (value, choices, set/else) are their binary form, as hex text (JSON-safe for
# the plan's identity): seed/encoders.py encodes them. Arrays are "<element wire>[]" besides.
BYTES_WIRES = (
    "inet", "interval", "bytea", "hstore", "numeric",
    "int4range", "int8range", "numrange", "daterange", "tstzrange", "tsrange",
)  # fmt: skip


def encoded_wire(wire: str) -> bool:
    """Is a value of this wire settled to its binary form (hex) rather than a number or text?"""
    return wire in BYTES_WIRES or wire.endswith("[]")


@dataclass(frozen=True)
class Column:
    """One field, settled: how its column is drawn. `params` are the kind's, defaults filled in."""

    field: str  # the model field's name: names its random stream and its place in messages
    column: str  # the database column
    wire: str  # a key of WIRES, "numeric", or one of TEXT_WIRES
    kind: str  # sequence, fk, faker, template, choices, range, true, time, clock, uuid, value
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    null: float = 0.0  # share of NULLs
    unique: bool = False  # drawn distinct
    parent: str | None = None  # fk: the parent model's label
    target: str | None = None  # fk: the parent's column it references


@dataclass(frozen=True)
class ResolvedModel:
    label: str
    table: str
    columns: tuple[Column, ...]
    hook: str | None = None  # run on the drawn rows (seed/hooks.py)
    hook_code: str = ""  # its code's fingerprint: part of the plan's identity


@dataclass(frozen=True)
class PlanTable(TableData):
    """A drawn table, in the form seed/load.py's COPY loop takes (seed.source.Table); a chunk is encoded
    from the columns' own slices (see _local)."""

    def render(self, lo: int, hi: int) -> bytes:
        return binary.encode([_local(c, lo, hi) for c in self.columns], 0, hi - lo)


def _local(column: Fixed | Text, lo: int, hi: int) -> Fixed | Text:
    """Rows [lo, hi) of a column; a text column keeps only the values they use, because encode()
    encodes a whole vocabulary per chunk and a unique column's vocabulary has one value per row."""
    if isinstance(column, Fixed):
        return Fixed(
            column.name,
            column.wire,
            column.values[lo:hi],
            None if column.null is None else column.null[lo:hi],
        )
    index = column.index[lo:hi]
    if len(column.vocabulary) <= 4 * (hi - lo):
        return Text(column.name, column.vocabulary, index)
    used, local = np.unique(index, return_inverse=True)
    words = [column.vocabulary[i] for i in used.tolist() if i >= 0]
    if used.size and used[0] < 0:  # NULLs: -1 sorts first; keep them -1
        local = local - 1
    return Text(column.name, words, local)


def stream(seed: int, label: str, name: str, part: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(label.encode()), zlib.crc32(name.encode()), part])


def _p(weights: Sequence[float] | Array) -> Array:
    array: Array = np.asarray(weights, dtype=float)
    share: Array = array / array.sum()
    return share


def moments(rng: np.random.Generator, n: int, params: dict[str, Any], *, daily: bool = True) -> Array:
    """n instants (unix microseconds) in [start, end): the day's weight grows linearly from 1 to `growth`
    and follows the weekly rhythm; the hour follows the daily one."""
    start, end = int(params["start"]), int(params["end"])
    day0 = start - start % DAY_US
    days = max(1, math.ceil((end - day0) / DAY_US))
    weekday = (np.arange(days) + day0 // DAY_US + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    day = rng.choice(
        days, size=n, p=_p(np.asarray(params["weekly"])[weekday] * np.linspace(1.0, params["growth"], days))
    )
    values = day0 + day * DAY_US
    if daily:
        hour = rng.choice(24, size=n, p=_p(params["daily"]))
        values = values + hour * HOUR_US + rng.integers(0, HOUR_US, size=n)
    result: Array = np.clip(values, start, end - 1)
    return result


def faker_pool(locale: str, key: str, params: dict[str, Any], size: int, max_length: int | None) -> list[str]:
    """Up to `size` distinct Faker values, the same for the same key (seed, model, field)."""
    fake = Faker(locale)
    fake.seed_instance(key)
    make = getattr(fake, params["faker"])
    args = params.get("args", {})
    seen: dict[str, None] = {}
    for _ in range(size * 3):
        text = str(make(**args)).replace("\x00", "")
        seen.setdefault(text[:max_length] if max_length else text, None)
        if len(seen) >= size:
            break
    return list(seen)


def numeric(units: Array, scale: int, digits: int) -> Array:
    """PostgreSQL's binary numeric of integers `units` / 10**scale, every value with the same number of
    base-10000 digits (leading zeros are allowed on the wire; the server normalises them)."""
    frac = math.ceil(scale / 4)
    magnitude = np.abs(units).astype(np.int64) * 10 ** (4 * frac - scale)
    groups = max(frac + 1, math.ceil((digits - scale) / 4) + frac)
    record = np.empty(
        len(units), dtype=[("n", ">i2"), ("w", ">i2"), ("s", ">u2"), ("d", ">i2"), ("g", ">i2", groups)]
    )
    record["n"] = groups
    record["w"] = groups - frac - 1
    record["s"] = np.where(units < 0, 0x4000, 0)
    record["d"] = scale
    for k in range(groups):
        record["g"][:, k] = (magnitude // 10 ** (4 * (groups - 1 - k))) % 10_000
    return np.frombuffer(record.tobytes(), dtype=f"V{record.dtype.itemsize}")


def _values(column: Column, wire: str, values: Sequence[Any], index: Array) -> Fixed | Text:
    """Rows picking from `values` by index, in the column's wire type."""
    if wire in TEXT_WIRES:
        return Text(column.column, [str(v) for v in values], index)
    if wire == "numeric":  # exact: its decimal text (or a number), never through a float
        return Text(column.column, [encoders.numeric(Decimal(str(v))) for v in values], index)
    if encoded_wire(wire):
        return Text(column.column, [bytes.fromhex(str(v)) for v in values], index)
    if wire in ("date", "timestamptz", "timestamp", "time"):
        return Fixed(column.column, WIRES[wire], np.asarray(values, dtype=np.int64)[index])
    return Fixed(column.column, WIRES[wire], np.asarray(values)[index].astype(WIRES[wire]))


@dataclass
class Drawn:
    """The models drawn so far, for foreign keys to pick their parents' rows from."""

    seed: int
    locale: str
    rows: dict[str, int] = dataclasses.field(default_factory=dict)
    picks: dict[tuple[str, str], Array] = dataclasses.field(default_factory=dict)  # fk: parent row per row
    columns: dict[tuple[str, str], Fixed | Text] = dataclasses.field(default_factory=dict)


def draw_model(model: ResolvedModel, n: int, drawn: Drawn) -> PlanTable:
    columns: dict[str, Fixed | Text] = {}
    for column in _in_reading_order(model.columns):
        rng = stream(drawn.seed, model.label, column.field)
        if column.null >= 1.0:
            values: Fixed | Text = _all_null(column, n)
        else:
            values = _draw(column, model.label, n, rng, drawn)
            if column.null > 0:
                values = _with_nulls(
                    values, stream(drawn.seed, model.label, column.field, 1).random(n) < column.null
                )
        values = _fix_numeric(values)
        drawn.columns[(model.label, column.column)] = values
        columns[column.column] = values
    if model.hook is not None:
        names = {c.field: (c.column, c.wire) for c in model.columns} | {
            c.column: (c.column, c.wire) for c in model.columns
        }
        seed = int(stream(drawn.seed, model.label, "(hook)").integers(2**63))
        hooks.load(model.hook)(hooks.Rows(n, columns, names, seed))
        drawn.columns |= {(model.label, name): values for name, values in columns.items()}
    drawn.rows[model.label] = n
    return PlanTable(model.table, tuple(columns[c.column] for c in model.columns), n)


def _order(column: Column) -> int:
    return 2 if column.kind in ("derived", "ranked") else int("via" in column.params)


def _reads(column: Column) -> tuple[str, ...]:
    """The columns of its own row a column is drawn from."""
    return tuple(str(column.params[k]) for k in ("from", "order_by") if k in column.params)


def _in_reading_order(columns: Sequence[Column]) -> list[Column]:
    """Each column after those it reads: a key copied via another (fk `via`) after the one it follows, a
    derived or ranked field after its source, even when that source is itself ranked or derived. The
    plan refuses a cycle before anything is drawn; one here would be a bug, and raises."""
    by_column = {c.column: c for c in columns}
    ordered: list[Column] = []
    placed: set[str] = set()

    def place(column: Column, reading: frozenset[str]) -> None:
        if column.column in placed:
            return
        if column.column in reading:
            raise AssertionError(f"columns read each other: {', '.join(sorted(reading))}")
        for name in _reads(column):
            if name in by_column:
                place(by_column[name], reading | {column.column})
        placed.add(column.column)
        ordered.append(column)

    for column in sorted(columns, key=_order):
        place(column, frozenset())
    return ordered


def _fix_numeric(values: Fixed | Text) -> Fixed | Text:
    # Fixed.wire is a numpy type; a numeric column's width is known only once drawn.
    if isinstance(values, Fixed) and values.wire == "":
        return Fixed(values.name, values.values.dtype.str, values.values, values.null)
    return values


TYPED_KINDS = ("network", "length", "bounds", "document")


def _typed(column: Column, label: str, n: int, rng: np.random.Generator, drawn: Drawn) -> Fixed | Text:
    """The kinds of seed/typed.py: addresses, intervals, bytea, arrays, ranges, JSON documents."""
    p, wire, name = column.params, column.wire, column.column
    if column.kind == "network":
        return typed.network(name, p, n, rng, column.unique)
    if column.kind == "document":
        key = f"{drawn.seed}:{label}:{column.field}"

        def pool(leaf: str, provider: str, size: int) -> list[str]:
            return faker_pool(drawn.locale, f"{key}:{leaf}", {"faker": provider}, size, None)

        return typed.documents(name, wire, p["document"], n, rng, pool)
    if column.kind == "length" and wire == "bytea":
        return typed.byte_strings(name, p, n, rng, column.unique)
    if column.kind == "length":

        def elements(count: int) -> Fixed | Text:
            element = Column(column.field, name, p["element_wire"], **p["element"])
            rng = stream(drawn.seed, label, column.field, 2)
            return _fix_numeric(_draw(element, label, count, rng, drawn))

        return typed.arrays(name, p, n, rng, column.unique, elements)
    if column.kind == "bounds":
        lower = Column(column.field, name, p["subtype"], unique=column.unique, **p["lower"])
        drawn_lower = _draw(lower, label, n, rng, drawn)
        assert isinstance(drawn_lower, Fixed)
        return typed.ranges(
            name, p["subtype"], drawn_lower, p["span"], stream(drawn.seed, label, column.field, 3)
        )
    # an interval: microseconds uniform in [min, max] seconds (distinct when unique)
    lo, hi = round(float(p["min"]) * 1_000_000), round(float(p["max"]) * 1_000_000)
    micro = (
        rng.choice(hi - lo + 1, size=n, replace=False) + lo
        if column.unique
        else rng.integers(lo, hi + 1, size=n)
    )
    if p.get("sorted"):
        micro = np.sort(micro)
    return typed.intervals(name, micro)


def _all_null(column: Column, n: int) -> Fixed | Text:
    if column.wire in TEXT_WIRES or encoded_wire(column.wire):
        return Text(column.column, (), np.full(n, -1))
    wire = WIRES.get(column.wire, "V1")
    return Fixed(column.column, wire, np.zeros(n, dtype=wire), np.ones(n, dtype=bool))


def _with_nulls(values: Fixed | Text, mask: Array) -> Fixed | Text:
    if isinstance(values, Text):
        return Text(values.name, values.vocabulary, np.where(mask, -1, values.index))
    null = mask if values.null is None else (mask | values.null)
    return Fixed(values.name, values.wire, values.values, null)


def _take(parent: Fixed | Text, name: str, index: Array) -> Fixed | Text:
    if isinstance(parent, Text):
        return Text(name, parent.vocabulary, parent.index[index])
    return Fixed(name, parent.wire, parent.values[index], None if parent.null is None else parent.null[index])


def _draw(column: Column, label: str, n: int, rng: np.random.Generator, drawn: Drawn) -> Fixed | Text:
    p, wire = column.params, column.wire
    if column.kind == "sequence":
        return Fixed(column.column, WIRES[wire], np.arange(1, n + 1))
    if column.kind == "fk":
        assert column.parent is not None
        assert column.target is not None
        if "via" in p:
            index = drawn.picks[(label, p["via"])]
            return _take(drawn.columns[(p["via_model"], p["via_column"])], column.column, index)
        size = drawn.rows[column.parent]
        if column.unique:
            index = rng.choice(size, size=n, replace=False)
        elif p["skew"] == 0:
            index = rng.integers(0, size, size=n)
        else:
            # Zipf-like: the parent of rank r gets weight 1 / r**skew; ranks are shuffled over the parents.
            rank = rng.permutation(size) + 1.0
            index = rng.choice(size, size=n, p=_p(rank ** -float(p["skew"])))
        drawn.picks[(label, column.field)] = index
        return _take(drawn.columns[(column.parent, column.target)], column.column, index)
    if column.kind == "faker":
        return _faker(column, label, n, rng, drawn)
    if column.kind == "template":
        prefix = "\x01" if wire == "jsonb" else ""  # jsonb's binary format: version 1, then the text
        return Text(
            column.column, [prefix + p["template"].format(n=i) for i in range(1, n + 1)], np.arange(n)
        )
    if column.kind == "choices":
        values = [v for v, _ in p["choices"]]
        if column.unique:
            index = rng.permutation(len(values))[:n]
        else:
            index = rng.choice(len(values), size=n, p=_p([w for _, w in p["choices"]]))
        return _values(column, wire, values, index)
    if column.kind == "value":
        return _values(column, wire, [p["value"]], np.zeros(n, dtype=np.int64))
    if column.kind == "derived" and "offset" not in p:
        source = drawn.columns[(label, p["from"])]
        return typed.converted(column.column, wire, source, p["from_wire"])
    if column.kind == "derived":
        return _derived(column, drawn.columns[(label, p["from"])], n, rng)
    if column.kind == "ranked":
        return _ranked(column, drawn.columns[(label, p["order_by"])], n)
    if column.kind == "true":
        flags = rng.permutation(2)[:n] == 1 if column.unique else rng.random(n) < p["true"]
        return Fixed(column.column, "?", flags)
    if column.kind in TYPED_KINDS or wire == "interval":
        return _typed(column, label, n, rng, drawn)
    if column.kind == "range":
        return _range(column, n, rng)
    if column.kind == "time":
        us = moments(rng, n, p, daily=wire != "date")
        if p.get("sorted"):
            us = np.sort(us)
        if wire == "date":
            return Fixed(column.column, ">i4", us // DAY_US - UNIX_DAY_OF_PG_EPOCH)
        return Fixed(column.column, ">i8", binary.timestamps(us))
    if column.kind == "clock":
        return Fixed(column.column, ">i8", rng.integers(0, DAY_US, size=n))
    if column.kind == "uuid":
        raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
        raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
        raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
        return Fixed(column.column, "V16", raw.view("V16").reshape(n))
    raise AssertionError(f"unknown kind {column.kind}")


# A derived field's offset, in the plan's unit (seconds for datetimes, days for dates, the number itself
# else), as the wire counts: microseconds, days, the number.
_OFFSET_UNIT = {"timestamptz": 1_000_000, "timestamp": 1_000_000}


def _derived(column: Column, source: Fixed | Text, n: int, rng: np.random.Generator) -> Fixed:
    """The source's value plus a uniform offset in [low, high]; NULL where the source is NULL."""
    assert isinstance(source, Fixed)
    wire = WIRES[column.wire]
    low, high = (v * _OFFSET_UNIT.get(column.wire, 1) for v in column.params["offset"])
    values: Array
    if column.wire in FLOAT_WIRES:
        values = source.values.astype(np.float64) + rng.uniform(low, high, size=n)
    else:
        values = source.values.astype(np.int64) + rng.integers(math.ceil(low), math.floor(high) + 1, size=n)
    return Fixed(column.column, wire, values.astype(wire), source.null)


def _ranked(column: Column, source: Fixed | Text, n: int) -> Fixed | Text:
    """`set` in the first `first` rows ordered by the source (descending with "-"; ties by row, NULLs
    last), `else` in the others."""
    assert isinstance(source, Fixed)
    p = column.params
    key = source.values.astype(np.float64)
    key = -key if p["descending"] else key
    if source.null is not None:
        key = np.where(source.null, np.inf, key)
    chosen = np.argsort(key, kind="stable")[: min(int(p["first"]), n)]
    index = np.ones(n, dtype=np.int64)
    index[chosen] = 0
    return _values(column, column.wire, [p["set"], p["else"]], index)


def _range(column: Column, n: int, rng: np.random.Generator) -> Fixed:
    p, wire = column.params, column.wire
    if wire in INTEGER_WIRES or wire == "numeric":
        scale = int(p.get("scale", 0)) if wire == "numeric" else 0
        lo, hi = round(float(p["min"]) * 10**scale), round(float(p["max"]) * 10**scale)
        if column.unique:
            units = rng.choice(hi - lo + 1, size=n, replace=False) + lo
        else:
            units = rng.integers(lo, hi + 1, size=n)
        if p.get("sorted"):
            units = np.sort(units)
        if wire == "numeric":
            return Fixed(column.column, "", numeric(units, scale, int(p["digits"])))
        return Fixed(column.column, WIRES[wire], units)
    values = rng.uniform(float(p["min"]), float(p["max"]), size=n)
    if p.get("round") is not None:
        values = np.round(values, int(p["round"]))
    if p.get("sorted"):
        values = np.sort(values)
    return Fixed(column.column, WIRES[wire], values)


def _faker(column: Column, label: str, n: int, rng: np.random.Generator, drawn: Drawn) -> Text:
    p = column.params
    limit = p.get("max_length")
    key = f"{drawn.seed}:{label}:{column.field}"
    if not column.unique:
        # No more distinct values than rows: a tiny table need not wait for a thousand Faker calls.
        pool = faker_pool(drawn.locale, key, p, min(n, int(p["pool"])), limit)
        return Text(column.column, pool, rng.integers(0, len(pool), size=n))
    pool = faker_pool(drawn.locale, key, p, min(n, int(p["pool"])), limit)
    if n <= len(pool):
        return Text(column.column, pool, rng.permutation(len(pool))[:n])
    # More rows than distinct values: a row number after each value makes every one distinct.
    picks = rng.integers(0, len(pool), size=n).tolist()
    width = len(str(n)) + 1
    room = None if limit is None else limit - width
    words = [f"{pool[k][:room]}-{i}" for i, k in enumerate(picks, start=1)]
    return Text(column.column, words, np.arange(n))


def parse_moment(value: object) -> int | None:
    """Unix microseconds of an ISO date or datetime (naive means UTC), a TOML date or datetime; else None."""
    if isinstance(value, str):
        try:
            value = (
                dt.datetime.fromisoformat(value)
                if ("T" in value or " " in value)
                else dt.date.fromisoformat(value)
            )
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return (moment - UNIX_EPOCH) // dt.timedelta(microseconds=1)
    if isinstance(value, dt.date):
        return (value - UNIX_EPOCH.date()).days * DAY_US
    return None
