"""The write-up's claims (claims.toml), each judged against what a run measured: met, not met, or not
measurable here. Met needs evidence: a latency claim also needs a significant change.

A claim is judged on the scenarios it is about and nothing else. Its `controls` (scenarios the change
does not touch) are shown beside it as the yardstick for "no change", never folded into its verdict,
and a `group` claim leaves them out: a control that got slower by chance must not fail a claim, and one
that got faster must not help it."""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from django_index_bench.bench.errors import UsageError
from django_index_bench.reports import fmt
from django_index_bench.reports.analysis import OK, Analysis, CaseResult
from django_index_bench.verdicts import words
from django_index_bench.verdicts.words import MET, NOT_MEASURABLE, NOT_MET

# Claim metric -> the Measurement attribute it reads ("latency" reads the timing samples instead).
ATTRIBUTES = {
    "queries": "query_count",
    "response_bytes": "response_bytes",
    "peak_memory_bytes": "peak_memory_bytes",
}
METRICS = ("latency", *ATTRIBUTES)

MISSING_TEXT = "MISSING"
FAILED_TEXT = "FAILED"
CONTROL = "control, not judged"


@dataclass(frozen=True)
class Claim:
    id: str
    source: str
    quote: str
    claimed: str
    metric: str
    group: str | None = None
    scenarios: tuple[str, ...] = ()
    reduction: tuple[float, float] | None = None  # percent
    at_most: float | None = None
    unmeasurable: str | None = None
    controls: tuple[str, ...] = ()  # scenarios shown beside the claim, never judged against it


@dataclass(frozen=True)
class Check:
    """One scenario/case measured against one claim."""

    label: str
    status: str
    measured: str
    why: str
    value: float | None = None  # the reduction (fraction) or candidate value it was judged on


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    status: str
    measured: str
    why: str
    checks: tuple[Check, ...]
    controls: tuple[Check, ...] = ()  # how each control case moved: context, not evidence


FORMAT = 'see the README\'s "Claims and budgets" for the format'


def _kind(value: object) -> str:
    """The value as written, or what it is when that is too long for one line of error."""
    text = repr(value)
    if len(text) <= 40:
        return text
    if isinstance(value, dict):
        return "a table"
    return "an array" if isinstance(value, list) else text[:37] + "..."


def _text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str):
        got = "it is missing" if value is None else f"got {_kind(value)}"
        raise UsageError(f"{where}: {key} must be a string, {got}; {FORMAT}")
    return value


def _optional_text(entry: dict[str, Any], key: str, where: str) -> str | None:
    return _text(entry, key, where) if key in entry else None


def _names(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f'{where}: {key} must be an array of names like ["a", "b"], got {_kind(value)}')
    return tuple(value)


def _number(value: object) -> bool:
    """A finite number: NaN compares false with everything, so a NaN bound would judge any claim met."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _claim(entry: dict[str, Any], source: str) -> Claim:
    where = f"{source}: claim {entry.get('id', '?')!r}"
    unknown = sorted(set(entry) - {f.name for f in fields(Claim)})
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r}; {FORMAT}")
    reduction = entry.get("reduction")
    if reduction is not None and not (
        isinstance(reduction, list) and len(reduction) == 2 and all(map(_number, reduction))
    ):
        raise UsageError(f"{where}: reduction must be [low, high] in percent, got {_kind(reduction)}")
    if reduction is not None and not 0 <= reduction[0] <= reduction[1] <= 100:
        raise UsageError(
            f"{where}: reduction must be [low, high] with 0 <= low <= high <= 100 (percent), got {reduction}"
        )
    at_most = entry.get("at_most")
    if at_most is not None and not (_number(at_most) and at_most >= 0):
        raise UsageError(f"{where}: at_most must be a finite number of at least 0, got {at_most!r}")
    claim = Claim(
        id=_text(entry, "id", where),
        source=_text(entry, "source", where),
        quote=_text(entry, "quote", where),
        claimed=_text(entry, "claimed", where),
        metric=_text(entry, "metric", where),
        group=_optional_text(entry, "group", where),
        scenarios=_names(entry, "scenarios", where),
        reduction=(float(reduction[0]), float(reduction[1])) if reduction is not None else None,
        at_most=float(at_most) if at_most is not None else None,
        unmeasurable=_optional_text(entry, "unmeasurable", where),
        controls=_names(entry, "controls", where),
    )
    if claim.metric not in METRICS:
        raise UsageError(f"{where}: unknown metric {claim.metric!r}; choose one of {', '.join(METRICS)}")
    if claim.metric == "latency" and claim.at_most is not None:
        raise UsageError(f"{where}: a latency claim is judged on its reduction; at_most is for {METRICS[1:]}")
    if (claim.group is None) == (not claim.scenarios):
        raise UsageError(f"{where}: needs a group or scenarios, exactly one of them")
    if claim.unmeasurable is None and claim.reduction is None and claim.at_most is None:
        raise UsageError(f"{where}: claims nothing checkable; give reduction, at_most or unmeasurable")
    return claim


def load(path: Path) -> tuple[Claim, ...]:
    """The claims of a claims file; UsageError (one line: the file, what is wrong) when it is not one."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise UsageError(f"claims file {path} is not UTF-8 (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise UsageError(f"cannot read claims file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"claims file {path} is not valid TOML: {exc}") from None
    entries = data.get("claim", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise UsageError(f"{path}: claim must be [[claim]] tables, got {_kind(entries)}; {FORMAT}")
    return tuple(_claim(entry, str(path)) for entry in entries)


def _cases(claim: Claim, analysis: Analysis) -> tuple[list[CaseResult], list[str]]:
    """The measured cases a claim is about, and the scenarios it names that the run does not have."""
    if claim.group is not None:
        scenarios = [s for s in analysis.group(claim.group) if s.info.name not in claim.controls]
        return [c for s in scenarios for c in s.cases], ([] if scenarios else [f"group {claim.group}"])
    found = [s for name in claim.scenarios if (s := analysis.scenario(name)) is not None]
    missing = [name for name in claim.scenarios if analysis.scenario(name) is None]
    return [c for s in found for c in s.cases], missing


def _latency_text(case: CaseResult) -> str:
    """End to end (what is judged) with its interval and pairs, then database time for context."""
    comparison = case.comparison
    assert comparison is not None
    text = f"{fmt.saving(comparison.reduction)}, {fmt.ratio_ci(comparison.ratio_ci)}, {fmt.pairs(comparison)}"
    if case.db_comparison is not None:
        text += f"; {fmt.verdict_part('database time', case.db_comparison)}"
    return text


def _latency(claim: Claim, case: CaseResult) -> Check:
    comparison = case.comparison
    if comparison is None:
        return Check(case.label, NOT_MEASURABLE, "-", "no timing samples on both sides")
    measured = _latency_text(case)
    if comparison.verdict == words.NOT_ENOUGH:
        return Check(case.label, NOT_MEASURABLE, measured, words.NOT_ENOUGH, comparison.reduction)
    assert claim.reduction is not None
    low = claim.reduction[0] / 100
    if comparison.verdict != words.FASTER:
        return Check(case.label, NOT_MET, measured, comparison.verdict, comparison.reduction)
    if comparison.reduction < low:
        why = f"significant, but below the claimed {fmt.percent(low)}"
        return Check(case.label, NOT_MET, measured, why, comparison.reduction)
    return Check(
        case.label, MET, measured, "significant and at least the claimed saving", comparison.reduction
    )


def _quantity(claim: Claim, case: CaseResult, show: Callable[[Any], str]) -> Check:
    assert case.baseline.measurement is not None
    assert case.candidate.measurement is not None
    attribute = ATTRIBUTES[claim.metric]
    before = getattr(case.baseline.measurement, attribute)
    after = getattr(case.candidate.measurement, attribute)
    if before is None or after is None:
        return Check(case.label, NOT_MEASURABLE, "-", f"{claim.metric} not recorded on both sides")
    reduction = 1 - after / before if before else None
    measured = f"{show(before)} -> {show(after)}"
    if reduction is not None:
        measured += f" ({fmt.percent(reduction)} less)"
    failures = []
    if claim.at_most is not None and after > claim.at_most:
        failures.append(f"{show(after)} is more than the claimed {show(int(claim.at_most))}")
    if claim.reduction is not None:
        low = claim.reduction[0] / 100
        if reduction is None or reduction < low:
            # Two decimals: 99.45 % would otherwise print as the 99.5 % it falls short of.
            exact = "" if reduction is None else f" ({fmt.percent(reduction, 2)})"
            failures.append(f"less than the claimed {fmt.percent(low)} reduction{exact}")
    if failures:
        return Check(case.label, NOT_MET, measured, "; ".join(failures), reduction)
    return Check(case.label, MET, measured, "at least the claimed reduction", reduction)


def _absolute(case: CaseResult) -> str:
    if case.baseline.summary is None or case.candidate.summary is None:
        return "-"
    before, after = case.baseline.summary.median, case.candidate.summary.median
    return f"{fmt.duration(before)} -> {fmt.duration(after)}"


def _absolute_span(cases: list[CaseResult]) -> str:
    """Medians before and after, as ranges over the cases: the measured side of an absolute claim."""
    pairs = [
        (c.baseline.summary.median, c.candidate.summary.median)
        for c in cases
        if c.baseline.summary and c.candidate.summary
    ]
    if not pairs:
        return "-"

    def span(values: list[float]) -> str:
        low, high = min(values), max(values)
        return fmt.duration(low) if low == high else f"{fmt.duration(low)} to {fmt.duration(high)}"

    before, after = span([b for b, _ in pairs]), span([a for _, a in pairs])
    return f"medians {before} -> {after} ({len(pairs)} of {len(cases)} cases)"


def _unmeasured(case: CaseResult) -> Check:
    """A failed or missing case: never evidence for a claim, and the reason is shown."""
    errors = case.errors
    why = f"measurement {case.status}" + (f": {'; '.join(errors)}" if errors else "")
    return Check(case.label, NOT_MEASURABLE, case.status.upper(), why)


def _check(claim: Claim, case: CaseResult) -> Check:
    if case.status != OK:
        return _unmeasured(case)
    if claim.unmeasurable is not None:
        return Check(case.label, NOT_MEASURABLE, _absolute(case), claim.unmeasurable)
    if claim.metric == "latency":
        return _latency(claim, case)
    show = fmt.count if claim.metric == "queries" else fmt.size
    return _quantity(claim, case, show)


def _measured(claim: Claim, checks: list[Check], cases: list[CaseResult]) -> str:
    values = [c.value for c in checks if c.value is not None]
    if claim.unmeasurable is not None:
        return _absolute_span(cases)
    if len(checks) == 1:
        return checks[0].measured
    if not values:
        return "; ".join(f"{c.label}: {c.measured}" for c in checks)
    word = fmt.saving if claim.metric == "latency" else (lambda v: f"{fmt.percent(v)} less")
    low, high = min(values), max(values)
    span = word(low) if low == high else f"{word(low)} to {word(high)}"
    text = f"{span} ({len(values)} of {len(checks)} cases measured)"
    unmeasured = [f"{c.label}: {c.measured}" for c in checks if c.measured in (FAILED_TEXT, MISSING_TEXT)]
    return text + "".join(f"; {u}" for u in unmeasured)


def _control(case: CaseResult) -> Check:
    if case.status != OK:
        return dataclasses.replace(_unmeasured(case), status=CONTROL)
    if case.comparison is None:
        return Check(case.label, CONTROL, "-", "no timing samples on both sides")
    parts = [fmt.verdict_part("end to end", case.comparison)]
    if case.db_comparison is not None:
        parts.append(fmt.verdict_part("database time", case.db_comparison))
    why = "a scenario the change does not touch: it shows what no change looks like here"
    return Check(case.label, CONTROL, ", ".join(parts), why, case.comparison.reduction)


def _controls(claim: Claim, analysis: Analysis) -> tuple[Check, ...]:
    checks = []
    for name in claim.controls:
        scenario = analysis.scenario(name)
        if scenario is None:
            checks.append(Check(name, CONTROL, MISSING_TEXT, "not in the results"))
        else:
            checks.extend(_control(case) for case in scenario.cases)
    return tuple(checks)


def judge(claim: Claim, analysis: Analysis) -> Verdict:
    verdict = _judge(claim, analysis)
    return dataclasses.replace(verdict, controls=_controls(claim, analysis))


def _judge(claim: Claim, analysis: Analysis) -> Verdict:
    cases, missing = _cases(claim, analysis)
    checks = [Check(name, NOT_MEASURABLE, MISSING_TEXT, "not in the results") for name in missing]
    checks += [_check(claim, case) for case in cases]
    measured = _measured(claim, checks, cases)
    if claim.unmeasurable is not None:
        return Verdict(claim, NOT_MEASURABLE, measured or "-", claim.unmeasurable, tuple(checks))
    if not checks:
        return Verdict(claim, NOT_MEASURABLE, "-", "no measurements for it", ())
    failed = [c for c in checks if c.status == NOT_MET]
    unknown = [c for c in checks if c.status == NOT_MEASURABLE]
    if failed:
        why = f"{len(failed)} of {len(checks)} not met: " + "; ".join(
            f"{c.label}: {c.why}" for c in failed[:3]
        )
        return Verdict(claim, NOT_MET, measured, why, tuple(checks))
    if unknown:
        why = f"{len(unknown)} of {len(checks)} not measurable: " + "; ".join(
            f"{c.label}: {c.why}" for c in unknown[:3]
        )
        return Verdict(claim, NOT_MEASURABLE, measured, why, tuple(checks))
    return Verdict(claim, MET, measured, f"met in all {len(checks)} case(s)", tuple(checks))


def judge_all(claims: tuple[Claim, ...], analysis: Analysis) -> list[Verdict]:
    return [judge(claim, analysis) for claim in claims]
