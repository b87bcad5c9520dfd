"""Import a programme's history from the workbook (docs/IMPORT.md). Interface; the implementation follows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbook.results import ImportResult, Progress


def import_workbook(
    source: Path,
    *,
    filename: str | None = None,
    user: Any = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the workbook at `source` (an .xlsx file, or a folder of one CSV file per sheet).

    All or nothing: every row goes through the services; with any refused row, or with `dry_run`, nothing
    is kept and the result lists every refusal. `filename` is the name the user knows the file by (recorded
    in the history of every row changed, with `user`); `progress` is called as rows are taken.
    Never raises for a bad file: the file's own problems are refusals on row 0.
    """
    raise NotImplementedError
