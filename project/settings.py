"""Settings of the project under test: deliberately plain, so what we measure is the app, not the config.

The database comes from DATABASE_URL only. The harness sets it (`bench db url` prints the harness's
own), so importing these settings never starts a server or touches the network.
"""

from __future__ import annotations

import os

from psycopg.conninfo import conninfo_to_dict

SECRET_KEY = "benchmark-only-not-secret"  # never deployed: the project exists to be measured
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
ROOT_URLCONF = "project.urls"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "project.apps.tenants",
    "project.apps.peoples",
    "project.apps.attendance",
    "project.apps.journal",
    "project.apps.y_helpdesk",
]
MIDDLEWARE: list[str] = []


def _database(url: str) -> dict[str, object]:
    """Django's settings for any libpq connection string (a URL, ?host=/socket/dir, key=value)."""
    params = conninfo_to_dict(url)
    named = {"dbname": "NAME", "user": "USER", "password": "PASSWORD", "host": "HOST", "port": "PORT"}
    settings: dict[str, object] = {new: params.pop(old) for old, new in named.items() if old in params}
    return {"ENGINE": "django.db.backends.postgresql", "CONN_MAX_AGE": 0, **settings, "OPTIONS": params}


# Without DATABASE_URL, Django's dummy backend says "improperly configured" on first use:
# run `DATABASE_URL="$(bench db url)" python project/manage.py ...`.
_URL = os.environ.get("DATABASE_URL")
DATABASES = {"default": _database(_URL) if _URL else {}}

LOGGING = {"version": 1, "disable_existing_loggers": False}
