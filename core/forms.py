"""What every form shares: a domain error from a service, shown next to the right field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.utils import translation
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
