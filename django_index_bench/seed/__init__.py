"""Fill a project's tables with deterministic, realistically skewed data, loaded with COPY.

A Source (seed/source.py) says what to load: a declarative plan for any Django models (seed/plan.py) or
a project's own seeder, named by a hook in its bench.toml. seed/load.py loads any source.
seed/ knows nothing about benchmarks and never decides whether a database may be wiped: its caller does.
"""

from __future__ import annotations

from django_index_bench.seed.copying import SeedOutcome, TableLoad, ensure_seeded, fingerprint
from django_index_bench.seed.inputs import SeedInputError
from django_index_bench.seed.source import Source

__all__ = ["SeedInputError", "SeedOutcome", "Source", "TableLoad", "ensure_seeded", "fingerprint"]
