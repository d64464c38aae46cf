"""Three tables none of which has an integer key from a sequence, one whose only unique column besides
its key is a foreign key, and a multi-table child keyed by its parent link."""

from __future__ import annotations

import uuid

from django.db import models


class Ticket(models.Model):
    """Keyed by a varchar the app makes up; a unique slug besides."""

    code = models.CharField(max_length=32, primary_key=True)
    title = models.CharField(max_length=80)
    opened = models.DateTimeField()
    slug = models.SlugField(max_length=40, unique=True)

    class Meta:
        indexes = [models.Index(fields=["-opened"], name="ticket_opened_idx")]

    def __str__(self) -> str:
        return self.code


class Token(models.Model):
    """Keyed by a UUID from Python (no database default); a unique integer without a sequence."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE)
    issued = models.DateTimeField()
    serial = models.BigIntegerField(unique=True)
    payload = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["ticket", "-issued"], name="token_ticket_issued_idx")]

    def __str__(self) -> str:
        return str(self.id)


class Visit(models.Model):
    """A composite key: a ticket and a day."""

    pk = models.CompositePrimaryKey("ticket_id", "day")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE)
    day = models.DateField()
    hits = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["hits"], name="visit_hits_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.day}"


class Badge(models.Model):
    """One per ticket (a OneToOneField): a unique foreign key, so no copy of a row can take a fresh value
    for it; the database's own key."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE)
    label = models.CharField(max_length=40)

    class Meta:
        indexes = [models.Index(fields=["label"], name="badge_label_idx")]

    def __str__(self) -> str:
        return self.label


class Escalation(Ticket):
    """Multi-table inheritance: keyed by its parent link (a varchar foreign key to the ticket); save()
    inserts the ticket's row too."""

    level = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["level"], name="escalation_level_idx")]
