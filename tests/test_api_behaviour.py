"""How the REST API behaves end to end: workflow actions, the flag scan, ETags and If-Match, tokens,
throttling, pagination, filters and ordering, and how values are written in JSON."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from knox.models import get_token_model

from clusterpacts import services as cp
from clusterpacts.models import (
    AnnualReport,
    Cluster,
    KpiDefinition,
    KpiValue,
    Membership,
    Organisation,
    ReportEvent,
    Workflow,
)
from evaluations.models import Evaluation
from funding import services as fs
from funding.models import Allocation, BudgetYear, Flag, SupportAgreement
from tests import factories
from tests.api_helpers import ApiClient
from tests.funding.helpers import YEARLY

pytestmark = pytest.mark.django_db

AuthToken = get_token_model()


def as_user(user: Any) -> Client:
    client = ApiClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def send(client: Client, method: str, url: str, data: Any = None, **headers: Any) -> Any:
    return getattr(client, method)(url, data if data is not None else {}, content_type="application/json", **headers)


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- workflow actions ----------------------------------------------------------------------------


def test_report_workflow_end_to_end_through_the_api(cluster, manager, officer):
    as_manager, as_officer = as_user(manager), as_user(officer)
    kpi = factories.kpi("CPI1")

    created = send(as_manager, "post", "/api/v1/annual-reports/", {"cluster": cluster.pk, "year": 2020})
    assert created.status_code == 201, created.content
    report_id = created.json()["id"]
    assert created.json()["status"] == "draft"
    value = send(as_manager, "post", "/api/v1/kpi-values/", {"report": report_id, "kpi": kpi.pk, "value": 12})
    assert value.status_code == 201, value.content
    value_id = value.json()["id"]
    assert value.json()["official"] is False
    # Only a complete report is submitted: a narrative and a value for every other active reported KPI too
    # (the derived ones, MEM1 and MEM2, are computed from the memberships, never entered).
    narrated = send(as_manager, "patch", f"/api/v1/annual-reports/{report_id}/", {"narrative": "What we did."})
    assert narrated.status_code == 200, narrated.content
    for other in KpiDefinition.objects.filter(active=True, source="reported").exclude(pk=kpi.pk):
        figure = {"report": report_id, "kpi": other.pk, "value": str(factories.FIGURE_BY_UNIT[other.unit])}
        added = send(as_manager, "post", "/api/v1/kpi-values/", figure)
        assert added.status_code == 201, added.content

    submitted = send(as_manager, "post", f"/api/v1/annual-reports/{report_id}/submit/")
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["submitted_at"] is not None
    # Submitted values are pending, not official; the manager can no longer change them.
    assert as_officer.get(f"/api/v1/kpi-values/{value_id}/").json()["official"] is False
    assert send(as_manager, "patch", f"/api/v1/kpi-values/{value_id}/", {"value": 13}).status_code == 403
    # A manager does not review their own report.
    assert send(as_manager, "post", f"/api/v1/annual-reports/{report_id}/accept/").status_code == 403

    returned = send(
        as_officer, "post", f"/api/v1/annual-reports/{report_id}/return/", {"comment": "CPI1 misses SMEs."}
    )
    assert returned.status_code == 200, returned.content
    assert returned.json()["status"] == "returned"
    assert returned.json()["review_comment"] == "CPI1 misses SMEs."

    edited = send(as_manager, "patch", f"/api/v1/annual-reports/{report_id}/", {"narrative": "Corrected."})
    assert edited.status_code == 200, edited.content
    corrected = send(as_manager, "patch", f"/api/v1/kpi-values/{value_id}/", {"value": 14})
    assert corrected.status_code == 200, corrected.content
    resubmitted = send(as_manager, "post", f"/api/v1/annual-reports/{report_id}/submit/")
    assert resubmitted.json()["status"] == "submitted"

    accepted = send(as_officer, "post", f"/api/v1/annual-reports/{report_id}/accept/", {"comment": "Thanks."})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted"
    assert accepted.headers["ETag"].startswith('"')

    official = as_officer.get(f"/api/v1/kpi-values/{value_id}/").json()
    assert (official["official"], official["value"]) == (True, 14)
    official_ids = ids(as_officer.get("/api/v1/kpi-values/", {"official": "true"}))
    assert value_id in official_ids
    assert sorted(official_ids) == sorted(KpiValue.objects.filter(report_id=report_id).values_list("pk", flat=True))
    report = AnnualReport.objects.get(pk=report_id)
    assert report.narrative == "Corrected."
    steps = list(ReportEvent.objects.filter(report=report).values_list("from_status", "to_status", "by__username"))
    assert steps == [
        ("draft", "submitted", manager.username),
        ("submitted", "returned", officer.username),
        ("returned", "submitted", manager.username),
        ("submitted", "accepted", officer.username),
    ]


def test_a_manager_cannot_submit_another_clusters_report(other_cluster, manager):
    report = cp.annual_report_create(cluster=other_cluster, year=2020)

    response = send(as_user(manager), "post", f"/api/v1/annual-reports/{report.pk}/submit/")

    assert response.status_code == 404
    report.refresh_from_db()
    assert report.status == Workflow.DRAFT


def test_annual_plan_workflow_actions_go_through_the_same_service(cluster, officer):
    plan = factories.complete_plan(cp.annual_plan_create(cluster=cluster, year=2021))
    client = as_user(officer)

    assert send(client, "post", f"/api/v1/annual-plans/{plan.pk}/submit/").json()["status"] == "submitted"
    assert send(client, "post", f"/api/v1/annual-plans/{plan.pk}/accept/").json()["status"] == "accepted"
    assert ReportEvent.objects.filter(plan=plan).count() == 2


# --- the flag scan -------------------------------------------------------------------------------

FLAG_FIELDS = {
    "id",
    "kind",
    "cluster",
    "agreement",
    "report",
    "year",
    "message",
    "raised_on",
    "due_on",
    "resolved_on",
    "notified_at",
}


def test_flag_scan_as_of_a_date_returns_what_it_raised_and_then_what_it_resolved(cluster, officer):
    agreement = fs.agreement_create(
        cluster=cluster, reference="SO-1", start_date=date(2021, 1, 1), end_date=date(2023, 12, 31), amount=YEARLY
    )
    client = as_user(officer)

    first = send(client, "post", "/api/v1/flags/scan/", {"as_of": "2023-09-01"})

    assert first.status_code == 200, first.content
    body = first.json()
    assert set(body) == {"as_of", "raised", "resolved"}
    assert body["as_of"] == "2023-09-01"
    assert body["resolved"] == []
    about_agreement = {flag["kind"] for flag in body["raised"] if flag["agreement"] == agreement.pk}
    assert about_agreement == {"renewal_due", "evaluation_missing"}
    for flag in body["raised"]:
        assert set(flag) == FLAG_FIELDS
        assert (flag["raised_on"], flag["resolved_on"]) == ("2023-09-01", None)
    renewal = next(flag for flag in body["raised"] if flag["kind"] == "renewal_due")
    assert renewal["due_on"] == "2023-12-31"
    assert Flag.objects.open().filter(agreement=agreement).count() == 2

    again = send(client, "post", "/api/v1/flags/scan/", {"as_of": "2023-09-01"}).json()
    assert (again["raised"], again["resolved"]) == ([], [])

    factories.completed_interim(cluster, date(2022, 6, 1))
    later = send(client, "post", "/api/v1/flags/scan/", {"as_of": "2023-09-02"}).json()

    assert [(flag["kind"], flag["resolved_on"]) for flag in later["resolved"]] == [
        ("evaluation_missing", "2023-09-02")
    ]
    assert later["raised"] == []
    assert Flag.objects.get(kind="evaluation_missing").resolved_on == date(2023, 9, 2)


def test_flag_scan_without_as_of_scans_as_of_today(cluster, officer):
    response = send(as_user(officer), "post", "/api/v1/flags/scan/", {})

    assert response.status_code == 200, response.content
    assert response.json()["as_of"] == timezone.localdate().isoformat()
    # The cluster started in 2017 and has no reports: every past working year is overdue.
    assert "report_overdue" in {flag["kind"] for flag in response.json()["raised"]}


def test_flag_scan_with_a_bad_as_of_is_a_400(officer):
    response = send(as_user(officer), "post", "/api/v1/flags/scan/", {"as_of": "31/12/2023"})

    assert response.status_code == 400
    assert "as_of" in response.json()
    assert Flag.objects.count() == 0


@pytest.mark.parametrize("who", ["manager", "reader"])
def test_only_officers_may_run_the_flag_scan(request, cluster, who):
    user = request.getfixturevalue(who)

    response = send(as_user(user), "post", "/api/v1/flags/scan/", {"as_of": "2023-09-01"})

    assert response.status_code == 403
    assert Flag.objects.count() == 0


# --- ETags and If-Match --------------------------------------------------------------------------


@pytest.fixture
def acme(cluster) -> Organisation:
    organisation = factories.OrganisationFactory(name="Acme")
    Membership.objects.create(organisation=organisation, cluster=cluster, joined_on=date(2018, 1, 1))
    return organisation


def test_detail_carries_an_etag_that_changes_after_an_update(officer, acme):
    client = as_user(officer)
    url = f"/api/v1/organisations/{acme.pk}/"
    first = client.get(url)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert client.get(url).headers["ETag"] == etag  # stable while nothing changes

    updated = send(client, "patch", url, {"name": "Acme NV"}, HTTP_IF_MATCH=etag)

    assert updated.status_code == 200, updated.content
    assert updated.headers["ETag"] != etag
    assert client.get(url).headers["ETag"] == updated.headers["ETag"]


@pytest.mark.parametrize("method", ["patch", "put"])
def test_a_write_with_a_stale_if_match_is_refused_with_412_and_changes_nothing(officer, acme, method):
    client = as_user(officer)
    url = f"/api/v1/organisations/{acme.pk}/"
    stale = client.get(url).headers["ETag"]
    Organisation.objects.filter(pk=acme.pk).update(name="Acme (changed by someone else)")
    history_before = acme.history.count()
    body = {"name": "Acme NV", "kind": "company", "enterprise_number": acme.enterprise_number}

    response = send(client, method, url, body, HTTP_IF_MATCH=stale)

    assert response.status_code == 412, response.content
    assert "detail" in response.json()
    acme.refresh_from_db()
    assert (acme.name, acme.kind) == ("Acme (changed by someone else)", "sme")
    assert acme.history.count() == history_before


@pytest.mark.parametrize("method", ["patch", "put"])
def test_a_write_with_the_current_if_match_succeeds(officer, acme, method):
    client = as_user(officer)
    url = f"/api/v1/organisations/{acme.pk}/"
    current = client.get(url).headers["ETag"]
    body = {"name": "Acme NV", "kind": "company", "enterprise_number": acme.enterprise_number}

    response = send(client, method, url, body, HTTP_IF_MATCH=current)

    assert response.status_code == 200, response.content
    acme.refresh_from_db()
    assert acme.name == "Acme NV"


def test_a_delete_with_a_stale_if_match_is_refused_and_with_the_current_one_deletes(officer, cluster):
    client = as_user(officer)
    organisation = factories.OrganisationFactory(name="Lonely")
    url = f"/api/v1/organisations/{organisation.pk}/"
    stale = client.get(url).headers["ETag"]
    Organisation.objects.filter(pk=organisation.pk).update(website="https://lonely.example")

    refused = client.delete(url, HTTP_IF_MATCH=stale)

    assert refused.status_code == 412
    assert Organisation.objects.filter(pk=organisation.pk).exists()
    current = client.get(url).headers["ETag"]
    assert client.delete(url, HTTP_IF_MATCH=current).status_code == 204
    assert not Organisation.objects.filter(pk=organisation.pk).exists()


@pytest.mark.parametrize("method", ["patch", "put"])
def test_a_write_without_if_match_is_refused_with_428_and_changes_nothing(officer, acme, method):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")  # a plain client: it sends no If-Match
    client.force_login(officer)
    history_before = acme.history.count()
    body = {"name": "Acme NV", "kind": "company", "enterprise_number": acme.enterprise_number}

    response = send(client, method, f"/api/v1/organisations/{acme.pk}/", body)

    assert response.status_code == 428, response.content
    assert "If-Match" in response.json()["detail"]
    acme.refresh_from_db()
    assert (acme.name, acme.kind) == ("Acme", "sme")
    assert acme.history.count() == history_before


def test_a_delete_without_if_match_is_refused_with_428_and_deletes_nothing(officer, cluster):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(officer)
    organisation = factories.OrganisationFactory(name="Lonely")

    response = client.delete(f"/api/v1/organisations/{organisation.pk}/")

    assert response.status_code == 428, response.content
    assert "If-Match" in response.json()["detail"]
    assert Organisation.objects.filter(pk=organisation.pk).exists()


def test_a_write_without_if_match_outside_scope_is_still_a_404(manager, other_cluster):
    """The object is looked up in scope before the precondition: a 428 would tell that it exists."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(manager)
    report = factories.AnnualReportFactory(cluster=other_cluster, year=2020)

    response = send(client, "patch", f"/api/v1/annual-reports/{report.pk}/", {"narrative": "Mine now"})

    assert response.status_code == 404


# --- tokens --------------------------------------------------------------------------------------

PASSWORD = "secret-pass-1"  # tests.factories.UserFactory


def obtain(username: str, password: str = PASSWORD) -> Any:
    return Client().post(
        "/api/v1/auth/token/", {"username": username, "password": password}, content_type="application/json"
    )


def with_token(token: str) -> Client:
    return ApiClient(HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


def test_a_token_is_obtained_with_username_and_password_and_opens_the_api(officer, cluster):
    response = obtain("officer")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"token", "expiry"}
    expiry = datetime.fromisoformat(body["expiry"])
    assert timedelta(hours=9, minutes=59) < expiry - timezone.now() <= timedelta(hours=10)
    listing = with_token(body["token"]).get("/api/v1/clusters/")
    assert listing.status_code == 200
    assert [row["name"] for row in listing.json()["results"]] == ["Catalisti"]


def test_the_token_is_stored_hashed(officer):
    token = obtain("officer").json()["token"]

    row = AuthToken.objects.get(user=officer)
    assert row.digest != token
    assert token not in (row.digest, row.token_key)
    assert len(row.token_key) < len(token)
    assert not AuthToken.objects.filter(digest=token).exists()


def test_an_expired_token_is_refused(officer):
    token = obtain("officer").json()["token"]
    AuthToken.objects.filter(user=officer).update(expiry=timezone.now() - timedelta(seconds=1))

    assert with_token(token).get("/api/v1/clusters/").status_code == 401


def test_a_wrong_password_gets_400_and_no_token(officer):
    response = obtain("officer", "not-the-password")

    assert response.status_code == 400
    assert "token" not in response.json()
    assert AuthToken.objects.count() == 0


def test_without_credentials_the_api_answers_401(cluster):
    response = Client().get("/api/v1/clusters/")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Token")
    assert with_token("not-a-real-token-at-all").get("/api/v1/clusters/").status_code == 401


def test_revoking_a_token_makes_it_401_and_leaves_the_others(officer):
    kept, revoked = obtain("officer").json()["token"], obtain("officer").json()["token"]

    response = with_token(revoked).post("/api/v1/auth/token/revoke/")

    assert response.status_code == 204
    assert with_token(revoked).get("/api/v1/clusters/").status_code == 401
    assert with_token(kept).get("/api/v1/clusters/").status_code == 200
    assert AuthToken.objects.filter(user=officer).count() == 1


def test_revoke_all_revokes_every_token_of_that_user_only(officer, reader):
    first, second = obtain("officer").json()["token"], obtain("officer").json()["token"]
    others = obtain("analyst").json()["token"]

    response = with_token(first).post("/api/v1/auth/token/revoke-all/")

    assert response.status_code == 204
    assert with_token(first).get("/api/v1/clusters/").status_code == 401
    assert with_token(second).get("/api/v1/clusters/").status_code == 401
    assert with_token(others).get("/api/v1/clusters/").status_code == 200
    assert AuthToken.objects.filter(user=officer).count() == 0
    assert AuthToken.objects.filter(user=reader).count() == 1


def test_the_token_endpoint_is_throttled_more_tightly_than_reads(settings, officer, cluster):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "3/minute"},
    }
    cache.clear()

    attempts = [obtain("officer", "wrong-password").status_code for _ in range(3)]
    refused = obtain("officer")  # even the right password, once the limit is reached

    assert attempts == [400, 400, 400]
    assert refused.status_code == 429
    assert "token" not in refused.json()
    assert int(refused.headers["Retry-After"]) > 0
    assert AuthToken.objects.count() == 0
    reader = as_user(officer)
    assert [reader.get("/api/v1/clusters/").status_code for _ in range(6)] == [200] * 6


# --- pagination ----------------------------------------------------------------------------------


@pytest.fixture
def many_organisations(cluster) -> None:
    Organisation.objects.bulk_create(
        Organisation(name=f"Org {n:04d}", kind=Organisation.Kind.SME, enterprise_number="") for n in range(502)
    )


def test_lists_are_paginated_by_50_with_count_next_and_previous(officer, many_organisations):
    body = as_user(officer).get("/api/v1/organisations/").json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 502
    assert len(body["results"]) == 50
    assert body["previous"] is None
    assert "page=2" in body["next"]


def test_page_size_goes_up_to_500_and_is_capped_there(officer, many_organisations):
    client = as_user(officer)

    exactly = client.get("/api/v1/organisations/", {"page_size": 500}).json()
    capped = client.get("/api/v1/organisations/", {"page_size": 10_000}).json()
    last = client.get("/api/v1/organisations/", {"page_size": 500, "page": 2}).json()

    assert len(exactly["results"]) == 500
    assert len(capped["results"]) == 500
    assert len(last["results"]) == 2
    assert last["next"] is None and last["previous"] is not None
    assert client.get("/api/v1/organisations/", {"page_size": 7}).json()["results"].__len__() == 7


def test_a_page_past_the_end_is_a_404_not_a_500(officer, many_organisations):
    assert as_user(officer).get("/api/v1/organisations/", {"page": 99}).status_code == 404


# --- filters and ordering ------------------------------------------------------------------------


def test_annual_reports_filter_by_cluster_year_and_status_and_order_by_year(officer, cluster, other_cluster):
    r2019 = cp.annual_report_create(cluster=cluster, year=2019)
    r2020 = cp.annual_report_create(cluster=cluster, year=2020)
    other = cp.annual_report_create(cluster=other_cluster, year=2020)
    cp.annual_report_submit(report=factories.complete_report(r2020))
    client = as_user(officer)

    assert sorted(ids(client.get("/api/v1/annual-reports/", {"cluster": cluster.pk}))) == sorted([r2019.pk, r2020.pk])
    assert sorted(ids(client.get("/api/v1/annual-reports/", {"year": 2020}))) == sorted([r2020.pk, other.pk])
    assert ids(client.get("/api/v1/annual-reports/", {"status": "submitted"})) == [r2020.pk]
    assert ids(client.get("/api/v1/annual-reports/", {"cluster": cluster.pk, "ordering": "year"})) == [
        r2019.pk,
        r2020.pk,
    ]
    assert ids(client.get("/api/v1/annual-reports/", {"cluster": cluster.pk, "ordering": "-year"})) == [
        r2020.pk,
        r2019.pk,
    ]
    assert client.get("/api/v1/annual-reports/", {"status": "nonsense"}).status_code == 400


def test_evaluations_filter_by_kind_and_stage(officer, cluster):
    interim = factories.completed_interim(cluster, date(2019, 5, 15))
    final = factories.EvaluationFactory(cluster=cluster, kind=Evaluation.Kind.FINAL)
    client = as_user(officer)

    assert ids(client.get("/api/v1/evaluations/", {"kind": "final"})) == [final.pk]
    assert ids(client.get("/api/v1/evaluations/", {"stage": "completed"})) == [interim.pk]
    detail = client.get(f"/api/v1/evaluations/{interim.pk}/").json()
    assert (detail["stage"], detail["kind"], detail["completed_on"]) == ("completed", "interim", "2019-05-15")


def test_flags_filter_open_and_kind(officer, cluster):
    open_flag = Flag.objects.create(
        kind=Flag.Kind.RENEWAL_DUE, cluster=cluster, subject="agreement:1", message="m", raised_on=date(2023, 9, 1)
    )
    resolved = Flag.objects.create(
        kind=Flag.Kind.REPORT_OVERDUE,
        cluster=cluster,
        subject="report:1:2020",
        message="m",
        raised_on=date(2021, 4, 1),
        resolved_on=date(2021, 5, 1),
    )
    client = as_user(officer)

    assert ids(client.get("/api/v1/flags/", {"open": "true"})) == [open_flag.pk]
    assert ids(client.get("/api/v1/flags/", {"open": "false"})) == [resolved.pk]
    assert ids(client.get("/api/v1/flags/", {"kind": "report_overdue"})) == [resolved.pk]
    detail = client.get(f"/api/v1/flags/{resolved.pk}/").json()
    assert (detail["kind"], detail["resolved_on"]) == ("report_overdue", "2021-05-01")


@pytest.fixture
def chain(cluster) -> list[SupportAgreement]:
    first = fs.agreement_create(
        cluster=cluster, reference="SO-1", start_date=date(2017, 1, 1), end_date=date(2019, 12, 31), amount=YEARLY
    )
    factories.completed_interim(cluster, date(2019, 5, 15))
    second = fs.agreement_extend(predecessor=first, reference="SO-2", end_date=date(2022, 12, 31), amount=YEARLY)
    return [first, second]


def test_agreements_filter_running_on_a_day_and_by_cluster_and_order(officer, cluster, other_cluster, chain):
    elsewhere = fs.agreement_create(
        cluster=other_cluster, reference="SIM-1", start_date=date(2018, 1, 1), end_date=date(2020, 12, 31), amount=1
    )
    client = as_user(officer)

    assert sorted(ids(client.get("/api/v1/agreements/", {"running_on": "2018-06-01"}))) == sorted(
        [chain[0].pk, elsewhere.pk]
    )
    assert ids(client.get("/api/v1/agreements/", {"running_on": "2020-01-01", "cluster": cluster.pk})) == [chain[1].pk]
    assert ids(client.get("/api/v1/agreements/", {"running_on": "2030-01-01"})) == []
    assert ids(client.get("/api/v1/agreements/", {"cluster": cluster.pk, "ordering": "-start_date"})) == [
        chain[1].pk,
        chain[0].pk,
    ]
    assert client.get("/api/v1/agreements/", {"running_on": "not-a-date"}).status_code == 400


def test_memberships_filter_active_on_a_day(officer, cluster):
    early = factories.MembershipFactory(cluster=cluster, joined_on=date(2017, 1, 1), left_on=date(2019, 6, 30))
    late = factories.MembershipFactory(cluster=cluster, joined_on=date(2020, 1, 1))
    client = as_user(officer)

    assert ids(client.get("/api/v1/memberships/", {"active_on": "2018-01-01"})) == [early.pk]
    assert ids(client.get("/api/v1/memberships/", {"active_on": "2019-06-30"})) == [early.pk]
    assert ids(client.get("/api/v1/memberships/", {"active_on": "2019-07-01"})) == []
    assert ids(client.get("/api/v1/memberships/", {"active_on": "2021-01-01"})) == [late.pk]
    assert ids(client.get("/api/v1/memberships/", {"ordering": "-joined_on"})) == [late.pk, early.pk]


def test_allocations_filter_by_year_and_purpose(officer, cluster, other_cluster):
    y2020 = fs.budget_year_save(budget_year=BudgetYear(year=2020, envelope=Decimal(75_000_000)))
    y2021 = fs.budget_year_save(budget_year=BudgetYear(year=2021, envelope=Decimal(75_000_000)))
    reservation = fs.allocation_save(
        allocation=Allocation(budget_year=y2020, purpose="competitiveness", cluster=cluster, amount=8_000_000),
        partners=[],
    )
    inter = fs.allocation_save(
        allocation=Allocation(budget_year=y2021, purpose="inter_cluster", amount=1_000_000),
        partners=[cluster, other_cluster],
    )
    client = as_user(officer)

    assert ids(client.get("/api/v1/allocations/", {"year": 2020})) == [reservation.pk]
    assert ids(client.get("/api/v1/allocations/", {"purpose": "inter_cluster"})) == [inter.pk]
    assert ids(client.get("/api/v1/allocations/", {"cluster": cluster.pk})) == [reservation.pk]
    assert ids(client.get("/api/v1/allocations/", {"partner": other_cluster.pk})) == [inter.pk]


def test_clusters_filter_by_kind_and_order_by_name(officer, cluster, other_cluster):
    network = factories.ClusterFactory(name="Alpha network", slug="alpha", kind=Cluster.Kind.BUSINESS_NETWORK)
    client = as_user(officer)

    assert ids(client.get("/api/v1/clusters/", {"kind": "business_network"})) == [network.pk]
    assert ids(client.get("/api/v1/clusters/", {"ordering": "-name"})) == [other_cluster.pk, cluster.pk, network.pk]


# --- bad input is a 4xx, never a 500 ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "payload", "field"),
    [
        ("/api/v1/flags/scan/", {"as_of": "9999-12-31"}, "as_of"),
        ("/api/v1/annual-reports/", {"year": 9223372036854775807}, "year"),
        ("/api/v1/annual-reports/", {"year": 1999}, "year"),
        (
            "/api/v1/agreements/",
            {"reference": "FAR", "start_date": "9999-01-01", "end_date": "9999-06-30", "amount": 1},
            "start_date",
        ),
    ],
    ids=["scan-as-of-9999", "report-year-overflow", "report-year-1999", "agreement-in-9999"],
)
def test_values_off_the_calendar_are_refused_with_400_not_500(officer, cluster, url, payload, field):
    payload = {"cluster": cluster.pk, **payload} if "scan" not in url else payload
    before = (AnnualReport.objects.count(), SupportAgreement.objects.count(), Flag.objects.count())

    response = send(as_user(officer), "post", url, payload)

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert (AnnualReport.objects.count(), SupportAgreement.objects.count(), Flag.objects.count()) == before


def test_deleting_a_record_others_refer_to_is_a_400_and_deletes_nothing(officer, acme):
    response = as_user(officer).delete(f"/api/v1/organisations/{acme.pk}/")

    assert response.status_code == 400
    assert set(response.json()) == {"detail"}
    assert Organisation.objects.filter(pk=acme.pk).exists()


# --- JSON values ---------------------------------------------------------------------------------


def test_agreements_expose_iso_dates_numbers_and_a_read_only_cap_date(officer, chain):
    client = as_user(officer)
    url = f"/api/v1/agreements/{chain[1].pk}/"
    detail = client.get(url).json()

    assert detail["start_date"] == "2020-01-01"
    assert detail["end_date"] == "2022-12-31"
    assert detail["cap_date"] == "2026-12-31"
    assert detail["predecessor"] == chain[0].pk
    assert detail["cluster"] == chain[1].cluster_id
    assert isinstance(detail["amount"], int | float) and Decimal(str(detail["amount"])) == YEARLY

    response = send(client, "patch", url, {"cap_date": "2040-12-31", "notes": "Cap stays."})

    assert response.status_code == 200, response.content
    assert response.json()["cap_date"] == "2026-12-31"
    assert response.json()["notes"] == "Cap stays."


def test_budget_years_expose_envelope_allocated_and_remaining_as_numbers(officer, cluster):
    budget_year = fs.budget_year_save(budget_year=BudgetYear(year=2020, envelope=Decimal(75_000_000)))
    fs.allocation_save(
        allocation=Allocation(budget_year=budget_year, purpose="competitiveness", cluster=cluster, amount=8_000_000),
        partners=[],
    )

    detail = as_user(officer).get(f"/api/v1/budget-years/{budget_year.pk}/").json()

    assert (detail["envelope"], detail["allocated"], detail["remaining"]) == (75_000_000, 8_000_000, 67_000_000)
    assert all(isinstance(detail[name], int | float) for name in ("envelope", "allocated", "remaining"))


def test_datetimes_are_iso_8601(officer, cluster):
    report = factories.complete_report(cp.annual_report_create(cluster=cluster, year=2020))
    cp.annual_report_submit(report=report)

    detail = as_user(officer).get(f"/api/v1/annual-reports/{report.pk}/").json()

    assert detail["due_on"] == "2021-03-31"
    submitted_at = datetime.fromisoformat(detail["submitted_at"])
    assert submitted_at.tzinfo is not None
    assert abs(submitted_at - timezone.now()) < timedelta(minutes=5)


def test_kpi_values_are_numbers(officer, cluster):
    report = cp.annual_report_create(cluster=cluster, year=2020)
    value = cp.kpi_value_set(report=report, kpi=factories.kpi("CPI10"), value=Decimal("1.25"))

    detail = as_user(officer).get(f"/api/v1/kpi-values/{value.pk}/").json()

    assert detail["value"] == 1.25
    assert KpiValue.objects.get(pk=value.pk).value == Decimal("1.25")
