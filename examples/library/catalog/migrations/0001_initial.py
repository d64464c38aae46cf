from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="Author",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=120)),
                ("country", models.CharField(max_length=2)),
                ("joined", models.DateField()),
            ],
        ),
        migrations.CreateModel(
            name="Book",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("title", models.CharField(max_length=200)),
                ("isbn", models.CharField(max_length=20, unique=True)),
                (
                    "genre",
                    models.CharField(
                        choices=[
                            ("fiction", "Fiction"),
                            ("history", "History"),
                            ("science", "Science"),
                            ("poetry", "Poetry"),
                            ("children", "Children"),
                        ],
                        max_length=20,
                    ),
                ),
                ("published", models.DateTimeField()),
                ("pages", models.IntegerField()),
                ("in_print", models.BooleanField()),
                ("edition", models.SmallIntegerField(null=True)),
                (
                    "author",
                    models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="catalog.author"),
                ),
            ],
        ),
    ]
