"""What gunicorn serves under load: the project's WSGI application (BENCH_LOAD_APP, "module:callable";
default: Django's own) on the harness's database (DATABASE_URL), the way every bench command connects,
whatever the project's settings say about databases."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any

from django.core.wsgi import get_wsgi_application
from django.db import connections

from django_index_bench.bench.pg.db import django_settings

WSGIApp = Callable[..., Any]


def _application() -> WSGIApp:
    name = os.environ.get("BENCH_LOAD_APP")
    if name:
        module, _, attribute = name.partition(":")
        app: WSGIApp = getattr(importlib.import_module(module), attribute or "application")
    else:
        app = get_wsgi_application()
    # Connections open lazily, on the first request: replacing the settings now moves them all.
    url = os.environ.get("DATABASE_URL")
    if url:
        connections["default"].settings_dict.update(django_settings(url))
    return app


application = _application()
