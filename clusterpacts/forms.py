"""Portal forms. They hold no rules of their own: they call the services and show the services'
messages next to the right field (STYLE.md rule 4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clusterpacts.models import KpiDefinition
from clusterpacts.services import figure_key
from core.forms import errors_to_form
from core.versions import VERSION_FIELD

__all__ = ["errors_to_form"]


def kpi_field_name(kpi: KpiDefinition) -> str:
    # The key under which the services refuse the KPI's figure, so that the message lands on its field.
    return figure_key(kpi)


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
    """A text field (narrative or planned actions) and one number per KPI; what it reads is handed to
    the page's service as `service_arguments()`, whose refusals land on `error_fields` (a model
    field's error on the form field that shows it; a KPI's on its own field, see `kpi_field_name`)."""

    text_field = "narrative"
    text_label = _("Narrative")
    error_fields: dict[str, str | None] = {"year": "narrative", "status": "narrative"}

    def __init__(self, *args: Any, kpis: list[KpiDefinition], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[VERSION_FIELD] = version_field()
        self.fields[self.text_field] = forms.CharField(
            label=self.text_label, required=False, widget=forms.Textarea(attrs={"rows": 8})
        )
        self.kpis = kpis
        for kpi in kpis:
            self.fields[kpi_field_name(kpi)] = kpi_form_field(kpi)

    def figures(self) -> dict[KpiDefinition, Decimal | None]:
        """Each KPI whose field was sent: its number, or None where it was emptied (the figure goes).
        A field not sent at all is left out, so its figure is left alone."""
        return {kpi: self.cleaned_data.get(name) for kpi in self.kpis if (name := kpi_field_name(kpi)) in self.data}

    def service_arguments(self) -> dict[str, Any]:
        return {self.text_field: self.cleaned_data[self.text_field], "figures": self.figures()}


class PlanForm(FiguresForm):
    text_field = "planned_actions"
    text_label = _("Planned actions")
    error_fields = {"year": "planned_actions", "status": "planned_actions"}


class ReportForm(FiguresForm):
    attachment = forms.FileField(
        label=_("Add an attachment (PDF)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
    )
    attachment_title = forms.CharField(label=_("Title of the attachment"), required=False, max_length=200)

    error_fields = {**FiguresForm.error_fields, "file": "attachment"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachment"].help_text = gettext("PDF only, at most %(size)s.") % {"size": max_upload_size()}

    def service_arguments(self) -> dict[str, Any]:
        return {
            **super().service_arguments(),
            "attachment": self.cleaned_data.get("attachment"),
            "attachment_title": self.cleaned_data.get("attachment_title", ""),
        }


def max_upload_size() -> str:
    """The attachment limit as people read it: "10 MB", "0.5 MB"."""
    from django.conf import settings
    from django.utils.formats import number_format

    megabytes = settings.CLUSTERPACTS_ATTACHMENT_MAX_BYTES / (1024 * 1024)
    return f"{number_format(round(megabytes, 1), decimal_pos=0 if megabytes == int(megabytes) else 1)} MB"


def version_field() -> forms.CharField:
    """The version of the plan or report the page was opened at (`core.versions`): a save from a stale
    page is refused instead of overwriting a change made meanwhile."""
    return forms.CharField(required=False, widget=forms.HiddenInput)


class ReviewForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[VERSION_FIELD] = version_field()

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
