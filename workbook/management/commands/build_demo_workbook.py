"""`python manage.py build_demo_workbook`: write the bundled demo workbook from funding/data/demo.toml.

The demo history is written through the services (funding.demo.DemoSeeder) inside a transaction, exported,
and the transaction is rolled back: the database is left as it was. Run it after changing the demo data;
a test checks that the bundled workbook is what this command writes."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import translation

from clusterpacts.models import Cluster
from funding.demo import DemoSeeder
from workbook.exporter import export_workbook
from workbook.paths import DEMO_WORKBOOK


class _RollBack(Exception):
    pass


def build_demo_workbook(target: Path) -> dict[str, int]:
    if Cluster.objects.exists():
        raise CommandError("build_demo_workbook needs a database without clusters (it seeds and rolls back).")
    try:
        with transaction.atomic():
            DemoSeeder(password="", log=lambda _line: None).seed_history()
            with translation.override("nl"):
                written = export_workbook(target)
            raise _RollBack
    except _RollBack:
        pass
    return written


class Command(BaseCommand):
    help = "Write workbook/data/demo-history.xlsx from funding/data/demo.toml (the database is left as it was)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, default=DEMO_WORKBOOK)

    def handle(self, *args: Any, **options: Any) -> None:
        written = build_demo_workbook(options["output"])
        self.stdout.write(f"Written {options['output']}: {sum(written.values())} rows.")
