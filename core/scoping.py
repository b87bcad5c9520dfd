"""`for_user(user)`: the rows a user may see (STYLE.md rules 2 and 5), for every app's querysets."""

from __future__ import annotations

from typing import Self

from django.db import models

from core.roles import User, is_reader, managed_cluster_ids


class ScopedQuerySet(models.QuerySet):
    """Each model names the path to its cluster in `scope_path`; a cluster manager sees the rows of
    their own cluster(s) only, officers and API readers see everything, anyone else nothing.
    """

    def for_user(self, user: User) -> Self:
        if is_reader(user):
            return self.all()
        ids = managed_cluster_ids(user)
        if not ids:
            return self.none()
        path: str = getattr(self.model, "scope_path")  # noqa: B009 - a class attribute of each scoped model
        first = self.model._meta.get_field(path.split("__", 1)[0])
        if first.one_to_many or first.many_to_many:
            # Joined through a to-many relation, a row would come back once per match (an
            # organisation with two memberships): select the ids in a subquery instead.
            return self.filter(pk__in=self.model._base_manager.filter(**{f"{path}__in": ids}).values("pk"))
        return self.filter(**{f"{path}__in": ids})


class RoleScopedQuerySet(models.QuerySet):
    """For rows that belong to no cluster (the KPI catalogue, budget years): anyone with a role sees them."""

    def for_user(self, user: User) -> Self:
        if is_reader(user) or managed_cluster_ids(user):
            return self.all()
        return self.none()
