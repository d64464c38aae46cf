from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Tenant",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("tenantname", models.CharField(max_length=100)),
                ("subdomain_prefix", models.CharField(max_length=50, unique=True)),
                ("created_at", models.DateTimeField()),
                ("is_active", models.BooleanField(default=True)),
            ],
            options={"db_table": "tenants_tenant"},
        ),
    ]
