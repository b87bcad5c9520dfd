"""Reads on a replica (core/replica.py): off without one; with one, only the safe requests of the read-only
parts read from it, and never the accounts, sessions or tokens."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.test import RequestFactory
from knox.models import AuthToken

from clusterpacts.models import Cluster
from core.replica import REPLICA, ReplicaReadsMiddleware, ReplicaRouter, replica_reads

ROUTER = ReplicaRouter()


@pytest.fixture
def with_replica(settings):
    settings.DATABASES = {**settings.DATABASES, REPLICA: {**settings.DATABASES["default"]}}


def read_from(method: str, path: str, model=Cluster) -> str | None:
    """Where `model` is read from while the middleware serves `method path`."""
    seen: list[str | None] = []

    def view(request):
        seen.append(ROUTER.db_for_read(model))
        return HttpResponse()

    ReplicaReadsMiddleware(view)(getattr(RequestFactory(), method.lower())(path))
    return seen[0]


def test_without_a_replica_everything_reads_from_the_primary():
    assert read_from("GET", "/api/v1/clusters/") is None
    with replica_reads():
        assert ROUTER.db_for_read(Cluster) is None


@pytest.mark.parametrize("path", ["/api/v1/clusters/", "/insights/briefing/"])
def test_with_a_replica_the_safe_requests_of_the_read_only_parts_read_from_it(with_replica, path):
    assert read_from("GET", path) == REPLICA
    assert read_from("HEAD", path) == REPLICA


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/v1/clusters/"), ("PATCH", "/api/v1/clusters/1/"), ("GET", "/admin/"), ("GET", "/import/")],
)
def test_writes_and_the_other_pages_read_from_the_primary(with_replica, method, path):
    assert read_from(method, path) is None


@pytest.mark.parametrize("model", [get_user_model(), AuthToken])
def test_accounts_and_tokens_are_always_read_from_the_primary(with_replica, model):
    assert read_from("GET", "/api/v1/clusters/", model) is None


def test_writes_always_go_to_the_primary_and_the_replica_is_never_migrated(with_replica):
    with replica_reads():
        assert ROUTER.db_for_write(Cluster) is None
    assert ROUTER.allow_migrate(REPLICA, "clusterpacts") is False
    assert ROUTER.allow_migrate("default", "clusterpacts") is True
