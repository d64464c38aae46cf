"""The compare process's side of the worker protocol: each ref's code runs in worker processes of its
own checkout, and the executor alternates rounds between the refs as it does between two databases.

Several workers per ref, and each round runs on a worker drawn at random (seeded) from its ref's pool.
On a busy machine one process can run slow for seconds (the scheduler keeps it, or its database
backend, on a loaded core); with a fixed base/head pairing of processes that would bias every pair of
theirs the same way. Drawn afresh for every round, a slow process lands on either ref's side alike,
so it widens the spread of the pairs instead of shifting their median: randomisation is what lets the
paired test treat the pairs as exchangeable. Each round records its worker.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import random
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import dacite

from django_index_bench.bench.gate import harness
from django_index_bench.bench.pg import server as embedded
from django_index_bench.bench.results import Measurement
from django_index_bench.bench.rounds.schedule import Item, SideSpec
from django_index_bench.bench.rounds.sides import ConnectionLost, Round

DACITE = dacite.Config(cast=[tuple], strict=True)
START_TIMEOUT = 120
# How a worker learns its databases' URLs: the environment, which other users cannot read, unlike argv.
STATES_ENV = "BENCH_WORKER_STATES"


def speaks_env(tree: Path) -> bool:
    """Does the worker that runs in this checkout read STATES_ENV? Its own copy of the harness (a checkout
    of the harness's repository) says so in its source; otherwise it is this installed one, which does."""
    module = harness.worker_module(harness.in_tree(tree))
    source = tree / (module.replace(".", "/") + ".py")
    return not source.is_file() or STATES_ENV in source.read_text(encoding="utf-8", errors="replace")


def state_passing(tree: Path, urls: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """(arguments, environment) that give the checkout's workers the URLs of their state databases.
    A worker from before STATES_ENV reads only --state=NAME=URL: it gets each URL without its password,
    and the password as libpq's PGPASSWORD, so `ps` never shows it either way."""
    if speaks_env(tree):
        return [], {STATES_ENV: json.dumps(urls)}
    args, env = [], {}
    for name, url in urls.items():
        password = embedded.conninfo(url).get("password")
        if password:
            env["PGPASSWORD"] = str(password)
        args.append(f"--state={name}={embedded.without_password(url)}")
    return args, env


class WorkerError(Exception):
    """The ref's code raised in the worker: the message is its error, as the user should read it."""


class WorkerProcess:
    """The harness's worker (bench/worker.py) in one ref's checkout, one JSON request and answer per line."""

    def __init__(self, tree: Path, env: dict[str, str], args: Sequence[str], index: int) -> None:
        self.index = index
        self.process = subprocess.Popen(
            [sys.executable, "-m", harness.worker_module(harness.in_tree(tree)), f"--worker={index}", *args],
            cwd=tree, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )  # fmt: skip

    def call(self, op: str, **arguments: Any) -> Any:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None
        assert stdout is not None
        try:
            stdin.write(json.dumps({"op": op, **arguments}) + "\n")
            stdin.flush()
        except BrokenPipeError:
            raise WorkerError(f"worker {self.index} exited with status {self.process.wait()}") from None
        line = stdout.readline()
        if not line:
            raise WorkerError(f"worker {self.index} exited with status {self.process.wait()}")
        answer = json.loads(line)
        if "error" in answer:
            raise (ConnectionLost if answer.get("lost") else WorkerError)(answer["error"])
        return answer["ok"]

    def close(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(BrokenPipeError, OSError):
                assert self.process.stdin is not None
                self.process.stdin.write('{"op": "quit"}\n')
                self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


def started(
    tree: Path, env: dict[str, str], args: Sequence[str], count: int
) -> contextlib.AbstractContextManager[list[WorkerProcess]]:
    """`count` workers of one ref, all on the same databases, stopped however the block ends."""
    return started_each(tree, [(env, args)] * count)


@contextlib.contextmanager
def started_each(
    tree: Path, each: Sequence[tuple[dict[str, str], Sequence[str]]]
) -> Iterator[list[WorkerProcess]]:
    """One worker of one ref per (environment, arguments): each may be given its own database copies.
    Stopped however the block ends."""
    workers: list[WorkerProcess] = []
    try:
        for index, (env, args) in enumerate(each):
            workers.append(WorkerProcess(tree, env, args, index))
        for worker in workers:
            worker.call("hello")
        yield workers
    finally:
        for worker in workers:
            worker.close()


def _item(item: Item) -> dict[str, Any]:
    return dataclasses.asdict(item)


def _side(side: SideSpec) -> dict[str, Any]:
    return {"name": side.name, "state": side.state}


class RefSides:
    """The executor's Sides over worker processes, one list per ref (SideSpec.ref)."""

    def __init__(self, workers: dict[str, list[WorkerProcess]], seed: int) -> None:
        self.workers = workers
        self.rng = random.Random(seed)

    def facts(self, item: Item, side: SideSpec) -> Measurement:
        data = self.workers[side.ref][0].call("facts", item=_item(item), side=_side(side))
        return dacite.from_dict(Measurement, data, config=DACITE)

    def warm(self, item: Item, side: SideSpec, rounds: int) -> None:
        for worker in self.workers[side.ref]:
            worker.call("warm", item=_item(item), side=_side(side), rounds=rounds)

    def round(self, item: Item, side: SideSpec, pair: int = 0) -> Round:
        """`pair` is not used: the workers are drawn at random (each worker's copy is fixed)."""
        worker = self.rng.choice(self.workers[side.ref])
        done = worker.call("round", item=_item(item), side=_side(side))
        # An older ref's worker does not count blocks: its rounds' buffers read as not recorded.
        hit, read = done.get("hit"), done.get("read")
        return Round(
            float(done["total_s"]),
            float(done["db_s"]),
            worker.index,
            None if hit is None else int(hit),
            None if read is None else int(read),
        )
