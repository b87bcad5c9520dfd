"""Reading one cell of the workbook: dates (ISO or Dutch), amounts (either decimal mark), yes/no, choices.

Each parser takes what the spreadsheet holds (a str from a CSV file or a text cell; a number, date or
Boolean from a typed cell) and returns the Python value, or raises `CellError` with a message a person
can act on. An empty cell is None before it gets here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext


class CellError(ValueError):
    """A cell that cannot be read; its message says what was expected."""


_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_DUTCH_DATE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")


def parse_date(value: Any) -> date:
    """A date cell, `2020-03-31` or `31-03-2020` (also with / or .)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    iso, dutch = _ISO_DATE.fullmatch(text), _DUTCH_DATE.fullmatch(text)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if dutch:
            return date(int(dutch[3]), int(dutch[2]), int(dutch[1]))
    except ValueError:
        pass  # 31-02-2020: the right shape, but no such day
    raise CellError(
        gettext("“%(value)s” is not a date: write it as 2020-03-31 or 31-03-2020.") % {"value": _shown(value)}
    )


_AMOUNT_NOISE = re.compile(r"[\s\u00a0\u202f'€]|EUR", re.IGNORECASE)


def parse_decimal(value: Any) -> Decimal:
    """A number cell, or text with either decimal mark: `1234,5`, `1.234,50`, `1,234.50`, `€ 8.000.000`."""
    if isinstance(value, bool):
        raise CellError(gettext("“%(value)s” is not a number.") % {"value": _shown(value)})
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = _AMOUNT_NOISE.sub("", str(value))
    if "," in text and "." in text:
        # Both marks: the last one is the decimal mark, the other groups thousands.
        thousands = "." if text.rfind(",") > text.rfind(".") else ","
        text = text.replace(thousands, "").replace(",", ".")
    elif "," in text:
        # 1,234,567 groups thousands; 12,5 has the Dutch decimal comma.
        text = text.replace(",", "") if text.count(",") > 1 else text.replace(",", ".")
    elif text.count(".") > 1:
        text = text.replace(".", "")  # 8.000.000
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise CellError(
            gettext("“%(value)s” is not a number: write it as 1234.5 or 1234,5.") % {"value": _shown(value)}
        )
    return number


def parse_int(value: Any) -> int:
    number = parse_decimal(value)
    if number != number.to_integral_value():
        raise CellError(gettext("“%(value)s” is not a whole number.") % {"value": _shown(value)})
    return int(number)


_YES = {"yes", "y", "ja", "j", "true", "waar", "1", "x"}
_NO = {"no", "n", "nee", "false", "onwaar", "0"}


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise CellError(gettext("“%(value)s” is not yes or no: write yes/no or ja/nee.") % {"value": _shown(value)})


def parse_text(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def choice_names(choices: Iterable[tuple[str, Any]]) -> dict[str, str]:
    """Every way a choice may be written (the code, with spaces for underscores, its English and Dutch
    label; lower case) -> its code. Built once per column."""
    from django.utils import translation

    names: dict[str, str] = {}
    for code, label in choices:
        names[str(code).lower()] = names[str(code).replace("_", " ").lower()] = str(code)
        for language in ("en", "nl"):
            with translation.override(language):
                names.setdefault(str(label).lower(), str(code))
    return names


def parse_choice(value: Any, names: dict[str, str]) -> str:
    code = names.get(parse_text(value).lower())
    if code is None:
        options = sorted(set(names.values()))
        raise CellError(
            gettext("“%(value)s” is not one of: %(options)s.")
            % {"value": _shown(value), "options": ", ".join(options)}
        )
    return code


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"
