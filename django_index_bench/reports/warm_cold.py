"""Warm and cold, per (scenario, case, side): the same work's medians with PostgreSQL's shared buffers
as the warm series left them and emptied first, side by side, and how many blocks each read from outside
them. The two series are not interleaved, so their medians are shown, never divided: a ratio would carry
the machine's drift between the series as if it were a cache effect."""

from __future__ import annotations

from dataclasses import dataclass

from django_index_bench.bench.results import Measurement, Results
from django_index_bench.reports import fmt
from django_index_bench.verdicts import stats


@dataclass(frozen=True)
class WarmCold:
    scenario: str
    case: str
    side: str
    warm: Measurement
    cold: Measurement

    @staticmethod
    def _summary(m: Measurement) -> stats.Summary | None:
        # End to end: the cold series is about what the caller waits for buffer misses.
        if m.ok and m.timing is not None and m.timing.rounds:
            return stats.summarize(m.timing.total_s)
        return None

    @property
    def warm_summary(self) -> stats.Summary | None:
        return self._summary(self.warm)

    @property
    def cold_summary(self) -> stats.Summary | None:
        return self._summary(self.cold)


def read_blocks(m: Measurement) -> int | None:
    """Blocks PostgreSQL read from outside shared buffers (from the OS page cache or the disk)."""
    return sum(p.shared_read_blocks for p in m.plans) if m.ok and m.plans else None


def pairs(results: Results) -> list[WarmCold]:
    """Every cold measurement with its warm twin from the main series; one without a twin is left out."""
    out = []
    for cold in results.cold:
        warm = results.find(cold.scenario, cold.case, cold.side)
        if warm is not None:
            out.append(WarmCold(cold.scenario, cold.case, cold.side, warm, cold))
    # The cold series is stored in the order it was run (all "before" first); read it per case instead.
    infos = {info.name: (i, info) for i, info in enumerate(results.scenarios)}

    def order(pair: WarmCold) -> tuple[int, str, int, str, int]:
        i, info = infos.get(pair.scenario, (len(infos), None))
        cases = info.cases if info else ()
        sides = (info.baseline, info.candidate) if info else ()
        return (
            i,
            pair.scenario,
            cases.index(pair.case) if pair.case in cases else len(cases),
            pair.case,
            sides.index(pair.side) if pair.side in sides else len(sides),
        )

    return sorted(out, key=order)


def context(results: Results) -> list[dict[str, str]]:
    rows = []
    for pair in pairs(results):
        warm, cold = pair.warm_summary, pair.cold_summary
        rows.append(
            {
                "scenario": pair.scenario,
                "case": pair.case,
                "side": pair.side,
                "warm": fmt.duration(warm.median) if warm else pair.warm.status,
                "cold": fmt.duration(cold.median) if cold else pair.cold.status,
                "warm_read": fmt.count(read_blocks(pair.warm)),
                "cold_read": fmt.count(read_blocks(pair.cold)),
            }
        )
    return rows
