"""Logins: the client's address as the trusted proxies report it, and the answer to a locked-out login.

django-axes counts failed logins per username and per client address (settings: AXES_*); these are the
two hooks it calls. The API's throttles read the same proxy count (REST_FRAMEWORK["NUM_PROXIES"]).
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Any

from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import ngettext


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or, behind TRUSTED_PROXY_COUNT proxies, the address the
    outermost trusted proxy saw (counted from the right of X-Forwarded-For, as DRF's throttles count).

    With no trusted proxy the header is ignored: anyone can send one. An entry that is not an address
    (a request that reached us past the proxies) falls back to REMOTE_ADDR.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count <= 0 or not forwarded:
        return remote
    addresses = [address.strip() for address in forwarded.split(",")]
    candidate = addresses[-min(count, len(addresses))]
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return remote
    return candidate


def lockout_message(request: HttpRequest | None = None) -> str:
    """What a locked-out user reads, in the request's language, with the configured wait."""
    cool_off = get_cool_off(request) or timedelta(0)
    minutes = max(1, round(cool_off.total_seconds() / 60))
    return ngettext(
        "Too many failed logins: this account or your address is locked for %(minutes)d minute. "
        "Try again later, or ask a VLAIO officer to unlock it.",
        "Too many failed logins: this account or your address is locked for %(minutes)d minutes. "
        "Try again later, or ask a VLAIO officer to unlock it.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """Axes' answer to a locked-out login (AXES_LOCKOUT_CALLABLE): the login page's look with the
    message for a browser, the API's error shape for an API client; 429 either way."""
    status = settings.AXES_HTTP_RESPONSE_CODE
    message = lockout_message(request)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return render(request, "registration/locked_out.html", {"message": message}, status=status)
