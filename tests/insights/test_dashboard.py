"""The officer's dashboard: flags, latest evaluations, agreements ending soon, reports, the budget."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from funding.models import Flag, SupportAgreement
from tests import factories

pytestmark = pytest.mark.django_db


def _world(count):
    today = timezone.localdate()
    for _ in range(count):
        cluster = factories.ClusterFactory(started_on=today.replace(year=today.year - 3, month=1, day=1))
        start = today - timedelta(days=400)
        agreement = SupportAgreement.objects.create(
            cluster=cluster,
            reference=f"SO-{cluster.slug}",
            start_date=start,
            end_date=today + timedelta(days=100),
            amount=Decimal(1),
            chain_start=start,
        )
        Flag.objects.create(
            kind="renewal_due",
            cluster=cluster,
            agreement=agreement,
            subject=f"agreement:{agreement.pk}",
            message="x",
            raised_on=today,
            due_on=agreement.end_date,
        )
        factories.EvaluationFactory(cluster=cluster, title=f"Evaluation of {cluster.name}")


def test_an_officer_sees_flags_evaluations_and_agreements_ending_soon(client, officer):
    _world(2)
    factories.BudgetYearFactory(year=timezone.localdate().year, envelope=Decimal("82000000"))
    client.force_login(officer)
    response = client.get("/insights/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    text = response.text
    assert text.count("<td>SO-cluster-") == 2, "each agreement ending soon is a row of the table"
    timeline = response.text.split('id="ending-chart"')[1].split("</figure>")[0]
    assert timeline.count('class="agreement') == 2, "...and a bar on the timeline"
    assert timeline.count('class="cap"') == 0, "caps ten years away fall outside the 24 months"
    assert "renewal due" in text and "Evaluation of Cluster" in text
    assert "82,000,000 EUR" in text


def test_the_dashboard_costs_the_same_queries_for_7_and_40_clusters(client, officer):
    client.force_login(officer)
    _world(7)
    client.get("/insights/")
    with CaptureQueriesContext(connection) as seven:
        client.get("/insights/")
    _world(33)
    with CaptureQueriesContext(connection) as forty:
        response = client.get("/insights/")
    assert response.text.count("<td>SO-cluster-") == 40
    assert len(seven) == len(forty)


def test_a_manager_gets_403_and_anonymous_the_login(client, manager):
    assert client.get("/insights/").status_code == 302
    client.force_login(manager)
    assert client.get("/insights/").status_code == 403


def test_the_review_button_counts_the_plans_and_reports_waiting(officer_client, english):
    from clusterpacts import services
    from clusterpacts.models import Workflow

    today = timezone.localdate()
    cluster = factories.ClusterFactory(started_on=today.replace(year=today.year - 2, month=1, day=1))
    plan = factories.complete_plan(services.annual_plan_create(cluster=cluster, year=today.year + 1))
    services.document_submit(document=plan)
    report = factories.complete_report(services.annual_report_create(cluster=cluster, year=today.year - 1))
    services.document_submit(document=report)
    draft = services.annual_plan_create(cluster=cluster, year=today.year)
    assert draft.status == Workflow.DRAFT

    page = officer_client.get("/insights/").text

    assert "2 plans and reports to review" in page
