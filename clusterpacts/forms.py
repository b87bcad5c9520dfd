"""Portal forms. They hold no rules of their own: they call the services and show the services'
messages next to the right field (STYLE.md rule 4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clusterpacts.models import Cluster, KpiDefinition, Workflow
from clusterpacts.services import TARGETS_MISSING, VALUES_MISSING, figure_key
from core.forms import LocalDecimalField, errors_to_form, focus_first_error
from core.versions import VERSION_FIELD

__all__ = ["errors_to_form", "focus_first_error"]


def kpi_field_name(kpi: KpiDefinition) -> str:
    # The key under which the services refuse the KPI's figure, so that the message lands on its field.
    return figure_key(kpi)


def kpi_form_field(kpi: KpiDefinition, *, required: bool = False) -> forms.DecimalField:
    unit = kpi.get_unit_display()
    # In the user's language's notation, read and shown back ("12,5" in Dutch): core.forms.LocalDecimalField.
    field = LocalDecimalField(
        label=f"{kpi.code} — {kpi.name}",
        required=required,
        max_digits=14,
        decimal_places=2,
        help_text=unit,
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

    # What a missing figure says on its KPI's field, by the code of the service's refusal.
    missing_messages = {
        TARGETS_MISSING: _("Give a target for this KPI before you submit."),
        VALUES_MISSING: _("Give a value for this KPI before you submit."),
    }

    def figures(self) -> dict[KpiDefinition, Decimal | None]:
        """Each KPI whose field was sent and read: its number, or None where it was emptied (the figure
        goes). A field not sent at all, or that could not be read, is left out: its figure is left alone."""
        return {
            kpi: self.cleaned_data.get(name)
            for kpi in self.kpis
            if (name := kpi_field_name(kpi)) in self.data and name not in self.errors
        }

    def service_arguments(self) -> dict[str, Any]:
        return {self.text_field: self.cleaned_data.get(self.text_field, ""), "figures": self.figures()}

    def add_service_errors(self, error: ValidationError) -> None:
        """A service's refusal on the form: each message on its field (`error_fields`), in the service's
        words; a submission's missing figures also on each missing KPI's own field, so that the summary
        links to each. A field that already says what is wrong with it gets no second message."""
        if not hasattr(error, "error_dict"):
            errors_to_form(self, error)
            return
        for key, errors in error.error_dict.items():
            name = self.error_fields.get(key, key)
            if name in self.fields and name in self.errors:
                continue
            self.add_error(name if name in self.fields else None, [m for e in errors for m in e.messages])
        for item in error.error_dict.get(NON_FIELD_ERRORS, []):
            if item.code in self.missing_messages:
                self._mark_missing(item)

    def _mark_missing(self, refusal: ValidationError) -> None:
        by_code = {kpi.code: kpi_field_name(kpi) for kpi in self.kpis}
        for code in (refusal.params or {}).get("missing") or []:
            name = by_code.get(code)
            if name is not None and name not in self.errors:
                self.add_error(name, str(self.missing_messages[str(refusal.code)]))


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
    def __init__(self, *args: Any, plan: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[VERSION_FIELD] = version_field()
        if plan:
            self.fields["comment"].help_text = _("Required when you return the plan.")

    comment = forms.CharField(
        label=_("Comment for the cluster"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Required when you return the report."),
    )


# The review queue's filters: what an officer may narrow it to (GET parameters).
KIND_PLAN, KIND_REPORT = "plan", "report"
ALL_STATES = "all"


# Up to this many clusters the review queue offers them in a list to choose from; beyond, the cluster is
# typed (its name or short name): a list of thousands is neither readable nor cheap to draw.
CLUSTER_CHOICES_LIMIT = 100


class ClusterByNameField(forms.ModelChoiceField):
    """A cluster of the queryset, chosen from a list or typed: by its short name (slug) or its name, in any
    case."""

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        typed = str(value).strip()
        clusters = self.queryset if self.queryset is not None else Cluster.objects.none()
        found = clusters.filter(slug=typed).first() or clusters.filter(name__iexact=typed).first()
        if found is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return found


class ReviewQueueForm(forms.Form):
    """The review queue's filters: kind, cluster, year and state; without a state, what waits for review."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("Plans and reports")), (KIND_PLAN, _("Annual plans")), (KIND_REPORT, _("Annual reports"))],
    )
    cluster = ClusterByNameField(
        label=_("Cluster"),
        required=False,
        queryset=Cluster.objects.none(),
        to_field_name="slug",
        empty_label=_("All clusters"),
    )
    year = forms.IntegerField(label=_("Year"), required=False, min_value=2000, max_value=2100)
    state = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            (Workflow.SUBMITTED, _("Waiting for review")),
            (Workflow.RETURNED, _("Returned, waiting for the cluster")),
            (Workflow.ACCEPTED, _("Accepted")),
            (Workflow.DRAFT, _("Draft")),
            (ALL_STATES, _("Every state")),
        ],
    )

    def __init__(self, *args: Any, clusters: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["cluster"]
        field.queryset = clusters  # type: ignore[attr-defined]
        if clusters[CLUSTER_CHOICES_LIMIT : CLUSTER_CHOICES_LIMIT + 1].exists():
            # Many clusters: typed, not listed (the list would be thousands of options).
            field.widget = forms.TextInput(attrs={"type": "search", "autocomplete": "off"})
            field.help_text = _("Its name or short name; empty for all clusters.")
            field.widget.attrs["aria-describedby"] = "id_cluster_help"
        self.fields["year"].widget.attrs.update({"inputmode": "numeric"})

    def filters(self) -> dict[str, Any]:
        """The filters as the selector takes them; an invalid one is left out (the form says why)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else getattr(self, "cleaned_data", {})
        state = data.get("state") or Workflow.SUBMITTED
        return {
            "kind": data.get("kind") or None,
            "cluster": data.get("cluster"),
            "year": data.get("year"),
            "states": None if state == ALL_STATES else [state],
        }


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
