"""Settings of a site that uses django-q2 for its task queue, as its own docs configure it. The harness
replaces the database connection with its own."""

from __future__ import annotations

SECRET_KEY = "example-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django_q"]
MIDDLEWARE: list[str] = []
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "q2site"}}
# The ORM broker, and the pruning the scenarios measure: keep 250 successful results per group.
Q_CLUSTER = {
    "name": "q2site",
    "orm": "default",
    "save_limit": 250,
    "save_limit_per": "group",
    "timeout": 60,
    "retry": 120,
}
