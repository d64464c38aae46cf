from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    """The change under test: three indexes on tracking, exactly as the write-up lists them."""

    dependencies = [("attendance", "0030_add_performance_indexes_post_assignment")]

    operations = [
        migrations.AddIndex(
            model_name="tracking",
            index=models.Index(fields=["people", "receiveddate"], name="tracking_people_date_idx"),
        ),
        migrations.AddIndex(
            model_name="tracking",
            index=models.Index(fields=["identifier", "receiveddate"], name="tracking_ident_date_idx"),
        ),
        migrations.AddIndex(
            model_name="tracking",
            index=models.Index(fields=["deviceid"], name="tracking_device_idx"),
        ),
    ]
