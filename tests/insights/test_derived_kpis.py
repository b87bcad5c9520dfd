"""The derived KPIs (MEM1 paying members, MEM2 share of SMEs): computed from the memberships at each working
year's end by one selector (`clusterpacts.selectors.derived_figures`), never typed in, and read the same by
the report and review pages, the cluster page, the comparison and the briefing; a year without membership
data warns instead of showing 0."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format

from clusterpacts import services
from clusterpacts.models import KpiValue, Organisation
from clusterpacts.selectors import derived_figures, derived_figures_of
from insights.selectors import briefing, kpi_comparison, kpi_evolution
from tests import factories
from tests.pages import login

SME, COMPANY = Organisation.Kind.SME, Organisation.Kind.COMPANY


def member(cluster, kind=SME, *, joined=date(2020, 1, 1), left=None, paying=True):
    return factories.MembershipFactory(
        cluster=cluster,
        organisation=factories.OrganisationFactory(kind=kind),
        joined_on=joined,
        left_on=left,
        paying=paying,
    )


@pytest.fixture
def members(cluster, other_cluster):
    """Catalisti on 31-12-2022: 4 members (3 paying), 3 of them SMEs; SIM: 1 company."""
    member(cluster)
    member(cluster, paying=False)
    member(cluster, COMPANY)
    member(cluster, joined=date(2022, 12, 31))  # joined on the year's last day: counts
    member(cluster, left=date(2022, 12, 30))  # left the day before: does not
    member(cluster, joined=date(2023, 1, 1))  # joined the next day: does not
    member(other_cluster, COMPANY)


# --- the selector ---------------------------------------------------------------------------------


def test_derived_figures_count_the_memberships_active_on_the_years_last_day(cluster, members):
    figures = derived_figures_of(cluster=cluster, year=2022, as_of=date(2025, 6, 1))

    assert figures.on == date(2022, 12, 31) and figures.year_end
    assert (figures.figures.members, figures.figures.paying, figures.figures.smes) == (4, 3, 3)
    assert figures.value("MEM1") == Decimal(3)
    assert figures.value("MEM2") == Decimal("75.00")


def test_a_year_without_membership_data_has_no_value_not_zero(cluster, other_cluster, members):
    # The cluster's first member joined in 2020; on 31-12-2019 it had none.
    figures = derived_figures_of(cluster=cluster, year=2019, as_of=date(2025, 6, 1))
    assert not figures.has_data
    assert figures.value("MEM1") is None and figures.value("MEM2") is None
    # A cluster without any membership at all, likewise.
    empty = factories.ClusterFactory()
    assert derived_figures_of(cluster=empty, year=2022).value("MEM1") is None


def test_a_derived_kpi_the_selector_cannot_compute_has_no_value(cluster, members):
    assert derived_figures_of(cluster=cluster, year=2022).value("UNKNOWN") is None


def test_the_running_year_is_counted_on_the_day_asked(cluster, members):
    figures = derived_figures_of(cluster=cluster, year=2022, as_of=date(2022, 12, 30))
    assert figures.on == date(2022, 12, 30) and not figures.year_end
    assert figures.figures.members == 4  # the one who left on the 30th was a member that day; the 31st's not yet


def test_derived_figures_of_many_clusters_and_years_cost_three_queries(
    cluster, other_cluster, members, django_assert_num_queries
):
    """One for the memberships, two for the projects (with their other clusters, and their partners)."""
    with django_assert_num_queries(3):
        figures = derived_figures(
            cluster_ids=[cluster.pk, other_cluster.pk], years=range(2017, 2025), as_of=date(2025, 6, 1)
        )
    assert len(figures) == 16
    assert figures[other_cluster.pk, 2022].value("MEM2") == Decimal("0.00")  # one member, no SME: 0 %, not None
    assert figures[other_cluster.pk, 2019].value("MEM2") is None


# --- every reader shows the same computed figure -----------------------------------------------------


def test_every_reader_shows_the_computed_figure_not_a_stored_one(cluster, officer, members):
    # What a report holds for MEM1 (an old submission, an imported history) is not the figure.
    report = services.annual_report_create(cluster=cluster, year=2022)
    KpiValue.objects.create(report=report, cluster=cluster, year=2022, kpi=factories.kpi("MEM1"), value=99)
    mem1, mem2 = factories.kpi("MEM1"), factories.kpi("MEM2")

    evolution = {row["kpi"].code: row for row in kpi_evolution(cluster=cluster, years=[2019, 2022])}
    assert [p["value"] for p in evolution["MEM1"]["years"]] == [None, Decimal(3)]
    assert [p["status"] for p in evolution["MEM1"]["years"]] == [None, "derived"]
    assert [p["value"] for p in evolution["MEM2"]["years"]] == [None, Decimal("75.00")]

    compared = kpi_comparison(clusters=[cluster], kpi=mem2, years=[2022])
    assert compared[0]["years"][0]["value"] == Decimal("75.00")

    answer = briefing(user=officer, as_of=date(2023, 3, 1))
    kpis = {kpi["code"]: kpi for kpi in answer["kpis"][0]["kpis"]}
    assert (kpis["MEM1"]["value"], kpis["MEM1"]["official"]) == (Decimal(3), True)
    assert kpis["MEM2"]["value"] == Decimal("75.00")
    assert mem1.is_derived


def test_the_cluster_page_shows_how_each_derived_figure_was_computed(client, officer, cluster, members):
    cluster.started_on = date(2022, 1, 1)
    cluster.save()

    response = login(client, officer).get(reverse("insights:cluster", args=[cluster.slug]))

    text = " ".join(response.text.split())
    with translation.override("en"):
        day = date_format(date(2022, 12, 31), "SHORT_DATE_FORMAT")
    assert f"4 members on {day}, of which 3 SMEs: 75 %, from the memberships" in text
    assert f"3 paying of 4 members on {day}, from the memberships" in text
    assert "No membership data" not in text


def test_an_officer_is_warned_on_the_cluster_page_of_years_without_membership_data(
    client, officer, manager, cluster, members
):
    cluster.started_on = date(2018, 1, 1)
    cluster.save()
    url = reverse("insights:cluster", args=[cluster.slug])

    text = " ".join(login(client, officer).get(url).text.split())
    assert "No membership data for 2018, 2019: the membership KPIs of these years cannot be computed." in text, (
        "the two years before the first member joined"
    )

    # The manager is warned where they can act on it, on the report page, not here.
    client.logout()
    assert "No membership data" not in login(client, manager).get(url).text


def test_a_manager_never_sees_another_clusters_derived_figures(client, manager, other_cluster, members):
    client = login(client, manager)
    assert client.get(reverse("insights:cluster", args=[other_cluster.slug])).status_code == 404
    assert client.get(reverse("clusterpacts:report", args=[other_cluster.slug, 2022])).status_code == 404


def test_the_warning_and_the_how_are_in_dutch_in_the_dutch_portal(client, manager, cluster, members):
    cluster.started_on = date(2019, 1, 1)
    cluster.save()

    def page(year):
        url = reverse("clusterpacts:report", args=[cluster.slug, year])
        return " ".join(login(client, manager, "nl").get(url).text.split())

    text = page(2019)
    assert "Geen ledengegevens voor 2019: de leden-KPI's kunnen niet worden berekend." in text

    text = page(2022)
    assert "4 leden op 31-12-2022, waarvan 3 kmo's: 75 %, uit de lidmaatschappen" in text
