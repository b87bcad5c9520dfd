"""Audit (issue 12, item 10): every history row names who made the change, and officers export the log.

A change through the portal (session), the admin, the API with a token, and a Celery task or a
management command (signed by the system user) each leave a history row naming the right user; an
officer sees an object's history in the admin and exports the rows of a period as CSV.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from clusterpacts import services
from clusterpacts.models import AnnualReport, Cluster, KpiDefinition
from config.celery import app as celery_app
from core.audit import SYSTEM_USERNAME, acting_as, system_user
from core.services import entity_save
from core.tasks import send_outbox
from funding import tasks as funding_tasks
from tests import factories
from tests.api_helpers import API, token_client
from tests.clusterpacts.admin_forms import admin_post_data, form_errors
from tests.pages import assert_login_redirect, login

pytestmark = pytest.mark.django_db

AUDIT_URL = "/insights/audit.csv"


@celery_app.task(name="tests.core.test_audit.rename_cluster")
def rename_cluster(cluster_id: int, name: str) -> None:
    """A task that changes a tracked model through its service, as the project's tasks do."""
    entity_save(instance=Cluster.objects.get(pk=cluster_id), name=name)


def _user_seen_by_history() -> Any:
    """The user simple_history would sign a row with right now (None: nobody)."""
    request = getattr(HistoricalRecords.context, "request", None)
    return getattr(request, "user", None)


@pytest.fixture
def year() -> int:
    return timezone.localdate().year - 1


def export(client: Any, **period: str) -> Any:
    return client.get(AUDIT_URL, period)


def export_rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


# --- who made the change ------------------------------------------------------------------------


def test_a_report_saved_through_the_portal_names_the_manager(client, manager, cluster, year):
    values = {f"kpi_{kpi.code}": "10" for kpi in KpiDefinition.objects.filter(active=True)}
    url = reverse("clusterpacts:report", args=[cluster.slug, year])

    response = login(client, manager).post(url, {"narrative": "Our year.", **values, "submit": "1"})

    assert response.status_code == 302
    report = AnnualReport.objects.get(cluster=cluster, year=year)
    assert {row.history_user for row in report.history.all()} == {manager}


def test_a_change_in_the_admin_names_the_officer(officer_client, officer, cluster):
    url = reverse("admin:clusterpacts_cluster_change", args=[cluster.pk])
    data = admin_post_data(officer_client.get(url))
    data["name"] = "Catalisti renamed"

    response = officer_client.post(url, data)

    assert response.status_code == 302, form_errors(response)
    latest = cluster.history.latest()
    assert (latest.name, latest.history_user) == ("Catalisti renamed", officer)


def test_a_change_through_the_api_with_a_token_names_the_token_user(officer, cluster):
    client = token_client(officer.username)

    response = client.patch(
        f"{API}/clusters/{cluster.pk}/", {"name": "Catalisti by API"}, content_type="application/json"
    )

    assert response.status_code == 200, response.content
    latest = cluster.history.latest()
    assert (latest.name, latest.history_user) == ("Catalisti by API", officer)
    # The request is over: nothing is left behind to sign the next change in this thread.
    assert _user_seen_by_history() is None


def test_a_change_made_by_a_task_names_the_system_user(cluster):
    rename_cluster.delay(cluster.pk, "Catalisti by task")

    latest = cluster.history.latest()
    assert latest.name == "Catalisti by task"
    assert latest.history_user == system_user()
    assert latest.history_user.username == SYSTEM_USERNAME
    assert _user_seen_by_history() is None


def test_the_system_user_can_neither_log_in_nor_see_anything():
    user = system_user()

    assert (user.is_active, user.has_usable_password(), user.groups.count()) == (False, False, 0)
    assert system_user() == user  # found again, never a second one


def test_the_flag_scan_and_the_outbox_run_as_the_system_user(monkeypatch):
    seen: list[Any] = []

    def spy(**_: Any) -> Any:
        seen.append(_user_seen_by_history())
        return SimpleNamespace(raised=[], resolved=[])

    monkeypatch.setattr(funding_tasks, "flags_scan", spy)
    monkeypatch.setattr("core.tasks.outbox_flush", lambda: seen.append(_user_seen_by_history()) or 0)

    funding_tasks.scan_flags.delay()
    send_outbox.delay()

    assert [user.username for user in seen] == [SYSTEM_USERNAME, SYSTEM_USERNAME]


def test_a_task_run_inside_a_request_gives_the_request_its_user_back(officer):
    with acting_as(officer):
        send_outbox.delay()
        assert _user_seen_by_history() == officer
    assert _user_seen_by_history() is None


def test_the_flag_scan_command_runs_as_the_system_user(monkeypatch):
    seen: list[Any] = []

    def spy(**_: Any) -> Any:
        seen.append(_user_seen_by_history())
        return SimpleNamespace(raised=[], resolved=[])

    monkeypatch.setattr("funding.management.commands.scan_flags.flags_scan", spy)

    call_command("scan_flags", stdout=io.StringIO())

    assert [user.username for user in seen] == [SYSTEM_USERNAME]
    assert _user_seen_by_history() is None


# --- seeing the history ---------------------------------------------------------------------------


def test_an_officer_sees_an_objects_history_in_the_admin(officer_client, officer, cluster):
    with acting_as(officer):
        entity_save(instance=cluster, name="Catalisti seen")

    response = officer_client.get(reverse("admin:clusterpacts_cluster_history", args=[cluster.pk]))

    assert response.status_code == 200
    assert officer.username in response.content.decode()


def test_the_export_lists_the_changes_of_the_period_in_time_order_and_nothing_outside(
    officer_client, officer, manager, cluster, other_cluster, year
):
    zone = timezone.get_current_timezone()
    Cluster.history.filter(id=other_cluster.pk).update(history_date=datetime(2020, 1, 10, 9, tzinfo=zone))
    Cluster.history.filter(id=cluster.pk).update(history_date=datetime(2020, 2, 1, 12, tzinfo=zone))
    with acting_as(officer):
        entity_save(instance=cluster, name="Catalisti renamed")
    with acting_as(manager):
        report = services.annual_report_create(cluster=cluster, year=year, narrative="=HYPERLINK(1)")
    changed = cluster.history.latest()
    cluster.history.filter(pk=changed.pk).update(history_date=datetime(2020, 2, 3, 8, tzinfo=zone))
    report.history.update(history_date=datetime(2020, 2, 2, 15, tzinfo=zone))

    rows = export_rows(export(officer_client, **{"from": "2020-02-01", "to": "2020-02-03"}))

    assert [(r["model"], r["object id"], r["change"], r["who"]) for r in rows] == [
        ("clusterpacts.cluster", str(cluster.pk), "created", ""),
        ("clusterpacts.annualreport", str(report.pk), "created", manager.username),
        ("clusterpacts.cluster", str(cluster.pk), "changed", officer.username),
    ]
    assert rows[2]["changed fields"] == "name"
    assert rows[2]["object"] == "Catalisti renamed"
    assert rows[0]["when"].startswith("2020-02-01T12:00:00")


def test_the_export_neutralises_formulas(officer_client, officer):
    with acting_as(officer):
        factories.ClusterFactory(name='=HYPERLINK("http://evil")', slug="evil")
    today = timezone.localdate().isoformat()

    rows = export_rows(export(officer_client, **{"from": today, "to": today}))

    assert [r["object"] for r in rows if r["model"] == "clusterpacts.cluster"] == ['\'=HYPERLINK("http://evil")']


def test_the_export_refuses_a_bad_period(officer_client):
    assert export(officer_client, **{"from": "2020-13-01"}).status_code == 400
    assert export(officer_client, **{"from": "2020-02-02", "to": "2020-02-01"}).status_code == 400


@pytest.mark.parametrize("role", ["manager", "reader"])
def test_the_export_is_for_officers_only(client, request, role):
    response = export(login(client, request.getfixturevalue(role)))

    assert response.status_code == 403


def test_the_export_sends_anonymous_users_to_the_login(client):
    assert_login_redirect(client.get(AUDIT_URL), AUDIT_URL)


def test_the_default_period_is_the_last_thirty_days(officer_client, officer, cluster):
    old = timezone.now() - timedelta(days=40)
    cluster.history.update(history_date=old)
    with acting_as(officer):
        entity_save(instance=cluster, name="Catalisti now")

    rows = export_rows(export(officer_client))

    assert [(r["change"], r["who"]) for r in rows] == [("changed", officer.username)]
    assert date.fromisoformat(rows[0]["when"][:10]) >= timezone.localdate() - timedelta(days=30)
