"""A worker process for `bench compare`: one ref's own code, answering one request at a time.

`python -m bench.worker --state before=URL --state after=URL --worker N [seed options]`, started by the
compare process in the ref's checkout, so this ref's scenarios, models and migrations are the ones
imported. Requests and answers are JSON lines on the worker's original stdout and stdin; anything the
code under test prints goes to stderr instead, so it cannot corrupt the protocol. Timings are taken in
here, around the call alone: the pipe's round trip is never timed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

PROTOCOL = 1
REPO = Path(__file__).resolve().parent.parent


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    from seed.cli_options import add_seed_arguments

    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("--state", action="append", default=[], metavar="NAME=URL", required=True)
    parser.add_argument("--worker", type=int, default=0)
    add_seed_arguments(parser)
    return parser.parse_args(argv)


def _item(data: dict[str, Any]) -> Any:
    from bench.scenarios import Case
    from bench.schedule import Item, SideSpec

    case = Case(data["case"]["name"], data["case"]["params"])
    base, cand = (SideSpec(**side) for side in (data["baseline"], data["candidate"]))
    return Item(data["scenario"], case, data["cache"], base, cand)


class Worker:
    def __init__(self, args: argparse.Namespace) -> None:
        from bench import db
        from bench.scenarios import load_all
        from bench.sides import LocalSides

        self.args = args
        self.urls = dict(text.split("=", 1) for text in args.state)
        first = next(iter(self.urls.values()))
        db.setup_django(db.Target(first, embedded=False))
        self.scenarios = load_all()
        settings = {name: self._settings(url) for name, url in self.urls.items()}
        self.sides = LocalSides(self.scenarios, settings)

    @staticmethod
    def _settings(url: str) -> dict[str, Any]:
        import copy

        from django.db import connection

        from bench import db

        db.switch_django(db.Target(url, embedded=False))
        return copy.deepcopy(connection.settings_dict)

    def _use(self, state: str) -> None:
        from bench import db

        db.switch_django(db.Target(self.urls[state], embedded=False))

    def hello(self) -> dict[str, Any]:
        from bench import environment

        commit, _ = environment.git_state(REPO)
        return {"protocol": PROTOCOL, "worker": self.args.worker, "commit": commit}

    def reach(self, state: str, targets: dict[str, str]) -> dict[str, Any]:
        from bench.states import State, reach

        self._use(state)
        return dataclasses.asdict(reach(State(state, targets)))

    def states(self) -> dict[str, Any]:
        from bench.states import resolve_states

        return {state.name: state.targets for state in resolve_states()}

    def cases(self, state: str) -> dict[str, Any]:
        from bench.measured import draw

        self._use(state)
        cases, failures = draw(self.scenarios, None)
        infos = {name: dataclasses.asdict(s.info(cases[name])) for name, s in self.scenarios.items()}
        return {
            "cases": {name: [dataclasses.asdict(c) for c in found] for name, found in cases.items()},
            "infos": infos,
            "failures": [dataclasses.asdict(m) for m in failures],
        }

    def dataset(self, state: str) -> dict[str, Any]:
        from seed import ensure_seeded
        from seed.cli_options import request_from_args

        source = request_from_args(self.args)
        outcome = ensure_seeded(self.urls[state], source, progress=False)
        return {
            "profile": outcome.source.profile,
            "seed": outcome.source.seed,
            "counts": outcome.source.dataset_counts,
            "fingerprint": outcome.fingerprint,
            "seeder_version": outcome.seeder_version,
            "reused": outcome.reused,
            "seed_seconds": 0.0,
        }

    def environment(self, state: str) -> dict[str, Any]:
        from bench import environment

        self._use(state)
        return dataclasses.asdict(environment.collect(REPO, embedded=False))

    def facts(self, item: dict[str, Any], side: dict[str, Any]) -> dict[str, Any]:
        parsed = _item(item)
        spec = self._local(side)
        return dataclasses.asdict(self.sides.facts(parsed, spec))

    def warm(self, item: dict[str, Any], side: dict[str, Any], rounds: int) -> dict[str, Any]:
        self.sides.warm(_item(item), self._local(side), rounds)
        return {}

    def round(self, item: dict[str, Any], side: dict[str, Any]) -> dict[str, Any]:
        done = self.sides.round(_item(item), self._local(side))
        return {"total_s": done.total_s, "db_s": done.db_s}

    @staticmethod
    def _local(side: dict[str, Any]) -> Any:
        from bench.schedule import SideSpec

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
            from bench.measure import describe

            answer = {"error": describe(exc), "lost": _lost(exc)}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


def _lost(exc: BaseException) -> bool:
    from bench.sides import ConnectionLost

    return isinstance(exc, ConnectionLost)


def main(argv: Sequence[str] | None = None) -> int:
    # The protocol keeps the original stdout; fd 1 (print, logging) goes to stderr from here on.
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    worker = Worker(_parse(argv))
    serve(worker, sys.stdin, protocol)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
