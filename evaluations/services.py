"""Every write in evaluations (STYLE.md rule 1)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from clusterpacts.models import ClusterPact
from evaluations.models import STAGE_DATE_FIELD, STAGE_ORDER, Evaluation, Lesson, Stage


@transaction.atomic
def evaluation_advance(
    *, evaluation: Evaluation, to: str, on: date, conclusion: str = "", summary: str | None = None
) -> Evaluation:
    """Move an evaluation forward to stage `to`, reached on `on`; completing needs a conclusion.

    Stages skipped on the way (planned -> completed) are recorded as reached on the same day.
    """
    evaluation = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
    current, target = STAGE_ORDER.index(evaluation.stage), STAGE_ORDER.index(Stage(to))
    if target <= current:
        raise ValidationError(
            {
                "stage": gettext("An evaluation only moves forward: it is %(stored)s and cannot become %(stage)s.")
                % {"stored": Stage(evaluation.stage).label, "stage": Stage(to).label}
            }
        )
    for stage in STAGE_ORDER[current + 1 : target + 1]:
        setattr(evaluation, STAGE_DATE_FIELD[stage], on)
    evaluation.stage = to
    if conclusion:
        evaluation.conclusion = conclusion
    if summary is not None:
        evaluation.summary = summary
    evaluation.full_clean()
    evaluation.save()
    return evaluation


@transaction.atomic
def lesson_carry(*, lesson: Lesson, pact: ClusterPact) -> Lesson:
    lesson.carried_into = pact
    lesson.status = Lesson.Status.CARRIED
    lesson.full_clean()
    lesson.save()
    return lesson
