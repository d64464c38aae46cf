from __future__ import annotations

from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "project.apps.tenants"
    label = "tenants"
    default_auto_field = "django.db.models.BigAutoField"
