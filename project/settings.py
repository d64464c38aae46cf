"""Settings of the project under test: deliberately plain, so what we measure is the app, not the config.

The database comes from DATABASE_URL only. The harness sets it (`bench db url` prints the harness's
own), so importing these settings never starts a server or touches the network.
"""

from __future__ import annotations

import os

import dj_database_url

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

# Without DATABASE_URL, Django's dummy backend says "improperly configured" on first use:
# run `DATABASE_URL="$(bench db url)" python project/manage.py ...`.
_URL = os.environ.get("DATABASE_URL")
DATABASES = {"default": dj_database_url.parse(_URL, conn_max_age=0) if _URL else {}}

LOGGING = {"version": 1, "disable_existing_loggers": False}
