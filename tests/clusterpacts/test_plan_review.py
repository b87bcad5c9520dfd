"""Plan review in the portal (issue 14, item 2): the review queue holds plans and reports and filters
them; an officer accepts or returns a submitted plan on its review page; the e-mail about a submitted
plan links there; an accepted plan reads "accepted" on every page that shows it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from clusterpacts import services
from clusterpacts.models import AnnualPlan, KpiDefinition, ReportEvent, Workflow
from core.versions import VERSION_FIELD
from tests import factories
from tests.pages import assert_login_redirect, login, user_for

pytestmark = pytest.mark.django_db

ROLES = ["manager", "other_manager", "officer", "reader", "anonymous"]


@pytest.fixture
def plan_year():
    return timezone.localdate().year + 1


def submitted_plan(cluster, year, by=None):
    plan = factories.complete_plan(services.annual_plan_create(cluster=cluster, year=year, planned_actions="Calls."))
    return services.document_submit(document=plan, by=by)


def review_url(plan):
    return reverse("clusterpacts:review-plan", args=[plan.pk])


# --- who may open and decide -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "own", "expected"),
    [
        ("manager", True, 403),
        ("manager", False, 403),
        ("other_manager", True, 403),
        ("officer", True, 200),
        ("reader", True, 403),
        ("anonymous", True, 302),
    ],
)
def test_only_an_officer_opens_a_plans_review_page(
    request, client, role, own, expected, cluster, other_cluster, plan_year
):
    plan = submitted_plan(cluster if own else other_cluster, plan_year)
    url = review_url(plan)
    response = login(client, user_for(request, role)).get(url)
    if role == "anonymous":
        assert_login_redirect(response, url)
        return
    assert response.status_code == expected
    if expected == 200:
        assert "Calls." in response.text
        assert 'value="accept"' in response.text and 'value="return"' in response.text


@pytest.mark.parametrize("role", ROLES)
def test_only_an_officer_accepts_a_plan(request, client, role, cluster, other_cluster, plan_year):
    plan = submitted_plan(cluster, plan_year)
    url = review_url(plan)
    response = login(client, user_for(request, role)).post(url, {"decision": "accept", "comment": ""})
    plan.refresh_from_db()
    if role == "officer":
        assert response.status_code == 302
        assert plan.status == Workflow.ACCEPTED
        return
    assert response.status_code == (302 if role == "anonymous" else 403)
    assert plan.status == Workflow.SUBMITTED
    assert not ReportEvent.objects.filter(plan=plan, to_status=Workflow.ACCEPTED).exists()


@pytest.mark.parametrize("role", ["manager", "other_manager", "reader"])
def test_the_review_queue_is_only_for_officers(request, client, role, cluster, other_cluster):
    response = login(client, user_for(request, role)).get(reverse("clusterpacts:review"), {"kind": "plan"})
    assert response.status_code == 403


def test_an_unknown_plan_has_no_review_page(officer_client):
    assert officer_client.get(reverse("clusterpacts:review-plan", args=[999999])).status_code == 404


# --- the review page -----------------------------------------------------------------------------------


def test_the_plans_review_page_shows_its_targets_beside_last_years_targets_and_values(
    officer_client, manager, cluster, plan_year
):
    cpi1 = factories.kpi("CPI1")
    last_plan = services.annual_plan_create(cluster=cluster, year=plan_year - 1)
    services.kpi_target_set(plan=last_plan, kpi=cpi1, value=Decimal(40))
    last_report = services.annual_report_create(cluster=cluster, year=plan_year - 1, narrative="Year.")
    services.kpi_value_set(report=last_report, kpi=cpi1, value=Decimal(30))
    plan = services.annual_plan_create(cluster=cluster, year=plan_year, planned_actions="Two calls, one fair.")
    services.kpi_target_set(plan=plan, kpi=cpi1, value=Decimal(45))
    plan = services.document_submit(document=factories.complete_plan(plan), by=manager)

    response = officer_client.get(review_url(plan))

    row = next(r for r in response.context["rows"] if r["kpi"].code == "CPI1")
    assert (row["last_year_target"], row["last_year"], row["target"]) == (Decimal(40), Decimal(30), Decimal(45))
    assert row["last_year_achievement"] == 75
    assert "Two calls, one fair." in response.text
    assert "75 %" in response.text


def test_returning_a_plan_needs_a_comment_and_then_tells_the_manager(
    officer_client, manager, cluster, plan_year, mailoutbox, django_capture_on_commit_callbacks
):
    plan = submitted_plan(cluster, plan_year, manager)
    url = review_url(plan)

    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(url, {"decision": "return", "comment": "  "})
    assert response.status_code == 200
    assert response.context["form"].errors["comment"] == ["Say why the plan is returned: a comment is required."]
    assert "autofocus" in re.search(r'<textarea[^>]*name="comment"[^>]*>', response.text).group(0)
    plan.refresh_from_db()
    assert plan.status == Workflow.SUBMITTED
    assert mailoutbox == []

    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(url, {"decision": "return", "comment": "Add a target for CPI3, please."})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.status, plan.review_comment) == (Workflow.RETURNED, "Add a target for CPI3, please.")
    assert [m.to for m in mailoutbox] == [[manager.email]]
    assert "Add a target for CPI3, please." in mailoutbox[0].body


def test_a_plan_changed_since_the_review_page_opened_is_not_accepted(officer_client, officer, cluster, plan_year):
    plan = submitted_plan(cluster, plan_year)
    opened = officer_client.get(review_url(plan)).context["form"].initial[VERSION_FIELD]
    # Meanwhile another officer changes the plan (the admin may, on a submitted plan).
    services.document_update(document=plan, planned_actions="Calls, and a fair.")

    response = officer_client.post(review_url(plan), {"decision": "accept", "comment": "", VERSION_FIELD: opened})

    assert response.status_code == 200
    assert "since you opened it" in " ".join(response.context["form"].non_field_errors())
    plan.refresh_from_db()
    assert plan.status == Workflow.SUBMITTED


def test_an_accepted_plan_has_no_buttons_and_cannot_be_accepted_again(officer_client, cluster, plan_year):
    plan = submitted_plan(cluster, plan_year)
    services.document_transition(document=plan, to=Workflow.ACCEPTED)
    page = officer_client.get(review_url(plan))
    assert 'value="accept"' not in page.text
    response = officer_client.post(review_url(plan), {"decision": "accept", "comment": ""})
    assert response.status_code == 200
    assert ReportEvent.objects.filter(plan=plan, to_status=Workflow.ACCEPTED).count() == 1


# --- the e-mail links to the page with the buttons --------------------------------------------------


def test_the_mail_about_a_submitted_plan_links_to_its_review_page(
    settings, client, manager, officer, cluster, plan_year, mailoutbox, django_capture_on_commit_callbacks
):
    settings.CLUSTERPACTS_SITE_URL = "https://portal.example"
    kpis = KpiDefinition.objects.filter(active=True)
    data = {"planned_actions": "Calls.", **{f"kpi_{k.code}": "10" for k in kpis}, "submit": "1"}
    with django_capture_on_commit_callbacks(execute=True):
        response = login(client, manager).post(reverse("clusterpacts:plan", args=[cluster.slug, plan_year]), data)
    assert response.status_code == 302
    plan = AnnualPlan.objects.get(cluster=cluster, year=plan_year)
    assert [m.to for m in mailoutbox] == [[officer.email]]
    assert f"https://portal.example{review_url(plan)}" in mailoutbox[0].body


# --- the queue ---------------------------------------------------------------------------------------


def kinds_and_clusters(response):
    return [(i.kind, i.document.cluster.slug, i.document.year) for i in response.context["items"]]


def test_the_queue_holds_plans_and_reports_waiting_for_review_by_default(
    officer_client, manager, cluster, other_cluster, plan_year
):
    year = timezone.localdate().year - 1
    plan = submitted_plan(cluster, plan_year)
    report = services.document_submit(
        document=factories.complete_report(services.annual_report_create(cluster=other_cluster, year=year))
    )
    services.annual_plan_create(cluster=other_cluster, year=plan_year)  # a draft: not waiting

    response = officer_client.get(reverse("clusterpacts:review"))

    assert kinds_and_clusters(response) == [("plan", "catalisti", plan_year), ("report", "sim", year)]
    assert review_url(plan) in response.text
    assert reverse("clusterpacts:review-report", args=[report.pk]) in response.text


def test_the_queue_filters_by_kind_cluster_year_and_state(officer_client, cluster, other_cluster, plan_year):
    year = timezone.localdate().year - 1
    submitted_plan(cluster, plan_year)
    submitted_plan(other_cluster, plan_year)
    accepted = submitted_plan(cluster, plan_year - 1)
    services.document_transition(document=accepted, to=Workflow.ACCEPTED)
    services.document_submit(
        document=factories.complete_report(services.annual_report_create(cluster=cluster, year=year))
    )
    url = reverse("clusterpacts:review")

    plans = officer_client.get(url, {"kind": "plan"})
    assert kinds_and_clusters(plans) == [("plan", "catalisti", plan_year), ("plan", "sim", plan_year)]
    assert plans.context["show_overdue"] is False
    assert kinds_and_clusters(officer_client.get(url, {"kind": "report"})) == [("report", "catalisti", year)]
    assert kinds_and_clusters(officer_client.get(url, {"cluster": "sim"})) == [("plan", "sim", plan_year)]
    assert kinds_and_clusters(officer_client.get(url, {"year": plan_year - 1})) == []
    assert kinds_and_clusters(officer_client.get(url, {"year": plan_year - 1, "state": "accepted"})) == [
        ("plan", "catalisti", plan_year - 1)
    ]
    every = officer_client.get(url, {"kind": "plan", "cluster": "catalisti", "state": "all"})
    assert sorted(kinds_and_clusters(every)) == [
        ("plan", "catalisti", plan_year - 1),
        ("plan", "catalisti", plan_year),
    ]


def test_an_unknown_filter_value_is_said_and_the_queue_still_shows_what_waits(officer_client, cluster, plan_year):
    submitted_plan(cluster, plan_year)
    response = officer_client.get(reverse("clusterpacts:review"), {"kind": "memo", "year": "soon"})
    assert response.status_code == 200
    assert set(response.context["filters"].errors) == {"kind", "year"}
    assert kinds_and_clusters(response) == [("plan", "catalisti", plan_year)]


def test_the_queue_answers_in_the_same_number_of_queries_however_many_plans(officer_client, plan_year):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def grow(n):
        for _ in range(n):
            submitted_plan(factories.ClusterFactory(), plan_year)

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = officer_client.get(reverse("clusterpacts:review"), {"kind": "plan", "state": "all"})
        assert response.status_code == 200
        return len(queries), len(response.context["items"])

    grow(2)
    few, listed = count()
    grow(10)
    many, more = count()
    assert (listed, more) == (2, 12)
    assert many == few


# --- "accepted" everywhere -------------------------------------------------------------------------


def test_an_accepted_plan_reads_accepted_on_its_page_and_the_cluster_page(client, manager, cluster, plan_year):
    plan = submitted_plan(cluster, plan_year)
    services.document_transition(document=plan, to=Workflow.ACCEPTED)
    login(client, manager, language="nl")

    with translation.override("nl"):
        page = client.get(reverse("clusterpacts:plan", args=[cluster.slug, plan_year])).text
        home = client.get(reverse("insights:cluster", args=[cluster.slug])).text

    assert 'badge-accepted">aanvaard<' in page
    assert "VLAIO heeft dit jaarplan aanvaard" in page
    assert "ingediend" not in page
    plans = home[home.index('class="plans"') : home.index("</ul>", home.index('class="plans"'))]
    assert f"Jaarplan {plan_year}" in plans
    assert 'badge-accepted">aanvaard<' in plans
    assert "ingediend" not in plans


def test_a_submitted_plan_reads_submitted_until_it_is_reviewed(client, manager, cluster, plan_year):
    submitted_plan(cluster, plan_year)
    page = login(client, manager).get(reverse("clusterpacts:plan", args=[cluster.slug, plan_year])).text
    assert "being reviewed by VLAIO" in page
    assert "accepted this plan" not in page
