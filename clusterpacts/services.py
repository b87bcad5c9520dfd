"""Every write in clusterpacts (STYLE.md rule 1).

The admin, the API, the portal and the management commands call these functions, so each rule
is enforced in one place: the model's `clean()` and constraints via `full_clean()`, plus the
workflow rules below. A broken rule raises `django.core.exceptions.ValidationError` and, because
each service is atomic, nothing is saved.

Deleting: `document_delete`, `kpi_figure_delete` and `attachment_delete` are registered as the way
their models' rows are deleted (`core.services.deletes`), whether from the admin or the API; the other
models are deleted by `entity_delete`, which refuses while other records still refer to a row.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files import File
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from clusterpacts import notifications
from clusterpacts.models import (
    EDITABLE_STATES,
    AnnualPlan,
    AnnualReport,
    Cluster,
    ClusterManager,
    ClusterPact,
    KpiDefinition,
    KpiTarget,
    KpiTargetTally,
    KpiValue,
    Membership,
    Organisation,
    ReportAttachment,
    ReportEvent,
    Workflow,
    check_figures_editable,
    check_step_date,
    check_transition,
    display_date,
)
from clusterpacts.selectors import kpi_target_tallies
from core.roles import User
from core.services import deletes, entity_delete, entity_save, lock_row

__all__ = ["entity_delete", "entity_save"]

Document = TypeVar("Document", AnnualPlan, AnnualReport)


@transaction.atomic
def membership_save(*, membership: Membership, **changes: object) -> Membership:
    for name, value in changes.items():
        setattr(membership, name, value)
    lock_row(Cluster, membership.cluster_id)
    return entity_save(instance=membership)


@transaction.atomic
def cluster_manager_add(*, user: AbstractUser, cluster: Cluster) -> ClusterManager:
    from django.contrib.auth.models import Group

    from core.roles import CLUSTER_MANAGER

    link, _created = ClusterManager.objects.get_or_create(user=user, cluster=cluster)
    user.groups.add(Group.objects.get(name=CLUSTER_MANAGER))
    return link


# --- pacts ---------------------------------------------------------------------------------------


@transaction.atomic
def pact_create(*, cluster: Cluster, programme_summary: str = "", notes: str = "") -> ClusterPact:
    """A new draft version: one more than the cluster's highest version so far."""
    lock_row(Cluster, cluster.pk)
    last = ClusterPact.objects.filter(cluster=cluster).aggregate(v=models.Max("version"))["v"] or 0
    pact = ClusterPact(cluster=cluster, version=last + 1, programme_summary=programme_summary, notes=notes)
    pact.full_clean()
    pact.save()
    return pact


def pact_check_signable(*, pact: ClusterPact, cluster: Cluster | None, signed_on: date | None) -> None:
    """A draft, with a signing date not in the future and not before the current version's."""
    if pact.pk and pact.status != ClusterPact.Status.DRAFT:
        raise ValidationError({"status": gettext("Only a draft version can be signed.")})
    if signed_on is None:
        raise ValidationError({"signed_on": gettext("A signed pact needs its signing date.")})
    if signed_on > timezone.localdate():
        raise ValidationError({"signed_on": gettext("A pact cannot be signed in the future.")})
    current = (
        ClusterPact.objects.filter(cluster=cluster, status=ClusterPact.Status.SIGNED).exclude(pk=pact.pk).first()
        if cluster
        else None
    )
    if current and current.signed_on and signed_on < current.signed_on:
        raise ValidationError(
            {
                "signed_on": gettext("The new version cannot be signed before the current one (%(date)s).")
                % {"date": display_date(current.signed_on)}
            }
        )


@transaction.atomic
def pact_sign(*, pact: ClusterPact, signed_on: date) -> ClusterPact:
    """Sign a draft version; the cluster's current signed version becomes superseded."""
    lock_row(Cluster, pact.cluster_id)
    pact.refresh_from_db()
    pact_check_signable(pact=pact, cluster=pact.cluster, signed_on=signed_on)
    for current in ClusterPact.objects.filter(cluster_id=pact.cluster_id, status=ClusterPact.Status.SIGNED):
        current.status = ClusterPact.Status.SUPERSEDED
        current.save(update_fields=["status"])
    pact.status = ClusterPact.Status.SIGNED
    pact.signed_on = signed_on
    pact.full_clean()
    pact.save()
    return pact


# --- plans and reports ---------------------------------------------------------------------------


def annual_plan_create(*, cluster: Cluster, year: int, planned_actions: str = "") -> AnnualPlan:
    return entity_save(instance=AnnualPlan(cluster=cluster, year=year, planned_actions=planned_actions))


def annual_report_create(*, cluster: Cluster, year: int, narrative: str = "") -> AnnualReport:
    return entity_save(instance=AnnualReport(cluster=cluster, year=year, narrative=narrative))


@transaction.atomic
def document_update(*, document: Document, **changes: object) -> Document:
    """Edit the content of a plan or report (not its status: that is what the transitions are for)."""
    if "status" in changes:
        raise ValueError("Use document_transition() to change a status.")
    return entity_save(instance=document, **changes)


def document_step(
    document: AnnualPlan | AnnualReport,
    *,
    to: str,
    at: datetime,
    by: User | None = None,
    by_name: str = "",
    comment: str = "",
    previous_at: datetime | None,
) -> ReportEvent:
    """One workflow step applied to `document` in memory, under every rule of a step (`check_transition`,
    `check_step_date`): the document gets its new status and times, and the step's record is returned, both
    unsaved. `document_transition` saves one; `document_histories_put` saves many at once.

    A step on the day of the previous one but at an earlier hour is recorded at the previous step's time,
    so that the steps replay in the order they were taken.
    """
    check_transition(document.status, to, comment, plan=isinstance(document, AnnualPlan))
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    check_step_date(document, at, previous_at=previous_at)
    if previous_at is not None and at < previous_at:  # the same day (check_step_date), an earlier hour
        at = previous_at
    # Who moved it, as the step records them: a signed-in user (never the anonymous one), or nobody (a data load).
    actor = by if isinstance(by, get_user_model()) else None
    event = ReportEvent(
        from_status=document.status, to_status=to, at=at, by=actor, by_name=by_name.strip(), comment=comment
    )
    if isinstance(document, AnnualReport):
        event.report = document
    else:
        event.plan = document
    event.full_clean(exclude=["report", "plan", "by"])
    document.status = to
    if to == Workflow.SUBMITTED:
        document.submitted_at = at
    else:
        document.reviewed_at = at
        document.review_comment = comment
    return event


@transaction.atomic
def document_transition(
    *,
    document: Document,
    to: str,
    by: User | None = None,
    by_name: str = "",
    comment: str = "",
    at: datetime | None = None,
    notify: bool = True,
) -> Document:
    """draft -> submitted -> accepted | returned, returned -> submitted; returning needs a comment.

    `at` is when the step happened (default now): its day may not be in the future, before the
    document's previous step or before the document's window opens (`check_step_date`). A step on the
    day of the previous one but at an earlier hour is stored at the previous step's time, so that the
    steps replay in the order they were taken. `by_name` names who took a step that has no user here
    (a step from before the portal); the user, when given, is who the step shows.

    After the commit, the people concerned hear of it by e-mail (`notify=False` for data loads):
    officers when a document is submitted, the cluster's managers when it is accepted or returned.
    The e-mail is put in the outbox in this transaction (`core.outbox`), so Redis being down loses none.
    """
    locked = type(document).objects.select_for_update().get(pk=document.pk)
    previous = locked.events.order_by("-at", "-id").values_list("at", flat=True).first()
    event = document_step(
        locked, to=to, at=at or timezone.now(), by=by, by_name=by_name, comment=comment, previous_at=previous
    )
    locked.save()
    event.save()
    if notify:
        notifications.transition_mail_queue(event.pk)
    document.refresh_from_db()
    return document


# The codes under which a submission's missing figures are refused: a form can mark each KPI named in
# the refusal's params["missing"] (its codes) on its own field.
TARGETS_MISSING = "targets_missing"
VALUES_MISSING = "values_missing"


def _missing(message: str, code: str, missing: list[str]) -> ValidationError:
    return ValidationError(message, code=code, params={"codes": ", ".join(missing), "missing": missing})


def annual_plan_check_complete(*, plan: AnnualPlan) -> None:
    """Complete: planned actions, and a target for every active KPI of the catalogue. Every caller that
    submits a plan (the portal, the API, `document_submit`) is held to it; every refusal comes at once."""
    errors: dict[str, list[ValidationError]] = {}
    if not plan.planned_actions.strip():
        errors["planned_actions"] = [
            ValidationError(gettext("Describe the planned actions before you submit the plan."), code="required")
        ]
    missing = list(
        KpiDefinition.objects.filter(active=True).exclude(targets__plan=plan).values_list("code", flat=True)
    )
    if missing:
        errors[NON_FIELD_ERRORS] = [
            _missing(
                gettext("Give a target for every KPI before you submit; missing: %(codes)s."), TARGETS_MISSING, missing
            )
        ]
    if errors:
        raise ValidationError(errors)


def annual_report_check_complete(*, report: AnnualReport) -> None:
    """Complete: a narrative and a value for every active reported KPI of the catalogue (the derived ones
    are computed from the memberships, never entered). The portal asks for a complete report before it
    submits one."""
    errors: dict[str, list[ValidationError]] = {}
    if not report.narrative.strip():
        errors["narrative"] = [ValidationError(gettext("Write the narrative before you submit the report."))]
    missing = list(
        KpiDefinition.objects.filter(active=True, source=KpiDefinition.Source.REPORTED)
        .exclude(values__report=report)
        .values_list("code", flat=True)
    )
    if missing:
        errors[NON_FIELD_ERRORS] = [
            _missing(
                gettext("Give a value for every KPI before you submit; missing: %(codes)s."), VALUES_MISSING, missing
            )
        ]
    if errors:
        raise ValidationError(errors)


@deletes(AnnualPlan, AnnualReport, keyword="document")
@transaction.atomic
def document_delete(*, document: AnnualPlan | AnnualReport) -> None:
    """Delete a plan or report (with its figures), unless it was accepted: then it is on the record."""
    locked = type(document).objects.select_for_update().get(pk=document.pk)
    locked.check_not_accepted()
    entity_delete(instance=locked)
    if isinstance(locked, AnnualPlan):  # its targets went with it (a report's tally goes with the report)
        kpi_tallies_refresh(slots=[(locked.cluster_id, locked.year)])


def document_check_submittable(*, document: AnnualPlan | AnnualReport) -> None:
    """Refuse (ValidationError) unless `document` may be submitted as it is stored: a step the workflow
    allows, and complete."""
    check_transition(document.status, Workflow.SUBMITTED)  # a submitted document: "cannot move", not "missing"
    if isinstance(document, AnnualPlan):
        annual_plan_check_complete(plan=document)
    else:
        annual_report_check_complete(report=document)


@transaction.atomic
def document_submit(*, document: Document, by: User | None = None, at: datetime | None = None) -> Document:
    """Submit a plan or a report for review once it is complete: the one way in for the portal and the API.

    (The admin, VLAIO's back office, may still move a document through `document_transition` as it is.)
    """
    document_check_submittable(document=document)
    return document_transition(document=document, to=Workflow.SUBMITTED, by=by, at=at)


def annual_report_submit(*, report: AnnualReport, by: User | None = None, at: datetime | None = None) -> AnnualReport:
    return document_submit(document=report, by=by, at=at)


def annual_report_accept(
    *, report: AnnualReport, by: User | None = None, comment: str = "", at: datetime | None = None
) -> AnnualReport:
    return document_transition(document=report, to=Workflow.ACCEPTED, by=by, comment=comment, at=at)


def annual_report_return(
    *, report: AnnualReport, comment: str, by: User | None = None, at: datetime | None = None
) -> AnnualReport:
    return document_transition(document=report, to=Workflow.RETURNED, by=by, comment=comment, at=at)


# Refreshing the tallies of every report at once (the KPI catalogue changed) writes them in batches of this many.
TALLY_BATCH = 2000


@transaction.atomic
def kpi_tallies_refresh(*, slots: Collection[tuple[int, int]] | None = None) -> int:
    """Count again, and store, the KPI target tallies (`KpiTargetTally`) of the reports of `slots` (pairs of
    cluster id and year, and any other pair of their clusters and years; every report when None), from their
    values and the clusters' targets as they stand (`selectors.kpi_target_tallies`). Called in the transaction
    of each write that can change one: a value or a target set or removed, a plan or report deleted, the
    catalogue changed, figures put in bulk. Returns the number of tallies stored."""
    within = models.Q()
    if slots is not None:
        if not slots:
            return 0
        # Every slot of these clusters and years: a few more than asked for, counted again as they stand.
        within = models.Q(cluster_id__in={c for c, _ in slots}, year__in={y for _, y in slots})
    # One refresh of a report at a time, each counting what the one before it committed: its reports locked
    # (in id order), where two writers of one report's values and targets would each store what it saw.
    reports = AnnualReport._base_manager.select_for_update(of=("self",)).filter(within).order_by("pk")
    list(reports.values_list("pk"))
    KpiTargetTally.objects.filter(within).delete()
    values = KpiValue.objects.filter(within)
    stored = 0
    batch: list[KpiTargetTally] = []
    for row in kpi_target_tallies(values).iterator(chunk_size=TALLY_BATCH):
        batch.append(KpiTargetTally(**row))
        if len(batch) == TALLY_BATCH:
            stored += len(KpiTargetTally.objects.bulk_create(batch))
            batch = []
    return stored + len(KpiTargetTally.objects.bulk_create(batch))


@transaction.atomic
def kpi_value_set(*, report: AnnualReport, kpi: KpiDefinition, value: Decimal) -> KpiValue:
    """Set (create or change) the value of one reported KPI in a report that is still editable. A derived
    KPI is computed from the memberships or the decided projects (`selectors.derived_figures`): it is
    refused here."""
    if kpi.is_derived:
        raise ValidationError(
            {
                "value": gettext(
                    "%(code)s is computed from the memberships or the decided projects; it cannot be entered."
                )
                % {"code": kpi.code}
            }
        )
    # Lock the report so it cannot be submitted or accepted while the value is being written.
    report = AnnualReport.objects.select_for_update().get(pk=report.pk)
    kpi_value = KpiValue.objects.filter(report=report, kpi=kpi).first() or KpiValue(
        report=report, kpi=kpi, cluster_id=report.cluster_id, year=report.year
    )
    kpi_value.value = Decimal(value)
    kpi_value.full_clean()
    kpi_value.save()
    kpi_tallies_refresh(slots=[(report.cluster_id, report.year)])
    return kpi_value


@deletes(KpiTarget, KpiValue, keyword="figure")
@transaction.atomic
def kpi_figure_delete(*, figure: KpiTarget | KpiValue) -> None:
    """Remove a target or a value, while its plan or report is still a draft or returned."""
    document = figure.plan if isinstance(figure, KpiTarget) else figure.report
    if document is not None:
        check_figures_editable(type(document).objects.select_for_update().get(pk=document.pk))
    entity_delete(instance=figure)
    kpi_tallies_refresh(slots=[(figure.cluster_id, figure.year)])


def kpi_figure_clear(*, document: AnnualPlan | AnnualReport, kpi: KpiDefinition) -> None:
    """Remove the target (of a plan) or the value (of a report) of one KPI, if there is one."""
    if isinstance(document, AnnualPlan):
        figure: KpiTarget | KpiValue | None = KpiTarget.objects.filter(plan=document, kpi=kpi).first()
    else:
        figure = KpiValue.objects.filter(report=document, kpi=kpi).first()
    if figure is not None:
        kpi_figure_delete(figure=figure)


@transaction.atomic
def kpi_target_set(*, plan: AnnualPlan, kpi: KpiDefinition, value: Decimal) -> KpiTarget:
    plan = AnnualPlan.objects.select_for_update().get(pk=plan.pk)
    target = KpiTarget.objects.filter(cluster_id=plan.cluster_id, kpi=kpi, year=plan.year).first() or KpiTarget(
        plan=plan, kpi=kpi, cluster_id=plan.cluster_id, year=plan.year
    )
    target.plan = plan
    target.value = Decimal(value)
    target.full_clean()
    target.save()
    kpi_tallies_refresh(slots=[(plan.cluster_id, plan.year)])
    return target


@transaction.atomic
def kpi_figure_save(*, figure: KpiTarget | KpiValue) -> KpiTarget | KpiValue:
    """Save a target or value as it is given (the admin's forms), under its model's rules, and its report's
    tally with it."""
    entity_save(instance=figure)
    kpi_tallies_refresh(slots=[(figure.cluster_id, figure.year)])
    return figure


@transaction.atomic
def kpi_definition_save(*, kpi: KpiDefinition) -> KpiDefinition:
    """Save a KPI of the catalogue. Its direction, source or being active decides which values count as
    measured and met: every report's tally is counted again when one of them changed."""
    stored = KpiDefinition.objects.filter(pk=kpi.pk).values("direction", "source", "active").first()
    entity_save(instance=kpi)
    if stored is not None and stored != {"direction": kpi.direction, "source": kpi.source, "active": kpi.active}:
        kpi_tallies_refresh()
    return kpi


def _check_attachments_editable(report_id: int | None, message: str) -> None:
    # Judge the stored status, under a lock: a stale copy must not change a report accepted meanwhile.
    stored = AnnualReport.objects.select_for_update().filter(pk=report_id).values_list("status", flat=True).first()
    if stored not in EDITABLE_STATES:
        raise ValidationError(message)


@transaction.atomic
def attachment_add(*, report: AnnualReport, file: File, title: str = "") -> ReportAttachment:
    _check_attachments_editable(
        report.pk, gettext("Attachments can only be added while the report is a draft or returned.")
    )
    # Without a title, the model keeps the uploaded file's name as the title (it is stored under a generated one).
    attachment = ReportAttachment(report=report, file=file, title=title)
    return entity_save(instance=attachment)


@deletes(ReportAttachment, keyword="attachment")
@transaction.atomic
def attachment_delete(*, attachment: ReportAttachment) -> None:
    """Remove an attachment while its report is a draft or returned; after that it is part of the record."""
    _check_attachments_editable(
        attachment.report_id, gettext("Attachments can only be removed while the report is a draft or returned.")
    )
    entity_delete(instance=attachment)


# --- the portal's plan and report pages: the whole document in one save --------------------------

# Each KPI's figure, or None to remove it; a KPI left out of the mapping keeps its figure.
Figures = Mapping[KpiDefinition, Decimal | None]


def figure_key(kpi: KpiDefinition) -> str:
    """The error key under which `annual_plan_save` and `annual_report_save` refuse a KPI's figure
    (the portal forms name the KPI's field the same)."""
    return f"kpi_{kpi.code}"


def _figure_refusals(*, document: AnnualPlan | AnnualReport, figures: Figures) -> dict[str, list[str]]:
    """Set or remove each figure given; return every refusal under its KPI's `figure_key` (the caller
    raises them and its transaction saves nothing)."""
    errors: dict[str, list[str]] = {}
    for kpi, value in figures.items():
        try:
            if value is None:
                kpi_figure_clear(document=document, kpi=kpi)
            elif isinstance(document, AnnualPlan):
                kpi_target_set(plan=document, kpi=kpi, value=value)
            else:
                kpi_value_set(report=document, kpi=kpi, value=value)
        except ValidationError as error:
            # A value out of its unit is refused on "value"; a locked document as a whole.
            refused = error.message_dict.get("value") if hasattr(error, "error_dict") else None
            errors[figure_key(kpi)] = refused or error.messages
    return errors


class SubmissionRefused(ValidationError):
    """The document's content was saved (as a draft, or as it was returned), but it could not be
    submitted: the refusal says why. Raised by `annual_plan_save` and `annual_report_save` after the
    content's own savepoint, so a caller that catches it inside its transaction keeps the content."""

    def __init__(self, refusal: ValidationError, *, document: AnnualPlan | AnnualReport) -> None:
        super().__init__(refusal.error_dict if hasattr(refusal, "error_dict") else refusal.error_list)
        self.document = document


def _whole_document_save(
    document_of: Callable[[], Document],
    *,
    figures: Figures,
    submit: bool,
    by: User | None,
    attachment: File | None = None,
    attachment_title: str = "",
) -> Document:
    """What `annual_plan_save` and `annual_report_save` share: the content (`document_of()` saves the
    text, then the figures, then a report's attachment) all or nothing, and with `submit` the
    submission. Every refusal comes in one round: a refused content is raised with what the submission
    would refuse as well; a complete content that cannot be submitted stays saved (SubmissionRefused)."""
    with transaction.atomic():
        document = document_of()
        errors = _figure_refusals(document=document, figures=figures)
        if errors:
            errors[NON_FIELD_ERRORS] = [gettext("Some values were refused; see the fields marked below.")]
        if attachment and isinstance(document, AnnualReport):
            try:
                attachment_add(report=document, file=attachment, title=attachment_title)
            except ValidationError as error:
                for key, messages in error.message_dict.items():
                    errors.setdefault(key, []).extend(messages)
        if errors:
            refusal = ValidationError(errors)
            if submit:
                refusal = _with_submission_refusal(refusal, document)
            raise refusal
    if submit:
        try:
            document_submit(document=document, by=by)
        except ValidationError as error:
            raise SubmissionRefused(error, document=document) from None
        document.refresh_from_db()
    return document


def _with_submission_refusal(refusal: ValidationError, document: AnnualPlan | AnnualReport) -> ValidationError:
    """`refusal` and what submitting `document` as it now stands would refuse, in one error."""
    try:
        with transaction.atomic():
            document_check_submittable(document=document)
    except ValidationError as error:
        merged = dict(refusal.error_dict)
        for key, errors in error.update_error_dict({}).items():
            merged[key] = [*merged.get(key, []), *errors]
        return ValidationError(merged)
    return refusal


def _document_for_save(model: type[Document], *, cluster: Cluster, year: int, **content: str) -> Document:
    """The cluster's plan or report of `year` with `content` saved: created, or (locked) updated."""
    document = model.objects.select_for_update().filter(cluster=cluster, year=year).order_by("pk").first()
    if document is None:
        return entity_save(instance=model(cluster=cluster, year=year, **content))
    if any(getattr(document, name) != value for name, value in content.items()):  # else no history row to add
        document_update(document=document, **content)
    else:
        document.full_clean()  # what saving it would refuse is refused all the same
    return document


def annual_plan_save(
    *,
    cluster: Cluster,
    year: int,
    planned_actions: str,
    figures: Figures,
    submit: bool = False,
    by: User | None = None,
) -> AnnualPlan:
    """Save the cluster's annual plan of `year` as the portal's plan page sends it: planned actions,
    targets (see `Figures`), and, with `submit`, the submission (which needs a complete plan:
    `annual_plan_check_complete`).

    The content is saved all or nothing: a refused target is reported under its KPI's `figure_key`,
    every other refusal on the model's field, together with what the submission would refuse; then
    nothing is saved. A content that is saved but cannot be submitted stays saved, and
    `SubmissionRefused` says why (a draft is never lost to a refused submission).
    """
    return _whole_document_save(
        partial(_document_for_save, AnnualPlan, cluster=cluster, year=year, planned_actions=planned_actions),
        figures=figures,
        submit=submit,
        by=by,
    )


def annual_report_save(
    *,
    cluster: Cluster,
    year: int,
    narrative: str,
    figures: Figures,
    attachment: File | None = None,
    attachment_title: str = "",
    submit: bool = False,
    by: User | None = None,
) -> AnnualReport:
    """Save the cluster's annual report of `year` as the portal's report page sends it: narrative,
    values (see `Figures`), one new attachment, and, with `submit`, the submission (which needs a
    complete report). Refusals as by `annual_plan_save`: the content all or nothing, with every refusal
    at once; a saved report that cannot be submitted stays saved (`SubmissionRefused`).
    """
    return _whole_document_save(
        partial(_document_for_save, AnnualReport, cluster=cluster, year=year, narrative=narrative),
        figures=figures,
        submit=submit,
        by=by,
        attachment=attachment,
        attachment_title=attachment_title,
    )


# --- many figures at once: the history import ------------------------------------------------------

FIGURE_CREATED, FIGURE_UPDATED, FIGURE_UNCHANGED = "created", "updated", "unchanged"


@dataclass(frozen=True)
class FigurePut:
    """One figure to hold: `value` for `kpi` in `document` (a plan's target or a report's value)."""

    document: AnnualPlan | AnnualReport
    kpi: KpiDefinition
    value: Decimal


@transaction.atomic
def kpi_figures_put(
    figures: Sequence[FigurePut], *, history_user: User | None = None, change_reason: str | None = None
) -> list[str | ValidationError]:
    """Create or change many targets (of plans) or values (of reports) in bulk, as `kpi_target_set` and
    `kpi_value_set` do one by one, under the same rules: the unit's (`KpiDefinition.check_value`) and the
    document's (`check_figures_editable`: only a draft or returned document's figures change).

    Returns, per figure and in order, "created", "updated", "unchanged" or the ValidationError that refused
    it (the others are written: the caller's transaction decides whether they stay). A figure whose value
    is already held is not written and needs no editable document. Two figures for one document and KPI:
    the caller refuses them before.
    """
    outcomes: list[str | ValidationError] = []
    if not figures:
        return outcomes
    model: type[KpiTarget] | type[KpiValue] = KpiTarget if isinstance(figures[0].document, AnnualPlan) else KpiValue
    value_field = model._meta.get_field("value")
    documents = {figure.document.pk: figure.document for figure in figures}
    held = {
        (figure.cluster_id, figure.year, figure.kpi_id): figure
        for figure in model.objects.filter(
            cluster_id__in={d.cluster_id for d in documents.values()}, year__in={d.year for d in documents.values()}
        )
    }
    editable: dict[int, ValidationError | None] = {}
    to_create: list[KpiTarget | KpiValue] = []
    to_update: list[KpiTarget | KpiValue] = []
    for put in figures:
        document = put.document
        try:
            value_field.clean(put.value, None)  # the field's own rules: digits and decimal places
            put.kpi.check_value(Decimal(put.value))
        except ValidationError as error:
            outcomes.append(error)
            continue
        figure = held.get((document.cluster_id, document.year, put.kpi.pk))
        if figure is not None and figure.value == put.value:
            outcomes.append(FIGURE_UNCHANGED)
            continue
        if document.pk not in editable:
            try:
                check_figures_editable(document)
                editable[document.pk] = None
            except ValidationError as error:
                editable[document.pk] = error
        refusal = editable[document.pk]
        if refusal is not None:
            outcomes.append(refusal)
            continue
        if figure is None:
            document_field = "plan" if model is KpiTarget else "report"
            figure = model(kpi=put.kpi, cluster_id=document.cluster_id, year=document.year, value=put.value)
            setattr(figure, document_field, document)
            to_create.append(figure)
            outcomes.append(FIGURE_CREATED)
        else:
            figure.value = put.value
            to_update.append(figure)
            outcomes.append(FIGURE_UPDATED)
    history = {"default_user": history_user, "default_change_reason": change_reason}
    if to_create:
        bulk_create_with_history(to_create, model, batch_size=1000, **history)
    if to_update:
        bulk_update_with_history(to_update, model, ["value"], batch_size=1000, **history)
    kpi_tallies_refresh(slots={(figure.cluster_id, figure.year) for figure in [*to_create, *to_update]})
    return outcomes


@transaction.atomic
def documents_create(
    documents: Sequence[AnnualPlan | AnnualReport],
    *,
    history_user: User | None = None,
    change_reason: str | None = None,
) -> list[ValidationError | None]:
    """Create many new plans (or many new reports) at once, under the rules `entity_save` applies one by
    one: the model's fields and `clean()` (first year, years ahead, the report's due day). The (cluster,
    year) of each is the caller's to keep new and unique; the database's unique constraint holds it too.

    Returns, per document and in order, None (created) or the refusal (the others are created).
    """
    outcomes: list[ValidationError | None] = []
    valid: list[AnnualPlan | AnnualReport] = []
    for document in documents:
        try:
            # The cluster is a row the caller holds: no query to check that it exists.
            document.full_clean(exclude=["cluster"], validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            outcomes.append(error)
            continue
        valid.append(document)
        outcomes.append(None)
    if valid:
        bulk_create_with_history(
            valid, type(valid[0]), batch_size=1000, default_user=history_user, default_change_reason=change_reason
        )
    return outcomes


@dataclass(frozen=True)
class StepPut:
    """One workflow step to record: the status it moved the document to, when, who, why."""

    to: str
    at: datetime
    by: User | None = None
    by_name: str = ""
    comment: str = ""


WORKFLOW_FIELDS = ["status", "submitted_at", "reviewed_at", "review_comment"]


@transaction.atomic
def document_histories_put(
    histories: Sequence[tuple[AnnualPlan | AnnualReport, Sequence[StepPut]]],
    *,
    history_user: User | None = None,
    change_reason: str | None = None,
) -> list[tuple[int, ValidationError] | None]:
    """Take each document through its steps, after those it holds, as `document_transition` does one by one
    (without e-mail: a history is loaded, not lived): each step under `document_step`'s rules, in memory,
    then the steps and the documents saved in bulk (the documents with their history rows).

    Returns, per document and in order, None, or (the index of its refused step, the refusal): a document
    with a refused step keeps none of its new steps.
    """
    outcomes: list[tuple[int, ValidationError] | None] = []
    by_model: dict[type[AnnualPlan] | type[AnnualReport], list[AnnualPlan | AnnualReport]] = {}
    for document, _steps in histories:
        by_model.setdefault(type(document), []).append(document)
    last: dict[tuple[type, int], datetime] = {}
    for model, documents in by_model.items():
        ids = [d.pk for d in documents]
        field = "plan" if model is AnnualPlan else "report"
        # The held state, under a lock: a document is moved from what is stored, not from the caller's copy.
        held = {
            row[0]: row[1:]
            for row in model.objects.select_for_update()
            .filter(pk__in=ids)
            .order_by()
            .values_list("pk", *WORKFLOW_FIELDS)
        }
        for document in documents:
            for name, value in zip(WORKFLOW_FIELDS, held[document.pk], strict=True):
                setattr(document, name, value)
        for pk, at in (
            ReportEvent.objects.filter(**{f"{field}__in": ids})
            .values_list(field)
            .annotate(last=models.Max("at"))
            .values_list(field, "last")
        ):
            last[(model, pk)] = at
    events: list[ReportEvent] = []
    moved: dict[type, list[AnnualPlan | AnnualReport]] = {}
    for document, steps in histories:
        kept = {name: getattr(document, name) for name in WORKFLOW_FIELDS}
        previous = last.get((type(document), document.pk))
        taken: list[ReportEvent] = []
        refused: tuple[int, ValidationError] | None = None
        for index, step in enumerate(steps):
            try:
                event = document_step(
                    document,
                    to=step.to,
                    at=step.at,
                    by=step.by,
                    by_name=step.by_name,
                    comment=step.comment,
                    previous_at=previous,
                )
            except ValidationError as error:
                refused = (index, error)
                break
            taken.append(event)
            previous = event.at
        outcomes.append(refused)
        if refused is not None:
            for name, value in kept.items():
                setattr(document, name, value)
            continue
        if taken:
            events.extend(taken)
            moved.setdefault(type(document), []).append(document)
    ReportEvent.objects.bulk_create(events, batch_size=1000)
    for model, documents in moved.items():
        bulk_update_with_history(
            documents,
            model,
            WORKFLOW_FIELDS,
            batch_size=1000,
            default_user=history_user,
            default_change_reason=change_reason,
        )
    return outcomes


@transaction.atomic
def organisations_create(
    organisations: Sequence[Organisation], *, history_user: User | None = None, change_reason: str | None = None
) -> list[ValidationError | None]:
    """Create many new organisations at once: each field under its own rules (the enterprise number's
    check digits), then one bulk insert. Their enterprise numbers are the caller's to have matched against
    the portal's (none holds them yet, none twice); the unique constraint holds that too.

    Returns, per organisation and in order, None (created) or the refusal (the others are created)."""
    outcomes: list[ValidationError | None] = []
    valid: list[Organisation] = []
    for organisation in organisations:
        try:
            organisation.clean_fields()
            organisation.check_days()
        except ValidationError as error:
            outcomes.append(error)
            continue
        valid.append(organisation)
        outcomes.append(None)
    if valid:
        bulk_create_with_history(
            valid, Organisation, batch_size=1000, default_user=history_user, default_change_reason=change_reason
        )
    return outcomes


@transaction.atomic
def memberships_create(
    memberships: Sequence[Membership], *, history_user: User | None = None, change_reason: str | None = None
) -> list[ValidationError | None]:
    """Create many new memberships at once under the rules `membership_save` applies one by one: the
    fields, a member leaves on or after joining (`Membership.check_dates`), and no two memberships of one
    organisation in one cluster overlap (`Membership.check_no_overlap`, against those the portal holds and
    those created here before).

    Returns, per membership and in order, None (created) or the refusal (the others are created)."""
    pairs = {(m.organisation_id, m.cluster_id) for m in memberships}
    clusters = {cluster_id for _organisation, cluster_id in pairs}
    for cluster_id in sorted(clusters):
        lock_row(Cluster, cluster_id)  # as membership_save: one writer of a cluster's memberships at a time
    held: dict[tuple[int, int], list[Membership]] = {}
    for membership in Membership.objects.filter(
        cluster_id__in=clusters, organisation_id__in={o for o, _c in pairs}
    ).order_by():
        held.setdefault((membership.organisation_id, membership.cluster_id), []).append(membership)
    outcomes: list[ValidationError | None] = []
    valid: list[Membership] = []
    for membership in memberships:
        others = held.setdefault((membership.organisation_id, membership.cluster_id), [])
        try:
            membership.clean_fields(exclude=["organisation", "cluster"])  # rows the caller holds: no query
            membership.check_dates()
            membership.check_no_overlap(others)
        except ValidationError as error:
            outcomes.append(error)
            continue
        others.append(membership)
        valid.append(membership)
        outcomes.append(None)
    if valid:
        bulk_create_with_history(
            valid, Membership, batch_size=1000, default_user=history_user, default_change_reason=change_reason
        )
    return outcomes
