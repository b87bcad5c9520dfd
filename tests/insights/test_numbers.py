"""`NumberFormat` writes a number exactly as the template filter `floatformat:"-2g"` does, in both languages,
with the separators looked up once."""

from decimal import Decimal

import pytest
from django.template.defaultfilters import floatformat
from django.utils import translation

from insights.numbers import NumberFormat

VALUES = [
    Decimal(0),
    Decimal("0.5"),
    Decimal("0.004"),
    Decimal("0.005"),
    Decimal("-0.004"),
    Decimal("12"),
    Decimal("12.00"),
    Decimal("12.5"),
    Decimal("12.345"),
    Decimal("99.995"),
    Decimal("999.999"),
    Decimal("1000"),
    Decimal("1234.5"),
    Decimal("-1234.56"),
    Decimal("1234567.89"),
    Decimal("75000000.00"),
    Decimal("-8000000"),
    12,
    1234567,
    2.5,
]


@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_number_reads_as_floatformat_writes_it(language):
    with translation.override(language):
        number = NumberFormat()
        assert [number(value) for value in VALUES] == [floatformat(value, "-2g") for value in VALUES]


def test_no_number_is_a_dash(english):
    assert NumberFormat()(None) == "—"
    assert NumberFormat()(Decimal("1234.5")) == "1,234.50"
