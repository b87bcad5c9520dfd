"""What every form shares: a domain error from a service, shown next to the right field."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def errors_to_form(
    form: forms.BaseForm, error: ValidationError, field_map: dict[str, str | None] | None = None
) -> None:
    """Attach a domain error to the form: each message on its field where the form has one."""
    field_map = field_map or {}
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            name = field_map.get(field, field)
            form.add_error(name if name in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)
