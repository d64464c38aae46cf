"""Where a command's time goes: wall-clock seconds per step (seed, copies, warm, cold, costs, scales,
load, ...), kept in the results file and printed as one line per step when the command ends."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django_index_bench.bench.results import StepTime


@dataclass
class Stopwatch:
    """Seconds per step, in the order the steps first ran; a step timed twice adds up."""

    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, step: str, seconds: float) -> None:
        self.seconds[step] = self.seconds.get(step, 0.0) + seconds

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the block, even when it raises: a failed step still took its time."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started)

    def recorded(self) -> tuple[StepTime, ...]:
        return tuple(StepTime(step, round(seconds, 3)) for step, seconds in self.seconds.items())


def lines(steps: tuple[StepTime, ...]) -> list[str]:
    """`step warm:   137.2 s`, one per step, then their total."""
    if not steps:
        return []
    width = max(len(s.step) for s in [*steps, StepTime("total", 0.0)]) + 1
    total = StepTime("total", sum(s.seconds for s in steps))
    return [f"step {s.step + ':':<{width}} {s.seconds:7.1f} s" for s in (*steps, total)]
