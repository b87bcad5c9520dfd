"""What the base layout needs on every page: the user's role and clusters, for the navigation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from clusterpacts.models import Cluster
from core.roles import is_officer, is_reader


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    officer = is_officer(user)
    return {
        "nav_is_officer": officer,
        "nav_is_reader": is_reader(user) and not officer,
        # One query, only for managers: officers and readers reach clusters through their pages.
        "nav_clusters": [] if is_reader(user) else list(Cluster.objects.for_user(user).only("name", "slug")),
    }
