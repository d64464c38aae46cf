from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = [("tenants", "0001_initial"), ("peoples", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="Tracking",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("uuid", models.UUIDField()),
                ("deviceid", models.CharField(max_length=55)),
                ("latitude", models.FloatField()),
                ("longitude", models.FloatField()),
                ("accuracy", models.FloatField(null=True)),
                ("speed", models.FloatField(null=True)),
                ("battery_level", models.SmallIntegerField(null=True)),
                ("receiveddate", models.DateTimeField()),
                ("transportmode", models.CharField(max_length=32)),
                (
                    "identifier",
                    models.CharField(
                        choices=[
                            ("NONE", "None"),
                            ("TRACKING", "Tracking"),
                            ("CONVEYANCE", "Conveyance"),
                            ("EXTERNALTOUR", "External tour"),
                            ("INTERNALTOUR", "Internal tour"),
                            ("SITEVISIT", "Site visit"),
                        ],
                        default="NONE",
                        max_length=55,
                    ),
                ),
                ("created_at", models.DateTimeField()),
                (
                    "people",
                    models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="peoples.people"),
                ),
                (
                    "tenant",
                    models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="tenants.tenant"),
                ),
            ],
            options={"db_table": "tracking"},
        ),
    ]
