"""`python manage.py generate_scale_data --clusters 3000 --years 10 --seed 1`: a consistent programme at scale
for the benchmarks (issue 16), written into an empty database (`workbook.scale`)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone, translation

from workbook.scale import ScaleOptions, analyse, default_last_year, generate, held_rows


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Fill an empty database with a consistent programme at scale, for benchmarks: clusters with their "
        "organisations and memberships, pacts, annual plans with targets, annual reports with KPI values and "
        "workflow steps, evaluations and lessons, chains of support agreements, budget years and allocations, "
        "and projects with their partners. Deterministic for a seed and the options; written with bulk "
        "inserts in one transaction, every rule of the portal kept by construction. Scale data has no change "
        "history: no simple_history rows are written. Refused with production settings and on a database "
        "that holds anything but the migrated KPI catalogue and roles."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clusters", type=positive, default=3000, help="number of clusters (default 3000)")
        parser.add_argument(
            "--years", type=positive, default=10, help="working years, ending with the last one (default 10)"
        )
        parser.add_argument("--seed", type=int, default=1, help="the seed of every draw (default 1)")
        parser.add_argument(
            "--last-year",
            type=int,
            default=None,
            help="the last working year (default: last year once 1 December has come, else the year before); "
            "the data stands on 1 December of the year after it, which may not be in the future",
        )
        parser.add_argument(
            "--batch-size", type=positive, default=10_000, help="rows per COPY or INSERT (default 10000)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override("en"):  # an operator's command: English, the tables by their English names
            self.generate(options)

    def generate(self, options: dict[str, Any]) -> None:
        if not settings.CLUSTERPACTS_ALLOW_DEMO_DATA:
            raise CommandError("generate_scale_data refuses to run with production settings.")
        today = timezone.localdate()
        last_year = options["last_year"] or default_last_year(today)
        scale = ScaleOptions(
            clusters=options["clusters"],
            years=options["years"],
            seed=options["seed"],
            last_year=last_year,
            batch_size=options["batch_size"],
        )
        if scale.stands_on > today:
            raise CommandError(
                f"With {last_year} as the last working year the data would stand on {scale.stands_on}, after today "
                f"({today}): give --last-year {default_last_year(today)} or earlier."
            )
        if scale.first_year < 2000:
            raise CommandError(f"The first working year would be {scale.first_year}; the portal holds 2000 onwards.")
        held = held_rows()
        if held:
            listed = ", ".join(
                f"{count} {model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural}"
                for model, count in held
            )
            raise CommandError(
                f"The database already holds {listed}. generate_scale_data fills an empty database only (the "
                "migrated KPI catalogue and roles aside); nothing was written."
            )
        self.stdout.write(
            f"Scale data: {scale.clusters} clusters, working years {scale.first_year}-{scale.last_year}, "
            f"seed {scale.seed}, standing on {scale.stands_on}:"
        )
        started = time.monotonic()
        counts = generate(scale, log=self.stdout.write)
        written = time.monotonic() - started
        analyse()
        self.stdout.write("")
        for name, count in counts.items():
            self.stdout.write(f"  {name:<32} {count:>10,}")
        total = sum(counts.values())
        self.stdout.write(f"  {'total':<32} {total:>10,}")
        seconds = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Written {total:,} rows in {written:.1f} s ({total / max(written, 0.001):,.0f} rows/s); "
                f"{seconds:.1f} s with the statistics."
            )
        )
