"""The endpoints `bench load` can drive: the request each side sends, and the state each side runs in.

A "variant" endpoint sends two requests that reach two code paths of one build (the old one the change
replaced, and the new one), both in the "after" state, as the variant scenarios do; a "migration"
endpoint sends one request to servers on the two states' databases.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from django_index_bench.bench.config import EndpointSpec, ProjectConfig
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.load.results import LoadEndpoint


@dataclass(frozen=True)
class Endpoint:
    name: str
    title: str
    kind: str  # "variant" or "migration"
    baseline: str
    candidate: str
    paths: dict[str, str]
    # Checks one warm-up response per side before any burst: a side that answers the wrong thing
    # (a 200 with an error page, the other side's shape) is refused rather than measured.
    check: Callable[[str, bytes], str | None] | None = None

    @property
    def sides(self) -> tuple[str, str]:
        return self.baseline, self.candidate

    def state_of(self, side: str, before: str, after: str) -> str:
        if self.kind == "variant":
            return after
        return before if side == self.baseline else after

    def info(self, before: str, after: str) -> LoadEndpoint:
        return LoadEndpoint(
            name=self.name,
            title=self.title,
            kind=self.kind,
            baseline=self.baseline,
            candidate=self.candidate,
            paths=dict(self.paths),
            states={side: self.state_of(side, before, after) for side in self.sides},
        )


def from_config(spec: EndpointSpec, where: str) -> Endpoint:
    check = None if spec.check is None else _lazy_check(spec, where)
    return Endpoint(spec.name, spec.title, spec.kind, spec.baseline, spec.candidate, dict(spec.paths), check)


def _lazy_check(spec: EndpointSpec, where: str) -> Callable[[str, bytes], str | None]:
    """The configured check, imported when first used: the project's code may need Django set up."""

    def check(side: str, body: bytes) -> str | None:
        module, _, function = str(spec.check).partition(":")
        try:
            found: Callable[[str, bytes], str | None] = getattr(importlib.import_module(module), function)
        except Exception as exc:  # the project's code: one line naming where it was configured
            raise UsageError(f"{where}: load.endpoints {spec.name}: check {spec.check!r}: {exc}") from None
        return found(side, body)

    return check


def select(project: ProjectConfig, names: tuple[str, ...]) -> tuple[Endpoint, ...]:
    """The project's configured endpoints, the named ones only when names are given; UsageError for an
    unknown name."""
    known = {spec.name: spec for spec in project.load.endpoints}
    unknown = sorted(set(names) - known.keys())
    if unknown:
        have = ", ".join(sorted(known)) or f"none: {project.path} has no [[load.endpoints]]"
        raise UsageError(f"unknown endpoint {', '.join(unknown)}; known: {have}")
    return tuple(from_config(s, str(project.path)) for name, s in known.items() if not names or name in names)
