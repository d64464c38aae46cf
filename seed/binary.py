"""PostgreSQL's binary COPY format, built from numpy columns.

Text COPY makes the server parse every timestamp, float and uuid (about 180k tracking rows/s here)
and makes Python format them first. In binary, fixed-width columns are packed by numpy in one go and
the server only copies bytes; Python touches each row once, to join its pieces.
"""

from __future__ import annotations

import datetime as dt
import itertools
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]

HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)
NULL = struct.pack(">i", -1)
PG_EPOCH_US = int(dt.datetime(2000, 1, 1, tzinfo=dt.UTC).timestamp() * 1_000_000)
PG_EPOCH_DAY = np.datetime64("2000-01-01", "D")

# numpy big-endian types of the binary wire format.
BIGINT, SMALLINT, FLOAT8, BOOL, DATE, TIMESTAMPTZ, UUID = ">i8", ">i2", ">f8", "?", ">i4", ">i8", "V16"


@dataclass(frozen=True)
class Fixed:
    """A fixed-width column, optionally with NULLs (a True in `null`)."""

    name: str
    wire: str  # one of the wire types above
    values: Array
    null: Array | None = None


@dataclass(frozen=True)
class Text:
    """A text column whose rows pick from a vocabulary (the common case), NULL where index is -1."""

    name: str
    vocabulary: Sequence[str]
    index: Array


def timestamps(microseconds_since_unix_epoch: Array) -> Array:
    return microseconds_since_unix_epoch - PG_EPOCH_US


def dates(days: Array) -> Array:
    return (days.astype("datetime64[D]") - PG_EPOCH_DAY).astype(np.int64)


def _field_bytes(width: int, values: Array, wire: str) -> bytes:
    """Length prefix plus value, for every row, packed by numpy."""
    record = np.empty(len(values), dtype=[("length", ">i4"), ("value", wire)])
    record["length"] = width
    record["value"] = values
    return record.tobytes()


# Encoded vocabularies by the identity of their sequence (kept alive here, so an id is never reused):
# a big table's chunks share one vocabulary (60k device ids at the large profile), encoded once.
_ENCODED: dict[int, tuple[Sequence[str], Array]] = {}


def _encoded(vocabulary: Sequence[str]) -> Array:
    """Each word as a text field (length prefix and UTF-8), and NULL at index -1."""
    cached = _ENCODED.get(id(vocabulary))
    if cached is not None and cached[0] is vocabulary:
        return cached[1]
    encoded = [struct.pack(">i", len(b)) + b for b in (s.encode() for s in vocabulary)]
    table: Array = np.asarray([*encoded, NULL], dtype=object)
    if len(_ENCODED) > 64:  # vocabularies of finished tables
        _ENCODED.clear()
    _ENCODED[id(vocabulary)] = (vocabulary, table)
    return table


def encode(columns: Sequence[Fixed | Text], lo: int, hi: int) -> bytes:
    """Rows [lo, hi) of the columns in binary COPY tuples (no header or trailer)."""
    n = hi - lo
    pieces: list[list[bytes]] = []
    dense = [c for c in columns if isinstance(c, Fixed) and c.null is None]
    # Non-null fixed columns share one record per row: the field count and each length and value.
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for i, fixed in enumerate(dense):
        fields += [(f"l{i}", ">i4"), (f"v{i}", fixed.wire)]
    block = np.empty(n, dtype=fields)
    block["count"] = len(columns)
    for i, fixed in enumerate(dense):
        block[f"l{i}"] = np.dtype(fixed.wire).itemsize
        block[f"v{i}"] = fixed.values[lo:hi]
    width = block.dtype.itemsize
    raw = block.tobytes()
    pieces.append([raw[o : o + width] for o in range(0, n * width, width)])
    for column in columns:
        if isinstance(column, Fixed) and column.null is not None:
            size = np.dtype(column.wire).itemsize
            packed = _field_bytes(size, column.values[lo:hi], column.wire)
            step = 4 + size
            nulls = column.null[lo:hi].tolist()
            pieces.append([NULL if nulls[k] else packed[k * step : k * step + step] for k in range(n)])
        elif isinstance(column, Text):
            pieces.append(_encoded(column.vocabulary)[column.index[lo:hi]].tolist())
    return b"".join(itertools.chain.from_iterable(zip(*pieces, strict=True)))


def order(columns: Sequence[Fixed | Text]) -> list[str]:
    """The column order encode() writes: dense fixed columns first, then the rest as given."""
    dense = [c.name for c in columns if isinstance(c, Fixed) and c.null is None]
    return dense + [c.name for c in columns if not (isinstance(c, Fixed) and c.null is None)]
