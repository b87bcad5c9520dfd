"""The one generic write (STYLE.md rule 1): what every app's services do for a row with no rule of
its own beyond its model's `clean()` and constraints."""

from __future__ import annotations

from typing import TypeVar

from django.db import models, transaction

M = TypeVar("M", bound=models.Model)


@transaction.atomic
def entity_save(*, instance: M, **changes: object) -> M:
    """Create or update a row that has no workflow of its own: validate everything, then save."""
    for name, value in changes.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save()
    return instance
