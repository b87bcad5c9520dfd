"""Evaluations of the cluster pacts, their findings per criterion, and the lessons drawn."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clusterpacts.models import Cluster, ClusterPact, KpiDefinition, check_pdf, display_date
from core.scoping import ScopedQuerySet
from core.uploads import generated_pdf_name


class Stage(models.TextChoices):
    PLANNED = "planned", _("planned")
    IN_PROGRESS = "in_progress", _("in progress")
    REPORTING = "reporting", _("reporting")
    COMPLETED = "completed", _("completed")


STAGE_ORDER: list[str] = [Stage.PLANNED, Stage.IN_PROGRESS, Stage.REPORTING, Stage.COMPLETED]
# The date field that records when an evaluation reached each stage (for replay as of a date).
STAGE_DATE_FIELD: dict[str, str] = {
    Stage.IN_PROGRESS: "started_on",
    Stage.REPORTING: "reporting_on",
    Stage.COMPLETED: "completed_on",
}


def stage_move_refusal(stored: str, stage: str, *, advancing: bool) -> str | None:
    """Why an evaluation at `stored` cannot be at `stage` (None if it can): it only moves forward.
    `advancing` (the advance service) needs a later stage; an edit may leave the stage as it is."""
    current, target = STAGE_ORDER.index(stored), STAGE_ORDER.index(stage)
    labels = {"stored": Stage(stored).label, "stage": Stage(stage).label}
    if target < current:
        return gettext("An evaluation only moves forward: it is %(stored)s and cannot go back to %(stage)s.") % labels
    if advancing and target == current:
        return gettext("An evaluation only moves forward: it is %(stored)s and cannot become %(stage)s.") % labels
    return None


class Conclusion(models.TextChoices):
    LARGELY_ACHIEVED = "largely_achieved", _("largely achieved")
    PARTLY_ACHIEVED = "partly_achieved", _("partly achieved")
    NOT_ACHIEVED = "not_achieved", _("not achieved")


class EvaluationQuerySet(ScopedQuerySet):
    def completed(self) -> EvaluationQuerySet:
        return self.filter(stage=Stage.COMPLETED)

    def interim(self) -> EvaluationQuerySet:
        return self.filter(kind=Evaluation.Kind.INTERIM)

    def known_on(self, day: date) -> EvaluationQuerySet:
        """The evaluations there were at the end of `day`: registered by then, or, without a registration
        day, once their period had begun."""
        return self.filter(Q(registered_on__lte=day) | Q(registered_on__isnull=True, period_start__lte=day))

    def completed_between(self, after: date, until: date) -> EvaluationQuerySet:
        """Completed strictly after `after` and no later than `until`."""
        return self.completed().filter(completed_on__gt=after, completed_on__lte=until)


def evaluation_report_path(instance: Evaluation, filename: str) -> str:
    """A new evaluation report's stored name: generated, like an annual report's attachment."""
    return generated_pdf_name(f"evaluations/{instance.cluster.slug}")


class Evaluation(models.Model):
    class Kind(models.TextChoices):
        INTERIM = "interim", _("interim evaluation")
        FINAL = "final", _("final evaluation")
        AD_HOC = "ad_hoc", _("ad hoc evaluation")

    cluster = models.ForeignKey(
        Cluster, on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("cluster")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.INTERIM)
    title = models.CharField(_("title"), max_length=200, blank=True)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    evaluator = models.CharField(_("evaluator"), max_length=200, blank=True)
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.PLANNED)
    # The day the evaluation was decided and registered: before it, the briefing does not show it.
    # Left empty (e.g. for evaluations entered afterwards), the evaluation counts from its period's start.
    registered_on = models.DateField(
        _("registered on"),
        null=True,
        blank=True,
        help_text=_("The day the evaluation was decided; empty: from the start of its period."),
    )
    planned_on = models.DateField(_("planned completion"), null=True, blank=True)
    started_on = models.DateField(_("started on"), null=True, blank=True)
    reporting_on = models.DateField(_("reporting since"), null=True, blank=True)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    conclusion = models.CharField(_("overall conclusion"), max_length=20, choices=Conclusion.choices, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    report_file = models.FileField(_("evaluation report"), upload_to=evaluation_report_path, blank=True)
    history = HistoricalRecords()

    scope_path = "cluster"
    objects = EvaluationQuerySet.as_manager()

    # What an officer records, in the admin and through the API alike (the file is the admin's only).
    RECORDED_FIELDS = (
        "cluster",
        "kind",
        "title",
        "period_start",
        "period_end",
        "evaluator",
        "stage",
        "registered_on",
        "planned_on",
        "started_on",
        "reporting_on",
        "completed_on",
        "conclusion",
        "summary",
    )

    class Meta:
        ordering = ["cluster", "-period_end"]
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="evaluation_period_order",
                violation_error_message=_("The period cannot end before it starts."),
            ),
            models.CheckConstraint(
                condition=~Q(stage="completed") | (Q(completed_on__isnull=False) & ~Q(conclusion="")),
                name="evaluation_completed_has_date_and_conclusion",
                violation_error_message=_("A completed evaluation needs its completion date and a conclusion."),
            ),
        ]

    def __str__(self) -> str:
        label = self.title or self.get_kind_display()
        return f"{self.cluster} — {label} ({self.period_start:%Y}-{self.period_end:%Y})"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        today = timezone.localdate()
        if self.period_start and self.period_end and self.period_end < self.period_start:
            errors["period_end"] = gettext("The period cannot end before it starts.")
        if self.pk and self.stage:
            stored = Evaluation.objects.filter(pk=self.pk).values_list("stage", flat=True).first()
            message = stage_move_refusal(stored, self.stage, advancing=False) if stored else None
            if message:
                errors["stage"] = message
        reached = STAGE_ORDER.index(self.stage) if self.stage in STAGE_ORDER else 0
        if self.registered_on and self.registered_on > today:
            errors["registered_on"] = gettext("This date lies in the future.")
        previous: date | None = None
        for stage, field in STAGE_DATE_FIELD.items():
            value = getattr(self, field)
            if STAGE_ORDER.index(stage) <= reached:
                if value is None:
                    errors.setdefault(
                        field,
                        gettext("Enter the date on which the evaluation became %(stage)s.")
                        % {"stage": Stage(stage).label},
                    )
                    continue
                if value > today:
                    errors.setdefault(field, gettext("This date lies in the future."))
                if self.registered_on and value < self.registered_on:
                    errors.setdefault(
                        field,
                        gettext("A stage cannot be reached before the evaluation was registered (%(date)s).")
                        % {"date": display_date(self.registered_on)},
                    )
                elif previous and value < previous:
                    errors.setdefault(field, gettext("The stages must follow each other in time."))
                previous = value
            elif value is not None:
                errors.setdefault(
                    field,
                    gettext("Leave this date empty until the evaluation is %(stage)s.")
                    % {"stage": Stage(stage).label},
                )
        if self.stage == Stage.COMPLETED and not self.conclusion:
            errors["conclusion"] = gettext("A completed evaluation needs an overall conclusion.")
        # The report file is held to the same rule as a report's attachment (judged when it comes in).
        if self.report_file and not getattr(self.report_file, "_committed", True):
            try:
                check_pdf(self.report_file, field="report_file")
            except ValidationError as refused:
                errors.update(refused.message_dict)
        if errors:
            raise ValidationError(errors)

    def stage_on(self, as_of: date) -> str:
        """The stage this evaluation was in on `as_of`, replayed from the dates each stage was reached."""
        stage_on: str = Stage.PLANNED
        for stage, field in STAGE_DATE_FIELD.items():
            value = getattr(self, field)
            if value is not None and value <= as_of:
                stage_on = stage
        return stage_on


class Finding(models.Model):
    """The evaluator's finding on one criterion: the three KPI categories."""

    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.CASCADE, related_name="findings", verbose_name=_("evaluation")
    )
    criterion = models.CharField(_("criterion"), max_length=20, choices=KpiDefinition.Category.choices)
    assessment = models.CharField(_("assessment"), max_length=20, choices=Conclusion.choices)
    text = models.TextField(_("finding"), blank=True)
    history = HistoricalRecords()

    scope_path = "evaluation__cluster"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["evaluation", "criterion"]
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "criterion"],
                name="finding_one_per_criterion",
                violation_error_message=_("This evaluation already has a finding for this criterion."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_criterion_display()}: {self.get_assessment_display()}"


class Lesson(models.Model):
    class Kind(models.TextChoices):
        GOOD_PRACTICE = "good_practice", _("good practice")
        BOTTLENECK = "bottleneck", _("bottleneck")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CARRIED = "carried", _("carried into pact")
        CLOSED = "closed", _("closed")

    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.CASCADE, related_name="lessons", verbose_name=_("evaluation")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    text = models.TextField(_("lesson"))
    follow_up = models.TextField(_("follow-up"), blank=True)
    carried_into = models.ForeignKey(
        ClusterPact,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lessons",
        verbose_name=_("carried into pact"),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    history = HistoricalRecords()

    scope_path = "evaluation__cluster"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["evaluation", "kind", "id"]
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="carried") | Q(carried_into__isnull=False),
                name="lesson_carried_names_pact",
                violation_error_message=_("A lesson carried into a pact must name that pact."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text[:60]}"

    def carried_into_on(self, as_of: date) -> ClusterPact | None:
        """The pact this lesson was carried into as of `as_of`: only once that pact was signed by then."""
        pact = self.carried_into
        return pact if pact is not None and pact.signed_on is not None and pact.signed_on <= as_of else None

    def status_on(self, as_of: date) -> str:
        """The lesson's status as of `as_of`: carried only once its pact was signed; a lesson carried into a
        pact signed later was still open. (A closed lesson keeps no closing day: it shows as closed.)"""
        if self.status == self.Status.CARRIED and self.carried_into_on(as_of) is None:
            return self.Status.OPEN
        return self.status

    def clean(self) -> None:
        if self.status == self.Status.CARRIED and not self.carried_into_id:
            raise ValidationError({"carried_into": gettext("A lesson carried into a pact must name that pact.")})
        if not (self.carried_into_id and self.evaluation_id):
            return
        pact, evaluation = self.carried_into, self.evaluation
        if pact is None:
            return
        if pact.cluster_id != evaluation.cluster_id:
            raise ValidationError(
                {
                    "carried_into": gettext(
                        "A lesson can only be carried into a pact of the same cluster (%(cluster)s)."
                    )
                    % {"cluster": evaluation.cluster}
                }
            )
        if evaluation.stage != Stage.COMPLETED or evaluation.completed_on is None:
            raise ValidationError(
                {
                    "carried_into": gettext(
                        "The evaluation must be completed before its lessons are carried into a pact."
                    )
                }
            )
        # A draft may already carry a signing date (the admin allows it before signing): not signed yet.
        if (
            pact.status == ClusterPact.Status.DRAFT
            or pact.signed_on is None
            or pact.signed_on <= evaluation.completed_on
        ):
            raise ValidationError(
                {
                    "carried_into": gettext(
                        "A lesson is carried into a pact version signed after the evaluation was completed "
                        "(%(completed)s); %(pact)s is not."
                    )
                    % {"completed": display_date(evaluation.completed_on), "pact": pact}
                }
            )
