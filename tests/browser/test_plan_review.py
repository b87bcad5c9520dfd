"""An annual plan as its users go through it, in Dutch, in a real browser, on a laptop (1280 px) and a
phone (390 px): a cluster manager fills in next year's plan with "12,5" for a percentage and without
planned actions, submits, and sees every error at once in a summary at the top (the draft kept, the
focus on the first field); fixes the actions, submits; a VLAIO officer finds the plan in the review
queue filtered on plans, opens it and accepts it; the manager sees it as accepted.

Screenshots of every step: test-artifacts/browser/plan-review-<width>-*.png.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from clusterpacts import services
from clusterpacts.models import AnnualPlan, KpiDefinition, KpiTarget, Workflow
from tests import factories
from tests.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.django_db(transaction=True)

PERCENT = ("C6", "12,5")  # member satisfaction, a percentage, as a Flemish user writes it
LEFT_EMPTY = "CPI4"
ACTIONS = "Twee oproepen voor clusterprojecten en een matchmakingdag rond waterstof (testgegevens)."


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_a_plan_is_refused_once_with_every_error_then_submitted_and_accepted(open_page, viewport):
    year = timezone.localdate().year + 1
    cluster = factories.ClusterFactory(name="Flux50", slug="flux50", domain="energie", started_on=date(2017, 1, 1))
    manager = factories.UserFactory(username="an.peeters", first_name="An", last_name="Peeters")
    services.cluster_manager_add(user=manager, cluster=cluster)
    officer = factories.officer(username="jan.janssens", first_name="Jan", last_name="Janssens")
    # Last year's plan and values, for the officer to compare with.
    last = services.annual_plan_create(cluster=cluster, year=year - 1, planned_actions="Vorig jaarplan.")
    services.kpi_target_set(plan=last, kpi=factories.kpi("C6"), value=Decimal(80))
    kpis = list(KpiDefinition.objects.filter(active=True))
    typed = {kpi.code: "10" for kpi in kpis}
    typed[PERCENT[0]] = PERCENT[1]

    width = viewport["width"]
    tab = open_page(viewport=viewport, prefix=f"plan-review-{width}-")
    page = tab.page
    plan_path = f"/clusters/{cluster.slug}/plans/{year}/"

    # 1. The manager opens next year's plan from their cluster page and fills it in, without actions and
    #    with one target forgotten.
    tab.login(manager.username)
    tab.expect_path(f"/clusters/{cluster.slug}/")
    page.click(f"ul.plans a[href='{plan_path}']")
    tab.expect_path(plan_path)
    assert page.inner_text("h1") == f"Jaarplan {year}"
    for code, value in typed.items():
        if code != LEFT_EMPTY:
            page.fill(f"input[name=kpi_{code}]", value)
    tab.shot("01-plan-filled")

    # 2. Submitted: refused once, with every error in the summary, the focus on the first, the draft kept.
    page.click("button[name=submit]")
    tab.expect_path(plan_path)
    summary = page.locator(".error-summary")
    assert "Uw ontwerp werd bewaard, maar niet ingediend" in summary.inner_text()
    links = summary.locator("a")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
        "#id_planned_actions",
        f"#id_kpi_{LEFT_EMPTY}",
    ]
    assert "Beschrijf de geplande acties" in links.nth(0).inner_text()
    assert "Geef een streefwaarde voor deze KPI" in links.nth(1).inner_text()
    assert page.evaluate("document.activeElement.id") == "id_planned_actions"
    assert page.input_value(f"input[name=kpi_{PERCENT[0]}]") == PERCENT[1], "what was typed stays, in Dutch"
    assert page.inner_text(".heading .badge") == "ontwerp"
    assert tab.fits_width(), "the summary and the form fit the screen"
    tab.shot("02-plan-refused-every-error")
    plan = AnnualPlan.objects.get(cluster=cluster, year=year)
    assert plan.status == Workflow.DRAFT
    assert KpiTarget.objects.get(plan=plan, kpi__code=PERCENT[0]).value == Decimal("12.5"), "the draft is saved"

    # 3. A summary link leads to its field; the manager fixes the actions and the target, and submits.
    links.nth(1).click()
    assert page.evaluate("document.activeElement.id") == f"id_kpi_{LEFT_EMPTY}"
    page.fill(f"input[name=kpi_{LEFT_EMPTY}]", "3")
    page.fill("#id_planned_actions", ACTIONS)
    # The address now ends in the link's #fragment, which the browser keeps across the redirect.
    with page.expect_navigation():
        page.click("button[name=submit]")
    assert page.url.split("#")[0] == tab.url(plan_path)
    assert "Het jaarplan werd ingediend bij VLAIO" in page.inner_text(".messages")
    assert page.inner_text(".heading .badge") == "ingediend"
    tab.shot("03-plan-submitted")
    tab.logout()

    # 4. The officer filters the queue on plans, opens the plan and accepts it.
    tab.login(officer.username)
    tab.expect_path("/insights/")
    tab.goto("/review/")
    page.select_option("#id_kind", "plan")
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    assert "kind=plan" in page.url
    assert page.locator(".review-list tbody tr").count() == 1
    assert tab.fits_width()
    tab.shot("04-officer-queue-plans")
    plan.refresh_from_db()
    page.click(f"a[href='/review/plans/{plan.pk}/']")
    tab.expect_path(f"/review/plans/{plan.pk}/")
    assert ACTIONS in page.inner_text("main")
    row = page.locator("table.figures tbody tr", has=page.locator(".code", has_text=PERCENT[0])).first
    cells = [row.locator("td").nth(i).inner_text() for i in range(4)]
    # Last year's target beside this year's, in Dutch (shown, as on every page, to two decimals).
    assert (cells[0], cells[3]) == ("80", "12,50")
    assert tab.fits_width()
    tab.shot("05-officer-review-plan")
    page.click("button[name=decision][value=accept]")
    tab.expect_path("/review/")
    assert "werd aanvaard" in page.inner_text(".messages")
    tab.shot("06-officer-accepted")
    tab.logout()

    # 5. The manager sees the plan accepted, on the cluster page and on the plan page.
    tab.login(manager.username)
    tab.expect_path(f"/clusters/{cluster.slug}/")
    item = page.locator("ul.plans li", has=page.locator(f"a[href='{plan_path}']"))
    assert item.locator(".badge").inner_text() == "aanvaard"
    tab.shot("07-manager-cluster-accepted")
    page.click(f"ul.plans a[href='{plan_path}']")
    tab.expect_path(plan_path)
    assert page.inner_text(".heading .badge") == "aanvaard"
    assert "VLAIO heeft dit jaarplan aanvaard" in page.inner_text(".alert.success")
    assert "ingediend" not in page.inner_text("main")
    tab.shot("08-manager-plan-accepted")

    plan.refresh_from_db()
    assert plan.status == Workflow.ACCEPTED
