"""Every call of a scenario runs inside a transaction that is rolled back afterwards, so a scenario may
write (INSERT, UPDATE, DELETE, its own atomic blocks and savepoints, select_for_update) and every round,
fact and warmup still sees the database exactly as it was seeded: the measured copies end the run as
they began (rows and their contents; sequences, which no rollback resets, do advance).

What that means for the figures: the scenario's statements and its own savepoints are timed as the app
runs them, and its on_commit callbacks run at the end of the round, inside the timing, where a commit
would run them. The transaction's BEGIN is not timed (it goes out with the untimed read of the block
counters that opens each round, bench/rounds/blocks.py), and the COMMIT itself is not: neither its
round trip nor its WAL flush (synchronous_commit) is in any round, so a writing scenario's timings
leave out what its commit would cost. The write cost
figures (bench/costs) are where committed inserts and their WAL are measured.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any, cast

from django.db import connection, transaction

# What the results file says each round ran in (Schedule.isolation).
ROLLED_BACK = (
    "transaction rolled back after the call (its on_commit callbacks run, and are timed, at its end; the "
    "COMMIT itself is not)"
)
_log = logging.getLogger(__name__)


@contextlib.contextmanager
def rolled_back() -> Iterator[None]:
    """An outer transaction on Django's current connection that always rolls back."""
    block = transaction.atomic()
    # Django's TestCase marks its own outer block this way so that the code under test may still open
    # atomic(durable=True) blocks; the same holds here: the app's durable block is what it would be.
    block._from_testcase = True  # type: ignore[attr-defined]
    with block:
        try:
            yield
        finally:
            transaction.set_rollback(True)


def run_commit_hooks() -> None:
    """The on_commit callbacks the call registered, run now (where its commit would run them) and in
    the same way: a robust one's exception is logged, any other's propagates. Callbacks registered
    by callbacks run too. Django itself would drop them all at the rollback."""
    while connection.run_on_commit:
        # (savepoint ids, callback, robust) since Django 4.2; django-stubs still lists two fields.
        _, func, robust = cast(tuple[Any, Callable[[], object], bool], connection.run_on_commit.pop(0))
        if robust:
            try:
                func()
            except Exception as exc:  # as Django does for a robust callback: logged, not raised
                _log.error("on_commit callback %s raised %s", func.__qualname__, exc, exc_info=True)
        else:
            func()
