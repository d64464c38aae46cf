from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = [("tenants", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="People",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("peoplecode", models.CharField(max_length=50)),
                ("peoplename", models.CharField(max_length=120)),
                ("loginid", models.CharField(max_length=50, unique=True)),
                ("email", models.EmailField(max_length=254)),
                ("mobno", models.CharField(max_length=20)),
                (
                    "gender",
                    models.CharField(choices=[("M", "Male"), ("F", "Female"), ("O", "Other")], max_length=1),
                ),
                ("dateofbirth", models.DateField()),
                ("dateofjoin", models.DateField()),
                ("designation", models.CharField(max_length=80)),
                ("department", models.CharField(max_length=80)),
                ("enable", models.BooleanField(default=True)),
                ("isverified", models.BooleanField(default=False)),
                ("created_at", models.DateTimeField()),
                (
                    "tenant",
                    models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="tenants.tenant"),
                ),
            ],
            options={"db_table": "peoples_people"},
        ),
    ]
