"""loadPeoples, paginated and legacy, through Django's test client against the real database."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client

from tests.factories import make_people, make_tenant

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

URL = "/api/y_helpdesk/"


@pytest.fixture
def sixty_people(db: BaseDatabaseWrapper) -> None:
    make_people(make_tenant(1), 60)


def get(**params: str) -> tuple[int, dict[str, Any]]:
    response = Client().get(URL, params)
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content)


def test_first_page_has_25_items_and_metadata(sixty_people: None) -> None:
    status, body = get(action="loadPeoples", page="1", page_size="25")
    assert status == 200
    assert len(body["items"]) == 25
    assert body["items"][0]["peoplename"] == "Person 00000"
    assert {k: v for k, v in body.items() if k != "items"} == {
        "total_count": 60,
        "page_size": 25,
        "current_page": 1,
        "total_pages": 3,
        "has_next": True,
        "has_previous": False,
    }


def test_defaults_are_page_1_of_25(sixty_people: None) -> None:
    status, body = get(action="loadPeoples")
    assert status == 200
    assert (body["current_page"], body["page_size"], len(body["items"])) == (1, 25, 25)


def test_last_page_is_partial(sixty_people: None) -> None:
    status, body = get(action="loadPeoples", page="3")
    assert status == 200
    assert len(body["items"]) == 10
    assert (body["has_next"], body["has_previous"]) == (False, True)


def test_page_size_is_capped(db: BaseDatabaseWrapper) -> None:
    make_people(make_tenant(1), 120)
    status, body = get(action="loadPeoples", page_size="1000")
    assert status == 200
    assert body["page_size"] == 100
    assert len(body["items"]) == 100


def test_legacy_action_returns_everyone(sixty_people: None) -> None:
    status, body = get(action="loadPeoplesLegacy")
    assert status == 200
    assert len(body["data"]) == 60


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"},
        {"page": "0"},
        {"page": "-1"},
        {"page": "1.5"},
        {"page": ""},
        {"page_size": "0"},
        {"page_size": "-5"},
        {"page_size": "abc"},
    ],
)
def test_bad_input_is_json_400(sixty_people: None, params: dict[str, str]) -> None:
    status, body = get(action="loadPeoples", **params)
    assert status == 400
    assert "positive integer" in body["error"]


def test_unknown_action_is_json_400(sixty_people: None) -> None:
    status, body = get(action="dropTables")
    assert status == 400
    assert "loadPeoples" in body["error"]


def test_page_past_the_end_is_json_404(sixty_people: None) -> None:
    status, body = get(action="loadPeoples", page="4")
    assert status == 404
    assert "past the last page" in body["error"]
