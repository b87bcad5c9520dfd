"""Helpers for the funding tests (not collected: no test_ prefix)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model, UniqueConstraint
from django.utils.formats import date_format

from clusterpacts.models import Cluster
from funding.models import SupportAgreement
from funding.services import agreement_create, agreement_extend
from tests.factories import completed_interim

ONE_DAY = timedelta(days=1)
YEARLY = Decimal("500000.00")


def shown(day: date) -> str:
    """A date as the project prints it in messages."""
    return date_format(day, "SHORT_DATE_FORMAT")


def row_counts(*models: type[Model]) -> dict[str, int]:
    """Rows of each model and of its change history, to prove a refused write saved nothing."""
    counts = {}
    for model in models:
        counts[model._meta.label] = model._default_manager.count()
        history = getattr(model, "history", None)
        if history is not None:
            counts[f"{model._meta.label} history"] = history.count()
    return counts


@contextmanager
def refused(field: str, *fragments: str, models: tuple[type[Model], ...] = (SupportAgreement,)) -> Iterator[None]:
    """The block raises a ValidationError on `field` whose message holds every fragment, and saves nothing."""
    before = row_counts(*models)
    with pytest.raises(ValidationError) as caught:
        yield
    messages = caught.value.message_dict
    assert field in messages, f"expected an error on {field!r}, got {messages}"
    text = " ".join(messages[field])
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"
    assert row_counts(*models) == before


def make_chain(cluster: Cluster, terms: list[tuple[date, date]], prefix: str = "SO") -> list[SupportAgreement]:
    """A chain of agreements through the services, each extension after a completed interim evaluation."""
    first_start, first_end = terms[0]
    agreements = [
        agreement_create(
            cluster=cluster, reference=f"{prefix}-1", start_date=first_start, end_date=first_end, amount=YEARLY
        )
    ]
    for number, (start, end) in enumerate(terms[1:], start=2):
        predecessor = agreements[-1]
        assert start == predecessor.end_date + ONE_DAY
        completed_interim(cluster, predecessor.start_date + timedelta(days=400))
        agreements.append(
            agreement_extend(predecessor=predecessor, reference=f"{prefix}-{number}", end_date=end, amount=YEARLY)
        )
    return agreements


@contextmanager
def refused_by_the_database(model: type[Model], constraint: str) -> Iterator[None]:
    """The block, which bypasses the services, is refused by the database constraint named `constraint`."""
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        yield
    assert violated_constraint(caught.value, model) == constraint


def violated_constraint(error: IntegrityError, model: type[Model]) -> str:
    """The name of the constraint an IntegrityError reports, on PostgreSQL and on SQLite alike.

    PostgreSQL names it. SQLite names a CHECK constraint, but of a UNIQUE one only its columns: the name is
    then that of the model's unique constraint on those columns, or, for a unique field, the name
    PostgreSQL gives it (`<table>_<column>_key`).
    """
    diagnostics = getattr(error.__cause__, "diag", None)
    if diagnostics is not None:
        return diagnostics.constraint_name
    text = str(error)
    if text.startswith("CHECK constraint failed: "):
        return text.removeprefix("CHECK constraint failed: ")
    columns = {name.split(".")[-1] for name in text.removeprefix("UNIQUE constraint failed: ").split(", ")}
    meta = model._meta
    for constraint in meta.constraints:
        if (
            isinstance(constraint, UniqueConstraint)
            and {meta.get_field(f).column for f in constraint.fields} == columns
        ):
            return constraint.name
    [column] = columns
    return f"{meta.db_table}_{column}_key"
