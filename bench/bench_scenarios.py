"""The pytest-benchmark module `bench run` drives: one test per scenario, case, side and cache mode.

It is collected only by bench.session, which parametrizes `work` and provides the `run` fixture.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any

from bench import cache
from bench.measure import failed, measure
from bench.results import Timing

if TYPE_CHECKING:
    from collections.abc import Callable

    from bench.session import RunPlugin, WorkItem


def test_scenario(benchmark: Any, work: WorkItem, run: RunPlugin) -> None:
    run.ensure_state(work.state)
    # Everything the run has kept so far (results, plans) would make each full collection slower, so
    # later measurements (the "after" state) would pay for earlier ones. Freezing it leaves the
    # collector to the objects the scenario itself allocates, as in a fresh app process.
    gc.collect()
    gc.freeze()
    scenario = run.scenarios[work.scenario]
    benchmark.group = work.scenario
    benchmark.extra_info.update(case=work.case.name, side=work.side, state=work.state, cache=work.cache)
    evict = cache.evict_all if work.cache == "cold" else None

    def timer(call: Callable[[], object], one_call_seconds: float) -> Timing:
        rounds = run.budget.rounds_for(one_call_seconds)
        # Cold rounds get no warmup: warming is exactly what they must not have.
        warmup = 0 if evict else 1
        benchmark.pedantic(call, setup=evict, rounds=rounds, warmup_rounds=warmup, iterations=1)
        return Timing(
            samples_s=tuple(benchmark.stats.stats.data),
            rounds=rounds,
            iterations=1,
            warmup_rounds=warmup,
            timer="time.perf_counter",
        )

    try:
        measurement = measure(scenario, work.case, work.side, work.state, timer=timer, cold=evict)
    except Exception as exc:
        run.record(work, failed(work.scenario, work.case, work.side, work.state, exc))
        raise
    run.record(work, measurement)
