"""The access helpers (STYLE.md rule 5) and the for_user() scopes that the API and portal reuse."""

from datetime import date
from decimal import Decimal
from functools import partial

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from clusterpacts.models import AnnualReport, Cluster, KpiDefinition, KpiValue, ReportEvent
from clusterpacts.permissions import get_for_user
from clusterpacts.services import annual_report_accept, annual_report_submit, kpi_value_set
from evaluations.models import Evaluation
from funding.models import Allocation, BudgetYear, SupportAgreement
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(cluster):
    return factories.AnnualReportFactory(cluster=cluster, year=2020)


@pytest.fixture
def other_report(other_cluster):
    return factories.AnnualReportFactory(cluster=other_cluster, year=2020)


def test_a_manager_gets_404_for_another_clusters_objects(manager, other_cluster, other_report):
    evaluation = factories.EvaluationFactory(cluster=other_cluster)
    for helper, pk in (
        (partial(get_for_user, Cluster), other_cluster.pk),
        (partial(get_for_user, AnnualReport), other_report.pk),
        (partial(get_for_user, Evaluation), evaluation.pk),
    ):
        with pytest.raises(Http404):
            helper(manager, pk)


def test_a_manager_reads_and_writes_their_own_draft_report(manager, report):
    assert get_for_user(AnnualReport, manager, report.pk) == report
    assert get_for_user(AnnualReport, manager, report.pk, write=True) == report


def test_a_manager_cannot_write_a_submitted_or_accepted_report(manager, report, officer):
    factories.complete_report(report)
    annual_report_submit(report=report, by=manager)
    with pytest.raises(PermissionDenied):
        get_for_user(AnnualReport, manager, report.pk, write=True)
    annual_report_accept(report=report, by=officer)
    with pytest.raises(PermissionDenied):
        get_for_user(AnnualReport, manager, report.pk, write=True)
    # An officer may still open it for writing; the model refuses changes to accepted reports itself.
    assert get_for_user(AnnualReport, officer, report.pk, write=True) == report


def test_a_managers_kpi_value_is_writable_only_while_the_report_is(manager, report):
    value = kpi_value_set(report=report, kpi=KpiDefinition.objects.get(code="C2"), value=Decimal(4))
    assert get_for_user(KpiValue, manager, value.pk, write=True) == value
    factories.complete_report(report)
    annual_report_submit(report=report, by=manager)
    with pytest.raises(PermissionDenied):
        get_for_user(KpiValue, manager, value.pk, write=True)


def test_a_manager_reads_but_never_writes_their_clusters_agreements(manager, cluster):
    agreement = SupportAgreement.objects.create(
        cluster=cluster,
        reference="SO-1",
        start_date=date(2017, 1, 1),
        end_date=date(2019, 12, 31),
        amount=Decimal(1),
        chain_start=date(2017, 1, 1),
    )
    assert get_for_user(SupportAgreement, manager, agreement.pk) == agreement
    with pytest.raises(PermissionDenied):
        get_for_user(SupportAgreement, manager, agreement.pk, write=True)
    with pytest.raises(PermissionDenied):
        get_for_user(Cluster, manager, cluster.pk, write=True)


def test_an_api_reader_reads_everything_and_writes_nothing(reader, report, other_report):
    assert get_for_user(AnnualReport, reader, other_report.pk) == other_report
    with pytest.raises(PermissionDenied):
        get_for_user(AnnualReport, reader, report.pk, write=True)


def test_anonymous_and_roleless_users_see_nothing(report, cluster):
    nobody = factories.UserFactory(username="nobody")
    for user in (AnonymousUser(), nobody):
        with pytest.raises(Http404):
            get_for_user(AnnualReport, user, report.pk)
        assert not KpiDefinition.objects.for_user(user).exists()


def test_a_garbage_id_is_a_404_not_a_500(officer):
    with pytest.raises(Http404):
        get_for_user(AnnualReport, officer, "not-a-number")


def test_budget_years_and_the_kpi_catalogue_are_visible_to_every_role(manager, reader, officer):
    factories.BudgetYearFactory(year=2020)
    for user in (manager, reader, officer):
        assert BudgetYear.objects.for_user(user).count() == 1
        assert KpiDefinition.objects.for_user(user).count() == 17
    assert BudgetYear.objects.for_user(AnonymousUser()).count() == 0


def test_a_manager_sees_allocations_of_their_cluster_only(manager, cluster, other_cluster):
    third = factories.ClusterFactory()
    year = factories.BudgetYearFactory(year=2020)
    own = Allocation.objects.create(budget_year=year, purpose="competitiveness", cluster=cluster, amount=1)
    Allocation.objects.create(budget_year=year, purpose="competitiveness", cluster=other_cluster, amount=1)
    shared = Allocation.objects.create(budget_year=year, purpose="inter_cluster", amount=1)
    shared.partners.set([cluster, other_cluster])
    foreign = Allocation.objects.create(budget_year=year, purpose="inter_cluster", amount=1)
    foreign.partners.set([other_cluster, third])
    Allocation.objects.create(budget_year=year, purpose="other", amount=1)
    assert set(Allocation.objects.for_user(manager)) == {own, shared}


def test_a_manager_sees_workflow_steps_of_their_cluster_only(manager, officer, report, other_report):
    factories.complete_report(report)
    factories.complete_report(other_report)
    annual_report_submit(report=report, by=manager)
    annual_report_submit(report=other_report, by=officer)
    assert [event.report for event in ReportEvent.objects.for_user(manager)] == [report]
    assert ReportEvent.objects.for_user(officer).count() == 2
