"""The day of a workflow step (`check_step_date`, via `document_transition` for every caller) and who
took a step without an account here (`ReportEvent.by_name`)."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from clusterpacts.models import AnnualPlan, AnnualReport, ReportEvent, Workflow, check_step_date, display_date
from clusterpacts.notifications import transition_mail_send
from clusterpacts.services import annual_report_accept, document_submit, document_transition
from tests import factories

pytestmark = pytest.mark.django_db


def local(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


@pytest.fixture
def report(cluster):
    return factories.complete_report(factories.AnnualReportFactory(cluster=cluster, year=2019))


@pytest.fixture
def plan(cluster):
    return factories.complete_plan(factories.AnnualPlanFactory(cluster=cluster, year=2020))


def refused(document, **step) -> str:
    """Take the step, expect a refusal on "at", and check that nothing changed; return the message."""
    model = type(document)
    before = model.objects.values("status", "submitted_at", "reviewed_at").get(pk=document.pk)
    events = list(ReportEvent.objects.order_by("pk").values_list("pk", flat=True))
    with pytest.raises(ValidationError) as error:
        document_transition(document=document, **step)
    assert model.objects.values("status", "submitted_at", "reviewed_at").get(pk=document.pk) == before
    assert list(ReportEvent.objects.order_by("pk").values_list("pk", flat=True)) == events
    assert list(error.value.message_dict) == ["at"]
    return error.value.message_dict["at"][0]


# --- the rule itself -------------------------------------------------------------------------------


def test_a_step_today_is_allowed_whatever_the_hour(report):
    late_tonight = timezone.make_aware(datetime.combine(timezone.localdate(), time(23, 59)))
    check_step_date(report, late_tonight, previous_at=None)


def test_a_step_tomorrow_is_refused_with_both_days(report):
    tomorrow = timezone.localdate() + timedelta(days=1)
    message = refused(report, to=Workflow.SUBMITTED, at=local(tomorrow, 0))
    assert "cannot be dated in the future" in message
    assert display_date(tomorrow) in message
    assert display_date(timezone.localdate()) in message


def test_the_day_is_the_local_day_of_the_step(report, settings):
    # 23:30 UTC on 31 December 2018 is already 1 January 2019 in Brussels: inside the report's window.
    assert settings.TIME_ZONE == "Europe/Brussels"
    document_transition(document=report, to=Workflow.SUBMITTED, at=datetime(2018, 12, 31, 23, 30, tzinfo=UTC))
    assert timezone.localdate(report.submitted_at) == date(2019, 1, 1)


def test_a_report_step_before_its_working_year_is_refused(report):
    message = refused(report, to=Workflow.SUBMITTED, at=local(date(2018, 12, 31)))
    assert "working year 2019" in message
    assert display_date(date(2019, 1, 1)) in message
    assert display_date(date(2018, 12, 31)) in message


def test_a_report_step_on_the_first_day_of_its_working_year_is_allowed(report):
    document_transition(document=report, to=Workflow.SUBMITTED, at=local(date(2019, 1, 1), 0))
    assert report.status == Workflow.SUBMITTED


def test_a_plan_step_before_the_year_ahead_of_its_year_is_refused(plan):
    message = refused(plan, to=Workflow.SUBMITTED, at=local(date(2018, 12, 31)))
    assert "annual plan for 2020" in message


def test_a_plan_step_from_the_first_of_january_of_the_year_before_is_allowed(plan):
    document_transition(document=plan, to=Workflow.SUBMITTED, at=local(date(2019, 1, 1), 0))
    assert plan.status == Workflow.SUBMITTED


def test_a_step_before_the_previous_one_is_refused_and_names_that_day(report):
    document_transition(document=report, to=Workflow.SUBMITTED, at=local(date(2020, 2, 14)))
    message = refused(report, to=Workflow.ACCEPTED, at=local(date(2020, 2, 13)))
    assert "previous step" in message
    assert report.events.count() == 1


def test_a_step_on_the_day_of_the_previous_one_is_allowed_and_replays_after_it(report):
    document_transition(document=report, to=Workflow.SUBMITTED, at=local(date(2020, 2, 14), 15))
    document_transition(document=report, to=Workflow.ACCEPTED, at=local(date(2020, 2, 14), 9))
    steps = list(report.events.order_by("at", "id").values_list("to_status", "at"))
    assert [status for status, _ in steps] == [Workflow.SUBMITTED, Workflow.ACCEPTED]
    # An earlier hour on the same day is stored at the previous step's time, so the order holds.
    assert steps[1][1] == steps[0][1]


def test_messages_quote_the_dates_as_people_read_them(report):
    document_transition(document=report, to=Workflow.SUBMITTED, at=local(date(2020, 2, 14)))
    message = refused(report, to=Workflow.ACCEPTED, at=local(date(2020, 2, 13)))
    assert display_date(date(2020, 2, 14)) in message
    assert display_date(date(2020, 2, 13)) in message


def test_a_step_with_a_naive_time_is_taken_as_local(report):
    document_transition(document=report, to=Workflow.SUBMITTED, at=datetime(2020, 2, 14, 10))
    assert timezone.localdate(report.submitted_at) == date(2020, 2, 14)


def test_callers_without_a_day_still_work(report, officer):
    document_submit(document=report, by=officer)
    annual_report_accept(report=report, by=officer)
    assert report.status == Workflow.ACCEPTED
    assert report.events.count() == 2


def test_the_submission_service_refuses_a_future_day_too(report):
    with pytest.raises(ValidationError) as error:
        document_submit(document=report, at=local(timezone.localdate() + timedelta(days=2)))
    assert "at" in error.value.message_dict
    report.refresh_from_db()
    assert report.status == Workflow.DRAFT
    assert not report.events.exists()


def test_the_api_still_submits_a_report_now(client, cluster, manager):
    report = factories.complete_report(factories.AnnualReportFactory(cluster=cluster, year=2019))
    client.force_login(manager)
    url = f"/api/v1/annual-reports/{report.pk}/submit/"
    response = client.post(url)
    assert response.status_code in (200, 201), response.content
    assert AnnualReport.objects.get(pk=report.pk).status == Workflow.SUBMITTED


# --- who took the step, without an account ----------------------------------------------------------


def test_a_step_from_before_the_portal_keeps_the_name_of_who_took_it(report):
    document_transition(
        document=report, to=Workflow.SUBMITTED, at=local(date(2020, 2, 14)), by_name="  An Peeters ", notify=False
    )
    event = report.events.get()
    assert event.by is None
    assert event.by_name == "An Peeters"
    assert event.actor_name == "An Peeters"


def test_the_user_is_who_a_step_shows_when_there_is_one(report, officer):
    officer.first_name, officer.last_name = "Olivia", "Officer"
    officer.save()
    document_transition(document=report, to=Workflow.SUBMITTED, by=officer, by_name="someone else")
    assert report.events.get().actor_name == "Olivia Officer"


def test_a_name_longer_than_the_field_is_refused_and_changes_nothing(report):
    with pytest.raises(ValidationError) as error:
        document_transition(document=report, to=Workflow.SUBMITTED, by_name="x" * 151)
    assert "by_name" in error.value.message_dict
    report.refresh_from_db()
    assert report.status == Workflow.DRAFT
    assert not report.events.exists()


def test_the_report_page_history_names_who_took_a_step_without_an_account(client, cluster, manager, report):
    document_transition(document=report, to=Workflow.SUBMITTED, at=local(date(2020, 2, 14)), by_name="An Peeters")
    client.force_login(manager)
    response = client.get(reverse("clusterpacts:report", args=[cluster.slug, 2019]))
    assert response.status_code == 200
    assert "An Peeters" in response.content.decode()


def test_the_review_page_history_names_them_too(client, officer, report):
    document_transition(document=report, to=Workflow.SUBMITTED, at=local(date(2020, 2, 14)), by_name="An Peeters")
    client.force_login(officer)
    response = client.get(reverse("clusterpacts:review-report", args=[report.pk]))
    assert response.status_code == 200
    assert "An Peeters" in response.content.decode()


def test_the_admin_shows_the_name_in_the_steps_inline(client, officer, report):
    document_transition(document=report, to=Workflow.SUBMITTED, at=local(date(2020, 2, 14)), by_name="An Peeters")
    client.force_login(officer)
    response = client.get(reverse("admin:clusterpacts_annualreport_change", args=[report.pk]))
    assert response.status_code == 200
    assert "An Peeters" in response.content.decode()
    listing = client.get(reverse("admin:clusterpacts_reportevent_changelist"))
    assert "An Peeters" in listing.content.decode()


@override_settings(LANGUAGE_CODE="en")
def test_the_submission_e_mail_names_who_submitted_without_an_account(report, officer):
    document_transition(
        document=report, to=Workflow.SUBMITTED, at=local(date(2020, 2, 14)), by_name="An Peeters", notify=False
    )
    mail.outbox.clear()
    assert transition_mail_send(event=report.events.get()) == 1
    assert "by An Peeters" in mail.outbox[0].body


def test_a_plan_step_keeps_the_name_too(plan):
    document_transition(document=plan, to=Workflow.SUBMITTED, at=local(date(2019, 11, 30)), by_name="Jan Janssens")
    assert AnnualPlan.objects.get(pk=plan.pk).events.get().actor_name == "Jan Janssens"
