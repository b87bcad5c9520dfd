"""The cluster page and the cluster list: who may open them, what they show, and what they cost."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from clusterpacts import services
from clusterpacts.models import ClusterPact, Commitment, KpiDefinition, KpiTarget, Workflow
from funding.models import Flag, Project, ProjectPartner, SupportAgreement
from funding.services import agreement_create
from tests import factories
from tests.pages import assert_login_redirect, login, user_for

pytestmark = pytest.mark.django_db


def shown(day):
    with translation.override("en"):
        return date_format(day, "SHORT_DATE_FORMAT")


def open_flag(cluster, subject, message="The annual report is overdue.", resolved_on=None):
    today = timezone.localdate()
    return Flag.objects.create(
        kind=Flag.Kind.REPORT_OVERDUE,
        cluster=cluster,
        subject=subject,
        message=message,
        raised_on=today - timedelta(days=10),
        resolved_on=resolved_on,
    )


# --- who may open which page -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [("manager", 200), ("other_manager", 404), ("officer", 200), ("reader", 200), ("anonymous", 302)],
)
def test_cluster_page_by_role(request, client, role, expected, cluster, other_cluster):
    url = reverse("insights:cluster", args=[cluster.slug])
    response = login(client, user_for(request, role)).get(url)
    if role == "anonymous":
        assert_login_redirect(response, url)
        return
    assert response.status_code == expected
    if expected == 200:
        assert f"<h1>{cluster.name}</h1>" in response.text
        # The links to write the plan and the report are offered only to who may write them.
        assert response.context["can_write"] is (role in {"manager", "officer"})


@pytest.mark.parametrize("role", ["manager", "officer", "reader", "anonymous"])
def test_cluster_page_of_an_unknown_slug_is_404_or_login(request, client, role, cluster):
    url = reverse("insights:cluster", args=["no-such-cluster"])
    response = login(client, user_for(request, role)).get(url)
    if role == "anonymous":
        assert_login_redirect(response, url)
    else:
        assert response.status_code == 404


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("manager", {"Catalisti"}),
        ("other_manager", {"SIM"}),
        ("officer", {"Catalisti", "SIM"}),
        ("reader", {"Catalisti", "SIM"}),
    ],
)
def test_cluster_list_shows_only_the_clusters_in_scope(request, client, role, visible, cluster, other_cluster):
    response = login(client, user_for(request, role)).get(reverse("insights:clusters"))
    assert response.status_code == 200
    assert {row["cluster"].name for row in response.context["rows"]} == visible
    for name in {"Catalisti", "SIM"} - visible:
        assert f">{name}</a>" not in response.text


def test_cluster_list_sends_anonymous_visitors_to_login(client):
    url = reverse("insights:clusters")
    assert_login_redirect(client.get(url), url)


def test_a_user_without_role_sees_no_cluster(client, cluster):
    nobody = factories.UserFactory(username="nobody")
    assert login(client, nobody).get(reverse("insights:cluster", args=[cluster.slug])).status_code == 404
    response = client.get(reverse("insights:clusters"))
    assert response.context["rows"] == []


def test_reader_may_not_write_from_the_cluster_page(client, reader, cluster):
    response = login(client, reader).get(reverse("insights:cluster", args=[cluster.slug]))
    year = timezone.localdate().year
    assert reverse("clusterpacts:plan", args=[cluster.slug, year]) not in response.text
    assert reverse("clusterpacts:report", args=[cluster.slug, year - 1]) not in response.text


# --- what the cluster page shows ---------------------------------------------------------------------


def test_cluster_page_shows_pact_agreements_targets_reports_and_open_flags(
    client, manager, officer, cluster, other_cluster
):
    today = timezone.localdate()
    pact = factories.PactFactory(
        cluster=cluster,
        status=ClusterPact.Status.SIGNED,
        signed_on=date(2017, 12, 15),
        programme_summary="Circular plastics for Flanders.",
    )
    Commitment.objects.create(pact=pact, party=Commitment.Party.MEMBERS, description="Co-finance the programme.")
    draft_pact = factories.PactFactory(cluster=cluster, programme_summary="Unsigned ideas.")
    Commitment.objects.create(pact=draft_pact, party=Commitment.Party.GOVERNMENT, description="Not yet agreed.")
    agreement = agreement_create(
        cluster=cluster,
        reference="SO-CAT-1",
        start_date=date(today.year - 1, 1, 1),
        end_date=date(today.year + 1, 12, 31),
        amount=Decimal("500000"),
    )
    plan = factories.AnnualPlanFactory(cluster=cluster, year=today.year)
    services.kpi_target_set(plan=plan, kpi=KpiDefinition.objects.get(code="C2"), value=Decimal(12))
    old = factories.complete_report(factories.AnnualReportFactory(cluster=cluster, year=today.year - 2))
    services.annual_report_submit(report=old, by=manager)
    services.annual_report_accept(report=old, by=officer)
    factories.AnnualReportFactory(cluster=cluster, year=today.year - 1)
    open_flag(cluster, "report:catalisti:open", message="Report on last year is overdue.")
    open_flag(cluster, "report:catalisti:old", message="An old, resolved flag.", resolved_on=today)
    open_flag(other_cluster, "report:sim:open", message="SIM's own flag.")

    response = login(client, manager).get(reverse("insights:cluster", args=[cluster.slug]))

    text = response.text
    assert response.status_code == 200
    assert "Circular plastics for Flanders." in text
    assert "Co-finance the programme." in text
    assert "Unsigned ideas." not in text and "Not yet agreed." not in text
    assert "SO-CAT-1" in text
    assert shown(agreement.end_date) in text
    assert shown(agreement.cap_date) in text
    assert agreement.cap_date == date(today.year + 8, 12, 31)
    assert response.context["running"] == agreement
    assert [(kpi.code, value) for kpi, value in response.context["targets"]] == [("C2", Decimal(12))]
    assert [(r.year, r.status) for r in response.context["reports"]] == [
        (today.year - 1, Workflow.DRAFT),
        (today.year - 2, Workflow.ACCEPTED),
    ]
    assert "badge-accepted" in text and "badge-draft" in text
    assert reverse("clusterpacts:report", args=[cluster.slug, today.year - 2]) in text
    assert "Report on last year is overdue." in text
    assert "An old, resolved flag." not in text
    assert "SIM's own flag." not in text


def test_cluster_page_offers_the_missing_reports_to_its_manager(client, manager, cluster):
    today = timezone.localdate()
    response = login(client, manager).get(reverse("insights:cluster", args=[cluster.slug]))
    assert response.context["missing_years"] == list(range(cluster.started_on.year, today.year))
    assert reverse("clusterpacts:report", args=[cluster.slug, today.year - 1]) in response.text
    assert reverse("clusterpacts:plan", args=[cluster.slug, today.year]) in response.text


def test_cluster_page_counts_members_from_memberships(client, manager, cluster):
    from clusterpacts.models import Organisation

    factories.MembershipFactory(cluster=cluster, organisation=factories.OrganisationFactory(kind="sme"))
    factories.MembershipFactory(
        cluster=cluster, organisation=factories.OrganisationFactory(kind=Organisation.Kind.COMPANY), paying=False
    )
    response = login(client, manager).get(reverse("insights:cluster", args=[cluster.slug]))
    members = response.context["members"]
    assert (members.members, members.paying, members.sme_share) == (2, 1, Decimal("50.00"))


def test_cluster_page_is_dutch_by_default(client, manager, cluster):
    client.force_login(manager)
    response = client.get(reverse("insights:cluster", args=[cluster.slug]))
    assert "Jaarverslagen" in response.text
    assert "Plafonddatum" in response.text
    assert "Annual reports" not in response.text


def test_cluster_list_shows_running_agreement_and_open_flag_count(client, officer, cluster, other_cluster):
    today = timezone.localdate()
    agreement_create(
        cluster=cluster,
        reference="SO-CAT-1",
        start_date=date(today.year - 1, 1, 1),
        end_date=date(today.year + 1, 12, 31),
        amount=Decimal("500000"),
    )
    open_flag(cluster, "a")
    open_flag(cluster, "b")
    response = login(client, officer).get(reverse("insights:clusters"))
    rows = {row["cluster"].slug: row for row in response.context["rows"]}
    assert rows["catalisti"]["running"].reference == "SO-CAT-1"
    assert rows["catalisti"]["flags"] == 2
    assert rows["sim"]["running"] is None and rows["sim"]["flags"] == 0
    assert shown(date(today.year + 1, 12, 31)) in response.text


# --- query counts -----------------------------------------------------------------------------------


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_cluster_page_queries_do_not_grow_with_reports_agreements_and_flags(client, manager, cluster):
    today = timezone.localdate()
    pact = factories.PactFactory(cluster=cluster, status=ClusterPact.Status.SIGNED, signed_on=date(2017, 12, 15))
    state = {"reports": 0, "agreements": [], "flags": 0}
    partner_cluster = factories.ClusterFactory()

    def grow(n):
        for _ in range(n):
            state["reports"] += 1
            factories.AnnualReportFactory(cluster=cluster, year=1999 + state["reports"])
            previous = state["agreements"][-1] if state["agreements"] else None
            start = previous.end_date + timedelta(days=1) if previous else date(2001, 1, 1)
            state["agreements"].append(
                SupportAgreement.objects.create(
                    cluster=cluster,
                    reference=f"SO-{len(state['agreements'])}",
                    start_date=start,
                    end_date=start + timedelta(days=100),
                    amount=Decimal(1),
                    predecessor=previous,
                    chain_start=date(2001, 1, 1),
                )
            )
            state["flags"] += 1
            open_flag(cluster, f"flag-{state['flags']}")
            Commitment.objects.create(pact=pact, party=Commitment.Party.MEMBERS, description="More.")
            factories.EvaluationFactory(cluster=cluster)
            factories.MembershipFactory(cluster=cluster)
            KpiTarget.objects.create(
                cluster=cluster,
                kpi=KpiDefinition.objects.order_by("position")[state["reports"] % 17],
                year=today.year + state["reports"] // 17,
                value=Decimal(1),
            )
            # Projects in a year of their own, one it leads against its reservation and one inter-cluster
            # project another cluster leads, each with a partner.
            year = 2000 + state["reports"]
            factories.BudgetYearFactory(year=year)
            factories.ProjectFactory(
                lead_cluster=cluster,
                decided_on=date(year, 3, 1),
                partners=[(factories.OrganisationFactory(), ProjectPartner.Role.LEAD)],
            )
            factories.ProjectFactory(
                type=Project.Type.INTER_CLUSTER,
                lead_cluster=partner_cluster,
                clusters=[cluster],
                decided_on=date(year, 6, 1),
            )

    url = reverse("insights:cluster", args=[cluster.slug])
    manager_client = login(client, manager)
    grow(3)
    few = count_queries(manager_client, url)
    grow(12)
    many = count_queries(manager_client, url)
    assert many == few
    context = manager_client.get(url).context
    assert len(context["reports"]) == 15
    assert sum(len(year.projects) for year in context["project_years"]) == 30


def test_cluster_list_queries_do_not_grow_with_clusters(client, officer):
    today = timezone.localdate()

    def grow(n):
        for _ in range(n):
            cluster = factories.ClusterFactory()
            agreement_create(
                cluster=cluster,
                reference=f"SO-{cluster.slug}",
                start_date=date(today.year - 1, 1, 1),
                end_date=date(today.year + 1, 12, 31),
                amount=Decimal(1),
            )
            open_flag(cluster, f"flag-{cluster.slug}")

    url = reverse("insights:clusters")
    officer_client = login(client, officer)
    grow(3)
    few = count_queries(officer_client, url)
    grow(12)
    assert count_queries(officer_client, url) == few
    rows = officer_client.get(url).context["rows"]
    assert len(rows) == 15 and all(row["running"] and row["flags"] == 1 for row in rows)
