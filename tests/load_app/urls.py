"""The project's URLs plus `half-fail/`, which answers every second request with HTTP 500, and `slow/`,
which answers after SLOW_S (longer than the tests' request timeout).

The counter is per worker process: serve it with one worker and exactly half the requests fail."""

from __future__ import annotations

import itertools
import time

from django.http import HttpRequest, HttpResponse
from django.urls import path

from project.urls import urlpatterns as project_urls

_calls = itertools.count()
SLOW_S = 1.5


def half_fail(request: HttpRequest) -> HttpResponse:
    if next(_calls) % 2:
        return HttpResponse(b"failed on purpose", status=500, content_type="text/plain")
    return HttpResponse(b"fine", content_type="text/plain")


def slow(request: HttpRequest) -> HttpResponse:
    time.sleep(SLOW_S)
    return HttpResponse(b"late", content_type="text/plain")


urlpatterns = [*project_urls, path("half-fail/", half_fail), path("slow/", slow)]
