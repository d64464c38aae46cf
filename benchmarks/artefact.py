"""Issue 19's third target, measured: a copy-level artefact injected on purpose during an A/A compare is
never called a change of the code, in either direction.

While `bench compare main main` runs, this process keeps one HEAD database copy's pages out of shared
buffers: once a pass's copies are all at their state (compare logs its prewarm), it connects to copy 0
of HEAD in each state (bench_cmp_<tag>_head_<state>[_m<pass>]_c0, gate/interleaved.py's naming) and
evicts every table and index of that copy from shared buffers (pg_buffercache_evict_relation), again
and again until the compare ends. Only that copy: its siblings, BASE's copies and the other databases
keep their pages. The worker on copy 0 then reads its pages from the operating system's cache where the
other workers hit shared buffers, which is a difference of the copy, not of the code.

The artefact counts only where it happened: pages of the copy were evicted again after the workers had
read them back (pages were there to evict while the copy had worker connections, pg_stat_activity), and
the copy's pg_stat_database block reads are recorded beside its siblings', as are the per-copy medians
the comparison itself recorded (HEAD copy 0 against the other HEAD copies).
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import psycopg
from targets_lib import TINY, bench_env, could_see, read_comparison, refuted

Passes = Literal["first", "all"]
# Every copy of a compare's passes; group 1 the tag, 2 the role, 3 the state, 4 the pass, 5 the copy.
COPY = re.compile(r"^bench_cmp_(r[0-9a-f]{8})_(base|head)_(before|after)(?:_m([0-9]+))?_c([0-9]+)$")
PREWARM_LINE = "bench compare: prewarm:"
# The copy's own tables and indexes, as gate/prewarm.py reads them in: the same relations, evicted.
EVICT = """
SELECT coalesce(sum(e.buffers_evicted), 0)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
     LATERAL pg_buffercache_evict_relation(c.oid) e
WHERE c.relkind IN ('r', 'i', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
"""


def confirming(name: str) -> bool:
    """A copy of the second measurement (confirm before failing), not of the first."""
    found = COPY.match(name)
    return bool(found and found[4])


def artefacted(name: str, passes: Passes) -> bool:
    found = COPY.match(name)
    return bool(found and found[2] == "head" and found[5] == "0" and (passes == "all" or not found[4]))


@dataclass
class Evicted:
    """What was done to one artefacted copy, and what the server saw of it."""

    database: str
    rounds: int = 0  # eviction passes over the copy's relations
    buffers: int = 0  # buffers evicted in all
    rounds_with_pages: int = 0  # passes that found pages of the copy back in shared buffers to evict
    rounds_while_used: int = 0  # ... while workers were connected to it
    max_backends: int = 0  # the most other sessions seen connected to it
    error: str | None = None  # why evicting stopped early (the compare dropping the copy ends it)


@dataclass
class Evictor:
    """The loop's state over one compare: a connection per artefacted copy, the copies' statistics."""

    server: str
    passes: Passes
    copies: dict[str, Evicted] = field(default_factory=dict)
    connections: dict[str, psycopg.Connection[Any]] = field(default_factory=dict)
    stats: dict[str, dict[str, int]] = field(default_factory=dict)  # every copy: last seen pg_stat_database

    def attach(self) -> None:
        """Connect to every artefacted copy that exists now and is not attached yet."""
        with psycopg.connect(self.server, autocommit=True) as conn:
            names = [str(r[0]) for r in conn.execute("SELECT datname FROM pg_database").fetchall()]
        for name in names:
            if not artefacted(name, self.passes) or name in self.copies:
                continue
            self.copies[name] = Evicted(name)
            try:
                url = conninfo(self.server, name)
                copy = psycopg.connect(url, autocommit=True)
                copy.execute("CREATE EXTENSION IF NOT EXISTS pg_buffercache")
                self.connections[name] = copy
            except psycopg.Error as exc:
                self.copies[name].error = f"cannot attach: {' '.join(str(exc).split())}"

    def evict(self) -> None:
        pids = [c.info.backend_pid for c in self.connections.values()]
        used = self._backends(pids)
        for name, copy in list(self.connections.items()):
            record = self.copies[name]
            try:
                row = copy.execute(EVICT).fetchone()
            except psycopg.Error as exc:  # the compare dropped the copy at its end
                record.error = " ".join(str(exc).split())
                self._detach(name)
                continue
            evicted = int(row[0]) if row else 0
            record.rounds += 1
            record.buffers += evicted
            record.rounds_with_pages += evicted > 0
            record.rounds_while_used += evicted > 0 and used.get(name, 0) > 0
            record.max_backends = max(record.max_backends, used.get(name, 0))

    def _backends(self, mine: list[int]) -> dict[str, int]:
        """Sessions per compare copy, this process's own excluded; every copy's block counters kept."""
        with psycopg.connect(self.server, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT datname, count(*) FROM pg_stat_activity WHERE datname LIKE 'bench_cmp_%%'"
                " AND pid <> ALL(%s) GROUP BY datname",
                (mine,),
            ).fetchall()
            for name, read, hit in conn.execute(
                "SELECT datname, blks_read, blks_hit FROM pg_stat_database WHERE datname LIKE 'bench_cmp_%'"
            ).fetchall():
                if COPY.match(str(name)):
                    self.stats[str(name)] = {"blks_read": int(read), "blks_hit": int(hit)}
        return {str(name): int(count) for name, count in rows}

    def _detach(self, name: str) -> None:
        copy = self.connections.pop(name)
        try:
            copy.close()
        except psycopg.Error as exc:  # closing a connection the server ended: noted, nothing lost
            self.copies[name].error = self.copies[name].error or " ".join(str(exc).split())

    def close(self) -> None:
        for name in list(self.connections):
            self._detach(name)


def conninfo(server: str, database: str) -> str:
    from django_index_bench.bench.pg import server as embedded

    return embedded.with_database(server, database)


def copy_medians(data: dict[str, Any]) -> dict[str, Any]:
    """HEAD copy 0 (the artefacted one) against HEAD's other copies, from the per-copy medians the
    comparison recorded: the artefact's effect on the timings, row by row."""
    ratios: dict[str, list[float]] = {"total_s": [], "db_s": []}
    slowest = {"total_s": 0, "db_s": 0}
    for row in data["rows"]:
        head = [c for c in row.get("copies") or () if c["role"] == "head"]
        zero = [c for c in head if c["copy"] == 0]
        others = [c for c in head if c["copy"] != 0]
        if not zero or not others:
            continue
        for metric in ratios:
            values = [c[metric] for c in others if c[metric]]
            if zero[0][metric] and values:
                ratios[metric].append(zero[0][metric] / statistics.median(values))
                slowest[metric] += zero[0][metric] > max(values)
    return {
        metric: {
            "rows": len(values),
            "median_ratio_copy0_to_other_head_copies": statistics.median(values) if values else None,
            "rows_where_copy0_slowest": slowest[metric],
        }
        for metric, values in ratios.items()
    }


def calls(data: dict[str, Any]) -> list[str]:
    """Every finding that calls a change of the code, either direction, any metric (a regression a second
    measurement refuted is "changed", noise, and is counted apart by `refuted`)."""
    return [
        f"{r['scenario']}[{r['case']}] {r['side']} {f['metric']} {f['direction']}"
        for r in data["rows"]
        for f in r["findings"]
        if f["direction"] in ("regression", "improvement")
    ]


def one_compare(repo: Path, out: Path, server: str, passes: Passes, interval: float) -> dict[str, Any]:
    command = [sys.executable, "-m", "django_index_bench", "compare", "main", "main", "--output", str(out)]
    out.mkdir(parents=True)
    ready = threading.Semaphore(0)
    lines: list[str] = []
    with (out / "stdout.txt").open("w", encoding="utf-8") as stdout:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [*command, *TINY], cwd=repo, env=bench_env(repo), stdout=stdout, stderr=subprocess.PIPE, text=True
        )

        def read() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                lines.append(line.rstrip("\n"))
                if line.startswith(PREWARM_LINE):
                    ready.release()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        evictor = Evictor(server, passes)
        try:
            while proc.poll() is None:
                if ready.acquire(blocking=False):  # a pass's copies are all at their state
                    evictor.attach()
                evictor.evict()
                time.sleep(interval)
        finally:
            evictor.close()
            proc.wait()
            reader.join()
        seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"bench compare failed (exit {proc.returncode}): {(lines or ['?'])[-1]}")
    data = read_comparison(out)
    first = [c for c in evictor.copies.values() if not confirming(c.database)]
    happened = bool(first) and all(c.rounds_while_used > 0 for c in evictor.copies.values())
    return {
        "seconds": seconds,
        "exit": proc.returncode,
        "happened": happened,
        "calls": calls(data),
        "not_confirmed": refuted(data),
        "evicted": [vars(c) for c in evictor.copies.values()],
        "block_reads": evictor.stats,
        "copy_medians": copy_medians(data),
        "could_see": could_see(out),
    }


def artefact_compares(
    repo: Path, tmp: Path, count: int, passes: Passes, interval: float, server: str
) -> dict[str, Any]:
    """`count` A/A compares, each with HEAD copy 0's pages kept evicted; the compares where the artefact
    did not happen are recorded and never count as passes."""
    runs = []
    for n in range(count):
        found = one_compare(repo, tmp / f"artefact{n}", server, passes, interval)
        runs.append(found)
        evicted = sum(c["buffers"] for c in found["evicted"])
        status = "happened" if found["happened"] else "DID NOT happen"
        print(
            f"artefact compare {n + 1}/{count}: artefact {status} ({len(found['evicted'])} copies, "
            f"{evicted} buffers evicted), {len(found['calls'])} change(s) called {found['calls']}, "
            f"{len(found['not_confirmed'])} not confirmed, {found['seconds']:.0f} s",
            flush=True,
        )
    happened = [r for r in runs if r["happened"]]
    return {
        "compares": count,
        "artefact": "HEAD copy 0 of each state kept evicted from shared buffers "
        f"(pg_buffercache_evict_relation every {interval} s), "
        + ("in the first measurement only" if passes == "first" else "in every measurement pass"),
        "compares_where_it_happened": len(happened),
        "compares_calling_a_change": sum(bool(r["calls"]) for r in happened),
        "compares_with_unconfirmed": sum(bool(r["not_confirmed"]) for r in happened),
        "runs": runs,
    }
