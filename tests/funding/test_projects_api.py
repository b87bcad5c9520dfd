"""Projects through /api/v1/projects/: every rule of `project_save` is a 400 on its field with the service's own
message (English when asked, Dutch by default) and nothing saved; a project is created with its partners
in one request, and a later write replaces them; the filters find a project by any cluster taking part."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.test import Client
from django.utils import timezone, translation

from clusterpacts.models import Cluster, Organisation
from funding import services as fs
from funding.models import Project, ProjectPartner
from tests import factories
from tests.api_helpers import ApiClient
from tests.funding.helpers import row_counts

pytestmark = pytest.mark.django_db

URL = "/api/v1/projects/"
MODELS = (Project, ProjectPartner)


@pytest.fixture(params=["en", "nl"])
def lang(request: pytest.FixtureRequest) -> str:
    """English when the request asks for it; Dutch (the default) when it sends no Accept-Language."""
    return request.param


@pytest.fixture
def api(officer, lang) -> Client:
    client = ApiClient(HTTP_ACCEPT_LANGUAGE="en") if lang == "en" else ApiClient()
    client.force_login(officer)
    return client


@pytest.fixture
def members() -> list[Organisation]:
    """Three organisations that existed on every day of these tests (no founding or ceasing day recorded)."""
    return [
        factories.OrganisationFactory(name="Acme NV", kind=Organisation.Kind.COMPANY),
        factories.OrganisationFactory(name="Kmo BV", kind=Organisation.Kind.SME),
        factories.OrganisationFactory(name="KU Leuven", kind=Organisation.Kind.KNOWLEDGE_INSTITUTION),
    ]


def payload(cluster: Cluster, members: list[Organisation], **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "reference": "HBC.2024.0101",
        "title": "Bio-based coatings",
        "type": "icon",
        "lead_cluster": cluster.pk,
        "decided_on": "2024-06-01",
        "amount": "1250000.00",
        "start_date": "2024-09-01",
        "end_date": "2026-08-31",
        "partners": [
            {"organisation": members[0].pk, "role": "lead"},
            {"organisation": members[1].pk, "role": "partner"},
        ],
    }
    data.update(changes)
    return data


def project_like(data: dict[str, Any]) -> Callable[[], Project]:
    """The service call the admin makes for the same input."""

    def call() -> Project:
        fields = {name: data[name] for name in ("reference", "title", "type", "status") if name in data} | {
            name: date.fromisoformat(data[name]) for name in ("decided_on", "start_date", "end_date") if name in data
        }
        return fs.project_save(
            project=Project(lead_cluster_id=data["lead_cluster"], amount=Decimal(str(data["amount"])), **fields),
            clusters=list(Cluster.objects.filter(pk__in=data.get("clusters", []))),
            partners=[
                fs.PartnerPut(Organisation.objects.get(pk=p["organisation"]), p.get("role", "partner"))
                for p in data.get("partners", [])
            ],
        )

    return call


def service_errors(call: Callable[[], Any], lang: str) -> dict[str, list[str]]:
    """What the service says about the same input, in `lang`, keyed as the API keys its errors."""
    with translation.override(lang):
        with pytest.raises(ValidationError) as caught:
            call()
        error = caught.value
        errors = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
    return {("non_field_errors" if name == NON_FIELD_ERRORS else name): list(msgs) for name, msgs in errors.items()}


def post_refused(api: Client, lang: str, data: dict[str, Any]) -> dict[str, list[str]]:
    """POST `data`: a 400 whose body is exactly what the service says, and no row (nor history row) written."""
    expected = service_errors(project_like(data), lang)
    before = row_counts(*MODELS)

    response = api.post(URL, data, content_type="application/json")

    assert response.status_code == 400, response.content
    body = response.json()
    assert body == expected
    assert row_counts(*MODELS) == before
    return body


def joined(body: dict[str, list[str]], field: str) -> str:
    return " ".join(body[field])


# --- each rule, refused on its field -------------------------------------------------------------------


def test_an_inter_cluster_project_without_another_cluster_is_refused_on_clusters(api, lang, cluster, members):
    body = post_refused(api, lang, payload(cluster, members, type="inter_cluster", clusters=[]))

    assert set(body) == {"clusters"}


def test_a_project_of_another_type_naming_other_clusters_is_refused_on_clusters(
    api, lang, cluster, other_cluster, members
):
    body = post_refused(api, lang, payload(cluster, members, type="csbo", clusters=[other_cluster.pk]))

    assert set(body) == {"clusters"}


def test_the_lead_cluster_named_again_as_another_cluster_is_refused_on_clusters(api, lang, cluster, members):
    body = post_refused(api, lang, payload(cluster, members, type="inter_cluster", clusters=[cluster.pk]))

    assert set(body) == {"clusters"}


@pytest.mark.parametrize("amount", ["0", "0.00", "-5000.00"])
def test_an_amount_of_zero_or_less_is_refused_on_amount(api, lang, cluster, members, amount):
    body = post_refused(api, lang, payload(cluster, members, amount=amount))

    assert set(body) == {"amount"}


@pytest.mark.parametrize("end", ["2024-08-31", "2024-09-01"], ids=["before-start", "on-start"])
def test_a_project_ending_before_or_on_its_start_is_refused_on_end_date(api, lang, cluster, members, end):
    body = post_refused(api, lang, payload(cluster, members, end_date=end))

    assert set(body) == {"end_date"}
    assert "2024" in joined(body, "end_date")  # names the days


def test_a_partner_founded_after_the_decision_day_is_refused_on_partners(api, lang, cluster, members):
    young = factories.OrganisationFactory(name="Startup BV", founded_on=date(2024, 6, 2))

    body = post_refused(api, lang, payload(cluster, members, partners=[{"organisation": young.pk, "role": "lead"}]))

    assert set(body) == {"partners"}
    assert "Startup BV" in joined(body, "partners")


def test_a_partner_founded_on_the_decision_day_is_accepted(api, cluster, members):
    newborn = factories.OrganisationFactory(name="Spin-off BV", founded_on=date(2024, 6, 1))

    response = api.post(
        URL, payload(cluster, members, partners=[{"organisation": newborn.pk, "role": "lead"}]), "application/json"
    )

    assert response.status_code == 201, response.content


def test_a_partner_that_ceased_before_the_decision_day_is_refused_on_partners(api, lang, cluster, members):
    gone = factories.OrganisationFactory(name="Failliet NV", ceased_on=date(2024, 5, 31))

    body = post_refused(
        api,
        lang,
        payload(
            cluster, members, partners=[{"organisation": members[0].pk, "role": "lead"}, {"organisation": gone.pk}]
        ),
    )

    assert set(body) == {"partners"}
    assert "Failliet NV" in joined(body, "partners")


def test_a_partner_that_ceased_on_the_decision_day_is_accepted(api, cluster, members):
    last_day = factories.OrganisationFactory(name="Overgenomen NV", ceased_on=date(2024, 6, 1))

    response = api.post(
        URL, payload(cluster, members, partners=[{"organisation": last_day.pk, "role": "lead"}]), "application/json"
    )

    assert response.status_code == 201, response.content


def test_the_same_organisation_twice_is_refused_on_partners(api, lang, cluster, members):
    twice = [{"organisation": members[0].pk, "role": "lead"}, {"organisation": members[0].pk, "role": "partner"}]

    body = post_refused(api, lang, payload(cluster, members, partners=twice))

    assert set(body) == {"partners"}
    assert "Acme NV" in joined(body, "partners")


def test_two_lead_partners_are_refused_on_partners(api, lang, cluster, members):
    two_leads = [{"organisation": members[0].pk, "role": "lead"}, {"organisation": members[1].pk, "role": "lead"}]

    body = post_refused(api, lang, payload(cluster, members, partners=two_leads))

    assert set(body) == {"partners"}


def test_a_project_decided_in_the_future_is_refused_on_decided_on(api, lang, cluster, members):
    tomorrow = timezone.localdate() + timedelta(days=1)
    data = payload(
        cluster,
        members,
        decided_on=tomorrow.isoformat(),
        start_date=(tomorrow + timedelta(days=30)).isoformat(),
        end_date=(tomorrow + timedelta(days=400)).isoformat(),
    )

    body = post_refused(api, lang, data)

    assert "decided_on" in body


def test_a_project_decided_today_is_accepted(api, cluster, members):
    today = timezone.localdate()
    data = payload(cluster, members, decided_on=today.isoformat(), start_date=today.isoformat(), end_date="2099-12-31")

    response = api.post(URL, data, content_type="application/json")

    assert response.status_code == 201, response.content
    assert response.json()["status_on"] == today.isoformat()


def test_a_reference_already_used_is_refused_on_reference(api, lang, cluster, other_cluster, members):
    factories.ProjectFactory(reference="HBC.2024.0101", lead_cluster=other_cluster)

    body = post_refused(api, lang, payload(cluster, members))

    assert set(body) == {"reference"}


def test_every_broken_rule_is_reported_at_once(api, lang, cluster, members):
    two_leads = [{"organisation": members[0].pk, "role": "lead"}, {"organisation": members[1].pk, "role": "lead"}]

    body = post_refused(
        api,
        lang,
        payload(cluster, members, type="inter_cluster", amount="0", end_date="2024-01-01", partners=two_leads),
    )

    assert {"clusters", "partners", "amount", "end_date"} <= set(body)


def test_a_broken_rule_on_update_leaves_the_project_and_its_partners_as_they_were(api, lang, cluster, members):
    project = factories.ProjectFactory(lead_cluster=cluster, partners=[(members[0], "lead")])
    two_leads = [{"organisation": members[1].pk, "role": "lead"}, {"organisation": members[2].pk, "role": "lead"}]
    before = row_counts(*MODELS)

    response = api.patch(f"{URL}{project.pk}/", {"title": "Changed", "partners": two_leads}, "application/json")

    assert response.status_code == 400, response.content
    assert set(response.json()) == {"partners"}
    assert row_counts(*MODELS) == before
    project.refresh_from_db()
    assert project.title != "Changed"
    assert [(p.organisation_id, p.role) for p in project.partners.all()] == [(members[0].pk, "lead")]


# --- writes that hold ------------------------------------------------------------------------------


def test_a_project_is_created_with_its_partners_in_one_request(api, cluster, members):
    response = api.post(URL, payload(cluster, members), content_type="application/json")

    assert response.status_code == 201, response.content
    body = response.json()
    project = Project.objects.get(pk=body["id"])
    assert (project.reference, project.lead_cluster_id, project.amount) == (
        "HBC.2024.0101",
        cluster.pk,
        Decimal("1250000.00"),
    )
    assert (project.status, project.status_on) == (Project.Status.DECIDED, date(2024, 6, 1))
    assert sorted((p.organisation_id, p.role) for p in project.partners.all()) == sorted(
        [(members[0].pk, "lead"), (members[1].pk, "partner")]
    )
    assert body["year"] == 2024
    assert body["clusters"] == []
    assert body["amount"] == 1250000  # a number, not a string
    assert sorted(body["partners"], key=lambda p: p["organisation"]) == sorted(
        [
            {"organisation": members[0].pk, "organisation_name": "Acme NV", "role": "lead", "sme": False},
            {"organisation": members[1].pk, "organisation_name": "Kmo BV", "role": "partner", "sme": True},
        ],
        key=lambda p: p["organisation"],
    )
    assert project.history.count() == 1  # who made it is on the record


def test_an_inter_cluster_project_is_created_with_its_other_clusters(api, cluster, other_cluster, members):
    data = payload(cluster, members, reference="IC.2024.01", type="inter_cluster", clusters=[other_cluster.pk])

    response = api.post(URL, data, content_type="application/json")

    assert response.status_code == 201, response.content
    assert response.json()["clusters"] == [other_cluster.pk]
    assert list(Project.objects.get(pk=response.json()["id"]).clusters.all()) == [other_cluster]


def test_an_update_with_partners_replaces_them_and_hands_over_the_lead(api, cluster, members):
    project = factories.ProjectFactory(lead_cluster=cluster, partners=[(members[0], "lead"), (members[1], "partner")])
    # members[0] leaves, members[1] takes over the lead, members[2] joins as a subcontractor.
    partners = [
        {"organisation": members[1].pk, "role": "lead"},
        {"organisation": members[2].pk, "role": "subcontractor"},
    ]

    response = api.patch(f"{URL}{project.pk}/", {"partners": partners}, content_type="application/json")

    assert response.status_code == 200, response.content
    assert sorted((p.organisation_id, p.role) for p in project.partners.all()) == sorted(
        [(members[1].pk, "lead"), (members[2].pk, "subcontractor")]
    )
    assert {p["organisation"] for p in response.json()["partners"]} == {members[1].pk, members[2].pk}


def test_a_put_replaces_the_partners_and_an_update_without_them_keeps_them(api, cluster, members):
    project = factories.ProjectFactory(lead_cluster=cluster, partners=[(members[0], "lead")])
    current = api.get(f"{URL}{project.pk}/").json()

    put = api.put(
        f"{URL}{project.pk}/",
        {**current, "partners": [{"organisation": members[2].pk, "role": "lead"}]},
        content_type="application/json",
    )
    renamed = api.patch(f"{URL}{project.pk}/", {"title": "Renamed"}, content_type="application/json")

    assert put.status_code == 200, put.content
    assert renamed.status_code == 200, renamed.content
    assert [(p.organisation_id, p.role) for p in project.partners.all()] == [(members[2].pk, "lead")]
    assert Project.objects.get(pk=project.pk).title == "Renamed"


def test_an_officer_deletes_a_project_with_its_partners(api, cluster, members):
    project = factories.ProjectFactory(lead_cluster=cluster, partners=[(members[0], "lead")])

    response = api.delete(f"{URL}{project.pk}/")

    assert response.status_code == 204, response.content
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not ProjectPartner.objects.filter(project_id=project.pk).exists()
    assert Organisation.objects.filter(pk=members[0].pk).exists()


# --- filters -----------------------------------------------------------------------------------------


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_projects_filter_by_any_cluster_taking_part_lead_cluster_type_year_status_and_decision_day(
    officer, cluster, other_cluster
):
    own = factories.ProjectFactory(lead_cluster=cluster, decided_on=date(2023, 3, 1))
    joined = factories.ProjectFactory(
        lead_cluster=other_cluster,
        clusters=[cluster],
        type=Project.Type.INTER_CLUSTER,
        decided_on=date(2024, 2, 1),
    )
    theirs = factories.ProjectFactory(
        lead_cluster=other_cluster,
        type=Project.Type.FEASIBILITY,
        decided_on=date(2024, 5, 1),
        status=Project.Status.RUNNING,
        status_on=date(2024, 9, 1),
    )
    client = ApiClient()
    client.force_login(officer)

    def found(**params: Any) -> set[int]:
        return ids(client.get(URL, params))

    assert found(cluster=cluster.pk) == {own.pk, joined.pk}  # a project the cluster joins counts
    assert found(cluster=other_cluster.pk) == {joined.pk, theirs.pk}
    assert found(lead_cluster=cluster.pk) == {own.pk}
    assert found(type="feasibility") == {theirs.pk}
    assert found(year=2024) == {joined.pk, theirs.pk}
    assert found(status="running") == {theirs.pk}
    assert found(decided_on__gte="2024-02-01", decided_on__lte="2024-04-30") == {joined.pk}
    assert client.get(URL, {"type": "grant"}).status_code == 400
    listed = [row["id"] for row in client.get(URL).json()["results"]]
    assert listed == [theirs.pk, joined.pk, own.pk]  # the latest decision first


def test_a_project_error_is_in_dutch_by_default(officer, cluster, members):
    client = ApiClient()  # no Accept-Language: the portal's default language
    client.force_login(officer)
    young = factories.OrganisationFactory(name="Startup BV", founded_on=date(2024, 7, 1))
    data = payload(cluster, members, type="inter_cluster", partners=[{"organisation": young.pk, "role": "lead"}])

    response = client.post(URL, data, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["clusters"] == [
        "Een interclusterproject heeft minstens twee clusters: vermeld de andere clusters naast de leidende cluster."
    ]
    assert response.json()["partners"] == [
        "Startup BV bestond nog niet op de dag van de beslissing (1-6-2024): de organisatie werd opgericht op "
        "1-7-2024."
    ]


@pytest.mark.parametrize("year", ["0", "-3", "10000", "99999999999999999999", "2024.5", "twenty"])
def test_a_year_off_the_calendar_is_a_400_not_a_500(officer, year):
    client = ApiClient()
    client.force_login(officer)

    response = client.get(URL, {"year": year})

    assert response.status_code == 400, response.content
    assert "year" in response.json()
