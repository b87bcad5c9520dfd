"""What the e-mail of every app shares: each user's language (`core.models.UserPreference`: the portal's
language after login and of the e-mail sent to them) and the site's address for links. Imports no app:
the notifications of every app ask here whom to write in which language, and where to link."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from core.models import UserPreference


def site_link(path: str) -> str:
    """An absolute link for an e-mail: the configured site address (CLUSTERPACTS_SITE_URL, by default the
    address `make run` serves) and `path`; never a host named in code or by a request."""
    return settings.CLUSTERPACTS_SITE_URL.rstrip("/") + path


def site_language() -> str:
    return settings.LANGUAGE_CODE


def chosen_language(user: Any) -> str | None:
    """The language the user chose, or None when they never did (then the browser's or the header
    switch's choice stands)."""
    if user is None or not getattr(user, "pk", None):
        return None
    return UserPreference.objects.filter(user_id=user.pk).values_list("language", flat=True).first() or None


def user_language(user: Any) -> str:
    """The user's language, or the site's default without a preference (or for an anonymous user)."""
    if user is None or not getattr(user, "pk", None):
        return site_language()
    language = UserPreference.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
    return language or site_language()


def emails_by_language(users: QuerySet[Any]) -> dict[str, list[str]]:
    """The distinct e-mail addresses of `users` grouped by each one's language (sorted, one query), so each
    recipient's mail is rendered in their language (`translation.override`)."""
    grouped: dict[str, set[str]] = defaultdict(set)
    for email, language in users.values_list("email", "preference__language"):
        grouped[language or site_language()].add(email)
    return {language: sorted(emails) for language, emails in sorted(grouped.items())}
