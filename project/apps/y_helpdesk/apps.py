from __future__ import annotations

from django.apps import AppConfig


class YHelpdeskConfig(AppConfig):
    name = "project.apps.y_helpdesk"
    label = "y_helpdesk"
    default_auto_field = "django.db.models.BigAutoField"
