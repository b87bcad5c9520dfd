"""Two-factor login (issue 12, item 3): who needs a second factor, the check, and the middleware.

A VLAIO officer (and any staff user on /admin/) must pass a TOTP code or a backup code once per session
when `TWO_FACTOR_REQUIRED` is on (production); anyone with a confirmed device is asked for it whatever the
setting, so a manager or analyst who chose to set it up is protected too. The devices are django-otp's
(`otp_totp` for the authenticator app, `otp_static` for the ten backup codes); `OTPMiddleware` marks a
session as verified after `django_otp.login`. This module imports no app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import user_login_failed
from django.db.models import BooleanField, Exists, ExpressionWrapper, Model, OuterRef, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp import device_classes, devices_for_user, user_has_device
from django_otp.models import Device

from core.roles import User, is_officer

# Pages reachable before the second factor: logging in and out, the two-factor pages themselves, the
# language switch, the health check, the static files, and the token endpoint (which asks for the code itself).
EXEMPT_PREFIXES = (
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/two-factor/",
    "/i18n/",
    "/healthz",
    "/favicon.ico",
    "/api/v1/auth/token/",
)


def policy_requires(user: User, path: str = "") -> bool:
    """The setting asks this user for a second factor: an officer anywhere, a staff user in the admin."""
    if not (settings.TWO_FACTOR_REQUIRED and user.is_authenticated):
        return False
    return is_officer(user) or (bool(getattr(user, "is_staff", False)) and path.startswith("/admin/"))


def second_factor_required(user: User, path: str = "") -> bool:
    """This user must pass the second factor: the setting asks for it, or they set up a device themselves."""
    if not user.is_authenticated:
        return False
    return policy_requires(user, path) or user_has_device(user, confirmed=True)


# Where whether the user has a confirmed device is kept on the user object for the request, and its column.
_HAS_DEVICE = "_clusterpact_has_device"
HAS_DEVICE_COLUMN = "has_confirmed_device"


def device_annotations(user: str) -> dict[str, ExpressionWrapper]:
    """A column saying whether the user whose id is at `user` in the outer query has a confirmed device of
    any kind (as `user_has_device(user, confirmed=True)`), to read it in the query that loads the user."""
    any_device = Q()
    for model in device_classes():
        any_device |= Q(Exists(model.objects.filter(user=OuterRef(user), confirmed=True)))
    return {HAS_DEVICE_COLUMN: ExpressionWrapper(any_device, output_field=BooleanField())}


def device_remember(user: Model, row: Any) -> None:
    """Keep on `user`, for this request, what `device_annotations` read into `row`."""
    setattr(user, _HAS_DEVICE, bool(row.__dict__.pop(HAS_DEVICE_COLUMN)))


def has_confirmed_device(user: User) -> bool:
    """`user_has_device(user, confirmed=True)`, read with the user when the session loaded it."""
    known: bool | None = getattr(user, _HAS_DEVICE, None)  # request.user may be a lazy wrapper: not __dict__
    return user_has_device(user, confirmed=True) if known is None else known


def device_matching(user: User, token: str) -> Device | None:
    """The user's confirmed device (authenticator or backup codes) that accepts this code, if any.

    A backup code is used up by the check; a TOTP code is refused a second time in its time step.
    """
    token = "".join(token.split())
    if not token:
        return None
    for device in devices_for_user(user, confirmed=True, for_verify=True):
        allowed, _reason = device.verify_is_allowed()
        if allowed and device.verify_token(token):
            return device
    return None


def record_failure(request: HttpRequest, user: User) -> bool:
    """Count a wrong code like a wrong password (django-axes listens to `user_login_failed`).

    Returns whether the username or address is now locked out.
    """
    user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)
    return bool(getattr(request, "axes_locked_out", False))


def _is_exempt(path: str) -> bool:
    static_url = settings.STATIC_URL or "/static/"
    return path.startswith(EXEMPT_PREFIXES) or path.startswith(static_url)


class TwoFactorMiddleware:
    """Sends a logged-in user who still owes the second factor to the verify page (or, without a device,
    to the setup page) for every portal, admin and session-authenticated API request.

    After `OTPMiddleware`, which sets `request.user.is_verified()`. API clients using a token are not
    seen here (DRF authenticates them in the view): the token endpoint itself asks for the code.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            verified = user.is_verified()  # type: ignore[attr-defined]  # set by OTPMiddleware
            has_device = verified or has_confirmed_device(user)
            # For the header's "Set up two-factor login" link (base.html), without asking again.
            request.two_factor_device = has_device  # type: ignore[attr-defined]
            path = request.path
            if not verified and not _is_exempt(path) and (has_device or policy_requires(user, path)):
                if path.startswith("/api/v1/"):
                    message = _("Confirm your login with a two-factor code first.")
                    return JsonResponse({"detail": message}, status=403)
                target = "two_factor_verify" if has_device else "two_factor_setup"
                return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
