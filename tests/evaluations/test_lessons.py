"""Lessons are carried into a pact version of the same cluster signed after the evaluation completed."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from clusterpacts.models import ClusterPact
from clusterpacts.services import entity_save, pact_create, pact_sign
from evaluations.models import Lesson, Stage
from evaluations.services import evaluation_advance, lesson_carry
from tests import factories

pytestmark = pytest.mark.django_db

COMPLETED = date(2019, 5, 15)


@pytest.fixture
def evaluation(cluster):
    return factories.completed_interim(cluster, COMPLETED)


@pytest.fixture
def lesson(evaluation):
    return entity_save(
        instance=Lesson(evaluation=evaluation, kind=Lesson.Kind.BOTTLENECK, text="SMEs join too few projects.")
    )


def signed(cluster, signed_on):
    return pact_sign(pact=pact_create(cluster=cluster), signed_on=signed_on)


def stored(lesson):
    return Lesson.objects.values_list("status", "carried_into").get(pk=lesson.pk)


def test_lesson_is_carried_into_a_pact_signed_the_day_after_the_evaluation_completed(cluster, lesson):
    pact = signed(cluster, COMPLETED + timedelta(days=1))

    lesson_carry(lesson=lesson, pact=pact)

    assert stored(lesson) == (Lesson.Status.CARRIED, pact.pk)
    assert list(pact.lessons.all()) == [lesson]


def test_lesson_cannot_be_carried_into_a_pact_signed_on_the_day_the_evaluation_completed(cluster, lesson):
    pact = signed(cluster, COMPLETED)

    with pytest.raises(ValidationError) as caught:
        lesson_carry(lesson=lesson, pact=pact)

    assert "carried_into" in caught.value.message_dict
    assert "signed after the evaluation was completed" in " ".join(caught.value.message_dict["carried_into"])
    assert stored(lesson) == (Lesson.Status.OPEN, None)


def test_lesson_cannot_be_carried_into_a_pact_signed_before_the_evaluation_completed(cluster, lesson):
    pact = signed(cluster, date(2017, 12, 15))

    with pytest.raises(ValidationError) as caught:
        lesson_carry(lesson=lesson, pact=pact)

    assert "carried_into" in caught.value.message_dict
    assert stored(lesson) == (Lesson.Status.OPEN, None)


def test_lesson_cannot_be_carried_into_another_clusters_pact(other_cluster, lesson):
    pact = signed(other_cluster, COMPLETED + timedelta(days=30))

    with pytest.raises(ValidationError) as caught:
        lesson_carry(lesson=lesson, pact=pact)

    assert "same cluster" in " ".join(caught.value.message_dict["carried_into"])
    assert stored(lesson) == (Lesson.Status.OPEN, None)


@pytest.mark.parametrize("stage", [Stage.PLANNED, Stage.IN_PROGRESS, Stage.REPORTING])
def test_lesson_of_an_evaluation_not_yet_completed_cannot_be_carried(cluster, stage):
    evaluation = factories.EvaluationFactory(cluster=cluster)
    if stage != Stage.PLANNED:
        evaluation_advance(evaluation=evaluation, to=stage, on=date(2019, 1, 10))
    evaluation.refresh_from_db()
    lesson = entity_save(instance=Lesson(evaluation=evaluation, kind=Lesson.Kind.GOOD_PRACTICE, text="Open calls."))
    pact = signed(cluster, date(2020, 1, 15))

    with pytest.raises(ValidationError) as caught:
        lesson_carry(lesson=lesson, pact=pact)

    assert "must be completed" in " ".join(caught.value.message_dict["carried_into"])
    assert stored(lesson) == (Lesson.Status.OPEN, None)


def test_lesson_cannot_be_carried_into_an_unsigned_draft(cluster, lesson):
    draft = pact_create(cluster=cluster)

    with pytest.raises(ValidationError) as caught:
        lesson_carry(lesson=lesson, pact=draft)

    assert "carried_into" in caught.value.message_dict
    assert stored(lesson) == (Lesson.Status.OPEN, None)


def test_lesson_cannot_be_carried_into_a_draft_that_only_has_a_signing_date_filled_in(cluster, lesson):
    draft = entity_save(instance=pact_create(cluster=cluster), signed_on=COMPLETED + timedelta(days=10))
    assert draft.status == ClusterPact.Status.DRAFT

    with pytest.raises(ValidationError) as caught:
        lesson_carry(lesson=lesson, pact=draft)

    assert "carried_into" in caught.value.message_dict
    assert stored(lesson) == (Lesson.Status.OPEN, None)


def test_lesson_stays_valid_in_a_version_that_was_superseded_later(cluster, lesson):
    pact = signed(cluster, COMPLETED + timedelta(days=1))
    lesson_carry(lesson=lesson, pact=pact)
    signed(cluster, COMPLETED + timedelta(days=200))

    entity_save(instance=lesson, follow_up="Discussed in the steering committee.")

    lesson.refresh_from_db()
    assert (lesson.status, lesson.carried_into, lesson.follow_up) == (
        Lesson.Status.CARRIED,
        pact,
        "Discussed in the steering committee.",
    )


def test_status_carried_without_a_pact_is_refused_on_carried_into(lesson):
    with pytest.raises(ValidationError) as caught:
        entity_save(instance=lesson, status=Lesson.Status.CARRIED)

    assert "carried_into" in caught.value.message_dict
    assert "must name that pact" in " ".join(caught.value.message_dict["carried_into"])
    assert stored(lesson) == (Lesson.Status.OPEN, None)


def test_a_direct_edit_naming_a_valid_pact_is_saved(cluster, lesson):
    pact = signed(cluster, COMPLETED + timedelta(days=1))

    entity_save(instance=lesson, status=Lesson.Status.CARRIED, carried_into=pact)

    assert stored(lesson) == (Lesson.Status.CARRIED, pact.pk)


def test_a_direct_edit_naming_a_pact_signed_too_early_is_refused(cluster, lesson):
    pact = signed(cluster, COMPLETED)

    with pytest.raises(ValidationError) as caught:
        entity_save(instance=lesson, status=Lesson.Status.CARRIED, carried_into=pact)

    assert "carried_into" in caught.value.message_dict
    assert stored(lesson) == (Lesson.Status.OPEN, None)


def test_open_and_closed_lessons_need_no_pact(evaluation):
    entity_save(instance=Lesson(evaluation=evaluation, kind=Lesson.Kind.GOOD_PRACTICE, text="A"))
    entity_save(instance=Lesson(evaluation=evaluation, kind=Lesson.Kind.BOTTLENECK, text="B", status="closed"))

    assert sorted(Lesson.objects.values_list("status", flat=True)) == ["closed", "open"]
