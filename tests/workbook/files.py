"""Build small workbooks for tests: {sheet name: [header row, row, ...]} -> an .xlsx file."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

from openpyxl import Workbook


def workbook_bytes(sheets: dict[str, list[list[Any]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    path.write_bytes(workbook_bytes(sheets))
    return path


# One valid cluster, as the smallest import that changes something.
ONE_CLUSTER = {
    "clusters": [
        ["slug", "name", "kind", "enterprise_number", "started_on"],
        ["test-cluster", "Test Cluster", "spearhead", "0403.199.702", "2018-01-01"],
    ]
}
# The same cluster with a wrong check digit: refused on row 2, column enterprise_number.
BAD_CLUSTER = {
    "clusters": [
        ["slug", "name", "kind", "enterprise_number", "started_on"],
        ["test-cluster", "Test Cluster", "spearhead", "0403.199.703", "2018-01-01"],
    ]
}


def wipe_history() -> None:
    """An empty portal: every row the workbook holds is gone (a raw delete: no rule stands in a test's way)."""
    from clusterpacts import models as cp
    from evaluations import models as ev
    from funding import models as fu

    for model in (
        fu.Flag, fu.ProjectPartner, fu.Project.clusters.through, fu.Project, cp.ReportEvent, cp.KpiValue,
        cp.KpiTarget, cp.ReportAttachment, cp.AnnualReport, cp.AnnualPlan,
        ev.Lesson, ev.Finding, ev.Evaluation, fu.Allocation.partners.through, fu.Allocation, fu.BudgetYear,
        fu.SupportAgreement, cp.Commitment, cp.ClusterPact, cp.Membership, cp.Organisation, cp.ClusterManager,
        cp.Cluster,
    ):  # fmt: skip
        model.objects.all()._raw_delete(model.objects.db)


def reimported(tmp_path: Path) -> None:
    """Export the portal's history, empty the portal and import the export: the history then stands in the
    portal with the dates the workbook gave it, as an officer would bring in the years before the portal."""
    from workbook.exporter import export_workbook
    from workbook.importer import import_workbook

    path = tmp_path / "history.xlsx"
    export_workbook(path)
    wipe_history()
    result = import_workbook(path)
    assert result.errors == [], result.errors
    assert result.applied
