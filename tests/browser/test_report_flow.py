"""The annual report as its users go through it, in Dutch, in a real browser: a cluster manager writes and
submits the report, a VLAIO officer returns it with a comment, the manager corrects and resubmits it, the
officer accepts it, and its values become official. Plus the language switch, and the pages on a phone.

Screenshots of every step: test-artifacts/browser/.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from clusterpacts import services
from clusterpacts.models import AnnualReport, KpiDefinition, KpiValue, Organisation, Workflow
from tests import factories
from tests.browser.conftest import PHONE

pytestmark = pytest.mark.django_db(transaction=True)

# What the manager types, as a Flemish user writes numbers (decimal comma). MEM1 and MEM2 are computed from
# the memberships, the project KPIs from the decided projects (none here), and shown with how, never typed.
TYPED = {
    "CPI1": "48",
    "CPI2": "31",
    "CPI6": "120",
    "C2": "9",
    "CPI4": "3",
    "C6": "81",
    "CPI10": "2,5",
    "CPI11": "12,5",
    "CPI9": "1,75",
}
DERIVED = {"MEM1": "3", "MEM2": "75"}  # 3 paying members of 4; 3 SMEs of 4
PROJECT_KPIS = {"CPI3", "PRJ1", "C4", "CPI7", "CPI7BIS", "CPI8"}  # no project decided: counted 0, no share
CORRECTED = ("C2", "11")
COMMENT = "Het aantal netwerkevenementen klopt niet met de bijlage: graag nakijken."
FOCUS_ABOVE_STICKY_BAR = """() => {
    const field = document.activeElement.getBoundingClientRect();
    return field.bottom <= document.querySelector(".actions.sticky").getBoundingClientRect().top;
}"""


@dataclass
class Portal:
    cluster: Any
    manager: Any
    officer: Any
    year: int

    @property
    def report_path(self) -> str:
        return f"/clusters/{self.cluster.slug}/reports/{self.year}/"

    @property
    def next_report_path(self) -> str:
        return f"/clusters/{self.cluster.slug}/reports/{self.year + 1}/"


@pytest.fixture
def portal() -> Portal:
    """One cluster (started the year before its last working year), its manager, an officer, four members,
    and the targets of the working year."""
    year = timezone.localdate().year - 1
    cluster = factories.ClusterFactory(name="Flux50", slug="flux50", domain="energie", started_on=date(year - 1, 1, 1))
    manager = factories.UserFactory(
        username="an.peeters", first_name="An", last_name="Peeters", email="an.peeters@flux50.example"
    )
    services.cluster_manager_add(user=manager, cluster=cluster)
    officer = factories.officer(
        username="jan.janssens", first_name="Jan", last_name="Janssens", email="jan.janssens@vlaio.example"
    )
    kinds = [Organisation.Kind.SME, Organisation.Kind.SME, Organisation.Kind.SME, Organisation.Kind.COMPANY]
    for index, kind in enumerate(kinds):
        factories.MembershipFactory(
            cluster=cluster,
            organisation=factories.OrganisationFactory(kind=kind),
            joined_on=date(year - 1, 3, 1),
            paying=index != 0,
        )
    plan = services.annual_plan_create(cluster=cluster, year=year, planned_actions="Jaarplan (testgegevens).")
    for kpi in KpiDefinition.objects.filter(active=True, source=KpiDefinition.Source.REPORTED):
        services.kpi_target_set(
            plan=plan, kpi=kpi, value=(_number(TYPED[kpi.code]) * Decimal("1.1")).quantize(Decimal(1))
        )
    return Portal(cluster=cluster, manager=manager, officer=officer, year=year)


def _number(typed: str) -> Decimal:
    return Decimal(typed.replace(",", "."))


def _pdf(tmp_path: Path) -> Path:
    path = tmp_path / "jaarverslag-bijlage.pdf"
    path.write_bytes(factories.pdf_bytes())
    return path


def test_a_report_goes_from_draft_through_return_to_official(open_page, portal, tmp_path):
    kpis = list(KpiDefinition.objects.filter(active=True))
    assert len(kpis) == 17 and {k.code for k in kpis} == set(TYPED) | set(DERIVED) | PROJECT_KPIS
    tab = open_page()
    page = tab.page

    # 1. The manager logs in, lands on their cluster, writes and submits the report on the last working year.
    tab.login(portal.manager.username)
    tab.expect_path(f"/clusters/{portal.cluster.slug}/")
    assert page.get_attribute("html", "lang") == "nl"
    assert page.inner_text("h1") == "Flux50"
    assert page.get_by_role("heading", name="Jaarverslagen").is_visible()
    tab.shot("01-manager-cluster")

    page.get_by_role("link", name=f"Het verslag over {portal.year} schrijven").click()
    tab.expect_path(portal.report_path)
    assert page.inner_text("h1") == f"Jaarverslag over werkjaar {portal.year}"
    page.fill("#id_narrative", "In het werkjaar brachten we 31 kmo's samen in zes samenwerkingsprojecten.")
    assert page.locator("input[name=kpi_MEM1], input[name=kpi_MEM2]").count() == 0, "computed, never typed"
    shown = " ".join(page.inner_text("table.figures").split())
    assert "3 betalende van 4 leden op" in shown and "waarvan 3 kmo's: 75 %" in shown
    for code, value in TYPED.items():
        page.fill(f"input[name=kpi_{code}]", value)
    page.set_input_files("input[name=attachment]", str(_pdf(tmp_path)))
    page.fill("#id_attachment_title", "Activiteitenverslag")
    tab.shot("02-report-filled")

    page.click("button[name=submit]")
    tab.expect_path(portal.report_path)
    assert "Uw jaarverslag werd ingediend bij VLAIO" in page.inner_text(".messages")
    assert page.inner_text(".heading .badge") == "ingediend"
    assert page.locator("input[name^=kpi_]").count() == 0, "a submitted report is read-only"
    assert page.get_by_role("link", name="Activiteitenverslag").is_visible()
    tab.shot("03-report-submitted")
    report = AnnualReport.objects.get(cluster=portal.cluster, year=portal.year)
    assert report.status == Workflow.SUBMITTED and report.attachments.count() == 1
    values = {v.kpi.code: v.value for v in KpiValue.objects.filter(report=report).select_related("kpi")}
    assert values["CPI10"] == Decimal("2.5") and set(values) == set(TYPED), "no value stored for MEM1, MEM2"
    tab.logout()

    # 2. The officer lands on the dashboard, goes to the review queue, opens the report and returns it.
    tab.login(portal.officer.username)
    tab.expect_path("/insights/")
    assert page.inner_text("#review-link") == "1 plan of verslag te beoordelen"
    page.click("#review-link")
    tab.expect_path("/review/")
    assert page.inner_text("h1") == "Te beoordelen"
    tab.shot("04-officer-queue")
    page.click(f"a[href='/review/reports/{report.pk}/']")
    tab.expect_path(f"/review/reports/{report.pk}/")
    assert "Activiteitenverslag" in page.inner_text("main")
    page.fill("#id_comment", COMMENT)
    tab.shot("05-officer-review-return")
    page.click("button[name=decision][value=return]")
    tab.expect_path("/review/")
    assert "werd teruggestuurd naar de cluster" in page.inner_text(".messages")
    tab.shot("06-officer-returned")
    tab.logout()

    # 3. The manager sees the comment, corrects a value and submits again.
    tab.login(portal.manager.username)
    tab.expect_path(f"/clusters/{portal.cluster.slug}/")
    page.click(f"#reports-heading ~ .table-wrap a[href='{portal.report_path}']")
    tab.expect_path(portal.report_path)
    assert page.inner_text(".heading .badge") == "teruggestuurd"
    assert COMMENT in page.inner_text("#review-comment")
    code, value = CORRECTED
    assert page.input_value(f"input[name=kpi_{code}]") == TYPED[code]
    page.fill(f"input[name=kpi_{code}]", value)
    assert page.evaluate(FOCUS_ABOVE_STICKY_BAR), "the sticky bar hides the field being typed in"
    tab.shot("07-manager-returned")
    page.click("button[name=submit]")
    tab.expect_path(portal.report_path)
    assert page.inner_text(".heading .badge") == "ingediend"
    # The reported values; the derived ones (MEM1, MEM2) are computed from the memberships, never pending.
    assert page.locator(".pending").count() == len(TYPED), "submitted values show as pending"
    tab.shot("08-manager-resubmitted")
    # Submitted values are not official yet: next year's report shows them as last year's, marked pending.
    tab.goto(portal.next_report_path)
    assert page.locator(".pending").count() == len(TYPED)
    tab.shot("09-manager-next-year-pending")
    tab.logout()

    # 4. The officer accepts it.
    tab.login(portal.officer.username)
    tab.expect_path("/insights/")
    page.click("#review-link")
    tab.expect_path("/review/")
    page.click(f"a[href='/review/reports/{report.pk}/']")
    tab.expect_path(f"/review/reports/{report.pk}/")
    assert COMMENT in page.inner_text(".timeline")
    tab.shot("10-officer-review-accept")
    page.click("button[name=decision][value=accept]")
    tab.expect_path("/review/")
    assert "werd aanvaard" in page.inner_text(".messages")
    assert page.inner_text("#submitted-heading .count") == "0"
    tab.shot("11-officer-accepted")
    tab.logout()

    # 5. The values are official: accepted on the report page, no pending mark anywhere.
    tab.login(portal.manager.username)
    tab.goto(portal.report_path)
    assert page.inner_text(".heading .badge") == "aanvaard"
    assert "de waarden zijn officieel" in page.inner_text(".alert.success")
    assert page.locator(".pending").count() == 0
    row = page.locator("table.figures tbody tr", has=page.locator(".code", has_text=code)).first
    assert row.locator("td").last.inner_text() == value
    tab.shot("12-manager-accepted")
    tab.goto(portal.next_report_path)
    assert page.locator(".pending").count() == 0
    tab.shot("13-manager-next-year-official")

    report.refresh_from_db()
    assert report.status == Workflow.ACCEPTED
    assert [e.to_status for e in report.events.order_by("at", "pk")] == [
        Workflow.SUBMITTED,
        Workflow.RETURNED,
        Workflow.SUBMITTED,
        Workflow.ACCEPTED,
    ]
    official = KpiValue.objects.filter(report=report).select_related("report", "kpi")
    assert len(official) == len(TYPED) and all(v.is_official for v in official)
    assert {v.kpi.code: v.value for v in official}[code] == Decimal(value)


def test_the_language_switch_turns_the_pages_english_and_stays(open_page, portal):
    tab = open_page()
    page = tab.page
    tab.goto("/accounts/login/")
    assert page.inner_text("h1") == "Aanmelden"
    with page.expect_navigation():
        page.click("header button[name=language][value=en]")
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("h1") == "Log in"
    tab.shot("20-language-en-login")

    # The choice outlives the login and holds on every following page.
    tab.login(portal.manager.username)
    tab.expect_path(f"/clusters/{portal.cluster.slug}/")
    assert page.get_by_role("heading", name="Annual reports").is_visible()
    page.get_by_role("link", name=f"Write the report on {portal.year}").click()
    tab.expect_path(portal.report_path)
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("h1") == f"Annual report on working year {portal.year}"
    assert page.inner_text("button[name=submit]") == "Submit to VLAIO"
    assert page.get_attribute("header button[value=en]", "aria-pressed") == "true"
    tab.shot("21-language-en-next-page")

    with page.expect_navigation():
        page.click("header button[name=language][value=nl]")
    tab.expect_path(portal.report_path)
    assert page.inner_text("h1") == f"Jaarverslag over werkjaar {portal.year}"
    tab.assert_clean()


def test_the_pages_fit_a_phone_screen(open_page, portal):
    """The manager's and the officer's pages on a 390 x 844 screen: nothing makes the page scroll sideways, and
    the fields and buttons people need are on the screen, not hidden in a table that scrolls sideways."""
    report = services.annual_report_create(cluster=portal.cluster, year=portal.year, narrative="Toelichting.")
    for kpi in KpiDefinition.objects.filter(active=True, source=KpiDefinition.Source.REPORTED):
        services.kpi_value_set(report=report, kpi=kpi, value=_number(TYPED.get(kpi.code, "3")))
    manager = open_page(viewport=PHONE, prefix="30-phone-")
    manager.login(portal.manager.username)
    assert manager.fits_width()
    manager.shot("manager-cluster")
    manager.goto(portal.report_path)
    assert manager.fits_width()
    assert manager.off_screen("input[name^=kpi_], button[name=submit]") == []
    manager.shot("manager-report")
    manager.page.click("button[name=submit]")
    manager.expect_path(portal.report_path)
    assert manager.page.inner_text(".heading .badge") == "ingediend"

    officer = open_page(viewport=PHONE, prefix="31-phone-")
    officer.login(portal.officer.username)
    officer.expect_path("/insights/")
    assert officer.fits_width()
    officer.shot("officer-dashboard")
    officer.page.click("#review-link")
    officer.expect_path("/review/")
    assert officer.fits_width()
    assert officer.off_screen(f"a[href='/review/reports/{report.pk}/']") == []
    officer.shot("officer-queue")
    officer.page.click(f"a[href='/review/reports/{report.pk}/']")
    officer.expect_path(f"/review/reports/{report.pk}/")
    assert officer.fits_width()
    assert officer.off_screen("table.figures td, button[name=decision]") == []
    officer.shot("officer-review")
