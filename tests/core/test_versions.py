"""No lost update: a form opened before someone else's change does not save over it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from funding.models import SupportAgreement
from funding.services import agreement_save
from tests import factories
from tests.clusterpacts.admin_forms import admin_post_data

pytestmark = pytest.mark.django_db


def admin_client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def agreement(cluster) -> SupportAgreement:
    return SupportAgreement.objects.create(
        cluster=cluster,
        reference="SO-1",
        start_date=date(2017, 1, 1),
        end_date=date(2019, 12, 31),
        chain_start=date(2017, 1, 1),
        amount=Decimal(500_000),
    )


def test_a_stale_admin_change_form_is_refused_with_who_changed_it_and_saves_nothing(officer, agreement):
    olivia = factories.officer(username="olivia", first_name="Olivia", last_name="Officer")
    url = reverse("admin:funding_supportagreement_change", args=[agreement.pk])
    client = admin_client(officer)
    data = admin_post_data(client.get(url))
    agreement._history_user = olivia  # type: ignore[attr-defined]
    agreement_save(agreement=agreement, notes="Olivia's note")

    response = client.post(url, {**data, "notes": "My note"})

    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.non_field_errors())
    assert "Changed by Olivia Officer at " in errors and "reload to see the change" in errors
    agreement.refresh_from_db()
    assert agreement.notes == "Olivia's note"


def test_a_fresh_admin_change_form_saves(officer, agreement):
    url = reverse("admin:funding_supportagreement_change", args=[agreement.pk])
    client = admin_client(officer)
    data = admin_post_data(client.get(url))

    response = client.post(url, {**data, "notes": "My note"})

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    agreement.refresh_from_db()
    assert agreement.notes == "My note"


# --- the portal's plan and report pages, and the review page ---------------------------------------


def _version_on(client: Client, url: str) -> str:
    """The version the page carries in its form, as the browser would post it back."""
    import re

    found = re.search(r'name="_version" value="([^"]*)"', client.get(url).content.decode())
    assert found, "the page's form carries its version"
    return found.group(1)


@pytest.mark.parametrize(
    ("page", "text_field", "model"),
    [("clusterpacts:report", "narrative", "AnnualReport"), ("clusterpacts:plan", "planned_actions", "AnnualPlan")],
)
def test_a_stale_portal_page_is_refused_and_saves_nothing(cluster, manager, page, text_field, model):
    from clusterpacts import models

    url = reverse(page, args=[cluster.slug, 2020])
    first_tab, second_tab = admin_client(manager), admin_client(manager)
    assert first_tab.post(url, {text_field: "First draft.", "save": "1"}).status_code == 302
    opened = _version_on(first_tab, url)
    assert second_tab.post(url, {text_field: "Second tab.", "_version": opened, "save": "1"}).status_code == 302

    response = first_tab.post(url, {text_field: "First tab again.", "_version": opened, "save": "1"})

    assert response.status_code == 200
    assert "since you opened it" in response.text and "reload to see the change" in response.text
    document = getattr(models, model).objects.get(cluster=cluster, year=2020)
    assert getattr(document, text_field) == "Second tab.", "nothing of the stale page was saved"
    fresh = _version_on(first_tab, url)
    assert first_tab.post(url, {text_field: "Reloaded.", "_version": fresh, "save": "1"}).status_code == 302


def test_a_changed_figure_makes_the_page_stale_too(cluster, manager):
    url = reverse("clusterpacts:report", args=[cluster.slug, 2020])
    client = admin_client(manager)
    assert client.post(url, {"narrative": "Draft.", "kpi_C2": "4", "save": "1"}).status_code == 302
    opened = _version_on(client, url)
    assert client.post(url, {"kpi_C2": "5", "_version": opened, "save": "1"}).status_code == 302

    response = client.post(url, {"kpi_C2": "6", "_version": opened, "save": "1"})

    assert "since you opened it" in response.text
    assert str(factories.kpi("C2").values.get(report__cluster=cluster).value) == "5.00"


def test_a_review_opened_before_a_change_to_the_report_is_refused(cluster, officer):
    from clusterpacts.models import AnnualReport, Workflow
    from clusterpacts.services import document_submit, document_update

    report = factories.complete_report(factories.AnnualReportFactory(cluster=cluster, year=2020))
    document_submit(document=report, by=officer)
    url = reverse("clusterpacts:review-report", args=[report.pk])
    client = admin_client(officer)
    opened = _version_on(client, url)
    document_update(document=report, narrative="Corrected by another officer in the admin.")

    response = client.post(url, {"decision": "accept", "comment": "", "_version": opened})

    assert response.status_code == 200
    assert "since you opened it" in response.text
    assert AnnualReport.objects.get(pk=report.pk).status == Workflow.SUBMITTED, "not accepted unseen"
    fresh = _version_on(client, url)
    assert client.post(url, {"decision": "accept", "comment": "", "_version": fresh}).status_code == 302
    assert AnnualReport.objects.get(pk=report.pk).status == Workflow.ACCEPTED
