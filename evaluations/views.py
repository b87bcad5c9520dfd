"""The evaluation report file: served only through this view, after the scope check (404 outside it)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest

from clusterpacts.permissions import get_for_user
from core.uploads import pdf_download
from evaluations.models import Evaluation


@login_required
def report_file_download(request: HttpRequest, pk: int) -> FileResponse:
    evaluation = get_for_user(Evaluation, request.user, pk)
    if not evaluation.report_file:
        raise Http404
    return pdf_download(evaluation.report_file.open("rb"), title=evaluation.title or str(evaluation))
