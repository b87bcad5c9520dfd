"""`manage.py restore FOLDER`: a backup made by `manage.py backup`, into the database in DATABASE_URL
and MEDIA_ROOT, then checked against its manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import backup


class Command(BaseCommand):
    help = (
        "Restore a backup folder into the PostgreSQL database in DATABASE_URL and into MEDIA_ROOT, then "
        "check every table's row count and every file's sha256 against the manifest. Refuses a database "
        "that has tables, or media files that would be overwritten, unless --force. See docs/DEPLOYMENT.md (Backups)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path, help="a folder written by `manage.py backup`")
        parser.add_argument(
            "--force",
            action="store_true",
            help="restore over a database that has tables (its tables from the backup are replaced) "
            "and overwrite existing media files",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        folder: Path = options["folder"]
        manifest = backup.read_manifest(folder)
        problems = backup.restore(folder, force=options["force"])
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"The restore of {folder} does NOT match its manifest ({len(problems)} differences).")
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {folder} (backup of {manifest['database']} at {manifest['created_at']}) and verified: "
                f"{len(manifest['tables'])} tables with {rows} rows and {manifest['file_count']} media files "
                "match the manifest."
            )
        )
