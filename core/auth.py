"""Who is asking, in one query: the API token check and the session's user, each with the user's role.

knox's `TokenAuthentication` loads every token sharing the token's key prefix, then, for each, every
other token of the same user (to delete the expired ones), and the role is read afterwards: a user with
many tokens paid for all of them on every request, and the role cost a query or two more. Here the token
is looked up by its key prefix (indexed) with its user and the user's role in the same query, and only
that row's digest is compared, in constant time. Everything knox refuses is still refused: a token
whose digest does not match (a forged token, another user's prefix with a wrong secret), an expired
token (deleted, as knox does), a revoked one (its row is gone) and a token of an inactive user.
The expired tokens a user no longer presents are deleted when the user obtains a new one
(`tokens_expired_delete`), instead of on every request.

The query itself is the same on every request but for the key prefix, and turning it into SQL (the
token, its user and the role's two subqueries) cost about as much as running it: it is compiled once
per database connection (`_token_query`) and run with each request's key.
"""

from __future__ import annotations

import binascii
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from hmac import compare_digest
from typing import Any

from django.contrib.auth import backends, get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox import auth as knox_auth
from knox.crypto import hash_token
from knox.models import AuthToken, get_token_model
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework import exceptions

from core.roles import role_annotations, role_remember
from core.two_factor import device_annotations, device_remember


class TokenAuthentication(knox_auth.TokenAuthentication):
    """knox's token check (`Authorization: Token <token>`) in one indexed query, with the user and their role."""

    def authenticate_credentials(self, token: bytes) -> tuple[AbstractBaseUser, AuthToken]:
        try:
            text = token.decode("utf-8")
            digest = hash_token(text)
        except (UnicodeDecodeError, TypeError, binascii.Error):
            raise _refused() from None
        candidates = _tokens_by_key(text[: CONSTANTS.TOKEN_KEY_LENGTH])
        # Nearly always one row: the prefix is 15 random hex characters. Only the row whose digest matches
        # counts; the others are not looked at further (nor deleted).
        for auth_token in candidates:
            if not compare_digest(digest, auth_token.digest):
                continue
            if _expired(auth_token.expiry):
                username = auth_token.user.get_username()
                auth_token.delete()
                token_expired.send(sender=self.__class__, username=username, source="auth_token")
                raise _refused()
            if knox_settings.AUTO_REFRESH and auth_token.expiry:
                self.renew_token(auth_token)
            role_remember(auth_token.user, auth_token)
            return self.validate_user(auth_token)  # refuses an inactive user
        raise _refused()


def _refused() -> exceptions.AuthenticationFailed:
    # Made only when a token is refused: translating the message on every request cost more than hashing.
    return exceptions.AuthenticationFailed(_("Invalid token."))


# Built once per process (never evaluated: each request filters a copy); building the role's subqueries took
# about as long as running the query.


@cache
def _tokens_with_role() -> QuerySet[AuthToken]:
    return get_token_model().objects.select_related("user").annotate(**role_annotations("user"))


# Stands for the presented key in the query compiled once (`_token_query`); no key has it.
_KEY = "\x00key\x00"


@dataclass(frozen=True)
class _TokenQuery:
    """`_tokens_with_role()` filtered on a key prefix, compiled for one connection: its SQL and parameters
    (the key's among them at `key_at`), and how a row becomes a token with its user, as Django's own
    `ModelIterable` makes it (`from_db`, the select_related user, the annotations)."""

    compiler: SQLCompiler
    sql: str
    params: tuple[Any, ...]
    key_at: int
    fields: tuple[int, int]  # the token's columns: row[start:end]
    init_list: tuple[str, ...]
    populators: tuple[Any, ...]
    annotations: tuple[tuple[str, int], ...]


_token_queries: weakref.WeakKeyDictionary[BaseDatabaseWrapper, _TokenQuery] = weakref.WeakKeyDictionary()


def _token_query(alias: str) -> _TokenQuery:
    # Per connection object (each thread has its own): the compiler's converters are bound to the connection.
    connection = connections[alias]
    prepared = _token_queries.get(connection)
    if prepared is None:
        compiler = _tokens_with_role().using(alias).filter(token_key=_KEY).query.get_compiler(alias)
        sql, params = compiler.as_sql()
        klass_info = compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        prepared = _token_queries[connection] = _TokenQuery(
            compiler=compiler,
            sql=sql,
            params=tuple(params),
            key_at=list(params).index(_KEY),
            fields=(start, end),
            init_list=tuple(column[0].target.attname for column in compiler.select[start:end]),
            populators=tuple(get_related_populators(klass_info, compiler.select, alias)),
            annotations=tuple(compiler.annotation_col_map.items()),
        )
    return prepared


def _tokens_by_key(key: str) -> Iterator[AuthToken]:
    """`_tokens_with_role().filter(token_key=key)`, without compiling the query again."""
    model = get_token_model()
    alias = router.db_for_read(model)
    query = _token_query(alias)
    params = list(query.params)
    params[query.key_at] = key
    with connections[alias].cursor() as cursor:
        cursor.execute(query.sql, params)
        rows = cursor.fetchall()
    start, end = query.fields
    for row in query.compiler.results_iter(results=[rows]):
        token = model.from_db(alias, query.init_list, row[start:end])
        for populator in query.populators:
            populator.populate(row, token)
        for name, position in query.annotations:
            setattr(token, name, row[position])
        yield token


@cache
def _users_with_role() -> QuerySet[Any]:
    return get_user_model()._default_manager.annotate(**role_annotations("pk"), **device_annotations("pk"))


def _expired(expiry: datetime | None) -> bool:
    return expiry is not None and expiry < timezone.now()


def tokens_expired_delete(*, user: AbstractBaseUser) -> int:
    """Delete the user's expired tokens (knox did it on every request; here when a new token is obtained)."""
    deleted, _by_model = get_token_model().objects.filter(user=user, expiry__lt=timezone.now()).delete()
    return deleted


class ModelBackend(backends.ModelBackend):
    """Django's backend, loading the session's user with their role and whether they have a confirmed
    second-factor device, in the one query that loads the user."""

    def get_user(self, user_id: Any) -> Any:
        try:
            user = _users_with_role().get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        role_remember(user, user)
        device_remember(user, user)
        return user if self.user_can_authenticate(user) else None
