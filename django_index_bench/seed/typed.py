"""Draws of the column types that are not plain numbers, text or moments: inet addresses in a network,
intervals, bytea, one-dimensional arrays, ranges, JSON documents of a given shape, and a column copied
from another of the same row in another type (a text copy of an integer key, an integer parsed from a
text one). Called by seed/distributions.py's _draw; values in their binary form (seed/encoders.py).

Fixed-width types (inet of IPv4 or IPv6, intervals, ranges of numbers and moments) are packed by numpy
as one record per row; variable ones (arrays, bytea, JSON) are encoded per row into a bytes vocabulary.
"""

from __future__ import annotations

import ipaddress
import json
import math
import struct
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from django_index_bench.seed import encoders
from django_index_bench.seed.binary import Fixed, Text, _encoded

Array = npt.NDArray[Any]
SECOND_US = 1_000_000
# A range's span and a derived offset in the plan's unit (seconds for datetimes, days for dates), as
# the wire counts.
UNIT = {"timestamptz": SECOND_US, "timestamp": SECOND_US}


class DrawError(ValueError):
    """A drawn value the column cannot take (an integer out of its type's range, text that is no number):
    one line, raised before anything is copied."""


def network(name: str, params: dict[str, Any], n: int, rng: np.random.Generator, unique: bool) -> Fixed:
    """Addresses in the network, uniform (distinct when unique: drawn without replacement); stored as
    host addresses (/32, /128), as GenericIPAddressField stores them."""
    net = ipaddress.ip_network(params["network"], strict=False)
    size = min(net.num_addresses, 2**62)
    offsets = rng.choice(size, size=n, replace=False) if unique else rng.integers(0, size, size=n)
    base = int(net.network_address)
    if net.version == 4:
        record = np.empty(n, dtype=[("head", ">u4"), ("address", ">u4")])
        record["head"] = (encoders.INET4 << 24) | (32 << 16) | 4
        record["address"] = base + offsets.astype(np.uint64)
    else:
        record = np.empty(n, dtype=[("head", ">u4"), ("high", ">u8"), ("low", ">u8")])
        record["head"] = (encoders.INET6 << 24) | (128 << 16) | 16
        addresses = [base + o for o in offsets.tolist()]  # beyond int64: Python's integers
        record["high"] = np.array([a >> 64 for a in addresses], dtype=np.uint64)
        record["low"] = np.array([a & (2**64 - 1) for a in addresses], dtype=np.uint64)
    return Fixed(name, f"V{record.dtype.itemsize}", record.view(f"V{record.dtype.itemsize}").reshape(n))


def network_size(params: dict[str, Any]) -> int:
    return int(ipaddress.ip_network(params["network"], strict=False).num_addresses)


def intervals(name: str, micro: Array) -> Fixed:
    """Intervals of `micro` microseconds (no days or months: '36:00:00', equal to '1 day 12:00:00')."""
    record = np.zeros(len(micro), dtype=[("micro", ">i8"), ("days", ">i4"), ("months", ">i4")])
    record["micro"] = micro
    return Fixed(name, "V16", record.view("V16").reshape(len(micro)))


def byte_strings(name: str, params: dict[str, Any], n: int, rng: np.random.Generator, unique: bool) -> Text:
    """Random bytes of a length uniform in `length`; unique: each begins with its row number (8 bytes)."""
    low, high = params["length"]
    lengths = rng.integers(low, high + 1, size=n)
    data = rng.bytes(int(lengths.sum()))
    ends = np.cumsum(lengths).tolist()
    values = [data[e - k : e] for e, k in zip(ends, lengths.tolist(), strict=True)]
    if unique:
        values = [struct.pack(">q", i) + v[8:] for i, v in enumerate(values, start=1)]
    return Text(name, values, np.arange(n))


def pieces(column: Fixed | Text) -> list[bytes | None]:
    """Each row's value in its binary form without its length (None: NULL), for arrays."""
    if isinstance(column, Text):
        table = _encoded(column.vocabulary).tolist()
        return [None if i < 0 else table[i][4:] for i in column.index.tolist()]
    width = np.dtype(column.wire).itemsize
    raw = np.ascontiguousarray(column.values.astype(column.wire)).tobytes()
    out: list[bytes | None] = [raw[o : o + width] for o in range(0, len(column.values) * width, width)]
    if column.null is not None:
        out = [None if null else v for v, null in zip(out, column.null.tolist(), strict=True)]
    return out


def arrays(
    name: str,
    params: dict[str, Any],
    n: int,
    rng: np.random.Generator,
    unique: bool,
    elements: Callable[[int], Fixed | Text],
) -> Text:
    """Arrays of a length uniform in `length`, their elements from `items` (encoded values, uniform) or
    drawn by `elements(count)` (the element type's default); unique: the first element is the row number
    (integers) or its text, so no two rows are equal."""
    low, high = params["length"]
    lengths = rng.integers(max(low, 1) if unique else low, high + 1, size=n)
    total = int(lengths.sum())
    items: list[bytes | None]
    if params.get("items"):
        choices = [bytes.fromhex(v) for v in params["items"]]
        items = [choices[i] for i in rng.integers(0, len(choices), size=total).tolist()]
    else:
        items = pieces(elements(total))
    oid, element = int(params["oid"]), params["element_wire"]
    out: list[bytes] = []
    start = 0
    for row, k in enumerate(lengths.tolist(), start=1):
        row_items = items[start : start + k]
        start += k
        if unique:
            row_items[0] = encoders.encode(element, row if element in encoders.FIXED else str(row))
        out.append(encoders.array_of(oid, row_items))
    return Text(name, out, np.arange(n))


def ranges(name: str, subtype: str, lower: Fixed, span: list[float], rng: np.random.Generator) -> Fixed:
    """[lower, lower + span) for a span uniform in `span` (seconds for datetimes, days for dates)."""
    n = len(lower.values)
    unit = UNIT.get(subtype, 1)
    low, high = math.ceil(span[0] * unit), math.floor(span[1] * unit)
    width = np.dtype(lower.wire).itemsize
    record = np.empty(
        n,
        dtype=[("flags", "u1"), ("ll", ">i4"), ("lower", lower.wire), ("ul", ">i4"), ("upper", lower.wire)],
    )
    record["flags"] = encoders.RANGE_LB_INC
    record["ll"] = record["ul"] = width
    record["lower"] = lower.values
    record["upper"] = lower.values.astype(np.int64) + rng.integers(max(low, 1), max(high, 1) + 1, size=n)
    size = record.dtype.itemsize
    return Fixed(name, f"V{size}", record.view(f"V{size}").reshape(n), lower.null)


def documents(
    name: str,
    wire: str,
    shape: dict[str, Any],
    n: int,
    rng: np.random.Generator,
    pool: Callable[..., list[str]],
) -> Text:
    """A JSON object per row with the shape's keys: a list's values uniformly, a Faker provider's text
    (a pool of distinct values, as for text fields), a number uniform in [min, max] (whole numbers when
    both ends are)."""
    drawn: dict[str, list[Any]] = {}
    for key, leaf in shape.items():
        if leaf["leaf"] == "choices":
            values = leaf["choices"]
            drawn[key] = [values[i] for i in rng.integers(0, len(values), size=n).tolist()]
        elif leaf["leaf"] == "faker":
            words = pool(key, leaf["faker"], min(n, 1000))
            drawn[key] = [words[i] for i in rng.integers(0, len(words), size=n).tolist()]
        elif isinstance(leaf["min"], int) and isinstance(leaf["max"], int):
            drawn[key] = rng.integers(leaf["min"], leaf["max"] + 1, size=n).tolist()
        else:
            drawn[key] = np.round(rng.uniform(leaf["min"], leaf["max"], size=n), 6).tolist()
    keys = list(drawn)
    if wire == "hstore":
        rows = [
            encoders.hstore(dict(zip(keys, row, strict=True))) for row in zip(*drawn.values(), strict=True)
        ]
        return Text(name, rows if keys else [encoders.hstore({})] * n, np.arange(n))
    prefix = "\x01" if wire == "jsonb" else ""
    columns = [drawn[k] for k in keys]
    texts = [prefix + json.dumps(dict(zip(keys, row, strict=True))) for row in zip(*columns, strict=True)]
    if not keys:
        texts = [prefix + "{}"] * n
    return Text(name, texts, np.arange(n))


def converted(name: str, wire: str, source: Fixed | Text, source_wire: str) -> Fixed | Text:
    """The source column's values in this column's type, row by row (NULL stays NULL): text from a
    number or UUID, a number from text, a wider or narrower integer."""
    if wire == "text":
        if isinstance(source, Text):
            return Text(name, source.vocabulary, source.index)
        if source_wire == "uuid":
            raw = np.ascontiguousarray(source.values).tobytes()
            words = [str(uuid.UUID(bytes=raw[o : o + 16])) for o in range(0, len(raw), 16)]
        else:
            words = [str(v) for v in source.values.tolist()]
        index = np.arange(len(words))
        if source.null is not None:
            index = np.where(source.null, -1, index)
        return Text(name, words, index)
    bound = 2 ** (8 * np.dtype(_INTEGER[wire]).itemsize - 1)
    if isinstance(source, Text):
        try:
            parsed = [int(str(v)) for v in source.vocabulary]
        except ValueError as exc:
            raise DrawError(f"{name}: its source holds text that is not a whole number ({exc})") from None
        table = np.asarray([*parsed, 0], dtype=object)
        values = table[source.index]  # -1 picks the trailing 0: a NULL's placeholder
        null = source.index < 0
        numbers = np.asarray([int(v) for v in values.tolist()], dtype=object)
    else:
        numbers = source.values.astype(np.int64)
        null = source.null if source.null is not None else np.zeros(len(numbers), dtype=bool)
    outside = [
        v for v, x in zip(numbers.tolist(), null.tolist(), strict=True) if not x and not -bound <= v < bound
    ]
    if outside:
        raise DrawError(f"{name}: {outside[0]} does not fit a {wire} column")
    return Fixed(
        name, _INTEGER[wire], np.asarray(numbers.tolist(), dtype=np.int64), None if not null.any() else null
    )


_INTEGER = {"int2": ">i2", "int4": ">i4", "int8": ">i8"}
