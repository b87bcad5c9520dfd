"""Exports of the main tables as CSV and Excel, streamed, scoped and safe to open in a spreadsheet.

With `as_of` (the briefing's links pass its day), a dated table is replayed as of that day, as the briefing
is: only the values of reports submitted by then (official only if accepted by then), the evaluations known
then with the stage they had, the lessons of evaluations completed by then (carried only into a pact signed
by then), the agreements signed and the allocations decided by then (`Dataset.as_of`).

Rows are read with `.iterator()` and written as they come, so a million rows need no more memory
than ten: CSV is streamed to the client; Excel is written by openpyxl's write-only workbook to a
temporary file, then streamed. A text cell that begins with =, +, -, @, a tab or a carriage return
is prefixed with an apostrophe, so no spreadsheet runs it as a formula.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery, Sum

from clusterpacts.api import KpiValueFilter
from clusterpacts.models import Cluster, KpiTarget, KpiValue, ReportEvent, Workflow
from clusterpacts.selectors import end_of_day
from core.api import ScopedFilterSet
from core.spreadsheets import safe_cell
from evaluations.api import EvaluationFilter, LessonFilter
from evaluations.models import Evaluation, EvaluationQuerySet, Lesson
from funding.api import AgreementFilter, AllocationFilter, ProjectFilter
from funding.models import (
    Allocation,
    AllocationQuerySet,
    Project,
    ProjectPartner,
    ProjectQuerySet,
    SupportAgreement,
    SupportAgreementQuerySet,
)
from funding.selectors import agreement_term


@dataclass(frozen=True)
class Dataset:
    name: str
    columns: list[str]
    queryset: Callable[[Any], QuerySet]  # user -> scoped queryset, filtered by the request later
    row: Callable[[Any, date | None], list[Any]]  # (object, as_of or None) -> cells
    filterset: type[ScopedFilterSet]  # the API's FilterSet for the same rows: exports filter like the lists do
    as_of: Callable[[QuerySet, date], QuerySet]  # the rows there were at the end of a day


def _kpi_values(user: Any) -> QuerySet:
    return (
        KpiValue.objects.for_user(user)
        .select_related("cluster", "kpi", "report")
        .order_by("cluster__name", "year", "kpi__position")
    )


def _kpi_value_row(value: KpiValue, as_of: date | None) -> list[Any]:
    status = value.report.status if as_of is None else value.status_on  # type: ignore[attr-defined]
    return [
        value.cluster.name,
        value.year,
        value.kpi.code,
        value.kpi.name_nl,
        value.kpi.unit,
        value.target,  # type: ignore[attr-defined]  # annotated by kpi_values_with_targets
        value.value,
        status == Workflow.ACCEPTED,
    ]


def _kpi_values_on(values: QuerySet, day: date) -> QuerySet:
    """Each value with its report's status at the end of `day` (its last workflow step by then, as
    `report_status_on` replays it); only those of reports submitted or accepted by then."""
    last_step = ReportEvent.objects.filter(report=OuterRef("report"), at__lte=end_of_day(day)).order_by("-at", "-id")
    return values.annotate(status_on=Subquery(last_step.values("to_status")[:1])).filter(
        status_on__in=(Workflow.SUBMITTED, Workflow.ACCEPTED)
    )


DATASETS: dict[str, Dataset] = {}


def _register(dataset: Dataset) -> None:
    DATASETS[dataset.name] = dataset


def kpi_values_with_targets(user: Any) -> QuerySet:
    from django.db.models import OuterRef, Subquery

    target = KpiTarget.objects.filter(cluster=OuterRef("cluster"), kpi=OuterRef("kpi"), year=OuterRef("year"))
    return _kpi_values(user).annotate(target=Subquery(target.values("value")[:1]))


_register(
    Dataset(
        "kpi-values",
        ["cluster", "year", "kpi", "name", "unit", "target", "value", "official"],
        kpi_values_with_targets,
        _kpi_value_row,
        KpiValueFilter,
        _kpi_values_on,
    )
)


def _agreement_row(agreement: SupportAgreement, _as_of: date | None) -> list[Any]:
    term = agreement_term(agreement)
    return [
        agreement.cluster.name,
        agreement.reference,
        agreement.start_date,
        agreement.end_date,
        term.cap_date,
        agreement.amount,
        agreement.signed_on,
        agreement.predecessor.reference if agreement.predecessor else "",
        term.final_term,
    ]


_register(
    Dataset(
        "agreements",
        [
            "cluster",
            "reference",
            "start_date",
            "end_date",
            "cap_date",
            "amount",
            "signed_on",
            "predecessor",
            "final_term",
        ],
        lambda user: (
            SupportAgreement.objects.for_user(user)
            .select_related("cluster", "predecessor")
            .order_by("cluster__name", "start_date")
        ),
        _agreement_row,
        AgreementFilter,
        lambda agreements, day: cast(SupportAgreementQuerySet, agreements).known_on(day),
    )
)


CENT = Decimal("0.01")


def _with_projects_decided(allocations: QuerySet, day: date | None) -> QuerySet:
    """Each reservation with what was decided against it in projects (by the end of `day`, if given): the
    amount and the number of the projects its cluster leads, decided in its year, inter-cluster ones aside
    (`ProjectQuerySet.against_reservations`, as `funding.selectors.budget_years` counts them). Null for the
    other allocations: the inter-cluster projects are decided against the year's inter-cluster allocations
    together, not one by one (the funding overview shows them per year)."""
    projects = Project.objects.against_reservations().filter(
        lead_cluster=OuterRef("cluster"), decided_on__year=OuterRef("budget_year__year")
    )
    if day is not None:
        projects = projects.known_on(day)
    totals = projects.order_by().values("lead_cluster").annotate(total=Sum("amount"), count=Count("id"))
    return allocations.annotate(
        projects_decided=Subquery(totals.values("total")[:1]),
        projects_count=Subquery(totals.values("count")[:1]),
    )


def _allocation_row(a: Allocation, _as_of: date | None) -> list[Any]:
    reservation = a.purpose == Allocation.Purpose.COMPETITIVENESS
    # In cents, as the amounts are (SQLite gives a sum without its decimals).
    decided = (a.projects_decided or Decimal(0)).quantize(CENT) if reservation else None  # type: ignore[attr-defined]
    return [
        a.budget_year.year,
        a.purpose,
        a.cluster.name if a.cluster is not None else "",
        a.amount,
        a.description,
        a.decided_on,
        decided,
        (a.projects_count or 0) if reservation else None,  # type: ignore[attr-defined]
        a.amount - decided if decided is not None else None,
    ]


_register(
    Dataset(
        "allocations",
        [
            "year",
            "purpose",
            "cluster",
            "amount",
            "description",
            "decided_on",
            "projects_decided",
            "projects",
            "remaining",
        ],
        lambda user: _with_projects_decided(
            Allocation.objects.for_user(user)
            .select_related("budget_year", "cluster")
            .order_by("budget_year__year", "purpose", "id"),
            None,
        ),
        _allocation_row,
        AllocationFilter,
        lambda allocations, day: _with_projects_decided(cast(AllocationQuerySet, allocations).known_on(day), day),
    )
)


def _projects(user: Any) -> QuerySet:
    return (
        Project.objects.for_user(user)
        .select_related("lead_cluster")
        .prefetch_related(
            Prefetch("clusters", queryset=Cluster.objects.only("pk", "name").order_by("name")),
            Prefetch("partners", queryset=ProjectPartner.objects.select_related("organisation")),
        )
        .order_by("decided_on", "reference")
    )


def _project_row(project: Project, as_of: date | None) -> list[Any]:
    """As of a day: the status it had then and the day it took it (`Project.status_on_day`)."""
    status = project.status if as_of is None else project.status_on_day(as_of)
    since = project.status_on if as_of is None else project.status_since_on_day(as_of)
    return [
        project.reference,
        project.title,
        project.type,
        project.lead_cluster.name,
        "; ".join(cluster.name for cluster in project.clusters.all()),
        project.decided_on,
        project.year,
        project.amount,
        project.start_date,
        project.end_date,
        status,
        since,
        "; ".join(f"{partner.organisation.name} ({partner.role})" for partner in project.partners.all()),
    ]


_register(
    Dataset(
        "projects",
        [
            "reference",
            "title",
            "type",
            "lead_cluster",
            "other_clusters",
            "decided_on",
            "year",
            "amount",
            "start_date",
            "end_date",
            "status",
            "status_since",
            "partners",
        ],
        _projects,
        _project_row,
        ProjectFilter,
        lambda projects, day: cast(ProjectQuerySet, projects).known_on(day),
    )
)


def _evaluation_row(e: Evaluation, as_of: date | None) -> list[Any]:
    """As of a day: the stage it had, and only the stage days reached by then."""

    def by_then(day: date | None) -> date | None:
        return day if as_of is None or (day is not None and day <= as_of) else None

    stage = e.stage if as_of is None else e.stage_on(as_of)
    return [
        e.cluster.name,
        e.kind,
        e.title,
        e.period_start,
        e.period_end,
        stage,
        by_then(e.started_on),
        by_then(e.reporting_on),
        by_then(e.completed_on),
        e.conclusion if stage == "completed" else "",
    ]


_register(
    Dataset(
        "evaluations",
        [
            "cluster",
            "kind",
            "title",
            "period_start",
            "period_end",
            "stage",
            "started_on",
            "reporting_on",
            "completed_on",
            "conclusion",
        ],
        lambda user: (
            Evaluation.objects.for_user(user).select_related("cluster").order_by("cluster__name", "period_start")
        ),
        _evaluation_row,
        EvaluationFilter,
        lambda evaluations, day: cast(EvaluationQuerySet, evaluations).known_on(day),
    )
)


def _lesson_row(lesson: Lesson, as_of: date | None) -> list[Any]:
    pact = lesson.carried_into if as_of is None else lesson.carried_into_on(as_of)
    return [
        lesson.evaluation.cluster.name,
        str(lesson.evaluation),
        lesson.kind,
        lesson.text,
        lesson.follow_up,
        lesson.status if as_of is None else lesson.status_on(as_of),
        pact.version if pact else "",
    ]


_register(
    Dataset(
        "lessons",
        ["cluster", "evaluation", "kind", "text", "follow_up", "status", "carried_into_version"],
        lambda user: (
            Lesson.objects.for_user(user)
            .select_related("evaluation__cluster", "carried_into")
            .order_by("evaluation__cluster__name", "id")
        ),
        _lesson_row,
        LessonFilter,
        lambda lessons, day: lessons.filter(evaluation__completed_on__lte=day),
    )
)


def rows(dataset: Dataset, queryset: QuerySet, as_of: date | None = None) -> Iterator[list[Any]]:
    yield dataset.columns
    if as_of is not None:
        queryset = dataset.as_of(queryset, as_of)
    for obj in queryset.iterator(chunk_size=2000):
        yield [safe_cell(value) for value in dataset.row(obj, as_of)]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(dataset: Dataset, queryset: QuerySet, as_of: date | None = None) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so Excel opens the UTF-8 file with the right accents
    for row in rows(dataset, queryset, as_of):
        yield writer.writerow(["" if value is None else value for value in row])


def xlsx_file(dataset: Dataset, queryset: QuerySet, as_of: date | None = None) -> Any:
    """A temporary file holding the workbook; openpyxl's write-only mode keeps memory flat."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(dataset.name[:31])
    for row in rows(dataset, queryset, as_of):
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once streamed
    workbook.save(handle)
    handle.seek(0)
    return handle
