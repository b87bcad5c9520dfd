"""Who may see what. The three groups are created by a migration (clusterpacts 0002_roles).

A VLAIO officer and an API reader see every cluster; a cluster manager sees only the clusters they
are linked to (the `managed_clusters` links of the user, see `clusterpacts.models.ClusterManager`);
anyone else sees nothing. This module imports no app, so every app (and `core`) may use it.
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AbstractUser, AnonymousUser

# Whoever is asking: a logged-in user or Django's anonymous one (request.user).
User: TypeAlias = AbstractUser | AnonymousUser

OFFICER = "VLAIO officer"
CLUSTER_MANAGER = "Cluster manager"
API_READER = "API reader"
ROLES = (OFFICER, CLUSTER_MANAGER, API_READER)


def _groups(user: User) -> set[str]:
    # Cached on the user object so one request costs one query, however many checks it makes.
    cached: set[str] | None = user.__dict__.get("_clusterpact_groups")
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True)) if user.is_authenticated else set()
        user.__dict__["_clusterpact_groups"] = cached
    return cached


def is_officer(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or OFFICER in _groups(user)))


def is_reader(user: User) -> bool:
    """Reads everything: officers and API readers."""
    return is_officer(user) or bool(user.is_authenticated and user.is_active and API_READER in _groups(user))


def managed_cluster_ids(user: User) -> set[int]:
    if not (user.is_authenticated and user.is_active):
        return set()
    cached: set[int] | None = user.__dict__.get("_clusterpact_clusters")
    if cached is None:
        links = getattr(user, "managed_clusters")  # noqa: B009 - the ClusterManager links (clusterpacts)
        cached = set(links.values_list("cluster_id", flat=True))
        user.__dict__["_clusterpact_clusters"] = cached
    return cached
