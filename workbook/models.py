"""An import run: one uploaded workbook, checked (a dry run) and, once an officer confirms, imported."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from workbook.results import ImportResult


def import_path(instance: Any, filename: str) -> str:
    """The stored name of an upload: generated, so nothing of the uploaded name reaches the file system
    or a URL (the name the user gave is kept in `ImportRun.filename`). The migration refers to this
    function as `workbook.models.import_path`."""
    return f"imports/{uuid.uuid4().hex}.xlsx"


class ImportRun(models.Model):
    class State(models.TextChoices):
        CHECKING = "checking", _("checking")
        CHECKED = "checked", _("checked")
        IMPORTING = "importing", _("importing")
        IMPORTED = "imported", _("imported")
        FAILED = "failed", _("failed")

    file = models.FileField(_("file"), upload_to=import_path)
    filename = models.CharField(_("file name"), max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.CHECKING)
    # ImportResult.as_dict() of the dry run (the preview) and of the import itself.
    preview = models.JSONField(_("check result"), null=True, blank=True)
    result = models.JSONField(_("import result"), null=True, blank=True)
    progress_label = models.CharField(_("sheet"), max_length=200, blank=True)
    progress_done = models.PositiveIntegerField(_("rows done"), default=0)
    progress_total = models.PositiveIntegerField(_("rows in the sheet"), default=0)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")

    def __str__(self) -> str:
        return self.filename

    @property
    def busy(self) -> bool:
        """A task is working on the run: its page refreshes itself."""
        return self.state in {self.State.CHECKING, self.State.IMPORTING}

    @property
    def preview_result(self) -> ImportResult | None:
        return ImportResult.from_dict(self.preview) if self.preview is not None else None

    @property
    def import_result(self) -> ImportResult | None:
        return ImportResult.from_dict(self.result) if self.result is not None else None

    @property
    def confirmable(self) -> bool:
        """Checked, nothing refused and something would change: the only run an officer may confirm."""
        preview = self.preview_result
        return self.state == self.State.CHECKED and preview is not None and preview.ok and preview.changed > 0
