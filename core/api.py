"""What every app's REST API shares (STYLE.md rules 4 and 5): scoping, permissions, errors, ETags.

- Querysets, related-field choices and filter choices are scoped with `for_user()`, so an object
  outside a cluster manager's scope is a 404, never a row in a list and never a choice.
- Writes go through the same services as the admin and the portal; a broken rule is a 400 naming
  the field, with the same message, and nothing is saved.
- Detail responses carry an ETag; a PUT, PATCH or DELETE must send it back as If-Match: without it
  the answer is 428, with a stale one 412, and nothing changes (no lost update).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, models, transaction
from django.http import Http404
from django.utils.translation import gettext, gettext_lazy
from rest_framework import exceptions, permissions, serializers, status, viewsets
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.validators import UniqueValidator
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from core.filters import ScopedFilterSet
from core.inline import Inline, inline_fill, inline_relations
from core.roles import User, is_officer, managed_cluster_ids
from core.services import delete_service_for, entity_save, lock_row

# --- errors --------------------------------------------------------------------------------------


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Domain errors from the services become 400s shaped like DRF's own validation errors."""
    if isinstance(exc, DjangoValidationError):
        detail = as_serializer_error(exc)
        # A model's non-field error ("__all__") is named as DRF names its own: non_field_errors.
        if NON_FIELD_ERRORS in detail:
            detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop(NON_FIELD_ERRORS)
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, IntegrityError):
        # A concurrent write won the race for a unique row: say so instead of a 500.
        return Response(
            {"detail": gettext("This conflicts with a change made at the same time; reload and try again.")},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = gettext_lazy(
        "The object changed since you read it (If-Match does not match its ETag); reload it."
    )
    default_code = "precondition_failed"


class PreconditionRequired(exceptions.APIException):
    """A write without If-Match could overwrite a change the client never saw: it is refused."""

    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = gettext_lazy(
        "Send the ETag of a GET of this object as If-Match, so that a change made since is not overwritten."
    )
    default_code = "precondition_required"


# Dates the portal records lie within these years. The rules add up to 10 years to a date (terms, the
# cap, report due dates); a date near 9999 would run off the calendar and answer 500 instead of 400.
DATE_RANGE = [MinValueValidator(date(1900, 1, 1)), MaxValueValidator(date(2999, 12, 31))]


# --- pagination, scoped relations and filters ---------------------------------------------------


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    page_size_query_description = "Results per page: 50 unless asked, at most 500 (more is capped at 500)."


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key as an id, whose valid choices are what the requesting user may see."""

    def get_queryset(self) -> Any:
        queryset = super().get_queryset()
        request = self.context.get("request")
        scope = getattr(queryset, "for_user", None)
        return scope(request.user) if request is not None and scope is not None else queryset


# --- permissions ---------------------------------------------------------------------------------


def _manager_rule(view: APIView) -> Callable[[User, Any], bool] | None:
    """The app's rule for what a cluster manager may write through this viewset (`manager_may_write`)."""
    return getattr(view, "manager_may_write", None)


class RolePermission(permissions.BasePermission):
    """Reading: anyone logged in (rows are scoped). Writing: officers; cluster managers only on the
    viewsets that allow it (`manager_may_write`), only for objects they may write, and never delete.
    API readers never write. Anonymous requests are refused with 401 before anything else.

    A write to one object (update, delete, an action on it) is judged on the object, after it is
    looked up in the user's scope: outside it the answer is 404, never 403."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        if is_officer(user):
            return True
        if getattr(view, "detail", False):
            return True  # has_object_permission decides, once the object is found in scope
        return bool(_manager_rule(view) and request.method != "DELETE" and managed_cluster_ids(user))

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        if is_officer(request.user):
            return True
        may_write = _manager_rule(view)
        return bool(may_write and request.method != "DELETE" and may_write(request.user, obj))


class OfficerOnly(permissions.BasePermission):
    """Officers only. On one object, the object is looked up in the user's scope first (through
    `get_object()`), so that outside it the answer is 404, never 403."""

    message = "Only VLAIO officers may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return is_officer(user) or bool(getattr(view, "detail", False))

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return is_officer(request.user)


# --- viewsets ------------------------------------------------------------------------------------


def etag_of(data: Any) -> str:
    payload = json.dumps(data, cls=JSONEncoder, sort_keys=True, separators=(",", ":")).encode()
    return '"' + hashlib.sha256(payload).hexdigest()[:40] + '"'


class ListInQueries:
    """A list costs two queries, the count and the page, whatever it holds: to-many relations its rows show
    are read in the page query (`inlined`, see core/inline.py), and a filter's choice is checked without
    a query of its own (`ScopedFilterSet`). With the token check that is three per request."""

    # The prefetched relations of `queryset`, read in the page query of a list instead.
    inlined: tuple[Inline, ...] = ()
    deferred_filterset: ScopedFilterSet | None = None  # set by core.filters.FilterBackend

    def paginate_queryset(self, queryset: Any) -> list[Any] | None:
        if self.inlined:
            queryset = inline_relations(queryset, self.inlined)
        try:
            page = super().paginate_queryset(queryset)  # type: ignore[misc]
        except exceptions.NotFound:
            self._deferred_choices_check()  # a page past the end of a list filtered on nothing: the 400 first
            raise
        if not page:
            self._deferred_choices_check()
        if page and self.inlined:
            inline_fill(page, self.inlined)
        return page

    def _deferred_choices_check(self) -> None:
        if self.deferred_filterset is not None:
            self.deferred_filterset.deferred_choices_check()


class ScopedViewSet(ListInQueries, viewsets.ModelViewSet):
    """A model viewset over `Model.objects.for_user(user)`, with ETags on detail responses."""

    permission_classes = [RolePermission]
    pagination_class = Pagination
    # Set by the viewsets cluster managers may write through: (user, object) -> may they change it.
    manager_may_write: Callable[[User, Any], bool] | None = None
    queryset: Any  # a ScopedQuerySet (or RoleScopedQuerySet): it has for_user()
    # Any id up to the next slash reaches the view, which answers a JSON 404 for one that is not a
    # number (the router's default stops at a dot, leaving "/clusters/1.5/" to Django's HTML 404).
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> models.QuerySet:
        queryset = self.queryset.all().for_user(self.request.user)
        if self.request.method in ("PUT", "PATCH", "DELETE") and self.detail:
            # Lock the row for the read-compare-write of If-Match (no lost updates).
            if queryset.query.distinct or queryset.query.group_by is not None:
                # PostgreSQL locks no row of a DISTINCT or GROUP BY query (budget years with their
                # allocated total, a manager's allocations): lock the row by id, then read it in scope.
                self._lock_row(queryset.model)
            else:
                queryset = queryset.select_for_update(of=("self",))
        return queryset

    def _lock_row(self, model: type[models.Model]) -> None:
        pk = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        with contextlib.suppress(TypeError, ValueError, DjangoValidationError):  # not an id: get_object() 404s
            lock_row(model, pk)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().retrieve(request, *args, **kwargs)
        response["ETag"] = etag_of(response.data)
        return response

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            instance = self.get_object()
            self._check_if_match(request, instance)
            response = super().update(request, *args, **kwargs)
        response["ETag"] = etag_of(response.data)
        return response

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            instance = self.get_object()
            self._check_if_match(request, instance)
            try:
                self.perform_destroy(instance)
            except DjangoValidationError as error:  # a rule refusing the deletion: one "detail", as documented
                raise exceptions.ValidationError({"detail": " ".join(error.messages)}) from error
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _check_if_match(self, request: Request, instance: Any) -> None:
        # Called once the object is found in scope and the role may write it: 404 and 403 come first.
        header = request.headers.get("If-Match")
        if not header:
            raise PreconditionRequired()
        current = etag_of(self.get_serializer(instance).data)
        accepted = {tag.strip().removeprefix("W/") for tag in header.split(",")}
        if "*" not in accepted and current not in accepted:
            raise PreconditionFailed()

    def perform_destroy(self, instance: Any) -> None:
        # The model's delete service, as in the admin: its refusal is a 400 (see destroy()).
        delete_service_for(type(instance))(instance)


class ReadOnlyScopedViewSet(ListInQueries, viewsets.ReadOnlyModelViewSet):
    permission_classes = [RolePermission]
    pagination_class = Pagination
    queryset: Any  # a scoped queryset, as above
    lookup_value_regex = ScopedViewSet.lookup_value_regex

    def get_queryset(self) -> models.QuerySet:
        return self.queryset.all().for_user(self.request.user)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().retrieve(request, *args, **kwargs)
        response["ETag"] = etag_of(response.data)
        return response


def _without_unique_validators(field_kwargs: dict[str, Any]) -> dict[str, Any]:
    """Uniqueness is checked by the service (full_clean), with the message the admin shows."""
    if field_kwargs.get("validators"):
        field_kwargs["validators"] = [v for v in field_kwargs["validators"] if not isinstance(v, UniqueValidator)]
    return field_kwargs


def _fresh(value: Any) -> Any:
    """A new field made with the arguments `value` was made with, as DRF's `Field.__deepcopy__` does, except
    that querysets and managers are shared (a related field only ever reads `queryset.all()`): copying the
    query of each related field cost more than the rest of the field. A field among the arguments (the child
    of a many=True field or serializer) is made anew too, so nothing bound to another request is reused."""
    if isinstance(value, serializers.Field):
        args = [_fresh(item) for item in value._args]  # type: ignore[attr-defined]
        kwargs = {
            key: item if key in ("validators", "regex") else _fresh(item)
            for key, item in value._kwargs.items()  # type: ignore[attr-defined]
        }
        return type(value)(*args, **kwargs)
    if isinstance(value, models.QuerySet | models.Manager):
        return value
    return copy.deepcopy(value)


class DateTimeField(serializers.DateTimeField):
    """DRF's, asking for the active time zone once per field instead of once per value: each ask goes through
    Django's request-local storage (asgiref), and a list of 100 rows with two date-times asked 200 times. A
    serializer's fields are made for it, so for one request: the zone is that request's."""

    def default_timezone(self) -> Any:
        if "_zone" not in self.__dict__:
            self._zone = super().default_timezone()
        return self._zone


class ModelSerializer(serializers.ModelSerializer):
    """DRF's model serializer, its fields worked out once per class instead of once per serializer.

    DRF works them out from the model (kind, options, validators, choices, related querysets) each time a
    serializer is made, that is on every request: about 1.3 ms for a dozen fields. None of it depends on the
    request, so the fields are worked out the first time and each serializer gets fresh copies of them
    (`_fresh`), as DRF copies the fields a serializer declares. A serializer whose fields depend on the
    request changes them after `get_fields()` (on its copies), as with DRF's."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: DateTimeField,
    }

    def get_fields(self) -> dict[str, serializers.Field]:
        cls = type(self)
        template: dict[str, serializers.Field] | None = cls.__dict__.get("_fields_template")
        if template is None:  # not inherited: a subclass works out its own
            template = super().get_fields()
            cls._fields_template = template  # type: ignore[attr-defined]
        return {name: _fresh(field) for name, field in template.items()}

    @property
    def _readable_fields(self) -> list[serializers.Field]:
        # DRF walks the fields anew for every row it writes out (a generator over a view of a dict); a list's
        # rows share one serializer, so the readable fields are listed once for all of them.
        readable: list[serializers.Field] | None = self.__dict__.get("_readable")
        if readable is None:
            readable = self._readable = [field for field in self.fields.values() if not field.write_only]
        return readable


class ServiceSerializer(ModelSerializer):
    """A model serializer that saves through a service; the model's rules answer with 400s."""

    serializer_related_field = ScopedRelatedField

    def build_standard_field(self, field_name: str, model_field: Any) -> tuple[type, dict[str, Any]]:
        field_class, field_kwargs = super().build_standard_field(field_name, model_field)
        input_max_length = getattr(model_field, "input_max_length", None)
        if input_max_length:
            # Accept what the admin accepts ("BE 0123.456.749" for an enterprise number); the model stores less.
            field_kwargs["max_length"] = input_max_length
        if isinstance(model_field, models.DateField) and not isinstance(model_field, models.DateTimeField):
            field_kwargs["validators"] = [*field_kwargs.get("validators", []), *DATE_RANGE]
        return field_class, _without_unique_validators(field_kwargs)

    def build_relational_field(self, field_name: str, relation_info: Any) -> tuple[type, dict[str, Any]]:
        field_class, field_kwargs = super().build_relational_field(field_name, relation_info)
        return field_class, _without_unique_validators(field_kwargs)

    def save_instance(self, instance: Any) -> Any:
        return entity_save(instance=instance)

    def create(self, validated_data: dict[str, Any]) -> Any:
        many = {k: validated_data.pop(k) for k in list(validated_data) if self._is_many(k)}
        model: Any = self.Meta.model
        instance = (
            self.save_instance(model(**validated_data), **many)
            if many
            else self.save_instance(model(**validated_data))
        )
        return instance

    def update(self, instance: Any, validated_data: dict[str, Any]) -> Any:
        many = {k: validated_data.pop(k) for k in list(validated_data) if self._is_many(k)}
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return self.save_instance(instance, **many) if many else self.save_instance(instance)

    def _is_many(self, name: str) -> bool:
        field = self.fields.get(name)
        return isinstance(field, serializers.ManyRelatedField)
