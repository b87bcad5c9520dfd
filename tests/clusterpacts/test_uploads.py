"""Uploads (issue 12, item 1): a file is accepted only when its content is a clean PDF from byte 0,
stored under a generated name, and served only by the access-checked view, as a sandboxed download.

Every hostile file is refused with its message on each path that takes a file (the portal's report
form and the service that the admin and the API's callers use), and nothing is stored: no row, no file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from clusterpacts import services
from clusterpacts.models import ReportAttachment
from tests import factories
from tests.pages import login
from tests.rules import admin_save, admin_url, assert_shows, messages_shown

pytestmark = pytest.mark.django_db

LIMIT = 64 * 1024

POLYGLOT = (
    b"<html><body><script>fetch('/api/v1/clusters/').then(r => r.text()).then(alert)</script>\n"
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n</body></html>\n"
)
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)">\n'
    b"<!-- %PDF-1.4 -->\n<script>alert(1)</script></svg>\n"
)

NOT_PDF = "Only PDF files can be attached"
JAVASCRIPT = "PDF files with JavaScript cannot be attached."
LAUNCH = "PDF files with actions that start other programs cannot be attached."
EMBEDDED = "PDF files with embedded files cannot be attached."
ENCRYPTED = "Encrypted or password-protected PDF files cannot be attached."
UNREADABLE = "The file could not be read as a PDF"
EMPTY = "file is empty."  # the form field says "The submitted file is empty.", the model "The file is empty."
TOO_LARGE = "The file is larger than the limit of"

HOSTILE = {
    "polyglot-html-pdf": ("annex.pdf", lambda: POLYGLOT, NOT_PDF),
    "svg": ("drawing.svg", lambda: SVG, NOT_PDF),
    "pdf-with-javascript": ("annex.pdf", lambda: factories.pdf_bytes(javascript="app.alert(1)"), JAVASCRIPT),
    "pdf-with-launch-action": ("annex.pdf", lambda: factories.pdf_bytes(launch="calc.exe"), LAUNCH),
    "pdf-with-embedded-file": ("annex.pdf", lambda: factories.pdf_bytes(embedded=b"MZ payload"), EMBEDDED),
    "encrypted-pdf": ("annex.pdf", lambda: factories.pdf_bytes(password="secret"), ENCRYPTED),
    "pdf-signature-then-html": ("annex.pdf", lambda: b"%PDF-1.4\n<html><script>alert(1)</script></html>", UNREADABLE),
    "empty": ("annex.pdf", lambda: b"", EMPTY),
    "oversized": ("annex.pdf", lambda: factories.pdf_bytes() + b"%" + b"0" * LIMIT, TOO_LARGE),
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CLUSTERPACTS_ATTACHMENT_MAX_BYTES = LIMIT
    return settings.MEDIA_ROOT


@pytest.fixture
def year():
    return timezone.localdate().year - 1


@pytest.fixture
def report(cluster, year):
    return services.annual_report_create(cluster=cluster, year=year, narrative="Our year.")


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def report_url(cluster, year):
    return reverse("clusterpacts:report", args=[cluster.slug, year])


# --- refused ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_upload_is_refused_on_the_report_form_and_nothing_is_stored(
    client, manager, cluster, report, year, media, case
):
    name, content, message = case
    response = login(client, manager).post(
        report_url(cluster, year),
        {"narrative": "Changed.", "attachment": SimpleUploadedFile(name, content(), "application/pdf"), "save": "1"},
    )

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["attachment"])
    assert message in response.text
    assert not ReportAttachment.objects.exists()
    assert stored_files(media) == []
    report.refresh_from_db()
    assert report.narrative == "Our year."


@pytest.mark.parametrize("case", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_upload_is_refused_by_the_service_and_nothing_is_stored(report, media, case):
    name, content, message = case
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.attachment_add(report=report, file=SimpleUploadedFile(name, content()), title="Annex")

    assert message in " ".join(refused.value.message_dict["file"])
    assert not ReportAttachment.objects.exists()
    assert stored_files(media) == []


def test_a_refusal_reads_in_dutch_for_a_dutch_reader(report):
    upload = SimpleUploadedFile("annex.pdf", factories.pdf_bytes(javascript="app.alert(1)"))
    with translation.override("nl"), pytest.raises(ValidationError) as refused:
        services.attachment_add(report=report, file=upload)

    message = "Pdf-bestanden met JavaScript kunnen niet als bijlage worden toegevoegd."
    assert refused.value.message_dict["file"] == [message]


# --- accepted, stored and served -------------------------------------------------------------------


def test_a_clean_pdf_is_stored_under_a_generated_name_with_its_own_name_as_title(
    client, manager, cluster, report, year, media
):
    content = factories.pdf_bytes()
    response = login(client, manager).post(
        report_url(cluster, year),
        {"narrative": "Annex.", "attachment": factories.pdf_upload("Jaarverslag été.pdf", content), "save": "1"},
    )

    assert response.status_code == 302
    attachment = ReportAttachment.objects.get()
    assert attachment.title == "Jaarverslag été.pdf"
    assert re.fullmatch(rf"reports/{cluster.slug}/{year}/[0-9a-f]{{32}}\.pdf", attachment.file.name)
    assert stored_files(media) == [media / attachment.file.name]
    assert (media / attachment.file.name).read_bytes() == content


def test_an_uploaded_name_never_reaches_the_file_system(report, media):
    attachment = services.attachment_add(report=report, file=factories.pdf_upload("../../x.html"))

    assert attachment.title == "x.html"
    assert attachment.file.name.endswith(".pdf") and "x.html" not in attachment.file.name
    assert [path.suffix for path in stored_files(media)] == [".pdf"]


def test_an_attachment_is_downloaded_with_exactly_the_safe_headers(client, manager, report):
    content = factories.pdf_bytes()
    attachment = services.attachment_add(report=report, file=factories.pdf_upload("a.pdf", content), title="Bijlage 1")

    response = login(client, manager).get(reverse("clusterpacts:attachment", args=[attachment.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="bijlage-1.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert b"".join(response.streaming_content) == content


def test_an_odd_title_gives_a_plain_download_name(client, officer, report):
    attachment = services.attachment_add(
        report=report, file=factories.pdf_upload(), title='"; filename=evil.html\r\nX-Injected: 1'
    )

    response = login(client, officer).get(reverse("clusterpacts:attachment", args=[attachment.pk]))

    assert response["Content-Disposition"] == 'attachment; filename="filenameevilhtml-x-injected-1.pdf"'
    assert "X-Injected" not in response


def test_another_clusters_manager_gets_404_for_an_attachment(client, other_manager, report):
    attachment = services.attachment_add(report=report, file=factories.pdf_upload())

    response = login(client, other_manager).get(reverse("clusterpacts:attachment", args=[attachment.pk]))

    assert response.status_code == 404


def test_media_files_are_not_served_directly(client, officer, report, settings):
    assert not settings.DEBUG
    attachment = services.attachment_add(report=report, file=factories.pdf_upload())

    response = login(client, officer).get(f"/{settings.MEDIA_URL}{attachment.file.name}")

    assert response.status_code == 404


# --- the admin: officers upload report attachments and evaluation reports there ------------------


def test_a_polyglot_is_refused_as_an_attachment_in_the_admin(officer, report, media):
    upload = SimpleUploadedFile("annex.pdf", POLYGLOT, "application/pdf")
    response = admin_save(
        officer, admin_url(report, "change", report.pk), {}, rows={ReportAttachment: [{"file": upload}]}
    )

    assert_shows(response, [NOT_PDF + ": this file does not start as a PDF."])
    assert not ReportAttachment.objects.exists()
    assert stored_files(media) == []


@pytest.mark.parametrize(
    "case", [HOSTILE["polyglot-html-pdf"], HOSTILE["pdf-with-javascript"]], ids=["polyglot", "js"]
)
def test_a_hostile_evaluation_report_is_refused_in_the_admin(officer, cluster, media, case):
    name, content, message = case
    evaluation = factories.EvaluationFactory(cluster=cluster)
    upload = SimpleUploadedFile(name, content(), "application/pdf")

    response = admin_save(officer, admin_url(evaluation, "change", evaluation.pk), {"report_file": upload})

    assert any(message in shown for shown in messages_shown(response))
    evaluation.refresh_from_db()
    assert not evaluation.report_file
    assert stored_files(media) == []


def test_a_clean_evaluation_report_is_stored_under_a_generated_name(officer, cluster, media):
    evaluation = factories.EvaluationFactory(cluster=cluster)
    upload = factories.pdf_upload("<script>.html")

    admin_save(officer, admin_url(evaluation, "change", evaluation.pk), {"report_file": upload})

    evaluation.refresh_from_db()
    assert re.fullmatch(rf"evaluations/{cluster.slug}/[0-9a-f]{{32}}\.pdf", evaluation.report_file.name)


@pytest.mark.parametrize(("role", "expected"), [("officer", 200), ("manager", 200), ("other_manager", 404)])
def test_an_evaluation_report_is_downloaded_only_through_the_checked_view(
    request, client, officer, cluster, media, role, expected
):
    evaluation = factories.EvaluationFactory(cluster=cluster, title="Tussentijdse evaluatie")
    admin_save(officer, admin_url(evaluation, "change", evaluation.pk), {"report_file": factories.pdf_upload()})
    url = reverse("evaluations:report-file", args=[evaluation.pk])

    assert client.get(url).status_code == 302, "anonymous: to the login page"
    client.force_login(request.getfixturevalue(role))
    response = client.get(url)

    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["Content-Security-Policy"] == "sandbox"
        assert response["X-Content-Type-Options"] == "nosniff"


def test_the_admin_links_stored_files_to_the_checked_views_never_to_the_media_folder(officer, cluster, media):
    evaluation = factories.EvaluationFactory(cluster=cluster)
    admin_save(officer, admin_url(evaluation, "change", evaluation.pk), {"report_file": factories.pdf_upload()})
    report = factories.AnnualReportFactory(cluster=cluster, year=2020)
    attachment = services.attachment_add(report=report, file=factories.pdf_upload())
    client = Client()
    client.force_login(officer)

    pages = {
        reverse("evaluations:report-file", args=[evaluation.pk]): admin_url(evaluation, "change", evaluation.pk),
        reverse("clusterpacts:attachment", args=[attachment.pk]): admin_url(report, "change", report.pk),
    }
    for download, page in pages.items():
        html = client.get(page).text
        assert f'href="{download}"' in html
        assert "/media/" not in html
