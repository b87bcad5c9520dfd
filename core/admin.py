"""What every admin in the project shares: history, and saving through a service.

The admin's model forms already run `full_clean()`, so a broken rule is shown next to its field
and nothing is saved. `save_model` then hands the validated object to the app's service, so
locks and side effects (superseding a pact, chain dates, workflow steps) are the same as through
the API and the portal.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.forms import BaseInlineFormSet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from core.forms import errors_to_form
from core.services import entity_save


class ServiceAdmin(SimpleHistoryAdmin):
    """A model admin whose writes go through the app's service (`save_object`)."""

    list_per_page = 50

    def save_model(self, request: HttpRequest, obj: models.Model, form: Any, change: bool) -> None:
        obj._history_user = request.user  # type: ignore[attr-defined]
        self.save_object(request, obj, form, change)

    def save_object(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        entity_save(instance=obj)


class ServiceInlineFormSet(BaseInlineFormSet):
    """Inline rows are saved through a service too (`save_object`), never by a bare save()."""

    def save_object(self, obj: Any, form: Any) -> None:
        entity_save(instance=obj)

    def save_new(self, form: Any, commit: bool = True) -> Any:
        obj = form.save(commit=False)
        setattr(obj, self.fk.name, self.instance)
        if commit:
            self.save_object(obj, form)
            form.save_m2m()
        return obj

    def save_existing(self, form: Any, obj: Any, commit: bool = True) -> Any:
        obj = form.save(commit=False)
        if commit:
            self.save_object(obj, form)
            form.save_m2m()
        return obj


def raise_on_form(form: Any, error: ValidationError) -> None:
    """Attach a domain error to the right field of a form (or to the form as a whole)."""
    errors_to_form(form, error)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
