"""The Django admin for evaluations, their findings and lessons."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from clusterpacts.models import ClusterPact
from core.admin import NO_MEDIA_LINKS, ServiceAdmin, ServiceInlineFormSet, download_link
from evaluations.models import Evaluation, Finding, Lesson


class FindingInline(admin.TabularInline):
    model = Finding
    formset = ServiceInlineFormSet
    fields = ["criterion", "assessment", "text"]
    extra = 0


class LessonInline(admin.StackedInline):
    model = Lesson
    formset = ServiceInlineFormSet
    fields = [("kind", "status"), "text", "follow_up", "carried_into"]
    extra = 0

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # Offer only signed pact versions; the model checks the cluster and the date.
        if db_field.name == "carried_into":
            kwargs["queryset"] = ClusterPact.objects.exclude(status=ClusterPact.Status.DRAFT).select_related("cluster")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class EvaluationForm(forms.ModelForm):
    class Meta:
        model = Evaluation
        fields = [*Evaluation.RECORDED_FIELDS, "report_file"]
        help_texts = {
            "stage": _("planned → in progress → reporting → completed; never back."),
        }


@admin.register(Evaluation)
class EvaluationAdmin(ServiceAdmin):
    form = EvaluationForm
    list_display = ["cluster", "kind", "title", "period_start", "period_end", "stage", "completed_on", "conclusion"]
    list_filter = ["stage", "kind", "conclusion", "cluster"]
    list_select_related = ["cluster"]
    search_fields = ["cluster__name", "title", "evaluator", "summary"]
    date_hierarchy = "completed_on"
    fieldsets = [
        (None, {"fields": ["cluster", "kind", "title", ("period_start", "period_end"), "evaluator"]}),
        (
            _("Stage"),
            {"fields": ["stage", ("registered_on", "planned_on"), ("started_on", "reporting_on", "completed_on")]},
        ),
        (_("Outcome"), {"fields": ["conclusion", "summary", "report_file", "report_download"]}),
    ]
    readonly_fields = ["report_download"]
    formfield_overrides = NO_MEDIA_LINKS
    inlines = [FindingInline, LessonInline]

    @admin.display(description=_("evaluation report"))
    def report_download(self, obj: Evaluation) -> str:
        if not (obj.pk and obj.report_file):
            return "—"
        return download_link(reverse("evaluations:report-file", args=[obj.pk]), _("download (PDF)"))


@admin.register(Finding)
class FindingAdmin(ServiceAdmin):
    list_display = ["evaluation", "criterion", "assessment"]
    list_filter = ["criterion", "assessment", "evaluation__cluster"]
    list_select_related = ["evaluation__cluster"]
    search_fields = ["text", "evaluation__cluster__name"]


@admin.register(Lesson)
class LessonAdmin(ServiceAdmin):
    list_display = ["short", "kind", "status", "evaluation", "carried_into"]
    list_filter = ["kind", "status", "evaluation__cluster"]
    list_select_related = ["evaluation__cluster", "carried_into__cluster"]
    search_fields = ["text", "follow_up", "evaluation__cluster__name"]
    autocomplete_fields = ["evaluation"]

    @admin.display(description=_("lesson"))
    def short(self, obj: Lesson) -> str:
        return obj.text[:80]
