"""`python manage.py export_history FILE`: the portal's record in the workbook format (docs/IMPORT.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import translation

from workbook.exporter import export_workbook


class Command(BaseCommand):
    help = "Export the programme's history to FILE (.xlsx), or to a folder of CSV files (a path without .xlsx)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--language", default=None, help="language of the sheet and column names: nl or en (default: nl)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["language"] or "nl"):
            written = export_workbook(options["file"])
        for sheet, count in written.items():
            self.stdout.write(f"{sheet:<18} {count:>9}")
        self.stdout.write(self.style.SUCCESS(f"Written: {options['file']}"))
