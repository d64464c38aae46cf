"""Measure a seeded database's scenarios in both states at once: copies migrated to each state, every
item paired and interleaved across them. Used for the main dataset and each scale alike.

Each state is migrated once; with several copies per state, the migrated and settled copy is cloned
(page for page, without migrating and vacuuming again) until the state has its copies. All of them are
prewarmed alike before the warm series, each gets its own connections, and pair p runs on copy
p % copies of both states (bench/rounds/sides.py)."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from tqdm import tqdm

from django_index_bench.bench.gate.prewarm import prewarm
from django_index_bench.bench.pg import clones, db
from django_index_bench.bench.results import Measurement, RunConfirmation, ScheduledItem, StateChange
from django_index_bench.bench.rounds.executor import ItemResult, run_all
from django_index_bench.bench.rounds.facts import describe, failed
from django_index_bench.bench.rounds.schedule import Item, Rules, plan_items
from django_index_bench.bench.rounds.sides import LocalSides
from django_index_bench.bench.scenarios import Case, Scenario
from django_index_bench.bench.steps import confirm_run
from django_index_bench.bench.steps.states import State, reach
from django_index_bench.bench.steps.stopwatch import Stopwatch

# The case a scenario's measurements carry when its cases could not even be drawn.
NO_CASES = "(cases)"


@dataclass(frozen=True)
class Measured:
    states: tuple[StateChange, ...]
    cases: dict[str, list[Case]]
    warm: tuple[Measurement, ...] = ()
    cold: tuple[Measurement, ...] = ()
    items: tuple[ScheduledItem, ...] = ()
    broken: dict[str, str] = field(default_factory=dict)  # state -> why it was not reached
    # purpose -> state -> a copy of that state's copy, made before measuring; the caller drops them.
    spares: dict[str, dict[str, db.Target]] = field(default_factory=dict)
    copies: int = 1  # database copies per state the rounds were spread over (a round's worker: its copy)
    prewarm: str = ""  # how the copies were prewarmed before the warm series (Schedule.prewarm)
    # The second measurement of the items the first called faster or slower; None: not asked for.
    confirmation: RunConfirmation | None = None


def draw(scenarios: dict[str, Scenario], only: str | None) -> tuple[dict[str, list[Case]], list[Measurement]]:
    """Each scenario's cases from the seeded data; a scenario whose drawing raises fails on both sides."""
    cases: dict[str, list[Case]] = {}
    failures: list[Measurement] = []
    for name, scenario in scenarios.items():
        try:
            drawn = scenario.draw_cases()
        except Exception as exc:
            error = f"drawing the cases failed: {describe(exc)}"
            case = Case(NO_CASES, {})
            cases[name] = [case]
            failures += [failed(name, case, side, "-", error) for side in scenario.sides]
            continue
        cases[name] = [c for c in drawn if only is None or c.name == only]
        if drawn and not cases[name]:
            # A case nobody draws ([scales] case misspelt) measures nothing: that is a failure, not a pass.
            known = ", ".join(c.name for c in drawn)
            error = f"no case named {only!r} (its cases: {known})"
            failures += [failed(name, Case(str(only), {}), side, "-", error) for side in scenario.sides]
    return cases, failures


def migrate_copies(
    target: db.Target, states: tuple[State, State], tag: str, copies: list[db.Target]
) -> list[StateChange]:
    """A copy per state, each moved there; `copies` lists what was created, even when this raises."""
    changes = []
    for state in states:
        copies.append(clones.clone(target, clones.name_for(target, tag, state.name), tag))
        db.switch_django(copies[-1])
        changes.append(reach(state))
        connection.close()
    return changes


def spare_copies(
    target: db.Target,
    states: tuple[State, State],
    copies: list[db.Target],
    broken: dict[str, str],
    purposes: dict[str, tuple[str, ...]],
    tag: str,
    made: list[db.Target],
) -> dict[str, dict[str, db.Target]]:
    """For each purpose (the cost step, the load step), a copy of each state's copy it names (if that
    state was reached), taken right after it was migrated and settled, before any round ran in it: the
    same database, page for page, as a fresh copy moved to that state, without migrating and vacuuming
    it again. `made` lists them."""
    spares: dict[str, dict[str, db.Target]] = {}
    connection.close()  # a template must have no other session
    for purpose, wanted in purposes.items():
        for state, copied in zip(states, copies, strict=True):
            if state.name in broken or state.name not in wanted:
                continue
            made.append(clones.clone(copied, clones.name_for(target, tag, f"{purpose}_{state.name}"), tag))
            spares.setdefault(purpose, {})[state.name] = made[-1]
    return spares


def more_copies(
    target: db.Target,
    states: tuple[State, State],
    first: list[db.Target],
    broken: dict[str, str],
    count: int,
    tag: str,
    made: list[db.Target],
) -> dict[str, list[db.Target]]:
    """Each reached state's copies: its migrated copy, then count - 1 clones of it (FILE_COPY: cheap).
    A state that was not reached keeps its one copy (its items fail anyway). `made` lists the clones."""
    connection.close()  # a template must have no other session
    out: dict[str, list[db.Target]] = {}
    for state, copied in zip(states, first, strict=True):
        out[state.name] = [copied]
        if state.name in broken:
            continue
        for number in range(1, count):
            made.append(clones.clone(copied, clones.name_for(target, tag, f"{state.name}_c{number}"), tag))
            out[state.name].append(made[-1])
    return out


def settings_of(target: db.Target) -> dict[str, Any]:
    db.switch_django(target)
    return copy.deepcopy(connection.settings_dict)


def measure_states(
    target: db.Target,
    states: tuple[State, State],
    scenarios: dict[str, Scenario],
    rules: Rules,
    *,
    cold: bool,
    seed: int,
    tag: str,
    keep: bool,
    progress: bool,
    label: str,
    only_case: str | None = None,
    clock: Stopwatch | None = None,
    spares: dict[str, tuple[str, ...]] | None = None,
    copies_per_state: int = 1,
    confirm: bool = False,
) -> Measured:
    """`clock` gets the seconds of "copies" (cloning, migrating, prewarming, dropping) and of each cache
    series's items ("warm", "cold"; drawing the cases counts as warm), and "confirm" when something was
    measured again. `spares`: purpose -> the states whose first migrated copy it gets a copy of
    (Measured.spares), which the caller then owns and drops. `copies_per_state`: database copies per
    state. `confirm`: measure the items called faster or slower a second time (confirm_run.py)."""
    watch = clock if clock is not None else Stopwatch()
    with watch.step("warm"):
        db.switch_django(target)
        cases, failures = draw(scenarios, only_case)
        connection.close()
    created: list[db.Target] = []  # the states' copies
    made: list[db.Target] = []
    handed_over = False
    try:
        with watch.step("copies"):
            changes = migrate_copies(target, states, tag, created)
            broken = {c.state: c.error or "failed" for c in changes if not c.ok}
            spared = spare_copies(target, states, created, broken, spares or {}, tag, made)
            per_state = more_copies(target, states, list(created), broken, copies_per_state, tag, created)
            # Every copy at its state: each gets the same cache treatment before any round is timed.
            prewarmed = prewarm(clones.maintenance_url(target), [c.name for c in created])
        drawn = {n: [c for c in cs if c.name != NO_CASES] for n, cs in cases.items()}
        items = plan_items(scenarios, drawn, states, cold=cold)
        databases = {state: [settings_of(copied) for copied in found] for state, found in per_state.items()}
        db.switch_django(target)
        sides = LocalSides(scenarios, databases)
        warm, cold_series, scheduled = list(failures), list[Measurement](), list[ScheduledItem]()
        ran: list[tuple[Item, ItemResult]] = []
        with tqdm(total=len(items), desc=label, unit="item", disable=not progress) as bar:

            def show(item: Item) -> None:
                bar.set_postfix_str(item.label)

            try:
                last = time.perf_counter()
                for item, result in zip(items, run_all(items, sides, rules, seed, broken, show), strict=True):
                    ran.append((item, result))
                    watch.add(result.scheduled.cache, time.perf_counter() - last)
                    last = time.perf_counter()
                    series = cold_series if result.scheduled.cache == "cold" else warm
                    series += [result.baseline, result.candidate]
                    scheduled.append(result.scheduled)
                    bar.update()
            finally:
                sides.close()
        confirmation = None
        if confirm:
            confirmation = _confirm(
                target, per_state, scenarios, ran, rules,
                copies=copies_per_state, seed=seed, tag=tag, made=created, watch=watch,
            )  # fmt: skip
        handed_over = True
    finally:
        with watch.step("copies"):
            db.switch_django(target)
            if keep:
                clones.keep(target, created)
            else:
                clones.drop_all(target, created)
            if not handed_over:
                clones.drop_all(target, made)
    return Measured(
        tuple(changes), cases, tuple(warm), tuple(cold_series), tuple(scheduled), broken, spared,
        copies_per_state, prewarmed, confirmation,
    )  # fmt: skip


# The second measurement's pair order comes from another seed than the first's.
CONFIRM_SEED_OFFSET = 1


def _confirm(
    target: db.Target,
    per_state: dict[str, list[db.Target]],
    scenarios: dict[str, Scenario],
    ran: list[tuple[Item, ItemResult]],
    rules: Rules,
    *,
    copies: int,
    seed: int,
    tag: str,
    made: list[db.Target],
    watch: Stopwatch,
) -> RunConfirmation:
    """The items the first measurement called faster or slower, measured again on fresh clones of each
    state's settled copy (`made` gets them, for the caller to drop); timed as the step "confirm" only
    when there is something to measure again."""
    flags = confirm_run.flagged(ran, rules, copies)
    again = seed + CONFIRM_SEED_OFFSET
    if not flags:
        return confirm_run.nothing_called(again, copies)
    needed = {side.state for flag in flags for side in flag.item.sides}
    with watch.step("confirm"):
        connection.close()  # a template must have no other session
        try:
            return confirm_run.measure_again(
                target, {s: per_state[s][0] for s in sorted(needed)}, flags, scenarios, settings_of,
                copies=copies, seed=again, tag=tag, made=made,
            )  # fmt: skip
        finally:
            db.switch_django(target)
