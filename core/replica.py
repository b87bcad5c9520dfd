"""Reads on a PostgreSQL replica, for a programme beyond one database server (docs/PERFORMANCE.md, "Beyond one
machine"). Off unless the settings name a replica (`DATABASE_REPLICA_URL`): then the safe requests of the
read-only parts of the portal (`REPLICA_READ_PATHS`: the API's GETs, the insights pages, the briefing) read
from it, and everything else, every write and every read inside a write, from the primary.

The accounts, sessions, tokens and second factors are always read from the primary: a token or a session
created a moment ago must work on the next request, whatever the replica's lag.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Apps whose rows must be read where they were just written.
PRIMARY_ONLY_APPS = frozenset({"auth", "sessions", "knox", "otp_totp", "otp_static", "axes", "core"})

_reading = ContextVar("replica_reads", default=False)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Within the block, reads may go to the replica (when there is one)."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


class ReplicaRouter:
    """`DATABASE_ROUTERS` entry the settings add with a replica: reads inside `replica_reads` go to it."""

    def db_for_read(self, model: type[models.Model], **hints: Any) -> str | None:
        if _reading.get() and replica_configured() and model._meta.app_label not in PRIMARY_ONLY_APPS:
            return REPLICA
        return None

    def db_for_write(self, model: type[models.Model], **hints: Any) -> str | None:
        return None  # always the primary

    def allow_relation(self, obj1: models.Model, obj2: models.Model, **hints: Any) -> bool:
        return True  # the replica holds the primary's rows

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA  # the replica follows the primary's schema through replication


class ReplicaReadsMiddleware:
    """A safe request to a read-only part of the portal reads from the replica; without one, nothing changes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        paths: tuple[str, ...] = tuple(getattr(settings, "REPLICA_READ_PATHS", ()))
        if request.method in SAFE_METHODS and paths and request.path.startswith(paths) and replica_configured():
            with replica_reads():
                return self.get_response(request)
        return self.get_response(request)
