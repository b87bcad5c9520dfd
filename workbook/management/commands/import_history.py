"""`python manage.py import_history FILE [--dry-run]`: a programme's history from the workbook (docs/IMPORT.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext
from tqdm import tqdm

from workbook.importer import import_workbook
from workbook.results import ImportResult


class Command(BaseCommand):
    help = "Import the history workbook (.xlsx, or a folder of CSV files): all or nothing; --dry-run only checks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the .xlsx file, or a folder with one CSV file per sheet")
        parser.add_argument("--dry-run", action="store_true", help="check every row and report; save nothing")
        parser.add_argument("--user", help="the username the changes are recorded under (default: the system user)")
        parser.add_argument("--language", default=None, help="language of the messages: nl or en (default: nl)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"There is no user {options['user']!r}.")
        with translation.override(options["language"] or "nl"):
            result = self.run(options, user)
            self.report(result)
        if not result.ok:
            raise CommandError(gettext("%(count)s refusal(s): nothing was saved.") % {"count": len(result.errors)})

    def run(self, options: dict[str, Any], user: Any) -> ImportResult:
        bar: tqdm[Any] | None = None
        current = {"sheet": ""}

        def progress(sheet: str, done: int, total: int) -> None:
            nonlocal bar
            if options["no_progress"] or options["verbosity"] == 0:
                return
            if current["sheet"] != sheet:
                if bar is not None:
                    bar.close()
                bar = tqdm(total=total, desc=sheet, unit=" rows", file=self.stderr._out, leave=False)
                current["sheet"] = sheet
            if bar is not None:
                bar.total = max(total, done)
                bar.n = done
                bar.refresh()

        try:
            return import_workbook(
                options["file"],
                filename=options["file"].name,
                user=user,
                dry_run=options["dry_run"],
                progress=progress,
            )
        finally:
            if bar is not None:
                bar.close()

    def report(self, result: ImportResult) -> None:
        # Outside the f-strings, where makemessages finds them.
        sheet_label, row_label, column_label, file_label = (
            gettext("sheet"),
            gettext("row"),
            gettext("column"),
            gettext("file"),
        )
        created_label, updated_label = gettext("created"), gettext("updated")
        unchanged_label, refused_label = gettext("unchanged"), gettext("refused")
        write = self.stdout.write
        write(f"{sheet_label:<18} {created_label:>9} {updated_label:>9} {unchanged_label:>9} {refused_label:>9}")
        for name, counts in result.counts.items():
            write(f"{name:<18} {counts.created:>9} {counts.updated:>9} {counts.unchanged:>9} {counts.refused:>9}")
        for error in result.errors:
            where = ", ".join(
                part
                for part in (
                    error.sheet and f"{sheet_label} {error.sheet}",
                    error.row and f"{row_label} {error.row}",
                    error.column and f"{column_label} {error.column}",
                )
                if part
            )
            self.stderr.write(f"{where or file_label}: {error.message}")
        rows = sum(counts.total for counts in result.counts.values())
        rate = rows / result.seconds if result.seconds else 0
        timing = gettext("%(rows)s rows in %(seconds).1f s (%(rate)d rows/s).") % {
            "rows": rows,
            "seconds": result.seconds,
            "rate": rate,
        }
        if result.applied:
            write(
                self.style.SUCCESS(
                    gettext("Imported: %(changed)s rows created or updated. ") % {"changed": result.changed} + timing
                )
            )
        elif result.ok and result.dry_run:
            write(gettext("Dry run: the file can be imported; nothing was saved. ") + timing)
