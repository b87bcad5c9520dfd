"""Celery tasks of clusterpacts: thin, safe to retry (STYLE.md rule 6)."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from clusterpacts.models import ReportEvent
from clusterpacts.services import transition_mail_send


@shared_task(
    name="clusterpacts.tasks.send_transition_mail",
    autoretry_for=(SMTPException, OSError),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=8,
)
def send_transition_mail(event_id: int) -> int:
    event = ReportEvent.objects.select_related("report__cluster", "plan__cluster", "by").filter(pk=event_id).first()
    return transition_mail_send(event=event) if event else 0
