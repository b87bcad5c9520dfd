"""Opening the workbook: an .xlsx file read as a stream (memory bounded by a row, not the file), or a
folder with one CSV file per sheet. Formulas are never evaluated: a formula or an error value in a cell is
handed on as `Unreadable`, for the importer to refuse."""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext

# A workbook's parts may unpack to at most this many bytes (a "zip bomb" is refused before it is read).
MAX_UNPACKED_BYTES = 2 * 1024**3


class BadFile(Exception):
    """The file as a whole cannot be read; the message says why and what to do."""


@dataclass(frozen=True)
class Unreadable:
    """A cell holding a formula or an error value: refused, never evaluated."""

    what: str  # "formula" or "error"
    text: str


class Source:
    """One sheet title -> its rows. `rows` yields (row number as the spreadsheet shows it, cells), header first."""

    def titles(self) -> list[str]:
        raise NotImplementedError

    def rows(self, title: str) -> Iterator[tuple[int, list[Any]]]:
        raise NotImplementedError

    def size(self, title: str) -> int:
        """About how many rows the sheet has (for progress), 0 if unknown."""
        return 0

    def close(self) -> None:
        pass


class XlsxSource(Source):
    def __init__(self, path: Path) -> None:
        from openpyxl import load_workbook

        try:
            with zipfile.ZipFile(path) as archive:
                unpacked = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, OSError) as error:
            raise BadFile(not_a_workbook()) from error
        if unpacked > MAX_UNPACKED_BYTES:
            raise BadFile(gettext("This workbook unpacks to more than 2 GB; split it into smaller files."))
        try:
            # read_only streams the rows; data_only=False keeps a formula as a formula (it is refused, not run).
            self.book = load_workbook(path, read_only=True, data_only=False, keep_links=False)
        except Exception as error:  # openpyxl raises many kinds for a damaged or foreign file
            raise BadFile(not_a_workbook()) from error

    def titles(self) -> list[str]:
        return list(self.book.sheetnames)

    def size(self, title: str) -> int:
        return int(self.book[title].max_row or 0)

    def rows(self, title: str) -> Iterator[tuple[int, list[Any]]]:
        for number, row in enumerate(self.book[title].iter_rows(), start=1):
            yield number, [_cell(cell) for cell in row]

    def close(self) -> None:
        self.book.close()


def _cell(cell: Any) -> Any:
    kind = getattr(cell, "data_type", None)
    value = cell.value
    if kind == "f" or (isinstance(value, str) and value.startswith("=") and kind != "s"):
        return Unreadable("formula", str(value))
    if kind == "e":
        return Unreadable("error", str(value))
    if value.__class__.__name__ in ("ArrayFormula", "DataTableFormula"):
        return Unreadable("formula", str(getattr(value, "text", value)))
    return value


class CsvFolderSource(Source):
    def __init__(self, folder: Path) -> None:
        self.files = {path.stem: path for path in sorted(folder.glob("*.csv"))}
        if not self.files:
            raise BadFile(gettext("The folder holds no CSV file: give one file per sheet, such as clusters.csv."))

    def titles(self) -> list[str]:
        return list(self.files)

    def size(self, title: str) -> int:
        with self.files[title].open("rb") as handle:
            return sum(1 for _ in handle)

    def rows(self, title: str) -> Iterator[tuple[int, list[Any]]]:
        try:
            with self.files[title].open(encoding="utf-8-sig", newline="") as handle:
                first = handle.readline()
                handle.seek(0)
                # Excel in a Dutch locale writes ";" between cells; elsewhere ",".
                delimiter = max(";,\t", key=first.count)
                for number, row in enumerate(csv.reader(handle, delimiter=delimiter), start=1):
                    yield number, list(row)
        except UnicodeDecodeError as error:
            raise BadFile(
                gettext("%(file)s is not UTF-8 text: save it as “CSV UTF-8”.") % {"file": self.files[title].name}
            ) from error


def not_a_workbook() -> str:
    return gettext(
        "This file is not an Excel workbook (.xlsx). Save it from the spreadsheet as “Excel workbook (.xlsx)”, "
        "or start from the template."
    )


def open_source(path: Path) -> Source:
    if path.is_dir():
        return CsvFolderSource(path)
    if not path.is_file():
        raise BadFile(gettext("There is no file at %(path)s.") % {"path": path})
    return XlsxSource(path)
