"""A cluster over the years and one KPI across clusters: the selectors, the cluster page and the compare page."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.formats import date_format

from clusterpacts import services
from clusterpacts.models import KpiDefinition, Membership, Organisation, Workflow
from clusterpacts.selectors import membership_figures, membership_figures_on
from evaluations.models import Finding, Lesson
from evaluations.services import evaluation_advance, lesson_carry
from funding.models import Allocation, Project, ProjectPartner
from funding.services import agreement_create, agreement_extend
from insights.selectors import kpi_comparison, kpi_evolution
from insights.views import COMPARE_PAGE_SIZE
from tests import factories

pytestmark = pytest.mark.django_db


def this_year() -> int:
    return timezone.localdate().year


def shown(day: date) -> str:
    with translation.override("en"):
        return date_format(day, "SHORT_DATE_FORMAT")


def kpi(code: str) -> KpiDefinition:
    return KpiDefinition.objects.get(code=code)


def member(cluster, joined_on, left_on=None, *, kind=Organisation.Kind.SME, paying=True) -> Membership:
    organisation = factories.OrganisationFactory(kind=kind)
    return services.membership_save(
        membership=Membership(
            cluster=cluster, organisation=organisation, joined_on=joined_on, left_on=left_on, paying=paying
        )
    )


def report(cluster, year, values, status=Workflow.ACCEPTED):
    """An annual report with KPI values, taken through the workflow up to `status`; one that goes beyond
    a draft is first made complete (the other active KPIs get a value), as it must be to be submitted."""
    document = services.annual_report_create(cluster=cluster, year=year)
    for code, value in values.items():
        services.kpi_value_set(report=document, kpi=kpi(code), value=Decimal(value))
    if status != Workflow.DRAFT:
        factories.complete_report(document)
        services.annual_report_submit(report=document)
    if status == Workflow.ACCEPTED:
        services.annual_report_accept(report=document)
    elif status == Workflow.RETURNED:
        services.annual_report_return(report=document, comment="Figures do not add up.")
    return document


def targets(cluster, year, values):
    plan = services.annual_plan_create(cluster=cluster, year=year)
    for code, value in values.items():
        services.kpi_target_set(plan=plan, kpi=kpi(code), value=Decimal(value))
    return plan


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def between(text: str, start: str, end: str) -> str:
    assert start in text
    return text.split(start, 1)[1].split(end, 1)[0]


# --- membership figures on several days -------------------------------------------------------------------


def test_membership_figures_on_several_days_match_one_day_at_a_time(cluster, other_cluster):
    member(cluster, date(2019, 3, 1), date(2021, 6, 30))
    member(cluster, date(2020, 1, 1), kind=Organisation.Kind.COMPANY, paying=False)
    member(cluster, date(2020, 7, 1), date(2020, 12, 31), kind=Organisation.Kind.KNOWLEDGE_INSTITUTION)
    member(cluster, date(2021, 2, 1))
    member(other_cluster, date(2018, 1, 1))
    days = [date(2018, 12, 31) + timedelta(days=180 * n) for n in range(10)]

    with CaptureQueriesContext(connection) as queries:
        figures = membership_figures_on(cluster=cluster, days=days)

    assert len(queries) == 1
    assert list(figures) == days
    assert {day: membership_figures(cluster=cluster, on=day) for day in days} == figures
    # SIM's member (since 2018) is never counted: Catalisti has nobody at the end of 2018.
    assert [figures[day].members for day in days] == [0, 1, 1, 2, 3, 3, 2, 2, 2, 2]
    assert [figures[day].paying for day in days] == [0, 1, 1, 1, 2, 2, 1, 1, 1, 1]
    assert [figures[day].smes for day in days] == [0, 1, 1, 1, 1, 2, 1, 1, 1, 1]
    assert figures[date(2018, 12, 31)].sme_share is None
    assert figures[days[4]].sme_share == Decimal("33.33")


def test_a_member_counts_on_its_join_and_leave_days_but_not_the_day_after(cluster):
    member(cluster, date(2022, 5, 10), date(2022, 8, 31))
    days = [date(2022, 5, 9), date(2022, 5, 10), date(2022, 8, 31), date(2022, 9, 1)]
    figures = membership_figures_on(cluster=cluster, days=days)
    assert [figures[day].members for day in days] == [0, 1, 1, 0]
    assert [figures[day].smes for day in days] == [0, 1, 1, 0]
    assert figures[date(2022, 8, 31)].sme_share == Decimal("100.00")


def test_sme_share_is_none_without_members_and_counts_paying_members(cluster):
    on = date(2024, 12, 31)
    assert membership_figures(cluster=cluster, on=on).sme_share is None
    member(cluster, date(2020, 1, 1))
    member(cluster, date(2020, 1, 1), kind=Organisation.Kind.COMPANY, paying=False)
    member(cluster, date(2020, 1, 1), kind=Organisation.Kind.KNOWLEDGE_INSTITUTION)
    figures = membership_figures(cluster=cluster, on=on)
    assert (figures.members, figures.paying, figures.smes) == (3, 2, 1)
    assert figures.sme_share == Decimal("33.33")


def test_membership_figures_on_no_day_cost_no_query(cluster):
    with CaptureQueriesContext(connection) as queries:
        assert membership_figures_on(cluster=cluster, days=[]) == {}
    assert len(queries) == 0


# --- kpi_evolution ---------------------------------------------------------------------------------------


def evolution_of(cluster, code, years):
    rows = {row["kpi"].code: row for row in kpi_evolution(cluster=cluster, years=years)}
    return rows[code]["years"]


def test_kpi_evolution_shows_accepted_and_pending_values_and_leaves_out_drafts(cluster):
    for year in (2021, 2022, 2023, 2024):
        targets(cluster, year, {"CPI1": 20})
    report(cluster, 2021, {"CPI1": 10}, Workflow.ACCEPTED)
    report(cluster, 2022, {"CPI1": 12}, Workflow.SUBMITTED)
    report(cluster, 2023, {"CPI1": 14}, Workflow.DRAFT)
    report(cluster, 2024, {"CPI1": 16}, Workflow.RETURNED)

    points = evolution_of(cluster, "CPI1", [2021, 2022, 2023, 2024])

    assert [p["year"] for p in points] == [2021, 2022, 2023, 2024]
    assert [p["status"] for p in points] == ["accepted", "pending", None, None]
    assert [p["value"] for p in points] == [Decimal(10), Decimal(12), None, None]
    assert [p["target"] for p in points] == [Decimal(20)] * 4, "targets show whatever the report's status"
    assert [p["achievement"] for p in points] == [Decimal(50), Decimal(60), None, None]


def test_kpi_evolution_has_a_row_per_active_kpi_in_catalogue_order(cluster):
    services.entity_save(instance=kpi("C6"), active=False)
    rows = kpi_evolution(cluster=cluster, years=[2024])
    codes = [row["kpi"].code for row in rows]
    assert codes == list(
        KpiDefinition.objects.filter(active=True).order_by("position", "code").values_list("code", flat=True)
    )
    assert "C6" not in codes and "CPI1" in codes
    assert all(row["years"] == [{**row["years"][0], "year": 2024}] for row in rows)
    # Nothing reported, no member: no value; the counts of decided projects are 0, as the (empty) record says.
    counted = {"CPI3", "PRJ1", "C4", "CPI7", "CPI8"}
    assert all(row["years"][0]["value"] is None for row in rows if row["kpi"].code not in counted)
    assert all(row["years"][0]["value"] == 0 for row in rows if row["kpi"].code in counted)
    assert all(row["years"][0]["status"] is None for row in rows if not row["kpi"].is_derived)


def test_kpi_evolution_achievement_respects_the_kpi_direction(cluster):
    lower = KpiDefinition.objects.filter(direction=KpiDefinition.Direction.LOWER, active=True).first()
    if lower is None:
        lower = KpiDefinition.objects.create(
            code="LOW1",
            name_nl="Doorlooptijd van een projectaanvraag",
            name_en="Lead time of a project application",
            unit=KpiDefinition.Unit.COUNT,
            category=KpiDefinition.Category.DIRECT_RESULTS,
            direction=KpiDefinition.Direction.LOWER,
            position=99,
        )
    targets(cluster, 2023, {lower.code: 40, "CPI1": 40})
    targets(cluster, 2024, {lower.code: 40, "CPI1": 40})
    report(cluster, 2023, {lower.code: 80, "CPI1": 80})
    report(cluster, 2024, {lower.code: 20, "CPI1": 20})

    assert [p["achievement"] for p in evolution_of(cluster, lower.code, [2023, 2024])] == [
        Decimal(50),
        Decimal(200),
    ], "lower is better: twice the target is half achieved"
    assert [p["achievement"] for p in evolution_of(cluster, "CPI1", [2023, 2024])] == [Decimal(200), Decimal(50)]


def test_kpi_evolution_costs_the_same_queries_for_2_and_10_years():
    cluster = factories.ClusterFactory(started_on=date(2014, 1, 1))
    for year in range(2015, 2025):
        targets(cluster, year, {"CPI1": 10, "CPI9": 5})
        report(cluster, year, {"CPI1": year - 2010, "CPI9": 3}, Workflow.ACCEPTED if year % 2 else Workflow.SUBMITTED)

    with CaptureQueriesContext(connection) as two:
        short = kpi_evolution(cluster=cluster, years=[2023, 2024])
    with CaptureQueriesContext(connection) as ten:
        long = kpi_evolution(cluster=cluster, years=list(range(2015, 2025)))

    # KPIs, targets, values, the workflow steps that replay each report's status as of the day, and the
    # derived KPIs' memberships and projects (with their partners).
    assert len(two) == len(ten) <= 7
    cpi1 = next(row for row in long if row["kpi"].code == "CPI1")
    assert [p["value"] for p in cpi1["years"]] == [Decimal(year - 2010) for year in range(2015, 2025)]
    assert [p["status"] for p in cpi1["years"]][:2] == ["accepted", "pending"]
    assert len(short[0]["years"]) == 2


# --- kpi_comparison --------------------------------------------------------------------------------------


def test_kpi_comparison_gives_a_row_per_cluster_in_order_with_only_its_own_values(cluster, other_cluster):
    third = factories.ClusterFactory(name="VIL", slug="vil")
    targets(cluster, 2023, {"CPI9": 10})
    targets(other_cluster, 2023, {"CPI9": 8})
    report(cluster, 2023, {"CPI9": 5, "CPI1": 111})
    report(other_cluster, 2023, {"CPI9": 20}, Workflow.SUBMITTED)
    report(other_cluster, 2024, {"CPI9": 30})
    report(third, 2024, {"CPI9": 77})

    rows = kpi_comparison(clusters=[other_cluster, cluster], kpi=kpi("CPI9"), years=[2022, 2023, 2024])

    assert [row["cluster"] for row in rows] == [other_cluster.pk, cluster.pk], "in the order given; VIL not asked"
    assert [row["cluster_name"] for row in rows] == ["SIM", "Catalisti"]
    assert [row["slug"] for row in rows] == ["sim", "catalisti"]
    sim, catalisti = rows
    assert [p["year"] for p in sim["years"]] == [2022, 2023, 2024]
    assert [p["value"] for p in sim["years"]] == [None, Decimal(20), Decimal(30)]
    assert [p["status"] for p in sim["years"]] == [None, "pending", "accepted"]
    assert [p["target"] for p in sim["years"]] == [None, Decimal(8), None]
    assert [p["achievement"] for p in sim["years"]] == [None, Decimal(250), None]
    assert [p["value"] for p in catalisti["years"]] == [None, Decimal(5), None], "SIM's 2024 value is not Catalisti's"
    assert [p["achievement"] for p in catalisti["years"]] == [None, Decimal(50), None]
    values = {p["value"] for row in rows for p in row["years"]}
    assert Decimal(77) not in values and Decimal(111) not in values, "not another cluster's, nor another KPI's"


# --- the cluster page ------------------------------------------------------------------------------------


def cluster_url(cluster) -> str:
    return f"/clusters/{cluster.slug}/"


def test_cluster_page_shows_a_figure_per_active_kpi_with_accepted_and_pending_values(officer_client, cluster):
    year = this_year()
    services.entity_save(instance=kpi("C6"), active=False)
    targets(cluster, year - 1, {"CPI1": 10})
    report(cluster, year - 3, {"CPI1": 5}, Workflow.DRAFT)
    report(cluster, year - 2, {"CPI1": 7}, Workflow.ACCEPTED)
    report(cluster, year - 1, {"CPI1": 9}, Workflow.SUBMITTED)

    text = officer_client.get(cluster_url(cluster)).text

    figures = re.findall(r'<figure class="chart-figure" id="kpi-([A-Z0-9]+)">', text)
    assert figures == list(
        KpiDefinition.objects.filter(active=True).order_by("position", "code").values_list("code", flat=True)
    )
    assert "C6" not in figures
    cpi1 = between(text, 'id="kpi-CPI1"', "</figure>")
    row = r'<tr><th scope="row">{year}</th><td class="num">{target}</td><td class="num">{value}</td>'
    assert re.search(row.format(year=year - 3, target="—", value="—"), cpi1), "a draft's value is not shown"
    assert re.search(row.format(year=year - 2, target="—", value="7"), cpi1), "accepted: the bare value"
    assert re.search(
        row.format(year=year - 1, target="10", value='9 <abbr class="pending" title="[^"]+">\\*</abbr>'), cpi1
    )
    assert cpi1.count('<abbr class="pending"') == 1
    assert '<span class="bad">90 %</span>' in cpi1
    assert cpi1.count('<rect class="bar" ') == 1 and cpi1.count('<rect class="bar-pending" ') == 1
    assert cpi1.count('<line class="target"') == 1


def member_rows(text: str) -> dict[int, tuple[str, ...]]:
    table = between(text, '<caption class="visually-hidden">Members at the end of each year</caption>', "</table>")
    cells = r'<td class="num">([^<]*)</td>'
    pattern = r'<th scope="row">(\d{4})(?: <span class="meta">\([^)]*\)</span>)?</th>' + cells * 4
    return {int(found[0]): found[1:] for found in re.findall(pattern, table)}


def test_cluster_page_counts_members_at_each_year_end(officer_client, cluster):
    year = this_year()
    member(cluster, date(year - 3, 3, 1), date(year - 1, 12, 31))  # counted up to its leaving day
    member(cluster, date(year - 2, 6, 1), kind=Organisation.Kind.COMPANY, paying=False)
    member(cluster, date(year - 2, 2, 1), date(year - 2, 12, 30))  # gone a day before the year end

    response = officer_client.get(cluster_url(cluster))

    rows = member_rows(response.text)
    assert list(rows) == list(range(cluster.started_on.year, year + 1))
    assert rows[year - 4] == ("0", "0", "0", "—")
    assert rows[year - 3] == ("1", "1", "1", "100.0 %")
    assert rows[year - 2] == ("2", "1", "1", "50.0 %")
    assert rows[year - 1] == ("2", "1", "1", "50.0 %")
    assert rows[year] == ("1", "0", "0", "0.0 %"), "this year is counted on today's date"
    chart = response.context["members_chart"]
    assert len(rows) == 10 and len(chart.rects) == 10, "a column per year"
    # Ten years' labels at a legible size would run into each other on this narrow chart: every other one.
    assert [t.label for t in chart.x_ticks] == [str(y) for y in list(rows)[::2]]


def test_cluster_page_draws_the_agreement_chain_up_to_its_cap(officer_client, cluster):
    year = this_year()
    assert '<line class="cap"' not in officer_client.get(cluster_url(cluster)).text, "no agreements, no timeline"
    first = agreement_create(
        cluster=cluster,
        reference="SO-CAT-1",
        start_date=date(year - 4, 1, 1),
        end_date=date(year - 2, 12, 31),
        amount=Decimal(500_000),
    )
    factories.completed_interim(cluster, date(year - 2, 6, 1))
    second = agreement_extend(
        predecessor=first, reference="SO-CAT-2", end_date=date(year + 1, 12, 31), amount=Decimal(500_000)
    )
    cap = second.cap_date
    assert cap == date(year + 5, 12, 31)

    response = officer_client.get(cluster_url(cluster))

    figure = between(response.text, 'id="agreements-heading"', "</figure>")
    assert 'role="img"' in figure
    assert figure.count('<rect class="agreement') == 2
    caps = re.findall(r'<line class="cap" x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="[\d.]+">(.*?)</line>', figure)
    assert len(caps) == 1, "one cap mark, on the chain's last agreement"
    x1, y1, x2, title = caps[0]
    chart = response.context["agreement_chart"]
    start, end = first.chain_start, cap
    expected = chart.plot_left + (chart.plot_right - chart.plot_left) * (cap - start).days / (end - start).days
    assert float(x1) == float(x2) == pytest.approx(expected, abs=0.05)
    assert chart.plot_top + 30 < float(y1) < chart.plot_top + 60, "in the second lane"
    assert f"Cap date {shown(cap)}" in title
    assert '<line class="today"' in figure


def test_cluster_page_shows_evaluations_with_findings_lessons_and_the_pact_carried_into(
    officer_client, cluster, other_cluster
):
    year = this_year()
    first = services.pact_sign(pact=services.pact_create(cluster=cluster), signed_on=date(year - 2, 3, 1))
    second = services.pact_sign(pact=services.pact_create(cluster=cluster), signed_on=date(year - 1, 3, 1))
    services.pact_create(cluster=cluster)  # the next version, still a draft
    evaluation = factories.EvaluationFactory(cluster=cluster, title="Mid-term review 2017-2018")
    evaluation = evaluation_advance(
        evaluation=evaluation, to="completed", on=date(2019, 1, 15), conclusion="partly_achieved"
    )
    Finding.objects.create(
        evaluation=evaluation, criterion="direct_results", assessment="largely_achieved", text="Events reached SMEs."
    )
    Finding.objects.create(
        evaluation=evaluation, criterion="company_impact", assessment="not_achieved", text="Little new turnover."
    )
    carried = Lesson.objects.create(
        evaluation=evaluation, kind=Lesson.Kind.GOOD_PRACTICE, text="Pair every SME with a lab."
    )
    lesson_carry(lesson=carried, pact=first)
    later = Lesson.objects.create(evaluation=evaluation, kind=Lesson.Kind.GOOD_PRACTICE, text="Share the labs.")
    lesson_carry(lesson=later, pact=second)
    Lesson.objects.create(evaluation=evaluation, kind=Lesson.Kind.BOTTLENECK, text="Too much paperwork.")
    factories.EvaluationFactory(cluster=other_cluster, title="SIM's own review")

    response = officer_client.get(cluster_url(cluster))

    section = between(response.text, 'id="evaluations-heading"', "</section>")
    assert "Mid-term review 2017-2018" in section
    assert "<strong>completed</strong>" in section and "<strong>partly achieved</strong>" in section
    assert (
        "<tr><td>direct results of actions</td><td>largely achieved</td><td>Events reached SMEs.</td></tr>" in section
    )
    assert "<tr><td>impact on companies</td><td>not achieved</td><td>Little new turnover.</td></tr>" in section
    assert section.index("direct results of actions") < section.index("impact on companies"), (
        "findings follow the order of the criteria, not the alphabet of their codes"
    )
    lessons = [
        (kind, text, re.sub(r"<[^>]+>", "", meta))  # the date in it is a <span class="date">
        for kind, text, meta in re.findall(
            r"<li><strong>(.*?):</strong> (.*?)<br><span class=\"meta\">(.*?)</span></li>", section
        )
    ]
    assert lessons == [
        ("Bottleneck", "Too much paperwork.", "Open"),
        (
            "Good practice",
            "Pair every SME with a lab.",
            f"Carried into pact version 1 (signed on {shown(first.signed_on)})",
        ),
        ("Good practice", "Share the labs.", f"Carried into pact version 2 (signed on {shown(second.signed_on)})"),
    ]
    assert "SIM's own review" not in response.text
    assert {p.version: p.lesson_count for p in response.context["pacts"]} == {1: 1, 2: 1, 3: 0}


@pytest.mark.parametrize(("role", "expected"), [("manager", 200), ("other_manager", 404), ("officer", 200)])
def test_cluster_page_is_404_for_another_clusters_manager(request, client, role, expected, cluster):
    client.force_login(request.getfixturevalue(role))
    assert client.get(cluster_url(cluster)).status_code == expected


def test_cluster_page_sends_anonymous_visitors_to_login(client, cluster):
    response = client.get(cluster_url(cluster))
    assert response.status_code == 302
    assert response.url == f"{django_settings.LOGIN_URL}?next={cluster_url(cluster)}"


def grow_world(count: int, *, year: int) -> list:
    """`count` clusters, each with an agreement, an evaluation, targets, an accepted and a pending report."""
    made = []
    for _ in range(count):
        cluster = factories.ClusterFactory(started_on=date(year - 3, 1, 1))
        agreement_create(
            cluster=cluster,
            reference=f"SO-{cluster.slug}",
            start_date=date(year - 1, 1, 1),
            end_date=date(year + 1, 12, 31),
            amount=Decimal(1),
        )
        factories.EvaluationFactory(cluster=cluster, title=f"Evaluation of {cluster.name}")
        targets(cluster, year - 1, {"CPI9": 10, "CPI1": 10})
        report(cluster, year - 2, {"CPI9": 4})
        report(cluster, year - 1, {"CPI9": 12, "CPI1": 3}, Workflow.SUBMITTED)
        member(cluster, date(year - 2, 1, 1))
        # A project it leads, and an inter-cluster one with the cluster made before it.
        factories.ProjectFactory(lead_cluster=cluster, decided_on=date(year - 1, 5, 1))
        if made:
            factories.ProjectFactory(
                type=Project.Type.INTER_CLUSTER,
                lead_cluster=cluster,
                clusters=[made[-1]],
                decided_on=date(year - 1, 6, 1),
            )
        made.append(cluster)
    return made


def test_cluster_page_queries_do_not_grow_with_other_clusters(officer_client):
    year = this_year()
    (cluster,) = grow_world(1, year=year)
    grow_world(6, year=year)
    url = cluster_url(cluster)
    officer_client.get(url)
    seven = count_queries(officer_client, url)
    grow_world(33, year=year)
    forty = count_queries(officer_client, url)
    assert seven == forty


def cluster_with_history(years: int, *, year: int):
    """A cluster `years` years old with, for every working year: targets, an accepted report, a new member,
    a completed evaluation with a finding and a lesson carried into that year's pact; and a chain of
    three-year agreements up to next year."""
    cluster = factories.ClusterFactory(started_on=date(year - years + 1, 1, 1))
    for working_year in range(year - years + 1, year):
        targets(cluster, working_year, {"CPI1": 10, "CPI9": 10})
        report(cluster, working_year, {"CPI1": working_year % 10, "CPI9": 8})
        member(cluster, date(working_year, 2, 1))
        evaluation = factories.EvaluationFactory(
            cluster=cluster, period_start=date(working_year, 1, 1), period_end=date(working_year, 3, 31)
        )
        evaluation = evaluation_advance(
            evaluation=evaluation, to="completed", on=date(working_year, 6, 1), conclusion="largely_achieved"
        )
        Finding.objects.create(evaluation=evaluation, criterion="direct_results", assessment="largely_achieved")
        pact = services.pact_sign(pact=services.pact_create(cluster=cluster), signed_on=date(working_year, 9, 1))
        lesson = Lesson.objects.create(evaluation=evaluation, kind=Lesson.Kind.GOOD_PRACTICE, text="Keep it.")
        lesson_carry(lesson=lesson, pact=pact)
        budget_year = factories.BudgetYearFactory(year=working_year)
        Allocation.objects.create(
            budget_year=budget_year, purpose="competitiveness", cluster=cluster, amount=Decimal(8_000_000)
        )
        factories.ProjectFactory(
            lead_cluster=cluster,
            decided_on=date(working_year, 4, 1),
            partners=[(factories.OrganisationFactory(), ProjectPartner.Role.LEAD)],
        )
    agreement = agreement_create(
        cluster=cluster,
        reference=f"SO-{cluster.slug}-0",
        start_date=cluster.started_on,
        end_date=date(cluster.started_on.year + 2, 12, 31),
        amount=Decimal(1),
    )
    while agreement.end_date.year < year + 1:
        agreement = agreement_extend(
            predecessor=agreement,
            reference=f"SO-{cluster.slug}-{agreement.end_date.year}",
            end_date=date(agreement.end_date.year + 3, 12, 31),
            amount=Decimal(1),
        )
    return cluster


def test_cluster_page_queries_are_the_same_for_3_and_8_years_of_data(officer_client):
    year = this_year()
    short, long = cluster_with_history(3, year=year), cluster_with_history(8, year=year)
    officer_client.get(cluster_url(short))
    few = count_queries(officer_client, cluster_url(short))
    many = count_queries(officer_client, cluster_url(long))
    assert few == many
    response = officer_client.get(cluster_url(long))
    assert len(response.context["members_by_year"]) == 8
    assert all(len(row["years"]) == 8 for row in response.context["evolution"])
    assert (len(response.context["evaluations"]), len(response.context["agreements"])) == (7, 3)
    assert [len(year.projects) for year in response.context["project_years"]] == [1] * 7


# --- the compare page ------------------------------------------------------------------------------------

COMPARE = "/insights/compare/"


def ranked_names(text: str, code: str) -> list[str]:
    table = between(text, 'id="year-h"', "</table>")
    return re.findall(rf'<th scope="row"><a href="/clusters/[\w-]+/#kpi-{code}">([^<]+)</a></th>', table)


def test_compare_without_parameters_shows_the_first_kpi_and_last_year(officer_client, cluster):
    response = officer_client.get(COMPARE)
    assert response.status_code == 200
    first = KpiDefinition.objects.filter(active=True).order_by("position", "code").first()
    assert response.context["kpi"] == first
    assert response.context["year"] == this_year() - 1
    assert f'<option value="{first.code}" selected>' in response.text
    assert f'<option value="{this_year() - 1}" selected>' in response.text
    assert 'id="year-chart"' in response.text and 'id="years-chart"' in response.text


def test_compare_without_parameters_works_for_a_cluster_that_started_this_year(client):
    cluster = factories.ClusterFactory(name="Newcomer", slug="newcomer", started_on=date(this_year(), 1, 1))
    client.force_login(factories.manager_of(cluster, username="manager-newcomer"))
    response = client.get(COMPARE, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, "the bare address must show a comparison, not a form error"
    assert "Newcomer" in response.text


def test_compare_ranks_clusters_by_achievement_ahead_first(officer_client):
    year = this_year() - 1
    clusters = {name: factories.ClusterFactory(name=name) for name in ("Alpha", "Beta", "Gamma", "Delta")}
    for cluster in clusters.values():
        targets(cluster, year, {"CPI9": 10})
    report(clusters["Alpha"], year, {"CPI9": 5})
    report(clusters["Beta"], year, {"CPI9": 15})
    report(clusters["Delta"], year, {"CPI9": 10}, Workflow.SUBMITTED)
    report(clusters["Gamma"], year, {"CPI9": 99}, Workflow.DRAFT)
    report(clusters["Alpha"], year - 1, {"CPI9": 50})  # another year does not count in the ranking

    response = officer_client.get(COMPARE, {"kpi": "CPI9", "year": year})

    assert response.status_code == 200
    assert ranked_names(response.text, "CPI9") == ["Beta", "Delta", "Alpha", "Gamma"]
    table = between(response.text, 'id="year-h"', "</table>")
    assert '<span class="good">150 %</span>' in table and '<span class="bad">50 %</span>' in table
    assert table.count('<abbr class="pending"') == 1
    chart = response.context["year_chart"]
    assert [t.label for t in chart.y_ticks] == ["Beta", "Delta", "Alpha", "Gamma"]
    assert [r.css for r in chart.rects] == ["bar", "bar-pending", "bar-behind"], "Gamma has no bar"
    assert chart.reference.x1 == pytest.approx(chart.plot_left + (chart.plot_right - chart.plot_left) * 100 / 150)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"kpi": "NOPE"}, "KPI"),
        ({"kpi": "C6"}, "KPI"),  # made inactive below
        ({"year": "1990"}, "Year"),
        ({"year": "2999"}, "Year"),
        ({"year": "last"}, "Year"),
    ],
)
def test_compare_refuses_an_unknown_kpi_or_year_with_400(officer_client, cluster, query, field):
    services.entity_save(instance=kpi("C6"), active=False)
    response = officer_client.get(COMPARE, query)
    assert response.status_code == 400
    errors = between(response.text, '<div class="alert error" role="alert">', "</div>")
    assert f"<p>{field}: Select a valid choice." in errors
    assert "<svg" not in response.text
    assert "kpi" not in response.context


def test_a_manager_compares_only_their_own_cluster(client, manager, cluster):
    year = this_year() - 1
    hidden = factories.ClusterFactory(name="Hidden Harbour", slug="hidden-harbour")
    for each in (cluster, hidden):
        targets(each, year, {"CPI9": 10})
    report(cluster, year, {"CPI9": 6})
    report(hidden, year, {"CPI9": 14})
    client.force_login(manager)

    response = client.get(COMPARE, {"kpi": "CPI9", "year": year}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert ranked_names(response.text, "CPI9") == ["Catalisti"]
    assert "Hidden Harbour" not in response.text and "hidden-harbour" not in response.text
    assert [row["cluster_name"] for row in response.context["rows"]] == ["Catalisti"]
    assert [t.label for t in response.context["year_chart"].y_ticks] == ["Catalisti"]
    assert [line.label for line in response.context["years_chart"].lines] == ["Catalisti"]


def test_compare_queries_do_not_grow_with_clusters(officer_client):
    year = this_year()
    url = f"{COMPARE}?kpi=CPI9&year={year - 1}"
    grow_world(7, year=year)
    officer_client.get(url)
    seven = count_queries(officer_client, url)
    grow_world(33, year=year)
    forty = count_queries(officer_client, url)
    assert seven == forty
    # Every cluster is ranked; the ranking is shown a page at a time.
    first = officer_client.get(url)
    assert first.context["pager"].count == 40
    assert len(ranked_names(first.text, "CPI9")) == COMPARE_PAGE_SIZE
    rest = ranked_names(officer_client.get(url + "&page=2").text, "CPI9")
    assert len(rest) == 40 - COMPARE_PAGE_SIZE
    assert count_queries(officer_client, url + "&page=2") == forty


def test_compare_links_to_the_excel_export_of_the_kpi(officer_client, cluster):
    response = officer_client.get(COMPARE, {"kpi": "CPI9"})
    assert 'href="/insights/exports/kpi-values.xlsx?kpi_code=CPI9"' in response.text
    assert officer_client.get("/insights/exports/kpi-values.xlsx?kpi_code=CPI9").status_code == 200


def test_a_cluster_without_members_says_so_instead_of_drawing_empty_columns(officer_client, cluster):
    response = officer_client.get(cluster_url(cluster), HTTP_ACCEPT_LANGUAGE="en")
    figure = between(response.text, 'id="members-chart"', "</figure>")
    assert "No figures yet." in figure and "<svg" not in figure
