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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ImproperlyConfigured
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    FilteredRelation,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)

from clusterpacts.api import KpiValueFilter
from clusterpacts.models import AnnualReport, Cluster, KpiValue, Workflow
from clusterpacts.selectors import document_statuses_on
from core.api import ScopedFilterSet
from core.spreadsheets import safe_cell, safe_row
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
    """A table to export: its rows are read either one model instance at a time (`row`, narrowed to a day by
    `as_of`) or, for the tables that run to hundreds of thousands of rows, as plain values (`cells`)."""

    name: str
    columns: list[str]
    queryset: Callable[[Any], QuerySet]  # user -> scoped queryset, filtered by the request later
    row: Callable[[Any, date | None], list[Any]] | None  # (object, as_of or None) -> cells
    filterset: type[ScopedFilterSet]  # the API's FilterSet for the same rows: exports filter like the lists do
    as_of: Callable[[QuerySet, date], QuerySet] | None  # the rows there were at the end of a day
    # (filtered queryset, as_of or None) -> each row's cells, read as values with the joins done in SQL and
    # streamed, as of the day when one is given; instead of `row` and `as_of`.
    cells: Callable[[QuerySet, date | None], Iterator[Sequence[Any]]] | None = None


CHUNK = 2000  # rows per fetch from the database's cursor: what an export holds at once


def _kpi_values(user: Any) -> QuerySet:
    return KpiValue.objects.for_user(user).order_by("cluster__name", "year", "kpi__position")


_KPI_VALUE_CELLS = ("cluster__name", "year", "kpi__code", "kpi__name_nl", "kpi__unit", "target", "value")
_PENDING_OR_OFFICIAL = (Workflow.SUBMITTED, Workflow.ACCEPTED)


def _kpi_value_cells(values: QuerySet, as_of: date | None) -> Iterator[Sequence[Any]]:
    """Cluster, year, KPI code, its Dutch name and unit, target, value and whether it is official (its report
    accepted), read as plain values in one streamed query: the cluster, the KPI, the report and the target
    joined in SQL, not a model instance and a subquery per row.

    As of a day, only the values of reports submitted or accepted by the end of it, official when accepted
    by then: each report's status then is replayed for all of them at once, from its workflow steps
    (`clusterpacts.selectors.document_statuses_on`, one more query), as the briefing replays it."""
    if as_of is None:
        official = ExpressionWrapper(Q(report__status=Workflow.ACCEPTED), output_field=BooleanField())
        yield from values.annotate(official=official).values_list(*_KPI_VALUE_CELLS, "official").iterator(CHUNK)
        return
    status_on = document_statuses_on(AnnualReport, values.order_by().values("report_id"), as_of=as_of)
    for *cells, report_id in values.values_list(*_KPI_VALUE_CELLS, "report_id").iterator(chunk_size=CHUNK):
        status = status_on.get(report_id, Workflow.DRAFT)
        if status in _PENDING_OR_OFFICIAL:
            yield (*cells, status == Workflow.ACCEPTED)


DATASETS: dict[str, Dataset] = {}


def _register(dataset: Dataset) -> None:
    DATASETS[dataset.name] = dataset


def kpi_values_with_targets(user: Any) -> QuerySet:
    """The KPI values `user` may see, each with the target of its cluster, KPI and year (None without one):
    joined, not a subquery per row (a target is unique per cluster, KPI and year, so the join adds no row)."""
    same_target = FilteredRelation(
        "cluster__kpi_targets",
        condition=Q(cluster__kpi_targets__kpi=F("kpi"), cluster__kpi_targets__year=F("year")),
    )
    return _kpi_values(user).annotate(same_target=same_target, target=F("same_target__value"))


_register(
    Dataset(
        "kpi-values",
        ["cluster", "year", "kpi", "name", "unit", "target", "value", "official"],
        kpi_values_with_targets,
        None,
        KpiValueFilter,
        None,
        cells=_kpi_value_cells,
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
    if dataset.cells is not None:
        for cells in dataset.cells(queryset, as_of):
            yield safe_row(cells)
        return
    if dataset.row is None or dataset.as_of is None:
        raise ImproperlyConfigured(f"The {dataset.name} export reads its rows with neither `cells` nor `row`.")
    if as_of is not None:
        queryset = dataset.as_of(queryset, as_of)
    for obj in queryset.iterator(chunk_size=CHUNK):
        yield [safe_cell(value) for value in dataset.row(obj, as_of)]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(dataset: Dataset, queryset: QuerySet, as_of: date | None = None) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so Excel opens the UTF-8 file with the right accents
    for row in rows(dataset, queryset, as_of):
        yield writer.writerow(row)  # None is written as an empty cell


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
