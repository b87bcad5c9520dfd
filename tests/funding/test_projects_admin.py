"""Projects in the admin: the project, its other clusters and its partner rows are saved together through
`project_save`; a broken rule anywhere on the page is shown on its field (the partners' on their inline), with
the service's words, and nothing of the page is saved."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from clusterpacts.models import Organisation
from funding import services as fs
from funding.models import Project, ProjectPartner
from tests import factories
from tests.clusterpacts.admin_forms import add_inline_rows, admin_post_data, form_errors, inline_errors, inline_prefix
from tests.funding.helpers import row_counts
from tests.rules import refusal

pytestmark = pytest.mark.django_db

ADD = "admin:funding_project_add"
MODELS = (Project, ProjectPartner)


@pytest.fixture
def members() -> list[Organisation]:
    return [
        factories.OrganisationFactory(name="Acme NV", kind=Organisation.Kind.COMPANY),
        factories.OrganisationFactory(name="Kmo BV", kind=Organisation.Kind.SME),
        factories.OrganisationFactory(name="KU Leuven", kind=Organisation.Kind.KNOWLEDGE_INSTITUTION),
    ]


def change_url(project: Project) -> str:
    return reverse("admin:funding_project_change", args=[project.pk])


def project_fields(cluster: Any, **changes: Any) -> dict[str, Any]:
    fields = {
        "reference": "HBC.2024.0201",
        "title": "Circular packaging",
        "type": "icon",
        "lead_cluster": str(cluster.pk),
        "clusters": [],  # none selected: the browser posts nothing
        "decided_on": "2024-06-01",
        "amount": "900000.00",
        "start_date": "2024-09-01",
        "end_date": "2026-08-31",
        "status": "decided",
        "status_on": "",
    }
    fields.update(changes)
    return fields


def save(client: Client, url: str, fields: dict[str, Any], rows: list[dict[str, Any]] | None = None) -> Any:
    """Post the admin's page `url` as rendered, with `fields` changed and the partner `rows` added."""
    page = client.get(url)
    assert page.status_code == 200
    data = admin_post_data(page)
    data.update(fields)
    add_inline_rows(data, inline_prefix(page, ProjectPartner), rows or [])
    return client.post(url, data)


def partner_row(organisation: Organisation, role: str = "partner") -> dict[str, Any]:
    return {"organisation": str(organisation.pk), "role": role}


@pytest.fixture
def admin_client(client, officer) -> Client:
    client.force_login(officer)
    return client


# --- refused: shown on the page, nothing saved ---------------------------------------------------------


def test_broken_rules_on_the_project_and_its_partners_show_on_their_fields_and_nothing_is_saved(
    admin_client, cluster, members
):
    young = factories.OrganisationFactory(name="Startup BV", founded_on=date(2024, 7, 1))
    rows = [partner_row(members[0], "lead"), partner_row(members[1], "lead"), partner_row(young)]
    before = row_counts(*MODELS)

    response = save(
        admin_client,
        reverse(ADD),
        project_fields(cluster, type="inter_cluster", amount="0", end_date="2024-08-01"),
        rows,
    )

    assert response.status_code == 200  # the page again, with the messages
    errors = form_errors(response)
    expected = refusal(
        lambda: fs.project_save(
            project=Project(
                reference="X",
                title="X",
                type="inter_cluster",
                lead_cluster=cluster,
                decided_on=date(2024, 6, 1),
                amount=Decimal(0),
                start_date=date(2024, 9, 1),
                end_date=date(2024, 8, 1),
            ),
            clusters=[],
            partners=[fs.PartnerPut(members[0], "lead"), fs.PartnerPut(members[1], "lead"), fs.PartnerPut(young)],
        )
    )
    assert {"clusters", "amount", "end_date"} <= set(errors)
    shown = [message for messages in errors.values() for message in messages] + inline_errors(response)
    assert [message for message in expected if message not in shown] == []
    partners_said = " ".join(inline_errors(response))
    assert "one lead partner" in partners_said
    assert "Startup BV" in partners_said
    assert row_counts(*MODELS) == before


def test_a_page_whose_only_fault_is_in_the_partners_saves_nothing(admin_client, cluster, members):
    before = row_counts(*MODELS)

    response = save(
        admin_client, reverse(ADD), project_fields(cluster), [partner_row(members[0], "lead"), partner_row(members[0])]
    )

    assert response.status_code == 200
    assert form_errors(response) == {}
    assert inline_errors(response) == [f"{members[0]} is named twice as a partner."]
    assert row_counts(*MODELS) == before


def test_a_partner_that_ceased_before_the_decision_leaves_a_changed_project_as_it_was(admin_client, cluster, members):
    project = factories.ProjectFactory(lead_cluster=cluster, title="Before", partners=[(members[0], "lead")])
    gone = factories.OrganisationFactory(name="Failliet NV", ceased_on=date(2024, 1, 31))
    before = row_counts(*MODELS)

    response = save(admin_client, change_url(project), {"title": "After"}, [partner_row(gone)])

    assert response.status_code == 200
    assert any("Failliet NV" in message for message in inline_errors(response))
    assert row_counts(*MODELS) == before
    project.refresh_from_db()
    assert project.title == "Before"
    assert [(p.organisation_id, p.role) for p in project.partners.all()] == [(members[0].pk, "lead")]


def test_a_project_of_another_type_with_other_clusters_is_refused_on_clusters(
    admin_client, cluster, other_cluster, members
):
    response = save(admin_client, reverse(ADD), project_fields(cluster, clusters=[str(other_cluster.pk)]))

    assert response.status_code == 200
    assert form_errors(response)["clusters"] == [
        "Only an inter-cluster project names other clusters besides its lead."
    ]
    assert not Project.objects.exists()


def test_a_reference_already_used_is_refused_on_reference(admin_client, cluster, other_cluster, members):
    factories.ProjectFactory(reference="HBC.2024.0201", lead_cluster=other_cluster)

    response = save(admin_client, reverse(ADD), project_fields(cluster), [partner_row(members[0], "lead")])

    assert response.status_code == 200
    assert "reference" in form_errors(response)
    assert Project.objects.count() == 1


def test_a_running_project_needs_the_day_it_started_running(admin_client, cluster):
    response = save(admin_client, reverse(ADD), project_fields(cluster, status="running", status_on=""))

    assert response.status_code == 200
    assert "status_on" in form_errors(response)
    assert not Project.objects.exists()


# --- saved: the project with its clusters and partners ------------------------------------------------


def test_a_good_page_saves_the_project_with_its_other_clusters_and_partners(
    admin_client, officer, cluster, other_cluster, members
):
    fields = project_fields(cluster, type="inter_cluster", clusters=[str(other_cluster.pk)])

    response = save(admin_client, reverse(ADD), fields, [partner_row(members[0], "lead"), partner_row(members[1])])

    assert response.status_code == 302, form_errors(response) or inline_errors(response)
    project = Project.objects.get(reference="HBC.2024.0201")
    assert list(project.clusters.all()) == [other_cluster]
    assert sorted((p.organisation_id, p.role) for p in project.partners.all()) == sorted(
        [(members[0].pk, "lead"), (members[1].pk, "partner")]
    )
    assert project.status_on == date(2024, 6, 1)  # a decided project: since its decision
    assert {record.history_user for record in project.history.all()} == {officer}


def test_a_change_hands_over_the_lead_drops_a_partner_and_adds_one(admin_client, cluster, members):
    project = factories.ProjectFactory(lead_cluster=cluster, partners=[(members[0], "lead"), (members[1], "partner")])
    page = admin_client.get(change_url(project))
    data = admin_post_data(page)
    prefix = inline_prefix(page, ProjectPartner)
    rows = {data[f"{prefix}-{i}-organisation"]: i for i in range(int(data[f"{prefix}-TOTAL_FORMS"]))}
    data[f"{prefix}-{rows[str(members[0].pk)]}-DELETE"] = "on"
    data[f"{prefix}-{rows[str(members[1].pk)]}-role"] = "lead"
    add_inline_rows(data, prefix, [partner_row(members[2], "subcontractor")])

    response = admin_client.post(change_url(project), data)

    assert response.status_code == 302, form_errors(response) or inline_errors(response)
    assert sorted((p.organisation_id, p.role) for p in project.partners.all()) == sorted(
        [(members[1].pk, "lead"), (members[2].pk, "subcontractor")]
    )


# --- the list --------------------------------------------------------------------------------------------


def test_the_list_filters_by_year_of_decision_type_status_and_lead_cluster_and_searches(admin_client, cluster):
    older = factories.ProjectFactory(reference="HBC.2023.0001", lead_cluster=cluster, decided_on=date(2023, 5, 1))
    newer = factories.ProjectFactory(reference="HBC.2024.0001", title="Smart ports", lead_cluster=cluster)
    changelist = reverse("admin:funding_project_changelist")

    def listed(**params: Any) -> set[int]:
        response = admin_client.get(changelist, params)
        assert response.status_code == 200
        return {project.pk for project in response.context["cl"].result_list}

    assert listed(year="2023") == {older.pk}
    assert listed(type="icon", status="decided", lead_cluster__id__exact=str(cluster.pk)) == {older.pk, newer.pk}
    assert listed(q="smart") == {newer.pk}
    assert listed(q="HBC.2023") == {older.pk}


def test_the_change_and_history_pages_of_a_project_load(admin_client, cluster, members):
    project = factories.ProjectFactory(lead_cluster=cluster, partners=[(members[0], "lead")])

    assert admin_client.get(change_url(project)).status_code == 200
    assert admin_client.get(reverse("admin:funding_project_history", args=[project.pk])).status_code == 200


@pytest.mark.parametrize("who", ["manager", "reader"])
def test_only_officers_reach_the_project_admin(request, client, who):
    client.force_login(request.getfixturevalue(who))

    response = client.get(reverse("admin:funding_project_changelist"))

    assert response.status_code == 302  # not staff: to the admin's login


def test_the_admin_in_dutch_says_the_partner_rules_in_dutch(dutch_client, officer, cluster, members):
    dutch_client.force_login(officer)

    response = save(
        dutch_client,
        reverse(ADD),
        project_fields(cluster),
        [partner_row(members[0], "lead"), partner_row(members[1], "lead")],
    )

    assert response.status_code == 200
    assert inline_errors(response) == ["Een project heeft één penvoerder."]
    assert not Project.objects.exists()
