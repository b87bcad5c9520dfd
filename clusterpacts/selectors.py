"""Reads across clusterpacts models (STYLE.md rule 2): overdue reports, figures from memberships."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from clusterpacts.models import (
    AnnualReport,
    Cluster,
    KpiTarget,
    KpiValue,
    Membership,
    Organisation,
    Workflow,
    default_report_due_on,
    membership_active_on,
)


@dataclass(frozen=True)
class OverdueReport:
    """A working year whose report was not submitted by its due date; `report` is None if never started."""

    cluster_id: int
    cluster_name: str
    cluster_slug: str
    year: int
    due_on: date
    report: AnnualReport | None


def overdue_reports(*, as_of: date, clusters: Any = None) -> list[OverdueReport]:
    """Every overdue working year of the active clusters (or of `clusters`), in two queries."""
    clusters = (clusters if clusters is not None else Cluster.objects.all()).filter(
        active=True, started_on__isnull=False
    )
    clusters = list(clusters.values_list("pk", "name", "slug", "started_on"))
    reports = {
        (report.cluster_id, report.year): report
        for report in AnnualReport.objects.filter(cluster_id__in=[pk for pk, *_ in clusters])
    }
    overdue = []
    for cluster_id, name, slug, started_on in clusters:
        for year in range(started_on.year, as_of.year + 1):
            report = reports.get((cluster_id, year))
            due_on = report.due_on if report else default_report_due_on(year)
            if as_of <= due_on or (report and report.status in (Workflow.SUBMITTED, Workflow.ACCEPTED)):
                continue
            overdue.append(OverdueReport(cluster_id, name, slug, year, due_on, report))
    return overdue


@dataclass(frozen=True)
class MembershipFigures:
    members: int
    paying: int
    smes: int

    @property
    def sme_share(self) -> Decimal | None:
        """Percentage of SMEs among the members, to two decimals (None without members)."""
        if not self.members:
            return None
        return (Decimal(self.smes) * 100 / Decimal(self.members)).quantize(Decimal("0.01"))


def membership_figures(*, cluster: Cluster, on: date) -> MembershipFigures:
    """Members, paying members and SMEs of `cluster` on a day: derived, never typed in."""
    return membership_figures_on(cluster=cluster, days=[on])[on]


def membership_figures_on(*, cluster: Cluster, days: list[date]) -> dict[date, MembershipFigures]:
    """The same figures on each of several days (e.g. every year end), in one query."""
    sme = Q(organisation__kind=Organisation.Kind.SME)
    aggregates: dict[str, Count] = {}
    for n, day in enumerate(days):
        active = membership_active_on(day)
        aggregates[f"members_{n}"] = Count("id", filter=active)
        aggregates[f"paying_{n}"] = Count("id", filter=active & Q(paying=True))
        aggregates[f"smes_{n}"] = Count("id", filter=active & sme)
    if not aggregates:
        return {}
    counts = Membership.objects.filter(cluster=cluster).aggregate(**aggregates)
    return {
        day: MembershipFigures(members=counts[f"members_{n}"], paying=counts[f"paying_{n}"], smes=counts[f"smes_{n}"])
        for n, day in enumerate(days)
    }


def derived_kpi_values(*, cluster: Cluster, year: int) -> dict[str, Decimal | None]:
    """The derived KPIs of the catalogue (MEM1 paying members, MEM2 SME share) for a working year:
    at its end, or today while it runs."""
    figures = membership_figures(cluster=cluster, on=min(date(year, 12, 31), timezone.localdate()))
    return {"MEM1": Decimal(figures.paying), "MEM2": figures.sme_share}


def figures_by_kpi(*, cluster: Cluster, year: int) -> dict[str, dict[int, Any]]:
    """Targets of the year, values of the year and of the year before, keyed by KPI id (three queries)."""
    return {
        "target": dict(KpiTarget.objects.filter(cluster=cluster, year=year).values_list("kpi_id", "value")),
        "value": {v.kpi_id: v for v in KpiValue.objects.filter(cluster=cluster, year=year).select_related("report")},
        "last_year": {
            v.kpi_id: v for v in KpiValue.objects.filter(cluster=cluster, year=year - 1).select_related("report")
        },
    }
