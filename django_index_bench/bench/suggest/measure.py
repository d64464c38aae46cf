"""Each candidate measured for real: a copy with it built against a copy without it, every scenario paired
and interleaved (bench.steps.timed), then what it costs (bench.costs.collect: CREATE INDEX plain and
CONCURRENTLY with its lock and a writer's stalls, its size, insert throughput and WAL per row, paired).
Within a budget: a candidate whose turn comes when the budget cannot cover it is recorded as not measured."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django_index_bench.bench.costs.collect import collect_costs
from django_index_bench.bench.pg import clones, db
from django_index_bench.bench.results import Costs, Measurement
from django_index_bench.bench.rounds.facts import describe
from django_index_bench.bench.rounds.schedule import Rules
from django_index_bench.bench.scenarios import Scenario
from django_index_bench.bench.steps.states import State
from django_index_bench.bench.steps.timed import measure_states
from django_index_bench.bench.suggest.results import Candidate, Trial, TrialStatus

# Each CREATE INDEX variant, forward and back, once: the build is timed on the copy's real data, and a
# budgeted search cannot repeat it as often as `bench run` does.
INDEX_REPETITIONS = 1


@dataclass(frozen=True)
class Setup:
    target: db.Target
    base: State
    scenarios: dict[str, Scenario]
    rules: Rules
    seed: int
    tag: str
    copy_rows: int
    orm_rows: int
    readers: dict[str, tuple[str, ...]]  # table -> the scenarios whose captured SQL reads it
    progress: bool = False

    def affected(self, candidates: Sequence[Candidate]) -> dict[str, Scenario]:
        """The scenarios an index on these tables can change: those that read them. The others' plans
        cannot change, and timing them would only add tests that can come out significant by chance."""
        names = {n for c in candidates for n in self.readers.get(c.table, ())}
        return {n: s for n, s in self.scenarios.items() if n in names}


def with_indexes(base: State, candidates: Sequence[Candidate], number: int) -> State:
    """The chosen state with the candidates built on top (the name tells the copies apart)."""
    statements = (*base.create_indexes, *(c.sql for c in candidates))
    return dataclasses.replace(base, name=f"with{number}", create_indexes=statements)


def _plain(measurements: tuple[Measurement, ...]) -> tuple[Measurement, ...]:
    """Without the whole JSON plans: the summaries are what the report shows."""
    return tuple(
        dataclasses.replace(m, plans=tuple(dataclasses.replace(p, raw=None) for p in m.plans))
        for m in measurements
    )


def trial(setup: Setup, candidates: Sequence[Candidate], number: int) -> Trial:
    """One trial; a failure (the index cannot be built, a scenario raises) is recorded in it."""
    started = time.perf_counter()
    names = tuple(c.name for c in candidates)
    states = (setup.base, with_indexes(setup.base, candidates, number))
    tag = f"{setup.tag}s{number}"
    measured = measure_states(
        setup.target, states, setup.affected(candidates), setup.rules,
        cold=False, seed=setup.seed, tag=tag, keep=False, progress=setup.progress, label=" + ".join(names),
    )  # fmt: skip
    if measured.broken:
        why = "; ".join(f"{state}: {error}" for state, error in measured.broken.items())
        return Trial(names, "failed", why, _plain(measured.warm), None, time.perf_counter() - started)
    try:
        costs = collect_costs(
            setup.target, states, clones.name_for(setup.target, tag, "costs"),
            copy_rows=setup.copy_rows, orm_rows=setup.orm_rows,
            migration_repetitions=INDEX_REPETITIONS, progress=setup.progress,
        )  # fmt: skip
    except Exception as exc:  # recorded: the trial shows as FAILED with its reads kept
        costs = Costs.failed(describe(exc))
    failures = [f"{m.scenario}[{m.case}] {m.side}: {m.error}" for m in measured.warm if not m.ok]
    if not costs.ok:
        failures.append(f"costs: {costs.error}")
    status: TrialStatus = "failed" if failures else "measured"
    reason = "; ".join(failures) or None
    return Trial(names, status, reason, _plain(measured.warm), costs, time.perf_counter() - started)


def within_budget(
    setup: Setup,
    plan: Sequence[Sequence[Candidate]],
    budget_s: float,
    started: float,
    *,
    first: int = 1,
) -> list[Trial]:
    """The trials in order while the budget lasts: one is started only when what is left covers the
    longest trial so far (the first, when nothing is known yet, only when any budget is left)."""
    trials: list[Trial] = []
    longest = 0.0
    for number, candidates in enumerate(plan, start=first):
        left = budget_s - (time.perf_counter() - started)
        if left <= 0 or left < longest:
            names = tuple(c.name for c in candidates)
            why = f"budget: {max(left, 0):.0f} s of --seconds {budget_s:g} left; a trial took {longest:.0f} s"
            trials.append(Trial(names, "not measured", why))
            continue
        done = trial(setup, candidates, number)
        longest = max(longest, done.seconds)
        trials.append(done)
    return trials
