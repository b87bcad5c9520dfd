"""The two-factor pages under /accounts/two-factor/: set up an authenticator app, and verify a login.

The QR code is rendered on the server as inline SVG (segno), so the page needs no script and fetches
nothing. The ten backup codes are shown once, right after the authenticator is confirmed.
"""

from __future__ import annotations

from base64 import b32encode
from urllib.parse import urlencode

import django_otp
import segno
from django import forms
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.logins import lockout_response
from core.two_factor import device_matching, record_failure

BACKUP_CODES = 10


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url("home")


@never_cache
@login_required
def setup(request: HttpRequest) -> HttpResponse:
    """A new authenticator: the QR code and the secret, confirmed with a first code; then the backup codes."""
    user = request.user
    if user_has_device(user, confirmed=True):
        # One authenticator per user; a lost one is removed by an officer in the admin.
        return redirect(_next_url(request) if user.is_verified() else "two_factor_verify")  # type: ignore[union-attr]
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token("".join(form.cleaned_data["code"].split())):
            device.confirmed = True
            device.save()
            StaticDevice.objects.filter(user=user).delete()
            backup = StaticDevice.objects.create(user=user, name=_("Backup codes"), confirmed=True)
            codes = [StaticToken.random_token() for _i in range(BACKUP_CODES)]
            StaticToken.objects.bulk_create(StaticToken(device=backup, token=code) for code in codes)
            django_otp.login(request, device)
            return render(request, "registration/two_factor_codes.html", {"codes": codes, "next": _next_url(request)})
        if record_failure(request, user):
            logout(request)
            return lockout_response(request)
        form.add_error("code", _("This code is not right. Check your app's clock and try the current code."))
    qr = segno.make(device.config_url, error="m")
    context = {
        "form": form,
        "qr_svg": mark_safe(qr.svg_inline(scale=5, title=_("QR code for your authenticator app"))),  # noqa: S308 - segno's own markup
        "secret": b32encode(device.bin_key).decode(),
        "next": _next_url(request),
    }
    return render(request, "registration/two_factor_setup.html", context)


@never_cache
@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of a login: a code from the authenticator app or one of the backup codes."""
    user = request.user
    if not user_has_device(user, confirmed=True):
        return redirect(f"{resolve_url('two_factor_setup')}?{urlencode({'next': _next_url(request)})}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = device_matching(user, form.cleaned_data["code"])
        if device is not None:
            django_otp.login(request, device)
            return redirect(_next_url(request))
        if record_failure(request, user):
            logout(request)
            return lockout_response(request)
        form.add_error("code", _("This code is not right, or it was used before."))
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _next_url(request)})
