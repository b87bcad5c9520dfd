"""The insights pages in Dutch, in a real browser: the officer's dashboard with its agreements timeline, a
cluster page with its charts (agreements, members, KPI evolution), the briefing and its Word download, the
KPI comparison across clusters, and a cluster manager who tries to open another cluster's page.

The charts are SVG drawn on the server: the tests check they are drawn (elements with a size on the screen),
not what the numbers are (tests/insights/ does that). Screenshots: test-artifacts/browser/4*.png.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import override

from clusterpacts import services
from clusterpacts.models import ClusterPact, Commitment, KpiDefinition, Organisation, Workflow
from evaluations.models import Conclusion, Finding, Lesson
from evaluations.services import evaluation_advance, lesson_carry
from funding.models import Allocation, BudgetYear
from funding.services import agreement_create, agreement_extend, allocation_save, budget_year_save
from tests import factories
from tests.browser.conftest import PHONE

pytestmark = pytest.mark.django_db(transaction=True)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LESSON = "Gezamenlijke proeftuinen brengen kmo's sneller tot een eerste project."
FINDING = "Het aantal netwerkevenementen lag boven het doel."

# Per KPI: {years before this one: (target, value)}. Two years back the report is accepted, last year's is
# submitted (pending); three years back there is a target but no report.
CATALISTI_KPIS = {
    "C2": {3: (10, None), 2: (12, 14), 1: (14, 11)},
    "CPI1": {3: (40, None), 2: (45, 50), 1: (50, 48)},
}
SIM_KPIS = {
    "C2": {2: (8, 6), 1: (9, 12)},
    "CPI1": {2: (30, 20), 1: (35, 40)},
}


@dataclass
class Portal:
    cluster: Any  # Catalisti: the cluster with everything
    other: Any  # SIM: a second cluster to compare with
    officer: Any
    other_manager: Any  # SIM's manager
    year: int  # this year

    @property
    def cluster_path(self) -> str:
        return f"/clusters/{self.cluster.slug}/"


def _kpi_figures(cluster: Any, figures: dict[str, dict[int, tuple[int, int | None]]], year: int) -> None:
    """Annual plans with targets; the report two years back submitted and accepted last year, last year's report
    submitted now (pending)."""
    years = sorted({back for by_year in figures.values() for back in by_year}, reverse=True)
    for back in years:
        plan = services.annual_plan_create(cluster=cluster, year=year - back, planned_actions="Jaarplan (test).")
        for code, by_year in figures.items():
            if back in by_year:
                target = by_year[back][0]
                services.kpi_target_set(plan=plan, kpi=KpiDefinition.objects.get(code=code), value=Decimal(target))
    for back in (2, 1):
        report = services.annual_report_create(cluster=cluster, year=year - back, narrative="Verslag (test).")
        for code, by_year in figures.items():
            value = by_year.get(back, (None, None))[1]
            if value is not None:
                services.kpi_value_set(report=report, kpi=KpiDefinition.objects.get(code=code), value=Decimal(value))
        if back == 2:
            submitted, accepted = _moment(year - 1, 3, 15), _moment(year - 1, 4, 20)
            services.document_transition(document=report, to=Workflow.SUBMITTED, at=submitted, notify=False)
            services.document_transition(document=report, to=Workflow.ACCEPTED, at=accepted, notify=False)
        else:
            services.document_transition(document=report, to=Workflow.SUBMITTED, notify=False)


def _moment(year: int, month: int, day: int) -> datetime:
    return timezone.make_aware(datetime(year, month, day, 10, 0))


def _member(cluster: Any, joined_on: date, left_on: date | None = None, kind: str = Organisation.Kind.SME) -> None:
    services.membership_save(
        membership=factories.MembershipFactory.build(
            cluster=cluster, organisation=factories.OrganisationFactory(kind=kind), joined_on=joined_on
        ),
        left_on=left_on,
    )


@pytest.fixture
def portal() -> Portal:
    """Catalisti, started four years ago: two support agreements (the second extends the first after a
    completed interim evaluation, and ends within 24 months), two pact versions with a lesson of that
    evaluation carried into the second, members joining and leaving over the years, KPI targets and values.
    SIM, started three years ago, with its own agreement, KPI figures and manager."""
    year = timezone.localdate().year
    officer = factories.officer(
        username="jan.janssens", first_name="Jan", last_name="Janssens", email="jan.janssens@vlaio.example"
    )

    cluster = factories.ClusterFactory(
        name="Catalisti", slug="catalisti", domain="chemie en kunststoffen", started_on=date(year - 4, 1, 1)
    )
    first = agreement_create(
        cluster=cluster,
        reference="SO-CAT-1",
        start_date=date(year - 4, 1, 1),
        end_date=date(year - 2, 12, 31),
        amount=Decimal("1500000"),
        signed_on=date(year - 5, 12, 1),
    )
    evaluation = factories.EvaluationFactory(
        cluster=cluster,
        title="Tussentijdse evaluatie",
        evaluator="IDEA Consult (illustratief)",
        period_start=date(year - 4, 1, 1),
        period_end=date(year - 3, 12, 31),
    )
    evaluation = evaluation_advance(
        evaluation=evaluation,
        to="completed",
        on=date(year - 2, 5, 15),
        conclusion=Conclusion.LARGELY_ACHIEVED,
        summary="De doelen van het clusterpact werden grotendeels gehaald.",
    )
    services.entity_save(
        instance=Finding(evaluation=evaluation),
        criterion=KpiDefinition.Category.DIRECT_RESULTS,
        assessment=Conclusion.LARGELY_ACHIEVED,
        text=FINDING,
    )
    services.entity_save(
        instance=Finding(evaluation=evaluation),
        criterion=KpiDefinition.Category.COMPANY_IMPACT,
        assessment=Conclusion.PARTLY_ACHIEVED,
        text="De impact op omzet en tewerkstelling is nog beperkt zichtbaar.",
    )
    agreement_extend(
        predecessor=first,
        reference="SO-CAT-2",
        end_date=date(year + 1, 12, 31),
        amount=Decimal("1500000"),
        signed_on=date(year - 2, 11, 20),
    )
    pact = services.pact_create(cluster=cluster, programme_summary="Circulaire chemie en kunststoffen.")
    services.pact_sign(pact=pact, signed_on=date(year - 4, 12, 15))
    pact = services.pact_create(cluster=cluster, programme_summary="Circulaire en koolstofarme chemie.")
    services.entity_save(
        instance=Commitment(pact=pact),
        party=Commitment.Party.MEMBERS,
        description="De leden cofinancieren het competitiviteitsprogramma.",
    )
    services.pact_sign(pact=pact, signed_on=date(year - 2, 12, 1))
    lesson = services.entity_save(instance=Lesson(evaluation=evaluation), kind=Lesson.Kind.GOOD_PRACTICE, text=LESSON)
    lesson_carry(lesson=lesson, pact=pact)
    # Members at each year's end: 3, 3, 5, 4, 4.
    for kind in (Organisation.Kind.SME, Organisation.Kind.SME, Organisation.Kind.COMPANY):
        _member(cluster, date(year - 4, 3, 1), kind=kind)
    _member(cluster, date(year - 2, 6, 1))
    _member(cluster, date(year - 2, 6, 1), left_on=date(year - 1, 9, 30))
    _kpi_figures(cluster, CATALISTI_KPIS, year)

    other = factories.ClusterFactory(name="SIM", slug="sim", domain="materialen", started_on=date(year - 3, 1, 1))
    agreement_create(
        cluster=other,
        reference="SO-SIM-1",
        start_date=date(year - 1, 1, 1),
        end_date=date(year + 1, 12, 31),
        amount=Decimal("1200000"),
    )
    _member(other, date(year - 3, 2, 1))
    _kpi_figures(other, SIM_KPIS, year)
    # SIM's report on last year is accepted too: Catalisti's is the one report waiting for review.
    sim_report = other.annual_reports.get(year=year - 1)
    services.document_transition(document=sim_report, to=Workflow.ACCEPTED, notify=False)
    budget = budget_year_save(budget_year=BudgetYear(year=year), envelope=Decimal("75000000"))
    for reserved_for in (cluster, other):
        allocation_save(
            allocation=Allocation(budget_year=budget),
            purpose=Allocation.Purpose.COMPETITIVENESS,
            cluster=reserved_for,
            amount=Decimal("8000000"),
        )
    allocation_save(
        allocation=Allocation(budget_year=budget),
        purpose=Allocation.Purpose.INTER_CLUSTER,
        amount=Decimal("14200000"),
        description="Interclusterproject (illustratief)",
        partners=[cluster, other],
    )
    other_manager = factories.UserFactory(username="els.maes", first_name="Els", last_name="Maes")
    services.cluster_manager_add(user=other_manager, cluster=other)
    return Portal(cluster=cluster, other=other, officer=officer, other_manager=other_manager, year=year)


def _drawn(locator: Any) -> dict[str, float]:
    """The element's box on the page: it must have a width and a height."""
    box = locator.bounding_box()
    assert box is not None, "not rendered"
    assert box["width"] > 0 and box["height"] > 0, f"drawn with no size: {box}"
    return box


def _overlaps(labels: Any, shapes: Any) -> list[str]:
    """The labels whose box intersects the box of one of the shapes."""
    boxes = [shape.bounding_box() for shape in shapes.all()]
    hits = []
    for label in labels.all():
        a = label.bounding_box()
        for b in boxes:
            across = a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            if across and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]:
                hits.append(label.text_content())
                break
    return hits


def test_an_officer_lands_on_the_dashboard_and_its_timeline_is_drawn(open_page, portal):
    tab = open_page()
    page = tab.page
    tab.login(portal.officer.username)
    tab.expect_path("/insights/")
    assert page.get_attribute("html", "lang") == "nl"
    assert page.inner_text("h1") == "Dashboard"
    assert page.inner_text("#review-link") == "1 plan of verslag te beoordelen"
    tab.goto("/")
    tab.expect_path("/insights/")

    bars = page.locator("#ending-chart svg[data-chart] rect")
    assert bars.count() >= 2, "Catalisti's and SIM's agreements end within 24 months"
    for bar in bars.all():
        _drawn(bar)
    assert page.locator("#ending-chart svg text", has_text="Catalisti").count() == 1, "a lane per cluster"
    # Both cap dates lie beyond the 24 months: each is named at its lane's right edge, beside the bars.
    notes = page.locator("#ending-chart svg g.notes text")
    assert notes.count() == 2
    over_bars = _overlaps(notes, bars)
    tab.shot("40-dashboard")

    page.locator("#ending-h ~ .table-wrap").get_by_role("link", name="Catalisti").click()
    tab.expect_path(portal.cluster_path)
    assert page.inner_text("h1") == "Catalisti"
    tab.assert_clean()
    assert over_bars == [], "a cap-date label is drawn over an agreement bar"


def test_the_cluster_page_draws_every_chart(open_page, portal):
    tab = open_page()
    page = tab.page
    tab.login(portal.officer.username)
    tab.goto(portal.cluster_path)
    page.wait_for_load_state("load")
    assert page.inner_text("h1") == "Catalisti"

    charts = page.locator("svg[data-chart]")
    active = KpiDefinition.objects.filter(active=True).count()
    # The derived KPIs have figures wherever the cluster has members (MEM1, MEM2) or could decide projects
    # (counted 0 without any); only the SMEs' share of collaborations has none without a collaboration.
    derived = KpiDefinition.objects.filter(active=True, source=KpiDefinition.Source.DERIVED).exclude(code="CPI7BIS")
    derived = derived.count()
    assert charts.count() == len(CATALISTI_KPIS) + derived + 3, (
        "the agreements timeline, the reservation, members, and a chart per KPI with figures"
    )
    empty = page.locator("figure[id^=kpi-] .chart-empty")
    assert empty.count() == active - len(CATALISTI_KPIS) - derived, (
        "a KPI without figures says so instead of an empty plot"
    )
    assert empty.first.inner_text() == "Nog geen cijfers."
    for chart in charts.all():
        _drawn(chart)

    # The agreements timeline: a bar per agreement, and the cap date.
    timeline = page.locator("section[aria-labelledby=agreements-heading] figure svg[data-chart]")
    assert timeline.count() == 1
    assert timeline.locator("rect").count() == 2
    for bar in timeline.locator("rect").all():
        _drawn(bar)
    assert timeline.locator("line.cap").count() == 1

    # This year's reservation, nothing decided against it yet: the reservation's line over an empty column.
    reservation = page.locator("#reservation-chart svg[data-chart]")
    assert reservation.locator("line.target").count() == 1
    assert "Nog geen projecten beslist." in page.inner_text("#projects")

    # One KPI figure per active KPI; C2 has an accepted and a pending value, and targets.
    assert page.locator("figure[id^=kpi-]").count() == active
    c2 = page.locator("figure#kpi-C2")
    accepted, pending = c2.locator("svg rect.bar"), c2.locator("svg rect.bar-pending")
    assert accepted.count() == 1 and pending.count() == 1
    _drawn(accepted)
    _drawn(pending)
    assert c2.locator("svg line.target").count() == 3, "a target in each of three years"
    assert c2.locator("table tbody tr").count() == 5
    assert c2.locator("abbr.pending").count() == 1

    # Members: one bar per year from the start, each with members.
    members = page.locator("#members-chart svg[data-chart] rect")
    assert members.count() == portal.year - portal.cluster.started_on.year + 1
    heights = [_drawn(bar)["height"] for bar in members.all()]
    assert heights[2] > heights[0], "five members two years back, three at the start"

    # The evaluation, its findings, and the lesson carried into the second pact version.
    evaluations = page.locator("section[aria-labelledby=evaluations-heading]")
    assert FINDING in evaluations.inner_text()
    assert LESSON in evaluations.inner_text()
    assert "Meegenomen in clusterpact versie 2" in evaluations.inner_text()
    assert ClusterPact.objects.get(cluster=portal.cluster, status=ClusterPact.Status.SIGNED).version == 2
    tab.shot("41-cluster")

    phone = open_page(viewport=PHONE, prefix="41-phone-")
    phone.login(portal.officer.username)
    phone.goto(portal.cluster_path)
    phone.page.wait_for_load_state("load")
    assert phone.fits_width()
    for chart in phone.page.locator("svg[data-chart]").all():
        box = _drawn(chart)
        frame = chart.locator("xpath=..").bounding_box()
        assert frame["x"] >= 0 and frame["x"] + frame["width"] <= PHONE["width"], (
            "a chart's frame wider than the screen"
        )
        # A wide chart keeps readable labels and scrolls sideways in its frame rather than shrinking.
        view_width = float(chart.get_attribute("viewBox").split()[2])
        assert 11 * box["width"] / view_width >= 8, "chart labels shrunk below 8 px"
    phone.shot("cluster")


def test_the_briefing_as_of_a_date_and_its_word_document(open_page, portal):
    # Mid-January, when last year's report was not yet submitted (nor due); yesterday early in January.
    as_of = min(date(portal.year, 1, 15), timezone.localdate() - timedelta(days=1))
    tab = open_page()
    page = tab.page
    tab.login(portal.officer.username)
    tab.goto(f"/insights/briefing/?as_of={as_of.isoformat()}")
    with override("nl"):
        day = date_format(as_of, "j F Y")
    assert day in page.inner_text("h1")
    for n in range(1, 6):
        assert page.locator(f"section h2#q{n}").is_visible(), f"question {n}"
    assert "Catalisti" in page.inner_text("section[aria-labelledby=q1]")
    reports = page.inner_text("section[aria-labelledby=q2] ul")
    assert f"{portal.year - 2} aanvaard" in reports, "accepted last year"
    assert f"{portal.year - 1} ontwerp" in reports and "te laat" not in reports, "submitted after the date, not due"
    assert LESSON in page.inner_text("section[aria-labelledby=q3]")
    assert "SO-CAT-2" in page.inner_text("section[aria-labelledby=q4]")
    assert "75.000.000" in page.inner_text("section[aria-labelledby=q5]")
    tab.shot("42-briefing")

    link = page.get_by_role("link", name="Downloaden als Word-document")
    href = link.get_attribute("href")
    assert href.endswith(f"?as_of={as_of.isoformat()}")
    response = page.request.get(tab.url(href))
    assert response.status == 200
    assert response.headers["content-type"] == DOCX
    assert f"clusterpacten-briefing-{as_of.isoformat()}.docx" in response.headers["content-disposition"]
    assert response.body()[:2] == b"PK", "a .docx is a zip file"
    tab.assert_clean()


def test_the_comparison_draws_both_charts_and_follows_the_chosen_kpi(open_page, portal):
    year = portal.year - 1
    tab = open_page()
    page = tab.page
    tab.login(portal.officer.username)
    tab.goto(f"/insights/compare/?kpi=C2&year={year}")
    assert page.inner_text("h1") == "Een KPI vergelijken over de clusters"
    assert page.inner_text("h2#year-h") == f"C2 in {year}: wie ligt voor, wie achter"

    bars = page.locator("#year-chart svg[data-chart] rect")
    assert bars.count() == 2, "a bar per cluster"
    for bar in bars.all():
        _drawn(bar)
    lines = page.locator("#years-chart svg[data-chart] polyline.series")
    assert lines.count() == 2, "a line per cluster"
    for line in lines.all():
        _drawn(line)
    ranked = page.locator("#year-h ~ .grid2 table tbody th").all_inner_texts()
    assert ranked == ["SIM", "Catalisti"], "SIM reached 133 %, Catalisti 79 %"
    assert page.locator("#years-h ~ .table-wrap table tbody th").all_inner_texts() == ["Catalisti", "SIM"]
    # On a desktop screen the ranking table shows whole, without a scroll bar of its own.
    ranking = page.locator("#year-h ~ .grid2 .table-wrap")
    width = ranking.evaluate("e => [e.scrollWidth, e.clientWidth]")
    tab.shot("43-compare")

    page.select_option("#id_kpi", "CPI1")
    with page.expect_navigation():
        page.click("form[role=search] button[type=submit]")
    tab.expect_path("/insights/compare/")
    assert "kpi=CPI1" in page.url
    assert page.inner_text("h2#year-h") == f"CPI1 in {year}: wie ligt voor, wie achter"
    assert page.input_value("#id_kpi") == "CPI1"
    assert page.locator("#year-chart svg[data-chart] rect").count() == 2
    tab.assert_clean()
    assert width[0] <= width[1], f"the ranking table is cut off: {width[0]}px wide in a {width[1]}px box"


def test_a_cluster_manager_gets_404_for_another_clusters_page(open_page, portal):
    tab = open_page()
    page = tab.page
    tab.login(portal.other_manager.username)
    tab.expect_path(f"/clusters/{portal.other.slug}/")
    assert page.inner_text("h1") == "SIM"

    response = page.goto(tab.url(portal.cluster_path))
    assert response.status == 404
    assert "Catalisti" not in page.content()
    tab.problems.clear()  # the 404 asked for, nothing else
    tab.shot("44-manager-other-cluster-404")
