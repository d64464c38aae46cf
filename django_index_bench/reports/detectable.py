"""What a run could detect, stated from the run itself: per class of speed and per metric, the smallest
change its verdicts could have called, and, when the run measured it, its sensitivity trials."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from django_index_bench.bench.results import DETECTED_SHARE, Sensitivity, SensitivityKind
from django_index_bench.reports import fmt
from django_index_bench.verdicts import defaults, stats


def limits(
    comparisons: Sequence[tuple[float, stats.Comparison | None, stats.Comparison | None]], threshold: float
) -> list[str]:
    """One sentence per class of speed, from (baseline median seconds, end to end, database time).

    A change is called only when it exceeds the threshold and its interval excludes no change, so the
    smallest change a class could show is the larger of the threshold and the typical (median) half-width
    of its intervals.
    """
    lines = []
    for name, low, high in defaults.SPEED_CLASSES:
        inside = [c for c in comparisons if low <= c[0] < high]
        if not inside:
            continue
        parts = []
        for label, which in (("end to end", 0), ("database time", 1)):
            found = [(c[1], c[2])[which] for c in inside]
            widths = [w for x in found if x is not None and (w := x.half_width) is not None]
            if widths:
                smallest = max(threshold, float(np.median(widths)))
                parts.append(f"{label} under {fmt.percent(smallest)}")
        if parts:
            lines.append(
                f"{name} cases ({len(inside)}): changes {' and '.join(parts)} cannot be seen here "
                f"(the larger of the threshold, {fmt.percent(threshold)}, and the median half-width of "
                f"their {fmt.percent(defaults.CONFIDENCE, 0)} intervals)"
            )
    return lines


def trials(found: Sensitivity | None) -> list[dict[str, str]]:
    """The sensitivity trials, one row per class, kind and injected slowdown."""
    if found is None:
        return []
    return [
        {
            "class": level.scenario_class,
            "case": f"{level.scenario} / {level.case}",
            "kind": "database time" if level.kind == "db" else "end to end",
            "slowdown": "none (A/A)" if level.slowdown == 0 else fmt.percent(level.slowdown, 0),
            "flagged": level.note or f"{level.flagged} of {level.trials}",
            "meaning": "false alarms" if level.slowdown == 0 else "detected",
        }
        for level in found.levels
    ]


KINDS: tuple[tuple[SensitivityKind, str], ...] = (("orm", "end to end"), ("db", "database time"))


def smallest_detected(found: Sensitivity | None) -> list[str]:
    if found is None:
        return []
    lines = []
    for name in dict.fromkeys(level.scenario_class for level in found.levels):
        for kind, label in KINDS:
            smallest = found.detectable(name, kind)
            words = fmt.percent(smallest, 0) if smallest is not None else "none of the injected slowdowns"
            share = fmt.percent(DETECTED_SHARE, 0)
            lines.append(
                f"{name}, {label}: the smallest slowdown flagged in at least {share} of trials: {words}"
            )
    return lines
