"""`for_user`: officers and API readers see every row, a cluster manager their cluster's rows, others nothing."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from clusterpacts.models import (
    AnnualReport,
    Cluster,
    ClusterManager,
    ClusterPact,
    KpiValue,
    Membership,
    Organisation,
)
from tests import factories

pytestmark = pytest.mark.django_db

MODELS = [Cluster, AnnualReport, KpiValue, Membership, Organisation, ClusterPact]


@pytest.fixture
def world(cluster, other_cluster):
    """Rows of both clusters; `rows[model][slug]` are the pks a manager of that cluster should see."""
    rows = {model: {"catalisti": [], "sim": []} for model in MODELS}
    rows[Cluster] = {"catalisti": [cluster.pk], "sim": [other_cluster.pk]}
    for owner in (cluster, other_cluster):
        slug = owner.slug
        report = factories.AnnualReportFactory(cluster=owner, year=2020)
        rows[AnnualReport][slug].append(report.pk)
        value = KpiValue.objects.create(
            report=report, cluster=owner, year=2020, kpi=factories.kpi("CPI1"), value=Decimal(3)
        )
        rows[KpiValue][slug].append(value.pk)
        rows[ClusterPact][slug].append(factories.PactFactory(cluster=owner).pk)
    only_here = factories.OrganisationFactory(name="Only Catalisti")
    only_there = factories.OrganisationFactory(name="Only SIM")
    shared = factories.OrganisationFactory(name="In both")
    factories.OrganisationFactory(name="In none")
    memberships = [
        # Two periods in the same cluster: the organisation must still be listed once.
        (only_here, cluster, date(2017, 1, 1), date(2018, 12, 31)),
        (only_here, cluster, date(2020, 1, 1), None),
        (only_there, other_cluster, date(2017, 1, 1), None),
        (shared, cluster, date(2018, 1, 1), None),
        (shared, other_cluster, date(2018, 1, 1), None),
    ]
    for organisation, owner, joined_on, left_on in memberships:
        membership = factories.MembershipFactory(
            organisation=organisation, cluster=owner, joined_on=joined_on, left_on=left_on
        )
        rows[Membership][owner.slug].append(membership.pk)
    rows[Organisation] = {"catalisti": [only_here.pk, shared.pk], "sim": [only_there.pk, shared.pk]}
    return rows


def visible(model, user):
    return sorted(model.objects.for_user(user).values_list("pk", flat=True))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("role", ["officer", "reader"])
def test_officer_and_api_reader_see_every_row(request, world, model, role):
    user = request.getfixturevalue(role)

    assert visible(model, user) == sorted(model.objects.values_list("pk", flat=True))
    assert len(visible(model, user)) >= 2


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_cluster_manager_sees_only_their_own_clusters_rows_once(world, manager, other_manager, model):
    assert visible(model, manager) == sorted(world[model]["catalisti"])
    assert visible(model, other_manager) == sorted(world[model]["sim"])
    assert model.objects.for_user(manager).count() == len(world[model]["catalisti"])


def test_organisation_with_two_memberships_in_the_managers_cluster_is_found_by_get(world, manager):
    organisation = Organisation.objects.get(name="Only Catalisti")

    assert Organisation.objects.for_user(manager).get(pk=organisation.pk) == organisation


def test_manager_of_two_clusters_sees_both(world, cluster, other_cluster):
    user = factories.manager_of(cluster, username="both")
    ClusterManager.objects.create(user=user, cluster=other_cluster)

    assert visible(Cluster, user) == sorted([cluster.pk, other_cluster.pk])
    assert visible(Organisation, user) == sorted(
        Organisation.objects.exclude(name="In none").values_list("pk", flat=True)
    )


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_user_without_a_role_sees_nothing(world, model):
    nobody = factories.UserFactory(username="nobody")

    assert visible(model, nobody) == []


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_anonymous_user_sees_nothing(world, model):
    assert visible(model, AnonymousUser()) == []


@pytest.mark.parametrize("model", [Cluster, AnnualReport, Organisation], ids=lambda m: m.__name__)
def test_deactivated_officer_and_manager_see_nothing(world, model, cluster):
    officer = factories.officer(username="former-officer", is_active=False)
    manager = factories.manager_of(cluster, username="former-manager", is_active=False)

    assert visible(model, officer) == []
    assert visible(model, manager) == []
