from __future__ import annotations

from django.apps import AppConfig


class PeoplesConfig(AppConfig):
    name = "project.apps.peoples"
    label = "peoples"
    default_auto_field = "django.db.models.BigAutoField"
