"""Flags: the daily scan that raises and resolves them, the officers' digest e-mail, the command, the Celery task
and schedule, the database constraint and the admin.

The scan writes its messages in the default language (Dutch); these tests assert on what does not depend on
the language: kind, cluster, subject, agreement, report, year and dates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from clusterpacts.models import AnnualReport, Cluster, ReportEvent, Workflow
from clusterpacts.services import annual_report_create, document_transition
from evaluations.models import Evaluation
from funding.models import Allocation, Flag, Project, SupportAgreement, cap_date_for
from funding.notifications import flags_notify_officers
from funding.services import agreement_create, agreement_extend, agreement_save, flags_scan
from funding.tasks import notify_officers, scan_flags
from tests import factories
from tests.factories import (
    BudgetYearFactory,
    ClusterFactory,
    EvaluationFactory,
    ProjectFactory,
    UserFactory,
    completed_interim,
    manager_of,
)
from tests.funding.conftest import TERMS_2017
from tests.funding.helpers import YEARLY, make_chain, refused_by_the_database, shown

pytestmark = pytest.mark.django_db

Kind = Flag.Kind
CAP_2017 = date(2026, 12, 31)  # the cap of a chain that started on 2017-01-01
END_2019 = date(2019, 12, 31)  # the end of the `first_term` fixture (2017-01-01 .. 2019-12-31)
LEAP_START = date(2016, 2, 29)
LEAP_CAP = date(2026, 2, 27)
TERMS_LEAP = [
    (date(2016, 2, 29), date(2019, 2, 27)),
    (date(2019, 2, 28), date(2022, 2, 27)),
    (date(2022, 2, 28), date(2025, 2, 27)),
]


# --- helpers --------------------------------------------------------------------------------------


def open_flags(kind: str | None = None, cluster: Cluster | None = None) -> list[Flag]:
    flags = Flag.objects.open()
    if kind:
        flags = flags.filter(kind=kind)
    if cluster:
        flags = flags.filter(cluster=cluster)
    return list(flags.order_by("pk"))


def open_kinds(cluster: Cluster) -> set[str]:
    return {flag.kind for flag in open_flags(cluster=cluster)}


def agreement_kinds(cluster: Cluster) -> set[str]:
    """The open flags about agreements and the cap (not the annual reports)."""
    return open_kinds(cluster) - {Kind.REPORT_OVERDUE}


def the_flag(kind: str, cluster: Cluster) -> Flag:
    flags = open_flags(kind, cluster)
    assert len(flags) == 1, f"expected one open {kind} flag of {cluster}, found {flags}"
    return flags[0]


def completed_evaluation(cluster: Cluster, day: date, kind: str = Evaluation.Kind.INTERIM) -> Evaluation:
    return EvaluationFactory(
        cluster=cluster,
        kind=kind,
        stage="completed",
        started_on=day,
        reporting_on=day,
        completed_on=day,
        conclusion="largely_achieved",
    )


def final_chain_2017(cluster: Cluster, prefix: str = "SO") -> list[SupportAgreement]:
    """Three terms from 2017-01-01 and a fourth, final one of one year: 2026-01-01 .. 2026-12-31 (the cap)."""
    chain = make_chain(cluster, TERMS_2017, prefix=prefix)
    completed_interim(cluster, date(2024, 6, 1))
    final = agreement_extend(predecessor=chain[-1], reference=f"{prefix}-4", end_date=CAP_2017, amount=YEARLY)
    return [*chain, final]


def in_the_day(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def report(cluster: Cluster, year: int, status: str = Workflow.DRAFT, due_on: date | None = None) -> AnnualReport:
    """A report taken to `status` on 15 March after its year, with the workflow steps the scan replays."""
    annual_report = AnnualReport.objects.create(cluster=cluster, year=year, due_on=due_on or date(year + 1, 3, 31))
    on = in_the_day(date(year + 1, 3, 15))
    if status != Workflow.DRAFT:
        document_transition(document=annual_report, to=Workflow.SUBMITTED, at=on, notify=False)
    if status in (Workflow.ACCEPTED, Workflow.RETURNED):
        document_transition(
            document=annual_report, to=status, at=on, notify=False, comment="Please add the KPI values."
        )
    return annual_report


@pytest.fixture
def committed_scan(django_capture_on_commit_callbacks):
    """A scan whose transaction commits: the on-commit notification runs (eager Celery)."""

    def run(day: date):
        with django_capture_on_commit_callbacks(execute=True):
            return flags_scan(as_of=day)

    return run


@pytest.fixture
def young_cluster(db) -> Cluster:
    """A cluster whose first working year is 2025: one annual report (due 2026-03-31) to think of."""
    return ClusterFactory(name="Flux50", slug="flux50", started_on=date(2025, 1, 1))


# --- 1. window boundaries -------------------------------------------------------------------------


@pytest.mark.parametrize("days_before_end", [0, 1, 179, 180])
def test_renewal_is_due_within_180_days_of_the_end(cluster, first_term, days_before_end):
    flags_scan(as_of=END_2019 - timedelta(days=days_before_end))

    flag = the_flag(Kind.RENEWAL_DUE, cluster)
    assert flag.agreement == first_term
    assert flag.subject == f"agreement:{first_term.pk}"
    assert flag.due_on == END_2019
    assert flag.raised_on == END_2019 - timedelta(days=days_before_end)
    assert cluster.name in flag.message
    assert first_term.reference in flag.message


def test_renewal_is_not_due_181_days_before_the_end(cluster, first_term):
    flags_scan(as_of=END_2019 - timedelta(days=181))

    assert agreement_kinds(cluster) == set()


@pytest.mark.parametrize(("days_before_cap", "raised"), [(0, True), (364, True), (365, True), (366, False)])
def test_cap_approaching_within_365_days_of_the_cap(cluster, days_before_cap, raised):
    # The running agreement at these days is never within the renewal window: it has a successor
    # (2025-12-31 and before) or it is the final term (2026), so only the direct rule applies.
    chain = final_chain_2017(cluster)
    as_of = CAP_2017 - timedelta(days=days_before_cap)

    flags_scan(as_of=as_of)

    assert open_flags(Kind.RENEWAL_DUE, cluster) == []
    if not raised:
        assert open_flags(Kind.CAP_APPROACHING, cluster) == []
        return
    flag = the_flag(Kind.CAP_APPROACHING, cluster)
    assert flag.due_on == CAP_2017
    assert flag.agreement == chain[-1]
    assert flag.subject == f"chain:{cluster.pk}:2017-01-01"
    assert cluster.name in flag.message


def test_cap_approaching_is_not_raised_after_the_cap(cluster):
    final_chain_2017(cluster)

    flags_scan(as_of=CAP_2017 + timedelta(days=1))

    assert agreement_kinds(cluster) == set()


def test_cap_approaching_when_the_renewal_now_due_is_the_last_one_possible(cluster, chain_2017):
    # The last term ends on 2025-12-31, 365 days before the cap: its extension can only be the final term.
    as_of = date(2025, 12, 31) - timedelta(days=180)  # renewal due; the cap itself is 545 days away
    flags_scan(as_of=as_of)

    assert {Kind.RENEWAL_DUE, Kind.CAP_APPROACHING} <= agreement_kinds(cluster)
    cap_flag = the_flag(Kind.CAP_APPROACHING, cluster)
    assert cap_flag.due_on == CAP_2017
    assert cap_flag.agreement == chain_2017[-1]


def test_no_cap_flag_for_a_renewal_due_366_days_or_more_before_the_cap(cluster):
    terms = [*TERMS_2017[:2], (date(2023, 1, 1), date(2025, 12, 30))]  # ends 366 days before the cap
    make_chain(cluster, terms)

    flags_scan(as_of=date(2025, 12, 30) - timedelta(days=180))

    assert Kind.RENEWAL_DUE in agreement_kinds(cluster)
    assert Kind.CAP_APPROACHING not in agreement_kinds(cluster)


def test_no_renewal_is_due_for_the_final_term_which_cannot_be_extended(cluster):
    chain = final_chain_2017(cluster)

    flags_scan(as_of=date(2026, 11, 27))

    assert agreement_kinds(cluster) == {Kind.FINAL_TERM, Kind.CAP_APPROACHING}
    assert the_flag(Kind.FINAL_TERM, cluster).agreement == chain[-1]


@pytest.mark.parametrize(
    ("as_of", "final_term"),
    [
        (date(2025, 12, 31), False),  # the day before the final term starts
        (date(2026, 1, 1), True),
        (CAP_2017, True),
        (CAP_2017 + timedelta(days=1), False),  # it has ended
    ],
)
def test_final_term_flag_while_the_agreement_ending_on_the_cap_runs(cluster, as_of, final_term):
    chain = final_chain_2017(cluster)

    flags_scan(as_of=as_of)

    flags = open_flags(Kind.FINAL_TERM, cluster)
    assert bool(flags) == final_term
    if final_term:
        assert flags[0].agreement == chain[-1]
        assert flags[0].due_on == CAP_2017
        assert chain[-1].reference in flags[0].message


def test_an_annual_report_is_not_overdue_on_its_due_date(young_cluster):
    flags_scan(as_of=date(2026, 3, 31))

    assert open_flags(Kind.REPORT_OVERDUE) == []


def test_an_annual_report_never_started_is_overdue_the_day_after_its_due_date(young_cluster):
    flags_scan(as_of=date(2026, 4, 1))

    flag = the_flag(Kind.REPORT_OVERDUE, young_cluster)
    assert (flag.year, flag.report, flag.due_on) == (2025, None, date(2026, 3, 31))
    assert flag.subject == f"report:{young_cluster.pk}:2025"
    assert young_cluster.name in flag.message
    assert "2025" in flag.message


@pytest.mark.parametrize(
    ("status", "overdue"),
    [
        (Workflow.DRAFT, True),
        (Workflow.RETURNED, True),
        (Workflow.SUBMITTED, False),
        (Workflow.ACCEPTED, False),
    ],
)
def test_a_report_past_due_is_overdue_while_draft_or_returned(young_cluster, status, overdue):
    annual_report = report(young_cluster, 2025, status=status)

    flags_scan(as_of=date(2026, 4, 1))

    flags = open_flags(Kind.REPORT_OVERDUE, young_cluster)
    assert bool(flags) == overdue
    if overdue:
        assert (flags[0].report, flags[0].year) == (annual_report, 2025)


def test_the_due_date_stored_on_the_report_is_the_one_that_counts(young_cluster):
    report(young_cluster, 2025, due_on=date(2026, 6, 30))  # an extension granted

    flags_scan(as_of=date(2026, 6, 30))
    assert open_flags(Kind.REPORT_OVERDUE) == []

    flags_scan(as_of=date(2026, 7, 1))
    assert the_flag(Kind.REPORT_OVERDUE, young_cluster).due_on == date(2026, 6, 30)


def test_every_working_year_from_the_start_year_is_checked(db):
    started_mid_year = ClusterFactory(started_on=date(2023, 6, 1))
    report(started_mid_year, 2024, status=Workflow.SUBMITTED)

    flags_scan(as_of=date(2026, 4, 1))

    # 2023 (the start year) and 2025 are missing; 2024 was submitted; 2026's report is not due yet.
    assert {flag.year for flag in open_flags(Kind.REPORT_OVERDUE, started_mid_year)} == {2023, 2025}


def test_a_cluster_without_a_start_date_owes_no_reports(db):
    not_started = ClusterFactory(started_on=None)

    flags_scan(as_of=date(2026, 4, 1))

    assert open_flags(cluster=not_started) == []


def test_the_windows_and_the_report_due_date_come_from_the_settings(settings, cluster, first_term, other_cluster):
    settings.CLUSTERPACTS_RENEWAL_WINDOW_DAYS = 30
    settings.CLUSTERPACTS_CAP_WINDOW_DAYS = 60
    settings.CLUSTERPACTS_REPORT_DUE_MONTH = 6
    settings.CLUSTERPACTS_REPORT_DUE_DAY = 30
    final_chain_2017(other_cluster, prefix="SIM")

    # 1 April 2018: with the default (31 March) the report on 2017 would be overdue; now it is due 30 June.
    flags_scan(as_of=date(2018, 4, 1))
    assert open_flags(Kind.REPORT_OVERDUE, cluster) == []
    flags_scan(as_of=date(2018, 7, 1))
    assert the_flag(Kind.REPORT_OVERDUE, cluster).due_on == date(2018, 6, 30)

    # Renewal: 31 days before the end is outside a 30-day window, 30 days is inside.
    flags_scan(as_of=END_2019 - timedelta(days=31))
    assert Kind.RENEWAL_DUE not in agreement_kinds(cluster)
    flags_scan(as_of=END_2019 - timedelta(days=30))
    assert Kind.RENEWAL_DUE in agreement_kinds(cluster)

    # Cap: 61 days before the cap is outside a 60-day window, 60 days is inside.
    flags_scan(as_of=CAP_2017 - timedelta(days=61))
    assert Kind.CAP_APPROACHING not in agreement_kinds(other_cluster)
    flags_scan(as_of=CAP_2017 - timedelta(days=60))
    assert Kind.CAP_APPROACHING in agreement_kinds(other_cluster)


# --- 2. a chain from 29 February ------------------------------------------------------------------


@pytest.fixture
def leap_chain(cluster) -> list[SupportAgreement]:
    chain = make_chain(cluster, TERMS_LEAP)
    completed_interim(cluster, date(2023, 6, 1))
    final = agreement_extend(predecessor=chain[-1], reference="SO-4", end_date=LEAP_CAP, amount=YEARLY)
    return [*chain, final]


def test_a_chain_from_29_february_2016_is_capped_on_27_february_2026(leap_chain):
    assert cap_date_for(LEAP_START) == LEAP_CAP
    assert all(agreement.cap_date == LEAP_CAP for agreement in leap_chain)
    assert leap_chain[-1].is_final_term


def test_final_term_flag_for_the_chain_from_29_february_runs_until_27_february(cluster, leap_chain):
    flags_scan(as_of=date(2025, 2, 28))  # the final term's first day
    flag = the_flag(Kind.FINAL_TERM, cluster)
    assert (flag.agreement, flag.due_on) == (leap_chain[-1], LEAP_CAP)

    flags_scan(as_of=LEAP_CAP)
    assert the_flag(Kind.FINAL_TERM, cluster).pk == flag.pk

    flags_scan(as_of=date(2026, 2, 28))
    flag.refresh_from_db()
    assert flag.resolved_on == date(2026, 2, 28)
    assert open_flags(Kind.FINAL_TERM, cluster) == []


def test_cap_approaching_for_the_chain_from_29_february_counts_from_27_february(cluster, leap_chain):
    # 2025-02-27 is 365 days before 2026-02-27 (inside) but 366 before 2026-02-28 (would be outside).
    flags_scan(as_of=date(2025, 2, 26))
    assert open_flags(Kind.CAP_APPROACHING, cluster) == []

    flags_scan(as_of=date(2025, 2, 27))
    flag = the_flag(Kind.CAP_APPROACHING, cluster)
    assert flag.due_on == LEAP_CAP
    assert flag.subject == f"chain:{cluster.pk}:2016-02-29"
    assert open_flags(Kind.FINAL_TERM, cluster) == []  # the final term starts the next day
    assert open_flags(Kind.RENEWAL_DUE, cluster) == []


# --- 3. evaluation missing ------------------------------------------------------------------------

SCAN_2019 = date(2019, 10, 1)  # 91 days before the end of `first_term`: renewal due


def test_evaluation_missing_when_renewal_is_due_without_a_completed_interim_evaluation(cluster, first_term):
    flags_scan(as_of=SCAN_2019)

    flag = the_flag(Kind.EVALUATION_MISSING, cluster)
    assert flag.agreement == first_term
    assert flag.subject == f"agreement:{first_term.pk}"
    assert flag.due_on == END_2019 + timedelta(days=1)  # the day the extension would start
    assert first_term.reference in flag.message


def test_no_evaluation_missing_when_the_interim_evaluation_was_completed_in_the_term(cluster, first_term):
    completed_interim(cluster, date(2019, 5, 15))

    flags_scan(as_of=SCAN_2019)

    assert agreement_kinds(cluster) == {Kind.RENEWAL_DUE}


def test_no_evaluation_missing_flag_while_no_renewal_is_due(cluster, first_term):
    flags_scan(as_of=END_2019 - timedelta(days=181))

    assert open_flags(Kind.EVALUATION_MISSING) == []


@pytest.mark.parametrize(
    "evaluation",
    [
        pytest.param(lambda c, o: completed_interim(c, date(2016, 12, 31)), id="completed-before-the-term"),
        pytest.param(lambda c, o: completed_interim(c, date(2017, 1, 1)), id="completed-on-the-first-day"),
        pytest.param(lambda c, o: completed_interim(o, date(2019, 5, 15)), id="of-another-cluster"),
        pytest.param(
            lambda c, o: completed_evaluation(c, date(2019, 5, 15), Evaluation.Kind.FINAL), id="final-not-interim"
        ),
        pytest.param(
            lambda c, o: completed_evaluation(c, date(2019, 5, 15), Evaluation.Kind.AD_HOC), id="ad-hoc-not-interim"
        ),
        pytest.param(
            lambda c, o: EvaluationFactory(
                cluster=c, stage="reporting", started_on=date(2019, 3, 1), reporting_on=date(2019, 5, 1)
            ),
            id="interim-not-completed",
        ),
        pytest.param(lambda c, o: completed_interim(c, date(2019, 10, 2)), id="completed-after-the-scan-date"),
    ],
)
def test_evaluations_that_do_not_count_for_the_term(cluster, other_cluster, first_term, evaluation):
    evaluation(cluster, other_cluster)

    flags_scan(as_of=SCAN_2019)

    assert the_flag(Kind.EVALUATION_MISSING, cluster).agreement == first_term


@pytest.mark.parametrize(("completed_on", "missing"), [(date(2020, 1, 1), False), (date(2020, 1, 2), True)])
def test_the_interim_evaluation_may_be_completed_at_the_latest_the_day_after_the_term(
    cluster, first_term, completed_on, missing
):
    # The term has ended without an extension; an extension could start on 2020-01-01 at the earliest.
    completed_interim(cluster, completed_on)

    flags_scan(as_of=date(2020, 1, 10))

    assert Kind.RENEWAL_DUE in agreement_kinds(cluster)
    assert (Kind.EVALUATION_MISSING in agreement_kinds(cluster)) == missing


# --- 4. idempotence -------------------------------------------------------------------------------


def snapshot() -> list[tuple]:
    return list(
        Flag.objects.order_by("pk").values_list(
            "pk", "kind", "subject", "cluster_id", "agreement_id", "raised_on", "due_on", "resolved_on", "notified_at"
        )
    )


def test_a_second_scan_on_the_same_day_changes_nothing_and_sends_nothing(
    committed_scan, mailoutbox, audience, cluster, first_term, other_cluster
):
    final_chain_2017(other_cluster, prefix="SIM")

    first = committed_scan(date(2026, 1, 10))
    assert len(first.raised) >= 4
    assert len(mailoutbox) == 1
    before = snapshot()

    second = committed_scan(date(2026, 1, 10))

    assert (second.raised, second.resolved) == ([], [])
    assert snapshot() == before
    assert len(mailoutbox) == 1


def test_the_scan_raises_one_flag_per_kind_and_subject(cluster, first_term):
    flags_scan(as_of=SCAN_2019)
    flags_scan(as_of=SCAN_2019)
    flags_scan(as_of=SCAN_2019 + timedelta(days=1))

    keys = list(Flag.objects.values_list("kind", "subject"))
    assert len(keys) == len(set(keys))
    assert all(flag.raised_on == SCAN_2019 for flag in Flag.objects.all())


def test_the_scan_reports_as_raised_only_the_flags_it_raised_itself(cluster, first_term):
    # The first scan's digest has not gone out yet (no commit), and the same day something changes.
    completed_interim(cluster, date(2019, 9, 1))
    first = flags_scan(as_of=SCAN_2019)
    assert Kind.RENEWAL_DUE in {flag.kind for flag in first.raised}
    # An officer corrects the end date: the evaluation now falls after the term.
    agreement_save(agreement=first_term, end_date=date(2019, 8, 1))

    second = flags_scan(as_of=SCAN_2019)

    assert [(flag.kind, flag.subject) for flag in second.raised] == [
        (Kind.EVALUATION_MISSING, f"agreement:{first_term.pk}")
    ]


# --- 5. resolution --------------------------------------------------------------------------------


def test_registering_the_extension_resolves_renewal_due_and_evaluation_missing(cluster, first_term):
    flags_scan(as_of=SCAN_2019)
    renewal = the_flag(Kind.RENEWAL_DUE, cluster)
    missing = the_flag(Kind.EVALUATION_MISSING, cluster)

    completed_interim(cluster, date(2019, 10, 15))
    extension = agreement_extend(predecessor=first_term, reference="SO-2", end_date=date(2022, 12, 31), amount=YEARLY)
    result = flags_scan(as_of=date(2019, 11, 1))

    renewal.refresh_from_db()
    missing.refresh_from_db()
    assert renewal.resolved_on == date(2019, 11, 1)
    assert missing.resolved_on == date(2019, 11, 1)
    assert {flag.pk for flag in result.resolved} == {renewal.pk, missing.pk}
    assert agreement_kinds(cluster) == set()
    assert Flag.objects.filter(agreement=extension).count() == 0


def test_completing_the_interim_evaluation_resolves_only_evaluation_missing(cluster, first_term):
    flags_scan(as_of=SCAN_2019)
    renewal = the_flag(Kind.RENEWAL_DUE, cluster)
    missing = the_flag(Kind.EVALUATION_MISSING, cluster)

    completed_interim(cluster, date(2019, 10, 5))
    result = flags_scan(as_of=date(2019, 10, 10))

    missing.refresh_from_db()
    assert missing.resolved_on == date(2019, 10, 10)
    assert [flag.pk for flag in result.resolved] == [missing.pk]
    assert the_flag(Kind.RENEWAL_DUE, cluster).pk == renewal.pk


def test_submitting_the_overdue_report_resolves_it_and_returning_it_raises_a_new_flag(young_cluster):
    annual_report = annual_report_create(cluster=young_cluster, year=2025)
    flags_scan(as_of=date(2026, 4, 1))
    overdue = the_flag(Kind.REPORT_OVERDUE, young_cluster)
    assert overdue.report == annual_report

    document_transition(document=annual_report, to=Workflow.SUBMITTED, at=in_the_day(date(2026, 4, 5)))
    flags_scan(as_of=date(2026, 4, 5))
    overdue.refresh_from_db()
    assert overdue.resolved_on == date(2026, 4, 5)
    assert open_flags(Kind.REPORT_OVERDUE) == []

    document_transition(
        document=annual_report, to=Workflow.RETURNED, comment="Add the KPI values.", at=in_the_day(date(2026, 4, 20))
    )
    flags_scan(as_of=date(2026, 4, 20))

    again = the_flag(Kind.REPORT_OVERDUE, young_cluster)
    assert again.pk != overdue.pk
    assert (again.subject, again.raised_on, again.resolved_on) == (overdue.subject, date(2026, 4, 20), None)
    overdue.refresh_from_db()
    assert overdue.resolved_on == date(2026, 4, 5)
    assert Flag.objects.filter(kind=Kind.REPORT_OVERDUE, subject=overdue.subject).count() == 2


def test_a_resolved_flag_is_kept_and_a_new_one_is_raised_when_the_cause_returns(cluster):
    chain = final_chain_2017(cluster)
    flags_scan(as_of=date(2026, 6, 1))
    final = the_flag(Kind.FINAL_TERM, cluster)

    flags_scan(as_of=date(2027, 1, 1))  # the final term has ended
    final.refresh_from_db()
    assert final.resolved_on == date(2027, 1, 1)

    flags_scan(as_of=date(2026, 7, 1))  # a scan replayed for a day inside the final term
    again = the_flag(Kind.FINAL_TERM, cluster)
    assert again.pk != final.pk
    assert again.agreement == chain[-1]
    assert Flag.objects.filter(kind=Kind.FINAL_TERM, cluster=cluster).count() == 2


def test_a_flag_is_resolved_when_the_cluster_becomes_inactive(cluster, first_term):
    flags_scan(as_of=SCAN_2019)
    assert open_flags(cluster=cluster)

    Cluster.objects.filter(pk=cluster.pk).update(active=False)
    result = flags_scan(as_of=SCAN_2019 + timedelta(days=1))

    assert open_flags(cluster=cluster) == []
    assert {flag.resolved_on for flag in Flag.objects.filter(cluster=cluster)} == {SCAN_2019 + timedelta(days=1)}
    assert len(result.resolved) == Flag.objects.filter(cluster=cluster).count()


def test_inactive_clusters_raise_no_flags(db):
    inactive = ClusterFactory(active=False, started_on=date(2017, 1, 1))
    make_chain(inactive, TERMS_2017[:1])
    report(inactive, 2018)

    result = flags_scan(as_of=SCAN_2019)

    assert result.raised == []
    assert Flag.objects.count() == 0


# --- 6. a fixed number of queries -----------------------------------------------------------------

QUERY_SCAN_DAY = date(2026, 11, 27)


def bulk_portfolio(size: int) -> None:
    """`size` clusters with one agreement each, a 2025 report and a 2026 reservation with a project against
    it; one in twenty raises each kind of flag.

    At 200 clusters the scan raises 60 flags: on SQLite, Django 5.2 splits a bulk insert into batches of
    90 flags (999 parameters per query), so more new flags than that in one scan add INSERT queries there
    (not on PostgreSQL). Kept below it, the count measured is the scan's own.
    """
    clusters = ClusterFactory.create_batch(size, started_on=date(2025, 1, 1))
    budget = BudgetYearFactory(year=2026, envelope=Decimal(size * 1_000_000))
    agreements, reports, evaluations, reservations, projects = [], [], [], [], []
    for number, cluster in enumerate(clusters):
        if number % 20 == 0:  # ends 2026-12-31 without extension: renewal due, no evaluation
            start, end, chain_start = date(2024, 1, 1), date(2026, 12, 31), date(2024, 1, 1)
        elif number % 20 == 1:  # the final term of a chain from 2017: final term, cap approaching
            start, end, chain_start = date(2026, 1, 1), date(2026, 12, 31), date(2017, 1, 1)
        else:  # nothing to say
            start, end, chain_start = date(2025, 1, 1), date(2027, 12, 31), date(2025, 1, 1)
        agreements.append(
            SupportAgreement(
                cluster=cluster,
                reference=f"BULK-{cluster.pk}",
                start_date=start,
                end_date=end,
                chain_start=chain_start,
                amount=YEARLY,
            )
        )
        status = Workflow.DRAFT if number % 20 == 2 else Workflow.SUBMITTED
        reports.append(AnnualReport(cluster=cluster, year=2025, status=status, due_on=date(2026, 3, 31)))
        if number % 20 == 3:
            evaluations.append(
                EvaluationFactory.build(
                    cluster=cluster,
                    stage="completed",
                    started_on=date(2025, 6, 1),
                    reporting_on=date(2025, 6, 1),
                    completed_on=date(2025, 6, 1),
                    conclusion="largely_achieved",
                )
            )
        reservations.append(
            Allocation(budget_year=budget, purpose="competitiveness", cluster=cluster, amount=Decimal(100_000))
        )
        projects.append(  # one in twenty decides more than its reservation
            ProjectFactory.build(
                reference=f"BULK-P-{cluster.pk}",
                lead_cluster=cluster,
                decided_on=date(2026, 6, 1),
                amount=Decimal(150_000 if number % 20 == 4 else 50_000),
                start_date=date(2026, 7, 1),
                end_date=date(2028, 6, 30),
                status_on=date(2026, 6, 1),
            )
        )
    SupportAgreement.objects.bulk_create(agreements)
    AnnualReport.objects.bulk_create(reports)
    # The scan replays the workflow steps: a submitted report has its step, on time.
    ReportEvent.objects.bulk_create(
        ReportEvent(report=r, from_status=Workflow.DRAFT, to_status=r.status, at=in_the_day(date(2026, 3, 15)))
        for r in reports
        if r.status == Workflow.SUBMITTED
    )
    Evaluation.objects.bulk_create(evaluations)
    Allocation.objects.bulk_create(reservations)
    Project.objects.bulk_create(projects)


def clear_portfolio() -> None:
    Flag.objects.all().delete()
    Evaluation.objects.all().delete()
    AnnualReport.objects.all().delete()
    SupportAgreement.objects.all().delete()
    Project.objects.all().delete()
    Allocation.objects.all().delete()
    Cluster.objects.all().delete()


def counted_scan(day: date) -> tuple[int, int, int]:
    with CaptureQueriesContext(connection) as queries:
        result = flags_scan(as_of=day)
    return len(queries), len(result.raised), len(result.resolved)


def test_the_scan_issues_the_same_number_of_queries_for_10_and_200_clusters():
    bulk_portfolio(10)
    small, small_raised, _ = counted_scan(QUERY_SCAN_DAY)
    small_again, nothing, _ = counted_scan(QUERY_SCAN_DAY)
    small_resolving, _, small_resolved = counted_scan(date(2027, 3, 1))
    clear_portfolio()

    bulk_portfolio(200)
    large, large_raised, _ = counted_scan(QUERY_SCAN_DAY)
    large_again, _, _ = counted_scan(QUERY_SCAN_DAY)
    large_resolving, _, large_resolved = counted_scan(date(2027, 3, 1))

    assert Flag.objects.filter(raised_on=QUERY_SCAN_DAY).count() == large_raised
    # Per 20 clusters: renewal + evaluation, final term + cap, the report, the reservation.
    assert (small_raised, large_raised) == (6, 60)
    assert Flag.objects.filter(kind=Kind.RESERVATION_EXCEEDED).count() == 10
    assert nothing == 0
    assert small_resolved > 0
    assert large_resolved > small_resolved
    assert small == large
    assert small_again == large_again
    assert small_resolving == large_resolving
    assert large < 15


def writes(queries: CaptureQueriesContext) -> list[str]:
    """The statements that change something: anything but reads and the savepoints of the test's transaction
    (the scan's lock, `SELECT pg_advisory_xact_lock(...)`, is a read on PostgreSQL and no query on SQLite)."""
    return [
        query["sql"]
        for query in queries.captured_queries
        if not query["sql"].lstrip().upper().startswith(("SELECT", "SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


@pytest.mark.parametrize("size", [10, 200])
def test_a_second_scan_with_nothing_to_change_only_reads(size):
    bulk_portfolio(size)
    first = flags_scan(as_of=QUERY_SCAN_DAY)
    assert first.raised

    with CaptureQueriesContext(connection) as queries:
        second = flags_scan(as_of=QUERY_SCAN_DAY)

    assert (second.raised, second.resolved) == ([], [])
    assert writes(queries) == []
    assert len(queries) < 12


def test_a_scan_writes_only_the_flags_whose_wording_changed():
    bulk_portfolio(40)
    flags_scan(as_of=QUERY_SCAN_DAY)
    over = Flag.objects.filter(kind=Kind.RESERVATION_EXCEEDED).order_by("pk").first()
    project = Project.objects.get(lead_cluster=over.cluster)
    project.amount += 10_000  # as `project_save` would: the flag's amounts change, nothing else
    project.save()

    with CaptureQueriesContext(connection) as queries:
        flags_scan(as_of=QUERY_SCAN_DAY)

    (update,) = writes(queries)
    assert update.startswith("UPDATE") and str(over.pk) in update
    refreshed = Flag.objects.get(pk=over.pk)
    assert refreshed.message != over.message and "160" in refreshed.message_en
    assert refreshed.raised_on == over.raised_on and refreshed.resolved_on is None


# --- 7. the officers' digest ----------------------------------------------------------------------


@pytest.fixture
def audience(officer, cluster):
    """Who might receive the digest: only active officers with an e-mail address do."""
    second_officer = officer_user("officer-two")
    officer_user("officer-no-mail", email="")
    officer_user("officer-gone", is_active=False)
    manager_of(cluster, username="manager-catalisti")
    UserFactory(username="staff-not-officer", is_staff=True)
    return {officer.email, second_officer.email}


def digest_subject(count: int) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        subject = translation.ngettext(
            "Clusterpact portal: %(count)d new flag", "Clusterpact portal: %(count)d new flags", count
        ) % {"count": count}
    assert str(count) in subject
    return subject


def officer_user(username: str, **kwargs):
    return factories.officer(username=username, **kwargs)


def test_new_flags_send_one_digest_to_the_officers_with_an_email(committed_scan, mailoutbox, audience, first_term):
    result = committed_scan(date(2019, 7, 10))

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert set(mail.to) == audience
    assert len(mail.to) == 2
    assert mail.subject == digest_subject(4)
    assert len(result.raised) == Flag.objects.count() == 4  # renewal, evaluation, reports on 2017 and 2018
    for flag in result.raised:
        assert flag.message in mail.body
    assert all(flag.notified_at is not None for flag in Flag.objects.all())


def test_each_officer_gets_the_digest_in_their_language(committed_scan, mailoutbox, audience, officer, first_term):
    from core.services import user_language_set

    user_language_set(user=officer, language="en")
    result = committed_scan(date(2019, 7, 10))

    by_recipient = {tuple(mail.to): mail for mail in mailoutbox}
    assert len(mailoutbox) == 2, "one in English, one in Dutch"
    english = by_recipient[(officer.email,)]
    dutch = next(mail for mail in mailoutbox if mail is not english)
    assert english.subject == "Clusterpact portal: 4 new flags"
    assert dutch.subject.startswith("Clusterpactportaal")
    for flag in result.raised:
        assert flag.message_en in english.body and flag.message in dutch.body
    for mail in mailoutbox:
        assert f"{settings.CLUSTERPACTS_SITE_URL}/admin/funding/flag/?resolved_on__isnull=True" in mail.body


def test_the_digest_links_to_the_configured_site_address(committed_scan, mailoutbox, audience, first_term, settings):
    settings.CLUSTERPACTS_SITE_URL = "https://clusterpacts.vlaio.example"
    committed_scan(date(2019, 7, 10))
    assert "https://clusterpacts.vlaio.example/admin/funding/flag/?resolved_on__isnull=True" in mailoutbox[0].body


def test_the_digest_is_sent_once_and_a_later_flag_gets_its_own(committed_scan, mailoutbox, audience, first_term):
    committed_scan(date(2019, 7, 10))
    first_messages = list(Flag.objects.values_list("message", flat=True))

    committed_scan(date(2019, 7, 10))
    committed_scan(date(2019, 7, 11))
    assert len(mailoutbox) == 1

    result = committed_scan(date(2020, 4, 1))  # the report on 2019 is now overdue
    assert [flag.kind for flag in result.raised] == [Kind.REPORT_OVERDUE]
    assert len(mailoutbox) == 2
    mail = mailoutbox[1]
    assert mail.subject == digest_subject(1)
    assert result.raised[0].message in mail.body
    assert not any(message in mail.body for message in first_messages)
    assert set(mail.to) == audience


def test_no_email_before_the_scan_commits(django_capture_on_commit_callbacks, mailoutbox, audience, first_term):
    with django_capture_on_commit_callbacks() as callbacks:
        result = flags_scan(as_of=date(2019, 7, 10))

    assert result.raised
    assert mailoutbox == []
    assert len(callbacks) == 1
    assert not Flag.objects.filter(notified_at__isnull=False).exists()

    callbacks[0]()  # the commit

    assert len(mailoutbox) == 1
    assert not Flag.objects.filter(notified_at__isnull=True).exists()


def test_a_scan_that_raises_nothing_queues_no_notification(django_capture_on_commit_callbacks, mailoutbox, db):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = flags_scan(as_of=date(2026, 11, 27))

    assert result.raised == []
    assert callbacks == []
    assert mailoutbox == []


def test_the_notification_task_sends_nothing_when_every_flag_was_notified(
    committed_scan, mailoutbox, audience, first_term
):
    committed_scan(date(2019, 7, 10))

    assert notify_officers.apply().get() == 0
    assert len(mailoutbox) == 1


def test_the_digest_lists_the_messages_in_the_default_language(committed_scan, mailoutbox, audience, cluster):
    chain = final_chain_2017(cluster)
    committed_scan(date(2026, 6, 1))

    flag = the_flag(Kind.FINAL_TERM, cluster)
    with translation.override(settings.LANGUAGE_CODE):
        expected = gettext(
            "%(cluster)s is in its final term: %(reference)s ends on the 10-year cap (%(cap)s) and cannot be extended."
        ) % {"cluster": cluster.name, "reference": chain[-1].reference, "cap": shown(CAP_2017)}
    assert flag.message == expected
    assert expected in mailoutbox[0].body


# --- 8. the database constraint -------------------------------------------------------------------


def make_flag(cluster: Cluster, **kwargs) -> Flag:
    values = {
        "kind": Kind.RENEWAL_DUE,
        "subject": "agreement:1",
        "message": "-",
        "raised_on": date(2026, 1, 1),
        "cluster": cluster,
    }
    return Flag.objects.create(**{**values, **kwargs})


def test_two_open_flags_of_one_kind_and_subject_are_refused_by_the_database(cluster):
    make_flag(cluster)

    # Only the scan writes flags, and it never asks for a second one: the database is the backstop.
    with refused_by_the_database(Flag, "flag_one_open_per_kind_and_subject"):
        make_flag(cluster)

    assert Flag.objects.count() == 1


def test_an_open_flag_may_sit_next_to_resolved_ones_and_other_kinds(cluster):
    make_flag(cluster, resolved_on=date(2026, 2, 1))
    make_flag(cluster, resolved_on=date(2026, 3, 1))
    make_flag(cluster)
    make_flag(cluster, kind=Kind.EVALUATION_MISSING)
    make_flag(cluster, subject="agreement:2")

    assert Flag.objects.count() == 5
    assert Flag.objects.open().count() == 3


def test_a_flag_cannot_be_resolved_before_it_was_raised(cluster):
    with refused_by_the_database(Flag, "flag_resolved_after_raised"):
        make_flag(cluster, resolved_on=date(2025, 12, 31))


# --- 9. the management command --------------------------------------------------------------------


def test_the_command_prints_what_it_raised_and_resolved(cluster, chain_2017):
    out = StringIO()
    call_command("scan_flags", "--as-of", "2025-11-01", "--language", "en", stdout=out)
    before = out.getvalue()
    assert "2025-11-01" in before
    assert f"{Flag.objects.count()} raised, 0 resolved" in before
    renewal = the_flag(Kind.RENEWAL_DUE, cluster)
    assert f"+ {Kind.RENEWAL_DUE}" in before
    assert renewal.message_en in before

    completed_interim(cluster, date(2025, 11, 15))
    final = agreement_extend(predecessor=chain_2017[-1], reference="SO-4", end_date=CAP_2017, amount=YEARLY)
    out = StringIO()
    call_command("scan_flags", "--as-of", "2026-11-27", "--language", "en", stdout=out)
    output = out.getvalue()

    raised = Flag.objects.filter(raised_on=date(2026, 11, 27))
    resolved = Flag.objects.filter(resolved_on=date(2026, 11, 27))
    assert f"{raised.count()} raised, {resolved.count()} resolved" in output
    assert raised.filter(kind=Kind.FINAL_TERM, agreement=final).exists()
    assert resolved.filter(pk=renewal.pk).exists()
    assert output.count("\n  + ") == raised.count()
    assert output.count("\n  - ") == resolved.count()
    assert f"+ {Kind.FINAL_TERM}" in output
    assert f"- {Kind.RENEWAL_DUE}" in output
    for flag in [*raised, *resolved]:
        assert flag.message_en in output

    out = StringIO()
    call_command("scan_flags", "--as-of", "2026-11-27", "--language", "en", stdout=out)
    assert "0 raised, 0 resolved" in out.getvalue()


def test_the_command_speaks_the_site_language_unless_told_otherwise(cluster, chain_2017):
    out = StringIO()
    call_command("scan_flags", "--as-of", "2025-11-01", stdout=out)
    dutch = out.getvalue()
    count = Flag.objects.count()
    assert f"Scan op 2025-11-01: {count} gemeld, 0 opgelost." in dutch
    assert all(flag.message in dutch for flag in Flag.objects.all())

    out = StringIO()
    call_command("scan_flags", "--as-of", "2025-11-01", "--language", "en", stdout=out)
    assert "Scan as of 2025-11-01: 0 raised, 0 resolved." in out.getvalue()


def test_the_command_refuses_a_language_the_portal_does_not_speak(db):
    with pytest.raises(CommandError, match="fr"):
        call_command("scan_flags", "--language", "fr", stdout=StringIO())


@pytest.mark.parametrize("bad", ["2026-13-01", "27/11/2026", "tomorrow"])
def test_the_command_refuses_a_date_that_is_not_yyyy_mm_dd(db, bad):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("scan_flags", "--as-of", bad, stdout=StringIO())

    assert Flag.objects.count() == 0


# --- 10. the Celery task and schedule -------------------------------------------------------------


def test_the_scan_task_runs_eagerly_and_returns_its_counts(cluster):
    final_chain_2017(cluster)

    outcome = scan_flags.delay("2026-11-27").get()

    assert outcome == {"raised": Flag.objects.count(), "resolved": 0}
    assert outcome["raised"] > 0
    assert agreement_kinds(cluster) == {Kind.FINAL_TERM, Kind.CAP_APPROACHING}

    assert scan_flags.apply(args=["2027-01-01"]).get() == {
        "raised": Flag.objects.filter(raised_on=date(2027, 1, 1)).count(),
        "resolved": 2,
    }


def test_the_scan_task_is_late_acknowledged_and_named_for_the_schedule():
    from config.celery import app

    assert scan_flags.name == "funding.tasks.scan_flags"
    assert scan_flags.acks_late is True
    assert "funding.tasks.scan_flags" in app.tasks


def test_the_beat_schedule_runs_the_scan_daily_at_six_brussels_time():
    from config.celery import app

    for schedule in (settings.CELERY_BEAT_SCHEDULE, app.conf.beat_schedule):
        entry = schedule["scan-flags-daily"]
        assert entry["task"] == "funding.tasks.scan_flags"
        when = entry["schedule"]
        assert isinstance(when, crontab)
        assert (when.hour, when.minute) == ({6}, {0})
        assert when.day_of_week == set(range(7))
        assert when.day_of_month == set(range(1, 32))
        assert when.month_of_year == set(range(1, 13))
    assert settings.CELERY_TIMEZONE == "Europe/Brussels"
    assert app.conf.timezone == "Europe/Brussels"


def test_celery_speaks_json_only():
    from config.celery import app

    assert settings.CELERY_ACCEPT_CONTENT == ["json"]
    assert settings.CELERY_TASK_SERIALIZER == settings.CELERY_RESULT_SERIALIZER == "json"
    assert list(app.conf.accept_content) == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"


# --- 11. the demo data ----------------------------------------------------------------------------


def test_the_demo_clusters_are_flagged_for_their_final_term_or_approaching_cap():
    from funding.demo import DemoSeeder

    DemoSeeder(password="x", log=lambda _: None).run()

    flags_scan(as_of=date(2026, 11, 27))

    def open_for(kind: str) -> dict[str, date]:
        return dict(Flag.objects.open().filter(kind=kind).values_list("cluster__slug", "due_on"))

    final = open_for(Kind.FINAL_TERM)
    assert {slug: final.get(slug) for slug in ["catalisti", "sim", "flux50", "vil"]} == dict.fromkeys(
        ["catalisti", "sim", "flux50", "vil"], CAP_2017
    )
    cap = open_for(Kind.CAP_APPROACHING)
    assert {slug: cap.get(slug) for slug in ["flanders-food", "de-blauwe-cluster"]} == dict.fromkeys(
        ["flanders-food", "de-blauwe-cluster"], date(2027, 12, 31)
    )
    assert "flanders-food" not in final
    assert "medvia" not in final
    assert "medvia" not in cap


# --- 12. the admin --------------------------------------------------------------------------------


@pytest.fixture
def admin_flags(cluster, other_cluster):
    return {
        "open_final": make_flag(cluster, kind=Kind.FINAL_TERM, subject="agreement:1"),
        "resolved_final": make_flag(
            other_cluster, kind=Kind.FINAL_TERM, subject="agreement:2", resolved_on=date(2026, 2, 1)
        ),
        "open_renewal": make_flag(other_cluster, kind=Kind.RENEWAL_DUE, subject="agreement:3"),
    }


def changelist(client, **params):
    response = client.get(reverse("admin:funding_flag_changelist"), params)
    assert response.status_code == 200
    return {flag.pk for flag in response.context["cl"].result_list}


def test_the_flag_changelist_filters_by_state_and_kind(client, officer, admin_flags):
    client.force_login(officer)
    pk = {name: flag.pk for name, flag in admin_flags.items()}

    assert changelist(client) == set(pk.values())
    assert changelist(client, state="open") == {pk["open_final"], pk["open_renewal"]}
    assert changelist(client, state="resolved") == {pk["resolved_final"]}
    assert changelist(client, kind__exact=Kind.FINAL_TERM) == {pk["open_final"], pk["resolved_final"]}
    assert changelist(client, state="open", kind__exact=Kind.FINAL_TERM) == {pk["open_final"]}


def test_an_officer_may_read_but_not_add_or_change_a_flag(client, officer, admin_flags):
    client.force_login(officer)
    flag = admin_flags["open_final"]
    change_url = reverse("admin:funding_flag_change", args=[flag.pk])

    assert client.get(reverse("admin:funding_flag_add")).status_code == 403
    assert client.get(change_url).status_code == 200
    response = client.post(change_url, {"message": "edited", "resolved_on": "2026-03-01"})
    assert response.status_code == 403
    flag.refresh_from_db()
    assert (flag.message, flag.resolved_on) == ("-", None)


def test_flags_stay_pending_until_an_officer_has_an_address(cluster, django_capture_on_commit_callbacks, mailoutbox):
    nobody = factories.officer(username="officer-without-mail", email="")
    agreement_create(
        cluster=cluster, reference="SO-P", start_date=date(2024, 1, 1), end_date=date(2026, 12, 31), amount=YEARLY
    )
    with django_capture_on_commit_callbacks(execute=True):
        flags_scan(as_of=date(2026, 11, 27))
    assert mailoutbox == []
    assert Flag.objects.filter(notified_at__isnull=True).exists()

    nobody.email = "officer@vlaio.example"
    nobody.save()
    assert flags_notify_officers() == Flag.objects.count()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["officer@vlaio.example"]


def test_an_open_flag_follows_its_report_once_the_report_is_started(cluster):
    cluster.started_on = date(2024, 1, 1)
    cluster.save()
    flags_scan(as_of=date(2025, 4, 1))
    flag = Flag.objects.get(kind="report_overdue", year=2024)
    assert flag.report is None

    report = annual_report_create(cluster=cluster, year=2024)
    flags_scan(as_of=date(2025, 4, 2))

    flag.refresh_from_db()
    assert flag.report == report and flag.resolved_on is None
    assert Flag.objects.filter(kind="report_overdue", year=2024).count() == 1


# --- each reader sees a flag in their own language ------------------------------------------------


def test_a_flag_is_written_in_dutch_and_in_english_with_each_languages_dates(cluster, first_term):
    flags_scan(as_of=date(2019, 10, 1))
    flag = the_flag(Kind.RENEWAL_DUE, cluster)
    ref = first_term.reference
    assert flag.message == (
        f"{cluster.name}: steunovereenkomst {ref} loopt af op 31-12-2019 en er is geen verlenging geregistreerd."
    )
    assert (
        flag.message_en
        == f"{cluster.name}: support agreement {ref} ends on 31/12/2019 and no extension is registered."
    )
    with translation.override("en"):
        assert flag.text == flag.message_en
    with translation.override("nl"):
        assert flag.text == flag.message


def test_the_api_and_the_cluster_page_give_a_flag_in_the_readers_language(client, officer, cluster, first_term):
    flags_scan(as_of=date(2019, 10, 1))
    flag = the_flag(Kind.RENEWAL_DUE, cluster)
    client.force_login(officer)
    url = f"/api/v1/flags/{flag.pk}/"
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["message"] == flag.message_en
    plain = Client()  # no Accept-Language (this folder's `client` asks for English)
    plain.force_login(officer)
    assert plain.get(url).json()["message"] == flag.message, "Dutch by default"
    page = client.get(reverse("insights:cluster", args=[cluster.slug]), HTTP_ACCEPT_LANGUAGE="en").text
    assert flag.message_en in page and flag.message not in page


def test_a_flag_raised_before_english_wording_shows_dutch_until_the_next_scan_writes_it(cluster, first_term):
    flags_scan(as_of=date(2019, 10, 1))
    Flag.objects.update(message_en="")  # as the flags raised before the English wording was stored
    flag = the_flag(Kind.RENEWAL_DUE, cluster)
    with translation.override("en"):
        assert flag.text == flag.message
    flags_scan(as_of=date(2019, 10, 2))
    flag.refresh_from_db()
    assert flag.message_en.startswith(f"{cluster.name}: support agreement ")
