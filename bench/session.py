"""One pytest-benchmark session over a list of work items: bench_scenarios.py does the measuring."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Never

import pytest
from tqdm import tqdm

from bench.states import State, move_to

if TYPE_CHECKING:
    from bench.measure import Budget
    from bench.results import Measurement, StateChange
    from bench.scenarios import Case, Scenario

BENCH_MODULE = Path(__file__).with_name("bench_scenarios.py")


@dataclass(frozen=True)
class WorkItem:
    scenario: str
    case: Case
    side: str
    state: str
    cache: str = "warm"  # or "cold": shared buffers emptied before every round
    block: int = 0

    @property
    def id(self) -> str:
        return f"{self.block}:{self.state}:{self.scenario}[{self.case.name}]:{self.side}:{self.cache}"


@dataclass
class Collected:
    state_changes: list[StateChange] = field(default_factory=list)
    warm: list[Measurement] = field(default_factory=list)
    cold: list[Measurement] = field(default_factory=list)

    def add(self, work: WorkItem, measurement: Measurement) -> None:
        """Keep a measurement; a later block's samples join the earlier block's of the same work."""
        series = self.cold if work.cache == "cold" else self.warm
        for index, earlier in enumerate(series):
            if (earlier.scenario, earlier.case, earlier.side) == (work.scenario, work.case.name, work.side):
                series[index] = merge(earlier, measurement)
                return
        series.append(measurement)


def merge(earlier: Measurement, later: Measurement) -> Measurement:
    """One measurement from two blocks: all samples; plans and counts from the first (they repeat)."""
    if not later.ok:
        return later
    if not earlier.ok or earlier.timing is None or later.timing is None:
        return earlier
    timing = replace(
        earlier.timing,
        samples_s=earlier.timing.samples_s + later.timing.samples_s,
        rounds=earlier.timing.rounds + later.timing.rounds,
    )
    return replace(earlier, timing=timing)


def plan_work(
    scenarios: dict[str, Scenario],
    cases: dict[str, list[Case]],
    states: tuple[State, State],
    *,
    cold: bool,
    blocks: int = 1,
) -> list[WorkItem]:
    """Per block: migration scenarios in "before", then in "after" (warm, then cold when asked), then
    the code variants in "after", the state the database ends in.

    Before and after are minutes apart; a change in machine load between them would read as an
    effect. Alternating blocks (before, after, before, after) spreads each side over the run, so such
    drift widens both sides' samples instead of shifting one of them.
    """
    caches = ("warm", "cold") if cold else ("warm",)
    items: list[WorkItem] = []
    for block in range(blocks):
        for state in states:
            for cache in caches:
                for name, scenario in scenarios.items():
                    if scenario.kind == "migration":
                        items += [
                            WorkItem(name, case, state.name, state.name, cache, block) for case in cases[name]
                        ]
        for name, scenario in scenarios.items():
            if scenario.kind == "variant":
                items += [
                    WorkItem(name, case, side, states[-1].name, block=block)
                    for side in scenario.sides
                    for case in cases[name]
                ]
    return items


class RunPlugin:
    """Feeds the work items to bench_scenarios.py and collects what it measures."""

    def __init__(
        self,
        items: list[WorkItem],
        states: tuple[State, State],
        scenarios: dict[str, Scenario],
        budget: Budget,
        bar: tqdm[Never],
    ) -> None:
        self.items = items
        self.states = {state.name: state for state in states}
        self.scenarios = scenarios
        self.budget = budget
        self.bar = bar
        self.current_state: str | None = None
        self.collected = Collected()

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "work" in metafunc.fixturenames:
            metafunc.parametrize("work", self.items, ids=[item.id for item in self.items])

    @pytest.fixture
    def run(self) -> RunPlugin:
        return self

    def ensure_state(self, name: str) -> None:
        if name != self.current_state:
            self.bar.set_postfix_str(f"migrating to {name}")
            self.collected.state_changes.append(move_to(self.states[name]))
            self.current_state = name

    def record(self, work: WorkItem, measurement: Measurement) -> None:
        self.collected.add(work, measurement)
        self.bar.set_postfix_str(work.id)
        self.bar.update()


def run_session(
    items: list[WorkItem],
    states: tuple[State, State],
    scenarios: dict[str, Scenario],
    budget: Budget,
    *,
    label: str,
    progress: bool,
) -> Collected:
    with tqdm(total=len(items), desc=label, unit="measurement", disable=not progress) as bar:
        plugin = RunPlugin(items, states, scenarios, budget, bar)
        exit_code = pytest.main(_pytest_args(), plugins=[plugin])
    if exit_code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt
    if exit_code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise RuntimeError(f"the benchmark session ended with pytest exit code {exit_code}")
    return plugin.collected


def _pytest_args() -> list[str]:
    return [
        str(BENCH_MODULE),
        "--rootdir",
        str(BENCH_MODULE.parent),
        "-c",
        os.devnull,  # not the project's pytest settings: those are for the test suite
        "-o",
        "python_files=bench_*.py",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:terminal",  # the progress bar is the output; failures are reported from the results
        "-s",
        "--benchmark-quiet",
    ]
