"""Clusters, their members, pacts, annual plans and reports, and the KPI catalogue.

Models state facts about their own row (STYLE.md rule 3): fields, database constraints and
`clean()`. Every write goes through `clusterpacts.services`, which calls `full_clean()`, so the
admin, the API and the portal share one implementation of each rule.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.roles import User, is_reader, managed_cluster_ids
from core.scoping import RoleScopedQuerySet, ScopedQuerySet

# --- enterprise numbers (KBO/BCE) ---------------------------------------------------------------

_ENTERPRISE_NUMBER_NOISE = re.compile(r"[\s.\-/]")


def normalize_enterprise_number(value: str) -> str:
    """'BE 0123.456.749' -> '0123456749'. Leaves anything unrecognisable for the validator."""
    cleaned = _ENTERPRISE_NUMBER_NOISE.sub("", value or "").upper()
    if cleaned.startswith("BE"):
        cleaned = cleaned[2:]
    return cleaned


def validate_enterprise_number(value: str) -> None:
    number = normalize_enterprise_number(value)
    if not re.fullmatch(r"\d{10}", number):
        raise ValidationError(
            gettext("An enterprise number has 10 digits, such as 0123.456.749; got “%(value)s”.") % {"value": value},
            code="enterprise_number_format",
        )
    if 97 - int(number[:8]) % 97 != int(number[8:]):
        raise ValidationError(
            gettext("%(value)s is not a valid enterprise number: the check digits do not match (mod 97).")
            % {"value": format_enterprise_number(number)},
            code="enterprise_number_checksum",
        )


def format_enterprise_number(number: str) -> str:
    if len(number) != 10:
        return number
    return f"{number[:4]}.{number[4:7]}.{number[7:]}"


class EnterpriseNumberField(models.CharField):
    """Stores the 10 digits only; accepts dots, spaces and a BE prefix on input."""

    default_validators = [validate_enterprise_number]
    input_max_length = 20  # what a form or the API accepts: "BE 0123.456.749"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 10)
        kwargs.setdefault("verbose_name", _("enterprise number"))
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if not value:
            return value
        normalized = normalize_enterprise_number(value)
        # Keep the raw input when it is not even ten digits, so the error can quote it.
        return normalized if re.fullmatch(r"\d{10}", normalized) else value

    def formfield(self, form_class: Any = None, choices_form_class: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("max_length", self.input_max_length)
        field = super().formfield(form_class=form_class, choices_form_class=choices_form_class, **kwargs)
        if isinstance(field, forms.CharField):
            field.max_length = self.input_max_length
        return field


def check_enterprise_number_unique(instance: Any, message: str) -> None:
    """Report a clash on the field itself: Django reports a conditional unique constraint as a
    non-field error (for a cluster only by the constraint's name). The constraint stays the guard."""
    number = instance.enterprise_number
    if number and type(instance)._default_manager.filter(enterprise_number=number).exclude(pk=instance.pk).exists():
        raise ValidationError({"enterprise_number": message})


def periods_overlap(start_a: date, end_a: date | None, start_b: date, end_b: date | None) -> bool:
    """Two periods overlap when each starts before the other ends; an open end runs forever."""
    return (end_b is None or start_a <= end_b) and (end_a is None or start_b <= end_a)


def display_date(value: date) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


# --- clusters, organisations, memberships ---------------------------------------------------------


class Cluster(models.Model):
    class Kind(models.TextChoices):
        SPEARHEAD = "spearhead", _("spearhead cluster")
        BUSINESS_NETWORK = "business_network", _("innovative business network")

    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SPEARHEAD)
    domain = models.CharField(_("domain"), max_length=200, blank=True)
    legal_entity = models.CharField(_("legal entity"), max_length=200, blank=True)
    enterprise_number = EnterpriseNumberField(blank=True)
    website = models.URLField(_("website"), blank=True)
    recognised_on = models.DateField(_("recognised on"), null=True, blank=True)
    started_on = models.DateField(_("started on"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)
    history = HistoricalRecords()

    scope_path = "id"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise_number"],
                condition=~Q(enterprise_number=""),
                name="cluster_enterprise_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        check_enterprise_number_unique(self, gettext("A cluster with this enterprise number already exists."))

    @property
    def enterprise_number_display(self) -> str:
        return format_enterprise_number(self.enterprise_number)


class Organisation(models.Model):
    class Kind(models.TextChoices):
        COMPANY = "company", _("large company")
        SME = "sme", _("SME")
        KNOWLEDGE_INSTITUTION = "knowledge_institution", _("knowledge institution")
        GOVERNMENT = "government", _("government")
        OTHER = "other", _("other")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    enterprise_number = EnterpriseNumberField(blank=True)
    website = models.URLField(_("website"), blank=True)
    history = HistoricalRecords()

    scope_path = "memberships__cluster"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise_number"],
                condition=~Q(enterprise_number=""),
                name="organisation_enterprise_number_unique",
                violation_error_message=_("An organisation with this enterprise number already exists."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        check_enterprise_number_unique(self, gettext("An organisation with this enterprise number already exists."))

    @property
    def is_sme(self) -> bool:
        return self.kind == self.Kind.SME


def membership_active_on(day: date) -> Q:
    """A member counts from the day it joins up to and including the day it leaves."""
    return Q(joined_on__lte=day) & (Q(left_on__isnull=True) | Q(left_on__gte=day))


class MembershipQuerySet(ScopedQuerySet):
    def active_on(self, day: date) -> MembershipQuerySet:
        return self.filter(membership_active_on(day))


class Membership(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("organisation")
    )
    cluster = models.ForeignKey(
        Cluster, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("cluster")
    )
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)
    paying = models.BooleanField(_("paying member"), default=True)
    history = HistoricalRecords()

    scope_path = "cluster"
    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["cluster", "organisation__name", "joined_on"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="membership_left_after_joined",
                violation_error_message=_("A member cannot leave before joining."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} @ {self.cluster}"

    def clean(self) -> None:
        if self.left_on and self.joined_on and self.left_on < self.joined_on:
            raise ValidationError(
                {
                    "left_on": gettext("A member cannot leave (%(left)s) before joining (%(joined)s).")
                    % {"left": display_date(self.left_on), "joined": display_date(self.joined_on)}
                }
            )
        if self.organisation_id and self.cluster_id and self.joined_on:
            overlapping = Membership.objects.filter(
                organisation_id=self.organisation_id, cluster_id=self.cluster_id
            ).exclude(pk=self.pk)
            # Two periods overlap when each starts before the other ends (open ends run forever).
            overlapping = overlapping.filter(Q(left_on__isnull=True) | Q(left_on__gte=self.joined_on))
            if self.left_on:
                overlapping = overlapping.filter(joined_on__lte=self.left_on)
            clash = overlapping.first()
            if clash:
                raise ValidationError(
                    {
                        "joined_on": gettext(
                            "%(organisation)s is already a member of %(cluster)s from %(joined)s; "
                            "memberships of one organisation in one cluster may not overlap."
                        )
                        % {
                            "organisation": self.organisation,
                            "cluster": self.cluster,
                            "joined": display_date(clash.joined_on),
                        }
                    }
                )


class ClusterManager(models.Model):
    """Links a user to a cluster they manage: the whole scope of a cluster manager."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="managed_clusters",
        verbose_name=_("user"),
    )
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="managers", verbose_name=_("cluster"))
    history = HistoricalRecords()

    scope_path = "cluster"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("cluster manager")
        verbose_name_plural = _("cluster managers")
        constraints = [
            models.UniqueConstraint(fields=["user", "cluster"], name="cluster_manager_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.cluster}"


# --- pacts ---------------------------------------------------------------------------------------


class ClusterPact(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SIGNED = "signed", _("signed")
        SUPERSEDED = "superseded", _("superseded")

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="pacts", verbose_name=_("cluster"))
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    programme_summary = models.TextField(_("competitiveness programme"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords()

    scope_path = "cluster"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["cluster", "-version"]
        verbose_name = _("cluster pact")
        verbose_name_plural = _("cluster pacts")
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "version"],
                name="pact_version_unique",
                violation_error_message=_("This cluster already has a pact with this version number."),
            ),
            models.UniqueConstraint(
                fields=["cluster"],
                condition=Q(status="signed"),
                name="pact_one_signed_per_cluster",
                violation_error_message=_(
                    "A cluster has one signed, current pact; sign the new version to supersede it."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(signed_on__isnull=False),
                name="pact_signed_has_date",
                violation_error_message=_("A signed pact needs its signing date."),
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="pact_version_positive"),
        ]

    def __str__(self) -> str:
        return gettext("%(cluster)s pact v%(version)s") % {"cluster": self.cluster, "version": self.version}

    def clean(self) -> None:
        if self.status != self.Status.DRAFT and not self.signed_on:
            raise ValidationError({"signed_on": gettext("A signed pact needs its signing date.")})
        if self.signed_on and self.signed_on > timezone.localdate():
            raise ValidationError({"signed_on": gettext("A pact cannot be signed in the future.")})


class Commitment(models.Model):
    class Party(models.TextChoices):
        CLUSTER_ORGANISATION = "cluster_organisation", _("cluster organisation")
        MEMBERS = "members", _("members")
        GOVERNMENT = "government", _("government")

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        IN_PROGRESS = "in_progress", _("in progress")
        MET = "met", _("met")
        NOT_MET = "not_met", _("not met")

    pact = models.ForeignKey(ClusterPact, on_delete=models.CASCADE, related_name="commitments", verbose_name=_("pact"))
    party = models.CharField(_("party"), max_length=24, choices=Party.choices)
    description = models.TextField(_("commitment"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PLANNED)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    history = HistoricalRecords()

    scope_path = "pact__cluster"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["pact", "party", "id"]
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")

    def __str__(self) -> str:
        return f"{self.get_party_display()}: {self.description[:60]}"


# --- KPI catalogue -------------------------------------------------------------------------------


class KpiDefinition(models.Model):
    class Unit(models.TextChoices):
        COUNT = "count", _("number")
        PERCENT = "percent", _("percent")
        EUR = "eur", _("EUR")
        MEUR = "meur", _("million EUR")
        FTE = "fte", _("FTE")

    class Category(models.TextChoices):
        DIRECT_RESULTS = "direct_results", _("direct results of actions")
        MEMBERSHIP = "membership", _("membership incl. SME reach")
        COMPANY_IMPACT = "company_impact", _("impact on companies")

    class Direction(models.TextChoices):
        HIGHER = "higher", _("higher is better")
        LOWER = "lower", _("lower is better")

    class Source(models.TextChoices):
        DERIVED = "derived", _("derived from memberships")
        REPORTED = "reported", _("reported in the annual report")

    code = models.CharField(_("code"), max_length=20, unique=True)
    name_nl = models.CharField(_("name (Dutch)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.HIGHER)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.REPORTED)
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    history = HistoricalRecords()

    objects = RoleScopedQuerySet.as_manager()

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("KPI")
        verbose_name_plural = _("KPI catalogue")

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"

    @property
    def name(self) -> str:
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "nl").startswith("en") else self.name_nl

    def achievement(self, value: Decimal | None, target: Decimal | None) -> Decimal | None:
        """Percentage of the target reached, by direction (lower is better: target / value), whole."""
        if value is None or not target:
            return None
        if self.direction == self.Direction.LOWER:
            return (Decimal(target) / Decimal(value) * 100).quantize(Decimal(1)) if value else None
        return (Decimal(value) / Decimal(target) * 100).quantize(Decimal(1))

    def check_value(self, value: Decimal | None) -> None:
        """The one implementation of 'percentages within 0-100; counts whole and not negative'."""
        if value is None:
            return
        if self.unit == self.Unit.PERCENT and not (Decimal(0) <= value <= Decimal(100)):
            raise ValidationError(
                gettext("%(kpi)s is a percentage: enter a value from 0 to 100, not %(value)s.")
                % {"kpi": self.code, "value": value},
                code="kpi_percent_range",
            )
        if self.unit == self.Unit.COUNT and (value < 0 or value != value.to_integral_value()):
            raise ValidationError(
                gettext("%(kpi)s is a count: enter a whole number of 0 or more, not %(value)s.")
                % {"kpi": self.code, "value": value},
                code="kpi_count_whole",
            )
        if self.unit in (self.Unit.EUR, self.Unit.MEUR, self.Unit.FTE) and value < 0:
            raise ValidationError(gettext("%(kpi)s cannot be negative.") % {"kpi": self.code}, code="kpi_negative")


# --- annual plans and reports --------------------------------------------------------------------


class Workflow(models.TextChoices):
    DRAFT = "draft", _("draft")
    SUBMITTED = "submitted", _("submitted")
    ACCEPTED = "accepted", _("accepted")
    RETURNED = "returned", _("returned")


# The only transitions the workflow knows: draft -> submitted -> accepted | returned -> submitted.
WORKFLOW_TRANSITIONS: dict[str, set[str]] = {
    Workflow.DRAFT: {Workflow.SUBMITTED},
    Workflow.SUBMITTED: {Workflow.ACCEPTED, Workflow.RETURNED},
    Workflow.RETURNED: {Workflow.SUBMITTED},
    Workflow.ACCEPTED: set(),
}
EDITABLE_STATES = {Workflow.DRAFT, Workflow.RETURNED}


def check_transition(current: str, target: str, comment: str = "") -> None:
    """Raise ValidationError unless `current -> target` is allowed (with a comment when returning)."""
    if target not in Workflow.values:
        raise ValidationError({"status": gettext("Unknown status: %(target)s.") % {"target": target}}, code="invalid")
    if target not in WORKFLOW_TRANSITIONS.get(current, set()):
        raise ValidationError(
            {
                "status": gettext("A document with status “%(current)s” cannot move to “%(target)s”.")
                % {"current": Workflow(current).label, "target": Workflow(target).label}
            },
            code="invalid_transition",
        )
    if target == Workflow.RETURNED and not (comment or "").strip():
        raise ValidationError(
            {"review_comment": gettext("Say why the report is returned: a comment is required.")},
            code="comment_required",
        )


def default_report_due_on(year: int) -> date:
    return date(year + 1, settings.CLUSTERPACTS_REPORT_DUE_MONTH, settings.CLUSTERPACTS_REPORT_DUE_DAY)


class WorkflowDocument(models.Model):
    """What annual plans and reports share: cluster, year and the review workflow."""

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="+", verbose_name=_("cluster"))
    year = models.PositiveIntegerField(_("year"))
    status = models.CharField(_("status"), max_length=10, choices=Workflow.choices, default=Workflow.DRAFT)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)

    scope_path = "cluster"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATES

    def check_not_accepted(self) -> None:
        """An accepted document can no longer change: compare with what is stored."""
        if self.pk is None:
            return
        stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
        if stored == Workflow.ACCEPTED:
            raise ValidationError(gettext("This document was accepted and can no longer be changed."))


class AnnualPlan(WorkflowDocument):
    cluster = models.ForeignKey(
        Cluster, on_delete=models.PROTECT, related_name="annual_plans", verbose_name=_("cluster")
    )
    planned_actions = models.TextField(_("planned actions"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["cluster", "-year"]
        verbose_name = _("annual plan")
        verbose_name_plural = _("annual plans")
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "year"],
                name="annual_plan_unique",
                violation_error_message=_("This cluster already has an annual plan for that year."),
            ),
            models.CheckConstraint(condition=Q(year__gte=2000) & Q(year__lte=2100), name="annual_plan_year_range"),
        ]

    def __str__(self) -> str:
        return gettext("Annual plan %(year)s — %(cluster)s") % {"year": self.year, "cluster": self.cluster}

    def clean(self) -> None:
        self.check_not_accepted()


class AnnualReport(WorkflowDocument):
    cluster = models.ForeignKey(
        Cluster, on_delete=models.PROTECT, related_name="annual_reports", verbose_name=_("cluster")
    )
    year = models.PositiveIntegerField(_("working year"))
    narrative = models.TextField(_("narrative"), blank=True)
    due_on = models.DateField(_("due on"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["cluster", "-year"]
        verbose_name = _("annual report")
        verbose_name_plural = _("annual reports")
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "year"],
                name="annual_report_unique",
                violation_error_message=_("This cluster already has an annual report for that working year."),
            ),
            models.CheckConstraint(condition=Q(year__gte=2000) & Q(year__lte=2100), name="annual_report_year_range"),
            models.CheckConstraint(
                condition=~Q(status="returned") | ~Q(review_comment=""),
                name="annual_report_returned_has_comment",
                violation_error_message=_("Say why the report is returned: a comment is required."),
            ),
        ]

    def __str__(self) -> str:
        return gettext("Annual report %(year)s — %(cluster)s") % {"year": self.year, "cluster": self.cluster}

    def clean(self) -> None:
        self.check_not_accepted()
        if self.year and not 2000 <= self.year <= 2100:
            raise ValidationError({"year": gettext("Enter a working year between 2000 and 2100.")})
        if self.year and self.due_on is None:
            self.due_on = default_report_due_on(self.year)
        if self.year and self.year > timezone.localdate().year:
            raise ValidationError(
                {
                    "year": gettext("Working year %(year)s has not started yet; its report cannot be created.")
                    % {"year": self.year}
                }
            )

    def is_overdue(self, as_of: date) -> bool:
        return self.status in EDITABLE_STATES and as_of > self.due_on


class ReportEventQuerySet(models.QuerySet):
    def for_user(self, user: User) -> ReportEventQuerySet:
        if is_reader(user):
            return self.all()
        ids = managed_cluster_ids(user)
        return self.filter(Q(report__cluster__in=ids) | Q(plan__cluster__in=ids)) if ids else self.none()


class ReportEvent(models.Model):
    """Every workflow step of a plan or report, with who and when: the briefing replays these."""

    report = models.ForeignKey(AnnualReport, on_delete=models.CASCADE, null=True, blank=True, related_name="events")
    plan = models.ForeignKey(AnnualPlan, on_delete=models.CASCADE, null=True, blank=True, related_name="events")
    from_status = models.CharField(_("from"), max_length=10, choices=Workflow.choices)
    to_status = models.CharField(_("to"), max_length=10, choices=Workflow.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    objects = ReportEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("workflow step")
        verbose_name_plural = _("workflow steps")
        constraints = [
            models.CheckConstraint(
                condition=Q(report__isnull=False, plan__isnull=True) | Q(report__isnull=True, plan__isnull=False),
                name="report_event_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report or self.plan}: {self.from_status} → {self.to_status}"


def attachment_path(instance: ReportAttachment, filename: str) -> str:
    return f"reports/{instance.report.cluster.slug}/{instance.report.year}/{filename}"


class ReportAttachment(models.Model):
    report = models.ForeignKey(
        AnnualReport, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("report")
    )
    file = models.FileField(_("file"), upload_to=attachment_path)
    title = models.CharField(_("title"), max_length=200, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    history = HistoricalRecords()

    scope_path = "report__cluster"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["report", "uploaded_at"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.title or self.file.name

    def clean(self) -> None:
        if self.file:
            check_pdf(self.file)


def _megabytes(size: int) -> str:
    megabytes = size / (1024 * 1024)
    return f"{megabytes:.0f} MB" if megabytes == int(megabytes) else f"{megabytes:.1f} MB"


def check_pdf(upload: Any) -> None:
    """PDF only, judged by content (the %PDF- signature), not by name; not empty; size capped."""
    size = getattr(upload, "size", None) or 0
    if size == 0:
        raise ValidationError({"file": gettext("The file is empty.")}, code="empty_file")
    if size > settings.CLUSTERPACTS_ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            {
                "file": gettext("The file is larger than the limit of %(max)s.")
                % {"max": _megabytes(settings.CLUSTERPACTS_ATTACHMENT_MAX_BYTES)}
            },
            code="file_too_large",
        )
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    head = upload.read(1024)
    upload.seek(position)
    if b"%PDF-" not in head:
        raise ValidationError({"file": gettext("Only PDF files can be attached.")}, code="not_pdf")


class KpiFigure(models.Model):
    """What targets and values share: a number for one cluster, KPI and year."""

    kpi = models.ForeignKey(KpiDefinition, on_delete=models.PROTECT, related_name="+", verbose_name=_("KPI"))
    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="+", verbose_name=_("cluster"))
    year = models.PositiveIntegerField(_("year"))
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)

    scope_path = "cluster"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True

    def clean_figure(self, document: WorkflowDocument | None) -> None:
        if self.kpi_id:
            try:
                self.kpi.check_value(self.value)
            except ValidationError as error:
                raise ValidationError({"value": error.messages}) from error
        if document is not None:
            # A figure belongs to its plan or report: cluster and year follow the document.
            if self.cluster_id is None:
                self.cluster_id = document.cluster_id
            if self.year is None:
                self.year = document.year
            if document.cluster_id != self.cluster_id or document.year != self.year:
                raise ValidationError(gettext("The cluster and year must match those of the plan or report."))
            check_figures_editable(document)


def check_figures_editable(document: WorkflowDocument) -> None:
    """A plan's targets and a report's values change (or go) only while it is a draft or returned."""
    stored = type(document).objects.filter(pk=document.pk).values_list("status", flat=True).first()
    if (stored or document.status) not in EDITABLE_STATES:
        raise ValidationError(
            gettext("Figures can only be changed while the plan or report is a draft or returned."),
            code="document_locked",
        )


class KpiTarget(KpiFigure):
    kpi = models.ForeignKey(KpiDefinition, on_delete=models.PROTECT, related_name="targets", verbose_name=_("KPI"))
    cluster = models.ForeignKey(
        Cluster, on_delete=models.PROTECT, related_name="kpi_targets", verbose_name=_("cluster")
    )
    plan = models.ForeignKey(
        AnnualPlan,
        on_delete=models.CASCADE,
        related_name="targets",
        null=True,
        blank=True,
        verbose_name=_("annual plan"),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["cluster", "year", "kpi"]
        verbose_name = _("KPI target")
        verbose_name_plural = _("KPI targets")
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "kpi", "year"],
                name="kpi_target_unique",
                violation_error_message=_("This cluster already has a target for this KPI and year."),
            ),
            models.UniqueConstraint(
                fields=["plan", "kpi"],
                name="kpi_target_once_per_plan",
                violation_error_message=_("This plan already has a target for this KPI."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cluster} {self.kpi.code} {self.year}: {self.value}"

    def clean(self) -> None:
        self.clean_figure(self.plan if self.plan_id else None)


class KpiValue(KpiFigure):
    kpi = models.ForeignKey(KpiDefinition, on_delete=models.PROTECT, related_name="values", verbose_name=_("KPI"))
    cluster = models.ForeignKey(
        Cluster, on_delete=models.PROTECT, related_name="kpi_values", verbose_name=_("cluster")
    )
    report = models.ForeignKey(
        AnnualReport, on_delete=models.CASCADE, related_name="values", verbose_name=_("annual report")
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["cluster", "year", "kpi"]
        verbose_name = _("KPI value")
        verbose_name_plural = _("KPI values")
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "kpi", "year"],
                name="kpi_value_unique",
                violation_error_message=_("This cluster already has a value for this KPI and year."),
            ),
            models.UniqueConstraint(
                fields=["report", "kpi"],
                name="kpi_value_once_per_report",
                violation_error_message=_("This report already has a value for this KPI."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cluster} {self.kpi.code} {self.year}: {self.value}"

    def clean(self) -> None:
        self.clean_figure(self.report if self.report_id else None)

    @property
    def is_official(self) -> bool:
        """Only values of an accepted report are official; submitted ones are pending."""
        return self.report.status == Workflow.ACCEPTED
