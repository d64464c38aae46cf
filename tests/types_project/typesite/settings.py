"""Settings of the types test project; the harness replaces the database with its own. DATABASE_URL lets
the tests read a seeded database back through the ORM."""

from __future__ import annotations

import os

from psycopg.conninfo import conninfo_to_dict

SECRET_KEY = "tests-only-not-secret"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django.contrib.postgres", "kinds"]
_url = conninfo_to_dict(os.environ.get("DATABASE_URL", "dbname=types"))
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _url.get("dbname", "types"),
        "USER": _url.get("user", ""),
        "HOST": _url.get("host", ""),
        "PORT": _url.get("port", ""),
        "PASSWORD": _url.get("password", ""),
    }
}
