"""`python manage.py scan_flags [--as-of YYYY-MM-DD]`: the daily scan, by hand."""

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from core.audit import acting_as, system_user
from funding.services import flags_scan


def iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"--as-of must be a date as YYYY-MM-DD, not {value!r}.") from error


class Command(BaseCommand):
    help = "Raise and resolve flags (renewals, the 10-year cap, missing evaluations, overdue reports)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", type=str, default=None, help="scan as of this day (default: today)")

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = iso_date(options["as_of"]) if options["as_of"] else timezone.localdate()
        with acting_as(system_user()):  # its changes are signed by the system user
            result = flags_scan(as_of=as_of)
        self.stdout.write(
            f"Scan as of {as_of.isoformat()}: {len(result.raised)} raised, {len(result.resolved)} resolved."
        )
        for flag in result.raised:
            self.stdout.write(f"  + {flag.kind:20} {flag.message}")
        for flag in result.resolved:
            self.stdout.write(f"  - {flag.kind:20} {flag.message}")
