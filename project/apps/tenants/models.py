from __future__ import annotations

from django.db import models


class Tenant(models.Model):
    """A client organisation; every other row belongs to one."""

    tenantname = models.CharField(max_length=100)
    subdomain_prefix = models.CharField(max_length=50, unique=True)
    created_at = models.DateTimeField()
    is_active = models.BooleanField(default=True)

    class Meta:
        db_table = "tenants_tenant"

    def __str__(self) -> str:
        return self.tenantname
