"""The generic writes (STYLE.md rule 1): what every app's services do for a row with no rule of its own
beyond its model's `clean()`, constraints and foreign keys; and the one way any row is deleted.

Deleting has one path per model. A model whose deletion follows a rule (an accepted annual report
stays on the record) registers its service with `@deletes(Model, keyword=...)` in its app's
`services` module; every other model is deleted by `entity_delete`. The admin (a single delete, the
bulk action, an inline row marked for deletion) and the API's DELETE all ask `delete_service_for()`,
so they apply the same rule and show the same message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib import import_module
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.module_loading import module_has_submodule
from django.utils.translation import gettext_lazy

from core.models import UserPreference

M = TypeVar("M", bound=models.Model)
Service = TypeVar("Service", bound=Callable[..., None])
DeleteService = Callable[[models.Model], None]

# What a deletion refused by a protected foreign key says, on every path (the admin's delete pages too).
PROTECTED = gettext_lazy("Other records still refer to this one; it cannot be deleted.")

_DELETE_SERVICES: dict[type[models.Model], DeleteService] = {}


@transaction.atomic
def entity_save(*, instance: M, **changes: object) -> M:
    """Create or update a row that has no workflow of its own: validate everything, then save."""
    for name, value in changes.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save()
    return instance


@transaction.atomic
def entity_delete(*, instance: models.Model) -> None:
    """Delete a row (and what cascades with it). While other records still refer to it (a protected
    foreign key), it is refused with a ValidationError and nothing is deleted."""
    try:
        instance.delete()
    except (models.ProtectedError, models.RestrictedError) as error:
        raise ValidationError(str(PROTECTED), code="protected") from error


def deletes(*model_classes: type[models.Model], keyword: str) -> Callable[[Service], Service]:
    """Register the decorated service as the way rows of `model_classes` are deleted; it is called with
    the row as its keyword argument `keyword` (`document_delete(document=report)`)."""

    def register(service: Service) -> Service:
        for model in model_classes:
            _DELETE_SERVICES[model] = lambda instance: service(**{keyword: instance})
        return service

    return register


def delete_service_for(model: type[models.Model]) -> DeleteService:
    """The service that deletes a row of `model`: its app's registered one, else `entity_delete`."""
    app = model._meta.app_config
    if app is not None and module_has_submodule(app.module, "services"):
        import_module(f"{app.name}.services")  # registers the app's delete services, if not done yet
    return _DELETE_SERVICES.get(model, _delete_entity)


def _delete_entity(instance: models.Model) -> None:
    entity_delete(instance=instance)


@transaction.atomic
def delete_all(objects: Iterable[models.Model]) -> None:
    """Delete each row of `objects` through its model's delete service, all or nothing: the first
    refusal undoes the deletions before it and is raised, naming the row it concerns."""
    for instance in objects:
        try:
            delete_service_for(type(instance))(instance)
        except ValidationError as error:
            raise ValidationError([f"{instance}: {message}" for message in error.messages]) from error


def lock_row(model: type[models.Model], pk: object) -> None:
    """Hold a row lock on `model` row `pk` until the transaction ends, so that rules read across rows
    (no overlap, one signed pact, the envelope) are checked by one writer at a time. Nothing when `pk`
    is None (a row not saved yet has no one to race with)."""
    if pk is not None:
        # No ordering (a default ordering across a relation would join, and lock, another table).
        list(model._base_manager.select_for_update(of=("self",)).filter(pk=pk).order_by().values_list("pk"))


@transaction.atomic
def user_language_set(*, user: Any, language: str) -> UserPreference:
    """Set the language of `user` (`core.models.UserPreference`): the portal's after login and of their e-mail."""
    preference = UserPreference.objects.select_for_update().filter(user=user).first() or UserPreference(user=user)
    return entity_save(instance=preference, language=language)
