"""The manager's and the officer's main pages on the demo data, on a phone (390 px) and a laptop (1280 px),
and the briefing on paper.

On every page, measured in the browser (tests/browser/layout.py): the page itself never scrolls sideways (a
wide table or chart scrolls inside its own box), no two texts of the content overlap or leave their table
cell, no text is drawn under 11 px (chart labels included, at the size the chart is drawn), and a date stays
on one line. Screenshots: test-artifacts/browser/70-<width>-<page>.png, and 79-briefing-print.png.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from clusterpacts.models import AnnualPlan, AnnualReport, Workflow
from tests.browser.conftest import DESKTOP, PASSWORD, PHONE, PortalPage
from tests.browser.layout import overlapping_text, page_scrolls_sideways, small_text

pytestmark = pytest.mark.django_db(transaction=True)

MANAGER = "manager-catalisti"  # funding.demo's manager of Catalisti
OFFICER = "officer"
CLUSTER = "catalisti"


@dataclass(frozen=True)
class Demo:
    review_pk: int  # Catalisti's latest report (accepted), on its review page
    report_year: int  # Catalisti's latest report
    kpi: str
    year: int
    plan_pk: int  # a plan waiting for review


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch) -> Demo:
    """The demo data (`make run`'s), with today's flags; the demo users log in with the tests' password."""
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)
    call_command("seed_demo", stdout=StringIO())
    call_command("scan_flags", stdout=StringIO())
    # Today every demo report up to the last working year is accepted; what waits for review are plans.
    latest = AnnualReport.objects.filter(cluster__slug=CLUSTER, status=Workflow.ACCEPTED).latest("year")
    waiting = AnnualPlan.objects.filter(status=Workflow.SUBMITTED).order_by("cluster__name").first()
    assert waiting is not None, "the demo has plans waiting for review"
    return Demo(review_pk=latest.pk, report_year=latest.year, kpi="C2", year=latest.year, plan_pk=waiting.pk)


def _pages(demo: Demo) -> dict[str, list[tuple[str, str]]]:
    year = timezone.localdate().year
    return {
        MANAGER: [
            ("manager-cluster", f"/clusters/{CLUSTER}/"),
            ("manager-report", f"/clusters/{CLUSTER}/reports/{demo.report_year}/"),
            ("manager-report-draft", f"/clusters/{CLUSTER}/reports/{year}/"),
            ("manager-plan", f"/clusters/{CLUSTER}/plans/{year + 1}/"),
        ],
        OFFICER: [
            ("officer-dashboard", "/insights/"),
            ("officer-review-queue", "/review/"),
            ("officer-review", f"/review/reports/{demo.review_pk}/"),
            ("officer-review-plan", f"/review/plans/{demo.plan_pk}/"),
            ("officer-briefing", "/insights/briefing/"),
            ("officer-briefing-2020", "/insights/briefing/?as_of=2020-03-01"),
            ("officer-funding", "/insights/funding/"),
            ("officer-compare", f"/insights/compare/?kpi={demo.kpi}&year={demo.year}"),
        ],
    }


def _wrapped_dates(page: Any) -> list[str]:
    """The dates (class "date", portal.css) drawn over more than one line."""
    return page.eval_on_selector_all(
        ".date", "els => els.filter(e => e.getClientRects().length > 1).map(e => e.textContent.trim())"
    )


def _problems(tab: PortalPage) -> list[str]:
    page = tab.page
    return [
        *page_scrolls_sideways(page),
        *overlapping_text(page),
        *small_text(page),
        *(f"date on two lines: {d}" for d in _wrapped_dates(page)),
    ]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])
def test_the_main_pages_fit_the_screen_with_legible_text_that_never_overlaps(
    demo: Demo, open_page: Callable[..., PortalPage], viewport: dict[str, int]
) -> None:
    found: dict[str, list[str]] = {}
    for user, pages in _pages(demo).items():
        tab = open_page(viewport=viewport, prefix=f"70-{viewport['width']}-")
        tab.login(user)
        for name, path in pages:
            tab.goto(path)
            tab.shot(name)  # also: no console error, no failed request
            tab.page.evaluate("window.scrollTo(0, 0)")
            if problems := _problems(tab):
                found[f"{name} ({path})"] = problems
    assert not found, "\n".join(f"{page}:\n  " + "\n  ".join(problems[:20]) for page, problems in found.items())


def test_the_briefing_prints_as_a_document_without_navigation_or_forms(
    demo: Demo, open_page: Callable[..., PortalPage]
) -> None:
    tab = open_page(prefix="79-")
    tab.login(OFFICER)
    tab.goto("/insights/briefing/?as_of=2020-03-01")
    page = tab.page
    assert page.locator("header.topbar").is_visible() and page.locator("main form").first.is_visible()

    page.emulate_media(media="print")

    assert page.locator("h1").inner_text().endswith("1 maart 2020"), "the title names the as-of day"
    hidden = ["header.topbar", "header nav", "footer", "main form", "main button", "main a.button", ".export-links"]
    for selector in hidden:
        shown = [i for i, e in enumerate(page.locator(selector).all()) if e.is_visible()]
        assert not shown, f"{selector} is printed"
    # The content is all there: every question, the charts, and the KPI tables that fold on screen.
    assert page.locator("main h2").count() == 5
    assert page.locator("main h2").first.is_visible()
    assert all(chart.is_visible() for chart in page.locator("svg.chart").all())
    assert all(table.is_visible() for table in page.locator("details table").all())
    assert page.eval_on_selector("tbody tr", "tr => getComputedStyle(tr).breakInside") == "avoid"
    assert page.eval_on_selector("thead", "h => getComputedStyle(h).display") == "table-header-group"
    tab.shot("briefing-print")
