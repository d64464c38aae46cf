"""Scenarios 1-3: the tracking queries the three indexes of attendance 0031 are meant to serve."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.db.models import Max, QuerySet

from django_index_bench.bench.scenarios import Case, MigrationScenario, ranked_by_count, register, spread
from project.apps.attendance.models import Tracking

DEVICE_LATEST = 100


def _window_end() -> dt.datetime:
    # Windows end at the newest row, so they always cover data whatever the seed's calendar.
    latest = Tracking.objects.aggregate(latest=Max("receiveddate"))["latest"]
    if latest is None:
        raise RuntimeError("the tracking table is empty: seed it first")
    end: dt.datetime = latest
    return end


def _window(params: dict[str, Any]) -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime.fromisoformat(params["start"]), dt.datetime.fromisoformat(params["end"])


class _TrackingWindow(MigrationScenario):
    """Rows of one value of `key` over the last `window` of data, oldest first."""

    key: ClassVar[str]
    window: ClassVar[dt.timedelta]

    def draw_cases(self) -> list[Case]:
        end = _window_end()
        start = end - self.window
        ranked = ranked_by_count(Tracking.objects.filter(receiveddate__range=(start, end)), self.key)
        window = {"start": start.isoformat(), "end": end.isoformat()}
        return [Case(case, {self.key: key, **window, "matching": n}) for case, key, n in spread(ranked)]

    def queryset(self, params: dict[str, Any]) -> QuerySet[Tracking]:
        lookup = {self.key: params[self.key], "receiveddate__range": _window(params)}
        return Tracking.objects.filter(**lookup).order_by("receiveddate")


@register
class TrackingPersonRange(_TrackingWindow):
    name = "tracking_person_range"
    title = "Tracking: one person's fixes over 30 days"
    group = "tracking"
    key = "people_id"
    window = dt.timedelta(days=30)
    description = (
        "Tracking.objects.filter(people_id=P, receiveddate__range=(start, end)).order_by('receiveddate'), "
        "the last 30 days of data; served by tracking_people_date_idx (people, receiveddate)."
    )


@register
class TrackingIdentifierRange(_TrackingWindow):
    name = "tracking_identifier_range"
    title = "Tracking: one identifier's fixes over one day"
    group = "tracking"
    key = "identifier"
    window = dt.timedelta(days=1)
    description = (
        "Tracking.objects.filter(identifier=I, receiveddate__range=(start, end)).order_by('receiveddate'), "
        "the last day of data; served by tracking_ident_date_idx (identifier, receiveddate)."
    )


@register
class TrackingDevice(MigrationScenario):
    name = "tracking_device"
    title = "Tracking: a device's latest fixes"
    group = "tracking"
    description = (
        f"Tracking.objects.filter(deviceid=D).order_by('-receiveddate')[:{DEVICE_LATEST}]; "
        "served by tracking_device_idx (deviceid)."
    )

    def draw_cases(self) -> list[Case]:
        ranked = ranked_by_count(Tracking.objects.all(), "deviceid")
        return [Case(case, {"deviceid": key, "matching": n}) for case, key, n in spread(ranked)]

    def queryset(self, params: dict[str, Any]) -> QuerySet[Tracking]:
        return Tracking.objects.filter(deviceid=params["deviceid"]).order_by("-receiveddate")[:DEVICE_LATEST]
