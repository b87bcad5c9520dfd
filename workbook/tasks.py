"""Celery tasks of the workbook app: thin, safe to run twice (STYLE.md rule 6)."""

from __future__ import annotations

from celery import shared_task
from django.utils import translation

from workbook.services import import_run_apply, import_run_check


@shared_task(name="workbook.tasks.check_import", acks_late=True, reject_on_worker_lost=True)
def check_import(run_id: int, language: str | None = None) -> None:
    """The dry run of an uploaded workbook: counts per sheet and every refusal, nothing saved. The
    refusals are worded in `language`, the officer's (they are stored as text on the run)."""
    with translation.override(language):
        import_run_check(run_id=run_id)


@shared_task(name="workbook.tasks.apply_import", acks_late=True, reject_on_worker_lost=True)
def apply_import(run_id: int, language: str | None = None) -> None:
    """The import of a confirmed workbook, all or nothing; refusals worded in `language`."""
    with translation.override(language):
        import_run_apply(run_id=run_id)
