"""Where each side's pages came from: the shared-buffer hits and reads of its timed rounds.

A side that read a third of its blocks from outside shared buffers while the other found all of them
there was not measured under the same cache conditions: its timing may be the cache's, not the code's.
The rule is here, once, for the report and the gate; they only print what it found, with the figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from django_index_bench.bench.results import Timing

# Sides differ clearly in where their pages came from when their read shares (reads over all block
# requests) are this far apart, in points of share, and the side that read more read at least
# MIN_READS_PER_ROUND blocks per round (a handful of reads over thousands of rounds is no difference).
READ_SHARE_GAP = 0.10
MIN_READS_PER_ROUND = 1.0


@dataclass(frozen=True)
class Blocks:
    """One side's block requests over its timed rounds."""

    hit: int
    read: int
    rounds: int

    @property
    def requests(self) -> int:
        return self.hit + self.read

    @property
    def read_share(self) -> float:
        return self.read / self.requests if self.requests else 0.0


def of(timing: Timing | None) -> Blocks | None:
    """A side's blocks, or None when its file did not record them (schema 9 and older, an older worker)."""
    if timing is None or timing.blocks_hit is None or timing.blocks_read is None:
        return None
    return Blocks(timing.blocks_hit, timing.blocks_read, timing.rounds)


def differ(base: Blocks | None, head: Blocks | None) -> bool:
    """True when the two sides clearly took their pages from different places (see READ_SHARE_GAP)."""
    if base is None or head is None or not base.requests or not head.requests:
        return False
    more = base if base.read_share > head.read_share else head
    return abs(
        base.read_share - head.read_share
    ) >= READ_SHARE_GAP and more.read >= MIN_READS_PER_ROUND * max(more.rounds, 1)
