"""A WSGI app that does nothing: two bytes, no Django, no database. Driving it shows how fast the load
generator itself can go on this machine, so a slow endpoint is not mistaken for a slow generator."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

BODY = b"ok"


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
    return [BODY]
