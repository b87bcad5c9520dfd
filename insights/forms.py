"""The choices on insights pages: query-string forms, so every view can be bookmarked and shared."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from clusterpacts.models import KpiDefinition


class CompareForm(forms.Form):
    kpi = forms.ModelChoiceField(
        label=_("KPI"), queryset=KpiDefinition.objects.filter(active=True), to_field_name="code", empty_label=None
    )
    year = forms.TypedChoiceField(label=_("Year"), coerce=int)

    def __init__(self, data: Any, *, years: list[int], default_year: int) -> None:
        kpi = KpiDefinition.objects.filter(active=True).order_by("position", "code").first()
        initial = {"kpi": kpi.code if kpi else None, "year": default_year}
        # Missing parameters take their defaults, so the bare address shows a comparison at once.
        super().__init__({**initial, **{k: v for k, v in data.items() if k in initial and v}})
        kpi_field = cast(forms.ModelChoiceField, self.fields["kpi"])
        kpi_field.label_from_instance = lambda obj: f"{obj.code} — {obj.name}"  # type: ignore[method-assign]
        kpi_field.queryset = KpiDefinition.objects.filter(active=True).order_by("position", "code")
        year_field = cast(forms.TypedChoiceField, self.fields["year"])
        year_field.choices = [(year, str(year)) for year in reversed(years)]
