"""Dates in each language's convention: English day-first like Dutch (config/formats/en/), never the US order."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django import forms
from django.template import Context, Template
from django.utils import translation
from django.utils.formats import date_format

DAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("language", "short", "long"),
    [("en", "02/12/2026", "2 December 2026"), ("nl", "2-12-2026", "2 december 2026")],
)
def test_dates_read_day_month_year_in_both_languages(language, short, long):
    with translation.override(language):
        assert date_format(DAY, "SHORT_DATE_FORMAT") == short
        assert date_format(DAY) == long
        assert (
            Template('{{ d|date:"SHORT_DATE_FORMAT" }}|{{ d|date:"j F Y" }}|{{ d }}').render(Context({"d": DAY}))
            == f"{short}|{long}|{long}"
        )


def test_an_english_date_and_time_is_day_first_on_a_24_hour_clock():
    with translation.override("en"):
        assert date_format(datetime(2026, 12, 2, 14, 30), "SHORT_DATETIME_FORMAT") == "02/12/2026 14:30"


def test_an_english_date_field_reads_a_day_first_date_and_iso():
    with translation.override("en"):
        assert forms.DateField().clean("02/12/2026") == DAY
        assert forms.DateField().clean("2026-12-02") == DAY
