"""One access helper per object type (STYLE.md rule 5), shared by the admin, API and portal.

Outside a user's scope an object does not exist for them (Http404, never 403, so an id cannot
be probed); inside the scope but read-only, PermissionDenied (403).

Who may write: VLAIO officers everything; cluster managers only their own cluster's annual
plans and reports, and only while these are drafts or returned; API readers nothing.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import models
from django.http import Http404

from clusterpacts.models import (
    EDITABLE_STATES,
    AnnualPlan,
    AnnualReport,
    Cluster,
    KpiTarget,
    KpiValue,
    ReportAttachment,
)
from core.roles import is_officer, managed_cluster_ids

M = TypeVar("M", bound=models.Model)


def can_write(user: Any, obj: models.Model) -> bool:
    """Whether `user` may change `obj` (which must already be in their scope)."""
    if is_officer(user):
        return True
    document: Any = None
    if isinstance(obj, AnnualPlan | AnnualReport):
        document = obj
    elif isinstance(obj, KpiTarget):
        document = obj.plan
    elif isinstance(obj, KpiValue | ReportAttachment):
        document = obj.report
    return (
        document is not None
        and document.cluster_id in managed_cluster_ids(user)
        and document.status in EDITABLE_STATES
    )


def get_for_user(model: type[M], user: Any, pk: Any, *, write: bool = False) -> M:
    """The object `pk` of `model` as `user` may see it: 404 outside their scope, 403 if read-only."""
    try:
        obj = model.objects.for_user(user).get(pk=pk)  # type: ignore[attr-defined]
    except (ObjectDoesNotExist, ValueError, TypeError) as error:
        raise Http404 from error
    if write and not can_write(user, obj):
        raise PermissionDenied
    return obj


def get_cluster_by_slug_for_user(user: Any, slug: str) -> Cluster:
    """The cluster with this slug, if the user may see it; otherwise 404 (the portal's addresses use slugs)."""
    cluster = Cluster.objects.for_user(user).filter(slug=slug).first()
    if cluster is None:
        raise Http404
    return cluster


def can_write_cluster_documents(user: Any, cluster: Cluster) -> bool:
    """Officers, and the cluster's own managers, may draft its plans and reports."""
    return is_officer(user) or cluster.pk in managed_cluster_ids(user)
