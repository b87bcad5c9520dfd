"""Portal pages of annual plans, reports and their review, through the test client.

Every page is tried as the cluster's manager, another cluster's manager, an officer, an API reader
and an anonymous visitor; then the report flow, uploads, derived KPIs, rule messages, language and
amount formatting, and query counts that must not grow with the data.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from clusterpacts import services
from clusterpacts.models import (
    AnnualPlan,
    AnnualReport,
    KpiDefinition,
    KpiTarget,
    KpiValue,
    Organisation,
    ReportAttachment,
    ReportEvent,
    Workflow,
)
from tests import factories
from tests.pages import assert_login_redirect, login, user_for

pytestmark = pytest.mark.django_db

PDF_BYTES = factories.pdf_bytes()
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"

ROLES = ["manager", "other_manager", "officer", "reader", "anonymous"]


# --- helpers ---------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def year():
    """The last completed working year: its report may be written now."""
    return timezone.localdate().year - 1


@pytest.fixture
def report(cluster, year):
    return services.annual_report_create(cluster=cluster, year=year, narrative="Our year.")


@pytest.fixture
def attachment(report):
    return services.attachment_add(report=report, file=pdf(), title="Activity report")


def pdf(name="report.pdf", content=PDF_BYTES):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def active_kpis():
    return list(KpiDefinition.objects.filter(active=True))


def reported_kpis():
    """The KPIs a report gives a value for: the derived ones are computed from the memberships."""
    return [kpi for kpi in active_kpis() if not kpi.is_derived]


def complete_values(value="10", **overrides):
    """A valid value for every active KPI, as the report form posts them."""
    data = {f"kpi_{kpi.code}": value for kpi in active_kpis()}
    data.update({f"kpi_{code}": v for code, v in overrides.items()})
    return data


def values_of(report):
    return dict(KpiValue.objects.filter(report=report).values_list("kpi__code", "value"))


def row_html(html, field_name):
    """The table row that holds the input `field_name`: an error in it stands next to that field."""
    position = html.index(f'name="{field_name}"')
    start = html.rindex("<tr", 0, position)
    end = html.index("</tr>", position)
    return html[start:end]


def report_url(cluster, year):
    return reverse("clusterpacts:report", args=[cluster.slug, year])


def plan_url(cluster, year):
    return reverse("clusterpacts:plan", args=[cluster.slug, year])


def submitted(cluster, year, by):
    """A complete report of `cluster`, submitted through the services."""
    report = services.annual_report_create(cluster=cluster, year=year, narrative="Done.")
    for kpi in reported_kpis():
        services.kpi_value_set(report=report, kpi=kpi, value=Decimal(10))
    return services.annual_report_submit(report=report, by=by)


# --- who may open which page -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [("manager", 200), ("other_manager", 404), ("officer", 200), ("reader", 200), ("anonymous", 302)],
)
def test_report_page_get_by_role(request, client, role, expected, cluster, other_cluster, report, year):
    url = report_url(cluster, year)
    response = login(client, user_for(request, role)).get(url)
    if role == "anonymous":
        assert_login_redirect(response, url)
        return
    assert response.status_code == expected
    if expected == 200:
        assert "Annual report on working year" in response.text
        assert "Our year." in response.text
        # Only the cluster's managers and officers get the form.
        assert response.context["writable"] is (role in {"manager", "officer"})


@pytest.mark.parametrize(
    ("role", "expected"),
    [("manager", 200), ("other_manager", 404), ("officer", 200), ("reader", 200), ("anonymous", 302)],
)
def test_plan_page_get_by_role(request, client, role, expected, cluster, other_cluster):
    year = timezone.localdate().year
    url = plan_url(cluster, year)
    response = login(client, user_for(request, role)).get(url)
    if role == "anonymous":
        assert_login_redirect(response, url)
        return
    assert response.status_code == expected
    if expected == 200:
        assert f"Annual plan {year}" in response.text
        assert response.context["writable"] is (role in {"manager", "officer"})


@pytest.mark.parametrize(
    ("role", "expected"),
    [("manager", 302), ("other_manager", 404), ("officer", 302), ("reader", 403), ("anonymous", 302)],
)
def test_report_page_post_by_role_saves_only_for_manager_and_officer(
    request, client, role, expected, cluster, other_cluster, report, year
):
    url = report_url(cluster, year)
    response = login(client, user_for(request, role)).post(url, {"narrative": "Changed.", "kpi_C2": "4", "save": "1"})
    assert response.status_code == expected
    report.refresh_from_db()
    if role in {"manager", "officer"}:
        assert response.url == url
        assert report.narrative == "Changed."
        assert values_of(report) == {"C2": Decimal(4)}
    else:
        if role == "anonymous":
            assert_login_redirect(response, url)
        assert report.narrative == "Our year."
        assert values_of(report) == {}


def test_other_manager_cannot_create_a_report_for_another_cluster(client, other_manager, cluster, year):
    response = login(client, other_manager).post(
        report_url(cluster, year), {"narrative": "Sneaky.", **complete_values(), "submit": "1"}
    )
    assert response.status_code == 404
    assert not AnnualReport.objects.filter(cluster=cluster).exists()
    assert not KpiValue.objects.exists()


@pytest.mark.parametrize(
    ("role", "expected"),
    [("manager", 302), ("other_manager", 404), ("officer", 302), ("reader", 403), ("anonymous", 302)],
)
def test_plan_page_post_by_role_saves_only_for_manager_and_officer(
    request, client, role, expected, cluster, other_cluster
):
    year = timezone.localdate().year
    url = plan_url(cluster, year)
    response = login(client, user_for(request, role)).post(
        url, {"planned_actions": "Two matchmaking days.", "kpi_C2": "6", "save": "1"}
    )
    assert response.status_code == expected
    plan = AnnualPlan.objects.filter(cluster=cluster, year=year).first()
    if role in {"manager", "officer"}:
        assert response.url == url
        assert plan.planned_actions == "Two matchmaking days."
        assert KpiTarget.objects.get(cluster=cluster, year=year, kpi__code="C2").value == Decimal(6)
    else:
        if role == "anonymous":
            assert_login_redirect(response, url)
        assert plan is None
        assert not KpiTarget.objects.exists()


@pytest.mark.parametrize(
    ("role", "expected"),
    [("manager", 200), ("other_manager", 404), ("officer", 200), ("reader", 200), ("anonymous", 302)],
)
def test_attachment_download_by_role(request, client, role, expected, cluster, other_cluster, attachment):
    url = reverse("clusterpacts:attachment", args=[attachment.pk])
    response = login(client, user_for(request, role)).get(url)
    if role == "anonymous":
        assert_login_redirect(response, url)
        return
    assert response.status_code == expected
    if expected == 200:
        assert b"".join(response.streaming_content) == PDF_BYTES


@pytest.mark.parametrize(
    ("role", "expected"),
    [("manager", 403), ("other_manager", 403), ("officer", 200), ("reader", 403), ("anonymous", 302)],
)
def test_review_queue_only_for_officers(request, client, role, expected, cluster, other_cluster, manager, year):
    submitted(cluster, year, manager)
    url = reverse("clusterpacts:review")
    response = login(client, user_for(request, role)).get(url)
    if role == "anonymous":
        assert_login_redirect(response, url)
        return
    assert response.status_code == expected
    if expected == 200:
        assert "Submitted, waiting for review" in response.text
        assert cluster.name in response.text


@pytest.mark.parametrize(
    ("role", "expected"),
    [("manager", 403), ("other_manager", 403), ("officer", 200), ("reader", 403), ("anonymous", 302)],
)
def test_review_page_get_only_for_officers(request, client, role, expected, cluster, other_cluster, manager, year):
    report = submitted(cluster, year, manager)
    url = reverse("clusterpacts:review-report", args=[report.pk])
    response = login(client, user_for(request, role)).get(url)
    if role == "anonymous":
        assert_login_redirect(response, url)
        return
    assert response.status_code == expected
    if expected == 200:
        assert "Your decision" in response.text


@pytest.mark.parametrize("page", ["review-report", "review-bulk-accept"])
@pytest.mark.parametrize(
    ("role", "expected"),
    [("manager", 403), ("other_manager", 403), ("officer", 302), ("reader", 403), ("anonymous", 302)],
)
def test_accepting_on_the_review_page_or_in_bulk_is_only_for_officers(
    request, client, page, role, expected, cluster, other_cluster, manager, year
):
    report = submitted(cluster, year, manager)
    if page == "review-report":
        url, data = reverse("clusterpacts:review-report", args=[report.pk]), {"decision": "accept", "comment": ""}
    else:
        url, data = reverse("clusterpacts:review-bulk-accept"), {"reports": [report.pk]}
    response = login(client, user_for(request, role)).post(url, data)
    assert response.status_code == expected
    report.refresh_from_db()
    if role == "officer":
        assert response.url == reverse("clusterpacts:review")
        assert report.status == Workflow.ACCEPTED
    else:
        if role == "anonymous":
            assert_login_redirect(response, url)
        assert report.status == Workflow.SUBMITTED


def test_bulk_accept_refuses_get(officer_client):
    assert officer_client.get(reverse("clusterpacts:review-bulk-accept")).status_code == 405


def test_review_page_of_an_unknown_report_is_404(officer_client):
    assert officer_client.get(reverse("clusterpacts:review-report", args=[999999])).status_code == 404


def test_report_of_a_year_not_started_is_404(client, manager, cluster):
    next_year = timezone.localdate().year + 1
    assert login(client, manager).get(report_url(cluster, next_year)).status_code == 404


# --- uploads ----------------------------------------------------------------------------------------


def test_a_real_pdf_is_attached_and_downloadable_by_its_manager_only(client, manager, other_manager, cluster, year):
    response = login(client, manager).post(
        report_url(cluster, year),
        {"narrative": "With an annex.", "attachment": pdf(), "attachment_title": "Annex 1", "save": "1"},
    )
    assert response.status_code == 302
    attachment = ReportAttachment.objects.get()
    assert attachment.title == "Annex 1"
    assert attachment.report.cluster == cluster

    page = client.get(report_url(cluster, year))
    download = reverse("clusterpacts:attachment", args=[attachment.pk])
    assert download in page.text
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF_BYTES

    client.logout()
    assert login(client, other_manager).get(download).status_code == 404


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (lambda: SimpleUploadedFile("report.pdf", PNG_BYTES, content_type="application/pdf"), "Only PDF files"),
        (lambda: pdf(content=PDF_BYTES + b"0" * 2048), "The file is larger than"),
        (lambda: SimpleUploadedFile("report.pdf", b"", content_type="application/pdf"), "empty"),
    ],
    ids=["renamed-png", "oversized", "empty"],
)
def test_a_refused_upload_saves_nothing_and_says_why(
    client, settings, manager, cluster, report, year, upload, message
):
    settings.CLUSTERPACTS_ATTACHMENT_MAX_BYTES = 1024
    services.kpi_value_set(report=report, kpi=KpiDefinition.objects.get(code="C2"), value=Decimal(4))

    response = login(client, manager).post(
        report_url(cluster, year),
        {"narrative": "Changed.", "kpi_C2": "7", "attachment": upload(), "save": "1"},
    )

    assert response.status_code == 200
    assert message in response.text
    assert message in " ".join(response.context["form"].errors["attachment"])
    assert not ReportAttachment.objects.exists()
    report.refresh_from_db()
    assert report.narrative == "Our year."
    assert values_of(report) == {"C2": Decimal(4)}


def test_an_upload_is_refused_once_the_report_is_submitted(client, manager, cluster, year):
    submitted(cluster, year, manager)
    response = login(client, manager).post(report_url(cluster, year), {"narrative": "x", "attachment": pdf()})
    assert response.status_code == 403
    assert not ReportAttachment.objects.exists()


# --- the report flow --------------------------------------------------------------------------------


def test_the_whole_report_flow_through_the_pages(
    client, manager, officer, cluster, year, mailoutbox, django_capture_on_commit_callbacks
):
    url = report_url(cluster, year)
    manager_client = login(client, manager)

    # 1. A draft, saved any time.
    response = manager_client.post(url, {"narrative": "First draft.", "kpi_C2": "4", "save": "1"})
    assert response.status_code == 302
    report = AnnualReport.objects.get(cluster=cluster, year=year)
    assert report.status == Workflow.DRAFT
    assert values_of(report) == {"C2": Decimal(4)}
    assert "saved as a draft" in manager_client.get(url).text

    # 2. Submitting an incomplete report is refused with the missing codes; the draft is kept as typed.
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            url, {"narrative": "Second draft.", "kpi_C2": "5", "kpi_CPI1": "3", "submit": "1"}
        )
    assert response.status_code == 200
    text = response.text
    assert "Give a value for every KPI before you submit; missing:" in text
    # MEM1 and MEM2 are computed from the memberships, never entered: never missing.
    missing = {kpi.code for kpi in reported_kpis()} - {"C2", "CPI1"}
    errors = " ".join(response.context["form"].non_field_errors())
    for code in missing:
        assert code in errors
    assert "MEM1" not in errors and "MEM2" not in errors
    report.refresh_from_db()
    assert report.status == Workflow.DRAFT
    assert report.narrative == "Second draft."
    assert values_of(report) == {"C2": Decimal(5), "CPI1": Decimal(3)}, "not submitted, but not lost either"
    assert "Your draft was saved, but it was not submitted." in text
    assert mailoutbox == []

    # 3. A complete report is submitted; the officers hear of it once.
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(url, {"narrative": "Final text.", **complete_values(), "submit": "1"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == Workflow.SUBMITTED
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [officer.email]
    assert reverse("clusterpacts:review-report", args=[report.pk]) in mailoutbox[0].body

    # 4. The manager now reads it only.
    page = manager_client.get(url)
    assert page.context["writable"] is False
    assert "being reviewed by VLAIO" in page.text
    assert 'name="narrative"' not in page.text
    response = manager_client.post(url, {"narrative": "Sneaky edit.", **complete_values("11"), "save": "1"})
    assert response.status_code == 403
    report.refresh_from_db()
    assert report.narrative == "Final text."
    assert set(values_of(report).values()) == {Decimal(10)}

    # 5. The officer may not return it without a comment ...
    officer_client = login(client.__class__(), officer)
    review = reverse("clusterpacts:review-report", args=[report.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(review, {"decision": "return", "comment": "  "})
    assert response.status_code == 200
    assert "Say why the report is returned: a comment is required." in response.text
    assert response.context["form"].errors["comment"]
    report.refresh_from_db()
    assert report.status == Workflow.SUBMITTED
    assert len(mailoutbox) == 1

    # ... but with one; the cluster's manager gets the comment by e-mail.
    comment = "Please add the sources of CPI4."
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(review, {"decision": "return", "comment": comment})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == Workflow.RETURNED
    assert len(mailoutbox) == 2
    assert mailoutbox[1].to == [manager.email]
    assert comment in mailoutbox[1].body

    # 6. The manager sees the comment, corrects and submits again.
    page = manager_client.get(url)
    assert page.context["writable"] is True
    assert "VLAIO returned this report" in page.text
    assert comment in page.text
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            url, {"narrative": "Final text, with sources.", **complete_values(CPI4="12"), "submit": "1"}
        )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == Workflow.SUBMITTED
    assert values_of(report)["CPI4"] == Decimal(12)
    assert len(mailoutbox) == 3
    assert mailoutbox[2].to == [officer.email]

    # 7. The officer accepts; the manager hears of it and the values are official.
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(review, {"decision": "accept", "comment": ""})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == Workflow.ACCEPTED
    assert len(mailoutbox) == 4
    assert mailoutbox[3].to == [manager.email]
    assert all(value.is_official for value in KpiValue.objects.filter(report=report))
    page = manager_client.get(url)
    assert "its values are official" in page.text
    assert "pending" not in page.text
    assert list(ReportEvent.objects.filter(report=report).values_list("to_status", flat=True)) == [
        Workflow.SUBMITTED,
        Workflow.RETURNED,
        Workflow.SUBMITTED,
        Workflow.ACCEPTED,
    ]


def test_submitted_values_show_as_pending_until_accepted(client, manager, officer, cluster, year):
    report = submitted(cluster, year, manager)
    manager_client = login(client, manager)
    this_year = manager_client.get(report_url(cluster, year))
    next_year = manager_client.get(report_url(cluster, year + 1))
    assert "(pending)" in this_year.text
    assert "(pending)" in next_year.text  # last year's values, beside this year's fields

    services.annual_report_accept(report=report, by=officer)
    assert "(pending)" not in manager_client.get(report_url(cluster, year)).text
    assert "(pending)" not in manager_client.get(report_url(cluster, year + 1)).text


def test_the_review_page_shows_values_against_targets_and_last_year(officer_client, manager, cluster, year):
    plan = factories.AnnualPlanFactory(cluster=cluster, year=year)
    services.kpi_target_set(plan=plan, kpi=KpiDefinition.objects.get(code="C2"), value=Decimal(20))
    previous = services.annual_report_create(cluster=cluster, year=year - 1)
    services.kpi_value_set(report=previous, kpi=KpiDefinition.objects.get(code="C2"), value=Decimal(7))
    report = submitted(cluster, year, manager)

    response = officer_client.get(reverse("clusterpacts:review-report", args=[report.pk]))

    row = next(r for r in response.context["rows"] if r["kpi"].code == "C2")
    assert (row["target"], row["value"], row["last_year"]) == (Decimal(20), Decimal(10), Decimal(7))
    assert row["achievement"] == 50
    assert "50 %" in response.text


def test_the_report_page_shows_each_kpi_field_beside_its_target_and_last_years_value(
    client, manager, officer, cluster, report, year
):
    plan = factories.AnnualPlanFactory(cluster=cluster, year=year)
    services.kpi_target_set(plan=plan, kpi=KpiDefinition.objects.get(code="C2"), value=Decimal(20))
    previous = services.annual_report_create(cluster=cluster, year=year - 1)
    services.kpi_value_set(report=previous, kpi=KpiDefinition.objects.get(code="C2"), value=Decimal(7))
    factories.complete_report(previous)
    services.annual_report_submit(report=previous, by=manager)
    services.annual_report_accept(report=previous, by=officer)

    response = login(client, manager).get(report_url(cluster, year))

    row = row_html(response.text, "kpi_C2")
    cells = re.findall(r'<td class="num">(.*?)</td>', row, flags=re.S)
    assert cells[0] == "20"  # target
    assert cells[1].strip() == "7"  # last year, official: no "pending"
    assert 'name="kpi_C2"' in cells[2]
    # A field per reported KPI; the derived ones are shown, computed, with no field.
    assert len(re.findall(r'name="kpi_[A-Z0-9]+"', response.text)) == len(reported_kpis())


def test_bulk_accept_accepts_every_submitted_report_chosen(
    officer_client,
    manager,
    other_manager,
    cluster,
    other_cluster,
    year,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    first = submitted(cluster, year, manager)
    second = submitted(other_cluster, year, other_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(
            reverse("clusterpacts:review-bulk-accept"), {"reports": [first.pk, second.pk]}, follow=True
        )
    assert response.status_code == 200
    assert "Accepted 2 reports" in response.text
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Workflow.ACCEPTED, Workflow.ACCEPTED)
    assert sorted(m.to[0] for m in mailoutbox) == sorted([manager.email, other_manager.email])


def test_bulk_accept_accepts_the_submitted_and_names_the_report_it_could_not_accept(
    officer_client, manager, cluster, other_cluster, year
):
    ready = submitted(cluster, year, manager)
    draft = services.annual_report_create(cluster=other_cluster, year=year)
    response = officer_client.post(
        reverse("clusterpacts:review-bulk-accept"), {"reports": [ready.pk, draft.pk]}, follow=True
    )
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert any(str(draft) in m and "cannot move to" in m for m in messages)
    assert any("Accepted 1 report:" in m and str(ready) in m for m in messages)
    draft.refresh_from_db()
    ready.refresh_from_db()
    assert (draft.status, ready.status) == (Workflow.DRAFT, Workflow.ACCEPTED)


def test_bulk_accept_of_a_report_outside_the_scope_changes_nothing(client, manager, other_manager, cluster, year):
    ready = submitted(cluster, year, manager)
    client.force_login(other_manager)
    response = client.post(reverse("clusterpacts:review-bulk-accept"), {"reports": [ready.pk]})
    assert response.status_code == 403
    ready.refresh_from_db()
    assert ready.status == Workflow.SUBMITTED


def test_bulk_accept_without_a_choice_says_so(officer_client):
    response = officer_client.post(reverse("clusterpacts:review-bulk-accept"), {}, follow=True)
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == ["Choose at least one report."]


def test_review_queue_lists_submitted_first_and_shows_overdue(officer_client, manager, cluster, other_cluster, year):
    submitted(cluster, year, manager)
    response = officer_client.get(reverse("clusterpacts:review"))
    text = response.text
    assert [i.document.cluster for i in response.context["items"]] == [cluster]
    assert text.index("Submitted, waiting for review") < text.index("Overdue")
    overdue = {(slot.cluster_slug, slot.year) for slot in response.context["overdue"]}
    assert (other_cluster.slug, year) in overdue  # never started, past its due date
    assert (cluster.slug, year) not in overdue  # submitted
    assert 'class="overdue"' in text


# --- derived KPIs -----------------------------------------------------------------------------------


def test_membership_kpis_are_computed_from_memberships_at_year_end_and_shown_with_how(
    client, manager, officer, cluster, other_cluster, year
):
    from datetime import date

    sme = Organisation.Kind.SME
    company = Organisation.Kind.COMPANY

    def member(kind, paying=True, joined=date(2018, 1, 1), left=None, of=cluster):
        factories.MembershipFactory(
            cluster=of,
            organisation=factories.OrganisationFactory(kind=kind),
            paying=paying,
            joined_on=joined,
            left_on=left,
        )

    member(sme)
    member(sme, paying=False)
    member(company)
    member(sme, left=date(year, 6, 30))  # left during the year
    member(company, joined=date(year + 1, 1, 15))  # joined after the year
    member(sme, of=other_cluster)
    # A value a report holds for a derived KPI (an old submission, an import) is not what the page shows.
    report = services.annual_report_create(cluster=cluster, year=year - 1)
    KpiValue.objects.create(report=report, cluster=cluster, year=year, kpi=factories.kpi("MEM1"), value=99)

    response = login(client, manager).get(report_url(cluster, year))

    assert "kpi_MEM1" not in response.context["form"].fields, "never typed in"
    assert "kpi_MEM2" not in response.context["form"].fields
    rows = {row["kpi"].code: row for row in response.context["rows"]}
    assert rows["MEM1"]["value"] == Decimal(2)  # paying members at year end
    assert rows["MEM2"]["value"] == Decimal("66.67")  # 2 SMEs of 3 members
    text = " ".join(response.text.split())
    with translation.override("en"):
        day = date_format(date(year, 12, 31), "SHORT_DATE_FORMAT")
    assert f"2 paying of 3 members on {day}, from the memberships" in text
    assert f"3 members on {day}, of which 2 SMEs: 66.67 %, from the memberships" in text
    assert "No membership data" not in text

    review = services.annual_report_create(cluster=cluster, year=year)
    factories.complete_report(review)
    services.annual_report_submit(report=review, by=manager)
    response = login(client.__class__(), officer).get(reverse("clusterpacts:review-report", args=[review.pk]))
    text = " ".join(response.text.split())
    assert f"3 members on {day}, of which 2 SMEs: 66.67 %" in text
    assert "No membership data" not in text


def test_a_year_without_membership_data_warns_instead_of_a_silent_zero(client, manager, officer, cluster, year):
    from datetime import date

    # The only membership ended before the year's end: nobody was a member on 31 December.
    factories.MembershipFactory(cluster=cluster, joined_on=date(2018, 1, 1), left_on=date(year, 12, 30))
    warning = f"No membership data for {year}: the membership KPIs cannot be computed."

    response = login(client, manager).get(report_url(cluster, year))
    rows = {row["kpi"].code: row for row in response.context["rows"]}
    assert rows["MEM1"]["value"] is None and rows["MEM2"]["value"] is None, "not 0"
    assert warning in " ".join(response.text.split())

    # The report is still submitted (the membership data is not the cluster's to type in) and the officer
    # reviewing it is warned too.
    report = services.annual_report_create(cluster=cluster, year=year)
    factories.complete_report(report)
    services.annual_report_submit(report=report, by=manager)
    assert not KpiValue.objects.filter(report=report, kpi__source="derived").exists(), "nothing stored"
    response = login(client.__class__(), officer).get(reverse("clusterpacts:review-report", args=[report.pk]))
    assert warning in " ".join(response.text.split())


def test_a_derived_kpi_is_refused_when_posted_and_by_the_service(client, manager, cluster, year):
    login(client, manager).post(report_url(cluster, year), {"narrative": "Text.", "kpi_MEM1": "40", "save": "1"})
    report = AnnualReport.objects.get(cluster=cluster, year=year)
    assert not KpiValue.objects.filter(report=report).exists(), "the page takes no MEM1"

    with pytest.raises(ValidationError) as caught:
        services.kpi_value_set(report=report, kpi=factories.kpi("MEM1"), value=Decimal(40))
    assert caught.value.message_dict["value"] == [
        "MEM1 is computed from the memberships or the decided projects; it cannot be entered."
    ]


def test_the_report_shows_the_project_kpis_counted_read_only_with_the_projects_they_came_from(
    client, manager, cluster, other_cluster, year
):
    from funding.models import ProjectPartner

    firms = [factories.OrganisationFactory(kind="company") for _ in range(3)]
    roles = [ProjectPartner.Role.LEAD, ProjectPartner.Role.PARTNER, ProjectPartner.Role.PARTNER]
    factories.ProjectFactory(
        lead_cluster=cluster,
        reference="HBC.TEST.1",
        title="Shared pilot line",
        decided_on=date(year, 3, 1),
        start_date=date(year, 4, 1),
        end_date=date(year + 2, 3, 31),
        amount=Decimal("1250000.00"),
        partners=list(zip(firms, roles, strict=True)),
    )
    factories.ProjectFactory(
        lead_cluster=other_cluster, reference="OTHER.1", title="Another cluster's project", decided_on=date(year, 5, 1)
    )
    factories.ProjectFactory(
        lead_cluster=cluster, reference="HBC.TEST.0", title="Last year's project", decided_on=date(year - 1, 5, 1)
    )

    page = login(client, manager).get(report_url(cluster, year))

    form = page.context["form"]
    assert not {"kpi_CPI3", "kpi_PRJ1", "kpi_C4", "kpi_CPI7", "kpi_CPI7BIS", "kpi_CPI8"} & set(form.fields)
    rows = {row["kpi"].code: row for row in page.context["rows"]}
    assert (rows["CPI3"]["value"], rows["PRJ1"]["value"], rows["C4"]["value"]) == (1, Decimal("1250000.00"), 1)
    assert rows["CPI3"]["source"] == "projects" and rows["CPI3"]["counted"] == 1
    assert [p.reference for p in page.context["projects"]] == ["HBC.TEST.1"]
    section = page.text[page.text.index('id="projects"') :]
    assert "HBC.TEST.1" in section and "Shared pilot line" in section and "CPI3, PRJ1, C4, CPI7, CPI7BIS" in section
    assert "OTHER.1" not in page.text and "Last year" not in section

    # A value posted for a project KPI is not taken: the form has no field for it.
    login(client, manager).post(report_url(cluster, year), {"narrative": "Text.", "kpi_CPI3": "40", "save": "1"})
    assert not KpiValue.objects.filter(kpi__code="CPI3").exists()


# --- rule messages next to the right field ----------------------------------------------------------


def test_report_rule_messages_stand_next_to_their_field_and_nothing_is_saved(client, manager, cluster, year):
    response = login(client, manager).post(
        report_url(cluster, year),
        {"narrative": "Text.", "kpi_C6": "150", "kpi_C2": "2.5", "kpi_CPI1": "4", "save": "1"},
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    percent = "C6 is a percentage: enter a value from 0 to 100, not 150."
    count = "C2 is a count: enter a whole number of 0 or more, not 2.5."
    assert errors["kpi_C6"] == [percent]
    assert errors["kpi_C2"] == [count]
    assert "kpi_CPI1" not in errors
    assert percent in row_html(response.text, "kpi_C6")
    assert count in row_html(response.text, "kpi_C2")
    assert percent not in row_html(response.text, "kpi_C2")
    assert not AnnualReport.objects.exists()
    assert not KpiValue.objects.exists()


def test_report_rule_message_keeps_an_existing_draft_unchanged(client, manager, cluster, report, year):
    services.kpi_value_set(report=report, kpi=KpiDefinition.objects.get(code="C6"), value=Decimal(80))
    response = login(client, manager).post(
        report_url(cluster, year), {"narrative": "New.", "kpi_C6": "150", "kpi_C2": "3", "save": "1"}
    )
    assert response.status_code == 200
    assert "C6 is a percentage" in row_html(response.text, "kpi_C6")
    report.refresh_from_db()
    assert report.narrative == "Our year."
    assert values_of(report) == {"C6": Decimal(80)}


def test_plan_rule_message_stands_next_to_its_field_and_nothing_is_saved(client, manager, cluster):
    year = timezone.localdate().year
    response = login(client, manager).post(
        plan_url(cluster, year), {"planned_actions": "Plans.", "kpi_C6": "150", "kpi_C2": "3", "save": "1"}
    )
    assert response.status_code == 200
    message = "C6 is a percentage: enter a value from 0 to 100, not 150."
    assert response.context["form"].errors["kpi_C6"] == [message]
    assert message in row_html(response.text, "kpi_C6")
    assert not AnnualPlan.objects.exists()
    assert not KpiTarget.objects.exists()


def test_plan_saves_targets_and_submits_only_with_every_target(
    client, manager, officer, cluster, mailoutbox, django_capture_on_commit_callbacks
):
    year = timezone.localdate().year
    url = plan_url(cluster, year)
    manager_client = login(client, manager)

    response = manager_client.post(url, {"planned_actions": "Plans.", "kpi_C2": "6", "kpi_CPI1": "40", "save": "1"})
    assert response.status_code == 302
    plan = AnnualPlan.objects.get(cluster=cluster, year=year)
    assert plan.status == Workflow.DRAFT
    targets = dict(KpiTarget.objects.filter(plan=plan).values_list("kpi__code", "value"))
    assert targets == {"C2": Decimal(6), "CPI1": Decimal(40)}
    assert manager_client.get(url).context["form"]["kpi_CPI1"].value() == Decimal(40)

    response = manager_client.post(url, {"planned_actions": "Plans.", "kpi_C2": "6", "submit": "1"})
    assert response.status_code == 200
    assert "Give a target for every KPI before you submit; missing:" in response.text
    assert "CPI3" in response.text
    plan.refresh_from_db()
    assert plan.status == Workflow.DRAFT

    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(url, {"planned_actions": "Plans.", **complete_values(), "submit": "1"})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == Workflow.SUBMITTED
    assert KpiTarget.objects.filter(plan=plan).count() == len(active_kpis())
    assert [m.to for m in mailoutbox] == [[officer.email]]
    page = manager_client.get(url)
    assert page.context["writable"] is False
    assert manager_client.post(url, {"planned_actions": "Again.", "save": "1"}).status_code == 403


# --- language and amounts ---------------------------------------------------------------------------


def test_pages_are_dutch_by_default_and_english_after_the_language_switch(client, manager, cluster, report, year):
    client.force_login(manager)
    url = report_url(cluster, year)

    dutch = client.get(url)
    assert f"Jaarverslag over werkjaar {year}" in dutch.text
    assert "Opslaan als ontwerp" in dutch.text
    assert "Save as draft" not in dutch.text

    response = client.post(reverse("set_language"), {"language": "en", "next": url})
    assert response.status_code == 302
    assert client.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "en"

    english = client.get(url)
    assert f"Annual report on working year {year}" in english.text
    assert "Save as draft" in english.text
    assert "Jaarverslag" not in english.text


def test_amounts_are_formatted_for_the_language(client, manager, cluster, report, year):
    plan = factories.AnnualPlanFactory(cluster=cluster, year=year)
    services.kpi_target_set(plan=plan, kpi=KpiDefinition.objects.get(code="PRJ1"), value=Decimal(1234567))
    url = report_url(cluster, year)

    with translation.override("nl"):
        dutch = login(client, manager, language="nl").get(url).text
    english = login(client, manager, language="en").get(url).text

    assert "1.234.567" in dutch
    assert "1,234,567" not in dutch
    assert "1,234,567" in english
    assert "1.234.567" not in english


def test_a_dutch_decimal_is_read_with_a_comma(client, manager, cluster, report, year):
    response = login(client, manager, language="nl").post(
        report_url(cluster, year), {"narrative": "Tekst.", "kpi_CPI10": "2,5", "save": "1"}
    )
    assert response.status_code == 302
    assert values_of(report) == {"CPI10": Decimal("2.5")}


# --- query counts -----------------------------------------------------------------------------------


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_report_page_queries_do_not_grow_with_attachments_events_and_members(client, manager, officer, cluster, year):
    report = services.annual_report_create(cluster=cluster, year=year, narrative="Text.")
    previous = services.annual_report_create(cluster=cluster, year=year - 1)
    for kpi in reported_kpis()[:3]:
        services.kpi_value_set(report=previous, kpi=kpi, value=Decimal(1))

    def grow(n):
        for _ in range(n):
            ReportAttachment.objects.create(report=report, file=pdf(), title="Annex")
            ReportEvent.objects.create(
                report=report, from_status="draft", to_status="submitted", by=factories.UserFactory()
            )
            factories.MembershipFactory(cluster=cluster)

    manager_client = login(client, manager)
    url = report_url(cluster, year)
    grow(3)
    few = count_queries(manager_client, url)
    grow(12)
    many = count_queries(manager_client, url)
    assert many == few

    officer_client = login(client.__class__(), officer)
    review = reverse("clusterpacts:review-report", args=[report.pk])
    few = count_queries(officer_client, review)
    grow(5)
    assert count_queries(officer_client, review) == few


def test_review_queue_queries_do_not_grow_with_clusters(officer_client, year):
    def grow(n):
        for _ in range(n):
            cluster = factories.ClusterFactory()
            submitted(cluster, year, None)
            returned = submitted(cluster, year - 1, None)
            services.annual_report_return(report=returned, comment="Sources, please.")
            services.annual_report_create(cluster=cluster, year=year - 2)

    url = reverse("clusterpacts:review")
    grow(3)
    few = count_queries(officer_client, url)
    grow(12)
    many = count_queries(officer_client, url)
    assert many == few
    response = officer_client.get(url)
    assert len(response.context["items"]) == 15
    returned = officer_client.get(url, {"state": Workflow.RETURNED})
    assert len(returned.context["items"]) == 15


def test_a_submission_without_a_known_user_still_mails_the_officers(
    cluster, officer, django_capture_on_commit_callbacks, mailoutbox
):
    report = factories.complete_report(services.annual_report_create(cluster=cluster, year=2020))
    with django_capture_on_commit_callbacks(execute=True):
        services.annual_report_submit(report=report)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [officer.email]
    assert "—" in mailoutbox[0].body


# --- emptying a field removes its figure -------------------------------------------------------------


def test_emptying_a_value_in_a_draft_report_removes_it_and_keeps_the_rest(client, manager, cluster, year):
    url = report_url(cluster, year)
    manager_client = login(client, manager)
    manager_client.post(url, {"narrative": "Draft.", "kpi_C2": "4", "kpi_CPI1": "12", "save": "1"})
    report = AnnualReport.objects.get(cluster=cluster, year=year)
    assert values_of(report) == {"C2": Decimal(4), "CPI1": Decimal(12)}

    response = manager_client.post(url, {"narrative": "Draft.", "kpi_C2": "", "kpi_CPI1": "12", "save": "1"})
    assert response.status_code == 302
    assert values_of(report) == {"CPI1": Decimal(12)}, "the emptied C2 is gone, CPI1 stays"

    manager_client.post(url, {"narrative": "Draft.", "save": "1"})  # fields not sent at all
    assert values_of(report) == {"CPI1": Decimal(12)}, "a field the form did not send is left alone"


def test_emptying_a_target_in_a_draft_plan_removes_it(client, manager, cluster):
    plan_year = timezone.localdate().year + 1
    url = plan_url(cluster, plan_year)
    manager_client = login(client, manager)
    manager_client.post(url, {"planned_actions": "Plan.", "kpi_C2": "4", "kpi_CPI1": "30", "save": "1"})
    plan = AnnualPlan.objects.get(cluster=cluster, year=plan_year)
    manager_client.post(url, {"planned_actions": "Plan.", "kpi_C2": "4", "kpi_CPI1": "", "save": "1"})
    assert dict(KpiTarget.objects.filter(plan=plan).values_list("kpi__code", "value")) == {"C2": Decimal(4)}
