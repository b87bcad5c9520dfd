"""The admin's workflow steps and what an accepted report page shows; the rules broken through the
admin, the API and the portal alike are in test_rules_everywhere.py, deletions in test_deletes.py."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from clusterpacts.models import AnnualReport, KpiValue, ReportEvent, Workflow
from clusterpacts.services import annual_report_accept, annual_report_submit, kpi_value_set
from tests import factories
from tests.clusterpacts.admin_forms import admin_post_data, form_errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(cluster):
    return factories.AnnualReportFactory(cluster=cluster, year=2020, narrative="What we did.")


def change_url(document):
    return reverse(f"admin:clusterpacts_{document._meta.model_name}_change", args=[document.pk])


def post_change(client, document, **changes):
    url = change_url(document)
    page = client.get(url)
    assert page.status_code == 200
    data = admin_post_data(page)
    data.update(changes)
    return client.post(url, data)


# --- returning a report ---------------------------------------------------------------------------


def test_admin_returns_a_report_with_a_comment_and_records_the_step(officer_client, officer, report):
    factories.complete_report(report)
    annual_report_submit(report=report)

    response = post_change(officer_client, report, transition=Workflow.RETURNED, step_comment="Add the SME share.")

    assert response.status_code == 302, form_errors(response)
    report.refresh_from_db()
    assert (report.status, report.review_comment) == (Workflow.RETURNED, "Add the SME share.")
    assert report.reviewed_at is not None
    event = ReportEvent.objects.get(report=report, to_status=Workflow.RETURNED)
    assert (event.from_status, event.by, event.comment) == (Workflow.SUBMITTED, officer, "Add the SME share.")


def test_admin_accepts_a_submitted_report(officer_client, officer, report):
    factories.complete_report(report)
    annual_report_submit(report=report)

    response = post_change(officer_client, report, transition=Workflow.ACCEPTED)

    assert response.status_code == 302, form_errors(response)
    report.refresh_from_db()
    assert report.status == Workflow.ACCEPTED
    assert ReportEvent.objects.filter(report=report, to_status=Workflow.ACCEPTED, by=officer).exists()


def test_admin_offers_only_the_allowed_steps(officer_client, report):
    """Another step posted is refused with the workflow's own message (test_rules_everywhere)."""
    page = officer_client.get(change_url(report))
    offered = [value for value, _label in page.context["adminform"].form.fields["transition"].widget.choices]
    assert offered == ["", Workflow.SUBMITTED]


def test_admin_saves_a_draft_report_edit_and_submits_it_in_one_step(officer_client, officer, report):
    response = post_change(officer_client, report, narrative="Revised.", transition=Workflow.SUBMITTED)

    assert response.status_code == 302, form_errors(response)
    report.refresh_from_db()
    assert (report.narrative, report.status) == ("Revised.", Workflow.SUBMITTED)
    assert ReportEvent.objects.get(report=report).by == officer


def test_admin_creates_a_report_for_the_current_year_with_its_default_due_date(officer_client, cluster):
    year = timezone.localdate().year
    url = reverse("admin:clusterpacts_annualreport_add")
    data = admin_post_data(officer_client.get(url))
    data.update(cluster=str(cluster.pk), year=str(year), narrative="Started.")

    response = officer_client.post(url, data)

    assert response.status_code == 302, form_errors(response)
    report = AnnualReport.objects.get()
    assert (report.year, report.due_on.month, report.due_on.day, report.due_on.year) == (year, 3, 31, year + 1)


# --- accepted documents are read-only --------------------------------------------------------------


@pytest.fixture
def accepted_report(report, officer):
    kpi_value_set(report=report, kpi=factories.kpi("CPI1"), value=Decimal(12))
    factories.complete_report(report)
    annual_report_submit(report=report)
    return annual_report_accept(report=report, by=officer)


def test_draft_report_page_has_editable_narrative_and_values(officer_client, report):
    kpi_value_set(report=report, kpi=factories.kpi("CPI1"), value=Decimal(12))

    page = officer_client.get(change_url(report))

    assert b'name="narrative"' in page.content
    assert b'name="values-0-value"' in page.content


def test_accepted_report_page_shows_no_editable_fields(officer_client, accepted_report):
    page = officer_client.get(change_url(accepted_report))

    form = page.context["adminform"].form
    assert not set(form.fields) - {"transition", "step_comment", "_version"}
    assert [value for value, _label in form.fields["transition"].widget.choices] == [""]
    for inline in page.context["inline_admin_formsets"]:
        assert not inline.has_add_permission
        # Figures and attachments are view-only (deleting one is refused by its service: test_deletes);
        # the workflow steps only ever show read-only fields.
        assert not inline.has_change_permission or set(inline.opts.fields) <= set(inline.readonly_fields)
    assert b'name="narrative"' not in page.content
    assert b'name="values-0-value"' not in page.content


def test_posting_changes_to_an_accepted_report_changes_nothing(officer_client, accepted_report):
    events = ReportEvent.objects.count()
    values = list(KpiValue.objects.order_by("kpi__code").values_list("kpi__code", "value"))

    post_change(officer_client, accepted_report, narrative="Rewritten.", cluster="", year="2019", due_on="2030-01-01")
    refused = post_change(officer_client, accepted_report, transition=Workflow.RETURNED, step_comment="Reopen.")

    assert "transition" in form_errors(refused)
    stored = AnnualReport.objects.get(pk=accepted_report.pk)
    assert (stored.status, stored.narrative, stored.year, stored.due_on) == (
        Workflow.ACCEPTED,
        "What we did.",
        2020,
        accepted_report.due_on,
    )
    assert KpiValue.objects.get(kpi__code="CPI1").value == Decimal(12)
    assert list(KpiValue.objects.order_by("kpi__code").values_list("kpi__code", "value")) == values
    assert ReportEvent.objects.count() == events
