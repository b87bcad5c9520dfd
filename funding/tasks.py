"""Celery tasks of funding: thin, safe to run twice (STYLE.md rule 6)."""

from __future__ import annotations

import logging
from datetime import date
from smtplib import SMTPException

from celery import shared_task
from django.utils import timezone

from funding.services import flags_notify_officers, flags_scan

logger = logging.getLogger(__name__)


@shared_task(name="funding.tasks.scan_flags", acks_late=True, reject_on_worker_lost=True)
def scan_flags(as_of: str | None = None) -> dict[str, int]:
    """The daily scan (beat, 06:00 Europe/Brussels). Idempotent, so a redelivery does no harm."""
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    result = flags_scan(as_of=day)
    logger.info("Flag scan as of %s: %d raised, %d resolved", day, len(result.raised), len(result.resolved))
    return {"raised": len(result.raised), "resolved": len(result.resolved)}


@shared_task(
    name="funding.tasks.notify_officers",
    autoretry_for=(SMTPException, OSError),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=8,
)
def notify_officers() -> int:
    """One digest e-mail of the flags officers have not heard of yet."""
    return flags_notify_officers()
