from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = [("tenants", "0001_initial"), ("peoples", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="JournalEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "entry_type",
                    models.CharField(
                        choices=[
                            ("MOOD_CHECK_IN", "Mood check-in"),
                            ("DAILY_REFLECTION", "Daily reflection"),
                            ("STRESS_LOG", "Stress log"),
                            ("GRATITUDE", "Gratitude"),
                            ("SITE_INSPECTION", "Site inspection"),
                            ("SAFETY_CONCERN", "Safety concern"),
                            ("TRAINING_COMPLETED", "Training completed"),
                            ("PERSONAL_WIN", "Personal win"),
                        ],
                        max_length=50,
                    ),
                ),
                (
                    "privacy_scope",
                    models.CharField(
                        choices=[
                            ("private", "Private"),
                            ("manager", "Manager"),
                            ("team", "Team"),
                            ("aggregate_only", "Aggregate only"),
                            ("shared", "Shared"),
                        ],
                        default="private",
                        max_length=20,
                    ),
                ),
                ("timestamp", models.DateTimeField()),
                ("title", models.CharField(max_length=200)),
                ("content", models.CharField(blank=True, max_length=4000)),
                ("mood_rating", models.SmallIntegerField(null=True)),
                ("stress_level", models.SmallIntegerField(null=True)),
                ("energy_level", models.SmallIntegerField(null=True)),
                ("location_site_name", models.CharField(blank=True, max_length=200)),
                ("is_draft", models.BooleanField(default=False)),
                ("is_deleted", models.BooleanField(default=False)),
                ("created_at", models.DateTimeField()),
                ("updated_at", models.DateTimeField()),
                (
                    "tenant",
                    models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="tenants.tenant"),
                ),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="peoples.people")),
            ],
            options={
                "db_table": "journal_journalentry",
                "indexes": [
                    models.Index(fields=["user", "timestamp"], name="journal_user_ts_idx"),
                    models.Index(fields=["entry_type", "user"], name="journal_type_user_idx"),
                    models.Index(fields=["privacy_scope", "user"], name="journal_scope_user_idx"),
                ],
            },
        ),
    ]
