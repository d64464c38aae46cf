from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    """The change under test: two indexes swapped for descending-timestamp ones, as the write-up says."""

    dependencies = [("journal", "0015_migrate_to_encrypted_fields")]

    operations = [
        migrations.RemoveIndex(model_name="journalentry", name="journal_user_ts_idx"),
        migrations.RemoveIndex(model_name="journalentry", name="journal_type_user_idx"),
        migrations.AddIndex(
            model_name="journalentry",
            index=models.Index(fields=["user", "-timestamp"], name="journal_user_ts_desc_idx"),
        ),
        migrations.AddIndex(
            model_name="journalentry",
            index=models.Index(fields=["entry_type", "-timestamp"], name="journal_type_ts_desc_idx"),
        ),
    ]
