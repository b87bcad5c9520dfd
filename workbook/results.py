"""What an import reports: counts per sheet and every refused cell, for the command, the portal and the task."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

# Called as the import goes: (sheet label, rows done in that sheet, rows in that sheet).
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RowError:
    """One refusal, where a person can find it: the sheet as named in the file, the row number as the
    spreadsheet shows it (the header is row 1; 0 for the file as a whole), the column's header ("" for
    the whole row) and what to do about it, in the user's language."""

    sheet: str
    row: int
    column: str
    message: str


@dataclass
class SheetCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + self.refused


@dataclass
class ImportResult:
    filename: str
    dry_run: bool
    # By sheet label (as in the file, or the format's name for a sheet the file lacks), in the order taken.
    counts: dict[str, SheetCounts] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False  # True only when the changes were committed
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def changed(self) -> int:
        return sum(c.created + c.updated for c in self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (kept on an import run for the preview page)."""
        return {
            "filename": self.filename,
            "dry_run": self.dry_run,
            "applied": self.applied,
            "seconds": round(self.seconds, 3),
            "counts": {name: asdict(counts) for name, counts in self.counts.items()},
            "errors": [asdict(error) for error in self.errors],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportResult:
        return cls(
            filename=data["filename"],
            dry_run=data["dry_run"],
            applied=data.get("applied", False),
            seconds=data.get("seconds", 0.0),
            counts={name: SheetCounts(**counts) for name, counts in data["counts"].items()},
            errors=[RowError(**error) for error in data["errors"]],
        )
