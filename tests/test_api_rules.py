"""Every domain rule through the REST API: a 400 naming the field, with the service's own message
(English with `Accept-Language: en`, Dutch by default), and nothing saved.

The expected message is what the service (which the admin and the portal call too) raises for the
same input, in the same language; a few key facts (the latest allowed end date, the amount left) are
also checked literally, so a message that lost them would fail even if both sides lost them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Model
from django.test import Client
from django.utils import timezone, translation
from django.utils.formats import date_format

from clusterpacts import services as cp
from clusterpacts.models import (
    AnnualPlan,
    AnnualReport,
    ClusterPact,
    KpiDefinition,
    KpiTarget,
    KpiValue,
    Membership,
    Organisation,
    ReportEvent,
    Workflow,
)
from evaluations import services as ev
from evaluations.models import Evaluation, Lesson, Stage
from funding import services as fs
from funding.models import Allocation, BudgetYear, SupportAgreement, display_eur
from tests import factories
from tests.api_helpers import ApiClient
from tests.funding.helpers import YEARLY, make_chain, row_counts

pytestmark = pytest.mark.django_db

# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture(params=["en", "nl"])
def lang(request: pytest.FixtureRequest) -> str:
    """English when the request asks for it; Dutch (the default) when it sends no Accept-Language."""
    return request.param


@pytest.fixture
def api(officer, lang) -> Client:
    client = ApiClient(HTTP_ACCEPT_LANGUAGE="en") if lang == "en" else ApiClient()
    client.force_login(officer)
    return client


def send(client: Client, method: str, url: str, data: dict[str, Any] | None = None) -> Any:
    return getattr(client, method)(url, data or {}, content_type="application/json")


def service_errors(call: Callable[[], Any], lang: str) -> dict[str, list[str]]:
    """What the service says about the same input, keyed like DRF's errors (non_field_errors)."""
    with translation.override(lang):
        with pytest.raises(ValidationError) as caught:
            call()
        # Lazy messages (Django's "already exists") are rendered here, in the language asked for.
        error = caught.value
        errors = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
    return {("non_field_errors" if name == NON_FIELD_ERRORS else name): list(msgs) for name, msgs in errors.items()}


def shown(day: date, lang: str) -> str:
    with translation.override(lang):
        return date_format(day, "SHORT_DATE_FORMAT")


def eur(amount: Decimal, lang: str) -> str:
    with translation.override(lang):
        return display_eur(amount)


def assert_refused(response: Any, expected: dict[str, list[str]], before: dict[str, int], *models: type[Model]):
    """A 400 whose body is exactly the service's errors, and no row (nor history row) was written."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert body == expected
    assert row_counts(*models) == before
    return body


def text(errors: dict[str, list[str]], field: str) -> str:
    return " ".join(errors[field])


# --- support agreements --------------------------------------------------------------------------


def agreement_payload(cluster, **changes: Any) -> dict[str, Any]:
    payload = {
        "cluster": cluster.pk,
        "reference": "SO-NEW",
        "start_date": "2017-01-01",
        "end_date": "2019-12-31",
        "amount": "500000.00",
    }
    payload.update(changes)
    return payload


def create_agreement_like(payload: dict[str, Any]) -> Callable[[], SupportAgreement]:
    """The service call the admin makes for the same payload."""

    def call() -> SupportAgreement:
        predecessor = SupportAgreement.objects.get(pk=payload["predecessor"]) if payload.get("predecessor") else None
        return fs.agreement_save(
            agreement=SupportAgreement(
                cluster_id=payload["cluster"],
                reference=payload["reference"],
                start_date=date.fromisoformat(payload["start_date"]),
                end_date=date.fromisoformat(payload["end_date"]),
                amount=Decimal(payload["amount"]),
                predecessor=predecessor,
            )
        )

    return call


@pytest.fixture
def first_term(cluster) -> SupportAgreement:
    return fs.agreement_create(
        cluster=cluster, reference="SO-1", start_date=date(2017, 1, 1), end_date=date(2019, 12, 31), amount=YEARLY
    )


def test_agreement_term_over_three_years_is_refused_on_end_date_with_the_latest_allowed_end(api, lang, cluster):
    payload = agreement_payload(cluster, end_date="2020-01-01")
    expected = service_errors(create_agreement_like(payload), lang)
    before = row_counts(SupportAgreement)

    body = assert_refused(send(api, "post", "/api/v1/agreements/", payload), expected, before, SupportAgreement)

    assert set(body) == {"end_date"}
    assert shown(date(2019, 12, 31), lang) in text(body, "end_date")


def test_agreement_overlapping_the_chain_without_extending_it_is_refused(api, lang, cluster, first_term):
    payload = agreement_payload(cluster, start_date="2018-01-01", end_date="2020-12-31")
    expected = service_errors(create_agreement_like(payload), lang)
    before = row_counts(SupportAgreement)

    body = assert_refused(send(api, "post", "/api/v1/agreements/", payload), expected, before, SupportAgreement)

    # Overlap on the start date; "one chain per cluster" on the predecessor it should have named.
    assert set(body) == {"start_date", "predecessor"}
    assert "SO-1" in text(body, "start_date")
    assert "SO-1" in text(body, "predecessor")


def test_second_chain_after_the_first_is_refused_on_predecessor(api, lang, cluster, first_term):
    payload = agreement_payload(cluster, start_date="2020-01-01", end_date="2022-12-31")
    expected = service_errors(create_agreement_like(payload), lang)
    before = row_counts(SupportAgreement)

    body = assert_refused(send(api, "post", "/api/v1/agreements/", payload), expected, before, SupportAgreement)

    assert set(body) == {"predecessor"}


def test_extension_without_a_completed_interim_evaluation_is_refused_on_predecessor(api, lang, cluster, first_term):
    factories.EvaluationFactory(cluster=cluster)  # planned, not completed: does not count
    payload = agreement_payload(cluster, start_date="2020-01-01", end_date="2022-12-31", predecessor=first_term.pk)
    expected = service_errors(create_agreement_like(payload), lang)
    before = row_counts(SupportAgreement)

    body = assert_refused(send(api, "post", "/api/v1/agreements/", payload), expected, before, SupportAgreement)

    assert set(body) == {"predecessor"}
    assert cluster.name in text(body, "predecessor")


def test_extension_not_starting_the_day_after_its_predecessor_is_refused_on_start_date(api, lang, cluster, first_term):
    factories.completed_interim(cluster, date(2018, 6, 1))
    payload = agreement_payload(cluster, start_date="2020-02-01", end_date="2022-12-31", predecessor=first_term.pk)
    expected = service_errors(create_agreement_like(payload), lang)
    before = row_counts(SupportAgreement)

    body = assert_refused(send(api, "post", "/api/v1/agreements/", payload), expected, before, SupportAgreement)

    assert set(body) == {"start_date"}
    assert shown(date(2020, 1, 1), lang) in text(body, "start_date")


def test_extension_past_the_ten_year_cap_names_the_latest_allowed_end_date(api, lang, cluster):
    chain = make_chain(
        cluster,
        [
            (date(2017, 1, 1), date(2019, 12, 31)),
            (date(2020, 1, 1), date(2022, 12, 31)),
            (date(2023, 1, 1), date(2025, 12, 31)),
        ],
    )
    factories.completed_interim(cluster, date(2024, 6, 1))
    payload = agreement_payload(cluster, start_date="2026-01-01", end_date="2028-12-31", predecessor=chain[-1].pk)
    expected = service_errors(create_agreement_like(payload), lang)
    before = row_counts(SupportAgreement)

    body = assert_refused(send(api, "post", "/api/v1/agreements/", payload), expected, before, SupportAgreement)

    assert set(body) == {"end_date"}
    message = text(body, "end_date")
    assert shown(date(2026, 12, 31), lang) in message  # first start + 10 years - 1 day
    assert ("10-year cap" in message) if lang == "en" else ("uiterste toegelaten einddatum" in message)


def test_changing_an_agreement_to_run_past_three_years_is_refused_and_unchanged(api, lang, cluster, first_term):
    def call() -> None:
        stored = SupportAgreement.objects.get(pk=first_term.pk)
        stored.end_date = date(2020, 6, 30)
        fs.agreement_save(agreement=stored)

    expected = service_errors(call, lang)
    before = row_counts(SupportAgreement)

    response = send(api, "patch", f"/api/v1/agreements/{first_term.pk}/", {"end_date": "2020-06-30"})

    assert_refused(response, expected, before, SupportAgreement)
    first_term.refresh_from_db()
    assert first_term.end_date == date(2019, 12, 31)


def test_agreement_reference_already_used_is_refused_on_reference(api, lang, cluster, other_cluster, first_term):
    payload = agreement_payload(other_cluster, reference="SO-1")
    expected = service_errors(create_agreement_like(payload), lang)
    before = row_counts(SupportAgreement)

    body = assert_refused(send(api, "post", "/api/v1/agreements/", payload), expected, before, SupportAgreement)

    assert set(body) == {"reference"}


def test_second_extension_of_the_same_agreement_is_refused_on_predecessor(api, lang, cluster, first_term):
    factories.completed_interim(cluster, date(2018, 6, 1))
    fs.agreement_extend(predecessor=first_term, reference="SO-2", end_date=date(2022, 12, 31), amount=YEARLY)
    payload = agreement_payload(
        cluster, reference="SO-2B", start_date="2020-01-01", end_date="2020-12-31", predecessor=first_term.pk
    )
    expected = service_errors(create_agreement_like(payload), lang)
    before = row_counts(SupportAgreement)

    body = assert_refused(send(api, "post", "/api/v1/agreements/", payload), expected, before, SupportAgreement)

    assert "predecessor" in body


# --- budget and allocations ----------------------------------------------------------------------


@pytest.fixture
def budget_2020(cluster) -> BudgetYear:
    budget_year = fs.budget_year_save(budget_year=BudgetYear(year=2020, envelope=Decimal("10000000")))
    fs.allocation_save(
        allocation=Allocation(
            budget_year=budget_year, purpose=Allocation.Purpose.COMPETITIVENESS, cluster=cluster, amount=8_000_000
        ),
        partners=[],
    )
    return budget_year


def allocation_like(payload: dict[str, Any]) -> Callable[[], Allocation]:
    def call() -> Allocation:
        from clusterpacts.models import Cluster

        return fs.allocation_save(
            allocation=Allocation(
                budget_year_id=payload["budget_year"],
                purpose=payload["purpose"],
                cluster_id=payload.get("cluster"),
                amount=Decimal(str(payload["amount"])),
            ),
            partners=list(Cluster.objects.filter(pk__in=payload.get("partners", []))),
        )

    return call


ALLOCATION_MODELS = (Allocation, BudgetYear)


def test_allocation_over_the_envelope_is_refused_on_amount_with_the_amount_left(api, lang, budget_2020):
    payload = {"budget_year": budget_2020.pk, "purpose": "other", "amount": "3000000.00"}
    expected = service_errors(allocation_like(payload), lang)
    before = row_counts(*ALLOCATION_MODELS)

    body = assert_refused(send(api, "post", "/api/v1/allocations/", payload), expected, before, *ALLOCATION_MODELS)

    assert set(body) == {"amount"}
    assert eur(Decimal("2000000"), lang) in text(body, "amount")


def test_competitiveness_allocation_without_a_cluster_is_refused_on_cluster(api, lang, budget_2020):
    payload = {"budget_year": budget_2020.pk, "purpose": "competitiveness", "amount": "1000.00"}
    expected = service_errors(allocation_like(payload), lang)
    before = row_counts(*ALLOCATION_MODELS)

    body = assert_refused(send(api, "post", "/api/v1/allocations/", payload), expected, before, *ALLOCATION_MODELS)

    assert set(body) == {"cluster"}


def test_second_competitiveness_reservation_for_a_cluster_and_year_is_refused(api, lang, cluster, budget_2020):
    payload = {"budget_year": budget_2020.pk, "purpose": "competitiveness", "cluster": cluster.pk, "amount": "1000.00"}
    expected = service_errors(allocation_like(payload), lang)
    before = row_counts(*ALLOCATION_MODELS)

    body = assert_refused(send(api, "post", "/api/v1/allocations/", payload), expected, before, *ALLOCATION_MODELS)

    assert "non_field_errors" in body


def test_inter_cluster_allocation_with_one_partner_is_refused_on_partners(api, lang, cluster, budget_2020):
    payload = {
        "budget_year": budget_2020.pk,
        "purpose": "inter_cluster",
        "partners": [cluster.pk],
        "amount": "1000.00",
    }
    expected = service_errors(allocation_like(payload), lang)
    before = row_counts(*ALLOCATION_MODELS)

    body = assert_refused(send(api, "post", "/api/v1/allocations/", payload), expected, before, *ALLOCATION_MODELS)

    assert set(body) == {"partners"}


def test_allocation_of_zero_is_refused_on_amount(api, lang, other_cluster, budget_2020):
    payload = {"budget_year": budget_2020.pk, "purpose": "competitiveness", "cluster": other_cluster.pk, "amount": 0}
    expected = service_errors(allocation_like(payload), lang)
    before = row_counts(*ALLOCATION_MODELS)

    body = assert_refused(send(api, "post", "/api/v1/allocations/", payload), expected, before, *ALLOCATION_MODELS)

    assert set(body) == {"amount"}


# --- organisations and memberships ---------------------------------------------------------------


def organisation_like(payload: dict[str, Any]) -> Callable[[], Organisation]:
    return lambda: cp.entity_save(instance=Organisation(**payload))


@pytest.mark.parametrize("number", ["0123.456.789", "0123456789", "BE 0123 456 789"])
def test_enterprise_number_with_a_bad_check_digit_is_refused_in_any_notation(api, lang, number):
    payload = {"name": "Acme", "kind": "sme", "enterprise_number": number}
    expected = service_errors(organisation_like(payload), lang)
    before = row_counts(Organisation)

    body = assert_refused(send(api, "post", "/api/v1/organisations/", payload), expected, before, Organisation)

    assert set(body) == {"enterprise_number"}
    assert "0123.456.789" in text(body, "enterprise_number")


def test_enterprise_number_dotted_and_plain_are_stored_the_same_and_clash(api, lang):
    created = send(
        api, "post", "/api/v1/organisations/", {"name": "Acme", "kind": "sme", "enterprise_number": "0123.456.749"}
    )
    assert created.status_code == 201, created.content
    assert created.json()["enterprise_number"] == "0123456749"
    assert Organisation.objects.get(pk=created.json()["id"]).enterprise_number == "0123456749"
    found = api.get("/api/v1/organisations/", {"enterprise_number": "0123456749"}).json()
    assert [row["id"] for row in found["results"]] == [created.json()["id"]]

    payload = {"name": "Acme again", "kind": "company", "enterprise_number": "BE0123456749"}
    expected = service_errors(organisation_like(payload), lang)
    before = row_counts(Organisation)

    body = assert_refused(send(api, "post", "/api/v1/organisations/", payload), expected, before, Organisation)

    assert set(body) == {"enterprise_number"}


def test_an_organisation_that_ceases_before_its_founding_is_refused_on_ceased_on(api, lang):
    payload = {"name": "Acme", "kind": "sme", "founded_on": "2020-01-01", "ceased_on": "2019-12-31"}
    expected = service_errors(
        organisation_like({**payload, "founded_on": date(2020, 1, 1), "ceased_on": date(2019, 12, 31)}), lang
    )
    before = row_counts(Organisation)

    body = assert_refused(send(api, "post", "/api/v1/organisations/", payload), expected, before, Organisation)

    assert set(body) == {"ceased_on"}


def test_cluster_slug_already_used_is_refused_on_slug(api, lang, cluster):
    from clusterpacts.models import Cluster

    payload = {"name": "Another", "slug": cluster.slug}
    expected = service_errors(lambda: cp.entity_save(instance=Cluster(**payload)), lang)
    before = row_counts(Cluster)

    body = assert_refused(send(api, "post", "/api/v1/clusters/", payload), expected, before, Cluster)

    assert set(body) == {"slug"}


@pytest.fixture
def acme(cluster) -> Organisation:
    return factories.OrganisationFactory(name="Acme")


def membership_like(payload: dict[str, Any]) -> Callable[[], Membership]:
    def call() -> Membership:
        return cp.membership_save(
            membership=Membership(
                organisation_id=payload["organisation"],
                cluster_id=payload["cluster"],
                joined_on=date.fromisoformat(payload["joined_on"]),
                left_on=date.fromisoformat(payload["left_on"]) if payload.get("left_on") else None,
            )
        )

    return call


def test_membership_left_before_joined_is_refused_on_left_on(api, lang, cluster, acme):
    payload = {"organisation": acme.pk, "cluster": cluster.pk, "joined_on": "2020-01-01", "left_on": "2019-06-30"}
    expected = service_errors(membership_like(payload), lang)
    before = row_counts(Membership)

    body = assert_refused(send(api, "post", "/api/v1/memberships/", payload), expected, before, Membership)

    assert set(body) == {"left_on"}
    assert shown(date(2019, 6, 30), lang) in text(body, "left_on")


def test_overlapping_membership_of_one_organisation_in_one_cluster_is_refused_on_joined_on(api, lang, cluster, acme):
    cp.membership_save(membership=Membership(organisation=acme, cluster=cluster, joined_on=date(2018, 1, 1)))
    payload = {"organisation": acme.pk, "cluster": cluster.pk, "joined_on": "2019-01-01"}
    expected = service_errors(membership_like(payload), lang)
    before = row_counts(Membership)

    body = assert_refused(send(api, "post", "/api/v1/memberships/", payload), expected, before, Membership)

    assert set(body) == {"joined_on"}
    assert "Acme" in text(body, "joined_on")


# --- annual reports and their workflow -----------------------------------------------------------

REPORT_MODELS = (AnnualReport, ReportEvent, KpiValue)


def test_report_for_a_working_year_not_started_is_refused_on_year(api, lang, cluster):
    next_year = timezone.localdate().year + 1
    expected = service_errors(lambda: cp.annual_report_create(cluster=cluster, year=next_year), lang)
    before = row_counts(*REPORT_MODELS)

    response = send(api, "post", "/api/v1/annual-reports/", {"cluster": cluster.pk, "year": next_year})

    body = assert_refused(response, expected, before, *REPORT_MODELS)
    assert set(body) == {"year"}
    assert str(next_year) in text(body, "year")


def test_second_report_for_a_cluster_and_working_year_is_refused(api, lang, cluster):
    cp.annual_report_create(cluster=cluster, year=2020)
    expected = service_errors(lambda: cp.annual_report_create(cluster=cluster, year=2020), lang)
    before = row_counts(*REPORT_MODELS)

    response = send(api, "post", "/api/v1/annual-reports/", {"cluster": cluster.pk, "year": 2020})

    body = assert_refused(response, expected, before, *REPORT_MODELS)
    assert set(body) == {"non_field_errors"}


@pytest.fixture
def report(cluster) -> AnnualReport:
    return cp.annual_report_create(cluster=cluster, year=2020, narrative="First draft")


def test_accepting_a_draft_is_an_illegal_transition_refused_on_status(api, lang, report):
    expected = service_errors(lambda: cp.annual_report_accept(report=report), lang)
    before = row_counts(*REPORT_MODELS)

    response = send(api, "post", f"/api/v1/annual-reports/{report.pk}/accept/")

    body = assert_refused(response, expected, before, *REPORT_MODELS)
    assert set(body) == {"status"}
    report.refresh_from_db()
    assert report.status == Workflow.DRAFT


def test_submitting_a_submitted_report_again_is_refused_on_status(api, lang, report):
    cp.annual_report_submit(report=factories.complete_report(report))
    expected = service_errors(lambda: cp.annual_report_submit(report=report), lang)
    before = row_counts(*REPORT_MODELS)

    body = assert_refused(
        send(api, "post", f"/api/v1/annual-reports/{report.pk}/submit/"), expected, before, *REPORT_MODELS
    )
    assert set(body) == {"status"}


@pytest.mark.parametrize("data", [{}, {"comment": ""}, {"comment": "   "}])
def test_returning_a_report_without_a_comment_is_refused_on_comment(api, lang, report, data):
    cp.annual_report_submit(report=factories.complete_report(report))
    expected = service_errors(lambda: cp.annual_report_return(report=report, comment=""), lang)
    before = row_counts(*REPORT_MODELS)

    response = send(api, "post", f"/api/v1/annual-reports/{report.pk}/return/", data)

    # The API's field is `comment` (the service stores it as review_comment): same message.
    assert response.status_code == 400, response.content
    assert response.json() == {"comment": expected["review_comment"]}
    assert row_counts(*REPORT_MODELS) == before
    report.refresh_from_db()
    assert report.status == Workflow.SUBMITTED


@pytest.fixture
def accepted_report(report) -> AnnualReport:
    cp.annual_report_submit(report=factories.complete_report(report))
    cp.annual_report_accept(report=report)
    return report


def test_an_officer_changing_an_accepted_report_is_refused_and_it_stays_unchanged(api, lang, accepted_report):
    def call() -> None:
        stored = AnnualReport.objects.get(pk=accepted_report.pk)
        cp.document_update(document=stored, narrative="Rewritten")

    expected = service_errors(call, lang)
    before = row_counts(*REPORT_MODELS)

    response = send(api, "patch", f"/api/v1/annual-reports/{accepted_report.pk}/", {"narrative": "Rewritten"})

    assert_refused(response, expected, before, *REPORT_MODELS)
    accepted_report.refresh_from_db()
    assert accepted_report.narrative == "First draft"


def test_a_manager_changing_their_accepted_report_is_forbidden_and_it_stays_unchanged(
    client, manager, accepted_report
):
    client.force_login(manager)
    before = row_counts(*REPORT_MODELS)

    response = send(client, "patch", f"/api/v1/annual-reports/{accepted_report.pk}/", {"narrative": "Rewritten"})

    assert response.status_code == 403, response.content
    assert row_counts(*REPORT_MODELS) == before
    accepted_report.refresh_from_db()
    assert accepted_report.narrative == "First draft"


@pytest.mark.parametrize(("code", "value"), [("C6", "101"), ("CPI1", "2.5"), ("CPI1", "-1")])
def test_kpi_value_out_of_its_unit_is_refused_on_value(api, lang, report, code, value):
    kpi = factories.kpi(code)
    # The API reads a value as the model stores it, with 2 decimals: the message quotes 101.00.
    parsed = Decimal(value).quantize(Decimal("0.01"))
    expected = service_errors(lambda: cp.kpi_value_set(report=report, kpi=kpi, value=parsed), lang)
    before = row_counts(*REPORT_MODELS)

    response = send(api, "post", "/api/v1/kpi-values/", {"report": report.pk, "kpi": kpi.pk, "value": value})

    body = assert_refused(response, expected, before, *REPORT_MODELS)
    assert set(body) == {"value"}
    assert code in text(body, "value")


def test_kpi_value_in_an_accepted_report_is_refused(api, lang, accepted_report):
    # An accepted report has a value for every KPI of its day: a new value is for a KPI added since.
    kpi = cp.entity_save(
        instance=KpiDefinition(
            code="NEW1",
            name_nl="Nieuwe indicator",
            name_en="New indicator",
            unit=KpiDefinition.Unit.COUNT,
            category=KpiDefinition.Category.DIRECT_RESULTS,
        )
    )
    expected = service_errors(lambda: cp.kpi_value_set(report=accepted_report, kpi=kpi, value=Decimal(3)), lang)
    before = row_counts(*REPORT_MODELS)

    response = send(api, "post", "/api/v1/kpi-values/", {"report": accepted_report.pk, "kpi": kpi.pk, "value": 3})

    assert_refused(response, expected, before, *REPORT_MODELS)


# --- submitting only a complete plan or report ---------------------------------------------------

PLAN_MODELS = (AnnualPlan, ReportEvent, KpiTarget)


@pytest.fixture
def manager_api(manager, lang) -> Client:
    client = ApiClient(HTTP_ACCEPT_LANGUAGE="en") if lang == "en" else ApiClient()
    client.force_login(manager)
    return client


def active_codes(*, but: tuple[str, ...] = ()) -> str:
    """The active KPI codes in catalogue order (as the services list them), less `but`."""
    codes = KpiDefinition.objects.filter(active=True).exclude(code__in=but).values_list("code", flat=True)
    return ", ".join(codes)


def assert_still_a_draft_and_nobody_told(document: Any, mailoutbox: list[Any]) -> None:
    document.refresh_from_db()
    assert (document.status, document.submitted_at) == (Workflow.DRAFT, None)
    assert not ReportEvent.objects.exists()
    assert mailoutbox == []


def submit_through_the_api(client: Client, url: str, capture: Any) -> Any:
    # Run the on-commit callbacks, so a submission that went through would also send its e-mail.
    with capture(execute=True):
        return send(client, "post", url)


def test_submitting_a_report_missing_kpi_values_is_refused_naming_them_and_nothing_happens(
    manager_api, lang, manager, officer, report, mailoutbox, django_capture_on_commit_callbacks
):
    cp.kpi_value_set(report=report, kpi=factories.kpi("CPI1"), value=Decimal(12))
    cp.kpi_value_set(report=report, kpi=factories.kpi("C6"), value=Decimal(40))
    expected = service_errors(lambda: cp.document_submit(document=report, by=manager), lang)
    before = row_counts(*REPORT_MODELS)

    response = submit_through_the_api(
        manager_api, f"/api/v1/annual-reports/{report.pk}/submit/", django_capture_on_commit_callbacks
    )

    body = assert_refused(response, expected, before, *REPORT_MODELS)
    assert set(body) == {"non_field_errors"}
    message = text(body, "non_field_errors")
    # The derived KPIs are computed from the memberships or the projects, never entered: never missing.
    derived = tuple(KpiDefinition.objects.filter(source=KpiDefinition.Source.DERIVED).values_list("code", flat=True))
    assert message.endswith(f": {active_codes(but=('CPI1', 'C6', *derived))}."), "every missing code, only those"
    assert ("Give a value for every KPI" in message) if lang == "en" else ("Vul voor elke KPI een waarde" in message)
    assert_still_a_draft_and_nobody_told(report, mailoutbox)


@pytest.mark.parametrize("narrative", ["", "  \n\t"], ids=["empty", "whitespace"])
def test_submitting_a_report_without_a_narrative_is_refused_on_narrative_and_nothing_happens(
    manager_api, lang, manager, officer, report, narrative, mailoutbox, django_capture_on_commit_callbacks
):
    factories.complete_report(report)
    cp.document_update(document=report, narrative=narrative)
    expected = service_errors(lambda: cp.document_submit(document=report, by=manager), lang)
    before = row_counts(*REPORT_MODELS)

    response = submit_through_the_api(
        manager_api, f"/api/v1/annual-reports/{report.pk}/submit/", django_capture_on_commit_callbacks
    )

    body = assert_refused(response, expected, before, *REPORT_MODELS)
    assert set(body) == {"narrative"}, "every KPI has its value: only the narrative is missing"
    message = text(body, "narrative")
    assert ("Write the narrative" in message) if lang == "en" else ("Schrijf de toelichting" in message)
    assert_still_a_draft_and_nobody_told(report, mailoutbox)


def test_submitting_a_plan_missing_kpi_targets_is_refused_naming_them_and_nothing_happens(
    manager_api, lang, manager, officer, cluster, mailoutbox, django_capture_on_commit_callbacks
):
    plan = cp.annual_plan_create(cluster=cluster, year=2021, planned_actions="Two calls.")
    cp.kpi_target_set(plan=plan, kpi=factories.kpi("CPI9"), value=Decimal(5))
    expected = service_errors(lambda: cp.document_submit(document=plan, by=manager), lang)
    before = row_counts(*PLAN_MODELS)

    response = submit_through_the_api(
        manager_api, f"/api/v1/annual-plans/{plan.pk}/submit/", django_capture_on_commit_callbacks
    )

    body = assert_refused(response, expected, before, *PLAN_MODELS)
    assert set(body) == {"non_field_errors"}
    message = text(body, "non_field_errors")
    assert message.endswith(f": {active_codes(but=('CPI9',))}."), "every missing code, and only those"
    assert ("Give a target for every KPI" in message) if lang == "en" else ("Geef voor elke KPI een streef" in message)
    assert_still_a_draft_and_nobody_told(plan, mailoutbox)


def test_a_complete_report_submitted_through_the_api_becomes_submitted(
    client, manager, officer, report, mailoutbox, django_capture_on_commit_callbacks
):
    factories.complete_report(report)
    client.force_login(manager)

    response = submit_through_the_api(
        client, f"/api/v1/annual-reports/{report.pk}/submit/", django_capture_on_commit_callbacks
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "submitted"
    report.refresh_from_db()
    assert report.status == Workflow.SUBMITTED and report.submitted_at is not None
    event = ReportEvent.objects.get(report=report)
    assert (event.from_status, event.to_status, event.by) == (Workflow.DRAFT, Workflow.SUBMITTED, manager)
    assert [message.to for message in mailoutbox] == [[officer.email]]


# --- evaluations, lessons and pacts --------------------------------------------------------------

EVALUATION_MODELS = (Evaluation, Lesson, ClusterPact)


@pytest.fixture
def evaluation_in_progress(cluster) -> Evaluation:
    evaluation = factories.EvaluationFactory(cluster=cluster)
    return ev.evaluation_advance(evaluation=evaluation, to=Stage.IN_PROGRESS, on=date(2019, 2, 1))


def test_evaluation_advanced_back_a_stage_is_refused_on_stage(api, lang, evaluation_in_progress):
    evaluation = evaluation_in_progress
    expected = service_errors(
        lambda: ev.evaluation_advance(evaluation=evaluation, to=Stage.PLANNED, on=date(2019, 3, 1)), lang
    )
    before = row_counts(*EVALUATION_MODELS)

    response = send(
        api, "post", f"/api/v1/evaluations/{evaluation.pk}/advance/", {"stage": "planned", "on": "2019-03-01"}
    )

    body = assert_refused(response, expected, before, *EVALUATION_MODELS)
    assert set(body) == {"stage"}
    evaluation.refresh_from_db()
    assert evaluation.stage == Stage.IN_PROGRESS


def test_evaluation_edited_back_a_stage_is_refused_on_stage(api, lang, evaluation_in_progress):
    evaluation = evaluation_in_progress

    def call() -> None:
        stored = Evaluation.objects.get(pk=evaluation.pk)
        cp.entity_save(instance=stored, stage=Stage.PLANNED)

    expected = service_errors(call, lang)
    before = row_counts(*EVALUATION_MODELS)

    response = send(api, "patch", f"/api/v1/evaluations/{evaluation.pk}/", {"stage": "planned"})

    body = assert_refused(response, expected, before, *EVALUATION_MODELS)
    assert "stage" in body
    evaluation.refresh_from_db()
    assert evaluation.stage == Stage.IN_PROGRESS


def test_evaluation_completed_without_a_conclusion_is_refused_on_conclusion(api, lang, evaluation_in_progress):
    evaluation = evaluation_in_progress
    expected = service_errors(
        lambda: ev.evaluation_advance(evaluation=evaluation, to=Stage.COMPLETED, on=date(2019, 5, 15)), lang
    )
    before = row_counts(*EVALUATION_MODELS)

    response = send(
        api, "post", f"/api/v1/evaluations/{evaluation.pk}/advance/", {"stage": "completed", "on": "2019-05-15"}
    )

    body = assert_refused(response, expected, before, *EVALUATION_MODELS)
    assert "conclusion" in body
    evaluation.refresh_from_db()
    assert (evaluation.stage, evaluation.completed_on) == (Stage.IN_PROGRESS, None)


def test_lesson_carried_into_a_pact_signed_before_the_evaluation_completed_is_refused(api, lang, cluster):
    pact = cp.pact_sign(pact=cp.pact_create(cluster=cluster), signed_on=date(2017, 12, 15))
    evaluation = factories.completed_interim(cluster, date(2019, 5, 15))
    payload = {
        "evaluation": evaluation.pk,
        "kind": "good_practice",
        "text": "Open calls work",
        "carried_into": pact.pk,
        "status": "carried",
    }

    def call() -> Lesson:
        return cp.entity_save(
            instance=Lesson(
                evaluation=evaluation,
                kind="good_practice",
                text="Open calls work",
                carried_into=pact,
                status="carried",
            )
        )

    expected = service_errors(call, lang)
    before = row_counts(*EVALUATION_MODELS)

    body = assert_refused(send(api, "post", "/api/v1/lessons/", payload), expected, before, *EVALUATION_MODELS)

    assert set(body) == {"carried_into"}
    assert shown(date(2019, 5, 15), lang) in text(body, "carried_into")


def test_pact_signed_in_the_future_is_refused_on_signed_on(api, lang, cluster):
    pact = cp.pact_create(cluster=cluster)
    tomorrow = timezone.localdate() + timedelta(days=1)
    expected = service_errors(lambda: cp.pact_sign(pact=pact, signed_on=tomorrow), lang)
    before = row_counts(*EVALUATION_MODELS)

    response = send(api, "post", f"/api/v1/pacts/{pact.pk}/sign/", {"signed_on": tomorrow.isoformat()})

    body = assert_refused(response, expected, before, *EVALUATION_MODELS)
    assert set(body) == {"signed_on"}
    pact.refresh_from_db()
    assert (pact.status, pact.signed_on) == (ClusterPact.Status.DRAFT, None)


def test_the_default_language_of_an_api_error_is_dutch(client, officer, cluster):
    """The same refusal in Dutch without Accept-Language and in English when asked: not one text twice."""
    client.force_login(officer)
    payload = agreement_payload(cluster, end_date="2020-01-01")
    dutch = send(client, "post", "/api/v1/agreements/", payload).json()["end_date"]
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    english.force_login(officer)
    in_english = send(english, "post", "/api/v1/agreements/", payload).json()["end_date"]

    assert dutch != in_english
    assert "3 years" in in_english[0]
    assert "maximaal 3 jaar" in dutch[0]


def test_changing_a_target_entered_without_a_plan_is_a_400_and_changes_nothing(officer, cluster):
    """Targets typed in the admin may have no plan; the API, which sets targets through a plan, refuses."""
    from clusterpacts.models import KpiDefinition, KpiTarget

    target = KpiTarget.objects.create(
        cluster=cluster, kpi=KpiDefinition.objects.get(code="CPI1"), year=2020, value=Decimal(5)
    )
    client = ApiClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(officer)
    response = send(client, "patch", f"/api/v1/kpi-targets/{target.pk}/", {"value": "7"})
    assert response.status_code == 400
    assert "plan" in response.json()
    target.refresh_from_db()
    assert target.value == Decimal(5) and target.plan is None


def test_evaluation_registered_after_it_started_is_refused_on_started_on(api, lang, evaluation_in_progress):
    evaluation = evaluation_in_progress  # started on 2019-01-10
    late = (evaluation.started_on + timedelta(days=5)).isoformat()

    def call() -> None:
        cp.entity_save(instance=Evaluation.objects.get(pk=evaluation.pk), registered_on=date.fromisoformat(late))

    expected = service_errors(call, lang)
    before = row_counts(*EVALUATION_MODELS)

    response = send(api, "patch", f"/api/v1/evaluations/{evaluation.pk}/", {"registered_on": late})

    body = assert_refused(response, expected, before, *EVALUATION_MODELS)
    assert set(body) == {"started_on"}
    evaluation.refresh_from_db()
    assert evaluation.registered_on is None


def test_submitting_through_the_api_needs_no_membership_kpi_and_stores_none(
    client, manager, cluster, report, django_capture_on_commit_callbacks
):
    """MEM1 and MEM2 are computed from the memberships whenever they are read; a report holds no value for them."""
    from clusterpacts.models import KpiDefinition, KpiValue

    reported = KpiDefinition.objects.filter(active=True).exclude(source=KpiDefinition.Source.DERIVED)
    for kpi in reported:
        cp.kpi_value_set(report=report, kpi=kpi, value=factories.FIGURE_BY_UNIT[kpi.unit])
    client.force_login(manager)

    response = submit_through_the_api(
        client, f"/api/v1/annual-reports/{report.pk}/submit/", django_capture_on_commit_callbacks
    )

    assert response.status_code == 200, response.content
    assert not KpiValue.objects.filter(report=report, kpi__source=KpiDefinition.Source.DERIVED).exists()


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_membership_kpi_is_refused_through_the_api_as_by_the_service(client, manager, report, lang):
    from clusterpacts.models import KpiValue

    mem1 = factories.kpi("MEM1")
    expected = service_errors(lambda: cp.kpi_value_set(report=report, kpi=mem1, value=Decimal(40)), lang)
    client.force_login(manager)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = lang

    response = send(client, "post", "/api/v1/kpi-values/", {"report": report.pk, "kpi": mem1.pk, "value": 40})

    assert response.status_code == 400, response.content
    assert response.json() == expected
    assert not KpiValue.objects.exists()
