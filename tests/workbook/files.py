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
