"""The suggestions file: what `bench suggest` measured, the contract between it and its report.

Its own schema (SCHEMA), apart from `bench run`'s results file; it reuses that file's parts (Measurement,
Costs, Dataset) for what is measured the same way.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import dacite

from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.results import Costs, Dataset, Measurement, write_atomic

SCHEMA = 1
# bench suggest writes it in results/ by default; bench report looks for it beside the run's results.
FILE_NAME = "suggestions.json"
Test = Literal["=", "is null", "is not null"]
TrialStatus = Literal["measured", "failed", "not measured"]
# Why a candidate was not measured before any budget was spent.
DropReason = Literal["redundant", "not used by the planner (HypoPG)"]


@dataclass(frozen=True)
class Key:
    column: str
    descending: bool = False

    @property
    def sql(self) -> str:
        return f'"{self.column}"' + (" DESC" if self.descending else "")


@dataclass(frozen=True)
class Predicate:
    """A constant condition of the captured SQL: a partial index's WHERE."""

    column: str
    test: Test
    value: str | int | float | bool | None = None


@dataclass(frozen=True)
class Candidate:
    """An index derived from the captured SQL. The first `equal` keys are equality columns: any order of
    them serves the same queries."""

    name: str
    table: str
    keys: tuple[Key, ...]
    equal: int
    include: tuple[str, ...] = ()
    where: tuple[Predicate, ...] = ()
    scenarios: tuple[str, ...] = ()  # whose SQL suggested it
    why: str = ""
    sql: str = ""  # CREATE INDEX ... as it is built on the copy


@dataclass(frozen=True)
class ExistingIndex:
    name: str
    table: str
    keys: tuple[Key, ...]  # empty for an expression index
    include: tuple[str, ...]
    predicate: str | None
    unique: bool
    primary: bool
    method: str
    definition: str
    used_by: tuple[str, ...] = ()  # scenarios whose plans in the chosen state use it


@dataclass(frozen=True)
class Dropped:
    candidate: str
    reason: DropReason
    because: str  # the existing index that makes it redundant, or what HypoPG saw


@dataclass(frozen=True)
class Trial:
    """One copy with one candidate (or two, combined) built, measured against the copy without it."""

    indexes: tuple[str, ...]  # candidate names
    status: TrialStatus
    reason: str | None = None  # why it failed or was not measured
    measurements: tuple[Measurement, ...] = ()  # sides "before" (without) and "after" (with the index)
    costs: Costs | None = None
    seconds: float = 0.0

    @property
    def label(self) -> str:
        return " + ".join(self.indexes)


@dataclass(frozen=True)
class Suggestions:
    schema: int
    started_at: str
    finished_at: str
    command: str
    state: str
    targets: dict[str, str]
    dataset: Dataset
    budget_s: float
    hypopg: str  # what HypoPG did: "not installed", or what it pruned
    captured: tuple[Measurement, ...]  # every scenario's case in the chosen state: its SQL and plans
    existing: tuple[ExistingIndex, ...]
    candidates: tuple[Candidate, ...]  # in the order they were measured
    dropped: tuple[Dropped, ...]
    trials: tuple[Trial, ...]
    weights: dict[str, float] = field(default_factory=dict)  # scenario -> calls per unit of work
    writes: dict[str, float] = field(default_factory=dict)  # table -> rows inserted per unit of work
    migration: str | None = None  # the migration file written for the best candidate
    errors: tuple[str, ...] = ()


def to_json(found: Suggestions) -> str:
    return json.dumps(dataclasses.asdict(found), indent=1) + "\n"


def save(found: Suggestions, path: Path) -> None:
    write_atomic(path, to_json(found))


def from_dict(data: Any, *, source: str) -> Suggestions:
    version = data.get("schema") if isinstance(data, dict) else None
    if version != SCHEMA:
        raise UsageError(f"{source} is not a suggestions file of schema {SCHEMA} (schema {version!r})")
    try:
        return dacite.from_dict(Suggestions, data, config=dacite.Config(cast=[tuple], strict=True))
    except dacite.DaciteError as exc:
        raise UsageError(f"{source} is not a valid suggestions file: {exc}") from None


def load(path: Path) -> Suggestions:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"no suggestions file at {path}; run `bench suggest` first") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read suggestions file {path}: {type(exc).__name__}: {exc}") from None
    return from_dict(data, source=str(path))
