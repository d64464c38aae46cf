"""What seed/load.py loads: a Source names its tables, their row counts and how to draw them.

Two kinds exist: a project's own seeder, named by the seed hook in its bench.toml, and declarative
plans for any Django models (seed/plan.py). load.py knows only this protocol, so it truncates, rebuilds and
marks exactly the source's tables, whatever they are.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Protocol


class Table(Protocol):
    """One table's drawn rows, encoded chunk by chunk into binary COPY tuples (see seed/binary.py)."""

    @property
    def table(self) -> str: ...

    @property
    def rows(self) -> int: ...

    @property
    def column_names(self) -> list[str]: ...

    def ranges(self) -> list[tuple[int, int]]: ...

    def render(self, lo: int, hi: int) -> bytes: ...


class Source(Protocol):
    """Deterministic rows for a set of tables.

    `identity()` is what the database's marker stores: equal identities mean byte-identical rows, so a
    database holding them is reused. `fingerprint()` names the content in results files; the sample
    keeps its historical formula so results from before and after sources existed stay comparable.
    `dataset_counts` is what results record as the dataset's counts (the sample keeps its short names,
    as older results of it do, which reports read).
    """

    @property
    def seed(self) -> int: ...

    @property
    def profile(self) -> str | None: ...

    @property
    def version(self) -> str: ...

    @property
    def tables(self) -> tuple[str, ...]: ...  # parents before children

    @property
    def counts(self) -> dict[str, int]: ...  # rows per table, keys = tables

    @property
    def dataset_counts(self) -> dict[str, int]: ...

    def identity(self) -> dict[str, object]: ...

    def fingerprint(self) -> str: ...

    def draw(self) -> list[Table]: ...

    def with_counts(self, counts: Mapping[str, int]) -> Source: ...


def digest(value: object) -> str:
    """A short, stable hash of a JSON-safe value (keys sorted)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]
