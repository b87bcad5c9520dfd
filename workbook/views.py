"""Officers' pages of the history import: upload, the check's preview, confirmation, the outcome.

The check and the import run as Celery tasks, queued once the run is committed; without a broker they
run eagerly, within the request, and the page shows their outcome at once.
"""

from __future__ import annotations

import csv
from functools import partial
from io import BytesIO

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language, gettext
from django.views.decorators.http import require_http_methods, require_safe

from clusterpacts.views import officer_required
from core.spreadsheets import safe_cell
from workbook import services
from workbook.exporter import template_workbook
from workbook.forms import XLSX_CONTENT_TYPE, UploadForm
from workbook.models import ImportRun
from workbook.tasks import apply_import, check_import

RECENT_RUNS = 20
SHOWN_REFUSALS = 500  # on the page; the CSV has them all


@officer_required
@require_http_methods(["GET", "HEAD", "POST"])
def import_start(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            run = services.import_run_create(upload=form.cleaned_data["file"], by=request.user)
            transaction.on_commit(partial(check_import.delay, run.pk, get_language()))
        return redirect("workbook:run", run.pk)
    runs = ImportRun.objects.select_related("uploaded_by")[:RECENT_RUNS]
    return render(request, "workbook/import_start.html", {"form": form, "runs": runs})


@officer_required
@require_http_methods(["GET", "HEAD", "POST"])
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ImportRun.objects.select_related("uploaded_by", "confirmed_by"), pk=pk)
    if request.method == "POST":
        try:
            with transaction.atomic():
                services.import_run_confirm(run=run, by=request.user)
                transaction.on_commit(partial(apply_import.delay, run.pk, get_language()))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("workbook:run", run.pk)
    preview = run.preview_result
    outcome = run.import_result
    shown = outcome or preview
    return render(
        request,
        "workbook/import_run.html",
        {
            "run": run,
            "preview": preview,
            "outcome": outcome,
            "counts": shown.counts if shown else {},
            "errors": shown.errors[:SHOWN_REFUSALS] if shown else [],
            "error_count": len(shown.errors) if shown else 0,
            "shown_refusals": SHOWN_REFUSALS,
            "crashed": bool(shown and services.result_crashed(shown)),
        },
    )


@officer_required
@require_safe
def import_refusals(request: HttpRequest, pk: int) -> HttpResponse:
    """Every refusal of a run as CSV (the page shows the first `SHOWN_REFUSALS`), safe to open in a spreadsheet."""
    run = get_object_or_404(ImportRun, pk=pk)
    shown = run.import_result or run.preview_result
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{run.pk}-refusals.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    response.write("\ufeff")  # Excel reads the file as UTF-8
    writer = csv.writer(response)
    writer.writerow([gettext("Sheet"), gettext("Row"), gettext("Column"), gettext("What to do")])
    for error in shown.errors if shown else []:
        writer.writerow([safe_cell(error.sheet), error.row, safe_cell(error.column), safe_cell(error.message)])
    return response


@officer_required
@require_safe
def import_template(request: HttpRequest) -> FileResponse:
    """The empty workbook, every sheet with its headers, in the page's language."""
    buffer = BytesIO()
    template_workbook(buffer)
    buffer.seek(0)
    response = FileResponse(
        buffer, as_attachment=True, filename="clusterpact-import-template.xlsx", content_type=XLSX_CONTENT_TYPE
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
