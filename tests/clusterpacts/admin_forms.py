"""Build an admin POST from the page the admin rendered: its form's values and its inline prefixes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import forms


def _form_data(form: forms.BaseForm) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        key = form.add_prefix(name)
        value = form[name].value()
        if isinstance(field, forms.FileField):
            continue
        if isinstance(field, forms.BooleanField):
            if value:
                data[key] = "on"
            continue
        if value is None:
            data[key] = ""
        elif isinstance(value, list | tuple):
            data[key] = [str(item) for item in value]
        elif isinstance(value, datetime | date):
            data[key] = value.isoformat()
        else:
            data[key] = str(value)
    return data


def admin_post_data(response: Any) -> dict[str, Any]:
    """Everything the rendered add or change page would post unchanged, inlines included."""
    data = _form_data(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(_form_data(formset.management_form))
        for form in formset.initial_forms:
            data.update(_form_data(form))
        # The page's empty extra forms are not posted: tests add their own rows.
        data[f"{formset.prefix}-TOTAL_FORMS"] = str(formset.initial_form_count())
    return data


def inline_prefix(response: Any, model: type) -> str:
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.model is model:
            return inline.formset.prefix
    raise LookupError(f"no inline for {model.__name__} on this page")


def add_inline_rows(data: dict[str, Any], prefix: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Append new rows to an inline of `data` (as the admin's "Add another" would)."""
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    for offset, row in enumerate(rows):
        for name, value in row.items():
            data[f"{prefix}-{total + offset}-{name}"] = value
    data[f"{prefix}-TOTAL_FORMS"] = str(total + len(rows))
    return data


def form_errors(response: Any) -> dict[str, list[str]]:
    """The main form's errors on a re-rendered admin page (empty after a redirect)."""
    if response.status_code != 200 or response.context is None or "adminform" not in response.context:
        return {}
    return {field: list(messages) for field, messages in response.context["adminform"].form.errors.items()}


def inline_errors(response: Any) -> list[str]:
    """Every inline's non-form errors and row errors, flattened."""
    messages: list[str] = []
    for inline in response.context["inline_admin_formsets"]:
        messages.extend(inline.formset.non_form_errors())
        for form_errors_ in inline.formset.errors:
            for texts in form_errors_.values():
                messages.extend(texts)
    return messages
