"""Export a programme's history to the workbook (docs/IMPORT.md): what `import_workbook` reads, so an
export imported into an empty portal and exported again gives the same workbook, cell for cell.

Rows are read in natural-key order as plain values (no model instances) and written as a stream, so
memory stays bounded by a chunk of rows whatever the size of the programme.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from django.db.models import F
from django.utils import timezone

from clusterpacts.models import (
    AnnualPlan,
    AnnualReport,
    Cluster,
    ClusterPact,
    Commitment,
    KpiTarget,
    KpiValue,
    Membership,
    Organisation,
    ReportEvent,
    format_enterprise_number,
)
from evaluations.models import Evaluation, Finding, Lesson
from funding.models import Allocation, BudgetYear, Project, ProjectPartner, SupportAgreement
from workbook import format as fmt

CHUNK = 2000
Rows = Iterator[list[Any]]


def _number(value: str) -> str:
    return format_enterprise_number(value) if value else ""


def _amount(value: Decimal | None) -> Decimal | int | None:
    """A whole amount as a whole number (8000000, not 8000000.00)."""
    return int(value) if value is not None and value == value.to_integral_value() else value


def clusters() -> Rows:
    for row in (
        Cluster.objects.order_by("slug")
        .values_list(
            "slug",
            "name",
            "kind",
            "domain",
            "legal_entity",
            "enterprise_number",
            "website",
            "recognised_on",
            "started_on",
            "active",
            "description",
        )
        .iterator(CHUNK)
    ):
        row = list(row)
        row[5] = _number(row[5])
        yield row


def organisations() -> Rows:
    query = Organisation.objects.exclude(enterprise_number="").order_by("enterprise_number")
    for number, *rest in query.values_list(
        "enterprise_number", "name", "kind", "website", "founded_on", "ceased_on"
    ).iterator(CHUNK):
        yield [_number(number), *rest]


def memberships() -> Rows:
    query = Membership.objects.exclude(organisation__enterprise_number="").order_by(
        "cluster__slug", "organisation__enterprise_number", "joined_on"
    )
    for slug, number, *rest in query.values_list(
        "cluster__slug", "organisation__enterprise_number", "joined_on", "left_on", "paying"
    ).iterator(CHUNK):
        yield [slug, _number(number), *rest]


def pacts() -> Rows:
    query = ClusterPact.objects.order_by("cluster__slug", "version")
    yield from (
        list(row)
        for row in query.values_list(
            "cluster__slug", "version", "status", "signed_on", "programme_summary", "notes"
        ).iterator(CHUNK)
    )


def commitments() -> Rows:
    query = Commitment.objects.order_by("pact__cluster__slug", "pact__version", "id")
    yield from (
        list(row)
        for row in query.values_list(
            "pact__cluster__slug", "pact__version", "party", "description", "status", "due_on"
        ).iterator(CHUNK)
    )


def plans() -> Rows:
    query = AnnualPlan.objects.order_by("cluster__slug", "year")
    yield from (list(row) for row in query.values_list("cluster__slug", "year", "planned_actions").iterator(CHUNK))


def targets() -> Rows:
    query = KpiTarget.objects.filter(plan__isnull=False).order_by(
        "cluster__slug", "year", "kpi__position", "kpi__code"
    )
    for slug, year, code, value in query.values_list("cluster__slug", "year", "kpi__code", "value").iterator(CHUNK):
        yield [slug, year, code, _amount(value)]


def reports() -> Rows:
    query = AnnualReport.objects.order_by("cluster__slug", "year")
    yield from (list(row) for row in query.values_list("cluster__slug", "year", "narrative", "due_on").iterator(CHUNK))


def values() -> Rows:
    query = KpiValue.objects.order_by("cluster__slug", "year", "kpi__position", "kpi__code")
    for slug, year, code, value in query.values_list("cluster__slug", "year", "kpi__code", "value").iterator(CHUNK):
        yield [slug, year, code, _amount(value)]


def workflow() -> Rows:
    for kind, document in (("plan", "plan"), ("report", "report")):
        query = (
            ReportEvent.objects.filter(**{f"{document}__isnull": False})
            .order_by(f"{document}__cluster__slug", f"{document}__year", "at", "id")
            .values_list(
                f"{document}__cluster__slug",
                f"{document}__year",
                "to_status",
                "at",
                "by__username",
                "by_name",
                "comment",
            )
        )
        current, step = None, 0
        for slug, year, status, at, username, by_name, comment in query.iterator(CHUNK):
            step = step + 1 if current == (slug, year) else 1
            current = (slug, year)
            yield [kind, slug, year, step, status, timezone.localdate(at), username or by_name, comment]


def evaluations() -> Rows:
    query = Evaluation.objects.order_by("cluster__slug", "kind", "period_start")
    yield from (
        list(row)
        for row in query.values_list(
            "cluster__slug",
            "kind",
            "period_start",
            "period_end",
            "title",
            "evaluator",
            "stage",
            "registered_on",
            "planned_on",
            "started_on",
            "reporting_on",
            "completed_on",
            "conclusion",
            "summary",
        ).iterator(CHUNK)
    )


def findings() -> Rows:
    query = Finding.objects.order_by(
        "evaluation__cluster__slug", "evaluation__kind", "evaluation__period_start", "criterion"
    )
    yield from (
        list(row)
        for row in query.values_list(
            "evaluation__cluster__slug",
            "evaluation__kind",
            "evaluation__period_start",
            "criterion",
            "assessment",
            "text",
        ).iterator(CHUNK)
    )


def lessons() -> Rows:
    query = Lesson.objects.order_by(
        "evaluation__cluster__slug", "evaluation__kind", "evaluation__period_start", "kind", "id"
    )
    yield from (
        list(row)
        for row in query.values_list(
            "evaluation__cluster__slug",
            "evaluation__kind",
            "evaluation__period_start",
            "kind",
            "text",
            "follow_up",
            "status",
            "carried_into__version",
        ).iterator(CHUNK)
    )


def agreements() -> Rows:
    query = SupportAgreement.objects.order_by("cluster__slug", "start_date", "reference")
    for row in query.values_list(
        "reference",
        "cluster__slug",
        "start_date",
        "end_date",
        "amount",
        "signed_on",
        "predecessor__reference",
        "notes",
    ).iterator(CHUNK):
        row = list(row)
        row[4] = _amount(row[4])
        yield row


def budget_years() -> Rows:
    for year, envelope, notes in BudgetYear.objects.order_by("year").values_list("year", "envelope", "notes"):
        yield [year, _amount(envelope), notes]


def allocations() -> Rows:
    partners: dict[int, list[str]] = {}
    for pk, slug in Allocation.partners.through.objects.values_list("allocation_id", "cluster__slug"):
        partners.setdefault(pk, []).append(slug)
    query = Allocation.objects.order_by(
        "budget_year__year", "purpose", F("cluster__slug").asc(nulls_first=True), "description", "id"
    )
    for pk, year, purpose, slug, amount, description, decided_on in query.values_list(
        "pk", "budget_year__year", "purpose", "cluster__slug", "amount", "description", "decided_on"
    ).iterator(CHUNK):
        yield [
            year,
            purpose,
            slug or "",
            ", ".join(sorted(partners.get(pk, []))),
            _amount(amount),
            description,
            decided_on,
        ]


def projects() -> Rows:
    others: dict[int, list[str]] = {}
    for pk, slug in Project.clusters.through.objects.values_list("project_id", "cluster__slug"):
        others.setdefault(pk, []).append(slug)
    query = Project.objects.order_by("decided_on", "reference")
    for pk, reference, title, kind, lead, decided_on, amount, start, end, status, status_on in query.values_list(
        "pk",
        "reference",
        "title",
        "type",
        "lead_cluster__slug",
        "decided_on",
        "amount",
        "start_date",
        "end_date",
        "status",
        "status_on",
    ).iterator(CHUNK):
        other = ", ".join(sorted(others.get(pk, [])))
        yield [reference, title, kind, lead, other, decided_on, _amount(amount), start, end, status, status_on]


def project_partners() -> Rows:
    # The lead partner first ("lead" < "partner" < "subcontractor"), then by enterprise number.
    query = (
        ProjectPartner.objects.exclude(organisation__enterprise_number="")
        .order_by("project__decided_on", "project__reference", "role", "organisation__enterprise_number")
        .values_list("project__reference", "organisation__enterprise_number", "role")
    )
    for reference, number, role in query.iterator(CHUNK):
        yield [reference, _number(number), role]


READERS: dict[str, Callable[[], Rows]] = {
    "clusters": clusters,
    "organisations": organisations,
    "memberships": memberships,
    "pacts": pacts,
    "commitments": commitments,
    "plans": plans,
    "targets": targets,
    "reports": reports,
    "values": values,
    "workflow": workflow,
    "evaluations": evaluations,
    "findings": findings,
    "lessons": lessons,
    "agreements": agreements,
    "budget_years": budget_years,
    "allocations": allocations,
    "projects": projects,
    "project_partners": project_partners,
}
assert list(READERS) == [sheet.name for sheet in fmt.SHEETS]  # noqa: S101 - the format and the export agree


def export_workbook(target: Path | BinaryIO, *, empty: bool = False) -> dict[str, int]:
    """Write everything the workbook holds to `target` (.xlsx; a folder path writes one CSV file per sheet),
    headers in the active language. Returns the rows written per sheet. With `empty`: the headers only."""
    sheets = [(sheet, iter(()) if empty else READERS[sheet.name]()) for sheet in fmt.SHEETS]
    if isinstance(target, Path) and (target.is_dir() or not target.suffix):
        return _write_csv(target, sheets)
    return _write_xlsx(target, sheets)


def template_workbook(target: Path | BinaryIO) -> None:
    """Write the empty workbook: every sheet with its headers (in the active language) and no rows."""
    export_workbook(target, empty=True)


def _write_xlsx(target: Path | BinaryIO, sheets: Iterable[tuple[fmt.Sheet, Rows]]) -> dict[str, int]:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    written: dict[str, int] = {}
    bold = Font(bold=True)
    for sheet, rows in sheets:
        page = book.create_sheet(sheet.title())
        header = []
        for column in sheet.columns:
            cell = WriteOnlyCell(page, value=column.header())
            cell.font = bold
            header.append(cell)
        page.append(header)
        count = 0
        for row in rows:
            page.append([_xlsx_cell(page, WriteOnlyCell, value) for value in row])
            count += 1
        written[sheet.name] = count
    book.save(target)
    return written


def _xlsx_cell(page: Any, cell_class: Any, value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.startswith("="):
        cell = cell_class(page, value=value)
        cell.data_type = "s"  # text that looks like a formula stays text
        return cell
    if isinstance(value, date):
        cell = cell_class(page, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return value


def _write_csv(folder: Path, sheets: Iterable[tuple[fmt.Sheet, Rows]]) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for sheet, rows in sheets:
        with (folder / f"{sheet.title()}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([column.header() for column in sheet.columns])
            count = 0
            for row in rows:
                writer.writerow([_csv_cell(value) for value in row])
                count += 1
        written[sheet.name] = count
    return written


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    return value
