"""Confirm before failing: a timing regression of `bench compare` is measured again before it may fail
the gate.

A run is a level of variance of its own (the day, the machine, which pages the database copies hold):
one measurement that calls a timing slower may have met a slow moment that no resampling within it can
see. So every measurement with a timing regression is measured a second time, on fresh database copies
by fresh worker processes, and the finding stands only when the second measurement agrees: the same
metric slower again, significantly (p below the second measurement's own Bonferroni-corrected level and
its interval beyond no change). The size need not pass --threshold a second time: the first
measurement showed it did, and the second is asked only whether the direction holds.

A failure is never a pass: when the second measurement cannot be made or fails, the finding stands and
the reason is given. Deterministic findings (query counts, index use, Sort, shared buffers) repeat
exactly and are never measured again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from django_index_bench.verdicts import stats, words
from django_index_bench.verdicts.gate import (
    Confirmation,
    Finding,
    Key,
    RefComparison,
    Row,
    factor_words,
    p_words,
    support_words,
)
from django_index_bench.verdicts.words import (
    CONFIRMATION_WORDS,
    CONFIRMED,
    DB_TIME,
    END_TO_END,
    FASTER,
    METRIC_WORDS,
    NOT_CONFIRMED,
    NOT_REMEASURED,
    REGRESSION,
    SLOWER,
    Called,
)

TIMED = (END_TO_END, DB_TIME)


def _timing_regressions(row: Row) -> tuple[Finding, ...]:
    return tuple(f for f in row.findings if f.metric in TIMED and f.direction == REGRESSION)


def to_confirm(comparison: RefComparison) -> tuple[Key, ...]:
    """The measurements with a timing regression: what is measured again."""
    return tuple(r.key for r in comparison.rows if _timing_regressions(r))


def agrees(timing: stats.Comparison | None, alpha: float, direction: Called = SLOWER) -> bool:
    """The same direction again, significantly at `alpha`, its interval beyond no change: slower (the
    candidate's, HEAD's, time above the baseline's; compare's regressions) or faster (bench run's
    improvements). The size need not pass the threshold a second time: the first measurement showed it
    did. bench run and compare ask the second measurement this one question."""
    if timing is None or timing.p_value is None or timing.p_value >= alpha or timing.ratio_ci is None:
        return False
    # The ratio is baseline/candidate: above 1 is faster, below 1 slower.
    return timing.ratio_ci[0] > 1.0 if direction == FASTER else timing.ratio_ci[1] < 1.0


def _figure(metric: str, timing: stats.Comparison | None) -> str:
    if timing is None:
        return f"{METRIC_WORDS[metric]} not timed"
    return f"{METRIC_WORDS[metric]} {factor_words(timing)} ({support_words(timing)}, {p_words(timing)})"


def _why_not(again: Row | None, error: str | None) -> str | None:
    """Why there is no usable second measurement of this row; None when there is one."""
    if error is not None:
        return error
    if again is None:
        return "missing in the second measurement"
    if again.base_status != "ok" or again.head_status != "ok":
        failures = "; ".join(f.message for f in again.findings if f.metric == "status")
        return f"the second measurement failed: {failures or again.head_status}"
    return None


def _confirm_row(row: Row, again: Row | None, error: str | None, alpha: float) -> Row:
    flagged = _timing_regressions(row)
    if not flagged:
        return row
    first = "; ".join(f.message for f in flagged)
    reason = _why_not(again, error)
    if reason is not None or again is None:
        why = reason or "missing in the second measurement"
        findings = tuple(
            dataclasses.replace(f, message=f"{f.message}; {CONFIRMATION_WORDS[NOT_REMEASURED]}: {why}")
            if f in flagged
            else f
            for f in row.findings
        )
        confirmation = Confirmation(NOT_REMEASURED, None, None, first, why)
        return dataclasses.replace(row, findings=findings, confirmation=confirmation)
    second = {END_TO_END: again.timing, DB_TIME: again.db_timing}
    out, stood = [], False
    for finding in row.findings:
        if finding not in flagged:
            out.append(finding)
            continue
        redo = second[finding.metric]
        if agrees(redo, alpha):
            stood = True
            words_ = f"{CONFIRMATION_WORDS[CONFIRMED]}: {_figure(finding.metric, redo)}"
            out.append(dataclasses.replace(finding, message=f"{finding.message}; {words_}"))
        else:
            message = (
                f"{CONFIRMATION_WORDS[NOT_CONFIRMED]}: first {finding.message}; "
                f"second {_figure(finding.metric, redo)}"
            )
            out.append(Finding(finding.metric, words.CHANGED, message))
    outcome: words.Confirmation = CONFIRMED if stood else NOT_CONFIRMED
    confirmation = Confirmation(outcome, again.timing, again.db_timing, first)
    return dataclasses.replace(row, findings=tuple(out), confirmation=confirmation)


def confirm(
    first: RefComparison, second: RefComparison | None, *, error: str | None, note: str
) -> RefComparison:
    """The first comparison with each timing regression confirmed, refuted, or standing for want of a
    second measurement (`error`, or `second` lacking the row). `note` says what was done, for the record."""
    again: Mapping[Key, Row] = {r.key: r for r in second.rows} if second is not None else {}
    alpha = second.alpha_per_test if second is not None else first.alpha_per_test
    rows = tuple(_confirm_row(r, again.get(r.key), error, alpha) for r in first.rows)
    return dataclasses.replace(first, rows=rows, confirmation=note)


def unconfirmed(first: RefComparison, note: str) -> RefComparison:
    """No second measurement was attempted (turned off, or compared from files): the findings stand as
    they are, and the record says why."""
    return dataclasses.replace(first, confirmation=note)
