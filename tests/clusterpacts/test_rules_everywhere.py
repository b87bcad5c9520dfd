"""Each rule of clusters, pacts, plans and reports that a user can meet in more than one place, met in
each: the admin (as an officer), the API (as the role that may write there) and the portal page (where
the rule can be reached there). Every path shows the message the service gives, and nothing changes.

A path that is missing below does not reach the rule: the portal answers 403 or 404 before it (an
accepted or submitted document is not writable; a working year that has not started has no page),
and the admin moves a plan or report through its workflow as it is, without the completeness check.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from clusterpacts import services
from clusterpacts.models import (
    AnnualPlan,
    AnnualReport,
    Cluster,
    ClusterPact,
    KpiDefinition,
    KpiTarget,
    KpiValue,
    Membership,
    Organisation,
    ReportEvent,
    Workflow,
)
from tests import factories
from tests.funding.helpers import row_counts
from tests.rules import admin_save, admin_url, api, assert_shows, client_for, refusal

pytestmark = pytest.mark.django_db

Paths = dict[str, Callable[[], Any]]
DOCUMENTS = (AnnualPlan, AnnualReport, KpiTarget, KpiValue, ReportEvent)


def document_of(kind: str, cluster: Cluster) -> AnnualPlan | AnnualReport:
    if kind == "plan":
        return services.annual_plan_create(cluster=cluster, year=2021, planned_actions="Two calls.")
    return services.annual_report_create(cluster=cluster, year=2020, narrative="A good year.")


def submitted(kind: str, cluster: Cluster) -> AnnualPlan | AnnualReport:
    return services.document_submit(document=factories.complete(document_of(kind, cluster)))


def figure(document: AnnualPlan | AnnualReport, code: str, value: Decimal) -> None:
    if isinstance(document, AnnualPlan):
        services.kpi_target_set(plan=document, kpi=factories.kpi(code), value=value)
    else:
        services.kpi_value_set(report=document, kpi=factories.kpi(code), value=value)


def resource(document: AnnualPlan | AnnualReport) -> str:
    return "annual-plans" if isinstance(document, AnnualPlan) else "annual-reports"


def review_page(user: Any, document: AnnualPlan | AnnualReport, **data: str) -> Any:
    page = "clusterpacts:review-plan" if isinstance(document, AnnualPlan) else "clusterpacts:review-report"
    return client_for(user).post(reverse(page, args=[document.pk]), data)


def run(paths: Paths, path: str, expected: list[str], *models: type) -> None:
    """Take `path`; it shows every `expected` message and leaves the rows of `models` as they were."""
    before = row_counts(*models)
    assert_shows(paths[path](), expected)
    assert row_counts(*models) == before


# --- plans and reports ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["plan", "report"])
@pytest.mark.parametrize("path", ["admin", "API"])
def test_an_accepted_document_cannot_change(officer, cluster, kind, path):
    document = services.document_transition(document=submitted(kind, cluster), to=Workflow.ACCEPTED, notify=False)
    text = "planned_actions" if kind == "plan" else "narrative"
    expected = refusal(lambda: services.document_update(document=document, **{text: "Rewritten."}))
    paths: Paths = {
        "admin": lambda: admin_save(officer, admin_url(document, "change", document.pk), {text: "Rewritten."}),
        "API": lambda: api(officer, "patch", f"{resource(document)}/{document.pk}/", {text: "Rewritten."}),
    }

    run(paths, path, expected, *DOCUMENTS)

    assert expected == ["This document was accepted and can no longer be changed."]
    assert getattr(type(document).objects.get(pk=document.pk), text) != "Rewritten."


@pytest.mark.parametrize("kind", ["plan", "report"])
@pytest.mark.parametrize("path", ["admin", "API"])
def test_figures_change_only_while_the_document_is_a_draft_or_returned(officer, manager, cluster, kind, path):
    document = submitted(kind, cluster)
    # A complete document has a figure for every KPI: a new one is for a KPI added to the catalogue since.
    kpi = services.entity_save(
        instance=KpiDefinition(code="NEW1", name_nl="Nieuw", name_en="New", unit="count", category="direct_results")
    )
    field, model = ("plan", KpiTarget) if kind == "plan" else ("report", KpiValue)
    setter = services.kpi_target_set if kind == "plan" else services.kpi_value_set
    expected = refusal(lambda: setter(**{field: document, "kpi": kpi, "value": Decimal(3)}))
    row = {field: document.pk, "kpi": kpi.pk, "value": "3"}
    paths: Paths = {
        "admin": lambda: admin_save(officer, admin_url(model, "add"), {k: str(v) for k, v in row.items()}),
        "API": lambda: api(manager, "post", "kpi-targets/" if kind == "plan" else "kpi-values/", row),
    }

    run(paths, path, expected, *DOCUMENTS)

    assert expected == ["Figures can only be changed while the plan or report is a draft or returned."]


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("plan", "admin"),
        ("plan", "API"),
        ("plan", "portal"),
        ("report", "admin"),
        ("report", "API"),
        ("report", "portal"),
    ],
)
def test_returning_needs_a_comment(officer, cluster, kind, path):
    document = submitted(kind, cluster)
    expected = refusal(lambda: services.document_transition(document=document, to=Workflow.RETURNED, comment=" "))
    paths: Paths = {
        "admin": lambda: admin_save(
            officer, admin_url(document, "change", document.pk), {"transition": "returned", "step_comment": " "}
        ),
        "API": lambda: api(officer, "post", f"{resource(document)}/{document.pk}/return/", {"comment": " "}),
        "portal": lambda: review_page(officer, document, decision="return", comment=" "),
    }

    run(paths, path, expected, *DOCUMENTS)

    assert expected == [f"Say why the {kind} is returned: a comment is required."]
    assert type(document).objects.get(pk=document.pk).status == Workflow.SUBMITTED


WORKFLOW_PATHS = [
    *[(kind, path) for kind in ("plan", "report") for path in ("admin", "API", "portal review page")],
    ("report", "portal bulk accept"),
]


@pytest.mark.parametrize(("kind", "path"), WORKFLOW_PATHS)
def test_a_draft_cannot_be_accepted(officer, cluster, kind, path):
    """The workflow runs draft -> submitted -> accepted | returned (-> submitted): no step is skipped."""
    document = document_of(kind, cluster)
    expected = refusal(lambda: services.document_transition(document=document, to=Workflow.ACCEPTED))
    paths: Paths = {
        "admin": lambda: admin_save(officer, admin_url(document, "change", document.pk), {"transition": "accepted"}),
        "API": lambda: api(officer, "post", f"{resource(document)}/{document.pk}/accept/"),
        "portal review page": lambda: review_page(officer, document, decision="accept"),
        "portal bulk accept": lambda: client_for(officer).post(
            reverse("clusterpacts:review-bulk-accept"), {"reports": [document.pk]}, follow=True
        ),
    }
    if path == "portal bulk accept":  # the bulk result names each report it could not accept
        expected = [f"{document}: {' '.join(expected)}"]

    run(paths, path, expected, *DOCUMENTS)

    assert "cannot move to" in expected[0]
    assert type(document).objects.get(pk=document.pk).status == Workflow.DRAFT


@pytest.mark.parametrize("path", ["admin", "API"])
def test_a_report_for_a_working_year_that_has_not_started_is_refused(officer, manager, cluster, path):
    next_year = timezone.localdate().year + 1
    expected = refusal(lambda: services.annual_report_create(cluster=cluster, year=next_year))
    paths: Paths = {
        "admin": lambda: admin_save(
            officer, admin_url(AnnualReport, "add"), {"cluster": str(cluster.pk), "year": str(next_year)}
        ),
        "API": lambda: api(manager, "post", "annual-reports/", {"cluster": cluster.pk, "year": next_year}),
    }

    run(paths, path, expected, *DOCUMENTS)

    assert expected == [f"Working year {next_year} has not started yet; its report cannot be created."]


@pytest.mark.parametrize("kind", ["plan", "report"])
@pytest.mark.parametrize("path", ["API", "portal"])
def test_submitting_needs_a_complete_document(manager, cluster, kind, path):
    document = document_of(kind, cluster)
    figure(document, "CPI1", Decimal(12))
    expected = refusal(lambda: services.document_submit(document=document, by=manager))
    page = "clusterpacts:plan" if kind == "plan" else "clusterpacts:report"
    # The page as it stands, with no KPI field sent (left alone): the stored document is submitted.
    text = {"planned_actions": "Two calls."} if kind == "plan" else {"narrative": "A good year."}
    paths: Paths = {
        "API": lambda: api(manager, "post", f"{resource(document)}/{document.pk}/submit/"),
        "portal": lambda: client_for(manager).post(
            reverse(page, args=[cluster.slug, document.year]), {**text, "submit": "1"}
        ),
    }

    run(paths, path, expected, *DOCUMENTS)

    assert "before you submit; missing: " in expected[0]
    assert type(document).objects.get(pk=document.pk).status == Workflow.DRAFT


# --- members -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["admin", "admin inline on the cluster", "API"])
def test_memberships_of_an_organisation_in_a_cluster_do_not_overlap(officer, cluster, path):
    acme = factories.OrganisationFactory(name="Acme")
    services.membership_save(membership=Membership(organisation=acme, cluster=cluster, joined_on=date(2018, 1, 1)))
    row = {"organisation": acme.pk, "cluster": cluster.pk, "joined_on": "2019-01-01", "paying": True}
    expected = refusal(
        lambda: services.membership_save(
            membership=Membership(organisation=acme, cluster=cluster, joined_on=date(2019, 1, 1))
        )
    )
    form_row = {"organisation": str(acme.pk), "joined_on": "2019-01-01", "paying": "on"}
    paths: Paths = {
        "admin": lambda: admin_save(officer, admin_url(Membership, "add"), {**form_row, "cluster": str(cluster.pk)}),
        "admin inline on the cluster": lambda: admin_save(
            officer, admin_url(cluster, "change", cluster.pk), {}, rows={Membership: [form_row]}
        ),
        "API": lambda: api(officer, "post", "memberships/", row),
    }

    run(paths, path, expected, Membership)

    assert "memberships of one organisation in one cluster may not overlap" in expected[0]


# --- enterprise numbers --------------------------------------------------------------------------

TAKEN = "0123456749"
NUMBER_CASES = {
    "a wrong check digit": ("0123.456.789", "the check digits do not match"),
    "a number already used": ("BE 0123.456.749", "with this enterprise number already exists"),
}


@pytest.mark.parametrize("model", [Organisation, Cluster], ids=["organisation", "cluster"])
@pytest.mark.parametrize("case", NUMBER_CASES)
@pytest.mark.parametrize("path", ["admin", "API"])
def test_an_enterprise_number_is_checked_and_unique(officer, model, case, path):
    model.objects.create(name="Holder", kind="sme" if model is Organisation else "spearhead", enterprise_number=TAKEN)
    number, fragment = NUMBER_CASES[case]
    fields = {"name": "Newcomer", "kind": "sme"} if model is Organisation else {"name": "Newcomer", "slug": "new"}
    expected = refusal(lambda: services.entity_save(instance=model(**fields, enterprise_number=number)))
    paths: Paths = {
        "admin": lambda: admin_save(officer, admin_url(model, "add"), {**fields, "enterprise_number": number}),
        "API": lambda: api(
            officer, "post", f"{model._meta.verbose_name_plural}/", {**fields, "enterprise_number": number}
        ),
    }

    run(paths, path, expected, model)

    assert fragment in expected[0]


# --- pacts ---------------------------------------------------------------------------------------

SIGNING_CASES = {
    "in the future": (lambda: timezone.localdate() + timedelta(days=1), "cannot be signed in the future"),
    "before the current version": (lambda: date(2019, 1, 31), "before the current one"),
}


@pytest.mark.parametrize("case", SIGNING_CASES)
@pytest.mark.parametrize("path", ["admin", "API"])
def test_a_pact_is_signed_on_a_day_not_in_the_future_nor_before_the_current_version(officer, cluster, case, path):
    services.pact_sign(pact=services.pact_create(cluster=cluster), signed_on=date(2019, 2, 15))
    draft = services.pact_create(cluster=cluster, programme_summary="Version two")
    day, fragment = SIGNING_CASES[case][0](), SIGNING_CASES[case][1]
    expected = refusal(lambda: services.pact_sign(pact=draft, signed_on=day))
    paths: Paths = {
        "admin": lambda: admin_save(
            officer, admin_url(draft, "change", draft.pk), {"sign": "on", "signed_on": day.isoformat()}
        ),
        "API": lambda: api(officer, "post", f"pacts/{draft.pk}/sign/", {"signed_on": day.isoformat()}),
    }

    run(paths, path, expected, ClusterPact)

    assert fragment in expected[0]
    assert ClusterPact.objects.get(pk=draft.pk).status == ClusterPact.Status.DRAFT
