"""The Django admin for VLAIO staff: clusters, members, pacts, plans, reports and KPIs."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clusterpacts import services
from clusterpacts.models import (
    EDITABLE_STATES,
    WORKFLOW_TRANSITIONS,
    AnnualPlan,
    AnnualReport,
    Cluster,
    ClusterManager,
    ClusterPact,
    Commitment,
    KpiDefinition,
    KpiTarget,
    KpiValue,
    Membership,
    Organisation,
    ReportAttachment,
    ReportEvent,
    Workflow,
    check_transition,
    format_enterprise_number,
    normalize_enterprise_number,
    periods_overlap,
)
from core.admin import NO_MEDIA_LINKS, ReadOnlyAdmin, ServiceAdmin, ServiceInlineFormSet, download_link
from core.forms import errors_to_form

# --- clusters and members ------------------------------------------------------------------------


class MembershipFormSet(ServiceInlineFormSet):
    def clean(self) -> None:
        """Rows of one submission may not overlap each other either (the database check sees one at a time)."""
        super().clean()
        rows = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("joined_on")
        ]
        for index, a in enumerate(rows):
            for b in rows[index + 1 :]:
                other = a.get("organisation") or a.get("cluster")
                if (a.get("organisation"), a.get("cluster")) != (b.get("organisation"), b.get("cluster")):
                    continue
                if periods_overlap(a["joined_on"], a.get("left_on"), b["joined_on"], b.get("left_on")):
                    raise ValidationError(
                        gettext("Two memberships of %(organisation)s in this list overlap.") % {"organisation": other}
                    )

    def save_object(self, obj: Membership, form: Any) -> None:
        services.membership_save(membership=obj)


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = MembershipFormSet
    autocomplete_fields = ["organisation"]
    fields = ["organisation", "joined_on", "left_on", "paying"]
    extra = 0
    show_change_link = True


class ClusterManagerInline(admin.TabularInline):
    model = ClusterManager
    formset = ServiceInlineFormSet
    autocomplete_fields = ["user"]
    extra = 0


@admin.register(Cluster)
class ClusterAdmin(ServiceAdmin):
    list_display = ["name", "kind", "domain", "started_on", "members_today", "enterprise_number_display", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "slug", "domain", "enterprise_number"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ClusterManagerInline, MembershipInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Cluster]:
        today = timezone.localdate()
        active = Q(memberships__joined_on__lte=today) & (
            Q(memberships__left_on__isnull=True) | Q(memberships__left_on__gte=today)
        )
        return super().get_queryset(request).annotate(members_now=Count("memberships", filter=active))

    @admin.display(description=_("members today"), ordering="members_now")
    def members_today(self, obj: Cluster) -> int:
        return obj.members_now  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description=_("enterprise number"), ordering="enterprise_number")
    def enterprise_number_display(self, obj: Cluster) -> str:
        return format_enterprise_number(obj.enterprise_number)


class EnterpriseNumberSearchMixin:
    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> Any:
        # Officers paste numbers as 0123.456.749 or BE0123456749; they are stored as ten digits.
        normalized = normalize_enterprise_number(search_term)
        if normalized.isdigit() and len(normalized) == 10:
            return queryset.filter(enterprise_number=normalized), False
        return super().get_search_results(request, queryset, search_term)  # type: ignore[misc]


@admin.register(Organisation)
class OrganisationAdmin(EnterpriseNumberSearchMixin, ServiceAdmin):
    list_display = ["name", "kind", "number", "website"]
    list_filter = ["kind"]
    search_fields = ["name", "enterprise_number"]

    @admin.display(description=_("enterprise number"), ordering="enterprise_number")
    def number(self, obj: Organisation) -> str:
        return format_enterprise_number(obj.enterprise_number)


@admin.register(Membership)
class MembershipAdmin(ServiceAdmin):
    list_display = ["organisation", "cluster", "joined_on", "left_on", "paying"]
    list_filter = ["cluster", "paying", "organisation__kind"]
    list_select_related = ["organisation", "cluster"]
    search_fields = ["organisation__name", "organisation__enterprise_number"]
    autocomplete_fields = ["organisation", "cluster"]
    date_hierarchy = "joined_on"

    def save_object(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        services.membership_save(membership=obj)


@admin.register(ClusterManager)
class ClusterManagerAdmin(ServiceAdmin):
    list_display = ["user", "cluster"]
    list_filter = ["cluster"]
    list_select_related = ["user", "cluster"]
    search_fields = ["user__username", "user__email", "cluster__name"]
    autocomplete_fields = ["user", "cluster"]

    def save_object(self, request: HttpRequest, obj: ClusterManager, form: Any, change: bool) -> None:
        services.cluster_manager_add(user=obj.user, cluster=obj.cluster)


# --- pacts ---------------------------------------------------------------------------------------


class CommitmentInline(admin.TabularInline):
    model = Commitment
    formset = ServiceInlineFormSet
    fields = ["party", "description", "status", "due_on"]
    extra = 0


class PactForm(forms.ModelForm):
    sign = forms.BooleanField(
        label=_("Sign this version"),
        required=False,
        help_text=_("Signs this draft on the signing date; the current signed version becomes superseded."),
    )

    class Meta:
        model = ClusterPact
        fields = ["cluster", "signed_on", "programme_summary", "notes"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("sign"):
            pact = self.instance
            cluster = data.get("cluster") or (pact.cluster if pact.cluster_id else None)
            try:
                services.pact_check_signable(pact=pact, cluster=cluster, signed_on=data.get("signed_on"))
            except ValidationError as error:
                errors_to_form(self, error)
        return data


@admin.register(ClusterPact)
class ClusterPactAdmin(ServiceAdmin):
    form = PactForm
    list_display = ["cluster", "version", "status", "signed_on", "commitment_count"]
    list_filter = ["status", "cluster"]
    list_select_related = ["cluster"]
    search_fields = ["cluster__name", "programme_summary"]
    readonly_fields = ["version", "status"]
    inlines = [CommitmentInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ClusterPact]:
        return super().get_queryset(request).annotate(n_commitments=Count("commitments"))

    @admin.display(description=_("commitments"), ordering="n_commitments")
    def commitment_count(self, obj: ClusterPact) -> int:
        return obj.n_commitments  # type: ignore[attr-defined]  # annotated by get_queryset

    def get_readonly_fields(self, request: HttpRequest, obj: ClusterPact | None = None) -> list[str]:
        if obj and obj.status != ClusterPact.Status.DRAFT:
            return ["cluster", "version", "status", "signed_on"]
        if obj:
            return ["cluster", "version", "status"]
        return ["version", "status"]

    def save_object(self, request: HttpRequest, obj: ClusterPact, form: Any, change: bool) -> None:
        if not change:
            created = services.pact_create(
                cluster=obj.cluster, programme_summary=obj.programme_summary, notes=obj.notes
            )
            obj.pk, obj.version, obj.status = created.pk, created.version, created.status
            obj._state.adding = False
        else:
            services.entity_save(instance=obj)
        if form.cleaned_data.get("sign"):
            signed = services.pact_sign(pact=obj, signed_on=form.cleaned_data["signed_on"])
            obj.status = signed.status


@admin.register(Commitment)
class CommitmentAdmin(ServiceAdmin):
    list_display = ["pact", "party", "status", "due_on", "short"]
    list_filter = ["party", "status", "pact__cluster"]
    list_select_related = ["pact__cluster"]
    search_fields = ["description", "pact__cluster__name"]

    @admin.display(description=_("commitment"))
    def short(self, obj: Commitment) -> str:
        return obj.description[:80]


# --- plans and reports ---------------------------------------------------------------------------


class WorkflowForm(forms.ModelForm):
    """Content fields plus one workflow step; the step is checked by the same rule as everywhere."""

    transition = forms.ChoiceField(label=_("Workflow step"), required=False)
    step_comment = forms.CharField(
        label=_("Comment for this step"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when a report is returned."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.status if self.instance.pk else Workflow.DRAFT
        allowed = WORKFLOW_TRANSITIONS.get(current, set())
        keep = ("", gettext("— keep the status —"))
        # The page offers the allowed steps; any other step posted is refused by check_transition()
        # below, with the message the API and the portal give, not as an unknown choice.
        field = cast(forms.ChoiceField, self.fields["transition"])
        field.choices = [keep, *Workflow.choices]
        field.widget.choices = [keep] + [(value, label) for value, label in Workflow.choices if value in allowed]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        target = data.get("transition")
        if target:
            current = self.instance.status if self.instance.pk else Workflow.DRAFT
            try:
                check_transition(
                    current, target, data.get("step_comment", ""), plan=isinstance(self.instance, AnnualPlan)
                )
            except ValidationError as error:
                messages = error.message_dict
                if "review_comment" in messages:
                    self.add_error("step_comment", messages.pop("review_comment"))
                for field, texts in messages.items():
                    self.add_error("transition" if field == "status" else None, texts)
        return data


class WorkflowAdmin(ServiceAdmin):
    form = WorkflowForm
    list_display = ["cluster", "year", "status", "submitted_at", "reviewed_at"]
    list_filter = ["status", "year", "cluster"]
    list_select_related = ["cluster"]
    search_fields = ["cluster__name"]
    base_readonly = ["status", "submitted_at", "reviewed_at", "review_comment"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj and obj.status not in EDITABLE_STATES:
            content = [f.name for f in self.model._meta.fields if f.name not in ("id",)]
            return list(dict.fromkeys([*self.base_readonly, *content]))
        if obj:
            return [*self.base_readonly, "cluster", "year"]
        return self.base_readonly

    def save_object(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if obj.status in EDITABLE_STATES or not change:
            services.entity_save(instance=obj)
        target = form.cleaned_data.get("transition")
        if target:
            services.document_transition(
                document=obj, to=target, by=request.user, comment=form.cleaned_data.get("step_comment", "")
            )


class FigureInline(admin.TabularInline):
    """Figures and attachments of a plan or report: editable while it is a draft or returned. Deleting
    one is left to its delete service (as on every path), which refuses with its message after that."""

    formset = ServiceInlineFormSet
    fields = ["kpi", "value"]
    extra = 0

    def _editable(self, obj: Any) -> bool:
        return obj is None or obj.status in EDITABLE_STATES

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)


class KpiFigureFormSet(ServiceInlineFormSet):
    def save_object(self, obj: KpiTarget | KpiValue, form: Any) -> None:
        services.kpi_figure_save(figure=obj)


class KpiTargetInline(FigureInline):
    model = KpiTarget
    formset = KpiFigureFormSet


class KpiValueInline(FigureInline):
    model = KpiValue
    formset = KpiFigureFormSet


class AttachmentInline(FigureInline):
    model = ReportAttachment
    fields = ["title", "file", "download"]
    readonly_fields = ["download"]
    formfield_overrides = NO_MEDIA_LINKS

    @admin.display(description=_("download"))
    def download(self, obj: ReportAttachment) -> str:
        return download_link(reverse("clusterpacts:attachment", args=[obj.pk]), _("PDF")) if obj.pk else "—"


class EventActor:
    @admin.display(description=_("by"))
    def actor(self, event: ReportEvent) -> str:
        """The user who took the step, or else the name recorded for a step from before the portal."""
        return event.actor_name or "—"


class EventInline(EventActor, admin.TabularInline):
    model = ReportEvent
    fields = ["at", "from_status", "to_status", "actor", "comment"]
    readonly_fields = fields  # type: ignore[assignment]  # every field, shown, never edited
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReportEvent]:
        return super().get_queryset(request).select_related("by")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AnnualPlan)
class AnnualPlanAdmin(WorkflowAdmin):
    inlines = [KpiTargetInline, EventInline]


@admin.register(AnnualReport)
class AnnualReportAdmin(WorkflowAdmin):
    list_display = ["cluster", "year", "status", "due_on", "overdue", "submitted_at", "reviewed_at"]
    base_readonly = [*WorkflowAdmin.base_readonly, "due_on"]
    inlines = [KpiValueInline, AttachmentInline, EventInline]

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj: AnnualReport) -> bool:
        return obj.is_overdue(timezone.localdate())


@admin.register(KpiDefinition)
class KpiDefinitionAdmin(ServiceAdmin):
    list_display = ["code", "name_nl", "name_en", "unit", "category", "direction", "source", "active"]
    list_filter = ["category", "unit", "source", "direction", "active"]
    search_fields = ["code", "name_nl", "name_en"]
    ordering = ["position", "code"]

    def save_object(self, request: HttpRequest, obj: KpiDefinition, form: Any, change: bool) -> None:
        services.kpi_definition_save(kpi=obj)


class FigureAdmin(ServiceAdmin):
    list_display = ["cluster", "kpi", "year", "value"]
    list_filter = ["year", "kpi__category", "cluster"]
    list_select_related = ["cluster", "kpi"]
    search_fields = ["kpi__code", "kpi__name_nl", "kpi__name_en", "cluster__name"]
    readonly_fields = ["cluster", "year"]
    document_field = ""

    def save_object(self, request: HttpRequest, obj: KpiTarget | KpiValue, form: Any, change: bool) -> None:
        services.kpi_figure_save(figure=obj)

    def _editable(self, obj: Any) -> bool:
        document = getattr(obj, self.document_field, None) if obj else None
        return document is None or document.status in EDITABLE_STATES

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)


@admin.register(KpiTarget)
class KpiTargetAdmin(FigureAdmin):
    document_field = "plan"
    autocomplete_fields = ["plan"]


@admin.register(KpiValue)
class KpiValueAdmin(FigureAdmin):
    list_display = ["cluster", "kpi", "year", "value", "official"]
    document_field = "report"
    autocomplete_fields = ["report"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[KpiValue]:
        return super().get_queryset(request).select_related("report")

    @admin.display(description=_("official"), boolean=True)
    def official(self, obj: KpiValue) -> bool:
        return obj.is_official


@admin.register(ReportEvent)
class ReportEventAdmin(EventActor, ReadOnlyAdmin):
    list_display = ["at", "report", "plan", "from_status", "to_status", "actor"]
    list_filter = ["to_status"]
    list_select_related = ["report__cluster", "plan__cluster", "by"]
    date_hierarchy = "at"
