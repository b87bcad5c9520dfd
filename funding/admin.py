"""The Django admin for support agreements, budget years, allocations, projects and flags."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import DecimalField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.forms.models import BaseInlineFormSet, construct_instance
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin, ServiceAdmin, ServiceInlineFormSet
from core.forms import errors_to_form
from funding import services
from funding.models import Allocation, BudgetYear, Flag, Project, ProjectPartner, SupportAgreement, display_eur
from funding.selectors import agreement_term


class SupportAgreementForm(forms.ModelForm):
    """The rules across agreements are the service's own check, run here so that each message shows next to
    its field before anything is saved (the service runs it again, under the cluster's lock, to save)."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not any(name in self.errors for name in ("cluster", "start_date", "end_date", "predecessor")):
            try:
                services.agreement_check(agreement=construct_instance(self, self.instance))
            except ValidationError as error:
                errors_to_form(self, error)
        return data


class RenewalFilter(admin.SimpleListFilter):
    """The renewal list: the agreements that end within the coming months (from today) with no extension
    registered, which the list shows by end of term, the first to end first."""

    title = _("renewal")
    parameter_name = "renewal"
    MONTHS = (6, 12, 18)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            (str(months), _("ends within %(months)d months, not extended") % {"months": months})
            for months in self.MONTHS
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[SupportAgreement]) -> QuerySet[SupportAgreement]:
        if self.value() not in {str(months) for months in self.MONTHS}:
            return queryset
        today = timezone.localdate()
        horizon = today + relativedelta(months=int(self.value() or 0))
        return queryset.filter(end_date__gte=today, end_date__lte=horizon, successor__isnull=True)


@admin.register(SupportAgreement)
class SupportAgreementAdmin(ServiceAdmin):
    form = SupportAgreementForm
    # By end of term, the first to end first: the order in which renewals come up (not by cluster or evaluation).
    ordering = ["end_date", "cluster__name"]
    list_display = [
        "reference",
        "cluster",
        "start_date",
        "end_date",
        "cap_date_display",
        "years_left",
        "final_term",
        "amount",
    ]
    list_filter = [RenewalFilter, "cluster"]
    list_select_related = ["cluster"]
    search_fields = ["reference", "cluster__name"]
    date_hierarchy = "end_date"
    autocomplete_fields = ["predecessor"]
    readonly_fields = ["chain_start", "cap_date_display", "years_left", "final_term"]
    fields = [
        "cluster",
        "reference",
        ("start_date", "end_date"),
        "amount",
        "signed_on",
        "predecessor",
        "notes",
        "chain_start",
        "cap_date_display",
        "years_left",
        "final_term",
    ]

    @admin.display(description=_("cap date (10 years)"))
    def cap_date_display(self, obj: SupportAgreement) -> date | str:
        return agreement_term(obj).cap_date if obj.pk else "—"

    @admin.display(description=_("years left under the cap"))
    def years_left(self, obj: SupportAgreement) -> Decimal | str:
        return agreement_term(obj).years_left_under_cap(timezone.localdate()) if obj.pk else "—"

    @admin.display(description=_("final term"), boolean=True)
    def final_term(self, obj: SupportAgreement) -> bool:
        return bool(obj.pk) and agreement_term(obj).final_term

    def save_object(self, request: HttpRequest, obj: SupportAgreement, form: Any, change: bool) -> None:
        services.agreement_save(agreement=obj)


class AllocationForm(forms.ModelForm):
    class Meta:
        model = Allocation
        fields = ["budget_year", "purpose", "cluster", "partners", "amount", "description", "decided_on"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "partners" in data and data.get("purpose"):
            try:
                Allocation.check_partners(data["purpose"], data["partners"])
            except ValidationError as error:
                errors_to_form(self, error)
        return data


class AllocationFormSet(ServiceInlineFormSet):
    def clean(self) -> None:
        """The rows of one submission together must fit in the envelope, not only one by one."""
        super().clean()
        budget_year = self.instance
        if budget_year.envelope is None:
            return
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if budget_year.pk:
            # Rows are saved one at a time and each must hold when it is saved: a row cannot take the cluster
            # of a reservation another row still holds (a swap would otherwise fail halfway through the save).
            leaving = [f.instance.pk for f in self.deleted_forms if f.instance.pk]
            held = dict(
                budget_year.allocations.exclude(pk__in=leaving)
                .filter(cluster__isnull=False)
                .values_list("cluster_id", "pk")
            )
            for form in kept:
                cluster = form.cleaned_data.get("cluster")
                if cluster is not None and held.get(cluster.pk, form.instance.pk) != form.instance.pk:
                    form.add_error(
                        "cluster",
                        gettext("This cluster already has a competitiveness-programme reservation in this year."),
                    )
        total = sum((f.cleaned_data.get("amount") or Decimal(0) for f in kept), Decimal(0))
        if budget_year.pk:
            listed = [f.instance.pk for f in self.forms if f.instance.pk]
            total += budget_year.allocations.exclude(pk__in=listed).aggregate(t=Sum("amount"))["t"] or Decimal(0)
        if total > budget_year.envelope:
            raise ValidationError(
                gettext("These allocations add up to %(total)s, more than the envelope of %(envelope)s.")
                % {"total": display_eur(total), "envelope": display_eur(budget_year.envelope)}
            )

    def save_object(self, obj: Allocation, form: Any) -> None:
        services.allocation_save(allocation=obj, partners=form.cleaned_data.get("partners", []))

    def save_existing_objects(self, commit: bool = True) -> list[Any]:
        """Django's loop, but rows that free money (deleted, lowered) are saved before rows that take it.

        Each row is checked against the envelope as it is saved; in page order, moving money between the
        rows of a nearly full envelope would pass it halfway through and fail, although the whole fits.
        """
        self.changed_objects = []
        self.deleted_objects = []
        deleted = self.deleted_forms

        def freed_first(form: Any) -> tuple[int, Decimal]:
            if form in deleted:
                return (0, Decimal(0))
            amount = form.cleaned_data.get("amount") or Decimal(0)
            return (1, amount - (form.initial.get("amount") or Decimal(0)))

        saved: list[Any] = []
        for form in sorted(self.initial_forms, key=freed_first):
            obj = form.instance
            if not obj._is_pk_set() or obj._state.adding:
                continue
            if form in deleted:
                self.deleted_objects.append(obj)
                self.delete_existing(obj, commit=commit)
            elif form.has_changed():
                self.changed_objects.append((obj, form.changed_data))
                saved.append(self.save_existing(form, obj, commit=commit))
                if not commit:
                    self.saved_forms.append(form)
        return saved


class AllocationInline(admin.TabularInline):
    model = Allocation
    form = AllocationForm
    formset = AllocationFormSet
    fields = ["purpose", "cluster", "partners", "amount", "description", "decided_on"]
    extra = 0


@admin.register(BudgetYear)
class BudgetYearAdmin(ServiceAdmin):
    list_display = ["year", "envelope_eur", "allocated_eur", "remaining_eur"]
    readonly_fields = ["allocated_eur", "remaining_eur"]
    search_fields = ["year"]
    inlines = [AllocationInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BudgetYear]:
        zero = Value(Decimal(0), output_field=DecimalField(max_digits=14, decimal_places=2))
        return super().get_queryset(request).annotate(allocated_total=Coalesce(Sum("allocations__amount"), zero))

    @admin.display(description=_("envelope"), ordering="envelope")
    def envelope_eur(self, obj: BudgetYear) -> str:
        return display_eur(obj.envelope)

    @admin.display(description=_("allocated"))
    def allocated_eur(self, obj: BudgetYear) -> str:
        return display_eur(obj.allocated)

    @admin.display(description=_("remaining"))
    def remaining_eur(self, obj: BudgetYear) -> str:
        return display_eur(obj.remaining) if obj.envelope is not None else "—"

    def save_object(self, request: HttpRequest, obj: BudgetYear, form: Any, change: bool) -> None:
        services.budget_year_save(budget_year=obj)


@admin.register(Allocation)
class AllocationAdmin(ServiceAdmin):
    form = AllocationForm
    list_display = ["budget_year", "purpose", "cluster", "amount_eur", "description", "decided_on"]
    list_filter = ["budget_year", "purpose", "cluster"]
    list_select_related = ["budget_year", "cluster"]
    search_fields = ["description", "cluster__name"]
    filter_horizontal = ["partners"]

    @admin.display(description=_("amount"), ordering="amount")
    def amount_eur(self, obj: Allocation) -> str:
        return display_eur(obj.amount)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj._history_user = request.user
        # Partners are saved with the allocation by the service, not afterwards by the admin.
        services.allocation_save(allocation=obj, partners=form.cleaned_data.get("partners", []))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


# --- projects ------------------------------------------------------------------------------------


class ProjectForm(forms.ModelForm):
    """The project's fields and its other clusters. The cluster rules are the service's own check, run here so
    that each message shows next to its field before anything is saved; the partners are checked by their
    inline (`ProjectPartnerFormSet`), which holds the rows of the same page. `project_save` checks
    everything again, together, to save."""

    class Meta:
        model = Project
        fields = [
            "reference",
            "title",
            "type",
            "lead_cluster",
            "clusters",
            "decided_on",
            "amount",
            "start_date",
            "end_date",
            "status",
            "status_on",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "status_on" in self.fields:
            # A decided project has its status since its decision day: project_save fills it in.
            self.fields["status_on"].required = False
            self.fields["status_on"].help_text = _(
                "The day the project took its current status. Leave it empty for a decided project: its decision day."
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("status") not in (None, Project.Status.DECIDED) and not data.get("status_on"):
            self.add_error("status_on", self.fields["status_on"].error_messages["required"])
        if "clusters" in data and not any(name in self.errors for name in ("type", "lead_cluster")):
            try:
                # The partners are the inline's to check: none are passed here.
                services.project_check(
                    project=construct_instance(self, self.instance), clusters=list(data["clusters"]), partners=[]
                )
            except ValidationError as error:
                errors_to_form(self, error)
        return data


class ProjectPartnerFormSet(BaseInlineFormSet):
    """The partners on the project's page. They are checked as one list with the project as the page has it
    (`services.project_check`: each organisation once, one lead partner, each existing on the decision day),
    and written by `project_save` together with the project, never row by row: a lead can be handed over
    within one save, and a refusal anywhere on the page saves nothing."""

    def partner_puts(self) -> list[services.PartnerPut]:
        """The partners the page asks for: its filled-in rows not marked for deletion."""
        return [
            services.PartnerPut(
                form.cleaned_data["organisation"], form.cleaned_data.get("role") or ProjectPartner.Role.PARTNER
            )
            for form in self.forms
            if form.cleaned_data.get("organisation") and not form.cleaned_data.get("DELETE")
        ]

    def validate_unique(self) -> None:
        """Each organisation once is a rule of the service (clean() below), said in its words."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return  # a row refused on its own (no organisation, an unknown role): that says it
        try:
            # The project as the page has it (its form was cleaned first); its clusters are the form's to check.
            services.project_check(project=self.instance, clusters=[], partners=self.partner_puts())
        except ValidationError as error:
            messages = error.message_dict.get("partners")
            if messages:
                raise ValidationError(messages) from error

    def save(self, commit: bool = True) -> list[Any]:
        """Write nothing (`ProjectAdmin.save_related` has written the partners through `project_save`); note
        what changed, for the admin's change message."""
        deleted = self.deleted_forms
        self.new_objects = [form.instance for form in self.extra_forms if form not in deleted and form.has_changed()]
        self.changed_objects = [
            (form.instance, form.changed_data)
            for form in self.initial_forms
            if form not in deleted and form.has_changed()
        ]
        self.deleted_objects = [form.instance for form in self.initial_forms if form in deleted]
        return [*self.new_objects, *(instance for instance, _fields in self.changed_objects)]


class ProjectPartnerInline(admin.TabularInline):
    model = ProjectPartner
    formset = ProjectPartnerFormSet
    fields = ["organisation", "role"]
    autocomplete_fields = ["organisation"]
    extra = 1


class DecisionYearFilter(admin.SimpleListFilter):
    """The budget year a project counts in: the year of its decision."""

    title = _("year of decision")
    parameter_name = "year"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        days = Project.objects.dates("decided_on", "year", order="DESC")
        return [(str(day.year), str(day.year)) for day in days]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Project]) -> QuerySet[Project]:
        value = self.value()
        return queryset.filter(decided_on__year=int(value)) if value and value.isdigit() else queryset


@admin.register(Project)
class ProjectAdmin(ServiceAdmin):
    form = ProjectForm
    list_display = ["reference", "title", "type", "lead_cluster", "decided_on", "amount_eur", "status"]
    list_filter = ["type", "status", DecisionYearFilter, "lead_cluster"]
    list_select_related = ["lead_cluster"]
    search_fields = ["reference", "title"]
    date_hierarchy = "decided_on"
    autocomplete_fields = ["lead_cluster", "clusters"]
    fieldsets = [
        (None, {"fields": ["reference", "title", "type", "lead_cluster", "clusters"]}),
        (_("Decision"), {"fields": ["decided_on", "amount", ("start_date", "end_date"), ("status", "status_on")]}),
    ]
    inlines = [ProjectPartnerInline]

    @admin.display(description=_("amount granted"), ordering="amount")
    def amount_eur(self, obj: Project) -> str:
        return display_eur(obj.amount)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Saved in save_related, with its other clusters and its partners, in one call of the service.
        obj._history_user = request.user

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        partners = next((formset for formset in formsets if isinstance(formset, ProjectPartnerFormSet)), None)
        services.project_save(
            project=form.instance,
            clusters=list(form.cleaned_data.get("clusters", [])),
            partners=partners.partner_puts() if partners is not None else None,  # no inline shown: kept
        )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


class OpenFlagFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("open", _("open")), ("resolved", _("resolved"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Flag]) -> QuerySet[Flag]:
        if self.value() == "open":
            return queryset.filter(resolved_on__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_on__isnull=False)
        return queryset


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    """Flags are raised and resolved by the scan only; officers read and filter them here."""

    list_display = ["kind", "cluster", "message", "due_on", "raised_on", "resolved_on", "notified"]
    list_filter = [OpenFlagFilter, "kind", "cluster", "due_on"]
    list_select_related = ["cluster"]
    search_fields = ["message", "cluster__name", "agreement__reference"]
    date_hierarchy = "raised_on"
    fields = Flag.SHOWN_FIELDS

    @admin.display(description=_("officers notified"), boolean=True)
    def notified(self, obj: Flag) -> bool:
        return obj.notified_at is not None
