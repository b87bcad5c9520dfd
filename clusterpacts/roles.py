"""Who may see what. The three groups are created by a migration (0002_roles).

A VLAIO officer and an API reader see every cluster; a cluster manager sees only the
clusters they are linked to through ClusterManager; anyone else sees nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser

OFFICER = "VLAIO officer"
CLUSTER_MANAGER = "Cluster manager"
API_READER = "API reader"
ROLES = (OFFICER, CLUSTER_MANAGER, API_READER)


def _groups(user: Any) -> set[str]:
    # Cached on the user object so one request costs one query, however many checks it makes.
    cached = getattr(user, "_clusterpact_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True)) if user.is_authenticated else set()
        user._clusterpact_groups = cached
    return cached


def is_officer(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or OFFICER in _groups(user)))


def is_reader(user: Any) -> bool:
    """Reads everything: officers and API readers."""
    return is_officer(user) or bool(user.is_authenticated and user.is_active and API_READER in _groups(user))


def managed_cluster_ids(user: Any) -> set[int]:
    if not (user.is_authenticated and user.is_active):
        return set()
    cached = getattr(user, "_clusterpact_clusters", None)
    if cached is None:
        from clusterpacts.models import ClusterManager

        cached = set(ClusterManager.objects.filter(user=user).values_list("cluster_id", flat=True))
        user._clusterpact_clusters = cached
    return cached
