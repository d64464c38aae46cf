"""Settings of the project under test: deliberately plain, so what we measure is the app, not the config."""

from __future__ import annotations

import dj_database_url

from project.embedded import default_database_url

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

DATABASES = {"default": dj_database_url.parse(default_database_url(), conn_max_age=0)}

LOGGING = {"version": 1, "disable_existing_loggers": False}
