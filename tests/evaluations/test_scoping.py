"""`for_user` on evaluations, findings and lessons: scoped to the evaluated cluster."""

from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser

from evaluations.models import Evaluation, Finding, Lesson
from tests import factories

pytestmark = pytest.mark.django_db

MODELS = [Evaluation, Finding, Lesson]


@pytest.fixture
def world(cluster, other_cluster):
    rows = {model: {} for model in MODELS}
    for owner in (cluster, other_cluster):
        evaluation = factories.completed_interim(owner, date(2019, 5, 15))
        planned = factories.EvaluationFactory(
            cluster=owner, period_start=date(2019, 1, 1), period_end=date(2020, 12, 31)
        )
        finding = Finding.objects.create(evaluation=evaluation, criterion="membership", assessment="largely_achieved")
        lessons = [
            Lesson.objects.create(evaluation=evaluation, kind="good_practice", text="Open calls work."),
            Lesson.objects.create(evaluation=evaluation, kind="bottleneck", text="Too few SMEs."),
        ]
        rows[Evaluation][owner.slug] = [evaluation.pk, planned.pk]
        rows[Finding][owner.slug] = [finding.pk]
        rows[Lesson][owner.slug] = [lesson.pk for lesson in lessons]
    return rows


def visible(model, user):
    return sorted(model.objects.for_user(user).values_list("pk", flat=True))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("role", ["officer", "reader"])
def test_officer_and_api_reader_see_every_row(request, world, model, role):
    user = request.getfixturevalue(role)

    assert visible(model, user) == sorted(world[model]["catalisti"] + world[model]["sim"])


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_cluster_manager_sees_only_their_clusters_rows(world, manager, other_manager, model):
    assert visible(model, manager) == sorted(world[model]["catalisti"])
    assert visible(model, other_manager) == sorted(world[model]["sim"])


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_user_without_a_role_and_anonymous_user_see_nothing(world, model):
    nobody = factories.UserFactory(username="nobody")

    assert visible(model, nobody) == []
    assert visible(model, AnonymousUser()) == []


def test_scope_combines_with_the_other_evaluation_filters(world, manager, cluster):
    completed = Evaluation.objects.for_user(manager).completed_between(date(2019, 1, 1), date(2019, 12, 31))

    assert [evaluation.cluster for evaluation in completed] == [cluster]
