"""`python manage.py scan_flags [--as-of YYYY-MM-DD] [--language nl|en]`: the daily scan, by hand, telling
what it did in the language asked (default the site's)."""

from datetime import date
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone, translation
from django.utils.translation import gettext

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
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            default=settings.LANGUAGE_CODE,
            help=f"the language of the output (default: {settings.LANGUAGE_CODE})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = iso_date(options["as_of"]) if options["as_of"] else timezone.localdate()
        with acting_as(system_user()):  # its changes are signed by the system user
            result = flags_scan(as_of=as_of)
        with translation.override(options["language"]):
            self.stdout.write(
                gettext("Scan as of %(day)s: %(raised)d raised, %(resolved)d resolved.")
                % {"day": as_of.isoformat(), "raised": len(result.raised), "resolved": len(result.resolved)}
            )
            for flag in result.raised:
                self.stdout.write(f"  + {flag.kind:20} {flag.text}")
            for flag in result.resolved:
                self.stdout.write(f"  - {flag.kind:20} {flag.text}")
