"""Every write in evaluations (STYLE.md rule 1).

Evaluations, findings and lessons are recorded (created, edited, deleted) through the generic
`entity_save` and `entity_delete`, their rules being the models' `clean()` and constraints: the
admin and the API call them through `core.admin.ServiceAdmin` and `core.api.ServiceSerializer` /
`ScopedViewSet`. Moving an evaluation to a later stage, and carrying a lesson into a pact, are
services of their own.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from clusterpacts.models import ClusterPact
from core.services import entity_delete, entity_save
from evaluations.models import STAGE_DATE_FIELD, STAGE_ORDER, Evaluation, Lesson, Stage, stage_move_refusal

__all__ = ["entity_delete", "entity_save", "evaluation_advance", "lesson_carry"]


@transaction.atomic
def evaluation_advance(
    *, evaluation: Evaluation, to: str, on: date, conclusion: str = "", summary: str | None = None
) -> Evaluation:
    """Move an evaluation forward to stage `to`, reached on `on`; completing needs a conclusion.

    Stages skipped on the way (planned -> completed) are recorded as reached on the same day.
    """
    evaluation = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
    refusal = stage_move_refusal(evaluation.stage, Stage(to), advancing=True)
    if refusal:
        raise ValidationError({"stage": refusal})
    current, target = STAGE_ORDER.index(evaluation.stage), STAGE_ORDER.index(Stage(to))
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
    """Record that `lesson` was carried into `pact` (a version of the same cluster signed after the
    evaluation was completed: Lesson.clean())."""
    return entity_save(instance=lesson, carried_into=pact, status=Lesson.Status.CARRIED)
