"""Evaluations move forward through their stages, with dates in order; findings are one per criterion."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from clusterpacts.models import KpiDefinition
from clusterpacts.services import entity_save
from evaluations.models import STAGE_ORDER, Conclusion, Evaluation, Finding, Lesson, Stage
from evaluations.services import evaluation_advance
from tests import factories
from tests.rules import refused_by_constraint

pytestmark = pytest.mark.django_db

STARTED, REPORTING, COMPLETED = date(2019, 1, 10), date(2019, 3, 1), date(2019, 5, 15)
BACKWARD = [(STAGE_ORDER[i], STAGE_ORDER[j]) for i in range(4) for j in range(4) if j <= i]


@pytest.fixture
def evaluation(cluster):
    return factories.EvaluationFactory(cluster=cluster, title="Interim 2019")


def evaluation_at(cluster, stage):
    """An evaluation of `cluster` that reached `stage` on the usual dates."""
    evaluation = factories.EvaluationFactory(cluster=cluster)
    dates = {Stage.IN_PROGRESS: STARTED, Stage.REPORTING: REPORTING, Stage.COMPLETED: COMPLETED}
    for target in STAGE_ORDER[1 : STAGE_ORDER.index(stage) + 1]:
        conclusion = Conclusion.LARGELY_ACHIEVED if target == Stage.COMPLETED else ""
        evaluation = evaluation_advance(evaluation=evaluation, to=target, on=dates[target], conclusion=conclusion)
    return evaluation


def stored(evaluation):
    return Evaluation.objects.values_list("stage", "started_on", "reporting_on", "completed_on", "conclusion").get(
        pk=evaluation.pk
    )


# --- moving forward -------------------------------------------------------------------------------


def test_evaluation_advances_through_every_stage_recording_the_dates(evaluation):
    evaluation_advance(evaluation=evaluation, to=Stage.IN_PROGRESS, on=STARTED)
    evaluation_advance(evaluation=evaluation, to=Stage.REPORTING, on=REPORTING)
    evaluation_advance(
        evaluation=evaluation,
        to=Stage.COMPLETED,
        on=COMPLETED,
        conclusion=Conclusion.PARTLY_ACHIEVED,
        summary="Membership grew.",
    )

    assert stored(evaluation) == (Stage.COMPLETED, STARTED, REPORTING, COMPLETED, Conclusion.PARTLY_ACHIEVED)
    evaluation.refresh_from_db()
    assert evaluation.summary == "Membership grew."


def test_skipped_stages_are_recorded_as_reached_on_the_same_day(evaluation):
    evaluation_advance(evaluation=evaluation, to=Stage.COMPLETED, on=COMPLETED, conclusion=Conclusion.NOT_ACHIEVED)

    assert stored(evaluation) == (Stage.COMPLETED, COMPLETED, COMPLETED, COMPLETED, Conclusion.NOT_ACHIEVED)


@pytest.mark.parametrize(("current", "target"), BACKWARD)
def test_advancing_back_or_to_the_same_stage_is_refused_on_stage(cluster, current, target):
    evaluation = evaluation_at(cluster, current)
    before = stored(evaluation)

    with pytest.raises(ValidationError) as caught:
        evaluation_advance(evaluation=evaluation, to=target, on=date(2019, 6, 1), conclusion="largely_achieved")

    assert "stage" in caught.value.message_dict
    assert "only moves forward" in " ".join(caught.value.message_dict["stage"])
    assert stored(evaluation) == before


def test_completing_without_a_conclusion_is_refused_on_conclusion(cluster):
    evaluation = evaluation_at(cluster, Stage.REPORTING)

    with pytest.raises(ValidationError) as caught:
        evaluation_advance(evaluation=evaluation, to=Stage.COMPLETED, on=COMPLETED)

    assert "conclusion" in caught.value.message_dict
    assert stored(evaluation) == (Stage.REPORTING, STARTED, REPORTING, None, "")


def test_completing_with_a_date_in_the_future_is_refused_on_completed_on(cluster):
    evaluation = evaluation_at(cluster, Stage.REPORTING)

    with pytest.raises(ValidationError) as caught:
        evaluation_advance(
            evaluation=evaluation,
            to=Stage.COMPLETED,
            on=timezone.localdate() + timedelta(days=1),
            conclusion=Conclusion.LARGELY_ACHIEVED,
        )

    assert "completed_on" in caught.value.message_dict
    assert "future" in " ".join(caught.value.message_dict["completed_on"])
    assert stored(evaluation)[0] == Stage.REPORTING


def test_completing_today_is_allowed(cluster):
    evaluation = evaluation_at(cluster, Stage.REPORTING)
    today = timezone.localdate()

    evaluation_advance(evaluation=evaluation, to=Stage.COMPLETED, on=today, conclusion=Conclusion.LARGELY_ACHIEVED)

    assert stored(evaluation)[0::3] == (Stage.COMPLETED, today)


def test_reaching_a_stage_before_the_previous_one_is_refused_on_its_date(cluster):
    evaluation = evaluation_at(cluster, Stage.IN_PROGRESS)

    with pytest.raises(ValidationError) as caught:
        evaluation_advance(evaluation=evaluation, to=Stage.REPORTING, on=STARTED - timedelta(days=1))

    assert "reporting_on" in caught.value.message_dict
    assert "follow each other" in " ".join(caught.value.message_dict["reporting_on"])
    assert stored(evaluation) == (Stage.IN_PROGRESS, STARTED, None, None, "")


def test_reaching_the_next_stage_on_the_same_day_is_allowed(cluster):
    evaluation = evaluation_at(cluster, Stage.IN_PROGRESS)

    evaluation_advance(evaluation=evaluation, to=Stage.REPORTING, on=STARTED)

    assert stored(evaluation)[:3] == (Stage.REPORTING, STARTED, STARTED)


# --- direct edits (the admin and API path) --------------------------------------------------------


def test_a_direct_edit_may_move_the_stage_forward_with_its_date(cluster):
    evaluation = evaluation_at(cluster, Stage.IN_PROGRESS)

    entity_save(instance=evaluation, stage=Stage.REPORTING, reporting_on=REPORTING)

    assert stored(evaluation)[:3] == (Stage.REPORTING, STARTED, REPORTING)


@pytest.mark.parametrize(("current", "target"), [pair for pair in BACKWARD if pair[0] != pair[1]])
def test_a_direct_edit_moving_the_stage_back_is_refused_on_stage(cluster, current, target):
    evaluation = evaluation_at(cluster, current)
    before = stored(evaluation)
    # Clear the later dates too, so that only the direction is wrong.
    reached = STAGE_ORDER.index(target)
    cleared = {field: None for field in ("started_on", "reporting_on", "completed_on")[reached:]}

    with pytest.raises(ValidationError) as caught:
        entity_save(instance=evaluation, stage=target, **cleared)

    assert "stage" in caught.value.message_dict
    assert "only moves forward" in " ".join(caught.value.message_dict["stage"])
    assert stored(evaluation) == before


def test_a_direct_edit_to_completed_without_a_date_or_conclusion_is_refused(cluster):
    evaluation = evaluation_at(cluster, Stage.REPORTING)

    with pytest.raises(ValidationError) as caught:
        entity_save(instance=evaluation, stage=Stage.COMPLETED)

    assert caught.value.message_dict["completed_on"] == ["Enter the date on which the evaluation became completed."]
    assert caught.value.message_dict["conclusion"] == ["A completed evaluation needs an overall conclusion."]
    assert stored(evaluation)[0] == Stage.REPORTING


def test_a_direct_edit_with_completion_before_reporting_is_refused_on_completed_on(cluster):
    evaluation = evaluation_at(cluster, Stage.REPORTING)

    with pytest.raises(ValidationError) as caught:
        entity_save(
            instance=evaluation,
            stage=Stage.COMPLETED,
            completed_on=REPORTING - timedelta(days=1),
            conclusion=Conclusion.LARGELY_ACHIEVED,
        )

    assert "completed_on" in caught.value.message_dict
    assert stored(evaluation)[0] == Stage.REPORTING


def test_a_stage_date_is_required_once_the_stage_is_reached(evaluation):
    with pytest.raises(ValidationError) as caught:
        entity_save(instance=evaluation, stage=Stage.IN_PROGRESS)

    assert "started_on" in caught.value.message_dict
    assert stored(evaluation)[0] == Stage.PLANNED


def test_a_stage_date_must_stay_empty_until_the_stage_is_reached(evaluation):
    with pytest.raises(ValidationError) as caught:
        entity_save(instance=evaluation, reporting_on=REPORTING)

    assert "reporting_on" in caught.value.message_dict
    assert stored(evaluation) == (Stage.PLANNED, None, None, None, "")


def test_a_period_ending_before_it_starts_is_refused_on_period_end(cluster):
    candidate = Evaluation(cluster=cluster, period_start=date(2019, 1, 1), period_end=date(2018, 12, 31))

    with pytest.raises(ValidationError) as caught:
        entity_save(instance=candidate)

    assert caught.value.message_dict["period_end"] == ["The period cannot end before it starts."]
    assert not Evaluation.objects.exists()


def test_a_one_day_period_is_allowed(cluster):
    entity_save(instance=Evaluation(cluster=cluster, period_start=date(2019, 1, 1), period_end=date(2019, 1, 1)))

    assert Evaluation.objects.count() == 1


# --- replay ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (STARTED - timedelta(days=1), Stage.PLANNED),
        (STARTED, Stage.IN_PROGRESS),
        (REPORTING - timedelta(days=1), Stage.IN_PROGRESS),
        (REPORTING, Stage.REPORTING),
        (COMPLETED - timedelta(days=1), Stage.REPORTING),
        (COMPLETED, Stage.COMPLETED),
        (date(2030, 1, 1), Stage.COMPLETED),
    ],
)
def test_stage_on_replays_the_stage_at_a_date(cluster, as_of, expected):
    evaluation = evaluation_at(cluster, Stage.COMPLETED)

    assert evaluation.stage_on(as_of) == expected


def test_stage_on_of_an_unfinished_evaluation_stops_at_its_current_stage(cluster):
    evaluation = evaluation_at(cluster, Stage.IN_PROGRESS)

    assert evaluation.stage_on(date(2030, 1, 1)) == Stage.IN_PROGRESS
    assert evaluation.stage_on(STARTED - timedelta(days=1)) == Stage.PLANNED


def test_completed_between_is_strictly_after_the_start_and_up_to_the_end(cluster):
    evaluation = evaluation_at(cluster, Stage.COMPLETED)

    assert list(Evaluation.objects.completed_between(COMPLETED - timedelta(days=1), COMPLETED)) == [evaluation]
    assert not Evaluation.objects.completed_between(COMPLETED, date(2030, 1, 1)).exists()
    assert not Evaluation.objects.completed_between(date(2018, 1, 1), COMPLETED - timedelta(days=1)).exists()


# --- findings -------------------------------------------------------------------------------------


def test_one_finding_per_criterion(evaluation):
    entity_save(
        instance=Finding(
            evaluation=evaluation, criterion=KpiDefinition.Category.MEMBERSHIP, assessment="largely_achieved"
        )
    )

    with pytest.raises(ValidationError) as caught:
        entity_save(
            instance=Finding(
                evaluation=evaluation, criterion=KpiDefinition.Category.MEMBERSHIP, assessment="not_achieved"
            )
        )

    assert "already has a finding for this criterion" in " ".join(caught.value.messages)
    assert list(Finding.objects.values_list("assessment", flat=True)) == ["largely_achieved"]


def test_findings_on_the_three_criteria_are_all_allowed(evaluation, cluster):
    for criterion in KpiDefinition.Category.values:
        entity_save(instance=Finding(evaluation=evaluation, criterion=criterion, assessment="partly_achieved"))
    other = factories.EvaluationFactory(cluster=cluster)
    entity_save(instance=Finding(evaluation=other, criterion="membership", assessment="partly_achieved"))

    assert Finding.objects.filter(evaluation=evaluation).count() == 3
    assert Finding.objects.count() == 4


# --- the database keeps the rules -----------------------------------------------------------------


def an_evaluation(cluster, **fields):
    period = {"period_start": date(2017, 1, 1), "period_end": date(2018, 12, 31)}
    return lambda: Evaluation.objects.create(cluster=cluster, **{**period, **fields})


def second_finding(cluster):
    evaluation = factories.EvaluationFactory(cluster=cluster)
    Finding.objects.create(evaluation=evaluation, criterion="membership", assessment="largely_achieved")
    return lambda: Finding.objects.create(evaluation=evaluation, criterion="membership", assessment="not_achieved")


def carried_without_a_pact(cluster):
    evaluation = factories.completed_interim(cluster, COMPLETED)
    return lambda: Lesson.objects.create(evaluation=evaluation, kind="bottleneck", text="X", status="carried")


# One backstop per constraint, for writes that bypass the services; the services refuse the same with
# a message (test_a_period_ending_before_it_starts_is_refused_on_period_end, test_one_finding_per_criterion,
# test_a_direct_edit_to_completed_without_a_date_or_conclusion_is_refused and, for lessons,
# test_status_carried_without_a_pact_is_refused_on_carried_into).
BACKSTOPS = {
    "evaluation_period_order": (Evaluation, lambda c: an_evaluation(c, period_end=date(2016, 12, 31))),
    "evaluation_completed_has_date_and_conclusion": (
        Evaluation,
        lambda c: an_evaluation(c, stage="completed", conclusion="largely_achieved"),
    ),
    "finding_one_per_criterion": (Finding, second_finding),
    "lesson_carried_names_pact": (Lesson, carried_without_a_pact),
}


@pytest.mark.parametrize("constraint", BACKSTOPS)
def test_the_database_refuses_by_its_constraint_what_the_services_would(cluster, constraint):
    model, setup = BACKSTOPS[constraint]
    write = setup(cluster)
    before = model.objects.count()

    refused_by_constraint(model, constraint, write)

    assert model.objects.count() == before


def test_a_completed_evaluation_with_its_date_and_conclusion_is_allowed_by_the_database(cluster):
    an_evaluation(cluster, stage="completed", completed_on=COMPLETED, conclusion="largely_achieved")()

    assert Evaluation.objects.completed().count() == 1


# --- the day an evaluation was registered ---------------------------------------------------------


def test_a_stage_cannot_be_reached_before_the_evaluation_was_registered(cluster):
    evaluation = factories.EvaluationFactory(cluster=cluster, registered_on=date(2019, 2, 1))

    with translation.override("en"), pytest.raises(ValidationError) as caught:
        evaluation_advance(evaluation=evaluation, to=Stage.IN_PROGRESS, on=date(2019, 1, 10))

    assert caught.value.message_dict["started_on"] == [
        "A stage cannot be reached before the evaluation was registered (01/02/2019)."
    ]
    assert stored(evaluation) == (Stage.PLANNED, None, None, None, "")
    evaluation_advance(evaluation=evaluation, to=Stage.IN_PROGRESS, on=date(2019, 2, 1))
    assert stored(evaluation)[:2] == (Stage.IN_PROGRESS, date(2019, 2, 1)), "on the day itself is fine"


def test_a_registration_day_in_the_future_is_refused_and_nothing_is_saved(cluster):
    evaluation = factories.EvaluationFactory(cluster=cluster)
    evaluation.registered_on = timezone.localdate() + timedelta(days=1)

    with pytest.raises(ValidationError) as caught:
        entity_save(instance=evaluation)

    assert set(caught.value.message_dict) == {"registered_on"}
    assert Evaluation.objects.get(pk=evaluation.pk).registered_on is None
