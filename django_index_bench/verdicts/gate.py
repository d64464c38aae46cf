"""Compare two results files (BASE and HEAD) measurement by measurement, and decide what regressed.

A failure is a failure (as asv's `continuous` has it): a (scenario, case, side) of BASE that failed or
is missing in HEAD is a regression, whatever the timings, and so is a HEAD migration state that failed.
A measurement that failed in both refs is a regression too: HEAD still does not work, and a gate that
passed it would pass a branch that never measured anything. Only a measurement new in HEAD that works
is merely listed (there is nothing to compare it with).

Deterministic facts are compared exactly and gate on their own: more queries, a new Sort, an index no
longer used (unless another index replaced it and the plan is no worse: no new Sort, no more buffers).
An N+1 that comes back is a regression even when the timings are too noisy to say anything.

Timings, end to end and database time, are two tests per measurement, Bonferroni-corrected over all
timed tests, so that comparing a ref with itself (A/A) does not find one "regression" in twenty by
chance. How they are tested depends on how they were measured:

- Paired (interleaved partners: each file's schedule names the other run as its partner). Rounds with
  the same pair index in the two files ran back to back on the same machine, so drift and load hit
  both: each pair's HEAD/BASE ratio is one observation. Wilcoxon's signed-rank test plus a bootstrap
  CI of the median ratio that resamples worker processes (bench.stats.compare_paired). A regression
  needs significance, the CI beyond no change, and a change beyond --threshold.
- Unpaired (two separate runs). Mann-Whitney on each side's rounds cannot separate a real change from
  the machine changing between the runs: A/A runs on a shared machine differ by 1.5x, significantly.
  So a timing must also stand out from the other measurements of the same comparison: its log
  HEAD/BASE ratio must lie NOISE_SIGMAS robust standard deviations (scaled MAD) beyond their median.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.results import Measurement, Results, StepTime, Timing, copy_of
from django_index_bench.verdicts import buffers, load_gate, stats, words
from django_index_bench.verdicts.defaults import NOISE_MIN_SIGMA, NOISE_MIN_TIMINGS, NOISE_SIGMAS
from django_index_bench.verdicts.timings import (
    Samples,
    Values,
    compare_samples,
    copy_spread,
    database,
    rounds_to_compare,
    total,
)
from django_index_bench.verdicts.words import (
    CHANGED,
    DB_TIME,
    END_TO_END,
    IMPROVEMENT,
    METRIC_WORDS,
    MISSING,
    REGRESSION,
    UNCHANGED,
)

# 2: paired timings (method, pairing, db_timing, noise per metric), failures in HEAD as rows, states.
# 3: `steps`, where the command's time went: each step (seed, copies, warm, verdicts, report, ...) with
#    its seconds; empty when the caller timed none.
# 4: timing regressions measured again before they fail the gate: each row's `confirmation` (the second
#    measurement's end-to-end and database-time comparisons, and whether it agreed), and the
#    comparison's `confirmation` (what was done: measured again, off, or not possible from files).
#    The database level replicated: `copies` and `copies_reason` (copies per ref and state, and why),
#    each row's `copies` (per side and copy, the median of its rounds) and `copy_spread` (the lowest and
#    highest HEAD/BASE factor over pairs of copies). A paired timing from several processes or copies
#    takes its p-value from the clustered bootstrap, not Wilcoxon's test. `prewarm`: how the copies were
#    prewarmed before the timed rounds.
#    Each row's `base_buffers` and `head_buffers` (shared-buffer hits and reads of the side's timed rounds,
#    null when not recorded) and `buffers_differ` (the sides clearly took their pages from different
#    places, verdicts/buffers.py).
#    Nothing reads comparison.json back: no upgrade step.
COMPARISON_VERSION: Final = 4
Key = tuple[str, str, str]  # (scenario, case, side)
# Why unpaired timings say less; printed and rendered whenever the timings were not interleaved.
UNPAIRED_WEAKNESS: Final = (
    "each ref was timed at another moment, so anything that changed on the machine in between (load, "
    "CPU clocks, caches) moves every HEAD timing alike, and a rank test takes that for an effect"
)


@dataclass(frozen=True)
class Source:
    """Where one side of the comparison came from."""

    label: str  # the ref or the file name as the user typed it
    commit: str | None
    run_id: str
    path: str | None = None


@dataclass(frozen=True)
class Finding:
    metric: str  # "time", "db_time", "queries", "blocks", "index", "sort", "plan", "status"
    direction: str  # REGRESSION, IMPROVEMENT or CHANGED
    message: str


@dataclass(frozen=True)
class Confirmation:
    """A timing regression measured again, on fresh database copies by fresh worker processes: it stands
    only when the second measurement agrees (the same metric slower, significantly), or when the second
    measurement could not be made (a failure is never a pass)."""

    outcome: words.Confirmation
    timing: stats.Comparison | None  # the second measurement, end to end
    db_timing: stats.Comparison | None  # and database time
    first: str  # the finding as the first measurement made it
    error: str | None = None  # why there is no second measurement (outcome NOT_REMEASURED)


@dataclass(frozen=True)
class CopyMedian:
    """One side's rounds on one database copy: the median of each metric (per-copy medians)."""

    role: str  # "base" or "head"
    copy: int
    rounds: int
    total_s: float
    db_s: float | None  # None when the file recorded no database time


@dataclass(frozen=True)
class Row:
    scenario: str
    case: str
    side: str
    base_status: str  # "ok", "failed" or MISSING
    head_status: str
    timing: stats.Comparison | None  # end to end
    db_timing: stats.Comparison | None  # database time; None also when a round spent none there
    base_queries: int | None
    head_queries: int | None
    base_blocks: int | None
    head_blocks: int | None
    base_shapes: tuple[str, ...]
    head_shapes: tuple[str, ...]
    findings: tuple[Finding, ...]
    confirmation: Confirmation | None = None  # a timing regression, measured again
    copies: tuple[CopyMedian, ...] = ()  # per side and database copy: the medians of its rounds
    # The lowest and highest HEAD/BASE end-to-end factor over the (base copy, head copy) pairs of copies:
    # the copy-level spread beside the verdict. None with one copy a side, or without pairs.
    copy_spread: tuple[float, float] | None = None
    # Each side's shared-buffer hits and reads over its timed rounds (None: not recorded), and whether the
    # two clearly took their pages from different places (verdicts/buffers.py).
    base_buffers: buffers.Blocks | None = None
    head_buffers: buffers.Blocks | None = None
    buffers_differ: bool = False

    @property
    def key(self) -> Key:
        return self.scenario, self.case, self.side

    @property
    def verdict(self) -> str:
        directions = {f.direction for f in self.findings}
        if REGRESSION in directions:
            return REGRESSION
        return IMPROVEMENT if IMPROVEMENT in directions else UNCHANGED

    def of(self, direction: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.direction == direction)


@dataclass(frozen=True)
class NoiseFloor:
    """Unpaired only: how much every HEAD/BASE ratio of one metric moved between the two runs."""

    metric: str
    timings: int  # the timed comparisons it was estimated from
    run_factor: float  # median HEAD/BASE factor: what the whole run moved by
    log_sigma: float  # robust SD of the log factors
    floor: float  # a slowdown must exceed this factor to count


@dataclass(frozen=True)
class StateFailure:
    """A migration state a ref's run could not reach: its measurements there mean nothing."""

    role: str  # "base" or "head"
    state: str
    database: str
    error: str


@dataclass(frozen=True)
class RefComparison:
    """BASE against HEAD, every measurement: what `bench compare` decides and renders."""

    comparison_version: int
    base: Source
    head: Source
    threshold: float
    alpha: float  # as the user asked
    alpha_per_test: float  # after the Bonferroni correction over `tests`
    tests: int  # timed tests: end to end and database time of every measurement timed in both
    method: stats.Method  # "paired" when the runs were interleaved partners, else "independent"
    pairing: str  # why the timings were (or were not) paired, from the two schedules
    noise: tuple[NoiseFloor, ...]  # unpaired only, per metric; empty with too few timings to tell
    rows: tuple[Row, ...]
    failed_states: tuple[StateFailure, ...]
    only_in_head: tuple[Key, ...]  # new in HEAD and measured: nothing to compare with
    notes: tuple[str, ...]  # differences in the environment that did not prevent comparing
    load: tuple[load_gate.LoadFinding, ...] = ()  # under load, when both files have load results
    # What was done about timing regressions before failing: measured again, or why not.
    confirmation: str = ""
    # Database copies per (ref, state) the timings were measured on, and why that many (from the
    # schedule; 1 and "" for runs that recorded none).
    copies: int = 1
    copies_reason: str = ""
    prewarm: str = ""  # how the copies were prewarmed before the timed rounds, from the schedule

    @property
    def interleaved(self) -> bool:
        return self.method == "paired"

    def with_verdict(self, verdict: str) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.verdict == verdict)

    def failed_in(self, role: str) -> tuple[StateFailure, ...]:
        return tuple(f for f in self.failed_states if f.role == role)

    @property
    def regressed(self) -> bool:
        rows = any(r.verdict == REGRESSION for r in self.rows)
        return bool(self.failed_in("head")) or rows or load_gate.regressed(self.load)


def check_comparable(base: Results, head: Results) -> None:
    """Refuse (one line, exit 2) what cannot be compared: identical runs, other data, another server."""
    if base.run_id == head.run_id and base.started_at == head.started_at:
        raise UsageError(f"both results are the same run ({base.run_id}): compare two different runs")
    refusals = [
        ("PostgreSQL version", base.environment.postgres_version, head.environment.postgres_version),
        ("dataset seed", base.dataset.seed, head.dataset.seed),
        ("dataset counts", base.dataset.counts, head.dataset.counts),
        ("dataset fingerprint", base.dataset.fingerprint, head.dataset.fingerprint),
    ]
    for what, a, b in refusals:
        if a != b:
            raise UsageError(f"cannot compare results measured on different {what}: {a} vs {b}")


def environment_notes(base: Results, head: Results) -> tuple[str, ...]:
    notes = []
    a, b = base.environment, head.environment
    for name in sorted(set(a.postgres_settings) | set(b.postgres_settings)):
        x, y = a.postgres_settings.get(name), b.postgres_settings.get(name)
        if x != y:
            notes.append(f"PostgreSQL setting {name} differs: {x} vs {y}")
    for what in ("python", "django", "psycopg", "platform", "cpu_count", "database"):
        x, y = getattr(a, what), getattr(b, what)
        if x != y:
            notes.append(f"{what} differs: {x} vs {y}")
    for label, env in (("base", a), ("head", b)):
        if env.git_dirty:
            notes.append(f"the {label} run was measured on a tree with uncommitted changes")
    return tuple(notes)


def partners(base: Results, head: Results) -> tuple[bool, str]:
    """Were the two runs interleaved with each other, and the reason in words (for the reader)."""
    named_by_base, named_by_head = base.schedule.partner, head.schedule.partner
    if named_by_base == head.run_id and named_by_head == base.run_id:
        return True, (
            f"BASE and HEAD ran as partners in one `bench compare` ({base.schedule.sides}), each pair's "
            "two rounds back to back on the same machine"
        )
    older = [role for role, r in (("BASE", base), ("HEAD", head)) if r.schedule.sides == "blocks"]
    if older:
        return False, (
            f"{' and '.join(older)} came from a bench that predates pairing (results schema 2: no pairs, "
            "no database time)"
        )
    if named_by_base is None and named_by_head is None:
        return False, "BASE and HEAD are two separate runs (neither names the other as its partner)"
    return False, (
        f"BASE and HEAD are not each other's partners (BASE names {named_by_base or 'none'}, "
        f"HEAD names {named_by_head or 'none'})"
    )


def failed_states(role: str, results: Results) -> tuple[StateFailure, ...]:
    return tuple(
        StateFailure(role, s.state, s.database, s.error or "no error recorded")
        for s in results.states
        if not s.ok
    )


# ---- deterministic facts -------------------------------------------------------------------------


def _indexes(m: Measurement) -> set[str]:
    return {name for plan in m.plans for name in plan.index_names}


def _shapes(m: Measurement | None) -> tuple[str, ...]:
    return tuple(p.shape for p in m.plans) if m is not None else ()


def _status(m: Measurement | None) -> str:
    return m.status if m is not None else MISSING


def _status_findings(base: Measurement | None, head: Measurement | None) -> list[Finding]:
    """A failure in HEAD is never a pass, whether BASE worked, failed too, or never had it."""
    also = f" (failed in BASE too: {base.error})" if base is not None and not base.ok else ""
    if head is None:
        return [Finding("status", REGRESSION, f"missing in HEAD{also}")]
    if not head.ok:
        new = " (not in BASE)" if base is None else also
        return [Finding("status", REGRESSION, f"failed in HEAD: {head.error}{new}")]
    if base is not None and not base.ok:
        return [Finding("status", IMPROVEMENT, "failed in BASE, measured in HEAD")]
    return []


def _deterministic(base: Measurement, head: Measurement, threshold: float) -> list[Finding]:
    findings: list[Finding] = []
    if base.query_count is not None and head.query_count is not None and base.query_count != head.query_count:
        worse = head.query_count > base.query_count
        findings.append(
            Finding(
                "queries",
                REGRESSION if worse else IMPROVEMENT,
                f"{'more' if worse else 'fewer'} queries: {base.query_count} -> {head.query_count}",
            )
        )
    lost, gained = sorted(_indexes(base) - _indexes(head)), sorted(_indexes(head) - _indexes(base))
    plans_moved = _shapes(base) != _shapes(head)
    shape_change = f"`{' ; '.join(_shapes(base))}` -> `{' ; '.join(_shapes(head))}`"
    base_sort = any(p.has_sort for p in base.plans)
    head_sort = any(p.has_sort for p in head.plans)
    growth = (
        head.shared_blocks / base.shared_blocks - 1.0 if base.shared_blocks and head.shared_blocks else 0.0
    )
    # An index given up for another one (the new index the branch adds) is no regression when the plan
    # is no worse by the facts that repeat exactly: no new Sort, no more shared buffers than --threshold.
    replaced = bool(lost and gained) and not (head_sort and not base_sort) and growth <= threshold
    if lost and replaced:
        findings.append(
            Finding(
                "index",
                CHANGED,
                f"index {', '.join(lost)} replaced by {', '.join(gained)}; plan {shape_change}",
            )
        )
    elif lost:
        findings.append(
            Finding("index", REGRESSION, f"index no longer used: {', '.join(lost)}; plan {shape_change}")
        )
    if gained:
        findings.append(Finding("index", IMPROVEMENT, f"now uses index {', '.join(gained)}"))
    if head_sort != base_sort:
        findings.append(
            Finding(
                "sort",
                REGRESSION if head_sort else IMPROVEMENT,
                "a Sort appeared in the plan" if head_sort else "the plan no longer sorts",
            )
        )
    if plans_moved and not lost:
        findings.append(Finding("plan", CHANGED, f"plan changed: {shape_change}"))
    if base.shared_blocks and head.shared_blocks is not None:
        growth = head.shared_blocks / base.shared_blocks - 1.0
        if abs(growth) > threshold:
            findings.append(
                Finding(
                    "blocks",
                    REGRESSION if growth > 0 else IMPROVEMENT,
                    f"shared buffers {base.shared_blocks} -> {head.shared_blocks} ({growth:+.0%})",
                )
            )
    return findings


# ---- timings --------------------------------------------------------------------------------------


METRIC_VALUES: Final[dict[str, Values]] = {END_TO_END: total, DB_TIME: database}


def _timing(m: Measurement | None) -> Timing | None:
    return m.timing if m is not None and m.ok and m.timing is not None and m.timing.rounds else None


def _noise(metric: str, timings: Iterable[stats.Comparison]) -> NoiseFloor | None:
    """Median and robust sigma of log(HEAD/BASE) over one metric's timed measurements."""
    logs = np.log([1 / t.ratio for t in timings if 0 < t.ratio < math.inf])
    if logs.size < NOISE_MIN_TIMINGS:
        return None
    centre = float(np.median(logs))
    from scipy import stats as scipy_stats

    sigma = max(float(scipy_stats.median_abs_deviation(logs, scale="normal")), NOISE_MIN_SIGMA)
    return NoiseFloor(
        metric, int(logs.size), math.exp(centre), sigma, math.exp(centre + NOISE_SIGMAS * sigma)
    )


def support_words(t: stats.Comparison) -> str:
    """How many observations a timing verdict rests on, and of what kind."""
    return f"n={t.n} pairs" if t.method == "paired" else f"n={t.n} rounds per side, unpaired"


def p_words(t: stats.Comparison) -> str:
    # The message is data (JSON, stdout) made here in bench, which does not import reports; written
    # the way reports.fmt.p_value writes it.
    p = t.p_value
    return "p ?" if p is None else ("p < 0.001" if p < 0.001 else f"p = {p:.3f}")


def factor_words(t: stats.Comparison) -> str:
    """HEAD against BASE as people say it, like reports.fmt.ratio; "1.00x" claims no direction."""
    if not 0 < t.ratio < math.inf:
        return "-"
    factor = 1 / t.ratio  # HEAD time / BASE time
    if f"{factor:.2f}" == "1.00":
        return "1.00x"
    return f"{factor:.2f}x slower" if factor > 1 else f"{t.ratio:.2f}x faster"


def _judge(t: stats.Comparison, noise: NoiseFloor | None) -> tuple[str, str] | None:
    """(direction, qualifier) of a significant timing; None when it is no finding at all."""
    if t.verdict not in (words.SLOWER, words.FASTER) or not 0 < t.ratio < math.inf:
        return None
    direction = REGRESSION if t.verdict == words.SLOWER else IMPROVEMENT
    if t.method == "paired":
        return direction, ""  # pairs cancel the run-to-run drift: the test is the whole gate
    if noise is None:
        return CHANGED, "too few timings to tell it from run-to-run noise"
    z = (math.log(1 / t.ratio) - math.log(noise.run_factor)) / noise.log_sigma
    if (direction == REGRESSION and z > NOISE_SIGMAS) or (direction == IMPROVEMENT and z < -NOISE_SIGMAS):
        return direction, ""
    return CHANGED, "within this comparison's run-to-run noise"


def _timing_findings(
    timings: Mapping[str, stats.Comparison], noise: Mapping[str, NoiseFloor]
) -> list[Finding]:
    """One finding per metric that moved; each also names the other metric's factor, so a reader
    sees "database time 1.25x slower (n=180 pairs, p < 0.001), end to end 1.04x" in one line."""
    judged = {metric: _judge(t, noise.get(metric)) for metric, t in timings.items()}
    findings = []
    for metric, judgement in judged.items():
        if judgement is None:
            continue
        direction, qualifier = judgement
        t = timings[metric]
        parts = [f"{METRIC_WORDS[metric]} {factor_words(t)} ({support_words(t)}, {p_words(t)})"]
        parts += [qualifier] if qualifier else []
        parts += [f"{METRIC_WORDS[o]} {factor_words(timings[o])}" for o in timings if judged[o] is None]
        findings.append(Finding(metric, direction, ", ".join(parts)))
    return findings


# ---- the comparison -------------------------------------------------------------------------------


def _timed(
    base: Mapping[Key, Measurement],
    head: Mapping[Key, Measurement],
    paired: bool,
    worker_copies: tuple[tuple[int, ...], tuple[int, ...]] = ((), ()),
) -> dict[tuple[Key, str], Samples]:
    """Every (measurement, metric) with rounds on both sides: the tests Bonferroni corrects over."""
    out: dict[tuple[Key, str], Samples] = {}
    for key, b in base.items():
        before, after = _timing(b), _timing(head.get(key))
        if before is None or after is None:
            continue
        for metric in METRIC_WORDS:
            found = rounds_to_compare(
                before, after, METRIC_VALUES[metric], paired=paired, worker_copies=worker_copies
            )
            if found is not None:
                out[key, metric] = found
    return out


def copy_medians(role: str, timing: Timing | None, worker_copies: tuple[int, ...]) -> tuple[CopyMedian, ...]:
    """The median of one side's rounds on each of its database copies (copy 0 alone when not recorded)."""
    if timing is None:
        return ()
    by_copy: dict[int, list[int]] = {}
    for index, worker in enumerate(timing.worker or (0,) * timing.rounds):
        by_copy.setdefault(copy_of(worker_copies, worker), []).append(index)
    out = []
    for copy, rounds in sorted(by_copy.items()):
        total_s = float(np.median([timing.total_s[i] for i in rounds]))
        db_s = float(np.median([timing.db_s[i] for i in rounds])) if timing.db_s else None
        out.append(CopyMedian(role, copy, len(rounds), total_s, db_s))
    return tuple(out)


def _row(
    key: Key,
    base: Measurement | None,
    head: Measurement | None,
    timings: Mapping[str, stats.Comparison],
    findings: list[Finding],
    copies: tuple[tuple[int, ...], tuple[int, ...]] = ((), ()),
    found: Samples | None = None,
) -> Row:
    return Row(
        *key,
        base_status=_status(base),
        head_status=_status(head),
        timing=timings.get(END_TO_END),
        db_timing=timings.get(DB_TIME),
        base_queries=base.query_count if base is not None else None,
        head_queries=head.query_count if head is not None else None,
        base_blocks=base.shared_blocks if base is not None else None,
        head_blocks=head.shared_blocks if head is not None else None,
        base_shapes=_shapes(base),
        head_shapes=_shapes(head),
        findings=tuple(findings),
        copies=copy_medians("base", _timing(base), copies[0])
        + copy_medians("head", _timing(head), copies[1]),
        copy_spread=copy_spread(found),
        base_buffers=buffers.of(_timing(base)),
        head_buffers=buffers.of(_timing(head)),
        buffers_differ=buffers.differ(buffers.of(_timing(base)), buffers.of(_timing(head))),
    )


def _noise_floors(tested: Mapping[tuple[Key, str], stats.Comparison]) -> dict[str, NoiseFloor]:
    """Unpaired only: each metric's run-to-run noise, from all its timed measurements."""
    floors = {}
    for metric in METRIC_WORDS:
        floor = _noise(metric, (t for (_, m), t in tested.items() if m == metric))
        if floor is not None:
            floors[metric] = floor
    return floors


def _rows(
    base: Mapping[Key, Measurement],
    head: Mapping[Key, Measurement],
    tested: Mapping[tuple[Key, str], stats.Comparison],
    noise: Mapping[str, NoiseFloor],
    threshold: float,
    copies: tuple[tuple[int, ...], tuple[int, ...]] = ((), ()),
    samples: Mapping[tuple[Key, str], Samples] | None = None,
) -> tuple[Row, ...]:
    # Every key of BASE gets a row (a missing HEAD is a finding); of HEAD's own, only the failures.
    keys = list(base) + [k for k, m in head.items() if k not in base and not m.ok]
    rows = []
    for key in keys:
        b, h = base.get(key), head.get(key)
        timings = {metric: t for (k, metric), t in tested.items() if k == key}
        findings = _status_findings(b, h)
        if b is not None and h is not None and b.ok and h.ok:
            findings += _deterministic(b, h, threshold) + _timing_findings(timings, noise)
        found = (samples or {}).get((key, END_TO_END))
        rows.append(_row(key, b, h, timings, findings, copies, found))
    return tuple(rows)


def compare(
    base: Results,
    head: Results,
    *,
    base_source: Source,
    head_source: Source,
    threshold: float,
    alpha: float = 0.05,
) -> RefComparison:
    check_comparable(base, head)
    base_by_key = {(m.scenario, m.case, m.side): m for m in base.measurements}
    head_by_key = {(m.scenario, m.case, m.side): m for m in head.measurements}
    paired, pairing = partners(base, head)
    copies = (base.schedule.worker_copies, head.schedule.worker_copies)
    samples = _timed(base_by_key, head_by_key, paired, copies)
    alpha_per_test = alpha / max(len(samples), 1)
    tested = {k: compare_samples(s, alpha=alpha_per_test, threshold=threshold) for k, s in samples.items()}
    # Paired rounds cancel what moved between runs: no noise floor on top of the test.
    noise = {} if paired else _noise_floors(tested)
    return RefComparison(
        comparison_version=COMPARISON_VERSION,
        base=base_source,
        head=head_source,
        threshold=threshold,
        alpha=alpha,
        alpha_per_test=alpha_per_test,
        tests=len(samples),
        method="paired" if paired else "independent",
        pairing=pairing,
        noise=tuple(noise.values()),
        rows=_rows(base_by_key, head_by_key, tested, noise, threshold, copies, samples),
        failed_states=failed_states("head", head) + failed_states("base", base),
        only_in_head=tuple(k for k, m in head_by_key.items() if k not in base_by_key and m.ok),
        notes=environment_notes(base, head),
        load=load_gate.findings(base, head, threshold=threshold),
        copies=max(base.schedule.copies, head.schedule.copies),
        copies_reason=base.schedule.copies_reason or head.schedule.copies_reason,
        prewarm=base.schedule.prewarm or head.schedule.prewarm,
    )


def exit_status(comparison: RefComparison) -> int:
    return 1 if comparison.regressed else 0


def _finite(value: Any) -> Any:
    """JSON has no infinity: a ratio against a zero median becomes null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def to_json(comparison: RefComparison, steps: tuple[StepTime, ...] = ()) -> str:
    data = dataclasses.asdict(comparison)
    for row, raw in zip(comparison.rows, data["rows"], strict=True):
        raw["verdict"] = row.verdict
    data["interleaved"] = comparison.interleaved
    data["regressed"] = comparison.regressed
    data["counts"] = {v: len(comparison.with_verdict(v)) for v in (REGRESSION, IMPROVEMENT, UNCHANGED)}
    data["steps"] = [dataclasses.asdict(step) for step in steps]
    return json.dumps(_finite(data), indent=1, allow_nan=False) + "\n"


def load_pair(base_path: Path, head_path: Path) -> tuple[Results, Results]:
    """Two saved results files; the same file (or the same bytes) twice is refused."""
    from django_index_bench.bench import results

    for path in (base_path, head_path):
        if path.is_dir():  # before reading bytes: read_bytes() on a directory raises, untranslated
            raise UsageError(f"{path} is a directory, not a results file")
    if base_path.exists() and head_path.exists():
        if base_path.resolve() == head_path.resolve():
            raise UsageError(f"{base_path} and {head_path} are the same file")
        if base_path.read_bytes() == head_path.read_bytes():
            raise UsageError(f"{base_path} and {head_path} are identical")
    return results.load(base_path), results.load(head_path)
