"""What every admin in the project shares: history, and writing through a service.

The admin's model forms already run `full_clean()`, so a broken rule is shown next to its field
and nothing is saved. `save_model` then hands the validated object to the app's service, so
locks and side effects (superseding a pact, chain dates, workflow steps) are the same as through
the API and the portal.

Deleting goes through the model's delete service (`core.services.delete_service_for`) on every
path: the delete page, the "delete selected" action and an inline row marked for deletion. A
refusal is shown as an error message and nothing is deleted (nor anything else of the same
submission saved).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.forms import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

from core.models import OutboxMessage, UserPreference
from core.services import PROTECTED, delete_all, delete_service_for, entity_save
from core.versions import VERSION_FIELD, check_version, version_of


def _refused(model_admin: admin.ModelAdmin, request: HttpRequest, error: ValidationError) -> None:
    model_admin.message_user(request, " ".join(error.messages), messages.ERROR)


@admin.action(permissions=["delete"], description=django_delete_selected.short_description)  # type: ignore[attr-defined]
def delete_selected(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: Any) -> HttpResponse | None:
    """Django's "delete selected", all or nothing: one row its service refuses keeps every row."""
    try:
        with transaction.atomic():
            return django_delete_selected(model_admin, request, queryset)
    except ValidationError as error:
        _refused(model_admin, request, error)
        return None


class VersionedForm(forms.ModelForm):
    """A change form that carries the version of the object it was opened at, and refuses to save
    over a change made since (`core.versions.check_version`): two officers never overwrite each other."""

    _version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[VERSION_FIELD].initial = version_of(self.instance)

    def clean(self) -> Any:
        cleaned = super().clean()
        if self.instance.pk is not None:
            # The row as it is now, locked until the save commits (the admin saves in one transaction).
            current = type(self.instance)._base_manager.select_for_update().filter(pk=self.instance.pk).first()
            check_version(current, self.data.get(self.add_prefix(VERSION_FIELD)))
        return cleaned


class ServiceAdmin(SimpleHistoryAdmin):
    """A model admin whose writes go through the app's service (`save_object`), from a change form
    that carries its version (`VersionedForm`)."""

    list_per_page = 50
    actions = [delete_selected]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        base: Any = kwargs.get("form") or self.form
        if not issubclass(base, VersionedForm):
            kwargs["form"] = type(f"Versioned{base.__name__}", (VersionedForm, base), {})
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = list(super().get_fieldsets(request, obj))
        if fieldsets and VERSION_FIELD not in flatten_fieldsets(fieldsets):
            name, options = fieldsets[-1]
            fieldsets[-1] = (name, {**options, "fields": [*options["fields"], VERSION_FIELD]})
        return fieldsets

    def save_model(self, request: HttpRequest, obj: models.Model, form: Any, change: bool) -> None:
        obj._history_user = request.user  # type: ignore[attr-defined]
        self.save_object(request, obj, form, change)

    def save_object(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        entity_save(instance=obj)

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        delete_service_for(type(obj))(obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        delete_all(queryset)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        deletable, model_count, _perms_needed, protected = super().get_deleted_objects(objs, request)
        if protected:  # Django lists what still refers to the rows, and offers no confirmation
            self.message_user(request, str(PROTECTED), messages.ERROR)
        # What goes with a row is its delete service's business, as through the API: the admin asks no
        # permission for each row that cascades with it (a report's read-only workflow steps).
        return deletable, model_count, set(), protected

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        # A service refusing an inline row's deletion (or a save the forms could not foresee) undoes
        # the whole submission: Django runs it in one transaction, which the error leaves.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            _refused(self, request, error)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as error:  # refused by the delete service: the row stays, and so does its log
            _refused(self, request, error)
            opts = self.opts
            change = f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change"
            return HttpResponseRedirect(reverse(change, args=[object_id]))


class ServiceInlineFormSet(BaseInlineFormSet):
    """Inline rows are saved through a service too (`save_object`), never by a bare save(); a row
    marked for deletion goes through its model's delete service."""

    def save_object(self, obj: Any, form: Any) -> None:
        entity_save(instance=obj)

    def delete_existing(self, obj: Any, commit: bool = True) -> None:
        if commit:
            delete_service_for(type(obj))(obj)

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


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Stored files are never served from the media folder: the admin's file fields show no link to it (only
# an upload field), and each admin offers a download link to the app's access-checked view instead.
NO_MEDIA_LINKS: Mapping[type[models.Field[Any, Any]], Mapping[str, Any]] = {
    models.FileField: {"widget": forms.FileInput}
}


def download_link(url: str, label: StrOrPromise) -> str:
    return format_html('<a href="{}">{}</a>', url, label)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    """What the outbox holds, for an operator: a message that waits (Redis down) shows its last error."""

    list_display = ("pk", "task", "args", "created_at", "sent_at", "done_at", "attempts", "last_error")
    list_filter = (("sent_at", admin.EmptyFieldListFilter), ("done_at", admin.EmptyFieldListFilter), "task")
    search_fields = ("task", "last_error")
    date_hierarchy = "created_at"


class UserPreferenceInline(admin.StackedInline):
    """A user's language, on their page in the admin (the user edits it on /accounts/settings/)."""

    model = UserPreference
    formset = ServiceInlineFormSet
    can_delete = False
    max_num = 1
    extra = 1


class PortalUserAdmin(UserAdmin):
    """Django's user admin, with the user's language."""

    inlines = [*UserAdmin.inlines, UserPreferenceInline]


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), PortalUserAdmin)
