"""Sides: what runs one call of an item's code path and returns its timings.

In `bench run` both sides live in this process, each on its own Django connection to its own database
(template-identical copies, one or more per migration state), so a pair's two rounds differ only in the
state. With several copies per state, pair p runs on copy p % copies for both sides (a pair stays on
one copy index), each copy with its own connections; a round's `worker` is its copy's index, so the
copy's connections are what the verdicts resample as a whole.

Django's `connection` follows `connections["default"]`, which `DatabaseSide.active` points at the
side's wrapper: ORM code, raw cursors and EXPLAIN all go to the side's database without a router.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import psycopg
from django.db import connections
from django.db.utils import InterfaceError, OperationalError, load_backend

from django_index_bench.bench.pg import cache
from django_index_bench.bench.pg.db import first_line
from django_index_bench.bench.rounds import blocks
from django_index_bench.bench.rounds.facts import facts
from django_index_bench.bench.rounds.isolation import rolled_back, run_commit_hooks

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from django_index_bench.bench.results import Measurement
    from django_index_bench.bench.rounds.schedule import Item, SideSpec
    from django_index_bench.bench.scenarios import Scenario


class ConnectionLost(Exception):
    """The database server went away mid-run: nothing after this can be measured."""


class Round(NamedTuple):
    total_s: float
    db_s: float
    worker: int
    # The call's shared-buffer hits and reads (rounds/blocks.py); None: not counted (an older worker).
    hit: int | None = None
    read: int | None = None


class Sides(Protocol):
    """The executor's view of the two sides, in one process or in worker processes alike."""

    def facts(self, item: Item, side: SideSpec) -> Measurement: ...

    def warm(self, item: Item, side: SideSpec, rounds: int) -> None:
        """Untimed rounds, on every process that will time the side."""

    def round(self, item: Item, side: SideSpec, pair: int) -> Round:
        """One timed call; `pair` is the pair it belongs to (LocalSides picks its database copy by it)."""


class DbClock:
    """A Django execute wrapper summing the time spent inside the driver's execute: the round trip, the
    server's work and the transfer of the result. Turning rows into Python objects is left to the ORM."""

    __slots__ = ("ns",)

    def __init__(self) -> None:
        self.ns = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter_ns()
        try:
            return execute(sql, params, many, context)
        finally:
            self.ns += time.perf_counter_ns() - started


def new_wrapper(settings_dict: dict[str, Any]) -> BaseDatabaseWrapper:
    backend = load_backend(settings_dict["ENGINE"])
    wrapper: BaseDatabaseWrapper = backend.DatabaseWrapper(copy.deepcopy(settings_dict), "default")
    return wrapper


class DatabaseSide:
    """One side's own connection, to the database its state lives in."""

    def __init__(self, settings_dict: dict[str, Any]) -> None:
        self.wrapper = new_wrapper(settings_dict)
        self.clock = DbClock()
        self.oids: list[int] | None = None  # the database's own relations, for the block counters

    def block_counts(self) -> blocks.Blocks:
        """The session's block requests so far in this transaction (rounds/blocks.py)."""
        if self.oids is None:
            self.oids = blocks.relations(self.wrapper)
        return blocks.counters(self.wrapper, self.oids)

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        previous = connections["default"]
        connections["default"] = self.wrapper
        try:
            with self.wrapper.execute_wrapper(self.clock):
                yield
        finally:
            connections["default"] = previous

    def close(self) -> None:
        self.wrapper.close()


class LocalSides:
    """Both sides in this process. One connection per side name, state and database copy, so the two
    code paths of a variant scenario are as separate as the two states of a migration scenario."""

    def __init__(
        self,
        scenarios: dict[str, Scenario],
        databases: Mapping[str, dict[str, Any] | Sequence[dict[str, Any]]],
    ) -> None:
        self.scenarios = scenarios
        # state name -> the Django settings dict of each of its database copies (one dict: one copy)
        self.databases = {
            state: (found,) if isinstance(found, dict) else tuple(found) for state, found in databases.items()
        }
        self.open: dict[tuple[str, str, int], DatabaseSide] = {}

    def _side(self, side: SideSpec, index: int = 0) -> DatabaseSide:
        key = (side.name, side.state, index)
        if key not in self.open:
            self.open[key] = DatabaseSide(self.databases[side.state][index])
        return self.open[key]

    def copy_for(self, side: SideSpec, pair: int) -> int:
        """The copy pair `pair` runs on: round-robin, the same index for both sides of the pair."""
        return pair % len(self.databases[side.state])

    def _scenario(self, name: str) -> Scenario:
        if name not in self.scenarios:
            raise LookupError(f"this code has no scenario {name!r}")
        return self.scenarios[name]

    def facts(self, item: Item, side: SideSpec) -> Measurement:
        """Once, on the first copy: the copies are the same database, page for page."""
        evict = cache.evict_all if item.cache == "cold" else None
        scenario = self._scenario(item.scenario)
        with self._guard(side), self._side(side).active():
            # The warm series ran this call on this connection already: cold facts need no warm-up call.
            return facts(scenario, item.case, side.name, side.state, cold=evict, warm_first=evict is None)

    def warm(self, item: Item, side: SideSpec, rounds: int) -> None:
        """On every copy's connection: each will time rounds."""
        for index in range(len(self.databases[side.state])):
            for _ in range(rounds):
                self._timed(item, side, index)

    def round(self, item: Item, side: SideSpec, pair: int = 0) -> Round:
        return self._timed(item, side, self.copy_for(side, pair))

    def _timed(self, item: Item, side: SideSpec, index: int) -> Round:
        scenario, params, database = self._scenario(item.scenario), item.case.params, self._side(side, index)
        with self._guard(side), database.active(), rolled_back():
            if item.cache == "cold":
                cache.evict_all()
            # Read in the round's own transaction, untimed: nothing is flushed between the two reads.
            before = database.block_counts()
            database.clock.ns = 0
            started = time.perf_counter_ns()
            scenario.execute(side.name, params)
            run_commit_hooks()
            total = time.perf_counter_ns() - started
            db_ns = database.clock.ns
            used = database.block_counts() - before
        return Round(total / 1e9, db_ns / 1e9, index, used.hit, used.read)

    @contextlib.contextmanager
    def _guard(self, side: SideSpec) -> Iterator[None]:
        """A database error that comes from a dead server ends the run; any other is the item's."""
        try:
            yield
        except (OperationalError, InterfaceError) as exc:
            if not self._reachable(side):
                raise ConnectionLost(
                    f"lost the connection to the database server: {first_line(exc)}"
                ) from exc
            raise

    def _reachable(self, side: SideSpec) -> bool:
        settings = self.databases[side.state][0]
        try:
            with psycopg.connect(
                dbname=settings["NAME"],
                user=settings.get("USER") or None,
                password=settings.get("PASSWORD") or None,
                host=settings.get("HOST") or None,
                port=settings.get("PORT") or None,
                **{**settings.get("OPTIONS", {}), "connect_timeout": 5},
            ):
                return True
        except psycopg.Error:
            return False

    def close(self) -> None:
        for side in self.open.values():
            side.close()
        self.open.clear()
