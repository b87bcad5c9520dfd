"""`manage.py backup`: the database (pg_dump, custom format), the media files and a manifest into one folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from core import backup


class Command(BaseCommand):
    help = (
        "Back up the PostgreSQL database in DATABASE_URL and the files in MEDIA_ROOT into a new folder "
        "(default: $BACKUP_DIR/<UTC timestamp>, BACKUP_DIR defaulting to backups/). See docs/DEPLOYMENT.md (Backups)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", type=Path, help="the folder to write (exact path, no timestamp added)")

    def handle(self, *args: Any, **options: Any) -> None:
        folder = options["to"] or backup.default_backup_folder()
        manifest = backup.backup(folder)
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up {manifest['database']} ({len(manifest['tables'])} tables, {rows} rows) "
                f"and {manifest['file_count']} media files to {folder}"
            )
        )
        # The folder alone on the last line, for scripts (e.g. to copy it off the machine).
        self.stdout.write(str(folder))
