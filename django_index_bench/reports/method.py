"""The report's methodology, written from what the run recorded (`Results.schedule`, the timings and
the comparisons actually made), so it can never describe a method the run did not use.

Every sentence with a figure in it is built here; the template only lists them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from django_index_bench.bench.results import Results, Schedule, StopReason, pairs
from django_index_bench.reports import fmt
from django_index_bench.reports.analysis import Analysis
from django_index_bench.verdicts import defaults, stats, words

TESTS = {
    "paired": "Wilcoxon signed-rank on paired log ratios",
    "independent": "Mann-Whitney U",
}
STOPS: dict[StopReason, str] = {
    "precision": "its interval reached the precision",
    "budget": "its time budget ran out",
    "slow": "its rounds were slow: its time budget ran out before the usual minimum of pairs",
    "max_pairs": "it reached the most pairs allowed",
    "failed": "it failed",
    "agreed": "it agreed with the first measurement at one of its looks (a second measurement only)",
}


def test_name(method: str) -> str:
    return TESTS.get(method, method)


def _comparisons(*analyses: Analysis | None) -> list[stats.Comparison]:
    return [
        comparison
        for analysis in analyses
        if analysis is not None
        for case in analysis.all_cases()
        for comparison in (case.comparison, case.db_comparison)
        if comparison is not None
    ]


BLOCKS = (
    "This results file predates paired measurement (schema 2): one database was moved between the "
    "states, the sides were measured in alternating blocks, and neither pairs nor database time were "
    "recorded. Its cases are compared as independent samples."
)


def _where(results: Results) -> str:
    """Which database or process each side ran in, as recorded."""
    schedule = results.schedule
    if schedule.sides == "blocks":
        return BLOCKS
    if schedule.sides == "workers":
        text = (
            f"Each side ran in {schedule.workers} worker process(es) of its own; each pair is one baseline "
            "round and one candidate round run back to back, the pairs spread over the workers"
        )
        if schedule.partner:
            text += f", and this run's pairs pair with run `{schedule.partner}`'s"
        return text + "."
    databases = ", ".join(f"state `{s.state}` on database `{s.database}`" for s in results.states)
    return (
        "Both sides ran in this one process, each on the database of its migration state"
        + (f" ({databases})" if databases else "")
        + ": copies of one template database, so the data is the same, each migrated to its state, then "
        + _settled(results)
        + ". Each pair is one baseline round and one candidate round, back to back, over warmed connections."
        + _copies(schedule)
    )


def _copies(schedule: Schedule) -> str:
    """How many database copies each state had and how the pairs were spread, as recorded."""
    if schedule.copies <= 1:
        return ""
    text = (
        f" Each state had {schedule.copies} database copies ({schedule.copies_reason}), each with its own "
        "connections; pair p ran on copy p mod copies for both sides, and the intervals and tests resample "
        "whole copies, so a difference between copies widens an interval instead of reading as a change"
    )
    return text + (f". Before the timed rounds: {schedule.prewarm}." if schedule.prewarm else ".")


def _settled(results: Results) -> str:
    """What each copy got after its migrations, as the results record it."""
    kinds = list(dict.fromkeys(s.maintenance for s in results.states)) or ["ANALYZE"]
    if kinds == ["VACUUM (ANALYZE)"]:
        return "vacuumed and analyzed (VACUUM (ANALYZE): statistics and the visibility map as they are now)"
    return " or ".join(kinds) + "d"


def _order(analysis: Analysis, schedule: Schedule) -> str:
    """The recorded order of the pairs: which side went first, counted from the timings."""
    if schedule.order == "none":
        return "No pairs, so no order within them: the file predates paired measurement."
    first = total = 0
    for case in analysis.all_cases():
        before, after = case.baseline.timing, case.candidate.timing
        if before is None or after is None:
            continue
        rounds, _, _ = pairs(before, after)
        first += sum(before.first[i] for i in rounds)
        total += len(rounds)
    text = (
        "Which side ran first alternated from pair to pair (A B, B A, ...), so each side ran first in "
        f"half the pairs and followed each side equally often; the first pair's order came from seed "
        f"{schedule.order_seed}"
    )
    if total:
        text += f"; the baseline ran first in {fmt.count(first)} of {fmt.count(total)} pairs"
    return text + "."


def _stopping(schedule: Schedule) -> str:
    if schedule.sides == "blocks":
        return "Not recorded: the file predates the schedule."
    text = (
        f"{schedule.warmup_rounds} untimed warmup round(s) per side before the first pair. Each item ran "
        f"at least {fmt.count(schedule.min_pairs)} and at most {fmt.count(schedule.max_pairs)} pairs: it "
        f"stopped once the {fmt.percent(defaults.CONFIDENCE, 0)} interval of its median paired ratio was "
        f"within {fmt.percent(schedule.precision)} of it, or when its budget of "
        f"{fmt.duration(schedule.seconds)} ran out."
    )
    if 0 < schedule.floor_pairs < schedule.min_pairs:
        text += (
            f" An item whose rounds were slow stopped when its budget ran out even before "
            f"{fmt.count(schedule.min_pairs)} pairs, but never before {fmt.count(schedule.floor_pairs)}: "
            "its minimum is a number of pairs or its budget in seconds, whichever came first."
        )
    return text + (
        f" Timer `{schedule.timer}`, resolution {fmt.duration(schedule.timer_resolution_s)}. "
        + _stop_meaning(schedule)
    )


def _stop_meaning(schedule: Schedule) -> str:
    """What each way of stopping means for the item's verdict, from the rules the run recorded."""
    floor = schedule.floor_pairs
    text = (
        "An item stopped by precision has an interval narrow enough to tell a change of the threshold's "
        "size from none; one stopped by its budget or by the most pairs allowed has the interval its "
        "pairs gave, and its verdict says no significant change when that interval cannot exclude one."
    )
    if 0 < floor < schedule.min_pairs:
        text += (
            f" One stopped for slow rounds rests on as few as {fmt.count(floor)} pairs: the smallest p "
            f"the two-sided signed-rank test can give with n pairs is 2/2^n ({2 / 2**floor:.3g} at "
            f"{fmt.count(floor)}), so it is called faster or slower only when nearly every pair agrees, "
            "and its wider interval raises the smallest change it could show."
        )
    return text


def _items(results: Results) -> str:
    items = results.schedule.items
    if not items:
        return "The schedule records no items."
    pairs = [i.pairs for i in items]
    stops = Counter(i.stop for i in items)
    why = "; ".join(f"{n} because {STOPS[stop]}" for stop, n in sorted(stops.items()))
    caches = ", ".join(sorted({i.cache for i in items}))
    return (
        f"{len(items)} item(s) ({caches} cache) ran {fmt.count(min(pairs))} to {fmt.count(max(pairs))} "
        f"pairs each (median {fmt.count(int(np.median(pairs)))}). Stopped: {why}. Each case's pairs and "
        "stop are in the per-scenario detail."
    )


def _confirmation(analysis: Analysis, cold: Analysis | None) -> str:
    """What the run did to confirm its calls, from its record; "" when it recorded nothing (a file
    older than schema 11, or not bench run's), so no method it did not use is ever described."""
    done = analysis.results.confirmation
    if done is None:
        return ""
    if not done.enabled:
        return "Not done (--no-confirm): every faster or slower call rests on one measurement."
    text = (
        "Every case whose first measurement was called faster or slower (end to end or database time, "
        f"p < {done.alpha:g}, its interval excluding 1, beyond {fmt.percent(done.threshold, 0)}) was "
        f"measured a second time before this report called it: on {fmt.count(done.copies)} fresh "
        "copies per state of the migrated, settled database (cloned again, prewarmed alike"
        + (f": {done.prewarm}" if done.prewarm else "")
        + f"), with fresh connections and pair order from seed {done.seed}. It first ran the pairs that "
        "show the first effect again with room to spare (at least the item's minimum of pairs) and "
        "stopped there if it agreed already; otherwise twice as many, and so on, up to the first "
        "measurement's pairs, within the same budget in seconds. A call stands only when the second "
        "measurement agrees: the same metric and direction, its interval beyond no change (not the "
        f"threshold again) and p below {done.alpha:g} divided by the number of its looks (each item's "
        "level is in its detail); otherwise it is treated as noise and reads no significant change, with "
        "both figures. Query counts, plans and buffers repeat exactly and were not measured again. "
        f"{done.note[:1].upper()}{done.note[1:]}."
    )
    found = [c.confirmation for a in (analysis, cold) if a is not None for c in a.all_cases()]
    outcomes = Counter(o for c in found if c is not None for o in c.outcomes.values())
    if outcomes:
        said = "; ".join(f"{n} {words.CONFIRMATION_WORDS.get(o, o)}" for o, n in sorted(outcomes.items()))
        text += f" Calls in this report: {said}."
    if done.error:
        text += f" The second measurement could not be made: {done.error}; those calls stand."
    if analysis.threshold != done.threshold:
        text += (
            f" This report's threshold ({fmt.percent(analysis.threshold, 0)}) is not the run's: a call "
            "made only at this threshold was not measured again and rests on one measurement."
        )
    return text


def _rounds(results: Results) -> str:
    timings = [m.timing for m in (*results.measurements, *results.cold) if m.timing is not None]
    rounds = sorted({t.rounds for t in timings})
    if not rounds:
        return "No timed rounds were recorded."
    span = fmt.count(rounds[0]) if len(rounds) == 1 else f"{fmt.count(rounds[0])} to {fmt.count(rounds[-1])}"
    return f"Timed rounds per measured side, as recorded: {span}."


def _isolation(results: Results) -> str:
    """What each call ran in, and which scenarios wrote, from the record alone."""
    isolation = results.schedule.isolation
    if isolation is None:
        return (
            "Not recorded: this results file predates it. Each call ran in autocommit, as the scenario "
            "left it; a write would have stayed in the database for the rounds after it."
        )
    writing = sorted({m.scenario for m in (*results.measurements, *results.cold) if m.writes})
    wrote = (
        f" Scenarios that wrote (INSERT, UPDATE, DELETE or MERGE): {', '.join(f'`{w}`' for w in writing)}; "
        "their timings leave out what committing would cost (its round trip and WAL flush), and each "
        "write's plan was taken by EXPLAIN ANALYZE inside a savepoint rolled back at once."
        if writing
        else " No scenario wrote."
    )
    return f"Every call (facts, warmup, rounds) ran in a {isolation}: each round saw the same data.{wrote}"


def _tests(comparisons: list[stats.Comparison], schedule: Schedule) -> list[str]:
    """One sentence per test the report used, with what it assumes."""
    methods = Counter(c.method for c in comparisons)
    out = []
    if methods["paired"]:
        interval = (
            f"with {schedule.workers} worker processes per side, pairs of one process are not independent, "
            "so the interval is a seeded percentile bootstrap of the median paired ratio that resamples "
            "whole workers, each side's independently: a difference between processes is not taken for "
            "an effect. It assumes each side's processes interchangeable; in simulations with 4 per side "
            "it held the true ratio 94-95 % of the time when processes differed by a few percent, about "
            "98 % when they did not"
            if schedule.workers > 1
            else "the interval of the median paired ratio is from order statistics of the pairs' ratios "
            "(binomial, distribution-free): it assumes only that the pairs are independent, and errs wide"
        )
        out.append(
            f"{TESTS['paired']} (two-sided), for {methods['paired']} comparison(s): the change is the median "
            "over pairs of baseline round / candidate round. The test assumes the pairs are independent of "
            "one another and the differences of log times symmetric around their median; "
            f"{interval}. With fewer than 6 pairs no such interval reaches the confidence: none is shown, "
            "and the verdict is no significant change."
        )
    if methods["independent"]:
        out.append(
            f"{TESTS['independent']} (two-sided), for {methods['independent']} comparison(s) whose sides "
            "share no pairs: the change is the ratio of the two sides' medians. The test assumes every "
            "round independent of every other; the interval is a seeded bootstrap of the ratio of medians."
        )
    return out


def legend(comparisons: list[stats.Comparison]) -> str:
    """The summary table's key, from the methods the comparisons used."""
    used = sorted({c.method for c in comparisons})
    change = {
        "paired": "the median over pairs of baseline round / candidate round",
        "independent": "baseline median / candidate median (sides without pairs)",
    }
    if not used:
        return "No case was compared."
    confidence = fmt.percent(defaults.CONFIDENCE, 0)
    return (
        f"Change = {'; or '.join(change[m] for m in used)}. CI = {confidence} interval of it; "
        f"p = two-sided {' or '.join(TESTS[m] for m in used)}."
    )


def aa_command(results: Results) -> str:
    """The A/A run of this configuration: both sides at its own after state (migrations and index
    steps alike, which a --before of migrations could not give an index-only state), same data."""
    profile = results.dataset.profile
    return "bench run --aa" + (f" --profile {profile}" if profile and results.dataset.seeded else "")


def context(analysis: Analysis, cold: Analysis | None) -> dict[str, Any]:
    results = analysis.results
    comparisons = _comparisons(analysis, cold)
    return {
        "where": _where(results),
        "order": _order(analysis, results.schedule),
        "stopping": _stopping(results.schedule),
        "pairs": _items(results),
        "rounds": _rounds(results),
        "confirmation": _confirmation(analysis, cold),
        "isolation": _isolation(results),
        "tests": _tests(comparisons, results.schedule),
        "legend": legend(comparisons),
        "confidence": fmt.percent(defaults.CONFIDENCE, 0),
        "alpha": f"{analysis.alpha:g}",
        "threshold": fmt.percent(analysis.threshold, 0),
        "plan_modes": sorted({p.plan_mode for m in results.measurements for p in m.plans}),
        "settings": sorted(results.environment.postgres_settings.items()),
        "cold": bool(results.cold),
        "aa_command": aa_command(results),
    }
