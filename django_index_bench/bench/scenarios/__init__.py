"""The scenarios: each is the ORM code the app really runs, registered with @register.

A "migration" scenario runs the same code in both migration states; a "variant" scenario runs two code
paths (the old and the new) in one state. Parameters are drawn from the seeded data, deterministically,
so both states see the same heavy, typical and light cases.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.results import ScenarioInfo

if TYPE_CHECKING:
    from django.db.models import QuerySet


@dataclass(frozen=True)
class Case:
    name: str
    params: dict[str, Any]  # JSON-safe: it is stored in the results file


@dataclass(frozen=True)
class Outcome:
    rows: int
    response_bytes: int | None = None


class Scenario(ABC):
    name: ClassVar[str]
    title: ClassVar[str]
    group: ClassVar[str]
    kind: ClassVar[str]
    baseline: ClassVar[str]
    candidate: ClassVar[str]
    description: ClassVar[str]
    measures_memory: ClassVar[bool] = False

    @abstractmethod
    def draw_cases(self) -> list[Case]: ...

    @abstractmethod
    def execute(self, side: str, params: dict[str, Any]) -> Outcome: ...

    @property
    def sides(self) -> tuple[str, str]:
        return self.baseline, self.candidate

    def info(self, cases: list[Case]) -> ScenarioInfo:
        return ScenarioInfo(
            name=self.name,
            title=self.title,
            group=self.group,
            kind=self.kind,
            baseline=self.baseline,
            candidate=self.candidate,
            description=self.description,
            cases=tuple(c.name for c in cases),
        )


class MigrationScenario(Scenario):
    """Same query in both schema states; the side is the state."""

    kind = "migration"
    baseline = "before"
    candidate = "after"

    @abstractmethod
    def queryset(self, params: dict[str, Any]) -> QuerySet[Any]: ...

    def execute(self, side: str, params: dict[str, Any]) -> Outcome:
        # A fresh queryset each time: a cached result would time nothing.
        return Outcome(rows=len(list(self.queryset(params))))


REGISTRY: dict[str, Scenario] = {}
S = TypeVar("S", bound=type[Scenario])


def register(cls: S) -> S:
    if cls.name in REGISTRY:
        raise ValueError(f"scenario {cls.name!r} registered twice")
    REGISTRY[cls.name] = cls()
    return cls


def load(modules: Sequence[str], *, where: str = "scenarios") -> dict[str, Scenario]:
    """Import the configured scenario modules (a package: its modules too) and return the scenarios they
    registered, in registration order. Needs Django to be set up: scenarios import models."""
    wanted: set[str] = set()
    for name in modules:
        module = _import(name, where)
        wanted.add(module.__name__)
        for sub in pkgutil.iter_modules(getattr(module, "__path__", [])):
            wanted.add(_import(f"{module.__name__}.{sub.name}", where).__name__)
    found = {n: s for n, s in REGISTRY.items() if type(s).__module__ in wanted}
    if not found:
        raise UsageError(
            f"{where}: {', '.join(modules)} registered no scenario (decorate them with @register)"
        )
    return found


def _import(name: str, where: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except Exception as exc:  # any error in the user's module: one line, not a traceback
        raise UsageError(f"{where}: cannot import {name!r}: {type(exc).__name__}: {exc}") from None


def spread(ranked: list[tuple[Any, int]]) -> list[tuple[str, Any, int]]:
    """Heavy (most rows), typical (median) and light (90th percentile) from keys ranked by row count.

    Skewed data makes these three very different; one lucky value would hide that.
    """
    if not ranked:
        return []
    last = len(ranked) - 1
    picks = {"heavy": 0, "typical": last // 2, "light": (last * 9) // 10}
    return [(case, ranked[i][0], ranked[i][1]) for case, i in picks.items()]


def ranked_by_count(queryset: QuerySet[Any], key: str) -> list[tuple[Any, int]]:
    from django.db.models import Count

    rows = queryset.values(key).annotate(n=Count("pk")).order_by("-n", key).values_list(key, "n")
    return [(k, int(n)) for k, n in rows]
