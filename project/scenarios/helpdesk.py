"""Scenario 8: the helpdesk loadPeoples endpoint, unpaginated legacy response against page 1 of 25."""

from __future__ import annotations

import json
from typing import Any

from django.test import RequestFactory

from django_index_bench.bench.scenarios import Case, Outcome, Scenario, register
from project.apps.y_helpdesk import views

URL = "/api/y_helpdesk/"
REQUESTS = {
    "legacy": {"action": "loadPeoplesLegacy"},
    "paginated": {"action": "loadPeoples", "page": "1", "page_size": "25"},
}


@register
class HelpdeskLoadPeoples(Scenario):
    name = "helpdesk_load_peoples"
    title = "Helpdesk loadPeoples: whole list against page 1 of 25"
    group = "helpdesk"
    kind = "variant"
    baseline = "legacy"
    candidate = "paginated"
    description = (
        "GET /api/y_helpdesk/?action=loadPeoplesLegacy (every enabled person) against "
        "?action=loadPeoples&page=1&page_size=25; the view is called directly, without the test client's "
        "request signals, so the database connection stays warm."
    )
    measures_memory = True

    def draw_cases(self) -> list[Case]:
        return [Case("page_1", {})]

    def execute(self, side: str, params: dict[str, Any]) -> Outcome:
        # RequestFactory + the view, not the test client: no request_finished signal closing the connection.
        response = views.helpdesk(RequestFactory().get(URL, REQUESTS[side]))
        if response.status_code != 200:
            raise RuntimeError(f"{side} answered {response.status_code}: {response.content[:200]!r}")
        body = json.loads(response.content)
        items = body["data"] if side == "legacy" else body["items"]
        return Outcome(rows=len(items), response_bytes=len(response.content))
