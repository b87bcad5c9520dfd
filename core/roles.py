"""Who may see what. The three groups are created by a migration (clusterpacts 0002_roles).

A VLAIO officer and an API reader see every cluster; a cluster manager sees only the clusters they
are linked to (the `managed_clusters` links of the user, see `clusterpacts.models.ClusterManager`);
anyone else sees nothing. This module imports no app, so every app (and `core`) may use it.

What a user's role needs (their groups' names, their clusters' ids) is read once per request and kept
on the user object. Where the user is loaded (the token check, the session's user) it comes in the
same query (`role_annotations`, `role_remember`), so the role costs no query of its own.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.db.models import Model, OuterRef

from core.inline import JsonList, parse_json_list

# Whoever is asking: a logged-in user or Django's anonymous one (request.user).
User: TypeAlias = AbstractUser | AnonymousUser

OFFICER = "VLAIO officer"
CLUSTER_MANAGER = "Cluster manager"
API_READER = "API reader"
ROLES = (OFFICER, CLUSTER_MANAGER, API_READER)

# Where the role is kept on the user object, and the columns that bring it with the user.
_GROUPS = "_clusterpact_groups"
_CLUSTERS = "_clusterpact_clusters"
GROUPS_COLUMN = "role_groups"
CLUSTERS_COLUMN = "role_clusters"


def role_annotations(user: str) -> dict[str, JsonList]:
    """Columns that read the role of the user whose id is at `user` in the outer query ("pk" in a query of
    users, "user" in a query of tokens): the names of their groups, the ids of the clusters they manage."""
    user_model = get_user_model()
    memberships = user_model.groups.through.objects.filter(user=OuterRef(user)).order_by("group_id")
    links = user_model._meta.get_field("managed_clusters").related_model  # ClusterManager (clusterpacts)
    managed = links._base_manager.filter(user=OuterRef(user)).order_by("cluster_id")  # type: ignore[union-attr]
    return {GROUPS_COLUMN: JsonList(memberships, "group__name"), CLUSTERS_COLUMN: JsonList(managed, "cluster_id")}


def role_remember(user: Model, row: Any) -> None:
    """Keep on `user` the role read by `role_annotations` into `row` (the user itself, or its token)."""
    setattr(user, _GROUPS, set(parse_json_list(row.__dict__.pop(GROUPS_COLUMN))))
    setattr(user, _CLUSTERS, set(parse_json_list(row.__dict__.pop(CLUSTERS_COLUMN))))


# The cache is read and written with getattr/setattr, not through __dict__: request.user is often Django's
# lazy wrapper around the user, whose own __dict__ is not the user's.


def _groups(user: User) -> set[str]:
    # Cached on the user object so one request costs at most one query, however many checks it makes.
    cached: set[str] | None = getattr(user, _GROUPS, None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True)) if user.is_authenticated else set()
        setattr(user, _GROUPS, cached)
    return cached


def is_officer(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or OFFICER in _groups(user)))


def is_reader(user: User) -> bool:
    """Reads everything: officers and API readers."""
    return is_officer(user) or bool(user.is_authenticated and user.is_active and API_READER in _groups(user))


def managed_cluster_ids(user: User) -> set[int]:
    if not (user.is_authenticated and user.is_active):
        return set()
    cached: set[int] | None = getattr(user, _CLUSTERS, None)
    if cached is None:
        links = getattr(user, "managed_clusters")  # noqa: B009 - the ClusterManager links (clusterpacts)
        cached = set(links.values_list("cluster_id", flat=True))
        setattr(user, _CLUSTERS, cached)
    return cached
