"""The officers' e-mail digest of new flags: the Celery task and what it sends.

The scan puts it in the outbox in its own transaction (`officers_digest_queue`), so it is sent after
the commit even when Redis is down; `tasks.py` re-exports the task for Celery's autodiscovery. Nothing
here imports the services, so there is no import circle.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from core.outbox import outbox_add, outbox_once
from core.preferences import emails_by_language, site_link
from core.roles import OFFICER
from core.tasks import MAIL_RETRY
from funding.models import Flag

logger = logging.getLogger(__name__)


@shared_task(name="funding.tasks.notify_officers", **MAIL_RETRY)
def notify_officers(outbox_id: int | None = None) -> int:
    """One digest e-mail of the flags officers have not heard of yet (once per outbox message)."""
    with outbox_once(outbox_id) as first:
        return flags_notify_officers() if first else 0


def officers_digest_queue() -> None:
    """Put the digest in the outbox, in the transaction of a scan that raised flags (sent after its commit)."""
    outbox_add(task=notify_officers.name)


def flags_notify_officers() -> int:
    """E-mail the VLAIO officers one digest of the open flags they have not heard of, each officer in their
    language; return how many flags.

    Claims the flags under a row lock (skip_locked) and marks them notified in the same transaction,
    so two workers never send the same flag, and a failed send leaves them for the retry.
    """
    with transaction.atomic():
        pending = list(
            Flag.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(resolved_on__isnull=True, notified_at__isnull=True)
            .select_related("cluster")
            .order_by("due_on", "kind", "cluster__name")
        )
        if not pending:
            return 0
        officers = get_user_model().objects.filter(is_active=True, groups__name=OFFICER).exclude(email="")
        by_language = emails_by_language(officers)
        if not by_language:
            # Nobody to tell yet: leave the flags pending, so the first officer with an address hears of them.
            logger.warning("%d new flags, but no VLAIO officer has an e-mail address", len(pending))
            return 0
        Flag.objects.filter(pk__in=[flag.pk for flag in pending]).update(notified_at=timezone.now())
        for language, recipients in by_language.items():
            with translation.override(language):
                open_flags = reverse("admin:funding_flag_changelist") + "?resolved_on__isnull=True"
                context = {"flags": pending, "link": site_link(open_flags)}
                subject = translation.ngettext(
                    "Clusterpact portal: %(count)d new flag", "Clusterpact portal: %(count)d new flags", len(pending)
                ) % {"count": len(pending)}
                message = render_to_string("funding/email/new_flags.txt", context)
            send_mail(subject=subject, message=message, from_email=None, recipient_list=recipients)
    return len(pending)
