"""A worker process for `bench compare`: one ref's own code, answering one request at a time.

`python -m django_index_bench.bench.gate.worker --worker N [seed options]`, with the state databases'
URLs in the environment (BENCH_WORKER_STATES, JSON; never on argv, where `ps` shows them), started by
the compare process in the ref's checkout, so this ref's scenarios, models and migrations are the ones
imported. Requests and answers are JSON lines on the worker's original stdout and
stdin; anything the code under test prints goes to stderr instead, so it cannot corrupt the protocol.
Timings are taken in here, around the call alone: the pipe's round trip is never timed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import IO, Any

PROTOCOL = 1


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    from django_index_bench.bench.options import add_config_argument
    from django_index_bench.bench.seeding import add_seed_arguments

    parser = argparse.ArgumentParser(prog="python -m django_index_bench.bench.gate.worker")
    # Only for callers from before STATES_ENV: a URL on argv is readable by every user through `ps`.
    parser.add_argument("--state", action="append", default=[], metavar="NAME=URL")
    parser.add_argument("--worker", type=int, default=0)
    add_config_argument(parser)
    add_seed_arguments(parser)
    return parser.parse_args(argv)


def _item(data: dict[str, Any]) -> Any:
    from django_index_bench.bench.rounds.schedule import Item, SideSpec
    from django_index_bench.bench.scenarios import Case

    case = Case(data["case"]["name"], data["case"]["params"])
    base, cand = (SideSpec(**side) for side in (data["baseline"], data["candidate"]))
    return Item(data["scenario"], case, data["cache"], base, cand)


STATES_ENV = "BENCH_WORKER_STATES"  # bench.gate.workers sets it: {"before": URL, "after": URL}


def _state_urls(flags: Sequence[str]) -> dict[str, str]:
    """The state databases' URLs: from STATES_ENV (taken out of the environment, so the code under test
    and its children never see it), else from --state flags."""
    passed = os.environ.pop(STATES_ENV, None)
    urls: dict[str, str] = json.loads(passed) if passed else dict(t.split("=", 1) for t in flags)
    if not urls:
        raise SystemExit(f"worker: no databases: set {STATES_ENV} or pass --state NAME=URL")
    return urls


class Worker:
    def __init__(self, args: argparse.Namespace) -> None:
        from django_index_bench.bench.options import project_config
        from django_index_bench.bench.pg import db
        from django_index_bench.bench.rounds.sides import LocalSides
        from django_index_bench.bench.scenarios import load

        self.args = args
        self.project = project_config(args)
        self.urls = _state_urls(args.state)
        first = next(iter(self.urls.values()))
        db.setup_django(db.Target(first, embedded=False), self.project)
        self.scenarios = load(self.project.scenarios)
        settings = {name: self._settings(url) for name, url in self.urls.items()}
        self.sides = LocalSides(self.scenarios, settings)

    @staticmethod
    def _settings(url: str) -> dict[str, Any]:
        import copy

        from django.db import connection

        from django_index_bench.bench.pg import db

        db.switch_django(db.Target(url, embedded=False))
        return copy.deepcopy(connection.settings_dict)

    def _use(self, state: str) -> None:
        from django_index_bench.bench.pg import db

        db.switch_django(db.Target(self.urls[state], embedded=False))

    def hello(self) -> dict[str, Any]:
        from django_index_bench.bench import environment

        commit, _ = environment.git_state(self.project.root)
        return {"protocol": PROTOCOL, "worker": self.args.worker, "commit": commit}

    def _states(self) -> dict[str, Any]:
        from django_index_bench.bench.steps.states import resolve_states

        return {s.name: s for s in resolve_states(self.project.before, self.project.after)}

    def reach(self, state: str, targets: dict[str, str]) -> dict[str, Any]:
        """The state as this ref's configuration defines it (`targets` is what the caller was told)."""
        from django_index_bench.bench.steps.states import reach

        self._use(state)
        return dataclasses.asdict(reach(self._states()[state]))

    def states(self) -> dict[str, Any]:
        return {name: state.targets for name, state in self._states().items()}

    def cases(self, state: str) -> dict[str, Any]:
        from django_index_bench.bench.steps.timed import draw

        self._use(state)
        cases, failures = draw(self.scenarios, None)
        infos = {name: dataclasses.asdict(s.info(cases[name])) for name, s in self.scenarios.items()}
        return {
            "cases": {name: [dataclasses.asdict(c) for c in found] for name, found in cases.items()},
            "infos": infos,
            "failures": [dataclasses.asdict(m) for m in failures],
        }

    def dataset(self, state: str) -> dict[str, Any]:
        """The data in the state's database, as `bench seed` left it (reused) or seeded again. As bench
        seed does: the rows belong at the before state, so the plan is read against the models as
        Django's migration state has them there (not this ref's classes, which may have columns the
        older schema lacks), and the marker records that state and this project."""
        from django_index_bench.bench.seeding import owner_of, source_from_args
        from django_index_bench.bench.steps.run import seeded
        from django_index_bench.bench.steps.states import schema_state
        from django_index_bench.seed import ensure_seeded

        self._use(state)
        at = schema_state(self._states()["before"])
        source = source_from_args(self.project, self.args, at)
        outcome = ensure_seeded(self.urls[state], source, progress=False, state=at, by=owner_of(self.project))
        return dataclasses.asdict(seeded(outcome, 0.0))

    def environment(self, state: str) -> dict[str, Any]:
        from django_index_bench.bench import environment

        self._use(state)
        return dataclasses.asdict(environment.collect(self.project.root, embedded=False))

    def facts(self, item: dict[str, Any], side: dict[str, Any]) -> dict[str, Any]:
        parsed = _item(item)
        spec = self._local(side)
        return dataclasses.asdict(self.sides.facts(parsed, spec))

    def warm(self, item: dict[str, Any], side: dict[str, Any], rounds: int) -> dict[str, Any]:
        self.sides.warm(_item(item), self._local(side), rounds)
        return {}

    def round(self, item: dict[str, Any], side: dict[str, Any]) -> dict[str, Any]:
        done = self.sides.round(_item(item), self._local(side))
        return {"total_s": done.total_s, "db_s": done.db_s, "hit": done.hit, "read": done.read}

    @staticmethod
    def _local(side: dict[str, Any]) -> Any:
        from django_index_bench.bench.rounds.schedule import SideSpec

        return SideSpec(side["name"], side["state"])


def serve(worker: Worker, requests: IO[str], answers: IO[str]) -> None:
    """One JSON request per line, one JSON answer per line: {"ok": ...} or {"error": "..."}."""
    handlers: dict[str, Callable[..., dict[str, Any]]] = {
        name: getattr(worker, name)
        for name in ("hello", "reach", "states", "cases", "dataset", "environment", "facts", "warm", "round")
    }
    for line in requests:
        request = json.loads(line)
        op = request.pop("op")
        if op == "quit":
            return
        try:
            answer: dict[str, Any] = {"ok": handlers[op](**request)}
        except Exception as exc:
            from django_index_bench.bench.rounds.facts import describe

            answer = {"error": describe(exc), "lost": _lost(exc)}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


def _lost(exc: BaseException) -> bool:
    from django_index_bench.bench.rounds.sides import ConnectionLost

    return isinstance(exc, ConnectionLost)


def main(argv: Sequence[str] | None = None) -> int:
    # Ctrl-C reaches the whole process group: the compare process stops its workers (they end at the end
    # of their stdin), so a worker ignores it rather than print a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The protocol keeps the original stdout; fd 1 (print, logging) goes to stderr from here on.
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    worker = Worker(_parse(argv))
    serve(worker, sys.stdin, protocol)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
