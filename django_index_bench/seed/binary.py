"""PostgreSQL's binary COPY format, built from numpy columns.

Text COPY makes the server parse every timestamp, float and uuid (about 180k rows/s of a narrow table here)
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
    """A text column whose rows pick from a vocabulary (the common case), NULL where index is -1. A
    vocabulary of bytes holds values already in their binary form (seed/encoders.py: inet, arrays,
    ranges, ...), sent as they are."""

    name: str
    vocabulary: Sequence[str] | Sequence[bytes]
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
_ENCODED: dict[int, tuple[Sequence[str] | Sequence[bytes], Array]] = {}


def _encoded(vocabulary: Sequence[str] | Sequence[bytes]) -> Array:
    """Each word as a text field (length prefix and UTF-8), and NULL at index -1."""
    cached = _ENCODED.get(id(vocabulary))
    if cached is not None and cached[0] is vocabulary:
        return cached[1]
    raw = (s if isinstance(s, bytes) else s.encode() for s in vocabulary)
    encoded = [struct.pack(">i", len(b)) + b for b in raw]
    table: Array = np.asarray([*encoded, NULL], dtype=object)
    if len(_ENCODED) > 64:  # vocabularies of finished tables
        _ENCODED.clear()
    _ENCODED[id(vocabulary)] = (vocabulary, table)
    return table


# Adjacent text columns whose vocabularies (with NULL) make at most this many combinations are
# encoded as one piece per row: fewer Python objects to join, which is most of the encoding time.
FUSE_LIMIT = 4096
_FUSED: dict[tuple[int, ...], tuple[tuple[Sequence[str] | Sequence[bytes], ...], Array]] = {}


def _fused(vocabularies: tuple[Sequence[str] | Sequence[bytes], ...]) -> Array:
    """Every combination of the vocabularies' fields (NULL last in each), joined, in row-major order."""
    key = tuple(map(id, vocabularies))
    cached = _FUSED.get(key)
    if cached is not None and all(a is b for a, b in zip(cached[0], vocabularies, strict=True)):
        return cached[1]
    tables = [_encoded(v).tolist() for v in vocabularies]
    table: Array = np.asarray([b"".join(c) for c in itertools.product(*tables)], dtype=object)
    if len(_FUSED) > 64:
        _FUSED.clear()
    _FUSED[key] = (vocabularies, table)
    return table


def _split(raw: bytes, width: int, rows: int) -> list[bytes]:
    return [raw[o : o + width] for o in range(0, rows * width, width)]


def _fixed_rows(columns: Sequence[Fixed | Text], lo: int, hi: int) -> list[bytes]:
    """Per row, one piece: the field count, then every fixed column (a NULL is a length of -1 and no
    value). Rows with the same NULLs share a layout, so each layout is packed by numpy at once."""
    n = hi - lo
    fixed = sorted((c for c in columns if isinstance(c, Fixed)), key=lambda c: c.null is not None)
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for i, column in enumerate(fixed):
        fields += [(f"l{i}", ">i4"), (f"v{i}", column.wire)]
    block = np.empty(n, dtype=fields)
    block["count"] = len(columns)
    pattern = np.zeros(n, dtype=np.int64)
    nullable: list[tuple[int, int, int]] = []  # (bit, value offset, value size)
    for i, column in enumerate(fixed):
        size = np.dtype(column.wire).itemsize
        block[f"v{i}"] = column.values[lo:hi]
        if column.null is None:
            block[f"l{i}"] = size
            continue
        null = column.null[lo:hi]
        block[f"l{i}"] = np.where(null, -1, size)
        pattern |= null.astype(np.int64) << len(nullable)
        nullable.append((len(nullable), block.dtype.fields[f"v{i}"][1], size))  # type: ignore[index]
    width = block.dtype.itemsize
    if not nullable:
        return _split(block.tobytes(), width, n)
    raw = block.view(np.uint8).reshape(n, width)
    rows: Array = np.empty(n, dtype=object)
    for layout in np.unique(pattern).tolist():
        keep = np.ones(width, dtype=bool)
        for bit, offset, size in nullable:
            if layout >> bit & 1:
                keep[offset : offset + size] = False
        which = np.flatnonzero(pattern == layout)
        rows[which] = _split(raw[which][:, keep].tobytes(), int(keep.sum()), len(which))
    pieces: list[bytes] = rows.tolist()
    return pieces


def _text_rows(columns: Sequence[Text], lo: int, hi: int) -> list[list[bytes]]:
    """Per group of adjacent text columns (see FUSE_LIMIT), one piece per row."""
    groups: list[list[Text]] = []
    for column in columns:
        combinations = int(
            np.prod([len(c.vocabulary) + 1 for c in [*(groups[-1] if groups else []), column]])
        )
        if groups and combinations <= FUSE_LIMIT:
            groups[-1].append(column)
        else:
            groups.append([column])
    pieces = []
    for group in groups:
        code = np.zeros(hi - lo, dtype=np.int64)
        for column in group:
            size = len(column.vocabulary)
            index = column.index[lo:hi]
            code = code * (size + 1) + np.where(index < 0, size, index)  # NULL is last
        pieces.append(_fused(tuple(c.vocabulary for c in group))[code].tolist())
    return pieces


def encode(columns: Sequence[Fixed | Text], lo: int, hi: int) -> bytes:
    """Rows [lo, hi) of the columns in binary COPY tuples (no header or trailer), in order()."""
    texts = [c for c in columns if isinstance(c, Text)]
    pieces = [_fixed_rows(columns, lo, hi), *_text_rows(texts, lo, hi)]
    return b"".join(itertools.chain.from_iterable(zip(*pieces, strict=True)))


def order(columns: Sequence[Fixed | Text]) -> list[str]:
    """The column order encode() writes: fixed columns (without NULLs first), then text columns."""
    fixed = [c for c in columns if isinstance(c, Fixed)]
    dense = [c.name for c in fixed if c.null is None]
    return (
        dense
        + [c.name for c in fixed if c.null is not None]
        + [c.name for c in columns if isinstance(c, Text)]
    )


# At most this many rows are drawn at once (plus one minute's rows when a single minute holds more).
# Encoding one takes about 2 kB a row for a moment (a Python object per field), so 25k rows stay near
# 50 MB per encoder. Part of the output: a chunk's rows come from the stream (seed, table, chunk index).
CHUNK = 25_000


@dataclass(frozen=True)
class TableData:
    table: str
    columns: tuple[Fixed | Text, ...]
    rows: int

    @property
    def column_names(self) -> list[str]:
        return order(self.columns)

    def ranges(self) -> list[tuple[int, int]]:
        return [(lo, min(lo + CHUNK, self.rows)) for lo in range(0, self.rows, CHUNK)]

    def render(self, lo: int, hi: int) -> bytes:
        return encode(self.columns, lo, hi)
