from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    """The "before" head: the schema as it stood before the change under test."""

    dependencies = [("attendance", "0001_initial")]

    operations = [
        migrations.AddIndex(
            model_name="tracking",
            index=models.Index(fields=["tenant", "created_at"], name="tracking_tenant_created_idx"),
        ),
    ]
