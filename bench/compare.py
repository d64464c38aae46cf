"""Compare two results files (BASE and HEAD) measurement by measurement, and decide what regressed.

Like is compared with like: each (scenario, case, side) present in both. Deterministic facts are compared
exactly and gate on their own: more queries, an index no longer used, a new Sort, a failed measurement.
An N+1 that comes back is a regression even when the timings are too noisy to say anything. Timings go
through bench.stats, Bonferroni-corrected over the number of timed comparisons, so that comparing a ref
with itself (A/A) does not find one "regression" in twenty by chance.

One run per ref cannot separate a real change from run-level noise (another process on the machine,
CPU clocks): its samples are significant among themselves, yet A/A runs on a shared machine differ by
1.5x. So a timing must also stand out from the other measurements of the same comparison: its log
HEAD/BASE ratio must lie NOISE_SIGMAS robust standard deviations (scaled MAD) above their median.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from scipy import stats as scipy_stats

from bench import stats
from bench.errors import UsageError
from bench.results import Measurement, Results

COMPARISON_VERSION: Final = 1
REGRESSION: Final = "regression"
IMPROVEMENT: Final = "improvement"
UNCHANGED: Final = "unchanged"
CHANGED: Final = "changed"  # a finding that is neither better nor worse (a plan shape that moved)

Key = tuple[str, str, str]  # (scenario, case, side)
NOISE_SIGMAS: Final = 3.0
# Below this many timed comparisons the between-run noise cannot be estimated: timings are not gated.
NOISE_MIN_TIMINGS: Final = 6
# Two runs' timers never agree better than this (log ratio), even when every other ratio is exactly 1.
NOISE_MIN_SIGMA: Final = 0.01


@dataclass(frozen=True)
class Source:
    """Where one side of the comparison came from."""

    label: str  # the ref or the file name as the user typed it
    commit: str | None
    run_id: str
    path: str | None = None


@dataclass(frozen=True)
class Finding:
    metric: str  # "time", "queries", "blocks", "index", "sort", "plan", "status"
    direction: str  # REGRESSION, IMPROVEMENT or CHANGED
    message: str


@dataclass(frozen=True)
class Row:
    scenario: str
    case: str
    side: str
    base_status: str
    head_status: str
    timing: stats.Comparison | None
    base_queries: int | None
    head_queries: int | None
    base_blocks: int | None
    head_blocks: int | None
    base_shapes: tuple[str, ...]
    head_shapes: tuple[str, ...]
    findings: tuple[Finding, ...]

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
class Comparison:
    comparison_version: int
    base: Source
    head: Source
    threshold: float
    alpha: float  # as the user asked
    alpha_per_test: float  # after the Bonferroni correction
    # HEAD/BASE time factor common to all measurements, and the factor a slowdown must exceed to count;
    # None with too few timings to tell (then timings are reported, never gated).
    run_factor: float | None
    noise_floor: float | None
    rows: tuple[Row, ...]
    only_in_base: tuple[Key, ...]
    only_in_head: tuple[Key, ...]
    notes: tuple[str, ...]  # differences in the environment that did not prevent comparing

    def with_verdict(self, verdict: str) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.verdict == verdict)

    @property
    def regressed(self) -> bool:
        return any(r.verdict == REGRESSION for r in self.rows)


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


def _ok_with_timing(m: Measurement) -> bool:
    return m.ok and m.timing is not None and len(m.timing.samples_s) > 0


def _indexes(m: Measurement) -> set[str]:
    return {name for plan in m.plans for name in plan.index_names}


def _shapes(m: Measurement) -> tuple[str, ...]:
    return tuple(p.shape for p in m.plans)


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
    if lost:
        findings.append(
            Finding("index", REGRESSION, f"index no longer used: {', '.join(lost)}; plan {shape_change}")
        )
    if gained:
        findings.append(Finding("index", IMPROVEMENT, f"now uses index {', '.join(gained)}"))
    base_sort = any(p.has_sort for p in base.plans)
    head_sort = any(p.has_sort for p in head.plans)
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


def _noise(timings: list[stats.Comparison]) -> tuple[float, float] | None:
    """(median, robust sigma) of log(HEAD/BASE median time) over all timed measurements."""
    logs = np.log([1 / t.ratio for t in timings if 0 < t.ratio < math.inf])
    if logs.size < NOISE_MIN_TIMINGS:
        return None
    sigma = float(scipy_stats.median_abs_deviation(logs, scale="normal"))
    return float(np.median(logs)), max(sigma, NOISE_MIN_SIGMA)


def _timing_finding(timing: stats.Comparison, noise: tuple[float, float] | None) -> Finding | None:
    if timing.verdict not in (stats.SLOWER, stats.FASTER) or not 0 < timing.ratio < math.inf:
        return None
    factor = 1 / timing.ratio
    words = f"{'slower' if timing.verdict == stats.SLOWER else 'faster'}: median time x{factor:.2f}"
    if noise is None:
        return Finding("time", CHANGED, f"{words}, too few timings to tell it from run-to-run noise")
    centre, sigma = noise
    z = (math.log(factor) - centre) / sigma
    if timing.verdict == stats.SLOWER and z > NOISE_SIGMAS:
        return Finding("time", REGRESSION, f"{words} (p={timing.p_value:.2g})")
    if timing.verdict == stats.FASTER and z < -NOISE_SIGMAS:
        return Finding("time", IMPROVEMENT, f"{words} (p={timing.p_value:.2g})")
    return Finding("time", CHANGED, f"{words}, within this comparison's run-to-run noise")


def compare(
    base: Results,
    head: Results,
    *,
    base_source: Source,
    head_source: Source,
    threshold: float = 0.10,
    alpha: float = 0.05,
) -> Comparison:
    check_comparable(base, head)
    base_by_key = {(m.scenario, m.case, m.side): m for m in base.measurements}
    head_by_key = {(m.scenario, m.case, m.side): m for m in head.measurements}
    common = [k for k in base_by_key if k in head_by_key]
    timed = [k for k in common if _ok_with_timing(base_by_key[k]) and _ok_with_timing(head_by_key[k])]
    alpha_per_test = alpha / max(len(timed), 1)

    timings = {
        k: stats.compare(
            base_by_key[k].timing.samples_s,  # type: ignore[union-attr]
            head_by_key[k].timing.samples_s,  # type: ignore[union-attr]
            alpha=alpha_per_test,
            threshold=threshold,
        )
        for k in timed
    }
    noise = _noise(list(timings.values()))
    rows = []
    for key in common:
        b, h = base_by_key[key], head_by_key[key]
        findings: list[Finding] = []
        if not h.ok and b.ok:
            findings.append(Finding("status", REGRESSION, f"failed in head: {h.error}"))
        elif h.ok and not b.ok:
            findings.append(Finding("status", IMPROVEMENT, "failed in base, measured in head"))
        if b.ok and h.ok:
            findings += _deterministic(b, h, threshold)
        timing = timings.get(key)
        if timing is not None:
            found = _timing_finding(timing, noise)
            if found:
                findings.append(found)
        rows.append(
            Row(
                *key,
                base_status=b.status,
                head_status=h.status,
                timing=timing,
                base_queries=b.query_count,
                head_queries=h.query_count,
                base_blocks=b.shared_blocks,
                head_blocks=h.shared_blocks,
                base_shapes=_shapes(b),
                head_shapes=_shapes(h),
                findings=tuple(findings),
            )
        )
    return Comparison(
        comparison_version=COMPARISON_VERSION,
        base=base_source,
        head=head_source,
        threshold=threshold,
        alpha=alpha,
        alpha_per_test=alpha_per_test,
        run_factor=math.exp(noise[0]) if noise else None,
        noise_floor=math.exp(noise[0] + NOISE_SIGMAS * noise[1]) if noise else None,
        rows=tuple(rows),
        only_in_base=tuple(k for k in base_by_key if k not in head_by_key),
        only_in_head=tuple(k for k in head_by_key if k not in base_by_key),
        notes=environment_notes(base, head),
    )


def exit_status(comparison: Comparison) -> int:
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


def to_json(comparison: Comparison) -> str:
    data = dataclasses.asdict(comparison)
    for row, raw in zip(comparison.rows, data["rows"], strict=True):
        raw["verdict"] = row.verdict
    data["regressed"] = comparison.regressed
    data["counts"] = {v: len(comparison.with_verdict(v)) for v in (REGRESSION, IMPROVEMENT, UNCHANGED)}
    return json.dumps(_finite(data), indent=1, allow_nan=False) + "\n"


def load_pair(base_path: Path, head_path: Path) -> tuple[Results, Results]:
    """Two saved results files; the same file (or the same bytes) twice is refused."""
    from bench import results

    if base_path.exists() and head_path.exists():
        if base_path.resolve() == head_path.resolve():
            raise UsageError(f"{base_path} and {head_path} are the same file")
        if base_path.read_bytes() == head_path.read_bytes():
            raise UsageError(f"{base_path} and {head_path} are identical")
    return results.load(base_path), results.load(head_path)
