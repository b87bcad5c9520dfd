"""Export a programme's history to the workbook (docs/IMPORT.md). Interface; the implementation follows."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO


def export_workbook(target: Path | BinaryIO) -> None:
    """Write everything the workbook holds to `target` (.xlsx; a folder path writes one CSV per sheet)."""
    raise NotImplementedError


def template_workbook(target: Path | BinaryIO) -> None:
    """Write the empty workbook: every sheet with its headers (in the active language) and no rows."""
    raise NotImplementedError
