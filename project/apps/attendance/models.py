from __future__ import annotations

from django.db import models

from project.apps.peoples.models import People
from project.apps.tenants.models import Tenant


class Tracking(models.Model):
    """One GPS fix sent by a person's device. The largest table of the app."""

    class Identifier(models.TextChoices):
        NONE = "NONE", "None"
        TRACKING = "TRACKING", "Tracking"
        CONVEYANCE = "CONVEYANCE", "Conveyance"
        EXTERNALTOUR = "EXTERNALTOUR", "External tour"
        INTERNALTOUR = "INTERNALTOUR", "Internal tour"
        SITEVISIT = "SITEVISIT", "Site visit"

    uuid = models.UUIDField()
    deviceid = models.CharField(max_length=55)
    latitude = models.FloatField()
    longitude = models.FloatField()
    accuracy = models.FloatField(null=True)
    speed = models.FloatField(null=True)
    battery_level = models.SmallIntegerField(null=True)
    receiveddate = models.DateTimeField()
    people = models.ForeignKey(People, on_delete=models.CASCADE)
    transportmode = models.CharField(max_length=32)
    identifier = models.CharField(max_length=55, choices=Identifier.choices, default=Identifier.NONE)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "tracking"
        indexes = [
            models.Index(fields=["tenant", "created_at"], name="tracking_tenant_created_idx"),
            # Added by 0031, the change under test:
            models.Index(fields=["people", "receiveddate"], name="tracking_people_date_idx"),
            models.Index(fields=["identifier", "receiveddate"], name="tracking_ident_date_idx"),
            models.Index(fields=["deviceid"], name="tracking_device_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.deviceid} @ {self.receiveddate:%Y-%m-%d %H:%M}"
