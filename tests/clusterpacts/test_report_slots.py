"""Report and plan slots: which reports are due, late, pending or accepted as of a day, in one place.

A report on working year 2025 is due on 31 March 2026 (the default); the cases below walk the days
around that date. Workflow steps are stored with their time and replayed up to the end of the day
(in the portal's time zone, Europe/Brussels).
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from clusterpacts.models import AnnualPlan, AnnualReport, Cluster, Workflow
from clusterpacts.selectors import (
    ReportSlot,
    accepted_by,
    overdue_reports,
    overdue_slots,
    plan_slots,
    report_slot_counts,
    report_slots,
    submitted_report_count,
)
from clusterpacts.services import annual_plan_create, document_transition
from tests import factories

pytestmark = pytest.mark.django_db

BRUSSELS = ZoneInfo("Europe/Brussels")
DUE = date(2026, 3, 31)


def on(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BRUSSELS)


def step(document: AnnualReport | AnnualPlan, to: str, day: date, at: datetime | None = None) -> None:
    """A workflow step on `day` (at noon unless `at` says when), as the services record it."""
    comment = "Add the KPI values." if to == Workflow.RETURNED else ""
    document_transition(document=document, to=to, at=at or on(day), comment=comment, notify=False)


@pytest.fixture
def young(db) -> Cluster:
    """Started on 1 January 2025: its first working year is 2025, whose report is due on 31 March 2026."""
    return factories.ClusterFactory(name="Flux50", slug="flux50", started_on=date(2025, 1, 1))


@pytest.fixture
def report_2025(young) -> AnnualReport:
    # Created directly: the model refuses a working year that has not started by the real today.
    return AnnualReport.objects.create(cluster=young, year=2025, due_on=DUE)


def slot(cluster: Cluster, year: int, as_of: date) -> ReportSlot:
    (found,) = [s for s in report_slots(clusters=Cluster.objects.filter(pk=cluster.pk), as_of=as_of) if s.year == year]
    return found


def state(cluster: Cluster, as_of: date, year: int = 2025) -> tuple[str, bool]:
    found = slot(cluster, year, as_of)
    return found.status, found.overdue


# --- the days around the due date ------------------------------------------------------------------


def test_a_report_never_started_is_missing_and_overdue_from_the_day_after_its_due_date(young):
    assert state(young, DUE) == ("missing", False)
    assert state(young, date(2026, 4, 1)) == ("missing", True)
    never_started = slot(young, 2025, date(2026, 4, 1))
    assert (never_started.report, never_started.due_on) == (None, DUE)
    assert (never_started.cluster_id, never_started.cluster_name, never_started.cluster_slug) == (
        young.pk,
        "Flux50",
        "flux50",
    )


def test_a_draft_is_not_overdue_on_its_due_date_and_is_the_day_after(report_2025):
    young = report_2025.cluster
    assert state(young, DUE) == ("draft", False)
    assert state(young, date(2026, 4, 1)) == ("draft", True)
    assert slot(young, 2025, DUE).report == report_2025


def test_a_report_submitted_on_its_due_date_is_in_time(report_2025):
    step(report_2025, Workflow.SUBMITTED, DUE, at=on(DUE, 23, 59))  # 21:59 UTC: still the 31st in Brussels

    young = report_2025.cluster
    assert state(young, date(2026, 3, 30)) == ("draft", False)
    assert state(young, DUE) == ("submitted", False)
    assert state(young, date(2026, 4, 1)) == ("submitted", False)


def test_the_day_ends_at_midnight_in_brussels_not_in_utc(report_2025):
    step(report_2025, Workflow.SUBMITTED, date(2026, 4, 1), at=on(date(2026, 4, 1), 0, 30))  # 22:30 UTC on the 31st

    young = report_2025.cluster
    assert state(young, DUE) == ("draft", False)
    assert state(young, date(2026, 4, 1)) == ("submitted", False)


def test_a_report_submitted_after_its_due_date_is_overdue_until_that_day(report_2025):
    step(report_2025, Workflow.SUBMITTED, date(2026, 4, 3))

    young = report_2025.cluster
    assert state(young, date(2026, 4, 2)) == ("draft", True)
    assert state(young, date(2026, 4, 3)) == ("submitted", False)


def test_a_returned_report_is_overdue_again_until_it_is_resubmitted(report_2025):
    step(report_2025, Workflow.SUBMITTED, date(2026, 3, 15))
    step(report_2025, Workflow.RETURNED, date(2026, 4, 10))
    step(report_2025, Workflow.SUBMITTED, date(2026, 4, 20))

    young = report_2025.cluster
    assert state(young, date(2026, 4, 9)) == ("submitted", False)
    assert state(young, date(2026, 4, 10)) == ("returned", True)
    assert state(young, date(2026, 4, 19)) == ("returned", True)
    assert state(young, date(2026, 4, 20)) == ("submitted", False)


def test_a_report_returned_before_its_due_date_is_not_overdue_yet(report_2025):
    step(report_2025, Workflow.SUBMITTED, date(2026, 3, 1))
    step(report_2025, Workflow.RETURNED, date(2026, 3, 10))

    young = report_2025.cluster
    assert state(young, DUE) == ("returned", False)
    assert state(young, date(2026, 4, 1)) == ("returned", True)


def test_a_report_accepted_after_the_day_asked_shows_as_submitted(report_2025):
    step(report_2025, Workflow.SUBMITTED, date(2026, 3, 15))
    step(report_2025, Workflow.ACCEPTED, date(2026, 5, 28))

    young = report_2025.cluster
    report_2025.refresh_from_db()
    assert report_2025.status == Workflow.ACCEPTED  # what is stored today
    assert state(young, date(2026, 5, 27)) == ("submitted", False)
    assert state(young, date(2026, 5, 28)) == ("accepted", False)


def test_the_due_date_on_the_report_counts_and_the_setting_gives_it_while_not_started(settings, young):
    settings.CLUSTERPACTS_REPORT_DUE_MONTH = 6
    settings.CLUSTERPACTS_REPORT_DUE_DAY = 30
    assert slot(young, 2025, date(2026, 7, 1)).due_on == date(2026, 6, 30)
    assert state(young, date(2026, 6, 30)) == ("missing", False)

    AnnualReport.objects.create(cluster=young, year=2025, due_on=date(2026, 9, 30))  # an extension granted
    assert slot(young, 2025, date(2026, 7, 1)).due_on == date(2026, 9, 30)
    assert state(young, date(2026, 9, 30)) == ("draft", False)
    assert state(young, date(2026, 10, 1)) == ("draft", True)


# --- which working years --------------------------------------------------------------------------


def years(cluster: Cluster, as_of: date) -> list[int]:
    return [s.year for s in report_slots(clusters=Cluster.objects.filter(pk=cluster.pk), as_of=as_of)]


def test_the_running_working_year_has_a_slot_from_its_first_day_and_is_not_due_yet(young):
    assert years(young, date(2025, 12, 31)) == [2025]
    assert years(young, date(2026, 1, 1)) == [2025, 2026]
    running = slot(young, 2026, date(2026, 12, 31))
    assert (running.status, running.due_on, running.overdue) == ("missing", date(2027, 3, 31), False)


def test_a_cluster_has_slots_from_the_day_it_starts(db):
    mid_year = factories.ClusterFactory(started_on=date(2025, 6, 1))
    assert years(mid_year, date(2025, 5, 31)) == []
    assert years(mid_year, date(2025, 6, 1)) == [2025]
    assert years(mid_year, date(2027, 4, 1)) == [2025, 2026, 2027]


def test_a_cluster_without_a_start_date_has_no_slots(db):
    assert years(factories.ClusterFactory(started_on=None), date(2026, 4, 1)) == []


def test_slots_can_be_narrowed_to_some_years_and_are_ordered_by_cluster_and_year(young):
    older = factories.ClusterFactory(name="Catalisti", slug="catalisti", started_on=date(2017, 1, 1))
    slots = report_slots(clusters=Cluster.objects.all(), as_of=date(2026, 4, 1), years=[2024, 2025])
    assert [(s.cluster_slug, s.year) for s in slots] == [("catalisti", 2024), ("catalisti", 2025), ("flux50", 2025)]
    assert len(report_slots(clusters=Cluster.objects.filter(pk=older.pk), as_of=date(2026, 4, 1))) == 10


def test_slots_take_three_queries_however_many_clusters(django_assert_num_queries):
    def grow(count: int) -> None:
        for cluster in factories.ClusterFactory.create_batch(count, started_on=date(2020, 1, 1)):
            report = AnnualReport.objects.create(cluster=cluster, year=2024, due_on=date(2025, 3, 31))
            step(report, Workflow.SUBMITTED, date(2025, 3, 1))

    grow(2)
    with django_assert_num_queries(3):
        few = report_slots(clusters=Cluster.objects.all(), as_of=date(2026, 4, 1))
    grow(20)
    with django_assert_num_queries(3):
        many = report_slots(clusters=Cluster.objects.all(), as_of=date(2026, 4, 1))
    assert (len(few), len(many)) == (2 * 7, 22 * 7)
    assert {s.status for s in many if s.year == 2024} == {"submitted"}


def test_only_an_active_clusters_late_report_is_overdue(report_2025):
    inactive = factories.ClusterFactory(started_on=date(2025, 1, 1), active=False)
    overdue = overdue_reports(clusters=Cluster.objects.all(), as_of=date(2026, 4, 1))
    assert [(s.cluster_id, s.year) for s in overdue] == [(report_2025.cluster_id, 2025)]
    assert not slot(inactive, 2025, date(2026, 4, 1)).overdue, "an inactive cluster is not chased, by any reader"


# --- the same slots counted and listed in the database --------------------------------------------------


@pytest.fixture
def programme(db) -> list[Cluster]:
    """Clusters started on different days (one on 1 July 2024, one not yet, one without a day, one inactive)
    with reports in every state, some stepped twice on one day (the later step wins, as the replay reads)."""
    clusters = [
        factories.ClusterFactory(started_on=date(2023, 1, 1)),
        factories.ClusterFactory(started_on=date(2024, 7, 1)),
        factories.ClusterFactory(started_on=date(2026, 6, 1)),
        factories.ClusterFactory(started_on=None),
        factories.ClusterFactory(started_on=date(2023, 1, 1), active=False),
    ]
    first, second, _later, _undated, inactive = clusters
    submitted = AnnualReport.objects.create(cluster=first, year=2024, due_on=date(2025, 3, 31))
    step(submitted, Workflow.SUBMITTED, date(2025, 3, 31), at=on(date(2025, 3, 31), 23, 59))
    accepted = AnnualReport.objects.create(cluster=first, year=2023, due_on=date(2024, 3, 31))
    step(accepted, Workflow.SUBMITTED, date(2024, 3, 1))
    step(accepted, Workflow.ACCEPTED, date(2024, 3, 1), at=on(date(2024, 3, 1), 12, 0))  # the same time: by id
    returned = AnnualReport.objects.create(cluster=second, year=2024, due_on=date(2025, 6, 30))
    step(returned, Workflow.SUBMITTED, date(2025, 3, 1))
    step(returned, Workflow.RETURNED, date(2025, 4, 1))
    step(returned, Workflow.SUBMITTED, date(2025, 7, 1))  # submitted again: pending from then on
    AnnualReport.objects.create(cluster=second, year=2025, due_on=date(2026, 3, 31))  # a draft
    AnnualReport.objects.create(cluster=inactive, year=2024, due_on=date(2025, 3, 31))  # a draft, not chased
    # A plan's accepted step (no report: its report id is null) changes no report's state.
    plan = AnnualPlan.objects.create(cluster=first, year=2024)
    step(plan, Workflow.SUBMITTED, date(2023, 11, 1))
    step(plan, Workflow.ACCEPTED, date(2023, 12, 1))
    return clusters


DAYS = [date(2024, 3, 1), date(2025, 3, 31), date(2025, 4, 1), date(2025, 6, 30), date(2025, 7, 1), date(2026, 4, 1)]


@pytest.mark.parametrize("day", DAYS)
def test_the_counts_of_a_year_are_the_slots_own(programme, day):
    for year in range(2022, day.year + 1):
        slots = report_slots(clusters=Cluster.objects.all(), as_of=day, years=[year])
        expected: dict[str, int] = {}
        for found in slots:
            key = "overdue" if found.overdue else found.status
            expected[key] = expected.get(key, 0) + 1
        assert report_slot_counts(clusters=Cluster.objects.all(), as_of=day, year=year) == expected, (day, year)


@pytest.mark.parametrize("day", DAYS)
def test_the_reports_submitted_and_accepted_over_a_programme_are_the_slots_own(programme, day):
    slots = report_slots(clusters=Cluster.objects.all(), as_of=day)
    pending = sum(s.status == Workflow.SUBMITTED for s in slots)
    assert submitted_report_count(clusters=Cluster.objects.all(), as_of=day) == pending
    accepted = {s.report.pk for s in slots if s.status == Workflow.ACCEPTED}
    assert set(AnnualReport.objects.filter(pk__in=accepted_by(day)).values_list("pk", flat=True)) == accepted


@pytest.mark.parametrize("day", DAYS)
def test_the_overdue_list_is_the_overdue_slots_a_page_at_a_time(programme, day):
    expected = [
        (s.cluster_id, s.year, s.status, s.due_on) for s in overdue_reports(clusters=Cluster.objects.all(), as_of=day)
    ]
    listed = overdue_slots(clusters=Cluster.objects.all(), as_of=day)
    assert listed.count() == len(expected)
    assert [(s.cluster_id, s.year, s.status, s.due_on) for s in listed[0:100]] == expected
    assert [(s.cluster_id, s.year) for s in listed[1:3]] == [(c, y) for c, y, *_ in expected[1:3]]
    for year in (2024, 2025):
        narrowed = overdue_slots(clusters=Cluster.objects.all(), as_of=day, year=year)
        assert [(s.cluster_id, s.year) for s in narrowed[0:100]] == [(c, y) for c, y, *_ in expected if y == year]


def test_the_overdue_list_costs_the_same_queries_for_more_clusters(programme, django_assert_num_queries):
    def read() -> None:
        listed = overdue_slots(clusters=Cluster.objects.all(), as_of=date(2026, 4, 1))
        listed.count()
        listed[0:10]

    with django_assert_num_queries(4):  # the first start day; the count; the page; its reports
        read()
    for cluster in factories.ClusterFactory.create_batch(12, started_on=date(2021, 1, 1)):
        AnnualReport.objects.create(cluster=cluster, year=2022, due_on=date(2023, 3, 31))
    with django_assert_num_queries(4):
        read()


# --- plans ----------------------------------------------------------------------------------------


def test_plan_slots_replay_the_plan_and_run_to_the_year_after_the_day(young):
    plan = annual_plan_create(cluster=young, year=2026)
    step(plan, Workflow.SUBMITTED, date(2025, 11, 30))
    step(plan, Workflow.ACCEPTED, date(2025, 12, 20))

    def plans(as_of: date) -> list[tuple[int, str]]:
        return [(s.year, s.status) for s in plan_slots(clusters=Cluster.objects.all(), as_of=as_of)]

    assert plans(date(2025, 11, 29)) == [(2025, "missing"), (2026, "draft")]
    assert plans(date(2025, 11, 30)) == [(2025, "missing"), (2026, "submitted")]
    assert plans(date(2026, 1, 1)) == [(2025, "missing"), (2026, "accepted"), (2027, "missing")]
    (found,) = plan_slots(clusters=Cluster.objects.all(), as_of=date(2026, 1, 1), years=[2026])
    assert found.plan == plan
    assert not hasattr(found, "due_on") and not hasattr(found, "overdue")
