"""Exports of the main tables as CSV and Excel, streamed, scoped and safe to open in a spreadsheet.

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
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from clusterpacts.api import KpiValueFilter
from clusterpacts.models import KpiTarget, KpiValue, Workflow
from core.api import ScopedFilterSet
from core.spreadsheets import safe_cell
from evaluations.api import EvaluationFilter, LessonFilter
from evaluations.models import Evaluation, Lesson
from funding.api import AgreementFilter, AllocationFilter
from funding.models import Allocation, SupportAgreement
from funding.selectors import agreement_term


@dataclass(frozen=True)
class Dataset:
    name: str
    columns: list[str]
    queryset: Callable[[Any], QuerySet]  # user -> scoped queryset, filtered by the request later
    row: Callable[[Any], list[Any]]
    filterset: type[ScopedFilterSet]  # the API's FilterSet for the same rows: exports filter like the lists do


def _kpi_values(user: Any) -> QuerySet:
    return (
        KpiValue.objects.for_user(user)
        .select_related("cluster", "kpi", "report")
        .order_by("cluster__name", "year", "kpi__position")
    )


def _kpi_value_row(value: KpiValue) -> list[Any]:
    return [
        value.cluster.name,
        value.year,
        value.kpi.code,
        value.kpi.name_nl,
        value.kpi.unit,
        value.target,  # type: ignore[attr-defined]  # annotated by kpi_values_with_targets
        value.value,
        value.report.status == Workflow.ACCEPTED,
    ]


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
    )
)


def _agreement_row(agreement: SupportAgreement) -> list[Any]:
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
    )
)
_register(
    Dataset(
        "allocations",
        ["year", "purpose", "cluster", "amount", "description", "decided_on"],
        lambda user: (
            Allocation.objects.for_user(user)
            .select_related("budget_year", "cluster")
            .order_by("budget_year__year", "purpose", "id")
        ),
        lambda a: [
            a.budget_year.year,
            a.purpose,
            a.cluster.name if a.cluster_id else "",
            a.amount,
            a.description,
            a.decided_on,
        ],
        AllocationFilter,
    )
)
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
        lambda e: [
            e.cluster.name,
            e.kind,
            e.title,
            e.period_start,
            e.period_end,
            e.stage,
            e.started_on,
            e.reporting_on,
            e.completed_on,
            e.conclusion,
        ],
        EvaluationFilter,
    )
)
_register(
    Dataset(
        "lessons",
        ["cluster", "evaluation", "kind", "text", "follow_up", "status", "carried_into_version"],
        lambda user: (
            Lesson.objects.for_user(user)
            .select_related("evaluation__cluster", "carried_into")
            .order_by("evaluation__cluster__name", "id")
        ),
        lambda lesson: [
            lesson.evaluation.cluster.name,
            str(lesson.evaluation),
            lesson.kind,
            lesson.text,
            lesson.follow_up,
            lesson.status,
            lesson.carried_into.version if lesson.carried_into_id else "",
        ],
        LessonFilter,
    )
)


def rows(dataset: Dataset, queryset: QuerySet) -> Iterator[list[Any]]:
    yield dataset.columns
    for obj in queryset.iterator(chunk_size=2000):
        yield [safe_cell(value) for value in dataset.row(obj)]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(dataset: Dataset, queryset: QuerySet) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so Excel opens the UTF-8 file with the right accents
    for row in rows(dataset, queryset):
        yield writer.writerow(["" if value is None else value for value in row])


def xlsx_file(dataset: Dataset, queryset: QuerySet) -> Any:
    """A temporary file holding the workbook; openpyxl's write-only mode keeps memory flat."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(dataset.name[:31])
    for row in rows(dataset, queryset):
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once streamed
    workbook.save(handle)
    handle.seek(0)
    return handle
