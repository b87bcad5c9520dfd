"""Reading and requesting portal pages in tests."""

import re
from typing import Any

from django.conf import settings


def has_word(text: str, word: str) -> bool:
    """`word` as a whole word: a short name such as "SIM" may turn up inside a random CSRF token."""
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None


def login(client: Any, user: Any, language: str = "en") -> Any:
    """Log `user` in (None: stay anonymous) and ask for pages in `language`."""
    if user is not None:
        client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def user_for(request: Any, role: str) -> Any:
    """The user fixture named `role`, or None for "anonymous"."""
    return None if role == "anonymous" else request.getfixturevalue(role)


def assert_login_redirect(response: Any, path: str) -> None:
    assert response.status_code == 302
    assert response.url == f"{settings.LOGIN_URL}?next={path}"
