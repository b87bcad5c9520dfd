"""The API lists' filters (django-filter): choices scoped to the user, checked without a query where the
request already knows the answer. Apart from `core.api` because DRF reads `DEFAULT_FILTER_BACKENDS` while
`core.api` is being imported; `core.api` names these for the apps."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache, lru_cache, partial
from typing import Any, TypeVar, cast

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django_filters.fields import ModelChoiceField
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions
from rest_framework.request import Request

from core.roles import is_reader, managed_cluster_ids


def _scoped_choices(queryset: models.QuerySet, request: Any) -> models.QuerySet:
    if request is None or not hasattr(queryset, "for_user"):
        return queryset.none()
    return queryset.for_user(request.user)


class ScopedChoiceField(ModelChoiceField):
    """A model-choice filter's field that asks `choice_check(model, pk)` before looking the choice up:
    True or False when it is known without a query, None when the query must say."""

    def __init__(self, *args: Any, choice_check: Callable[[Any, Any], bool | None], **kwargs: Any) -> None:
        self.choice_check = choice_check
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values or (self.null_label is not None and value == self.null_value):
            return super().to_python(value)
        model = self.queryset.model
        try:
            pk = model._meta.pk.to_python(value)
            model._meta.pk.run_validators(pk)  # within the database's integers, else no lookup could take it
        except DjangoValidationError:
            pk = None
        known = None if pk is None else self.choice_check(model, pk)
        if known is None:
            return super().to_python(value)
        if not known:
            raise DjangoValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
            )
        # The choice's id is all a filter uses: an instance holding only it (any other field would be a query).
        return model.from_db(self.queryset.db, [model._meta.pk.attname], [pk])


class ScopedFilterSet(django_filters.FilterSet):
    """A FilterSet whose model-choice filters offer only what the user may see.

    A choice outside the user's scope (or one that does not exist) is refused with a 400, as a choice the
    form does not offer. Checking it costs a query, except where the request already knows the answer: a
    cluster manager's own clusters come with the role (`core.roles`); and for an officer or API reader,
    who may choose anything that exists, a list whose rows name the choice proves it exists. So for them
    the check waits (`defer_choice_checks`, set by `FilterBackend` for API lists) until the list turns out
    empty, and only then costs its query (`deferred_choices_check`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.defer_choice_checks = False
        self.deferred_choices: list[tuple[str, Any, Any, str]] = []  # (filter, model, id, message)
        for name, flt in self.filters.items():
            if isinstance(flt, django_filters.ModelChoiceFilter | django_filters.ModelMultipleChoiceFilter):
                base = flt.queryset
                if base is not None and not callable(base):
                    flt.queryset = partial(_scoped_choices, base)
                    if isinstance(flt, django_filters.ModelChoiceFilter) and not base.query.has_filters():
                        flt.field_class = ScopedChoiceField
                        flt.extra["choice_check"] = partial(self._choice_check, name)

    def _choice_check(self, name: str, model: Any, pk: Any) -> bool | None:
        """Whether the user may choose `pk` among `model.objects.for_user(user)`, when known without a query."""
        user = getattr(self.request, "user", None)
        if user is None:
            return None
        if is_reader(user):  # every row is theirs: the choice only has to exist
            if not self.defer_choice_checks:
                return None
            message = str(self.filters[name].field.error_messages["invalid_choice"])
            self.deferred_choices.append((name, model, pk, message))
            return True
        if getattr(model, "scope_path", None) == "id":  # a cluster: theirs are those of their role
            return pk in managed_cluster_ids(user)
        return None

    def deferred_choices_check(self) -> None:
        """Refuse, as `is_valid()` would have, a deferred choice that does not exist (a query each)."""
        errors = {
            name: [exceptions.ErrorDetail(message, code="invalid_choice")]
            for name, model, pk, message in self.deferred_choices
            if not model._default_manager.filter(pk=pk).exists()
        }
        if errors:
            raise exceptions.ValidationError(errors)


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend; on a list, an officer's or API reader's choice is checked only if the list
    is empty (see `ScopedFilterSet`), by the viewset's `paginate_queryset`.

    Building a filterset (a copy of every filter, a form class, a form field per filter with its scoped
    choices) cost about 2 ms a request, most of it for filters the request does not name, which filter on
    nothing. So for a filterset that provably answers the queryset as it is when no parameter names a filter
    (`_filters_nothing_when_empty`), a request that names none (every detail, a list filtered on nothing)
    skips it, and one that names some gets a filterset of those filters only (`_only`): the same checks,
    the same 400s, the same query."""

    def filter_queryset(self, request: Request, queryset: Any, view: Any) -> Any:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        if _filters_nothing_when_empty(filterset_class):
            named = frozenset(named_filters(filterset_class, request.query_params))
            if not named:
                return queryset
            filterset_class = _only(filterset_class, named)
        filterset = filterset_class(**self.get_filterset_kwargs(request, queryset, view))
        if isinstance(filterset, ScopedFilterSet) and getattr(view, "action", None) == "list":
            filterset.defer_choice_checks = True
            view.deferred_filterset = filterset
        if not filterset.is_valid() and self.raise_exception:
            raise django_filters.utils.translate_validation(filterset.errors)
        return filterset.qs

    def get_filterset_class(self, view: Any, queryset: Any = None) -> Any:
        # django-filter builds a new FilterSet class from `filterset_fields` on every request; once is enough.
        if getattr(view, "filterset_class", None) or not getattr(view, "filterset_fields", None) or queryset is None:
            return super().get_filterset_class(view, queryset)
        key = (type(view), queryset.model)
        built = _AUTO_FILTERSETS.get(key)
        if built is None:
            built = _AUTO_FILTERSETS[key] = super().get_filterset_class(view, queryset)
        return built


FilterSetT = TypeVar("FilterSetT", bound=django_filters.FilterSet)
_AUTO_FILTERSETS: dict[tuple[type, type[models.Model]], Any] = {}


def named_filters(filterset_class: type[django_filters.FilterSet], params: Iterable[str]) -> set[str]:
    """The filters whose form field may read one of the parameters. A field reads its filter's name, or that
    name with a suffix (a range's `_min`/`_max`, `_after`/`_before`, a lookup's `_lookup`): a filter counts
    when a parameter starts with its name (more than needed, never less)."""
    params = tuple(params)
    return {name for name in filterset_class.base_filters if any(param.startswith(name) for param in params)}


@lru_cache(maxsize=512)
def _only(filterset_class: type[FilterSetT], names: frozenset[str]) -> type[FilterSetT]:
    """`filterset_class` with only the filters `names` (the others would filter on nothing)."""
    only = cast(
        type[FilterSetT],
        type(filterset_class.__name__, (filterset_class,), {"__module__": filterset_class.__module__}),
    )
    only.base_filters = {name: flt for name, flt in filterset_class.base_filters.items() if name in names}
    return only


_FILTERSET_PARTS = ("filter_queryset", "qs", "form", "get_form_class", "is_valid", "errors")
# django-filter's own FilterSets (the REST one, that `filterset_fields` builds on, adds a crispy-forms helper
# to the form and nothing else).
_STOCK_FILTERSETS = (django_filters.FilterSet, django_filters.rest_framework.FilterSet)


@cache
def _filters_nothing_when_empty(filterset_class: type[django_filters.FilterSet]) -> bool:
    """Whether, with no parameter for any filter, the filterset is valid and answers the queryset unfiltered:
    no filter is required, each filter is one of django-filter's own (they let an empty value through) or a
    `method=` filter (django-filter calls the method only with a value), and neither the form nor the
    filterset's own steps are replaced. Anything else goes through the filterset, as before."""
    if filterset_class._meta.form is not forms.Form:
        return False
    for part in _FILTERSET_PARTS:
        if getattr(filterset_class, part) not in {getattr(stock, part) for stock in _STOCK_FILTERSETS}:
            return False
    for flt in filterset_class.base_filters.values():
        if flt.extra.get("required"):
            return False
        if flt.method is None and type(flt).filter.__module__ != django_filters.filters.__name__:
            return False
    return True
