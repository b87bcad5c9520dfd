"""The account pages core adds to Django's: the user's settings (their language), the login that opens
the portal in that language, and the password reset whose e-mail links to the configured site address."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext

from core.forms import LanguageForm, PasswordResetForm
from core.preferences import chosen_language, user_language
from core.services import user_language_set


def _with_language(response: HttpResponseBase, language: str) -> HttpResponseBase:
    """The language cookie the header's buttons set too (LocaleMiddleware reads it on the next request)."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


@login_required
def account_settings(request: HttpRequest) -> HttpResponseBase:
    """The user's own settings: the language of the portal after login and of the e-mail sent to them."""
    form = LanguageForm(request.POST or None, initial={"language": user_language(request.user)})
    if request.method == "POST" and form.is_valid():
        language = form.cleaned_data["language"]
        user_language_set(user=request.user, language=language)
        with translation.override(language):
            messages.success(request, gettext("Your settings were saved."))
        return _with_language(redirect("account_settings"), language)
    return render(request, "registration/account_settings.html", {"form": form})


class LoginView(auth_views.LoginView):
    """Django's login; the portal then opens in the language the user chose, if they chose one (without a
    choice, the language of the browser or of the header's switch stands)."""

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        chosen = chosen_language(form.get_user())
        if chosen:
            _with_language(response, chosen)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset; the e-mail is in the user's language and links to CLUSTERPACTS_SITE_URL,
    not to whatever host the request named."""

    form_class = PasswordResetForm

    def form_valid(self, form: Any) -> HttpResponse:
        self.extra_email_context = {"site_url": settings.CLUSTERPACTS_SITE_URL}
        return super().form_valid(form)
