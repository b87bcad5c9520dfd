"""Driving one rule through every place a user meets it: the admin, the API and the portal pages
(not collected: no test_ prefix).

Each helper sends what a user would, as that user, in English; `messages_shown()` reads back every
message the answer shows (the API's errors, a page's form and inline errors, its flash messages),
so that a test can say: the same message, whichever way it was reached.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Model, UniqueConstraint
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.api_helpers import ApiClient
from tests.clusterpacts.admin_forms import add_inline_rows, admin_post_data, inline_prefix

API = "/api/v1"


def client_for(user: Any) -> Client:
    client = ApiClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def api(user: Any, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
    """`method` on /api/v1/`path` as `user`, with a JSON body."""
    return getattr(client_for(user), method)(f"{API}/{path}", data or {}, content_type="application/json")


def admin_url(model: type[Model] | Model, view: str, *args: Any) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def admin_save(
    user: Any, url: str, changes: dict[str, Any], rows: dict[type[Model], list[dict[str, Any]]] | None = None
):
    """Post the admin's add or change page `url` as rendered, with `changes` and new inline `rows`."""
    client = client_for(user)
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    data = admin_post_data(page)
    data.update(changes)
    for model, new in (rows or {}).items():
        add_inline_rows(data, inline_prefix(page, model), new)
    return client.post(url, data, follow=True)


def admin_delete_inline_row(user: Any, parent: Model, row: Model):
    """Tick "delete" on `row` in its inline on `parent`'s change page, and save the page."""
    url = admin_url(parent, "change", parent.pk)
    client = client_for(user)
    page = client.get(url)
    data = admin_post_data(page)
    prefix = inline_prefix(page, type(row))
    index = next(i for i in range(int(data[f"{prefix}-TOTAL_FORMS"])) if data.get(f"{prefix}-{i}-id") == str(row.pk))
    data[f"{prefix}-{index}-DELETE"] = "on"
    return client.post(url, data, follow=True)


def admin_delete(user: Any, obj: Model):
    """Confirm the admin's delete page of `obj`."""
    return client_for(user).post(admin_url(obj, "delete", obj.pk), {"post": "yes"}, follow=True)


def admin_bulk_delete(user: Any, *objects: Model):
    """Confirm the changelist's "delete selected" action on `objects`."""
    url = admin_url(objects[0], "changelist")
    data = {"action": "delete_selected", "_selected_action": [obj.pk for obj in objects], "post": "yes"}
    return client_for(user).post(url, data, follow=True)


def _flatten(body: Any) -> list[str]:
    if isinstance(body, dict):
        return [text for value in body.values() for text in _flatten(value)]
    if isinstance(body, list):
        return [text for value in body for text in _flatten(value)]
    return [str(body)]


def messages_shown(response: Any) -> list[str]:
    """Every message the answer shows: the API's errors, or a page's form errors (the admin's main
    form and its inlines, or the portal's form) and flash messages."""
    if response["Content-Type"].startswith("application/json"):
        return _flatten(response.json())
    context = response.context
    if context is None:
        return []
    shown: list[str] = []
    form = context["adminform"].form if "adminform" in context else context.get("form")
    if form is not None:
        shown += _flatten(dict(form.errors))
    for inline in context.get("inline_admin_formsets", []):
        shown += list(inline.formset.non_form_errors()) + _flatten([dict(errors) for errors in inline.formset.errors])
    if "messages" in context:
        shown += [str(message) for message in context["messages"]]
    return shown


def refusal(call: Callable[[], Any]) -> list[str]:
    """Every message with which the service refuses `call` (in English): what each path must show."""
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        call()
    return caught.value.messages


def assert_shows(response: Any, expected: list[str]) -> None:
    shown = messages_shown(response)
    missing = [message for message in expected if message not in shown]
    assert not missing, f"{missing} not among {shown} (status {response.status_code})"


# --- the database as the backstop ----------------------------------------------------------------


def refused_by_constraint(model: type[Model], name: str, create: Callable[[], Any]) -> None:
    """The database itself refuses `create` (a write that bypasses the services) by `model`'s
    constraint `name`. SQLite and PostgreSQL name a check constraint; for a unique one SQLite names
    its columns instead."""
    constraint = next(c for c in model._meta.constraints if c.name == name)
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        create()
    error = str(caught.value)
    if isinstance(constraint, UniqueConstraint) and connection.vendor == "sqlite":
        table = model._meta.db_table
        columns = ", ".join(f"{table}.{model._meta.get_field(field).column}" for field in constraint.fields)
        assert f"UNIQUE constraint failed: {columns}" in error, error
    else:
        assert name in error, error
