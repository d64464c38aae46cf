from __future__ import annotations

from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    name = "project.apps.attendance"
    label = "attendance"
    default_auto_field = "django.db.models.BigAutoField"
