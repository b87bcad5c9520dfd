"""The briefing as an officer uses it to answer the parliamentary question (../shared/seed): on the demo data,
in Dutch, in a real browser, on a laptop (1280 px) and a phone (390 px). The officer opens the briefing from
the dashboard, asks for 1 March 2020 (the day of the minister's answer) and reads, from the page, the facts
the answer gives:

1. the first four spearhead clusters' first interim evaluation was completed in May 2019, the goals largely
   achieved; Flanders' FOOD and De Blauwe Cluster (started 2018) have reported on their first working year;
2. the reports on working year 2019 are still being processed; the KPIs' evolution since each pact began;
3. the lessons, and the pact version each was carried into;
4. when the agreements are renewed: the extensions after the interim evaluation, and the 10-year cap;
5. 2020: 75 M EUR for the spearhead clusters, 8 M EUR reserved for each.

Screenshots of every step: test-artifacts/browser/briefing-<width>-*.png.
"""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from tests.browser.conftest import DESKTOP, PASSWORD, PHONE

pytestmark = pytest.mark.django_db(transaction=True)

FIRST_FOUR = ["Catalisti", "Flux50", "SIM", "VIL"]
STARTED_2018 = ["De Blauwe Cluster", "Flanders' FOOD"]


def _rows(page, section: str) -> dict[str, str]:
    """The text of each table row of a question's section, by the row's first cell (the cluster)."""
    rows = page.locator(f"section[aria-labelledby={section}] table").first.locator("tbody tr")
    found = {}
    for index in range(rows.count()):
        cells = rows.nth(index).locator("td, th")
        found[cells.nth(0).inner_text().strip()] = " ".join(rows.nth(index).inner_text().split())
    return found


def test_an_officer_reads_the_ministers_answer_from_the_briefing_as_of_1_march_2020(open_page, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)
    call_command("seed_demo", stdout=StringIO())  # once, for both screens
    for viewport in (DESKTOP, PHONE):
        _walk(open_page, viewport)


def _walk(open_page, viewport: dict[str, int]) -> None:
    width = viewport["width"]
    tab = open_page(viewport=viewport, prefix=f"briefing-{width}-")
    page = tab.page

    tab.login("officer")
    tab.expect_path("/insights/")
    page.click("main a[href='/insights/briefing/']")
    tab.expect_path("/insights/briefing/")
    page.fill("#as_of", "2020-03-01")
    with page.expect_navigation():
        page.click("form[role=search] button")
    assert "as_of=2020-03-01" in page.url
    assert page.inner_text("h1") == "Clusterpacten: de stand van zaken op 1 maart 2020"
    assert tab.fits_width(), "the briefing fits the screen; its wide tables scroll in their own box"
    tab.shot("01-as-of-1-march-2020")

    # The summary an officer pastes as the first paragraph of the reply.
    summary = " ".join(page.locator(".briefing-summary").inner_text().split())
    assert "6 speerpuntclusters" in summary
    assert "4 evaluaties van de clusterpacten zijn afgerond" in summary
    assert "6 jaarrapporten zijn ingediend en worden nog verwerkt" in summary
    assert "Voor 2020 is 75 M EUR voorzien, waarvan 48 M EUR vastgelegd" in summary

    # 1. The evaluations, in the stage they had that day.
    page.locator("#q1").scroll_into_view_if_needed()
    tab.shot("02-q1-evaluations")
    evaluations = _rows(page, "q1")
    for name in FIRST_FOUR:
        assert "afgerond 31-5-2019" in evaluations[name] and "grotendeels gerealiseerd" in evaluations[name], name
    for name in STARTED_2018:
        assert "gepland" in evaluations[name], name  # registered, not yet started on 1 March 2020
    assert "MEDVIA" not in evaluations, "MEDVIA had not started by then"

    # 2. The reports: 2018 accepted everywhere, 2019 submitted and still being processed; the KPIs since the start.
    reports = re.sub(r"\s+([:,])", r"\1", " ".join(page.locator("section[aria-labelledby=q2]").inner_text().split()))
    for name in FIRST_FOUR + STARTED_2018:
        assert f"{name}: 2019 ingediend, 2018 aanvaard" in reports, name
    # Each cluster's KPI table is folded under its name: the officer opens Catalisti's.
    catalisti = page.locator("section[aria-labelledby=q2] details").filter(has_text="Catalisti").first
    catalisti.locator("summary").click()
    table = catalisti.locator("table")
    assert [th.strip() for th in table.locator("thead th").all_text_contents()][:4] == ["KPI", "2017", "2018", "2019"]
    assert "(in behandeling)" in table.inner_text(), "2019's values are pending, not official"
    page.locator("#q2").scroll_into_view_if_needed()
    tab.shot("03-q2-reports-and-kpis")

    # 3. The lessons, carried into the pact signed after the evaluation.
    lessons = " ".join(page.locator("section[aria-labelledby=q3]").inner_text().split())
    assert lessons.count("meegenomen in clusterpact versie 3 (ondertekend op 31-1-2020)") == 2 * len(FIRST_FOUR)

    # 4. Renewals: the first four extended from 2020 on the strength of the interim evaluation; the cap.
    renewals = _rows(page, "q4")
    for name in FIRST_FOUR:
        assert "31-12-2022" in renewals[name] and "31-12-2026" in renewals[name], name
    for name in STARTED_2018:
        assert "31-12-2020" in renewals[name] and "31-12-2027" in renewals[name], name
    chains = " ".join(page.locator("section[aria-labelledby=q4]").inner_text().split())
    assert "verlengt SO-CATALISTI-1, op basis van de tussentijdse evaluatie" in chains
    page.locator("#q4").scroll_into_view_if_needed()
    tab.shot("04-q4-renewals")

    # 5. The budget as decided by that day: 75 M EUR in 2020, 8 M EUR reserved for each of the six.
    budget = _rows(page, "q5")
    assert "75.000.000 48.000.000 (6 clusters)" in budget["2020"]
    # Below it, per cluster, what was decided against its reservation by that day.
    reservations = " ".join(page.locator("section[aria-labelledby=q5] #reservations-2020").inner_text().split())
    assert "Catalisti 8.000.000" in reservations
    page.locator("#q5").scroll_into_view_if_needed()
    tab.shot("05-q5-budget")

    # The Word document of the same day is one click away.
    with page.expect_download() as download:
        page.click("a[href*='briefing.docx?as_of=2020-03-01']")
    assert download.value.suggested_filename.endswith(".docx")
