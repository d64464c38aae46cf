from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    """The "before" head: content became an (encrypted) text column; indexes as in 0001."""

    dependencies = [("journal", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="journalentry",
            name="content",
            field=models.TextField(blank=True),
        ),
    ]
