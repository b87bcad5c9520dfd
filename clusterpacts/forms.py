"""Portal forms. They hold no rules of their own: they call the services and show the services'
messages next to the right field (STYLE.md rule 4)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clusterpacts.models import KpiDefinition
from core.forms import errors_to_form

__all__ = ["errors_to_form"]


def kpi_field_name(kpi: KpiDefinition) -> str:
    return f"kpi_{kpi.code}"


def kpi_form_field(kpi: KpiDefinition, *, required: bool = False) -> forms.DecimalField:
    unit = kpi.get_unit_display()
    field = forms.DecimalField(
        label=f"{kpi.code} — {kpi.name}",
        required=required,
        max_digits=14,
        decimal_places=2,
        help_text=unit,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    field.kpi = kpi  # type: ignore[attr-defined]
    return field


class FiguresForm(forms.Form):
    """A text field (narrative or planned actions) and one number per KPI."""

    text_field = "narrative"
    text_label = _("Narrative")

    def __init__(self, *args: Any, kpis: list[KpiDefinition], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[self.text_field] = forms.CharField(
            label=self.text_label, required=False, widget=forms.Textarea(attrs={"rows": 8})
        )
        self.kpis = kpis
        for kpi in kpis:
            self.fields[kpi_field_name(kpi)] = kpi_form_field(kpi)

    def figures(self) -> dict[KpiDefinition, Any]:
        return {kpi: self.cleaned_data.get(kpi_field_name(kpi)) for kpi in self.kpis}


class PlanForm(FiguresForm):
    text_field = "planned_actions"
    text_label = _("Planned actions")


class ReportForm(FiguresForm):
    attachment = forms.FileField(
        label=_("Add an attachment (PDF)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
    )
    attachment_title = forms.CharField(label=_("Title of the attachment"), required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachment"].help_text = gettext("PDF only, at most %(size)s.") % {"size": max_upload_size()}


def max_upload_size() -> str:
    """The attachment limit as people read it: "10 MB", "0.5 MB"."""
    from django.conf import settings
    from django.utils.formats import number_format

    megabytes = settings.CLUSTERPACTS_ATTACHMENT_MAX_BYTES / (1024 * 1024)
    return f"{number_format(round(megabytes, 1), decimal_pos=0 if megabytes == int(megabytes) else 1)} MB"


class ReviewForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment for the cluster"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Required when you return the report."),
    )


class BulkAcceptForm(forms.Form):
    # Not required: clean_reports() says what is missing ("Choose at least one report.").
    reports: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        queryset=None, label=_("Reports"), required=False
    )

    def __init__(self, *args: Any, queryset: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reports"].queryset = queryset  # type: ignore[attr-defined]

    def clean_reports(self) -> Any:
        chosen = self.cleaned_data["reports"]
        if not chosen:
            raise ValidationError(gettext("Choose at least one report."))
        return chosen
