"""The officers' import pages: upload, the check's preview, confirmation and the outcome, through the test
client with eager Celery tasks (as without a broker). The workbooks are real .xlsx files (tests/workbook/files.py)
and the assertions hold for the documented behaviour of the importer (docs/IMPORT.md)."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils.translation import gettext
from openpyxl import load_workbook

from clusterpacts.models import Cluster
from tests import factories
from tests.pages import assert_login_redirect, login, user_for
from tests.workbook.files import BAD_CLUSTER, ONE_CLUSTER, workbook_bytes
from workbook import services
from workbook.models import ImportRun
from workbook.results import ImportResult, RowError, SheetCounts
from workbook.services import PROGRESS_ROWS, ProgressWriter
from workbook.tasks import apply_import, check_import

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=XLSX)


def _send(client: Any, captured: Any, name: str, content: bytes) -> Any:
    """Upload a file as the logged-in user, running the check queued after the commit."""
    with captured(execute=True):
        return client.post(reverse("workbook:start"), {"file": _upload(name, content)})


def _confirm(client: Any, captured: Any, run: ImportRun) -> Any:
    """Confirm as the logged-in user, running the import queued after the commit; then the run's page."""
    with captured(execute=True):
        response = client.post(reverse("workbook:run", args=[run.pk]))
    assert response.status_code == 302
    return client.get(response.url)


def _checked_run(client: Any, captured: Any, sheets: dict[str, Any], name: str = "history.xlsx") -> ImportRun:
    response = _send(client, captured, name, workbook_bytes(sheets))
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("workbook:run", args=[run.pk])
    return run


# --- who may --------------------------------------------------------------------------------------


def _urls(run: ImportRun) -> list[tuple[str, str]]:
    return [
        ("get", reverse("workbook:start")),
        ("post", reverse("workbook:start")),
        ("get", reverse("workbook:template")),
        ("get", reverse("workbook:run", args=[run.pk])),
        ("post", reverse("workbook:run", args=[run.pk])),
        ("get", reverse("workbook:refusals", args=[run.pk])),
    ]


@pytest.mark.parametrize("role", ["manager", "other_manager", "reader", "anonymous"])
def test_only_officers_reach_the_import_pages(request, client, role, officer, django_capture_on_commit_callbacks):
    run = _checked_run(login(client, officer), django_capture_on_commit_callbacks, ONE_CLUSTER)
    client.logout()
    login(client, user_for(request, role))
    for method, url in _urls(run):
        data = {"file": _upload("history.xlsx", workbook_bytes(ONE_CLUSTER))} if method == "post" else {}
        response = getattr(client, method)(url, data)
        if role == "anonymous":
            assert_login_redirect(response, url)
        else:
            assert response.status_code == 403, (method, url)
    # Nothing was uploaded, confirmed or imported by anyone but the officer.
    assert ImportRun.objects.count() == 1
    assert ImportRun.objects.get().state == ImportRun.State.CHECKED
    assert not Cluster.objects.filter(slug="test-cluster").exists()


def test_an_officer_reaches_every_import_page(officer_client, django_capture_on_commit_callbacks):
    run = _checked_run(officer_client, django_capture_on_commit_callbacks, ONE_CLUSTER)
    assert officer_client.get(reverse("workbook:start")).status_code == 200
    assert officer_client.get(reverse("workbook:run", args=[run.pk])).status_code == 200
    assert officer_client.get(reverse("workbook:template")).status_code == 200


def test_the_header_links_to_the_import_for_officers_only(client, officer, manager, reader):
    link = f'href="{reverse("workbook:start")}"'
    assert link in login(client, officer).get(reverse("clusterpacts:review")).text
    for user in (manager, reader):
        client.logout()
        assert link not in login(client, user).get(reverse("home"), follow=True).text


# --- upload ---------------------------------------------------------------------------------------


def test_a_file_that_is_not_a_workbook_is_refused_as_a_whole_and_nothing_is_saved(
    officer_client, django_capture_on_commit_callbacks
):
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    response = _send(officer_client, django_capture_on_commit_callbacks, "report.xlsx", pdf)
    run = ImportRun.objects.get()
    preview = run.preview_result
    assert preview is not None and not preview.ok
    assert [(e.sheet, e.row) for e in preview.errors] == [("", 0)]
    page = officer_client.get(response.url)
    assert "the file" in page.text
    assert preview.errors[0].message in page.text
    assert "Confirm import" not in page.text
    assert Cluster.objects.count() == 0


def test_a_text_file_named_xlsx_is_refused_as_a_whole(officer_client, django_capture_on_commit_callbacks):
    _send(officer_client, django_capture_on_commit_callbacks, "history.xlsx", b"slug;name\ntest-cluster;Test\n")
    preview = ImportRun.objects.get().preview_result
    assert preview is not None
    assert [(e.sheet, e.row) for e in preview.errors] == [("", 0)]


def test_a_file_over_the_limit_is_refused_on_the_form_and_not_stored(
    officer_client, settings, django_capture_on_commit_callbacks
):
    settings.CLUSTERPACTS_IMPORT_MAX_BYTES = 1024
    content = workbook_bytes(ONE_CLUSTER)
    assert len(content) > 1024
    response = _send(officer_client, django_capture_on_commit_callbacks, "history.xlsx", content)
    assert response.status_code == 200
    assert "The file is larger than the limit of" in response.text
    assert not ImportRun.objects.exists()


def test_a_file_not_named_xlsx_is_refused_on_the_form(officer_client, django_capture_on_commit_callbacks):
    response = _send(officer_client, django_capture_on_commit_callbacks, "history.csv", b"slug\n")
    assert response.status_code == 200
    assert "Choose an Excel workbook (.xlsx)" in response.text
    assert not ImportRun.objects.exists()


def test_the_upload_is_stored_under_a_generated_name_and_its_own_name_is_shown_escaped(
    officer_client, officer, django_capture_on_commit_callbacks
):
    run = _checked_run(officer_client, django_capture_on_commit_callbacks, ONE_CLUSTER, name="<i>jaren & co.xlsx")
    assert run.filename == "<i>jaren & co.xlsx"
    assert run.uploaded_by == officer
    assert run.file.name.startswith("imports/")
    assert "jaren" not in run.file.name
    page = officer_client.get(reverse("workbook:run", args=[run.pk])).text
    assert "&lt;i&gt;jaren &amp; co.xlsx" in page
    assert "<i>jaren" not in page
    assert run.file.url not in page
    listing = officer_client.get(reverse("workbook:start")).text
    assert "&lt;i&gt;jaren &amp; co.xlsx" in listing


# --- preview, confirm, outcome ----------------------------------------------------------------------


def test_a_valid_workbook_is_previewed_with_its_counts_and_nothing_is_saved(
    officer_client, django_capture_on_commit_callbacks
):
    run = _checked_run(officer_client, django_capture_on_commit_callbacks, ONE_CLUSTER)
    assert run.state == ImportRun.State.CHECKED
    preview = run.preview_result
    assert preview is not None and preview.ok and preview.dry_run and not preview.applied
    assert preview.counts["clusters"] == SheetCounts(created=1)
    assert not Cluster.objects.filter(slug="test-cluster").exists()
    page = officer_client.get(reverse("workbook:run", args=[run.pk])).text
    assert "What the import would do" in page
    assert "Confirm import" in page
    assert 'http-equiv="refresh"' not in page


def test_confirming_imports_the_workbook_and_a_second_confirmation_changes_nothing(
    officer_client, officer, django_capture_on_commit_callbacks
):
    run = _checked_run(officer_client, django_capture_on_commit_callbacks, ONE_CLUSTER)
    page = _confirm(officer_client, django_capture_on_commit_callbacks, run)
    run.refresh_from_db()
    assert run.state == ImportRun.State.IMPORTED
    assert run.confirmed_by == officer
    assert run.finished_at is not None
    result = run.import_result
    assert result is not None and result.applied and result.counts["clusters"].created == 1
    cluster = Cluster.objects.get(slug="test-cluster")
    assert cluster.name == "Test Cluster"
    assert "The workbook was imported." in page.text
    assert "Confirm import" not in page.text

    before = (run.result, run.finished_at, cluster.history.count())
    again = _confirm(officer_client, django_capture_on_commit_callbacks, run)
    run.refresh_from_db()
    assert "This import was already confirmed; nothing more was done." in again.text
    assert (run.result, run.finished_at, Cluster.objects.get().history.count()) == before
    assert run.state == ImportRun.State.IMPORTED


def test_a_refused_row_is_listed_with_sheet_row_and_column_and_cannot_be_confirmed(
    officer_client, django_capture_on_commit_callbacks
):
    run = _checked_run(officer_client, django_capture_on_commit_callbacks, BAD_CLUSTER)
    preview = run.preview_result
    assert preview is not None
    assert [(e.sheet, e.row, e.column) for e in preview.errors] == [("clusters", 2, "enterprise_number")]
    assert preview.counts["clusters"].refused == 1
    page = officer_client.get(reverse("workbook:run", args=[run.pk])).text
    assert "Confirm import" not in page
    assert '<span class="code">enterprise_number</span>' in page
    assert preview.errors[0].message in page

    # The whole list, as a CSV safe to open in a spreadsheet.
    csv_text = officer_client.get(reverse("workbook:refusals", args=[run.pk])).content.decode("utf-8-sig")
    assert csv_text.splitlines()[1].startswith("clusters,2,enterprise_number,")

    # A forged confirmation is refused too, and changes nothing.
    response = _confirm(officer_client, django_capture_on_commit_callbacks, run)
    assert "This workbook has refused rows" in response.text
    run.refresh_from_db()
    assert run.state == ImportRun.State.CHECKED
    assert not Cluster.objects.exists()


def test_a_workbook_that_changes_nothing_says_so_and_offers_no_confirmation(
    officer_client, django_capture_on_commit_callbacks
):
    first = _checked_run(officer_client, django_capture_on_commit_callbacks, ONE_CLUSTER)
    _confirm(officer_client, django_capture_on_commit_callbacks, first)
    response = _send(officer_client, django_capture_on_commit_callbacks, "again.xlsx", workbook_bytes(ONE_CLUSTER))
    run = ImportRun.objects.exclude(pk=first.pk).get()
    assert run.preview_result is not None and run.preview_result.changed == 0
    page = officer_client.get(response.url).text
    assert "Nothing would change" in page
    assert "Confirm import" not in page
    refused = _confirm(officer_client, django_capture_on_commit_callbacks, run)
    assert "Importing this workbook would change nothing." in refused.text


def test_a_run_still_being_checked_cannot_be_confirmed(officer_client, officer, django_capture_on_commit_callbacks):
    run = ImportRun.objects.create(filename="history.xlsx", file="imports/x.xlsx", uploaded_by=officer)
    page = officer_client.get(reverse("workbook:run", args=[run.pk])).text
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "<progress" in page
    response = _confirm(officer_client, django_capture_on_commit_callbacks, run)
    assert "still being checked" in response.text
    run.refresh_from_db()
    assert run.state == ImportRun.State.CHECKING


def test_an_import_refused_because_the_data_changed_since_the_check_fails_and_saves_nothing(
    officer_client, django_capture_on_commit_callbacks
):
    run = _checked_run(officer_client, django_capture_on_commit_callbacks, ONE_CLUSTER)
    # Meanwhile someone registers another cluster with the same enterprise number.
    factories.ClusterFactory(slug="other", name="Other", enterprise_number="0403199702")
    page = _confirm(officer_client, django_capture_on_commit_callbacks, run)
    run.refresh_from_db()
    assert run.state == ImportRun.State.FAILED
    result = run.import_result
    assert result is not None and not result.applied
    assert [(e.sheet, e.row, e.column) for e in result.errors] == [("clusters", 2, "enterprise_number")]
    assert "Nothing was imported." in page.text
    assert not Cluster.objects.filter(slug="test-cluster").exists()


# --- the tasks --------------------------------------------------------------------------------------


def test_the_check_words_its_refusals_in_the_officers_language(
    client, officer, monkeypatch, django_capture_on_commit_callbacks
):
    def refusing(source: Any, *, filename: str, dry_run: bool, **kwargs: Any) -> ImportResult:
        return ImportResult(filename=filename, dry_run=dry_run, errors=[RowError("", 0, "", gettext("Refused"))])

    monkeypatch.setattr(services, "import_workbook", refusing)
    for language in ("nl", "en"):
        login(client, officer, language=language)
        _send(client, django_capture_on_commit_callbacks, "history.xlsx", workbook_bytes(ONE_CLUSTER))
    messages = [run.preview_result.errors[0].message for run in ImportRun.objects.order_by("pk")]
    assert messages == ["Geweigerd", "Refused"]


def test_the_tasks_are_safe_to_run_twice(officer_client, django_capture_on_commit_callbacks):
    run = _checked_run(officer_client, django_capture_on_commit_callbacks, ONE_CLUSTER)
    preview = run.preview
    check_import(run.pk)
    apply_import(run.pk)  # not confirmed: does nothing
    run.refresh_from_db()
    assert (run.state, run.preview, run.result) == (ImportRun.State.CHECKED, preview, None)
    assert not Cluster.objects.exists()
    _confirm(officer_client, django_capture_on_commit_callbacks, run)
    run.refresh_from_db()
    result = run.result
    apply_import(run.pk)
    run.refresh_from_db()
    assert (run.state, run.result, Cluster.objects.count()) == (ImportRun.State.IMPORTED, result, 1)


def test_an_importer_error_fails_the_run_instead_of_leaving_it_checking(officer, monkeypatch, tmp_path, caplog):
    def broken(*args: Any, **kwargs: Any) -> ImportResult:
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "import_workbook", broken)
    run = ImportRun.objects.create(filename="history.xlsx", file="imports/x.xlsx", uploaded_by=officer)
    check_import(run.pk)
    run.refresh_from_db()
    assert run.state == ImportRun.State.FAILED
    assert run.preview_result is not None and services.result_crashed(run.preview_result)
    assert "boom" in caplog.text


def test_progress_is_written_every_500_rows_or_half_second_and_at_each_sheets_end():
    writes: list[tuple[str, int, int]] = []
    now = [0.0]
    progress = ProgressWriter(lambda *args: writes.append(args), clock=lambda: now[0])
    for done in range(1, 2001):
        progress("clusters", done, 2000)
    assert writes == [("clusters", 1, 2000)] + [("clusters", n, 2000) for n in range(501, 2001, 500)] + [
        ("clusters", 2000, 2000)
    ]
    writes.clear()
    for done in range(1, 11):
        now[0] += 0.2
        progress("pacts", done, 100)
    assert [w[1] for w in writes] == [1, 4, 7, 10]  # a new sheet, then every 0.6 s (0.5 s at least)
    assert PROGRESS_ROWS == 500


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has one writer: progress shows at the end")
def test_progress_is_seen_while_the_import_holds_its_transaction(officer, monkeypatch):
    seen: list[tuple[str, int, int]] = []

    def slow(source: Any, *, progress: Any, dry_run: bool, **kwargs: Any) -> ImportResult:
        with transaction.atomic():
            Cluster.objects.create(name="Half", slug="half")
            progress("clusters", 1, 3)
            other = connections.create_connection("default")
            try:
                with other.cursor() as cursor:
                    cursor.execute("SELECT progress_label, progress_done, progress_total FROM workbook_importrun")
                    seen.extend(cursor.fetchall())
            finally:
                other.close()
            transaction.set_rollback(True)
        return ImportResult(filename="history.xlsx", dry_run=dry_run, counts={"clusters": SheetCounts(created=3)})

    monkeypatch.setattr(services, "import_workbook", slow)
    run = ImportRun.objects.create(filename="history.xlsx", file="imports/x.xlsx", uploaded_by=officer)
    check_import(run.pk)
    assert seen == [("clusters", 1, 3)]
    run.refresh_from_db()
    assert (run.state, run.progress_label, run.progress_done) == (ImportRun.State.CHECKED, "clusters", 1)


# --- the template and the admin ---------------------------------------------------------------------


def test_the_empty_template_is_a_workbook_download(officer_client):
    response = officer_client.get(reverse("workbook:template"))
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith("attachment;")
    book = load_workbook(BytesIO(b"".join(response.streaming_content)), read_only=True)
    assert any(name.lower() in {"clusters"} for name in book.sheetnames)


def test_officers_see_the_runs_read_only_in_the_admin_without_a_link_to_the_file(client, officer):
    run = ImportRun.objects.create(
        filename="history.xlsx",
        file="imports/0123.xlsx",
        uploaded_by=officer,
        state=ImportRun.State.CHECKED,
        preview=ImportResult(
            filename="history.xlsx", dry_run=True, errors=[RowError("clusters", 2, "slug", "Refused.")]
        ).as_dict(),
    )
    login(client, officer)
    assert client.get(reverse("admin:workbook_importrun_changelist")).status_code == 200
    page = client.get(reverse("admin:workbook_importrun_change", args=[run.pk]))
    assert page.status_code == 200
    assert "imports/0123.xlsx" not in page.text
    assert client.get(reverse("admin:workbook_importrun_add")).status_code == 403
    assert client.post(reverse("admin:workbook_importrun_delete", args=[run.pk]), {"post": "yes"}).status_code == 403
    assert ImportRun.objects.filter(pk=run.pk).exists()


def test_a_long_list_of_refusals_shows_the_first_ones_and_offers_them_all_as_csv(
    officer_client, django_capture_on_commit_callbacks
):
    rows = [["slug", "name", "enterprise_number"]] + [[f"c{n}", f"=cmd|' /C calc'!A{n}", "0123"] for n in range(600)]
    run = _checked_run(officer_client, django_capture_on_commit_callbacks, {"clusters": rows})
    assert len(run.preview_result.errors) >= 600

    page = officer_client.get(reverse("workbook:run", args=[run.pk])).text
    assert page.count('<span class="code">') == 500
    lines = officer_client.get(reverse("workbook:refusals", args=[run.pk])).content.decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + len(run.preview_result.errors)
    assert not any(line.split(",", 3)[3].startswith(("=", "+", "-", "@")) for line in lines[1:])
