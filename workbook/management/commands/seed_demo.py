"""`python manage.py seed_demo`: the seven spearhead clusters with demo data, loaded through the history
importer from the bundled workbook (so every `make run` exercises it), and the demo users. Safe to run twice."""

import os
import secrets
import string
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from clusterpacts.models import Cluster
from core.audit import acting_as, system_user
from funding.demo import CLUSTERS, DemoSeeder, demo_usernames
from workbook.importer import import_workbook
from workbook.paths import DEMO_WORKBOOK


class Command(BaseCommand):
    help = "Load the demo clusters, agreements, budgets, evaluations, reports (from the demo workbook) and users."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.CLUSTERPACTS_ALLOW_DEMO_DATA:
            raise CommandError("seed_demo refuses to run with production settings.")
        password = os.environ.get("DEMO_PASSWORD", "")
        generated = False
        usernames = demo_usernames()
        users_exist = get_user_model().objects.filter(username__in=usernames).count() == len(usernames)
        if not password and not users_exist:
            alphabet = string.ascii_letters + string.digits
            password = "".join(secrets.choice(alphabet) for _ in range(14))
            generated = True
        self.stdout.write(f"Demo data, imported from {DEMO_WORKBOOK.name}:")
        with translation.override("en"):
            result = import_workbook(DEMO_WORKBOOK, filename=DEMO_WORKBOOK.name)
        if not result.ok:
            for error in result.errors:
                self.stderr.write(f"{error.sheet} row {error.row} {error.column}: {error.message}")
            raise CommandError("The demo workbook was refused; nothing was loaded.")
        for sheet, counts in result.counts.items():
            self.stdout.write(f"  {sheet:<16} {counts.created:>5} created, {counts.unchanged:>5} unchanged")
        with acting_as(system_user()):  # its changes are signed by the system user
            clusters = list(Cluster.objects.filter(slug__in=[spec.slug for spec in CLUSTERS]))
            DemoSeeder(password=password, log=self.stdout.write).seed_users(clusters)
        self.stdout.write("")
        self.stdout.write("Demo logins (user / password):")
        shown = password if (password and not users_exist) or generated or os.environ.get("DEMO_PASSWORD") else None
        for username in usernames:
            self.stdout.write(f"  {username:28} {shown or '(unchanged: set when the users were created)'}")
        if generated:
            self.stdout.write(self.style.WARNING("The password was generated; set DEMO_PASSWORD to choose one."))
