"""A seed plan's model hook: a function of the project's that sees a model's drawn rows, column by column
as numpy arrays in their natural units, and may replace any of them before the rows are copied in. For
what the plan's keys cannot say (a column that is a function of two others, a status that follows from
a time, ...):

    [models."tasks.TaskResult"]
    rows = 100_000
    hook = "myproject.seeding:finish_tasks"

    def finish_tasks(rows: Rows) -> None:
        stopped = rows.values("stopped")                      # numpy datetime64[us], UTC
        rows.set("runtime", (stopped - rows.values("started")) / np.timedelta64(1, "s"))

A hook runs once per seed, after every column of its model is drawn, deterministically as long as it is
(draw from `rows.random`, never from a global generator). Its module, function and source code are part
of the plan's identity: changing the hook re-seeds.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from django_index_bench.seed.binary import PG_EPOCH_DAY, PG_EPOCH_US, Fixed, Text

Array = npt.NDArray[Any]
Hook = Callable[["Rows"], None]


def load(name: str) -> Hook:
    """The function `package.module:function` names; ValueError (its message one line) otherwise."""
    module_name, _, function = name.partition(":")
    if not module_name or not function:
        raise ValueError(f"expected 'package.module:function', got {name!r}")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # the user's module: one line, not a traceback
        raise ValueError(f"cannot import {module_name!r}: {type(exc).__name__}: {exc}") from None
    found = getattr(module, function, None)
    if not callable(found):
        raise ValueError(f"{module_name} has no function {function!r}")
    hook: Hook = found
    return hook


def fingerprint(hook: Hook) -> str:
    """Names the hook's code, so that changing it changes the plan's identity."""
    try:
        text = inspect.getsource(hook)
    except (OSError, TypeError):
        text = repr(hook)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# The plan's wires a hook may read and set.
SETTABLE = ("int2", "int4", "int8", "float4", "float8", "bool", "date", "timestamptz", "timestamp")


class Rows:
    """One model's drawn rows: read a column with `values` (and `nulls`), replace it with `set`. Columns
    are named by the model's field names (or their database columns). Types: integers int64, floats
    float64, booleans bool, datetimes datetime64[us] (UTC), dates datetime64[D]; text, decimals, UUIDs
    and times of day cannot be read or set here (their plan keys can)."""

    def __init__(
        self, count: int, columns: dict[str, Fixed | Text], names: dict[str, tuple[str, str]], seed: int
    ) -> None:
        self.count = count
        self.random = np.random.default_rng(seed)
        self._columns = columns  # by database column; set() replaces entries
        self._names = names  # field name or database column -> (database column, plan wire)

    def _column(self, field: str) -> tuple[Fixed, str]:
        if field not in self._names:
            raise KeyError(f"no drawn column {field!r}; drawn: {', '.join(sorted(self._names))}")
        name, wire = self._names[field]
        column = self._columns[name]
        if wire not in SETTABLE or not isinstance(column, Fixed):
            raise TypeError(f"{field} is a {wire} column; a hook reads and sets {', '.join(SETTABLE)}")
        return column, wire

    def values(self, field: str) -> Array:
        column, wire = self._column(field)
        raw = column.values
        if wire in ("timestamptz", "timestamp"):
            return (raw.astype(np.int64) + PG_EPOCH_US).astype("datetime64[us]")
        if wire == "date":
            return PG_EPOCH_DAY + raw.astype(np.int64).astype("timedelta64[D]")
        if wire == "bool":
            return raw.astype(bool)
        return raw.astype(np.float64 if wire.startswith("float") else np.int64)

    def nulls(self, field: str) -> Array:
        column, _ = self._column(field)
        return np.zeros(self.count, dtype=bool) if column.null is None else column.null.copy()

    def set(self, field: str, values: Array, nulls: Array | None = None) -> None:
        """Replace the column; `nulls` (booleans) where it is NULL, else its NULLs stay as drawn."""
        column, wire = self._column(field)
        given = np.asarray(values)
        if given.shape != (self.count,):
            raise ValueError(f"{field}: expected {self.count} values, got shape {given.shape}")
        if wire in ("timestamptz", "timestamp"):
            given = given.astype("datetime64[us]").astype(np.int64) - PG_EPOCH_US
        elif wire == "date":
            given = (given.astype("datetime64[D]") - PG_EPOCH_DAY).astype(np.int64)
        null = column.null if nulls is None else np.asarray(nulls, dtype=bool)
        self._columns[column.name] = Fixed(column.name, column.wire, given.astype(column.wire), null)
