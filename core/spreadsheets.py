"""Text safe to open in a spreadsheet: what the CSV and Excel exports and the import's refusal list share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# A text cell that begins with one of these is prefixed with an apostrophe, so no spreadsheet runs it.
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas in text; numbers and dates pass as they are."""
    if isinstance(value, str) and value.startswith(DANGEROUS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """`safe_cell` of each value, in one call per row rather than one per cell: an export writes hundreds of
    thousands of rows."""
    return ["'" + value if isinstance(value, str) and value.startswith(DANGEROUS) else value for value in values]
