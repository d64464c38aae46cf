"""bench run's second measurement: every item whose timing the first measurement calls faster or slower
is measured again on fresh copies of each state, with fresh connections and another seed, before the
report may say so (verdicts/run_confirm.py decides; this module only measures).

Fresh copies: each state's migrated, settled copy is cloned again (FILE_COPY: page for page, without
migrating and vacuuming again) once the first measurement is done. Every round of the first ran in a
transaction rolled back afterwards, so the clone holds the rows the first copies were settled with. The
new copies are prewarmed alike, as the first ones were, and the pairs spread over them the same way
(pair p on copy p % copies). Cheap for large effects: an item first gets the pairs that show its first
effect again with room to spare (run_confirm.pairs_needed, at least the rules' minimum of pairs; slow
rounds still stop at the floor by the budget), and stops there when it agrees already; one that does
not yet gets twice as many, and so on (run_confirm.looks), up to what the first measurement ran, within
the same budget in seconds. Each look, and the last judgement, is at alpha over their number.

Only rounds are timed the second time: plans, query counts, Sort and buffers repeat exactly and are
never measured again (the second Measurements hold timings alone). A failure is never a pass: when the
copies cannot be made, or the item fails the second time, its calls stand and the reason is recorded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django_index_bench.bench.gate.prewarm import prewarm
from django_index_bench.bench.pg import clones, db
from django_index_bench.bench.results import Remeasured, RunConfirmation, Timing
from django_index_bench.bench.rounds.executor import ItemResult, Looks, run_item
from django_index_bench.bench.rounds.facts import describe
from django_index_bench.bench.rounds.schedule import Item, Rules
from django_index_bench.bench.rounds.sides import ConnectionLost, LocalSides
from django_index_bench.bench.scenarios import Scenario
from django_index_bench.verdicts import run_confirm
from django_index_bench.verdicts.defaults import DEFAULT_ALPHA, DEFAULT_THRESHOLD
from django_index_bench.verdicts.words import CONFIRMED, NOT_REMEASURED, Called, Metric

# What the results file says when confirmation was turned off, or found nothing to confirm.
OFF = "turned off (--no-confirm): every call stands on one measurement"
NONE_CALLED = "nothing to confirm: the first measurement called no timing faster or slower"


@dataclass(frozen=True)
class Flagged:
    """An item whose first measurement called a timing, and how its second measurement runs: its
    rules, the pairs after which it asks whether it agrees yet (the last: its most), each look's level."""

    item: Item
    called: dict[Metric, Called]
    rules: Rules
    looks: tuple[int, ...] = ()
    alpha: float = DEFAULT_ALPHA


def second_rules(rules: Rules, looks: tuple[int, ...]) -> Rules:
    """The first measurement's rules, from the first look's pairs (no more at minimum) to the last
    look's: the floor and the budget in seconds still stop a slow item first."""
    return dataclasses.replace(rules, min_pairs=min(rules.min_pairs, looks[0]), max_pairs=looks[-1])


def flagged(
    ran: Sequence[tuple[Item, ItemResult]],
    rules: Rules,
    copies: int,
    *,
    alpha: float = DEFAULT_ALPHA,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Flagged]:
    """The items the report would call faster or slower, by its own rule, with their second rules."""
    out = []
    for item, result in ran:
        base, cand = result.baseline.timing, result.candidate.timing
        if not (result.baseline.ok and result.candidate.ok) or base is None or cand is None:
            continue  # a failed item is reported as failed: there is no call to confirm
        timings = run_confirm.item_timings(
            base, cand, copies=tuple(range(copies)), alpha=alpha, threshold=threshold
        )
        called = run_confirm.called(timings)
        if not called:
            continue
        # Never fewer than the rules' minimum (a slow item still stops at the floor by its budget): at 9
        # pairs over 4 copies, two a copy, one stray pair on a busy machine decided the copy's weight,
        # and real 2.5x changes went unconfirmed.
        fewest = rules.min_pairs
        most = max(fewest, result.scheduled.pairs)
        pairs = max(
            run_confirm.pairs_needed(found, fewest=fewest, most=most)
            for metric in called
            if (found := timings.of(metric)) is not None
        )
        planned = run_confirm.looks(pairs, most)
        level = run_confirm.look_alpha(alpha, planned)
        out.append(Flagged(item, called, second_rules(rules, planned), planned, level))
    return out


def _outcomes(flag: Flagged, base: Timing, cand: Timing, copies: int, threshold: float) -> dict[str, str]:
    """Each called metric's outcome on these rounds, at the flag's level (alpha over its looks)."""
    found = run_confirm.item_timings(
        base, cand, copies=tuple(range(copies)), alpha=flag.alpha, threshold=threshold
    )
    return {m: run_confirm.outcome(d, found.of(m), flag.alpha) for m, d in flag.called.items()}


def looks_for(flag: Flagged, copies: int, threshold: float) -> Looks:
    """Stop at the first look where every called metric agrees already (the last look is the item's
    end: judged there anyway)."""

    def agreed(base: Timing, cand: Timing) -> bool:
        return set(_outcomes(flag, base, cand, copies, threshold).values()) == {CONFIRMED}

    return Looks(frozenset(flag.looks[:-1]), agreed)


def judge(flag: Flagged, again: ItemResult, copies: int, threshold: float) -> Remeasured:
    """The second measurement of one item and each called metric's outcome."""
    item = flag.item
    common: dict[str, Any] = {
        "scenario": item.scenario, "case": item.case.name, "cache": item.cache, "called": dict(flag.called),
        "baseline": again.baseline, "candidate": again.candidate, "scheduled": again.scheduled,
        "looks": flag.looks, "alpha": flag.alpha,
    }  # fmt: skip
    base, cand = again.baseline.timing, again.candidate.timing
    if not (again.baseline.ok and again.candidate.ok) or base is None or cand is None:
        error = "; ".join(m.error for m in (again.baseline, again.candidate) if m.error) or "no timings"
        why = f"the second measurement failed: {error}"
        return Remeasured(**common, outcomes=dict.fromkeys(flag.called, NOT_REMEASURED), error=why)
    return Remeasured(**common, outcomes=_outcomes(flag, base, cand, copies, threshold))


def not_remeasured(flags: Sequence[Flagged], error: str) -> tuple[Remeasured, ...]:
    """Every flagged item with no second measurement: its calls stand, and `error` says why."""
    out = []
    for flag in flags:
        called: dict[str, str] = dict(flag.called.items())
        outcomes: dict[str, str] = dict.fromkeys(flag.called, NOT_REMEASURED)
        item = flag.item
        out.append(Remeasured(item.scenario, item.case.name, item.cache, called, outcomes, error=error))
    return tuple(out)


def nothing_called(seed: int, copies: int) -> RunConfirmation:
    """Confirmation was on, and the first measurement called nothing: nothing was measured again."""
    return RunConfirmation(
        enabled=True, note=NONE_CALLED, seed=seed, alpha=DEFAULT_ALPHA, threshold=DEFAULT_THRESHOLD,
        copies=copies,
    )  # fmt: skip


def fresh_copies(
    target: db.Target, templates: dict[str, db.Target], count: int, tag: str, made: list[db.Target]
) -> dict[str, list[db.Target]]:
    """`count` new clones of each state's settled copy; `made` lists them, even when this raises."""
    out: dict[str, list[db.Target]] = {}
    for state, template in templates.items():
        for number in range(count):
            made.append(clones.clone(template, clones.name_for(target, tag, f"{state}_again{number}"), tag))
            out.setdefault(state, []).append(made[-1])
    return out


def measure_again(
    target: db.Target,
    templates: dict[str, db.Target],
    flags: Sequence[Flagged],
    scenarios: dict[str, Scenario],
    settings_of: Callable[[db.Target], dict[str, Any]],
    *,
    copies: int,
    seed: int,
    tag: str,
    made: list[db.Target],
    alpha: float = DEFAULT_ALPHA,
    threshold: float = DEFAULT_THRESHOLD,
) -> RunConfirmation:
    """Each flagged item once more, on `copies` fresh clones per state of `templates` (state -> its
    settled copy, no session on it), on new connections, pair order from `seed`. `made` gets the clones
    (the caller drops them). ConnectionLost ends the run, as in the first measurement."""
    record = RunConfirmation(
        enabled=True, note="", seed=seed, alpha=alpha, threshold=threshold, copies=copies
    )
    fresh: list[db.Target] = []
    try:
        per_state = fresh_copies(target, templates, copies, tag, fresh)
        # The new copies alike, as the first ones were (those are not read again).
        warmed = prewarm(clones.maintenance_url(target), [c.name for c in fresh])
        databases = {state: [settings_of(c) for c in found] for state, found in per_state.items()}
    except ConnectionLost:
        raise
    except Exception as exc:  # recorded: the calls stand, and the report says why
        error = f"the fresh copies could not be made: {describe(exc)}"
        note = f"{len(flags)} item(s) could not be measured again; their calls stand"
        return dataclasses.replace(record, note=note, items=not_remeasured(flags, error), error=error)
    finally:
        made.extend(fresh)
    sides = LocalSides(scenarios, databases)
    items = []
    try:
        for flag in flags:
            looks = looks_for(flag, copies, threshold)
            again = run_item(flag.item, sides, flag.rules, seed, {}, facts=False, looks=looks)
            items.append(judge(flag, again, copies, threshold))
    finally:
        sides.close()
    note = (
        f"{len(items)} item(s) whose timing the first measurement called faster or slower measured again "
        f"on {copies} fresh copies per state"
    )
    return dataclasses.replace(record, note=note, prewarm=warmed, items=tuple(items))
