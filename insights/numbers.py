"""Numbers as the pages show them, formatted in Python once per page rather than once per cell.

A template filter (`floatformat`) looks up the active language's separators through the i18n machinery for
every cell it formats; a comparison of many clusters over many years formats thousands of cells. A
`NumberFormat` reads the separators once and then formats each number with string operations only, exactly
as `floatformat:"-2g"` would (`tests/insights/test_numbers.py` compares the two in both languages).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import get_format

HUNDREDTH = Decimal("0.01")


class NumberFormat:
    """`floatformat:"-2g"` in the active language: grouped thousands; two decimals, or none for a whole number;
    "—" for no number."""

    def __init__(self) -> None:
        self.decimal_separator = str(get_format("DECIMAL_SEPARATOR"))
        self.thousand_separator = str(get_format("THOUSAND_SEPARATOR"))
        grouping = get_format("NUMBER_GROUPING")
        self.grouping = grouping if isinstance(grouping, int) else 3

    def __call__(self, value: Decimal | int | float | None, empty: str = "—") -> str:
        if value is None:
            return empty
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        if number == number.to_integral_value():
            whole, decimals = int(number), ""
            negative = whole < 0
            digits = str(abs(whole))
        else:
            rounded = number.quantize(HUNDREDTH, rounding=ROUND_HALF_UP)
            negative = rounded < 0
            digits, decimals = f"{abs(rounded):f}".split(".")
        if self.grouping > 0 and len(digits) > self.grouping:
            step = self.grouping
            head = len(digits) % step or step
            groups = [digits[:head]] + [digits[i : i + step] for i in range(head, len(digits), step)]
            digits = self.thousand_separator.join(groups)
        text = digits + (self.decimal_separator + decimals if decimals else "")
        return "-" + text if negative else text
