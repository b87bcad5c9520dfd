"""To-many rows read inside the query of their parent, as a JSON list, instead of one more query.

A list of evaluations with their findings costs the page query and a prefetch of the findings; read as a
JSON list in a column of the page query, the findings cost nothing more. `JsonList` is that column (a
correlated subquery, in SQLite and PostgreSQL alike); `Inline` names a relation read that way, and
`inline_relations` / `inline_fill` put it in the query and, once the rows are read, into each row's
prefetch cache, so that serializers and templates read `evaluation.findings.all()` as after a
`prefetch_related`. The same column carries a user's role in the query that loads the user
(`core.roles.role_annotations`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models, router
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import JSONObject


class JsonList(Subquery):
    """The values of one expression over the rows of `queryset`, in its order, as a JSON list (text).

    `queryset` may refer to the outer query with `OuterRef`. An empty set of rows is `[]`, never NULL.
    """

    output_field = models.TextField()
    # SQLite: json() keeps an object an object when it comes out of the inner query (not a quoted string).
    template = "(SELECT COALESCE(JSON_GROUP_ARRAY(%(item)s), '[]') FROM (%(subquery)s) AS \"json_rows\")"

    def __init__(self, queryset: models.QuerySet, value: str | models.Expression) -> None:
        expression = F(value) if isinstance(value, str) else value
        self.ordering = tuple(queryset.query.order_by)
        self.objects = isinstance(expression, JSONObject)
        super().__init__(queryset.values(json_item=expression))

    def resolve_expression(self, *args: Any, **kwargs: Any) -> JsonList:
        resolved: JsonList = super().resolve_expression(*args, **kwargs)
        # Django drops the ORDER BY of a subquery that is not sliced; here the order is the list's order.
        if self.ordering:
            resolved.query.add_ordering(*self.ordering)
        return resolved

    def as_sql(self, compiler: Any, connection: Any, template: str | None = None, **extra: Any) -> Any:
        item = 'JSON("json_rows"."json_item")' if self.objects else '"json_rows"."json_item"'
        return super().as_sql(compiler, connection, template=template, item=item, **extra)  # type: ignore[call-arg]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # ARRAY(subquery) keeps the subquery's order; as text, so that every backend hands back a string.
        template = "ARRAY_TO_JSON(ARRAY(%(subquery)s))::text"
        return super().as_sql(compiler, connection, template=template, **extra)  # type: ignore[call-arg]


def parse_json_list(value: str | None) -> list[Any]:
    return json.loads(value) if value else []


@dataclass(frozen=True)
class Inline:
    """A to-many relation of a list's rows (reverse foreign key or many-to-many), read in the page query.

    `fields` are the related rows' fields by attribute name (`organisation_id`), and a field of a to-one
    relation of theirs as `organisation__name` (with `organisation_id` among the fields): exactly what the
    serializer reads. Any other field of the related rows is deferred, as with `only()`: reading one would
    cost a query. `order_by` is the related rows' order (that of their prefetch).
    Decimals, floats and datetimes are refused: JSON would carry a decimal as a float, and a datetime as text
    whose time zone differs between the databases.
    """

    relation: str
    fields: tuple[str, ...]
    order_by: tuple[str, ...] = ("pk",)

    @property
    def column(self) -> str:
        return f"inline_{self.relation}"


def inline_relations(queryset: models.QuerySet, inlines: Sequence[Inline]) -> models.QuerySet:
    """`queryset` with each relation as a JSON column, in place of its prefetch."""
    lookups = queryset._prefetch_related_lookups  # type: ignore[attr-defined]
    prefetched = {getattr(lookup, "prefetch_through", lookup) for lookup in lookups}
    missing = prefetched - {inline.relation for inline in inlines}
    if missing:
        # Clearing the prefetches below would leave these to a query per row.
        raise ImproperlyConfigured(f"Prefetched but not inlined: {', '.join(sorted(missing))}")
    model = queryset.model
    columns = {}
    for inline in inlines:
        related, back = _relation(model, inline.relation)
        _check_fields(related, inline)
        rows = related._base_manager.filter(**{back: OuterRef("pk")}).order_by(*inline.order_by)
        columns[inline.column] = JsonList(rows, JSONObject(**{name: F(name) for name in inline.fields}))
    return queryset.prefetch_related(None).annotate(**columns)


def inline_fill(objects: Iterable[models.Model], inlines: Sequence[Inline]) -> None:
    """Put each row's inlined relations in its prefetch cache, as `prefetch_related` would have."""
    for obj in objects:
        cache = obj.__dict__.setdefault("_prefetched_objects_cache", {})
        for inline in inlines:
            manager = getattr(obj, inline.relation)
            related = manager.model
            rows = [_instance(related, row) for row in parse_json_list(obj.__dict__.pop(inline.column, None))]
            queryset = manager.get_queryset()
            queryset._result_cache = rows
            queryset._prefetch_done = True
            # The name each kind of related manager looks its prefetched rows up by.
            name = getattr(manager, "prefetch_cache_name", None) or manager.field.remote_field.cache_name
            cache[name] = queryset


def _relation(model: type[models.Model], name: str) -> tuple[type[models.Model], str]:
    """The related model of the to-many relation `name`, and its lookup back to `model`."""
    field: Any = model._meta.get_field(name)
    related: type[models.Model] = field.related_model
    if field.one_to_many:  # a reverse foreign key: the related rows' foreign key
        return related, field.field.name
    if field.many_to_many and not field.auto_created:  # a many-to-many field of `model`
        return related, field.related_query_name()
    raise ImproperlyConfigured(f"{model.__name__}.{name} is not a to-many relation that can be inlined")


UNFAITHFUL = (models.DecimalField, models.FloatField, models.DateTimeField)


def _check_fields(model: type[models.Model], inline: Inline) -> None:
    for name in inline.fields:
        owner, _sep, own = name.rpartition("__")
        target: Any = model._meta.get_field(owner).related_model if owner else model
        if isinstance(target._meta.get_field(own), UNFAITHFUL):
            raise ImproperlyConfigured(f"{inline.relation}: {name} would not come back from JSON as it is")


def _instance(model: type[models.Model], row: dict[str, Any]) -> models.Model:
    """A model instance from the JSON of one row: its own fields, and one level of to-one relations."""
    own = {name: value for name, value in row.items() if "__" not in name}
    nested: dict[str, dict[str, Any]] = {}
    for name, value in row.items():
        if "__" in name:
            relation, field = name.split("__", 1)
            nested.setdefault(relation, {})[field] = value
    fields = [field for field in model._meta.concrete_fields if field.attname in own]
    instance = model.from_db(
        router.db_for_read(model),
        [field.attname for field in fields],
        [field.to_python(own[field.attname]) for field in fields],
    )
    for relation, values in nested.items():
        forward = model._meta.get_field(relation)
        related = forward.related_model
        values.setdefault(related._meta.pk.attname, own[forward.attname])  # type: ignore[union-attr]
        setattr(instance, relation, _instance(related, values))  # type: ignore[arg-type]
    return instance
