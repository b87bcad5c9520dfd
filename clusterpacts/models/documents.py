"""Annual plans and reports: the review workflow, its steps, and report attachments."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import BaseConstraint, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

from clusterpacts.models.clusters import Cluster, display_date
from core.roles import User, is_reader, managed_cluster_ids
from core.scoping import ScopedQuerySet
from core.uploads import check_pdf as check_uploaded_pdf
from core.uploads import generated_pdf_name

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


def check_transition(current: str, target: str, comment: str = "", *, plan: bool = False) -> None:
    """Raise ValidationError unless `current -> target` is allowed (with a comment when returning);
    `plan`: the document is an annual plan (the message names it)."""
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
        message = (
            gettext("Say why the plan is returned: a comment is required.")
            if plan
            else gettext("Say why the report is returned: a comment is required.")
        )
        raise ValidationError({"review_comment": message}, code="comment_required")


def check_step_date(document: WorkflowDocument, at: datetime, *, previous_at: datetime | None) -> None:
    """Raise ValidationError (on "at") unless a workflow step of `document` may be dated `at`.

    The rule is about the step's day (the local date of `at`): not in the future (today is fine,
    whatever the hour), not before the document's previous step (`previous_at`; the same day is
    fine), and not before the document's window opens (`WorkflowDocument.steps_from`).
    """
    day, today = timezone.localdate(at), timezone.localdate()
    if day > today:
        raise ValidationError(
            {
                "at": gettext("A workflow step cannot be dated in the future: %(day)s is after today (%(today)s).")
                % {"day": display_date(day), "today": display_date(today)}
            },
            code="step_in_future",
        )
    if previous_at is not None and day < timezone.localdate(previous_at):
        raise ValidationError(
            {
                "at": gettext(
                    "This step cannot be dated %(day)s: the document's previous step was on %(previous)s. "
                    "Give that day or a later one."
                )
                % {"day": display_date(day), "previous": display_date(timezone.localdate(previous_at))}
            },
            code="step_before_previous",
        )
    opens = document.steps_from
    if day < opens:
        raise ValidationError({"at": document.window_refusal(day, opens)}, code="step_before_window")


MISSING = "missing"  # a working year whose report (or plan) was never started
NOT_SUBMITTED = frozenset({MISSING, Workflow.DRAFT, Workflow.RETURNED})


def report_overdue(status: str, *, due_on: date, as_of: date) -> bool:
    """The one rule for a late report: not submitted (never started, draft or returned) by the end of its due day."""
    return status in NOT_SUBMITTED and as_of > due_on


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

    @property
    def steps_from(self) -> date:
        """The first day a workflow step of this document may be dated on."""
        raise NotImplementedError

    def window_refusal(self, day: date, opens: date) -> str:
        raise NotImplementedError

    def check_not_accepted(self) -> None:
        """An accepted document can no longer change: compare with what is stored."""
        if self.pk is None:
            return
        stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
        if stored == Workflow.ACCEPTED:
            raise ValidationError(gettext("This document was accepted and can no longer be changed."))


FIRST_YEAR = 2000  # the earliest year the portal holds (the check constraints' lower bound)


def first_document_year(cluster: Cluster) -> int:
    """A cluster plans and reports from the year it started (any year the portal holds, if not recorded)."""
    return cluster.started_on.year if cluster.started_on else FIRST_YEAR


def plan_years(cluster: Cluster, *, today: date | None = None) -> range:
    """The years a cluster may have an annual plan for: from its start year to next year."""
    return range(first_document_year(cluster), (today or timezone.localdate()).year + 2)


def report_years(cluster: Cluster, *, today: date | None = None) -> range:
    """The working years a cluster may report on: from its start year to this year."""
    return range(first_document_year(cluster), (today or timezone.localdate()).year + 1)


def document_indexes(prefix: str) -> list[models.Index]:
    """The lists' filters besides the cluster (the unique (cluster, year) serves that one): the API's
    `?year=` and `?year=&status=` (COUNT and page), and `?status=` alone, as the review queue asks for
    what waits for review."""
    return [
        models.Index(fields=["year", "status"], name=f"{prefix}_year_status_idx"),
        models.Index(fields=["status", "year"], name=f"{prefix}_status_year_idx"),
    ]


def document_constraints(prefix: str, *, unique: StrOrPromise) -> list[BaseConstraint]:
    """One plan (or report) per cluster and year, and a year the portal can hold."""
    return [
        models.UniqueConstraint(fields=["cluster", "year"], name=f"{prefix}_unique", violation_error_message=unique),
        models.CheckConstraint(condition=Q(year__gte=2000) & Q(year__lte=2100), name=f"{prefix}_year_range"),
    ]


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
        constraints = document_constraints(
            "annual_plan", unique=_("This cluster already has an annual plan for that year.")
        )
        indexes = document_indexes("annual_plan")

    def __str__(self) -> str:
        return gettext("Annual plan %(year)s — %(cluster)s") % {"year": self.year, "cluster": self.cluster}

    @property
    def steps_from(self) -> date:
        """A plan for year Y is drafted and reviewed from 1 January of Y - 1."""
        return date(self.year - 1, 1, 1)

    def window_refusal(self, day: date, opens: date) -> str:
        return gettext(
            "An annual plan for %(year)s is submitted and reviewed from %(opens)s on; this step cannot be "
            "dated %(day)s."
        ) % {"year": self.year, "opens": display_date(opens), "day": display_date(day)}

    def clean(self) -> None:
        self.check_not_accepted()
        if not self.year or self.cluster_id is None:
            return
        years = plan_years(self.cluster)
        if self.year < years.start:
            raise ValidationError(
                {
                    "year": gettext(
                        "%(cluster)s started in %(start)s: an annual plan for %(year)s cannot be created; "
                        "the first is for %(start)s."
                    )
                    % {"cluster": self.cluster.name, "start": years.start, "year": self.year}
                }
            )
        if self.year >= years.stop:
            raise ValidationError(
                {
                    "year": gettext(
                        "An annual plan is drafted at most one year ahead: %(last)s at the latest, not %(year)s."
                    )
                    % {"last": years.stop - 1, "year": self.year}
                }
            )


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
            *document_constraints(
                "annual_report", unique=_("This cluster already has an annual report for that working year.")
            ),
            models.CheckConstraint(
                condition=~Q(status="returned") | ~Q(review_comment=""),
                name="annual_report_returned_has_comment",
                violation_error_message=_("Say why the report is returned: a comment is required."),
            ),
        ]
        indexes = document_indexes("annual_report")

    def __str__(self) -> str:
        return gettext("Annual report %(year)s — %(cluster)s") % {"year": self.year, "cluster": self.cluster}

    @property
    def steps_from(self) -> date:
        """A report on working year Y is submitted and reviewed from 1 January of Y."""
        return date(self.year, 1, 1)

    def window_refusal(self, day: date, opens: date) -> str:
        return gettext(
            "A report on working year %(year)s is submitted and reviewed from %(opens)s on; this step cannot be "
            "dated %(day)s."
        ) % {"year": self.year, "opens": display_date(opens), "day": display_date(day)}

    def clean(self) -> None:
        self.check_not_accepted()
        if self.year and not 2000 <= self.year <= 2100:
            raise ValidationError({"year": gettext("Enter a working year between 2000 and 2100.")})
        if self.year and self.due_on is None:
            self.due_on = default_report_due_on(self.year)
        if self.year and self.cluster_id is not None and self.year < first_document_year(self.cluster):
            raise ValidationError(
                {
                    "year": gettext(
                        "%(cluster)s started in %(start)s: a report for working year %(year)s cannot be "
                        "created; the first working year is %(start)s."
                    )
                    % {"cluster": self.cluster.name, "start": first_document_year(self.cluster), "year": self.year}
                }
            )
        if self.year and self.year > timezone.localdate().year:
            raise ValidationError(
                {
                    "year": gettext("Working year %(year)s has not started yet; its report cannot be created.")
                    % {"year": self.year}
                }
            )

    def is_overdue(self, as_of: date) -> bool:
        """Overdue as it stands now (the report slots replay the status a report had on a past day)."""
        return report_overdue(self.status, due_on=self.due_on, as_of=as_of)


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
    # Who took a step from before the portal, with no account here (the workbook's history).
    by_name = models.CharField(_("recorded by (name)"), max_length=150, blank=True)
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
        indexes = [
            # "Accepted by the day" (`selectors.accepted_by`), which the briefing, the comparison and the exports
            # ask of every report at once: read from this index alone, a tenth of the steps.
            models.Index(
                fields=["report", "at"], condition=Q(to_status=Workflow.ACCEPTED), name="report_event_accepted_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report or self.plan}: {self.from_status} → {self.to_status}"

    @property
    def actor_name(self) -> str:
        """Who took the step, as people read it: the user's full name (or username), else the name
        recorded without an account; "" when neither is known."""
        if self.by is not None:
            return self.by.get_full_name() or self.by.get_username()
        return self.by_name


def attachment_path(instance: ReportAttachment, filename: str) -> str:
    """The stored name of a new attachment: generated, so nothing of the uploaded name (its extension
    included) reaches the file system or a URL; the name the user gave is kept as the title. The
    migrations refer to this function as `clusterpacts.models.attachment_path`."""
    report = instance.report
    return generated_pdf_name(f"reports/{report.cluster.slug}/{report.year}")


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
        # A new upload is judged by its content; a stored one was judged when it came in.
        if self.file and not getattr(self.file, "_committed", True):
            check_pdf(self.file)
            if not self.title.strip():
                self.title = PurePath(self.file.name or "").name[:200]


def check_pdf(upload: Any, *, field: str = "file") -> None:
    """An attachment is a PDF by its content (`core.uploads.check_pdf`), not empty, at most
    CLUSTERPACTS_ATTACHMENT_MAX_BYTES; the refusal is raised on `field`."""
    check_uploaded_pdf(upload, max_bytes=settings.CLUSTERPACTS_ATTACHMENT_MAX_BYTES, field=field)
