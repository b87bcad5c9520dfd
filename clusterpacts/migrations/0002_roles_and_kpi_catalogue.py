"""The three roles as groups, and the default KPI catalogue from data/kpi-catalogue.csv.

The groups' model permissions (for the admin) are kept in step after every migrate by
`clusterpacts.apps.sync_role_permissions`, so that models added later are covered too.
"""

import csv
from pathlib import Path

from django.db import migrations

CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "kpi-catalogue.csv"


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ("VLAIO officer", "Cluster manager", "API reader"):
        Group.objects.get_or_create(name=name)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["VLAIO officer", "API reader", "Cluster manager"]
    ).delete()


def load_catalogue(apps, schema_editor):
    KpiDefinition = apps.get_model("clusterpacts", "KpiDefinition")
    with CATALOGUE.open(encoding="utf-8") as handle:
        for position, row in enumerate(csv.DictReader(handle), start=1):
            KpiDefinition.objects.update_or_create(
                code=row["code"],
                defaults={
                    "name_nl": row["name_nl"],
                    "name_en": row["name_en"],
                    "unit": row["unit"],
                    "category": row["category"],
                    "direction": row["direction"],
                    "source": row["source"],
                    "position": position,
                },
            )


def unload_catalogue(apps, schema_editor):
    with CATALOGUE.open(encoding="utf-8") as handle:
        codes = [row["code"] for row in csv.DictReader(handle)]
    apps.get_model("clusterpacts", "KpiDefinition").objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("clusterpacts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(create_roles, remove_roles),
        migrations.RunPython(load_catalogue, unload_catalogue),
    ]
