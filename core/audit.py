"""Who changed what (issue 12, item 10): every history row names a user, and officers export the log.

simple_history takes a history row's user from `HistoricalRecords.context.request.user` (or from an
object's `_history_user`, which the admin sets). That context is filled in three ways, each in one place:

- portal and admin (session): simple_history's `HistoryRequestMiddleware` puts the request there;
- API (token): DRF authenticates inside the view, after that middleware, but its `Request.user` setter
  also sets the user on the Django request the middleware handed over, so the token's user signs the
  rows with nothing added (guarded by `tests/core/test_audit.py`);
- Celery tasks and management commands (the flag scan, the demo loader, the outbox tasks): `acting_as`
  puts the system user there while they run; every task gets it through Celery's `task_prerun` /
  `task_postrun` signals (connected in `core.apps`), the commands wrap their work in it.

Why a change was made: inside `change_reason(text)` every history row written gets `text` as its
`history_change_reason` (the workbook import says which import wrote it), through simple_history's
`pre_create_historical_record` signal (`record_change_reason`, connected once in `core.apps`).

The system user (`SYSTEM_USERNAME`) is found or created by `system_user()`: inactive, no group, an
unusable password, so it can never log in nor see anything; it only signs what the machine did.

`audit_rows` reads every history row of the tracked models in a period, in time order, for the
officers' export (`insights.views.audit_export`). This module imports no app: the tracked models come
from the app registry.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

SYSTEM_USERNAME = "system"
_MISSING = object()
_saved = threading.local()  # the contexts a running task replaced, restored when it ends


def system_user() -> Any:
    """The user that signs the changes made by tasks and commands (created on first use)."""
    user, created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"is_active": False, "first_name": "System", "last_name": "(tasks)"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _set_context(value: Any) -> None:
    if value is _MISSING:
        if hasattr(HistoricalRecords.context, "request"):
            del HistoricalRecords.context.request
    else:
        HistoricalRecords.context.request = value


@contextmanager
def acting_as(user: Any) -> Iterator[None]:
    """History rows written inside are signed by `user`; what was there before comes back after."""
    previous = getattr(HistoricalRecords.context, "request", _MISSING)
    # simple_history reads only `.user` of the request it is given.
    HistoricalRecords.context.request = SimpleNamespace(user=user)
    try:
        yield
    finally:
        _set_context(previous)


def task_started(**_: Any) -> None:
    """Celery's `task_prerun`: the task's changes are the system user's (tasks may nest when eager)."""
    stack = _saved.__dict__.setdefault("stack", [])
    stack.append(getattr(HistoricalRecords.context, "request", _MISSING))
    HistoricalRecords.context.request = SimpleNamespace(user=system_user())


def task_ended(**_: Any) -> None:
    """Celery's `task_postrun`: put back whatever the context held before the task."""
    stack = _saved.__dict__.get("stack")
    if stack:
        _set_context(stack.pop())


# The reason given by the innermost `change_reason` around the running code (None: no reason).
_reason: ContextVar[str | None] = ContextVar("core.audit.change_reason", default=None)


@contextmanager
def change_reason(text: str) -> Iterator[None]:
    """Every history row written inside gets `text` as its change reason (cut to the field's length);
    a nested one gives its own reason, and the outer one's comes back after it."""
    token = _reason.set(text)
    try:
        yield
    finally:
        _reason.reset(token)


def record_change_reason(*, history_instance: Any, history_change_reason: str | None = None, **_: Any) -> None:
    """simple_history's `pre_create_historical_record`: give the row the reason of the running
    `change_reason`, unless the object carries a reason of its own (`_change_reason`)."""
    text = _reason.get()
    if text is None or history_change_reason:
        return
    field = history_instance._meta.get_field("history_change_reason")
    history_instance.history_change_reason = text[: field.max_length] if field.max_length else text


# --- the audit log ---------------------------------------------------------------------------------

CHANGE_TYPES = {"+": "created", "~": "changed", "-": "deleted"}
AUDIT_COLUMNS = ["when", "who", "model", "object id", "object", "change", "changed fields"]


@dataclass(frozen=True)
class AuditRow:
    when: datetime
    who: str
    model: str
    object_id: Any
    object: str
    change: str
    changed_fields: str

    def cells(self) -> list[Any]:
        return [
            timezone.localtime(self.when).isoformat(timespec="seconds"),
            self.who,
            self.model,
            self.object_id,
            self.object,
            self.change,
            self.changed_fields,
        ]


def tracked_models() -> list[type[models.Model]]:
    """The domain models that keep a history (every model with a simple_history manager)."""
    return [model for model in apps.get_models() if hasattr(model._meta, "simple_history_manager_attribute")]


def _history_model(model: type[models.Model]) -> Any:
    return getattr(model, model._meta.simple_history_manager_attribute).model  # type: ignore[attr-defined]


def _described(record: Any) -> str:
    try:
        return str(record.instance)
    except (ObjectDoesNotExist, AttributeError, ValueError):  # a relation its text needs is gone
        return ""


def _rows_of(model: type[models.Model], start: datetime, end: datetime) -> Iterator[tuple[datetime, int, AuditRow]]:
    history = _history_model(model)
    pk_name = model._meta.pk.attname
    label = f"{model._meta.app_label}.{model._meta.model_name}"
    previous: dict[Any, Any] = {}  # object id -> its record before the one being read
    records = (
        history.objects.filter(history_date__gte=start, history_date__lt=end)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    for record in records.iterator(chunk_size=1000):
        object_id = getattr(record, pk_name)
        fields = ""
        if record.history_type == "~":
            before = previous.get(object_id, _MISSING)
            if before is _MISSING:
                before = record.prev_record  # the first of this object in the period: one query
            if before is not None:
                fields = ", ".join(sorted(record.diff_against(before).changed_fields))
        previous[object_id] = record
        user = record.history_user
        yield (
            record.history_date,
            record.history_id,
            AuditRow(
                when=record.history_date,
                who=user.get_username() if user is not None else "",
                model=label,
                object_id=object_id,
                object=_described(record),
                change=CHANGE_TYPES.get(record.history_type, record.history_type),
                changed_fields=fields,
            ),
        )


def audit_rows(*, start: datetime, end: datetime) -> Iterator[AuditRow]:
    """Every history row of every tracked model with start <= time < end, oldest first (streamed)."""
    streams = [_rows_of(model, start, end) for model in tracked_models()]
    for _when, _id, row in heapq.merge(*streams, key=lambda item: (item[0], item[1])):
        yield row
