"""`bench compare` on load results: a throughput drop or a p95 rise beyond the noise, any new errors,
and a load step that failed in HEAD. Only when both results files have load results.

Each (endpoint, side, level) of BASE is compared with HEAD's. The two files are two separate runs, so
their bursts cannot be paired: per statistic, the interval is Welch's t over the bursts' log values
(log throughput, log p95) of each file. That assumes bursts independent within a run and the machine
unchanged between the runs: drift between them reads as an effect, so a finding must also exceed the
threshold. Errors are counted, not tested: an error kind HEAD has and BASE had not, or a larger share
of errors, is a regression whatever the noise (a failure is never a pass).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from django_index_bench.bench.load.results import LoadBurst, LoadRun
from django_index_bench.bench.results import Results
from django_index_bench.verdicts.defaults import CONFIDENCE
from django_index_bench.verdicts.load_levels import burst_p95, side_load
from django_index_bench.verdicts.words import IMPROVEMENT, REGRESSION


@dataclass(frozen=True)
class LoadFinding:
    endpoint: str
    side: str
    users: int | None
    metric: str  # "throughput", "p95", "errors", "status"
    direction: str  # REGRESSION or IMPROVEMENT
    message: str


def welch_interval(
    base: Sequence[float], head: Sequence[float], confidence: float = CONFIDENCE
) -> tuple[float, float] | None:
    """Interval of mean(head) - mean(base) (Welch's t); None with fewer than 2 values on a side."""
    a, b = np.asarray(base, dtype=np.float64), np.asarray(head, dtype=np.float64)
    if a.size < 2 or b.size < 2:
        return None
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    diff = float(b.mean() - a.mean())
    spread = math.sqrt(va + vb)
    if spread == 0.0:
        return diff, diff
    dof = (va + vb) ** 2 / ((va**2 / (a.size - 1) if va else 0.0) + (vb**2 / (b.size - 1) if vb else 0.0))
    from scipy import stats as scipy_stats

    half = float(scipy_stats.t.ppf(0.5 + confidence / 2, dof)) * spread
    return diff - half, diff + half


def _logs(values: Sequence[float | None]) -> list[float]:
    return [math.log(v) for v in values if v is not None and v > 0]


def _moved(metric: str, base: list[LoadBurst], head: list[LoadBurst], threshold: float) -> LoadFinding | None:
    """A throughput drop / rise or a p95 rise / fall beyond the interval and the threshold."""
    if metric == "throughput":
        a, b = _logs([x.throughput for x in base]), _logs([x.throughput for x in head])
    else:
        a, b = _logs([burst_p95(x) for x in base]), _logs([burst_p95(x) for x in head])
    bounds = welch_interval(a, b)
    if bounds is None:
        return None
    factor = math.exp(float(np.mean(b)) - float(np.mean(a)))
    higher_is_better = metric == "throughput"
    if bounds[0] > 0 and factor > 1 + threshold:
        direction = IMPROVEMENT if higher_is_better else REGRESSION
    elif bounds[1] < 0 and factor < 1 - threshold:
        direction = REGRESSION if higher_is_better else IMPROVEMENT
    else:
        return None
    low, high = math.exp(bounds[0]), math.exp(bounds[1])
    first = head[0]
    message = (
        f"{metric} HEAD/BASE {factor:.2f}x [{low:.2f}x to {high:.2f}x] over {len(a)} and {len(b)} bursts "
        "(unpaired: two runs)"
    )
    return LoadFinding(first.endpoint, first.side, first.users, metric, direction, message)


def _errors(base: list[LoadBurst], head: list[LoadBurst]) -> LoadFinding | None:
    before, after = side_load(base), side_load(head)
    new = sorted(set(after.errors) - set(before.errors))
    if not new and after.error_share <= before.error_share:
        return None
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(after.errors.items()))
    what = f"new error kind(s) {', '.join(new)}" if new else "a larger share of errors"
    message = (
        f"{what}: {after.error_count} of {after.sent} requests ({kinds}) against "
        f"{before.error_count} of {before.sent} in BASE"
    )
    return LoadFinding(after.endpoint, after.side, after.users, "errors", REGRESSION, message)


def _groups(run: LoadRun) -> dict[tuple[str, str, int], list[LoadBurst]]:
    groups: dict[tuple[str, str, int], list[LoadBurst]] = {}
    for burst in run.bursts:
        groups.setdefault((burst.endpoint, burst.side, burst.users), []).append(burst)
    return groups


def findings(base: Results, head: Results, *, threshold: float) -> tuple[LoadFinding, ...]:
    """What moved under load between BASE and HEAD; empty unless both have load results."""
    if base.load is None or head.load is None:
        return ()
    if not head.load.ok:
        return (
            LoadFinding("(load step)", "-", None, "status", REGRESSION, f"failed in HEAD: {head.load.error}"),
        )
    if not base.load.ok:
        return ()
    found: list[LoadFinding] = []
    head_groups = _groups(head.load)
    for key, base_bursts in _groups(base.load).items():
        head_bursts = head_groups.get(key)
        if head_bursts is None:
            endpoint, side, users = key
            message = "measured in BASE, missing in HEAD"
            found.append(LoadFinding(endpoint, side, users, "status", REGRESSION, message))
            continue
        for metric in ("throughput", "p95"):
            moved = _moved(metric, base_bursts, head_bursts, threshold)
            if moved is not None:
                found.append(moved)
        errors = _errors(base_bursts, head_bursts)
        if errors is not None:
            found.append(errors)
    return tuple(found)


def regressed(found: Sequence[LoadFinding]) -> bool:
    return any(f.direction == REGRESSION for f in found)


def lines(found: Sequence[LoadFinding]) -> list[str]:
    """One line per finding, as `bench compare` prints them."""
    return [
        f"{f.direction.upper()} load {f.endpoint} {f.side}"
        + (f" at {f.users} user{'s' if f.users != 1 else ''}" if f.users else "")
        + f": {f.message}"
        for f in found
    ]
