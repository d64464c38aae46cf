"""Where a round's pages came from: shared-buffer hits against reads, counted by the measured session.

PostgreSQL counts each relation's block requests in the backend that makes them (pending statistics,
pg_stat_get_xact_blocks_fetched/_hit) and hands them to the shared statistics only when the backend is
idle outside a transaction. A round runs inside one transaction (rounds/isolation.py), so the counters
read in that transaction just before the timed call and just after it differ by exactly the call's
block requests: nothing is flushed in between, no other session's work is in them, and reading them
reads no table of the copy. That holds on PostgreSQL 14 (the statistics collector) and 15+ (shared
memory statistics) alike, and for both sides of a variant scenario, which share one database.

The relations counted are the database's own (tables, indexes, TOAST, materialized views), not the
system catalogs, whose lookups the relcache mostly serves and which are the harness's as much as the
call's. A "read" is a block that was not in shared buffers: from the OS page cache or the disk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

RELATIONS = """
SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'i', 't', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
"""
COUNTERS = """
SELECT coalesce(sum(pg_stat_get_xact_blocks_fetched(r)), 0), coalesce(sum(pg_stat_get_xact_blocks_hit(r)), 0)
FROM unnest(%s::oid[]) AS r
"""


class Blocks(NamedTuple):
    hit: int
    read: int

    def __sub__(self, other: tuple[int, ...]) -> Blocks:
        return Blocks(self.hit - other[0], self.read - other[1])


def relations(wrapper: BaseDatabaseWrapper) -> list[int]:
    """The oids of the database's own relations, once per connection (the schema does not change
    between rounds: every call is rolled back)."""
    with wrapper.cursor() as cursor:
        cursor.execute(RELATIONS)
        return [int(row[0]) for row in cursor.fetchall()]


def counters(wrapper: BaseDatabaseWrapper, oids: list[int]) -> Blocks:
    """This session's block requests on `oids` so far in its pending statistics: hits and reads."""
    with wrapper.cursor() as cursor:
        cursor.execute(COUNTERS, [oids])
        row = cursor.fetchone()
    fetched, hit = (int(row[0]), int(row[1])) if row else (0, 0)
    return Blocks(hit, fetched - hit)
