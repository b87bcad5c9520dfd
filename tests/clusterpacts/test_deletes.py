"""One delete path per model: the admin's delete page, its "delete selected" action, an inline row
marked for deletion and the API's DELETE all call the model's delete service. A refusal reads the
same everywhere, and nothing is deleted (nor logged, nor written to the change history)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model

from clusterpacts import services
from clusterpacts.models import (
    AnnualPlan,
    AnnualReport,
    Cluster,
    KpiDefinition,
    KpiTarget,
    KpiValue,
    Membership,
    ReportAttachment,
    ReportEvent,
    Workflow,
)
from tests import factories
from tests.funding.helpers import row_counts
from tests.rules import admin_bulk_delete, admin_delete, admin_delete_inline_row, api, messages_shown

pytestmark = pytest.mark.django_db

ACCEPTED = "This document was accepted and can no longer be changed."
LOCKED = "Figures can only be changed while the plan or report is a draft or returned."
ATTACHMENT_LOCKED = "Attachments can only be removed while the report is a draft or returned."
REFERRED = "Other records still refer to this one; it cannot be deleted."
PDF = factories.pdf_bytes()

WATCHED = (AnnualPlan, AnnualReport, KpiTarget, KpiValue, ReportAttachment, ReportEvent, KpiDefinition, Cluster)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def submitted(document: AnnualPlan | AnnualReport) -> AnnualPlan | AnnualReport:
    factories.complete(document)
    return services.document_submit(document=document)


def accepted(document: AnnualPlan | AnnualReport, officer: Any) -> AnnualPlan | AnnualReport:
    return services.document_transition(document=submitted(document), to=Workflow.ACCEPTED, by=officer, notify=False)


def a_report(cluster: Cluster) -> AnnualReport:
    report = services.annual_report_create(cluster=cluster, year=2020, narrative="2020")
    services.attachment_add(report=report, file=SimpleUploadedFile("annex.pdf", PDF), title="Annex")
    return report


def a_plan(cluster: Cluster) -> AnnualPlan:
    return services.annual_plan_create(cluster=cluster, year=2021, planned_actions="Plan.")


@dataclass(frozen=True)
class Case:
    """A row whose deletion is refused, and the message that says why."""

    make: Callable[[Cluster, Any], Model]
    message: str
    api_path: str | None  # the row's API resource, if it has one
    parent: Callable[[Model], Model] | None = None  # the admin page whose inline lists the row


# An accepted plan or report is refused as a whole; the figures and attachments of a submitted one too.
# (On the admin page of an accepted one, the page as a whole is refused: its form says ACCEPTED.)
CASES = {
    "accepted report": Case(lambda c, o: accepted(a_report(c), o), ACCEPTED, "annual-reports"),
    "accepted plan": Case(lambda c, o: accepted(a_plan(c), o), ACCEPTED, "annual-plans"),
    "value of a submitted report": Case(
        lambda c, o: submitted(a_report(c)).values.get(kpi__code="CPI1"), LOCKED, "kpi-values", lambda v: v.report
    ),
    "target of a submitted plan": Case(
        lambda c, o: submitted(a_plan(c)).targets.get(kpi__code="CPI1"), LOCKED, "kpi-targets", lambda t: t.plan
    ),
    "attachment of a submitted report": Case(
        lambda c, o: submitted(a_report(c)).attachments.get(), ATTACHMENT_LOCKED, None, lambda a: a.report
    ),
    "KPI definition with values": Case(
        lambda c, o: accepted(a_report(c), o).values.get(kpi__code="CPI1").kpi, REFERRED, "kpis"
    ),
    "cluster with members": Case(lambda c, o: factories.MembershipFactory(cluster=c).cluster, REFERRED, "clusters"),
}
PATHS: dict[str, Callable[[Case], bool]] = {
    "admin delete page": lambda case: case.parent is None or case.api_path is not None,
    "admin bulk action": lambda case: case.parent is None or case.api_path is not None,
    "admin inline row": lambda case: case.parent is not None,
    "API DELETE": lambda case: case.api_path is not None,
}


def delete(path: str, case: Case, obj: Model, officer: Any) -> tuple[Any, str]:
    """Delete `obj` along `path` as an officer: the answer, and the message it should show."""
    if path == "admin delete page":
        return admin_delete(officer, obj), case.message
    if path == "admin bulk action":
        # A service's refusal names the row; the page that lists what still refers to the rows needs not.
        return admin_bulk_delete(officer, obj), case.message if case.message == REFERRED else f"{obj}: {case.message}"
    if path == "admin inline row":
        assert case.parent is not None
        return admin_delete_inline_row(officer, case.parent(obj), obj), case.message
    return api(officer, "delete", f"{case.api_path}/{obj.pk}/"), case.message


@pytest.mark.parametrize(
    ("case", "path"), [(case, path) for case in CASES for path, applies in PATHS.items() if applies(CASES[case])]
)
def test_a_refused_deletion_reads_the_same_on_every_path_and_deletes_nothing(cluster, officer, case, path):
    obj = CASES[case].make(cluster, officer)
    before = {**row_counts(*WATCHED, Membership), "log": LogEntry.objects.count()}

    response, message = delete(path, CASES[case], obj, officer)

    assert response.status_code == (400 if path == "API DELETE" else 200), response.content[:300]
    assert message in messages_shown(response)
    assert type(obj)._default_manager.filter(pk=obj.pk).exists()
    assert {**row_counts(*WATCHED, Membership), "log": LogEntry.objects.count()} == before


def test_a_bulk_deletion_is_all_or_nothing(officer, cluster):
    draft = services.annual_report_create(cluster=cluster, year=2019, narrative="2019")
    report = accepted(a_report(cluster), officer)

    response = admin_bulk_delete(officer, draft, report)

    assert f"{report}: {ACCEPTED}" in messages_shown(response)
    assert AnnualReport.objects.filter(pk__in=[draft.pk, report.pk]).count() == 2


@pytest.mark.parametrize("path", ["admin delete page", "admin bulk action", "API DELETE"])
def test_a_returned_report_goes_with_its_workflow_steps_and_figures_on_every_path(officer, manager, cluster, path):
    """What a row takes with it is its service's business: the admin asks no permission to delete the
    report's read-only workflow steps, any more than the API does."""
    report = factories.complete_report(services.annual_report_create(cluster=cluster, year=2020, narrative="x"))
    services.document_submit(document=report, by=manager)
    services.annual_report_return(report=report, comment="Add sources.", by=officer)

    response, _message = delete(path, Case(lambda c, o: report, "", "annual-reports"), report, officer)

    assert response.status_code == (204 if path == "API DELETE" else 200)
    assert not AnnualReport.objects.exists()
    assert not ReportEvent.objects.exists()
    assert not KpiValue.objects.exists()


@pytest.mark.parametrize("path", ["admin delete page", "admin bulk action", "admin inline row", "API DELETE"])
def test_a_draft_reports_value_is_deleted_on_every_path(officer, cluster, path):
    report = services.annual_report_create(cluster=cluster, year=2020, narrative="x")
    value = services.kpi_value_set(report=report, kpi=factories.kpi("CPI1"), value=Decimal(4))
    case = Case(lambda c, o: value, "", "kpi-values", lambda v: v.report)

    response, _message = delete(path, case, value, officer)

    assert response.status_code in (200, 204)
    assert not KpiValue.objects.filter(pk=value.pk).exists()
    assert AnnualReport.objects.filter(pk=report.pk).exists()
