"""One value in PostgreSQL's binary wire format, for the column types numpy does not pack as plain numbers:
inet, interval, bytea, hstore, one-dimensional arrays, ranges, exact numerics, JSON. Pure Python, no
Django: seed/plan_models.py settles a plan's value to the Python value the database stores (through the
field's own get_db_prep_save when the plan gives a Python value) and this module encodes it; seed/typed.py
packs the same formats for whole columns with numpy where it can.

The formats are those of the server's *_recv functions (network_recv, interval_recv, array_recv,
range_recv, hstore_recv, numeric_recv): a wrong byte is refused by the server, never stored.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import struct
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
PG_EPOCH_DATE = dt.date(2000, 1, 1)
# network_recv's address families: PGSQL_AF_INET is AF_INET (2), PGSQL_AF_INET6 is AF_INET + 1.
INET4, INET6 = 2, 3
# range_recv's flags.
RANGE_EMPTY, RANGE_LB_INC, RANGE_UB_INC, RANGE_LB_INF, RANGE_UB_INF = 0x01, 0x02, 0x04, 0x08, 0x10
# A range type's subtype, as the plan's wire names.
RANGE_SUBTYPES = {
    "int4range": "int4",
    "int8range": "int8",
    "numrange": "numeric",
    "daterange": "date",
    "tstzrange": "timestamptz",
    "tsrange": "timestamp",
}
# array_recv checks the element type's OID against the column's: built-in types only (an extension's
# type, citext or hstore, has an OID of its installation).
ELEMENT_OIDS = {
    "smallint": 21,
    "integer": 23,
    "bigint": 20,
    "real": 700,
    "double precision": 701,
    "boolean": 16,
    "text": 25,
    "varchar": 1043,
    "character varying": 1043,
    "char": 1042,
    "character": 1042,
    "date": 1082,
    "timestamp": 1114,
    "timestamp without time zone": 1114,
    "timestamp with time zone": 1184,
    "time": 1083,
    "time without time zone": 1083,
    "uuid": 2950,
    "numeric": 1700,
    "jsonb": 3802,
    "json": 114,
    "inet": 869,
    "interval": 1186,
    "bytea": 17,
}
FIXED = {"int2": ">h", "int4": ">i", "int8": ">q", "float4": ">f", "float8": ">d", "bool": "?"}


class EncodeError(ValueError):
    """The value does not fit the column's type; the message says why, in one line."""


def encode(wire: str, value: Any, element_oid: int = 0) -> bytes:
    """The binary form of one non-NULL value of a column of `wire` (an array wire ends in "[]" and needs
    its element's OID)."""
    try:
        return _encode(wire, value, element_oid)
    except EncodeError:
        raise
    except (TypeError, ValueError, OverflowError, struct.error, InvalidOperation) as exc:
        raise EncodeError(f"{value!r} is not a {wire} value ({exc})") from None


def _encode(wire: str, value: Any, element_oid: int) -> bytes:
    if wire.endswith("[]"):
        return array(wire[:-2], value, element_oid)
    if wire in FIXED:
        if wire == "bool" and not isinstance(value, bool):
            raise EncodeError(f"expected true or false, got {value!r}")
        return struct.pack(FIXED[wire], value)
    if wire == "text":
        return str(value).encode()
    if wire == "json":
        return _json(value).encode()
    if wire == "jsonb":
        return b"\x01" + _json(value).encode()  # jsonb's binary format: version 1, then the text
    if wire == "bytea":
        return bytes(getattr(value, "obj", value))  # psycopg's Binary wrapper holds the bytes in obj
    if wire == "numeric":
        return numeric(Decimal(str(value)) if isinstance(value, float) else Decimal(value))
    if wire == "uuid":
        return (value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))).bytes
    if wire == "date":
        return struct.pack(">i", (_date(value) - PG_EPOCH_DATE).days)
    if wire in ("timestamptz", "timestamp"):
        return struct.pack(">q", _microseconds(wire, value))
    if wire == "time":
        t = value if isinstance(value, dt.time) else dt.time.fromisoformat(str(value))
        return struct.pack(">q", ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond)
    if wire == "inet":
        return inet(value)
    if wire == "interval":
        if not isinstance(value, dt.timedelta):
            raise EncodeError(f"expected a duration, got {value!r}")
        return interval(value)
    if wire == "hstore":
        return hstore(value)
    if wire in RANGE_SUBTYPES:
        return range_(RANGE_SUBTYPES[wire], value)
    raise EncodeError(f"no binary encoder for {wire}")


def _json(value: Any) -> str:
    if isinstance(value, str):
        json.loads(value)  # the column's JSON text, checked
        return value
    return json.dumps(value)


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _microseconds(wire: str, value: Any) -> int:
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if wire == "timestamp":
        moment = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)  # naive means UTC, as everywhere in a plan
    return (moment - PG_EPOCH) // dt.timedelta(microseconds=1)


def numeric(value: Decimal) -> bytes:
    """numeric_recv's format, exactly: base-10000 digits aligned on the decimal point, the display scale
    the value's own number of decimals."""
    if not value.is_finite():
        if value.is_nan():
            return struct.pack(">hhHh", 0, 0, 0xC000, 0)
        raise EncodeError(f"{value} is not a finite number")
    sign = 0x4000 if value.is_signed() and value != 0 else 0
    text = format(abs(value), "f")
    whole, _, fraction = text.partition(".")
    scale = len(fraction)
    whole = whole.lstrip("0")
    whole = "0" * (-len(whole) % 4) + whole
    fraction = fraction + "0" * (-len(fraction) % 4)
    groups = [int(whole[i : i + 4]) for i in range(0, len(whole), 4)]
    weight = len(groups) - 1
    groups += [int(fraction[i : i + 4]) for i in range(0, len(fraction), 4)]
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:
        weight = 0
    return struct.pack(f">hhHh{len(groups)}h", len(groups), weight, sign, scale, *groups)


def inet(value: Any) -> bytes:
    """An inet: an address ("10.0.0.1"), or an address with its network's prefix ("10.0.0.1/24")."""
    interface = ipaddress.ip_interface(str(value))
    ip = interface.ip
    family = INET4 if ip.version == 4 else INET6
    packed = ip.packed
    return struct.pack(">BBBB", family, interface.network.prefixlen, 0, len(packed)) + packed


def interval(value: dt.timedelta) -> bytes:
    """Days and microseconds, as psycopg sends a timedelta (what the ORM stores); no months."""
    micro = (value.seconds * 1_000_000) + value.microseconds
    return struct.pack(">qii", micro, value.days, 0)


def hstore(value: Any) -> bytes:
    if not isinstance(value, Mapping):
        raise EncodeError(f"expected a table of text keys and values, got {value!r}")
    out = [struct.pack(">i", len(value))]
    for key, item in value.items():
        k = str(key).encode()
        out.append(struct.pack(">i", len(k)) + k)
        if item is None:
            out.append(struct.pack(">i", -1))
        else:
            v = str(item).encode()
            out.append(struct.pack(">i", len(v)) + v)
    return b"".join(out)


def array_of(element_oid: int, pieces: Sequence[bytes | None]) -> bytes:
    """A one-dimensional array of already encoded elements (None: NULL)."""
    if not pieces:
        return struct.pack(">iii", 0, 0, element_oid)
    has_null = int(any(p is None for p in pieces))
    head = struct.pack(">iiiii", 1, has_null, element_oid, len(pieces), 1)
    body = [struct.pack(">i", -1) if p is None else struct.pack(">i", len(p)) + p for p in pieces]
    return head + b"".join(body)


def array(element_wire: str, value: Any, element_oid: int) -> bytes:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise EncodeError(f"expected a list, got {value!r}")
    if any(isinstance(v, list | tuple) for v in value):
        raise EncodeError("only one-dimensional arrays can be seeded")
    return array_of(element_oid, [None if v is None else _encode(element_wire, v, 0) for v in value])


def range_(subtype: str, value: Any) -> bytes:
    """A range: psycopg's Range (what a range field's get_prep_value gives) or [lower, upper) as a pair."""
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise EncodeError(f"expected [lower, upper], got {value!r}")
        lower, upper, lower_inc, upper_inc, empty = value[0], value[1], True, False, False
    else:
        lower, upper = getattr(value, "lower", None), getattr(value, "upper", None)
        bounds = str(getattr(value, "bounds", "[)"))
        lower_inc, upper_inc = bounds[0] == "[", bounds[1] == "]"
        empty = bool(getattr(value, "isempty", False))
    if empty:
        return bytes([RANGE_EMPTY])
    flags = (RANGE_LB_INC if lower_inc and lower is not None else 0) | (
        RANGE_UB_INC if upper_inc and upper is not None else 0
    )
    flags |= (RANGE_LB_INF if lower is None else 0) | (RANGE_UB_INF if upper is None else 0)
    out = [bytes([flags])]
    for bound in (lower, upper):
        if bound is not None:
            piece = _encode(subtype, bound, 0)
            out.append(struct.pack(">i", len(piece)) + piece)
    return b"".join(out)
