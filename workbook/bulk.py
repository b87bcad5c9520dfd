"""Many rows of plain values into empty tables, fast: PostgreSQL's COPY, or one `executemany` INSERT per batch
on another database (SQLite). For a bulk load that keeps the portal's rules by construction (`workbook.scale`):
no model instances, no `save()`, no signals, so no history rows either.

The primary keys are handed out here, counting from 1 (the tables are empty), so that children name their
parents before anything is written and the same load gives the same keys; `reset_sequences` moves the
database's sequences past them afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from io import StringIO
from operator import itemgetter
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models


class Table:
    """The rows of one model to write, as plain values by field (`attname`: `cluster_id`, not `cluster`)."""

    def __init__(self, model: type[models.Model], *, batch_size: int) -> None:
        self.model = model
        self.batch_size = batch_size
        self.fields = list(model._meta.concrete_fields)
        self.names = [field.attname for field in self.fields]
        self.known = frozenset(self.names)
        self.pk = model._meta.pk.attname if model._meta.pk else "id"
        # A field left out takes its default; one whose default is computed (a time: now) must be given.
        self.defaults = {
            field.attname: field.get_default()
            for field in self.fields
            if not (field.has_default() and callable(field.default))
        }
        self.row_of = itemgetter(*self.names)
        self.rows: list[tuple[Any, ...]] = []
        self.count = 0

    def add(self, **values: Any) -> int:
        """Queue one row; returns its primary key."""
        self.count += 1
        merged = {**self.defaults, **values, self.pk: self.count}
        if len(merged) != len(self.names):
            unknown = sorted(values.keys() - self.known)
            raise TypeError(f"{self.model.__name__} has no field {', '.join(unknown)}")
        self.rows.append(self.row_of(merged))  # a required field left out: KeyError
        if len(self.rows) >= self.batch_size:
            self.flush()
        return self.count

    def flush(self) -> None:
        if not self.rows:
            return
        if connection.vendor == "postgresql":
            self._copy()
        else:
            self._insert()
        self.rows = []

    def _copy(self) -> None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in self.fields)
        sql = f"COPY {quote(self.model._meta.db_table)} ({columns}) FROM STDIN"
        texts = [_copy_text_of(field) for field in self.fields]
        payload = "".join(
            "\t".join([text(value) for text, value in zip(texts, row, strict=True)]) + "\n" for row in self.rows
        )
        with connection.cursor() as cursor:
            raw = cursor.cursor
            if hasattr(raw, "copy_expert"):  # psycopg2
                raw.copy_expert(sql, StringIO(payload))
            else:  # psycopg 3
                with raw.copy(sql) as copy:
                    copy.write(payload)

    def _insert(self) -> None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        sql = f"INSERT INTO {quote(self.model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608 - names quoted, values bound
        fields = self.fields
        prepared = [
            [field.get_db_prep_save(value, connection) for field, value in zip(fields, row, strict=True)]
            for row in self.rows
        ]
        with connection.cursor() as cursor:
            cursor.executemany(sql, prepared)


def _copy_text_of(field: models.Field) -> Callable[[Any], str]:
    """How COPY's text format writes a value of `field` (NULL as \\N)."""
    if isinstance(field, models.BooleanField):
        return lambda value: "\\N" if value is None else ("t" if value else "f")
    if isinstance(field, models.CharField | models.TextField):
        return _escaped
    if isinstance(field, models.DecimalField):
        return lambda value: "\\N" if value is None else format(value, "f")
    if isinstance(field, models.DateField):  # and DateTimeField: an aware time keeps its offset
        return lambda value: "\\N" if value is None else value.isoformat()
    return lambda value: "\\N" if value is None else str(value)


def _escaped(value: str | None) -> str:
    if value is None:
        return "\\N"
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return str(value)  # a TextChoices member as its value


def reset_sequences(models_written: Iterable[type[models.Model]]) -> None:
    """Move each table's key sequence past the keys handed out (SQLite's AUTOINCREMENT follows by itself)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(models_written))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
