"""What every form shares: a domain error from a service, shown next to the right field."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.utils import formats, translation
from django.utils.translation import gettext_lazy as _

from core.preferences import user_language


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


# --- numbers as the user's language writes them ------------------------------------------------------

_GROUPS = re.compile(r"^\d{1,3}(?:\.\d{3})+$")


def _read_number(text: str, decimal_mark: str) -> str:
    """`text` with the decimal mark of the active language read as Python reads it ("12,5" -> "12.5" in
    Dutch); the other mark is read as a decimal mark too where it cannot be a thousands separator
    ("12.5" in Dutch), and as a thousands separator beside the decimal mark ("1.234,5"). A lone other
    mark before exactly three digits ("1.250") could be either: ValueError."""
    other = "," if decimal_mark == "." else "."
    text = "".join(text.split()).replace("\u202f", "")  # spaces people type between groups
    if decimal_mark in text and other in text:
        whole, _mark, decimals = text.rpartition(decimal_mark)
        if not _GROUPS.match(whole.lstrip("+-").replace(other, ".")):
            return text  # not a grouping the field can read: refused as "enter a number"
        return f"{whole.replace(other, '')}.{decimals}"
    if decimal_mark in text:
        return text.replace(decimal_mark, ".")
    if text.count(other) > 1 and _GROUPS.match(text.lstrip("+-").replace(other, ".")):
        return text.replace(other, "")  # 1.234.567: only groups
    if text.count(other) == 1:
        if len(text.rpartition(other)[2]) == 3:
            raise ValueError(text)
        return text.replace(other, ".")
    return text


class LocalDecimalField(forms.DecimalField):
    """A decimal in the notation of the user's language: in Dutch "12,5" (and "12.5", which cannot be
    meant otherwise), in English "12.5"; "1.250" is refused as ambiguous rather than guessed. Values are
    shown back in the language's notation (`localize`)."""

    default_error_messages = {
        "ambiguous": _(
            "“%(value)s” can be read as a whole number or as a decimal: write it without a thousands "
            "separator (%(whole)s) or with a decimal mark (%(decimal)s)."
        )
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("localize", True)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]  # as DecimalField's
        if not isinstance(value, str) or not value.strip():
            return super().to_python(value)
        text = value.strip()
        mark = str(formats.get_format("DECIMAL_SEPARATOR"))
        try:
            read = _read_number(text, mark)
        except ValueError:
            whole, _other, decimals = text.rpartition("," if mark == "." else ".")
            raise ValidationError(
                self.error_messages["ambiguous"],
                code="ambiguous",
                params={"value": text, "whole": whole + decimals, "decimal": f"{whole}{mark}{decimals}"},
            ) from None
        # In Python's notation now: the parent only parses it (its separators find nothing more to do).
        return super().to_python(read)


def focus_first_error(form: forms.BaseForm) -> None:
    """Give the first field (in the form's order) that has an error the `autofocus` attribute, and every
    field with an error `aria-invalid`: the page opens on what needs correcting, without a script."""
    first = True
    for name, field in form.fields.items():
        if name in form.errors and not field.widget.is_hidden:
            field.widget.attrs["aria-invalid"] = "true"
            if first:
                field.widget.attrs["autofocus"] = True
                first = False


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        choices=settings.LANGUAGES,
        help_text=_("The portal's language after you log in, and of the e-mail it sends you."),
    )


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's, with the e-mail in the language of the user it is sent to."""

    def send_mail(self, *args: Any, **kwargs: Any) -> None:
        context = args[2] if len(args) > 2 else kwargs["context"]
        with translation.override(user_language(context.get("user"))):
            super().send_mail(*args, **kwargs)
