from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.admin import ReadOnlyAdmin
from core.roles import is_officer
from workbook.models import ImportRun


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    """Officers see the import runs; nobody changes them here. The stored file is not shown: it is never
    served from the media folder."""

    list_display = ("filename", "uploaded_by", "uploaded_at", "state", "confirmed_by", "finished_at")
    list_filter = ("state",)
    search_fields = ("filename",)
    date_hierarchy = "uploaded_at"
    fields = (
        "filename",
        "uploaded_by",
        "uploaded_at",
        "confirmed_by",
        "state",
        "progress_label",
        "progress_done",
        "progress_total",
        "finished_at",
        "preview",
        "result",
    )
    readonly_fields = fields

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_officer(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_officer(request.user)
