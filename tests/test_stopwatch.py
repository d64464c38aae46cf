"""Where the time goes: a step's seconds add up over its parts, in the order steps first ran, and print
as one aligned line each with their total."""

from __future__ import annotations

import pytest

from django_index_bench.bench.results import StepTime
from django_index_bench.bench.steps.stopwatch import Stopwatch, lines


def test_a_step_timed_twice_adds_up_in_the_order_it_first_ran() -> None:
    watch = Stopwatch()
    watch.add("seed", 12.0)
    watch.add("warm", 1.25)
    watch.add("copies", 3.0)
    watch.add("warm", 100.0)
    assert watch.recorded() == (StepTime("seed", 12.0), StepTime("warm", 101.25), StepTime("copies", 3.0))


def test_a_step_that_raises_still_records_its_time() -> None:
    watch = Stopwatch()
    with pytest.raises(RuntimeError), watch.step("costs"):
        raise RuntimeError("the cost step failed")
    assert [s.step for s in watch.recorded()] == ["costs"]
    assert watch.recorded()[0].seconds >= 0


def test_one_line_per_step_then_the_total() -> None:
    steps = (StepTime("seed", 12.0), StepTime("warm", 137.25), StepTime("sensitivity", 0.04))
    assert lines(steps) == [
        "step seed:           12.0 s",
        "step warm:          137.2 s",
        "step sensitivity:     0.0 s",
        "step total:         149.3 s",
    ]
    assert lines(()) == []
