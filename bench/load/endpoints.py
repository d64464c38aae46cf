"""The endpoints `bench load` can drive: the request each side sends, and the state each side runs in.

A "variant" endpoint sends two requests that reach two code paths of one build (the old one the change
replaced, and the new one), both in the "after" state, as the variant scenarios do; a "migration"
endpoint sends one request to servers on the two states' databases.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from bench.errors import UsageError
from bench.load.results import LoadEndpoint


def _helpdesk_body(side: str, body: bytes) -> str | None:
    """Why a response is not the one the side should answer with; None when it is."""
    try:
        data = json.loads(body)
    except ValueError:
        return f"not JSON: {body[:80]!r}"
    key = "data" if side == "legacy" else "items"
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        return f"no {key!r} list in the response: {body[:80]!r}"
    return None


@dataclass(frozen=True)
class Endpoint:
    name: str
    title: str
    kind: str  # "variant" or "migration"
    baseline: str
    candidate: str
    paths: dict[str, str]
    # Checks one warm-up response per side before any burst: a side that answers the wrong thing
    # (a 200 with an error page, the other side's shape) is refused rather than measured.
    check: Callable[[str, bytes], str | None] | None = None

    @property
    def sides(self) -> tuple[str, str]:
        return self.baseline, self.candidate

    def state_of(self, side: str, before: str, after: str) -> str:
        if self.kind == "variant":
            return after
        return before if side == self.baseline else after

    def info(self, before: str, after: str) -> LoadEndpoint:
        return LoadEndpoint(
            name=self.name,
            title=self.title,
            kind=self.kind,
            baseline=self.baseline,
            candidate=self.candidate,
            paths=dict(self.paths),
            states={side: self.state_of(side, before, after) for side in self.sides},
        )


HELPDESK = Endpoint(
    name="helpdesk_load_peoples",
    title="Helpdesk loadPeoples over HTTP: whole list against page 1",
    kind="variant",
    baseline="legacy",
    candidate="paginated",
    paths={
        # The write-up's `ab` URL; the legacy side asks the view for the response pagination replaced.
        "legacy": "/api/y_helpdesk/?action=loadPeoplesLegacy",
        "paginated": "/api/y_helpdesk/?action=loadPeoples&page=1",
    },
    check=_helpdesk_body,
)

ENDPOINTS: dict[str, Endpoint] = {e.name: e for e in (HELPDESK,)}


def select(names: tuple[str, ...]) -> tuple[Endpoint, ...]:
    """The named endpoints (all when none is named); UsageError for an unknown name."""
    unknown = sorted(set(names) - ENDPOINTS.keys())
    if unknown:
        raise UsageError(f"unknown endpoint {', '.join(unknown)}; known: {', '.join(sorted(ENDPOINTS))}")
    return tuple(e for name, e in ENDPOINTS.items() if not names or name in names)
