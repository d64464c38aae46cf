"""Seed plan hooks for tests/test_seed_correlated.py, named in its plan as `tests.seed_hooks:...`."""

from __future__ import annotations

import numpy as np

from django_index_bench.seed.hooks import Rows


def delay_as_speed(rows: Rows) -> None:
    """speed: the seconds from receiveddate to created_at; NULL on every tenth row, at random."""
    delay = (rows.values("created_at") - rows.values("receiveddate")) / np.timedelta64(1, "s")
    rows.set("speed", delay, nulls=rows.random.random(rows.count) < 0.1)
