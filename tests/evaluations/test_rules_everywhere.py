"""The rules of evaluations and lessons that an officer meets in the admin and through the API, met in
each (there is no portal page that writes evaluations): the message the service gives, and nothing
changes. An evaluation moves forward only, whether it is edited or advanced; a lesson is carried only
into a later signed pact of its own cluster, whether on its own page, in its evaluation's inline or
through the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from clusterpacts.models import Cluster
from clusterpacts.services import pact_create, pact_sign
from evaluations.models import Evaluation, Lesson, Stage
from evaluations.services import entity_save, evaluation_advance
from tests import factories
from tests.funding.helpers import row_counts
from tests.rules import admin_save, admin_url, api, assert_shows, refusal

pytestmark = pytest.mark.django_db

COMPLETED = date(2019, 5, 15)


@pytest.fixture
def reporting(cluster) -> Evaluation:
    evaluation = factories.EvaluationFactory(cluster=cluster)
    evaluation_advance(evaluation=evaluation, to=Stage.IN_PROGRESS, on=date(2019, 1, 10))
    return evaluation_advance(evaluation=evaluation, to=Stage.REPORTING, on=date(2019, 3, 1))


@pytest.mark.parametrize("path", ["admin", "API edit", "API advance"])
def test_an_evaluation_only_moves_forward(officer, reporting, path):
    expected = refusal(lambda: entity_save(instance=Evaluation.objects.get(pk=reporting.pk), stage=Stage.IN_PROGRESS))
    expected = [message for message in expected if "only moves forward" in message]
    paths: dict[str, Callable[[], Any]] = {
        "admin": lambda: admin_save(officer, admin_url(reporting, "change", reporting.pk), {"stage": "in_progress"}),
        "API edit": lambda: api(officer, "patch", f"evaluations/{reporting.pk}/", {"stage": "in_progress"}),
        "API advance": lambda: api(
            officer, "post", f"evaluations/{reporting.pk}/advance/", {"stage": "in_progress", "on": "2019-04-01"}
        ),
    }
    before = row_counts(Evaluation)

    assert_shows(paths[path](), expected)

    assert expected == ["An evaluation only moves forward: it is reporting and cannot go back to in progress."]
    assert row_counts(Evaluation) == before
    assert Evaluation.objects.get(pk=reporting.pk).stage == Stage.REPORTING


def signed_pact(cluster: Cluster, day: date):
    return pact_sign(pact=pact_create(cluster=cluster), signed_on=day)


PACTS: dict[str, Callable[[Cluster, Cluster], Any]] = {
    "signed before the evaluation completed": lambda own, other: signed_pact(own, date(2017, 12, 15)),
    "signed on the day it completed": lambda own, other: signed_pact(own, COMPLETED),
    "of another cluster": lambda own, other: signed_pact(other, COMPLETED + timedelta(days=30)),
}


@pytest.mark.parametrize("pact", PACTS)
@pytest.mark.parametrize("path", ["admin", "admin inline on the evaluation", "API"])
def test_a_lesson_is_carried_only_into_a_later_signed_pact_of_its_cluster(officer, cluster, other_cluster, pact, path):
    evaluation = factories.completed_interim(cluster, COMPLETED)
    carried_into = PACTS[pact](cluster, other_cluster)
    lesson = {"kind": "good_practice", "text": "Open calls work", "status": "carried"}
    expected = refusal(
        lambda: entity_save(instance=Lesson(evaluation=evaluation, carried_into=carried_into, **lesson))
    )
    row = {**lesson, "carried_into": str(carried_into.pk)}
    paths: dict[str, Callable[[], Any]] = {
        "admin": lambda: admin_save(officer, admin_url(Lesson, "add"), {**row, "evaluation": str(evaluation.pk)}),
        "admin inline on the evaluation": lambda: admin_save(
            officer, admin_url(evaluation, "change", evaluation.pk), {}, rows={Lesson: [row]}
        ),
        "API": lambda: api(
            officer, "post", "lessons/", {**lesson, "evaluation": evaluation.pk, "carried_into": carried_into.pk}
        ),
    }

    assert_shows(paths[path](), expected)

    assert not Lesson.objects.exists()
    assert "pact" in expected[0]
