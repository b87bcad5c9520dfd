"""Celery tasks of funding: thin, safe to run twice (STYLE.md rule 6)."""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task
from django.utils import timezone

from funding.notifications import flags_notify_officers, notify_officers
from funding.services import flags_scan

__all__ = ["flags_notify_officers", "notify_officers", "scan_flags"]

logger = logging.getLogger(__name__)


@shared_task(name="funding.tasks.scan_flags", acks_late=True, reject_on_worker_lost=True)
def scan_flags(as_of: str | None = None) -> dict[str, int]:
    """The daily scan (beat, 06:00 Europe/Brussels). Idempotent, so a redelivery does no harm."""
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    result = flags_scan(as_of=day)
    logger.info("Flag scan as of %s: %d raised, %d resolved", day, len(result.raised), len(result.resolved))
    return {"raised": len(result.raised), "resolved": len(result.resolved)}
