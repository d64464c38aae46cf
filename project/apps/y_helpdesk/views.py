"""The helpdesk API. `loadPeoples` is the endpoint the write-up paginated.

`loadPeoplesLegacy` keeps the unpaginated response it replaced, so both can be measured side by side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.paginator import EmptyPage, Paginator
from django.http import JsonResponse

from project.apps.peoples.models import People

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
PEOPLE_FIELDS = (
    "id",
    "peoplecode",
    "peoplename",
    "loginid",
    "email",
    "mobno",
    "designation",
    "department",
    "tenant__tenantname",
)


class BadRequest(ValueError):
    pass


def people_queryset() -> QuerySet[People, dict[str, Any]]:
    rows: QuerySet[People, dict[str, Any]] = (
        People.objects.filter(enable=True).order_by("peoplename", "id").values(*PEOPLE_FIELDS)
    )
    return rows


def _positive_int(request: HttpRequest, name: str, default: int) -> int:
    raw = request.GET.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise BadRequest(f"{name} must be a positive integer, got {raw!r}")
    return value


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def load_peoples(request: HttpRequest) -> JsonResponse:
    """One page of enabled people, with the metadata a client needs to fetch the next one."""
    try:
        page_number = _positive_int(request, "page", 1)
        page_size = min(_positive_int(request, "page_size", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
    except BadRequest as exc:
        return _error(400, str(exc))
    paginator = Paginator(people_queryset(), page_size)
    try:
        page_obj = paginator.page(page_number)
    except EmptyPage:
        return _error(404, f"page {page_number} is past the last page ({paginator.num_pages})")
    return JsonResponse(
        {
            "items": list(page_obj),
            "total_count": paginator.count,
            "page_size": page_size,
            "current_page": page_number,
            "total_pages": paginator.num_pages,
            "has_next": page_obj.has_next(),
            "has_previous": page_obj.has_previous(),
        }
    )


def load_peoples_legacy(request: HttpRequest) -> JsonResponse:
    """Every enabled person in one response: the behaviour before pagination."""
    return JsonResponse({"data": list(people_queryset())})


ACTIONS = {"loadPeoples": load_peoples, "loadPeoplesLegacy": load_peoples_legacy}


def helpdesk(request: HttpRequest) -> JsonResponse:
    action = request.GET.get("action", "")
    handler = ACTIONS.get(action)
    if handler is None:
        return _error(400, f"unknown action {action!r}; expected one of {', '.join(sorted(ACTIONS))}")
    return handler(request)
