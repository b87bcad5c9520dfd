"""The version a form was loaded at, and the refusal of a save made from a stale one (no lost update).

A version is a digest of the object's stored field values (and of rows that belong with it, such as
a report's KPI values), so any change shows, whichever path made it. A form carries the version it
was opened at in a hidden field; before saving, `check_version` compares it with the row as it is
now and refuses with who changed it, when, and what, from the object's change history.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

VERSION_FIELD = "_version"


def version_of(obj: models.Model | None, related: Iterable[models.Model] = ()) -> str:
    """A digest of the stored values of `obj` and of `related`; "" for an object not yet created."""
    if obj is None or obj.pk is None:
        return ""
    rows = [obj, *related]
    values = [
        [row._meta.label, *[(field.attname, field.value_to_string(row)) for field in row._meta.concrete_fields]]
        for row in rows
    ]
    payload = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(payload).hexdigest()[:40]


def _latest_change(rows: Iterable[models.Model]) -> Any:
    latest = None
    for row in rows:
        history = getattr(row, "history", None)
        record = history.order_by("-history_date").first() if history is not None else None
        if record is not None and (latest is None or record.history_date > latest.history_date):
            latest = record
    return latest


def _changed_fields(record: Any) -> list[str]:
    previous = getattr(record, "prev_record", None)
    if previous is None:
        return []
    model = record.instance_type
    names = record.diff_against(previous).changed_fields
    return [str(model._meta.get_field(name).verbose_name) for name in names]


def stale_message(rows: Iterable[models.Model]) -> str:
    """Who changed the object last, when, and what, in the words of its latest history record."""
    record = _latest_change(rows)
    user = getattr(record, "history_user", None)
    if record is None or user is None:
        return gettext("Changed by someone else since you opened it; reload to see the change.")
    who = user.get_full_name() or user.get_username()
    when = date_format(timezone.localtime(record.history_date), "SHORT_DATETIME_FORMAT")
    fields = _changed_fields(record)
    if fields:
        return gettext("Changed by %(who)s at %(when)s since you opened it (%(what)s); reload to see the change.") % {
            "who": who,
            "when": when,
            "what": ", ".join(fields),
        }
    return gettext("Changed by %(who)s at %(when)s since you opened it; reload to see the change.") % {
        "who": who,
        "when": when,
    }


def check_version(obj: models.Model | None, token: str | None, related: Iterable[models.Model] = ()) -> None:
    """Refuse (ValidationError, nothing saved) when `obj` is no longer at the version `token`."""
    related = list(related)
    if version_of(obj, related) != (token or ""):
        raise ValidationError(stale_message([row for row in (obj, *related) if row is not None]), code="stale")
