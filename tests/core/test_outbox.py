"""Redis down, nothing lost (issue 12, item 5): notifications go through the outbox (`core.outbox`).

With the broker on a closed port, a workflow step through the portal, and the flag scan, answer as
usual and keep their e-mail in the outbox; once the broker is back, the periodic task sends it, once.

The broker-down tests are transactional: the outbox hands the task to Celery in an `on_commit`
callback, and only a real commit runs it inside the request, where a failure would become a 500.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from celery import Celery
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from clusterpacts import services
from clusterpacts.models import AnnualReport, KpiDefinition, ReportEvent, Workflow
from clusterpacts.notifications import send_transition_mail
from config.celery import app as celery_app
from core.models import OutboxMessage
from core.outbox import outbox_add, outbox_flush
from core.tasks import send_outbox
from funding.models import Flag
from funding.notifications import notify_officers
from funding.services import agreement_create, flags_scan
from tests import factories
from tests.pages import login

CLOSED_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: every connection is refused
# Database 14 is this test module's own; nothing here flushes it, and each test uses a queue of its own.
REDIS_BROKER = os.environ.get("CELERY_OUTBOX_TEST_BROKER_URL", "redis://127.0.0.1:6379/14")
IN_CI = os.environ.get("CI", "").lower() == "true"

broker_down_db = pytest.mark.django_db(transaction=True)


# --- helpers ---------------------------------------------------------------------------------------


def _configure(app: Celery, **conf: object) -> None:
    app.conf.update(conf)
    # Forget the connection pools, so the next task goes to the broker now configured.
    app._after_fork()


@pytest.fixture
def broker_down() -> Iterator[Celery]:
    """The portal's Celery app with a real broker (not eager) that cannot be reached."""
    saved = {key: celery_app.conf[key] for key in ("task_always_eager", "broker_url", "task_routes")}
    _configure(celery_app, task_always_eager=False, broker_url=CLOSED_BROKER)
    yield celery_app
    _configure(celery_app, **saved)
    celery_app.amqp.__dict__.pop("router", None)


def broker_back_eagerly(app: Celery) -> None:
    """The broker is back, and the tasks it gets run at once (as a worker would run them)."""
    _configure(app, task_always_eager=True)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def year() -> int:
    return timezone.localdate().year - 1


def complete_values(value: str = "10") -> dict[str, str]:
    return {f"kpi_{kpi.code}": value for kpi in KpiDefinition.objects.filter(active=True)}


def submit_through_the_portal(client, manager, cluster, year):
    url = reverse("clusterpacts:report", args=[cluster.slug, year])
    return login(client, manager).post(url, {"narrative": "Our year.", **complete_values(), "submit": "1"})


def submitted_report(cluster, year, manager) -> AnnualReport:
    """A complete report, submitted through the services; its own e-mail is not what the test is about."""
    report = services.annual_report_create(cluster=cluster, year=year, narrative="Done.")
    for kpi in KpiDefinition.objects.filter(active=True, source=KpiDefinition.Source.REPORTED):
        services.kpi_value_set(report=report, kpi=kpi, value=Decimal(10))
    report = services.annual_report_submit(report=report, by=manager)
    OutboxMessage.objects.all().delete()
    return report


def outbox_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "core.outbox" and r.levelno == logging.WARNING]


def assert_one_waiting(task: str, caplog) -> OutboxMessage:
    message = OutboxMessage.objects.get()
    assert message.task == task
    assert message.sent_at is None and message.done_at is None
    assert message.attempts == 1
    assert "OperationalError" in message.last_error
    warnings = outbox_warnings(caplog)
    assert len(warnings) == 1
    assert f"Outbox message {message.pk} " in warnings[0]
    return message


def assert_sent_once_by_the_periodic_task(app: Celery, mailoutbox, message: OutboxMessage) -> None:
    broker_back_eagerly(app)
    assert send_outbox.delay().get() == 1
    assert len(mailoutbox) == 1
    message.refresh_from_db()
    assert message.sent_at is not None and message.done_at is not None
    # Again: nothing is waiting, nothing goes out.
    assert send_outbox.delay().get() == 0
    assert len(mailoutbox) == 1


# --- Redis down: the answer is normal, the e-mail waits, and goes out once when Redis is back ---------


@broker_down_db
def test_a_report_submitted_while_redis_is_down_is_saved_and_mailed_once_redis_is_back(
    client, manager, officer, cluster, year, broker_down, mailoutbox, caplog
):
    caplog.set_level(logging.WARNING, logger="core.outbox")

    response = submit_through_the_portal(client, manager, cluster, year)

    assert response.status_code == 302
    assert AnnualReport.objects.get(cluster=cluster, year=year).status == Workflow.SUBMITTED
    message = assert_one_waiting(send_transition_mail.name, caplog)
    assert message.args == [ReportEvent.objects.get(to_status=Workflow.SUBMITTED).pk]
    assert mailoutbox == []

    assert_sent_once_by_the_periodic_task(broker_down, mailoutbox, message)
    assert mailoutbox[0].to == [officer.email]


@broker_down_db
def test_a_report_accepted_while_redis_is_down_is_saved_and_mailed_once_redis_is_back(
    client, manager, officer, cluster, year, broker_down, mailoutbox, caplog
):
    report = submitted_report(cluster, year, manager)
    caplog.set_level(logging.WARNING, logger="core.outbox")
    caplog.clear()

    review = reverse("clusterpacts:review-report", args=[report.pk])
    response = login(client, officer).post(review, {"decision": "accept", "comment": ""})

    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == Workflow.ACCEPTED
    message = assert_one_waiting(send_transition_mail.name, caplog)
    assert mailoutbox == []

    assert_sent_once_by_the_periodic_task(broker_down, mailoutbox, message)
    assert mailoutbox[0].to == [manager.email]
    assert "Accepted" in mailoutbox[0].subject or "Aanvaard" in mailoutbox[0].subject


@broker_down_db
def test_the_flag_digest_of_a_scan_while_redis_is_down_is_mailed_once_redis_is_back(
    officer, broker_down, mailoutbox, caplog
):
    cluster = factories.ClusterFactory(name="VIL", slug="vil", started_on=None)
    agreement_create(
        cluster=cluster, reference="SO-VIL-1", start_date=date(2024, 1, 1), end_date=date(2026, 12, 31), amount=1
    )
    caplog.set_level(logging.WARNING, logger="core.outbox")

    result = flags_scan(as_of=date(2026, 11, 27))

    assert {flag.kind for flag in result.raised} == {"renewal_due", "evaluation_missing"}
    message = assert_one_waiting(notify_officers.name, caplog)
    assert mailoutbox == []
    assert Flag.objects.filter(notified_at__isnull=True).count() == 2

    assert_sent_once_by_the_periodic_task(broker_down, mailoutbox, message)
    assert mailoutbox[0].to == [officer.email]
    assert "SO-VIL-1" in mailoutbox[0].body
    assert not Flag.objects.filter(notified_at__isnull=True).exists()


@broker_down_db
def test_any_failure_while_enqueueing_after_the_commit_is_logged_never_a_500(
    client, manager, officer, cluster, year, mailoutbox, caplog, monkeypatch
):
    def refuse(*args, **kwargs):
        raise RuntimeError("the broker said no")

    monkeypatch.setattr(type(send_transition_mail._get_current_object()), "apply_async", refuse)
    caplog.set_level(logging.WARNING, logger="core.outbox")

    response = submit_through_the_portal(client, manager, cluster, year)

    assert response.status_code == 302
    assert AnnualReport.objects.get(cluster=cluster, year=year).status == Workflow.SUBMITTED
    message = OutboxMessage.objects.get()
    assert message.sent_at is None
    assert message.last_error == "RuntimeError: the broker said no"
    assert outbox_warnings(caplog) == [
        f"Outbox message {message.pk} ({message.task}) not handed to Celery, it waits for the next send: "
        "RuntimeError: the broker said no"
    ]
    assert mailoutbox == []


@broker_down_db
def test_even_an_error_in_the_outbox_itself_after_the_commit_is_never_a_500(
    client, manager, officer, cluster, year, mailoutbox, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug in sending")

    monkeypatch.setattr("core.outbox._enqueue", broken)

    response = submit_through_the_portal(client, manager, cluster, year)

    assert response.status_code == 302
    assert AnnualReport.objects.get(cluster=cluster, year=year).status == Workflow.SUBMITTED
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 1


# --- exactly once --------------------------------------------------------------------------------------


@broker_down_db
def test_with_eager_celery_the_mail_goes_out_right_after_the_commit_as_before(
    client, manager, officer, cluster, year, mailoutbox
):
    response = submit_through_the_portal(client, manager, cluster, year)

    assert response.status_code == 302
    assert len(mailoutbox) == 1
    message = OutboxMessage.objects.get()
    assert message.sent_at is not None and message.done_at is not None and message.attempts == 1
    assert send_outbox.delay().get() == 0
    assert len(mailoutbox) == 1


def test_a_redelivered_transition_mail_task_sends_nothing_the_second_time(
    manager, officer, cluster, year, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = services.annual_report_create(cluster=cluster, year=year, narrative="Done.")
        for kpi in KpiDefinition.objects.filter(active=True, source=KpiDefinition.Source.REPORTED):
            services.kpi_value_set(report=report, kpi=kpi, value=Decimal(10))
        services.annual_report_submit(report=report, by=manager)
    message = OutboxMessage.objects.get()
    assert len(mailoutbox) == 1

    assert send_transition_mail.delay(*message.args, outbox_id=message.pk).get() == 0
    assert len(mailoutbox) == 1


def test_a_redelivered_digest_task_sends_nothing_the_second_time(officer, mailoutbox):
    message = outbox_add(task=notify_officers.name)
    cluster = factories.ClusterFactory(name="VIL", slug="vil", started_on=None)
    agreement_create(
        cluster=cluster, reference="SO-VIL-1", start_date=date(2024, 1, 1), end_date=date(2026, 12, 31), amount=1
    )
    flags_scan(as_of=date(2026, 11, 27))  # its own digest waits in the outbox: on_commit never runs here
    assert notify_officers.delay(outbox_id=message.pk).get() == 2
    Flag.objects.update(notified_at=None)  # even with flags to tell, the same message is not sent again
    assert notify_officers.delay(outbox_id=message.pk).get() == 0
    assert len(mailoutbox) == 1


def test_a_message_that_is_sent_already_is_not_sent_again(officer, mailoutbox):
    message = outbox_add(task=notify_officers.name)
    OutboxMessage.objects.filter(pk=message.pk).update(sent_at=timezone.now())
    assert outbox_flush() == 0
    assert OutboxMessage.objects.get().attempts == 0


# --- with a real Redis: the periodic task hands each waiting message to the broker exactly once ---------


def _require_redis() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_BROKER, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        if IN_CI:
            pytest.fail(f"Redis is not reachable at {REDIS_BROKER}: {error} (CI=true: this test must run in CI)")
        pytest.skip(f"Redis is not reachable at {REDIS_BROKER}: {error}")


@broker_down_db
def test_once_redis_is_back_the_periodic_task_puts_the_mail_on_the_broker_exactly_once(
    client, manager, officer, cluster, year, broker_down, mailoutbox
):
    _require_redis()
    response = submit_through_the_portal(client, manager, cluster, year)
    assert response.status_code == 302
    message = OutboxMessage.objects.get(sent_at__isnull=True)

    queue = f"test-outbox-{uuid.uuid4().hex[:12]}"
    _configure(broker_down, broker_url=REDIS_BROKER, task_routes={"*": {"queue": queue}})
    broker_down.amqp.__dict__.pop("router", None)
    with broker_down.connection_for_read() as connection:
        inbox = connection.SimpleQueue(queue)
        try:
            assert outbox_flush() == 1
            assert outbox_flush() == 0
            delivered = inbox.get(timeout=5)
            delivered.ack()
            with pytest.raises(inbox.Empty):  # one message on the broker, not two
                inbox.get(timeout=1)
        finally:
            inbox.clear()
            inbox.close()
    assert delivered.headers["task"] == send_transition_mail.name
    args, kwargs, _ = delivered.decode()
    assert (args, kwargs) == (message.args, {"outbox_id": message.pk})
    assert mailoutbox == []

    # The worker runs it; delivered twice (a redelivery), it still sends one e-mail.
    assert send_transition_mail(*args, **kwargs) == 1
    assert send_transition_mail(*args, **kwargs) == 0
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [officer.email]


# --- settings -------------------------------------------------------------------------------------------


def test_the_visibility_timeout_is_just_above_the_task_time_limit_and_the_outbox_is_sent_every_minute():
    timeout = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert django_settings.CELERY_TASK_TIME_LIMIT < timeout <= django_settings.CELERY_TASK_TIME_LIMIT + 120
    entry = django_settings.CELERY_BEAT_SCHEDULE["send-outbox"]
    assert entry["task"] == send_outbox.name == "core.tasks.send_outbox"
    assert entry["schedule"] == 60.0


def test_an_operator_sees_the_waiting_messages_in_the_admin(admin_client):
    waiting = outbox_add(task=notify_officers.name)
    OutboxMessage.objects.filter(pk=waiting.pk).update(attempts=3, last_error="OperationalError: Error 111")
    changelist = reverse("admin:core_outboxmessage_changelist")

    response = admin_client.get(changelist, {"sent_at__isnull": "True"})

    assert response.status_code == 200
    assert "OperationalError: Error 111" in response.text
    assert admin_client.get(reverse("admin:core_outboxmessage_add")).status_code == 403
