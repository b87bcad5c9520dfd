"""What the project's Celery tasks share."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from core.outbox import outbox_flush

# An e-mail task retries when the mail server fails or cannot be reached: after a minute, then backing off
# up to ten minutes between tries, thirty times (a few hours) before it gives up. A waiting retry sits
# unacknowledged in a worker, and Redis hands it to another worker once the visibility timeout (the task
# time limit + 60 s by default) passes: the longest wait stays below it. A second copy would still send
# nothing twice (`core.outbox.outbox_once`), but each copy would retry on its own.
MAIL_RETRY: dict[str, object] = {
    "autoretry_for": (SMTPException, OSError),
    "retry_backoff": 60,
    "retry_backoff_max": 600,
    "max_retries": 30,
}


@shared_task(name="core.tasks.send_outbox", acks_late=True, reject_on_worker_lost=True)
def send_outbox() -> int:
    """Hand to Celery what the outbox still holds (beat, every minute): what a dead broker kept back."""
    return outbox_flush()
