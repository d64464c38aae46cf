"""A checked seed plan as a Source: the plan (seed/plan.py, read without Django) resolved against the
models (seed/plan_models.py, Django set up) and drawn. Its own module, so plan.py and plan_models.py
do not import each other: plan_models reads plan's types, and this module uses both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import faker
import numpy as np

from django_index_bench.seed.distributions import Drawn, ResolvedModel, draw_model
from django_index_bench.seed.inputs import MAX_SEED, SeedInputError
from django_index_bench.seed.plan import MAX_ROWS, PLAN_VERSION, SeedPlan, check_profile
from django_index_bench.seed.plan_models import resolve
from django_index_bench.seed.source import Table, digest


def check(plan: SeedPlan, registry: Any = None) -> None:
    """Check the plan against the models (Django must be set up); SeedInputError (one line) on a mistake.

    Unique constraints are checked at the largest row count any profile gives.
    """
    factors = [1.0, *plan.profiles.values()]
    resolve(plan, {m.label: max(_scaled(m.rows, f) for f in factors) for m in plan.models}, registry)


def _scaled(rows: int, factor: float) -> int:
    return max(1, round(rows * factor))


@dataclass(frozen=True)
class PlanSource:
    """A Source (seed/source.py) drawing a checked plan's models."""

    plan: SeedPlan
    models: tuple[ResolvedModel, ...]  # parents first
    rows: tuple[int, ...]  # per model
    seed: int
    profile: str | None
    version: str = field(default=f"plan-{PLAN_VERSION}")
    # The models the plan was resolved against (a migration state's); None: today's classes. Its columns
    # are in `models`, so the identity needs no more.
    registry: Any = field(default=None, compare=False, repr=False)

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(m.table for m in self.models)

    @property
    def counts(self) -> dict[str, int]:
        return dict(zip(self.tables, self.rows, strict=True))

    @property
    def dataset_counts(self) -> dict[str, int]:
        return self.counts

    def identity(self) -> dict[str, object]:
        return {
            "seeder": "plan",
            "version": self.version,
            "seed": self.seed,
            "counts": self.counts,
            "plan": digest([dataclasses.asdict(m) for m in self.models]),
            "locale": self.plan.locale,
            "faker": faker.VERSION,
            "numpy": np.__version__,
        }

    def fingerprint(self) -> str:
        return digest(self.identity())

    def draw(self) -> list[Table]:
        drawn = Drawn(self.seed, self.plan.locale)
        return [draw_model(m, n, drawn) for m, n in zip(self.models, self.rows, strict=True)]

    def with_counts(self, counts: Mapping[str, int]) -> PlanSource:
        """The same plan and seed with some tables (by table name or model label) resized; no profile."""
        tables = {m.label.lower(): m.table for m in self.models} | {m.table: m.table for m in self.models}
        resized = {tables.get(k if k in tables else k.lower(), k): n for k, n in counts.items()}
        return _build(self.plan, None, self.seed, {**self.counts, **resized}, self.registry)


def source(
    plan: SeedPlan,
    profile: str | None,
    seed: int,
    rows: Mapping[str, int] | None = None,
    registry: Any = None,
) -> PlanSource:
    """The plan's rows for a profile (None: the rows as written) and seed, `rows` overriding some models'
    counts (keys: model labels or table names). Django must be set up. SeedInputError (one line) on an
    unknown profile, model or table, a bad seed or count, or a plan the models refuse."""
    check_profile(plan, profile)
    factor = plan.profiles[profile] if profile is not None else 1.0
    counts = {m.label: _scaled(m.rows, factor) for m in plan.models}
    return _build(plan, None if rows else profile, seed, {**counts, **(rows or {})}, registry)


def _build(
    plan: SeedPlan, profile: str | None, seed: int, counts: Mapping[str, int], registry: Any = None
) -> PlanSource:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise SeedInputError(f"the seed must be an integer from 0 to {MAX_SEED}, got {seed!r}")
    for name, n in counts.items():
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_ROWS:
            raise SeedInputError(f"rows of {name} must be a whole number from 1 to {MAX_ROWS:,}, got {n!r}")
    settled = resolve(plan, counts, registry)
    return PlanSource(
        plan=plan,
        models=tuple(m for m, _ in settled),
        rows=tuple(n for _, n in settled),
        seed=seed,
        profile=profile,
        registry=registry,
    )
