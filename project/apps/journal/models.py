from __future__ import annotations

from django.db import models

from project.apps.peoples.models import People
from project.apps.tenants.models import Tenant


class JournalEntry(models.Model):
    """A wellness journal entry written by a person."""

    class EntryType(models.TextChoices):
        MOOD_CHECK_IN = "MOOD_CHECK_IN", "Mood check-in"
        DAILY_REFLECTION = "DAILY_REFLECTION", "Daily reflection"
        STRESS_LOG = "STRESS_LOG", "Stress log"
        GRATITUDE = "GRATITUDE", "Gratitude"
        SITE_INSPECTION = "SITE_INSPECTION", "Site inspection"
        SAFETY_CONCERN = "SAFETY_CONCERN", "Safety concern"
        TRAINING_COMPLETED = "TRAINING_COMPLETED", "Training completed"
        PERSONAL_WIN = "PERSONAL_WIN", "Personal win"

    class PrivacyScope(models.TextChoices):
        PRIVATE = "private", "Private"
        MANAGER = "manager", "Manager"
        TEAM = "team", "Team"
        AGGREGATE_ONLY = "aggregate_only", "Aggregate only"
        SHARED = "shared", "Shared"

    user = models.ForeignKey(People, on_delete=models.CASCADE)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    entry_type = models.CharField(max_length=50, choices=EntryType.choices)
    privacy_scope = models.CharField(
        max_length=20, choices=PrivacyScope.choices, default=PrivacyScope.PRIVATE
    )
    timestamp = models.DateTimeField()
    title = models.CharField(max_length=200)
    # 0015 moved this to an encrypted column: ciphertext stored as text.
    content = models.TextField(blank=True)
    mood_rating = models.SmallIntegerField(null=True)
    stress_level = models.SmallIntegerField(null=True)
    energy_level = models.SmallIntegerField(null=True)
    location_site_name = models.CharField(max_length=200, blank=True)
    is_draft = models.BooleanField(default=False)
    is_deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "journal_journalentry"
        indexes = [
            # 0016, the change under test, replaced (user, timestamp) and (entry_type, user) with these two:
            models.Index(fields=["user", "-timestamp"], name="journal_user_ts_desc_idx"),
            models.Index(fields=["entry_type", "-timestamp"], name="journal_type_ts_desc_idx"),
            models.Index(fields=["privacy_scope", "user"], name="journal_scope_user_idx"),
        ]

    def __str__(self) -> str:
        return self.title
