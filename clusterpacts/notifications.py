"""E-mail about the workflow of plans and reports: the Celery task and what it sends.

Services queue the task through the outbox in their own transaction (`transition_mail_queue`), so a
step that commits always gets its e-mail, once, even when Redis is down; `tasks.py` re-exports the task
for Celery's autodiscovery. Nothing here imports the services, so there is no import circle.
"""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from clusterpacts.models import AnnualPlan, AnnualReport, ReportEvent, Workflow
from core.outbox import outbox_add, outbox_once
from core.preferences import emails_by_language, site_link
from core.roles import OFFICER
from core.tasks import MAIL_RETRY


@shared_task(name="clusterpacts.tasks.send_transition_mail", **MAIL_RETRY)
def send_transition_mail(event_id: int, outbox_id: int | None = None) -> int:
    """E-mail one workflow step; at most once per outbox message, however often the task arrives."""
    with outbox_once(outbox_id) as first:
        if not first:
            return 0
        steps = ReportEvent.objects.select_related("report__cluster", "plan__cluster", "by")
        event = steps.filter(pk=event_id).first()
        return transition_mail_send(event=event) if event else 0


def transition_mail_queue(event_id: int) -> None:
    """Put the e-mail about one workflow step in the outbox, in the step's transaction (sent after its commit)."""
    outbox_add(task=send_transition_mail.name, args=[event_id])


def _document(event: ReportEvent) -> AnnualReport | AnnualPlan:
    """The report or plan a workflow step belongs to: every step has one (a database constraint)."""
    document = event.report or event.plan
    if document is None:
        raise ValueError(f"workflow step {event.pk} has neither a report nor a plan")
    return document


def _link(event: ReportEvent) -> str:
    """Officers told of a submission land on its review page (with the buttons); managers on their page."""
    document = _document(event)
    if event.to_status == Workflow.SUBMITTED:
        review = "clusterpacts:review-report" if event.report else "clusterpacts:review-plan"
        return reverse(review, args=[document.pk])
    name = "clusterpacts:report" if event.report else "clusterpacts:plan"
    return reverse(name, args=[document.cluster.slug, document.year])


def transition_mail_send(*, event: ReportEvent) -> int:
    """E-mail the people a workflow step concerns, each in their language; return how many recipients.
    Runs after the commit."""
    document = _document(event)
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    if event.to_status == Workflow.SUBMITTED:
        users = users.filter(groups__name=OFFICER)
    else:
        users = users.filter(managed_clusters__cluster_id=document.cluster_id)
    sent = 0
    for language, recipients in emails_by_language(users).items():
        with translation.override(language):
            context = {
                "event": event,
                "document": document,
                "by": event.actor_name or "—",
                "link": site_link(_link(event)),
            }
            subject = {
                Workflow.SUBMITTED: gettext("Submitted for review: %(document)s"),
                Workflow.ACCEPTED: gettext("Accepted: %(document)s"),
                Workflow.RETURNED: gettext("Returned for correction: %(document)s"),
            }[Workflow(event.to_status)] % {"document": document}
            body = render_to_string("clusterpacts/email/transition.txt", context)
        send_mail(subject=subject, message=body, from_email=None, recipient_list=recipients)
        sent += len(recipients)
    return sent
