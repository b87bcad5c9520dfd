"""Every reader of "which annual reports are due, late, pending or accepted" reads the same report slots
(`clusterpacts.selectors.report_slots`): the flag scan, the briefing, the dashboard, the review queue and
the cluster page (test_reports_agree_demo.py walks a year of the demo data)."""

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from clusterpacts.models import AnnualReport, Cluster, Workflow
from clusterpacts.selectors import report_slots
from clusterpacts.services import document_transition
from funding.models import Flag
from funding.services import flags_scan
from insights.selectors import _reports
from tests import factories
from tests.pages import login

pytestmark = pytest.mark.django_db

DUE = date(2026, 3, 31)  # when the reports on working year 2025 are due
DAY_AFTER = date(2026, 4, 1)


def briefed_overdue(day: date) -> set[tuple[int, int]]:
    """The briefing's reports section (the rest of the briefing would only slow the walk down)."""
    clusters = list(Cluster.objects.filter(started_on__lte=day).order_by("name"))
    slots = report_slots(clusters=Cluster.objects.filter(pk__in=[c.pk for c in clusters]), as_of=day)
    rows = _reports(clusters, slots, day)
    return {(row["cluster"], report["year"]) for row in rows for report in row["reports"] if report["overdue"]}


def flagged_overdue(day: date) -> set[tuple[int, int]]:
    """The report-overdue flags open after the scan of `day`."""
    flags_scan(as_of=day)
    return set(Flag.objects.open().filter(kind=Flag.Kind.REPORT_OVERDUE).values_list("cluster_id", "year"))


# --- a report never started ---------------------------------------------------------------------------


@pytest.fixture
def young(db) -> Cluster:
    """Started on 1 January 2025: its report on 2025, due on 31 March 2026, was never started."""
    return factories.ClusterFactory(name="Flux50", slug="flux50", started_on=date(2025, 1, 1))


@pytest.fixture
def in_time(db) -> Cluster:
    """Started on 1 January 2025 too; its report on 2025 was submitted on 15 March 2026."""
    cluster = factories.ClusterFactory(name="VIL", slug="vil", started_on=date(2025, 1, 1))
    report = AnnualReport.objects.create(cluster=cluster, year=2025, due_on=DUE)
    at = datetime(2026, 3, 15, 12, tzinfo=UTC)
    document_transition(document=report, to=Workflow.SUBMITTED, at=at, notify=False)
    return cluster


@pytest.fixture
def today_is(monkeypatch):
    """Make `timezone.localdate()` (today, for the pages) answer `day`."""
    real = timezone.localdate

    def set_today(day: date) -> None:
        monkeypatch.setattr(timezone, "localdate", lambda value=None, tz=None: real(value, tz) if value else day)

    return set_today


def test_a_report_never_started_is_overdue_in_the_briefing_json_as_for_the_scan(client, officer, young):
    client.force_login(officer)

    def briefed(day: date) -> list[dict]:
        body = client.get("/api/v1/briefing/", {"as_of": day.isoformat()}).json()
        return next(row for row in body["reports"] if row["cluster"] == young.pk)["reports"]

    never_started = {"year": 2025, "status": "missing", "due_on": "2026-03-31"}
    assert briefed(DUE) == [{**never_started, "overdue": False}]
    assert flagged_overdue(DUE) == set()
    assert briefed(DAY_AFTER) == [{**never_started, "overdue": True}]
    assert flagged_overdue(DAY_AFTER) == {(young.pk, 2025)}


def test_a_cluster_without_a_start_date_owes_no_report_in_the_briefing_either(db):
    unstarted = factories.ClusterFactory(started_on=None)
    slots = report_slots(clusters=Cluster.objects.filter(pk=unstarted.pk), as_of=DAY_AFTER)
    assert _reports([unstarted], slots, DAY_AFTER) == [
        {"cluster": unstarted.pk, "cluster_name": unstarted.name, "reports": []}
    ]
    assert flagged_overdue(DAY_AFTER) == set()


def test_the_dashboard_counts_a_report_never_started_as_overdue(client, officer, young, in_time, today_is):
    today_is(DAY_AFTER)
    response = login(client, officer).get(reverse("insights:dashboard"))

    assert response.context["report_counts"] == [("overdue", 1), ("submitted", 1)]
    assert [(s.cluster_slug, s.status, s.overdue) for s in response.context["last_reports"]] == [
        ("flux50", "missing", True),
        ("vil", "submitted", False),
    ]
    assert flagged_overdue(DAY_AFTER) == {(young.pk, 2025)}


def test_the_review_queue_lists_the_reports_the_scan_flags(officer_client, young, in_time, today_is):
    today_is(DAY_AFTER)
    sim = factories.ClusterFactory(name="SIM", slug="sim", started_on=date(2025, 1, 1))
    returned = AnnualReport.objects.create(cluster=sim, year=2025, due_on=DUE)
    for to, day in ((Workflow.SUBMITTED, 1), (Workflow.RETURNED, 20)):
        at = datetime(2026, 3, day, 12, tzinfo=UTC)
        document_transition(document=returned, to=to, comment="Sources?", at=at, notify=False)

    overdue = officer_client.get(reverse("clusterpacts:review")).context["overdue"]

    assert [(s.cluster_slug, s.status) for s in overdue] == [("flux50", "missing"), ("sim", "returned")]
    assert {(s.cluster_id, s.year) for s in overdue} == flagged_overdue(DAY_AFTER)


def test_the_cluster_page_offers_the_missing_years_and_marks_the_overdue_ones(client, today_is):
    today_is(DAY_AFTER)
    cluster = factories.ClusterFactory(slug="sim", started_on=date(2024, 1, 1))
    AnnualReport.objects.create(cluster=cluster, year=2025, due_on=DUE)  # a draft, past its due date

    response = login(client, factories.manager_of(cluster)).get(reverse("insights:cluster", args=[cluster.slug]))

    assert response.context["missing_years"] == [2024]  # the running year, 2026, is not offered
    assert response.context["overdue_years"] == [2024, 2025]
    assert reverse("clusterpacts:report", args=[cluster.slug, 2024]) in response.text
    assert response.text.count('<span class="bad">') == 1  # the 2025 draft in the table of reports


def test_an_inactive_cluster_is_chased_neither_by_the_scan_nor_in_the_briefing(client, officer, young):
    """An inactive cluster's never-started report, and its agreement ending unextended, are due for no one:
    the briefing calls nothing overdue or due, as the scan raises no flag (they agreed on active clusters only)."""
    from funding.services import agreement_create

    agreement_create(
        cluster=young, reference="SO-FLUX-1", start_date=date(2025, 1, 1), end_date=date(2026, 6, 30), amount=1
    )
    young.active = False
    young.save()
    client.force_login(officer)
    body = client.get("/api/v1/briefing/", {"as_of": DAY_AFTER.isoformat()}).json()
    reports = next(row for row in body["reports"] if row["cluster"] == young.pk)["reports"]
    renewal = next(row for row in body["renewals"] if row["cluster"] == young.pk)
    assert [report["overdue"] for report in reports] == [False]
    assert (renewal["renewal_due"], renewal["reaches_cap_within_a_year"]) == (False, False)
    assert renewal["state"] == "running"
    after_its_end = client.get("/api/v1/briefing/", {"as_of": "2026-07-01"}).json()
    assert next(row for row in after_its_end["renewals"] if row["cluster"] == young.pk)["state"] == "ended"
    assert flagged_overdue(DAY_AFTER) == set()
    assert not Flag.objects.open().filter(cluster=young).exists()

    young.active = True
    young.save()
    body = client.get("/api/v1/briefing/", {"as_of": DAY_AFTER.isoformat()}).json()
    renewal = next(row for row in body["renewals"] if row["cluster"] == young.pk)
    assert renewal["renewal_due"] is True, "active again, it is chased as before"
    assert renewal["state"] == "renewal_due"
    assert flagged_overdue(DAY_AFTER) == {(young.pk, 2025)}
