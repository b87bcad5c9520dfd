from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _megabytes(size: int) -> str:
    megabytes = size / (1024 * 1024)
    return f"{megabytes:.0f} MB" if megabytes == int(megabytes) else f"{megabytes:.1f} MB"


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Workbook (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": f".xlsx,{XLSX_CONTENT_TYPE}"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = gettext(
            "One Excel workbook in the import format, at most %(max)s. It is checked first: nothing is saved "
            "until you confirm."
        ) % {"max": _megabytes(settings.CLUSTERPACTS_IMPORT_MAX_BYTES)}

    def clean_file(self) -> Any:
        # Whether it really is a workbook is the importer's to say (a refusal on the run's page); the name
        # and the size are checked here, before anything is stored.
        upload = self.cleaned_data["file"]
        if not (upload.name or "").lower().endswith(".xlsx"):
            raise forms.ValidationError(
                gettext("Choose an Excel workbook (.xlsx); save other formats as .xlsx first."), code="not_xlsx"
            )
        if upload.size > settings.CLUSTERPACTS_IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                gettext("The file is larger than the limit of %(max)s.")
                % {"max": _megabytes(settings.CLUSTERPACTS_IMPORT_MAX_BYTES)},
                code="file_too_large",
            )
        return upload
