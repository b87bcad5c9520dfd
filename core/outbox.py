"""The outbox: a task a change asks for is written in the change's transaction, then handed to Celery.

A service calls `outbox_add(task=..., args=...)` instead of queueing the task itself. The row commits
or rolls back with the change, so a committed change always has its task recorded, whether or not the
broker is up. Right after the commit `outbox_send` tries to hand it to Celery (with eager Celery, the
embedded default and the tests, the task then runs at once, as before); when that fails (Redis down),
the user still gets their answer, the failure is logged, and the periodic `outbox_flush`
(`core.tasks.send_outbox`, every minute) sends it once the broker is back.

Exactly once: a row is claimed with `select_for_update(skip_locked=True)` and marked sent in the
transaction that enqueued it, so two senders never both enqueue it. A task can still arrive twice
(the sender's commit fails after the broker took it, or Redis redelivers a task lost with its worker),
so each outbox task does its work inside `outbox_once`, which records `done_at` in the same
transaction as the work and skips a message already done.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from celery import current_app
from django.db import transaction
from django.utils import timezone

from core.models import OutboxMessage

logger = logging.getLogger(__name__)

JsonArg = str | int | float | bool | None
# The keyword argument that tells an outbox task which message it serves (see `outbox_once`).
MESSAGE_KWARG = "outbox_id"


def outbox_add(*, task: str, args: Sequence[JsonArg] = ()) -> OutboxMessage:
    """Record that the Celery task named `task` must run with `args` once the current transaction commits.

    Call it inside the change's transaction (every service is atomic). After the commit the task is
    handed to Celery at once; a failure there is logged and never reaches the caller.
    """
    message = OutboxMessage.objects.create(task=task, args=list(args))

    def send_after_commit() -> None:
        outbox_send(message_id=message.pk)

    # robust: even an unexpected error in sending (a database error, a bug) is logged, never a 500. (A plain
    # function, not a functools.partial: Django names the callback by its __qualname__ when it logs.)
    transaction.on_commit(send_after_commit, robust=True)
    return message


def outbox_send(*, message_id: int) -> bool:
    """Hand one unsent message to Celery; True when it was sent now. Never raises for a broker failure.

    False when it is sent already, another process holds it (skip_locked), or the broker refused it.
    """
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, sent_at__isnull=True)
            .first()
        )
        return _enqueue(message) if message else False


def outbox_flush(*, limit: int = 500) -> int:
    """Send the unsent messages, oldest first, at most `limit`; return how many were sent.

    Each message is claimed and marked sent in its own transaction, so a crash half-way loses nothing
    and sends nothing twice; a message another process is sending is skipped.
    """
    ids = list(OutboxMessage.objects.filter(sent_at__isnull=True).order_by("pk").values_list("pk", flat=True)[:limit])
    return sum(outbox_send(message_id=message_id) for message_id in ids)


def _enqueue(message: OutboxMessage) -> bool:
    """Enqueue a claimed message and mark it sent, or record why not; the caller holds its row lock."""
    message.attempts += 1
    try:
        # A savepoint: with eager Celery the task runs here, and its failure must not break our transaction.
        with transaction.atomic():
            # No publish retry: the outbox is the retry, and the user is not kept waiting for a dead broker.
            current_app.tasks[message.task].apply_async(
                args=message.args, kwargs={MESSAGE_KWARG: message.pk}, retry=False
            )
    except Exception as error:  # kombu's OperationalError, ConnectionError, OSError, or anything the task raised
        message.last_error = f"{type(error).__name__}: {error}"[:2000]
        message.save(update_fields=["attempts", "last_error"])
        logger.warning(
            "Outbox message %s (%s) not handed to Celery, it waits for the next send: %s",
            message.pk,
            message.task,
            message.last_error,
        )
        return False
    message.sent_at = timezone.now()
    message.last_error = ""
    message.save(update_fields=["attempts", "sent_at", "last_error"])
    return True


@contextmanager
def outbox_once(message_id: int | None) -> Iterator[bool]:
    """Do a task's work at most once per outbox message: `with outbox_once(outbox_id) as first: if first: ...`.

    Locks the message's row (a second delivery waits here, then finds it done) and records `done_at`
    in the same transaction as the work, so an error in the work leaves it to be done on the retry.
    Without a message id (a task queued directly, e.g. by hand) the work is always done.
    """
    if message_id is None:
        yield True
        return
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.done_at is not None:
            logger.info("Outbox message %s is done already (or gone): nothing to do", message_id)
            yield False
            return
        yield True
        OutboxMessage.objects.filter(pk=message_id).update(done_at=timezone.now())
