"""The officer's dashboard: flags, latest evaluations, agreements ending soon, reports, the budget."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from funding.models import Flag, SupportAgreement
from insights.views import DASHBOARD_ROWS
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
        seven_page = client.get("/insights/", HTTP_ACCEPT_LANGUAGE="en").text
    _world(33)
    with CaptureQueriesContext(connection) as forty:
        response = client.get("/insights/", HTTP_ACCEPT_LANGUAGE="en")
    assert seven_page.count("<td>SO-cluster-") == 7, "every agreement ending soon, while they fit the block"
    assert len(seven) == len(forty)
    text = response.text
    # Each block is bounded: the first rows, how many there are, and where the rest is.
    assert text.count("<td>SO-cluster-") == DASHBOARD_ROWS
    assert f"The first {DASHBOARD_ROWS} of 40 agreements ending in the next 24 months" in text
    flags = text.split('id="flags-h"')[1].split("</section>")[0]
    assert flags.count("<li>") == DASHBOARD_ROWS and '<span class="count">40</span>' in flags
    assert "All 40 open flags of this kind" in flags and "kind__exact=renewal_due" in flags
    evaluations = text.split('id="eval-h"')[1].split("</section>")[0]
    assert evaluations.count("<tr><td>") == DASHBOARD_ROWS and f"{DASHBOARD_ROWS} of 40 clusters" in evaluations


def test_last_years_reports_are_counted_for_every_cluster_and_listed_for_the_first(client, officer):
    from datetime import date

    today = timezone.localdate()
    for _ in range(DASHBOARD_ROWS + 3):
        factories.ClusterFactory(started_on=date(today.year - 3, 1, 1))
    client.force_login(officer)
    text = client.get("/insights/", HTTP_ACCEPT_LANGUAGE="en").text
    reports = text.split('id="reports-h"')[1].split("</section>")[0]
    assert f"{DASHBOARD_ROWS + 3}</li>" in reports, "every cluster's report of last year is counted"
    assert reports.count("<tr><td>") == DASHBOARD_ROWS and "and 3 more clusters" in reports


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
