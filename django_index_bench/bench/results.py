"""The results file: the one contract between bench (which writes it) and reports/compare (which read it).

Plain frozen dataclasses, stored as JSON with a schema version. Raw timing samples and full plans are
kept, so a report can be re-rendered (or a comparison re-run) later without touching a database.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import tempfile
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import dacite

from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.load.results import LoadRun

# History of SCHEMA_VERSION (bump it on any change a reader could trip over, and say why here):
# 1 - 2026-11-29: first version: environment, dataset, state changes, scenarios, measurements
#     (timing samples, plans with buffers, query counts, payload sizes).
# 2 - 2026-11-29: what the indexes cost: `costs` (migration time, locks and write stalls, plain and
#     concurrent; relation sizes; write throughput and WAL per row), `cold` (the cold-cache series) and
#     `scales` (the scale curve). All optional: `measurements` stays the main, warm series.
# 3 - 2026-11-29: paired, interleaved measurement. `Timing` keeps every round's end-to-end time
#     (`total_s`) and database time (`db_s`), its pair, whether it ran first in its pair, and its worker
#     process; `samples_s`, `rounds` and `iterations` are gone. `schedule` records what the run did
#     (the sides, the pair order's seed, warmup, budget, stopping rule, each item's pairs and why it
#     stopped). A state change records its database, status and error; a measurement's status may be
#     "failed" with the reason. `run_id` gained a random suffix: two runs never share one. Optional
#     `sensitivity`: A/A and injected-slowdown trials, the smallest slowdown this machine detected.
# 4 - 2026-11-29: any project, by configuration; repeated, paired costs; the load step. A schema 3
#     file reads as one repetition of each cost (`Costs.order` "single"), without `load`.
#     - `Dataset.counts` is keyed as the seeder names its tables (a hook may use short names of its
#       own; a seed plan uses table names); `Dataset.seeded` is false for a database
#       measured as it was (--no-seed). A state change's `migrations` may end with its index SQL.
#     - A `WriteCost` is one repetition (`pair`, `first`): before and after alternate on two
#       template-identical copies (`Costs.databases`, `Costs.order`), for every table the migrations
#       change. A `MigrationCost` is one repetition (`repetition`) in one `direction` ("backward" is
#       the rollback), with how long it held its lock (`lock_held_s`) and the writer's gaps between
#       inserts (`stall_p50_s`, `stall_p99_s`, besides the longest).
#     - Optional `load` (bench.load.results.LoadRun): the endpoints under load on gunicorn, driven by
#       locust in bursts alternating before/after at several concurrency levels; every request's
#       latency, errors by kind, bytes, server and generator CPU per burst, and the generator against a
#       trivial app.
# 5 - 2026-11-29: a failed cost step is recorded, not lost: optional `Costs.error` (its first error line;
#     the figure tuples are then empty, `database` the copy's name or ""). A schema 4 file reads as is:
#     its costs, when present, were measured (`error` None).
# 6 - 2026-12-04: where the time goes: optional `steps`, each step of the command (seed, copies, warm,
#     cold, costs, scales, load, ...) with its wall-clock seconds, in the order they ran. A schema 5 file
#     reads with none.
#     Also in 6: reads tied to their tables; the physical state of a moved copy. `Plan.relations`: the
#     tables and views the plan reads (its nodes' "Relation Name"), which the report uses to tie read
#     cases to a migration's table. A state change records how it settled the copy (`maintenance`:
#     "VACUUM (ANALYZE)" from now, "ANALYZE" before) and the tables whose storage the move rewrote
#     (`rewritten`: relfilenode changed). A schema 5 file reads with its relations taken from each plan's
#     raw JSON, `maintenance` "ANALYZE" and no rewritten tables recorded.
# 7 - 2026-12-04: scenarios may write. Optional `Measurement.writes` (the side's call sent INSERT,
#     UPDATE, DELETE or MERGE) and `Schedule.isolation` (what each call ran in: a transaction rolled back
#     afterwards, bench/rounds/isolation.py). Optional `Costs.failures`: each cost figure that failed,
#     by name, while the others were kept. A schema 6 file reads as is: `writes` False, `isolation` None
#     (not recorded: calls ran in autocommit), `failures` empty.
# 8 - 2026-12-05: items stop by time as well as by pairs. `Schedule.floor_pairs`: an item whose budget
#     ran out before min_pairs (slow rounds) stopped there, with at least this many pairs, and records
#     `ScheduledItem.stop` "slow". `ScaleRun.reused`: a scale point whose data is the main dataset's
#     (same fingerprint) is not seeded and measured again; it carries the main run's measurements of its
#     scenarios and says so. A schema 7 file reads with floor_pairs 0 (none) and nothing reused.
# 9 - 2026-12-05: compare replicates the database level. Optional `Schedule.copies` (database copies per
#     ref and state), `Schedule.worker_copies` (the copy each worker process used, by worker index) and
#     `Schedule.copies_reason` (why that many). A schema 8 file reads as one copy that every worker used.
#     Also `Schedule.prewarm`: how the copies were prewarmed before the timed rounds (pg_prewarm of every
#     copy alike, or why none was); "" in a schema 8 file: not recorded.
# 10 - 2026-12-05: where each side's pages came from. Optional `Timing.blocks_hit` and `Timing.blocks_read`:
#     the shared-buffer hits and reads (blocks not in shared buffers: from the OS cache or the disk) of
#     the side's timed rounds together, counted by the measuring session inside each round's transaction
#     (bench/rounds/blocks.py). A schema 9 file reads with both None: not recorded.
# 11 - 2026-12-05: bench run confirms before reporting (issue 19). Optional `confirmation`: whether the
#     run measured a second time, on fresh copies of each state with fresh connections and another seed,
#     every item whose timing its report's rule called faster or slower (`enabled`, `seed`, `alpha`,
#     `threshold`), and per such item (`items`) the metrics called, the second measurement (both sides'
#     Measurements with their raw rounds, its ScheduledItem), each metric's outcome ("confirmed", "not
#     confirmed", or "not measured again" with the `error`) and the level it was judged at (`alpha`,
#     split over its looks: it may stop early, `ScheduledItem.stop` "agreed", once it agrees). A report
#     must not say a call was confirmed when it was not measured again: a schema 10 file reads with
#     None, no confirmation recorded.
SCHEMA_VERSION = 11

LATEST = "latest.json"
# Deeper JSON than any results file has is refused before the decoder can exhaust the stack.
MAX_JSON_DEPTH = 64

Status = Literal["ok", "failed"]
Cache = Literal["warm", "cold"]
Direction = Literal["forward", "backward"]
Maintenance = Literal["ANALYZE", "VACUUM (ANALYZE)"]
# How a file's cost repetitions ran: before and after alternating (A B, B A, ...), or one measurement
# of each (a schema 3 file).
CostOrder = Literal["alternating", "single"]
# Why an item stopped pairing: its interval got narrow enough, its time ran out, it reached the most
# pairs allowed, or it failed.
# "slow": the item's time budget ran out before min_pairs; it stopped with at least floor_pairs.
# "agreed": a second measurement (bench run's confirmation) that agreed with the first at one of its looks.
StopReason = Literal["precision", "budget", "slow", "max_pairs", "failed", "agreed"]


@dataclass(frozen=True)
class Plan:
    """One EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of a statement the ORM sent."""

    sql: str
    # How the plan was obtained, e.g. "custom plan: the literal SQL the ORM sent (client-side binding)".
    plan_mode: str
    # Compact one-line shape, root first: "Limit > Index Scan Backward on catalog_book using ...".
    shape: str
    node_types: tuple[str, ...]
    index_names: tuple[str, ...]
    scan_directions: tuple[str, ...]
    has_sort: bool
    shared_hit_blocks: int
    shared_read_blocks: int
    rows_removed_by_filter: int
    planning_ms: float
    execution_ms: float
    workers_planned: int
    workers_launched: int
    jit: bool
    raw: Any = None  # the whole JSON plan, as PostgreSQL returned it
    relations: tuple[str, ...] = ()  # the tables/views its nodes read, sorted, each once

    @property
    def shared_blocks(self) -> int:
        return self.shared_hit_blocks + self.shared_read_blocks


@dataclass(frozen=True)
class Timing:
    """Every timed round of one side of a measurement, in the order they ran.

    Round i of the baseline and the candidate's round with the same `pair` ran back to back (in the
    order `first` says), so they saw the same machine: their ratio is one paired observation.
    """

    total_s: tuple[float, ...]  # end to end: the whole call, as the app makes it
    db_s: tuple[float, ...]  # of which inside the database driver's execute, summed over the call
    pair: tuple[int, ...]
    first: tuple[bool, ...]  # this side ran first in its pair
    # The worker that ran the round: in compare a worker process; in bench run (one process) the database
    # copy whose connections ran it (0: the only one), Schedule.worker_copies mapping copy i to itself.
    worker: tuple[int, ...]
    warmup_rounds: int
    timer: str
    # The shared-buffer hits and reads of the timed rounds together (warmup not included); None: not
    # recorded (schema 9 and older, or a compare worker of an older harness).
    blocks_hit: int | None = None
    blocks_read: int | None = None

    @property
    def rounds(self) -> int:
        return len(self.total_s)

    @property
    def orm_s(self) -> tuple[float, ...]:
        """What is left for Django and Python: end to end minus database time (empty when the file
        recorded no database time: schema 2)."""
        if not self.db_s:
            return ()
        return tuple(t - d for t, d in zip(self.total_s, self.db_s, strict=True))


def copy_of(worker_copies: tuple[int, ...], worker: int) -> int:
    """The database copy a worker process measured on, by its schedule's `worker_copies` (copy 0 when
    not recorded: one copy that every worker used)."""
    return worker_copies[worker] if 0 <= worker < len(worker_copies) else 0


def pairs(baseline: Timing, candidate: Timing) -> tuple[list[int], list[int], list[tuple[int, int]]]:
    """The round indexes of each side for the pairs both sides have, in pair order, and each pair's
    (baseline worker, candidate worker), so whole processes can be resampled.
    Pairs are matched by their index, never by position: the files need not list them alike."""
    candidate_round = {pair: j for j, pair in reversed(list(enumerate(candidate.pair)))}
    base_rounds, cand_rounds, workers = [], [], []
    seen: set[int] = set()
    for i, pair in enumerate(baseline.pair):
        j = candidate_round.get(pair)
        if j is None or pair in seen:  # a pair index twice on one side would be a bug upstream
            continue
        seen.add(pair)
        base_rounds.append(i)
        cand_rounds.append(j)
        workers.append((baseline.worker[i], candidate.worker[j]))
    return base_rounds, cand_rounds, workers


@dataclass(frozen=True)
class Measurement:
    scenario: str
    case: str  # which drawn parameter set: e.g. "heavy", "typical", "light"
    side: str  # "before"/"after" for migration scenarios; the variant name for code-level scenarios
    state: str  # the migration state the database was in while measuring
    status: Status
    error: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    timing: Timing | None = None
    query_count: int | None = None
    queries: tuple[str, ...] = ()
    plans: tuple[Plan, ...] = ()
    rows: int | None = None
    response_bytes: int | None = None
    peak_memory_bytes: int | None = None
    # The call sent INSERT, UPDATE, DELETE or MERGE (rolled back after every call: Schedule.isolation).
    writes: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def shared_blocks(self) -> int | None:
        return sum(p.shared_blocks for p in self.plans) if self.plans else None

    @property
    def relations(self) -> tuple[str, ...]:
        """The tables its captured SQL read, as its plans name them."""
        return tuple(sorted({r for p in self.plans for r in p.relations}))


@dataclass(frozen=True)
class ScenarioInfo:
    name: str
    title: str
    group: str  # the scenario's group, as its module registers it
    kind: str  # "migration" (same code, two schema states) or "variant" (two code paths, one state)
    baseline: str  # the side things are compared against: "before", or the old variant's name
    candidate: str  # the side under test: "after", or the new variant's name
    description: str
    cases: tuple[str, ...]


@dataclass(frozen=True)
class StateChange:
    """One move of a database between migration states: a step that can fail."""

    state: str
    database: str
    targets: dict[str, str]  # app label -> migration name
    migrations: tuple[str, ...]  # "app.0031_name" applied (or "-app.0031_name" unapplied), in order
    migrate_seconds: float
    analyze_seconds: float  # of `maintenance`
    status: Status = "ok"
    error: str | None = None  # the failed migration and the database's error
    # What settled the copy after its migrations: VACUUM too, so a table a migration rewrote has its
    # visibility map back (without it an index-only scan turns into a heap or sequential scan).
    maintenance: Maintenance = "ANALYZE"
    rewritten: tuple[str, ...] = ()  # tables whose storage the move rewrote (a new relfilenode)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class ScheduledItem:
    """One paired measurement as it ran: a scenario's case, its two sides and where each ran."""

    scenario: str
    case: str
    cache: Cache
    baseline: str
    candidate: str
    baseline_state: str
    candidate_state: str
    pairs: int  # pairs run; the verdict rests on this many
    stop: StopReason
    seconds: float


@dataclass(frozen=True)
class Schedule:
    """What the run did, so a report describes the method from the record and never from fixed text."""

    # "databases": both sides in this process, each on its own database and warmed connection;
    # "workers": each side in worker processes of its own (compare, one checkout per ref);
    # "blocks": read from a schema 2 file: one database moved between the states in alternating
    # blocks, no pairs and no database time.
    sides: Literal["databases", "workers", "blocks"]
    workers: int  # worker processes per side; rounds are spread over them
    order_seed: int  # each pair's order (which side first) is drawn from this seed
    warmup_rounds: int  # per side, untimed, before the first pair
    min_pairs: int
    max_pairs: int
    precision: float  # stop once the median paired ratio's 95 % CI is within this fraction of it
    seconds: float  # the time budget of one item
    timer: str
    timer_resolution_s: float
    items: tuple[ScheduledItem, ...] = ()
    # Which side runs first: "alternating" (A B, B A, ... from a first side drawn from order_seed);
    # "none" for a schema 2 file, which had no pairs.
    order: Literal["alternating", "none"] = "alternating"
    # compare: the run id of the other ref's run; its rounds with the same item and pair index ran
    # back to back with these, so the two files' timings pair across refs.
    partner: str | None = None
    # What every call (fact, warmup, round) ran in; None: not recorded (schema 5 and older: autocommit,
    # a writing call's changes stayed).
    isolation: str | None = None
    # The fewest pairs an item whose budget ran out before min_pairs stopped with (stop "slow"); 0 or
    # min_pairs: no item could stop that way (0 in schema 7 and older).
    floor_pairs: int = 0
    # Database copies per (ref, state) in compare, per state in bench run, each with its own connections,
    # and the copy each worker used (index: the worker), so an interval can resample whole copies with
    # their workers. bench run has one process: its "worker" i is copy i's connection set, so its list is
    # (0, 1, ..., copies - 1), pair p on copy p % copies for both sides (recorded since schema 9 too; an
    # older bench run file has one copy and no list: every round on the one copy).
    copies: int = 1
    worker_copies: tuple[int, ...] = ()
    copies_reason: str = ""
    # How the copies were prewarmed before the timed rounds (all alike, or why none was); "": not recorded.
    prewarm: str = ""


@dataclass(frozen=True)
class Dataset:
    profile: str | None
    seed: int
    counts: dict[str, int]
    fingerprint: str
    seeder_version: str
    reused: bool
    seed_seconds: float
    seeded: bool = True  # False: measured as it was (--no-seed), on copies of the user's database


@dataclass(frozen=True)
class Environment:
    postgres_version: str
    postgres_settings: dict[str, str]  # jit, max_parallel_workers_per_gather, random_page_cost, ...
    python: str
    django: str
    psycopg: str
    pytest_benchmark: str
    platform: str
    cpu_count: int
    git_commit: str | None
    git_dirty: bool | None
    database: str  # "embedded" or "DATABASE_URL"


@dataclass(frozen=True)
class StatementTiming:
    sql: str
    seconds: float


# How an index-only comparison's index is named as a MigrationCost.migration: the statement that takes
# the "before" state to "after", then the index's name ("CREATE INDEX book_author_published_idx").
CREATE_INDEX, DROP_INDEX = "CREATE INDEX ", "DROP INDEX "
INDEX_STATEMENTS = (CREATE_INDEX, DROP_INDEX)


@dataclass(frozen=True)
class MigrationCost:
    """One migration applied (or rolled back) on the seeded data while a single-row writer kept inserting:
    one repetition of one variant in one direction."""

    migration: str  # "app.0002_name", or "CREATE INDEX <name>" (above)
    variant: str  # "plain" (as written) or "concurrent" (CREATE/DROP INDEX CONCURRENTLY)
    table: str
    lock: str  # the strongest lock it takes on table, as LOCK TABLE names it: "SHARE", ...
    seconds: float
    statements: tuple[StatementTiming, ...]
    max_write_stall_s: float  # the longest gap between the writer's consecutive inserts meanwhile
    writes_during: int
    invalid_indexes: tuple[str, ...]  # pg_index.indisvalid = false afterwards: must be empty
    direction: Direction = "forward"  # "backward": the rollback, from after to before
    repetition: int = 0
    # How long it held that lock: an atomic migration from its first schema statement to its commit; a
    # non-atomic one (the concurrent variant) the sum of its statements, each of which locks on its own.
    # None: not recorded (schema 3).
    lock_held_s: float | None = None
    # The writer's gaps between consecutive inserts: their median and 99th percentile (None: schema 3,
    # which kept only the longest).
    stall_p50_s: float | None = None
    stall_p99_s: float | None = None


@dataclass(frozen=True)
class RelationSize:
    table: str
    relation: str
    kind: str  # "table" or "index"
    bytes: int


# The suffix of a write method that re-inserted the table's own rows (a unique foreign key: no fresh value).
REINSERTED = "_reinserted"


@dataclass(frozen=True)
class WriteCost:
    """One repetition of inserting `rows` rows in one state; the other state's repetition with the same
    `pair` ran right before or after it (`first` says which), on a template-identical copy."""

    state: str
    table: str
    # "copy" (one batch) or "orm_create" (one row per call and transaction); either + REINSERTED when the
    # table's rows could not take fresh values and its own rows were deleted and inserted again instead.
    method: str
    rows: int
    seconds: float
    wal_bytes: int
    pair: int = 0
    first: bool = True

    @property
    def seconds_per_row(self) -> float:
        return self.seconds / self.rows

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")

    @property
    def wal_bytes_per_row(self) -> float:
        return self.wal_bytes / self.rows


@dataclass(frozen=True)
class CostFailure:
    """One cost figure that could not be measured, while the others were: which, and why."""

    figure: str  # "sizes after", "orm_create into catalog_book", "catalog.0002_x concurrent backward 2/3"
    error: str  # its first error line


@dataclass(frozen=True)
class Costs:
    database: str  # the disposable copy of the seeded database the migrations were measured on
    migrations: tuple[MigrationCost, ...]
    sizes_before: tuple[RelationSize, ...]
    sizes_after: tuple[RelationSize, ...]
    writes: tuple[WriteCost, ...]
    order: CostOrder = "alternating"
    databases: dict[str, str] = field(default_factory=dict)  # state -> the copy its writes went to
    # The cost step failed: its first error line. The figures above are then empty (not "no cost": not
    # measured), and `database` is the copy's name, or "" when none was made.
    error: str | None = None
    # Figures that failed on their own; the figures above are the ones that did not.
    failures: tuple[CostFailure, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None

    @classmethod
    def failed(cls, error: str, database: str = "") -> Costs:
        return cls(database=database, migrations=(), sizes_before=(), sizes_after=(), writes=(), error=error)


@dataclass(frozen=True)
class ScaleRun:
    """The main scenarios on a dataset of another size, in its own database."""

    counts: dict[str, int]
    fingerprint: str
    measurements: tuple[Measurement, ...]
    # "main": this point's data is the main dataset (same fingerprint), so its measurements are the main
    # warm series' of its scenarios, not a second measurement; None: seeded and measured on its own.
    reused: Literal["main"] | None = None


# A slowdown counts as detectable when the trials flagged it at least this often.
DETECTED_SHARE = 0.9
SensitivityKind = Literal["orm", "db"]  # where a slowdown was injected: Python time, or database time


@dataclass(frozen=True)
class SensitivityLevel:
    """Trials at one injected slowdown (0: A/A) of one scenario class's representative case."""

    scenario_class: str  # verdicts.defaults.SPEED_CLASSES: by the baseline's median end to end
    scenario: str
    case: str
    baseline_total_s: float
    baseline_db_s: float
    kind: SensitivityKind
    slowdown: float  # a fraction of the baseline's median (end to end for "orm", database for "db")
    trials: int
    flagged: int  # A/A: called faster or slower (false alarms); injected: called slower
    ratios: tuple[float, ...]  # each trial's median paired ratio, baseline/candidate
    note: str = ""  # why a level has no trials

    @property
    def rate(self) -> float | None:
        return self.flagged / self.trials if self.trials else None


@dataclass(frozen=True)
class Sensitivity:
    """What this machine could see when the run measured it (`bench run --sensitivity`)."""

    threshold: float
    alpha: float
    trials: int
    seconds: float  # budget of one trial
    levels: tuple[SensitivityLevel, ...]

    def detectable(
        self, scenario_class: str, kind: SensitivityKind, share: float = DETECTED_SHARE
    ) -> float | None:
        """The smallest injected slowdown flagged in at least `share` of its trials; None: none was."""
        found = [
            lv.slowdown
            for lv in self.levels
            if lv.scenario_class == scenario_class and lv.kind == kind and lv.slowdown > 0
            and lv.rate is not None and lv.rate >= share
        ]  # fmt: skip
        return min(found, default=None)


@dataclass(frozen=True)
class Remeasured:
    """One item of bench run measured a second time because its first measurement called a timing faster
    or slower (verdicts/run_confirm.py)."""

    scenario: str
    case: str
    cache: Cache
    # Metric ("time": end to end, "db_time") -> the first measurement's call ("faster", "slower").
    called: dict[str, str]
    # Metric -> "confirmed", "not confirmed" or "not measured again" (verdicts.words.Confirmation).
    outcomes: dict[str, str]
    # The second measurement, raw rounds and all; None when it could not be made (`error`).
    baseline: Measurement | None = None
    candidate: Measurement | None = None
    scheduled: ScheduledItem | None = None
    error: str | None = None  # why there is no usable second measurement: the calls stand
    # After how many pairs the second measurement looked whether it agreed yet (it stopped at the first
    # look that did), and the level each look and the last judgement used: alpha over their number.
    looks: tuple[int, ...] = ()
    alpha: float = 0.0


@dataclass(frozen=True)
class RunConfirmation:
    """What bench run did to confirm its calls before reporting them."""

    enabled: bool  # False: --no-confirm, every call stands on one measurement
    note: str  # what was done, in words, for the record
    seed: int = 0  # the second measurement's pair-order seed (the first's is Schedule.order_seed)
    # The first measurement's level (not corrected over the cases); an item's own is split over its looks.
    alpha: float = 0.0
    threshold: float = 0.0  # the first measurement's size threshold that selected the items
    copies: int = 1  # fresh database copies per state the second measurement spread its pairs over
    prewarm: str = ""  # how the fresh copies were prewarmed
    items: tuple[Remeasured, ...] = ()
    error: str | None = None  # the second measurement could not be made at all: every call stands

    def find(self, scenario: str, case: str, cache: Cache) -> Remeasured | None:
        return next((i for i in self.items if (i.scenario, i.case, i.cache) == (scenario, case, cache)), None)


@dataclass(frozen=True)
class StepTime:
    """How long one step of a command took, wall clock: where a run's minutes went."""

    step: str
    seconds: float


@dataclass(frozen=True)
class Results:
    schema_version: int
    run_id: str
    started_at: str
    finished_at: str
    command: str
    environment: Environment
    dataset: Dataset
    schedule: Schedule
    states: tuple[StateChange, ...]
    scenarios: tuple[ScenarioInfo, ...]
    measurements: tuple[Measurement, ...]  # the main series: warm cache, the requested dataset
    costs: Costs | None = None
    cold: tuple[Measurement, ...] = ()  # the same work with the relations evicted before every round
    scales: tuple[ScaleRun, ...] = ()
    sensitivity: Sensitivity | None = None
    load: LoadRun | None = None
    steps: tuple[StepTime, ...] = ()  # in the order they ran; empty before schema 6
    # bench run's second measurement of the calls its report makes; None: not recorded (schema 10 and
    # older, a compare's results file, a run that stopped before it)
    confirmation: RunConfirmation | None = None

    def scenario(self, name: str) -> ScenarioInfo | None:
        return next((s for s in self.scenarios if s.name == name), None)

    def measurements_of(self, scenario: str) -> list[Measurement]:
        return [m for m in self.measurements if m.scenario == scenario]

    def find(self, scenario: str, case: str, side: str) -> Measurement | None:
        return next(
            (m for m in self.measurements if (m.scenario, m.case, m.side) == (scenario, case, side)),
            None,
        )


def sensitivity_json(found: Sensitivity) -> str:
    return json.dumps(dataclasses.asdict(found), indent=1) + "\n"


def to_json(results: Results) -> str:
    return json.dumps(dataclasses.asdict(results), indent=1, sort_keys=False) + "\n"


def from_dict(data: dict[str, Any], *, source: str = "results") -> Results:
    version = data.get("schema_version") if isinstance(data, dict) else None
    if version in (2, 3, 4, 5, 6, 7, 8, 9, 10):
        from django_index_bench.bench.upgrade import (
            upgrade_2,
            upgrade_3,
            upgrade_4,
            upgrade_5,
            upgrade_6,
            upgrade_7,
            upgrade_8,
            upgrade_9,
            upgrade_10,
        )

        try:
            if version == 2:
                data = upgrade_2(data)
            if version in (2, 3):
                data = upgrade_3(data)
            if version in (2, 3, 4):
                data = upgrade_4(data)
            if version in (2, 3, 4, 5):
                data = upgrade_5(data)
            if version in (2, 3, 4, 5, 6):
                data = upgrade_6(data)
            if version in (2, 3, 4, 5, 6, 7):
                data = upgrade_7(data)
            if version in (2, 3, 4, 5, 6, 7, 8):
                data = upgrade_8(data)
            if version in (2, 3, 4, 5, 6, 7, 8, 9):
                data = upgrade_9(data)
            data = upgrade_10(data)
        except (KeyError, TypeError, AttributeError) as exc:
            raise UsageError(f"{source} is not a valid schema {version} results file: {exc!r}") from None
        version = SCHEMA_VERSION
    if version != SCHEMA_VERSION:
        raise UsageError(
            f"{source} has schema version {version!r}; this bench reads versions 2 to {SCHEMA_VERSION}: "
            "re-run `bench run` to produce a current one"
        )
    _check_fields(Results, data, source, "")
    try:
        return dacite.from_dict(Results, data, config=dacite.Config(cast=[tuple], strict=True))
    except dacite.DaciteError as exc:
        raise UsageError(f"{source} is not a valid results file: {exc}") from None


# Numbers that may be negative: random seeds. Every other number in the file is a time, a count, a size,
# a fraction or an index, so a negative one is not a measurement.
SIGNED = frozenset({"seed", "order_seed"})


def _check_fields(cls: type, data: Any, source: str, path: str) -> None:
    """The shape dacite would read loosely (it casts a string to a tuple of its letters) and every number,
    checked against the dataclasses' types before it reads them: finite, and not negative unless SIGNED."""
    if not isinstance(data, dict):
        raise UsageError(f"{source}: {path or 'the file'} must be an object, got {_kind(data)}")
    for name, kind in _hints(cls):
        if name in data:
            _check_value(kind, data[name], source, f"{path}.{name}".lstrip("."), name)


@functools.cache
def _hints(cls: type) -> tuple[tuple[str, Any], ...]:
    """(field name, resolved type) of a dataclass: resolved once, not once per object of the file."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))


def _check_value(kind: Any, value: Any, source: str, path: str, name: str) -> None:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            _check_value(rest[0], value, source, path, name)
    elif origin is tuple:
        if not isinstance(value, list):
            raise UsageError(f"{source}: {path} must be a list, got {_kind(value)}")
        for i, item in enumerate(value):
            _check_value(args[0], item, source, f"{path}[{i}]", name)
    elif origin is dict and isinstance(value, dict):
        for key, item in value.items():
            _check_value(args[1], item, source, f"{path}.{key}", name)
    elif dataclasses.is_dataclass(kind) and isinstance(kind, type):
        _check_fields(kind, value, source, path)
    elif kind in (int, float) and _bad_number(value, signed=name in SIGNED):
        expected = "a finite number" if name in SIGNED else "a finite number, not negative"
        raise UsageError(f"{source}: {path} is {value!r}; expected {expected}")


def _bad_number(value: Any, *, signed: bool) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False  # not a number at all: dacite says so, naming the type it expected
    return not math.isfinite(value) or (value < 0 and not signed)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _depth(text: str) -> int:
    """How deeply brackets nest, counted outside strings: cheap, and no recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def load(path: Path) -> Results:
    if path.is_dir():
        raise UsageError(f"{path} is a directory, not a results file")
    try:
        text = path.read_text(encoding="utf-8")
        if _depth(text) > MAX_JSON_DEPTH:
            raise UsageError(f"{path} nests deeper than any results file; is it one?")
        data = json.loads(text)
    except FileNotFoundError:
        raise UsageError(f"no results file at {path}; run `bench run` first") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise UsageError(f"cannot read results file {path}: {type(exc).__name__}: {exc}") from None
    return from_dict(data, source=str(path))


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file. Readable by all (0644),
    like the markdown beside it: mkstemp alone would leave it 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _claim_number(directory: Path) -> Path:
    """A placeholder NNNN_claimed with the next free number, created atomically (O_EXCL), so two runs
    never get the same number; the results file takes the number over, so it is never reused."""
    while True:
        numbers = [int(p.name[:4]) for p in directory.glob("[0-9][0-9][0-9][0-9]_*")]
        placeholder = directory / f"{max(numbers, default=0) + 1:04d}_claimed"
        try:
            os.close(os.open(placeholder, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            continue
        return placeholder


def save(results: Results, directory: Path) -> Path:
    """Store as the next numbered file (0001_<run id>.json ...) and refresh latest.json."""
    directory.mkdir(parents=True, exist_ok=True)
    placeholder = _claim_number(directory)
    path = directory / f"{placeholder.name[:4]}_{results.run_id}.json"
    text = to_json(results)
    write_atomic(path, text)
    placeholder.unlink()
    write_atomic(directory / LATEST, text)
    return path
