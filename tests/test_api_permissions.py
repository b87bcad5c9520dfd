"""The permission matrix of /api/v1/: every endpoint and action, for every role.

Roles: a VLAIO officer (reads and writes everything), an API reader (reads everything, writes
nothing), the manager of the object's cluster (reads their cluster; writes its draft or returned
plans, reports and their figures, never deletes), the manager of another cluster (for whom the
object does not exist: 404, never 403, never a row, never a choice), a logged-in user without a
role (sees nothing) and anonymous requests (401 with a WWW-Authenticate header).

Part of the matrix authenticates with a token from /api/v1/auth/token/, the rest with a session.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from clusterpacts import services as cp_services
from clusterpacts.models import AnnualPlan, AnnualReport, ClusterPact, KpiTarget, KpiValue, Workflow
from evaluations.models import Stage
from funding.models import Allocation, Flag, Project
from tests import factories
from tests.api_helpers import (
    API,
    RESOURCE_NAMES,
    Resource,
    World,
    build_world,
    list_ids,
    resource_named,
    session_client,
    token_client,
    token_for,
)
from tests.pages import has_word

pytestmark = pytest.mark.django_db

ROLES = ["officer", "reader", "manager", "other_manager", "roleless", "anonymous"]
# How each role authenticates in the matrix: both kinds are covered, for each side of the scope.
AUTH = {"officer": "session", "reader": "token", "manager": "token", "other_manager": "session", "roleless": "token"}


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Throttle counts live in the cache: start every test with none (the token endpoint allows 10/minute)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(cluster, other_cluster) -> World:
    return build_world(cluster, other_cluster)


@pytest.fixture
def users(officer, reader, manager, other_manager) -> dict[str, Any]:
    return {
        "officer": officer,
        "reader": reader,
        "manager": manager,
        "other_manager": other_manager,
        "roleless": factories.UserFactory(username="no-role"),
    }


@pytest.fixture
def client_as(users):
    def make(role: str) -> Client:
        if role == "anonymous":
            return Client(HTTP_ACCEPT_LANGUAGE="en")
        user = users[role]
        return token_client(user.username) if AUTH[role] == "token" else session_client(user)

    return make


def url(resource: str, pk: Any = None, action: str = "") -> str:
    path = f"{API}/{resource}/"
    if pk is not None:
        path += f"{pk}/"
    return path + (f"{action}/" if action else "")


def assert_status(response: Any, expected: int | set[int]) -> None:
    allowed = expected if isinstance(expected, set) else {expected}
    assert response.status_code in allowed, (response.status_code, response.content[:500])
    if response.status_code == 401:
        assert response.headers.get("WWW-Authenticate"), "a 401 must say how to authenticate"


def stored(obj: Any, name: str) -> Any:
    return type(obj)._base_manager.values_list(name, flat=True).get(pk=obj.pk)


def exists(obj: Any) -> bool:
    return type(obj)._base_manager.filter(pk=obj.pk).exists()


# --- list and detail -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", RESOURCE_NAMES)
def test_list_shows_exactly_the_rows_in_the_roles_scope(client_as, world, name, role):
    resource = resource_named(name)
    target, other = resource.target(world), resource.other_target(world)
    response = client_as(role).get(url(name), {"page_size": 500})

    if role == "anonymous":
        assert_status(response, 401)
        return
    assert_status(response, 200)
    ids = list_ids(response)
    if role == "roleless":
        assert ids == set()
        assert response.json()["count"] == 0
    elif role == "other_manager" and resource.cluster_scoped:
        assert target.pk not in ids
        assert other.pk in ids  # their own cluster's row, so the list is not merely empty
    else:
        assert target.pk in ids
        if other is not None:
            assert (other.pk in ids) is (role in ("officer", "reader"))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", RESOURCE_NAMES)
def test_detail_is_a_404_outside_the_roles_scope(client_as, world, name, role):
    resource = resource_named(name)
    target = resource.target(world)
    response = client_as(role).get(url(name, target.pk))

    expected = {
        "officer": 200,
        "reader": 200,
        "manager": 200,
        "other_manager": 404 if resource.cluster_scoped else 200,
        "roleless": 404,
        "anonymous": 401,
    }[role]
    assert_status(response, expected)
    if expected == 200:
        assert response.json()["id"] == target.pk
        assert response.headers["ETag"].startswith('"')
    else:
        assert str(target) not in response.content.decode()


# --- create ----------------------------------------------------------------------------------------


def expected_create(resource: Resource, role: str) -> int:
    if role == "anonymous":
        return 401
    if role == "officer":
        return 405 if resource.read_only else 201
    if role == "manager" and resource.manager_writable:
        return 201
    if role == "other_manager" and resource.manager_writable:
        # Allowed to create plans and figures, but not in a cluster (or on a document) they cannot see.
        return 400
    return 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", RESOURCE_NAMES)
def test_create_in_the_managers_cluster(client_as, world, name, role):
    resource = resource_named(name)
    payload = resource.create(world)
    client = client_as(role)
    before = resource.model._base_manager.count()

    response = client.post(url(name), payload, content_type="application/json")

    expected = expected_create(resource, role)
    assert_status(response, expected)
    if expected == 201:
        assert resource.model._base_manager.count() == before + 1
        assert resource.model._base_manager.filter(pk=response.json()["id"]).exists()
    else:
        assert resource.model._base_manager.count() == before
    if expected == 400:
        assert resource.scoped_choice in response.json(), response.json()


# --- update ----------------------------------------------------------------------------------------


def expected_update(resource: Resource, role: str) -> int | set[int]:
    if role == "anonymous":
        return 401
    if resource.read_only:
        return 405 if role == "officer" else {403, 405}
    if role == "officer":
        return 200
    if role == "manager":
        return 200 if resource.manager_writable else 403  # the world's plans and reports are drafts
    if role == "other_manager":
        return 404 if resource.cluster_scoped else 403
    if role == "roleless":
        return 404
    return 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", RESOURCE_NAMES)
def test_patch_changes_the_object_only_where_the_role_may_write(client_as, world, name, role):
    resource = resource_named(name)
    target = resource.target(world)
    field, sent, kept = resource.patch
    before = stored(target, field)
    assert before != kept

    response = client_as(role).patch(url(name, target.pk), {field: sent}, content_type="application/json")

    expected = expected_update(resource, role)
    assert_status(response, expected)
    if response.status_code == 200:
        assert stored(target, field) == kept
        assert response.headers["ETag"].startswith('"')
    else:
        assert stored(target, field) == before


# --- delete ----------------------------------------------------------------------------------------


def expected_delete(resource: Resource, role: str) -> int | set[int]:
    if role == "anonymous":
        return 401
    if resource.read_only:
        return 405 if role == "officer" else {403, 405}
    if role == "officer":
        return 400 if resource.protected else 204
    if role in ("other_manager", "roleless") and (resource.cluster_scoped or role == "roleless"):
        return 404
    return 403  # in scope but never deletable: reader, and managers (even of their own drafts)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", RESOURCE_NAMES)
def test_delete_is_for_officers_and_a_404_outside_the_scope(client_as, world, name, role):
    resource = resource_named(name)
    target = resource.target(world)

    response = client_as(role).delete(url(name, target.pk))

    expected = expected_delete(resource, role)
    assert_status(response, expected)
    assert exists(target) is (response.status_code != 204)
    if response.status_code == 400:
        assert "refer" in str(response.json()["detail"])  # says why: other records refer to it


# --- workflow and officer actions -------------------------------------------------------------------

SUBMIT = {"officer": 200, "manager": 200, "reader": 403, "other_manager": 404, "roleless": 404, "anonymous": 401}
OFFICER_ON_OBJECT = {
    "officer": 200,
    "manager": 403,
    "reader": 403,
    "other_manager": 404,
    "roleless": 404,
    "anonymous": 401,
}
OFFICER_ON_COLLECTION = {
    "officer": 200,
    "manager": 403,
    "reader": 403,
    "other_manager": 403,
    "roleless": 403,
    "anonymous": 401,
}
DOCUMENTS = {"annual-plans": "plan", "annual-reports": "report"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", DOCUMENTS)
def test_submit_a_draft(client_as, world, name, role):
    document = factories.complete(getattr(world.own, DOCUMENTS[name]))

    response = client_as(role).post(url(name, document.pk, "submit"), {}, content_type="application/json")

    assert_status(response, SUBMIT[role])
    expected_status = Workflow.SUBMITTED if SUBMIT[role] == 200 else Workflow.DRAFT
    assert stored(document, "status") == expected_status


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", DOCUMENTS)
@pytest.mark.parametrize(("action", "to"), [("accept", Workflow.ACCEPTED), ("return", Workflow.RETURNED)])
def test_review_a_submitted_document(client_as, world, name, role, action, to):
    document = getattr(world.own, DOCUMENTS[name])
    cp_services.document_transition(document=document, to=Workflow.SUBMITTED)

    response = client_as(role).post(
        url(name, document.pk, action), {"comment": "Add the SME figures."}, content_type="application/json"
    )

    assert_status(response, OFFICER_ON_OBJECT[role])
    assert stored(document, "status") == (to if OFFICER_ON_OBJECT[role] == 200 else Workflow.SUBMITTED)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_a_manager_cannot_submit_twice(client_as, world, name):
    document = getattr(world.own, DOCUMENTS[name])
    cp_services.document_transition(document=document, to=Workflow.SUBMITTED)

    response = client_as("manager").post(url(name, document.pk, "submit"), {}, content_type="application/json")

    assert_status(response, 403)  # no longer theirs to change while it is under review
    assert stored(document, "status") == Workflow.SUBMITTED


@pytest.mark.parametrize("role", ROLES)
def test_sign_a_pact_is_for_officers(client_as, world, role):
    pact = world.own.pact

    response = client_as(role).post(url("pacts", pact.pk, "sign"), {"signed_on": "2020-01-15"}, "application/json")

    assert_status(response, OFFICER_ON_OBJECT[role])
    expected = ClusterPact.Status.SIGNED if OFFICER_ON_OBJECT[role] == 200 else ClusterPact.Status.DRAFT
    assert stored(pact, "status") == expected


@pytest.mark.parametrize("role", ROLES)
def test_advance_an_evaluation_is_for_officers(client_as, world, role):
    evaluation = world.own.evaluation

    response = client_as(role).post(
        url("evaluations", evaluation.pk, "advance"),
        {"stage": "in_progress", "on": "2019-06-01"},
        content_type="application/json",
    )

    assert_status(response, OFFICER_ON_OBJECT[role])
    expected = Stage.IN_PROGRESS if OFFICER_ON_OBJECT[role] == 200 else Stage.PLANNED
    assert stored(evaluation, "stage") == expected


@pytest.mark.parametrize("role", ROLES)
def test_scan_flags_is_for_officers(client_as, world, role):
    before = Flag.objects.count()

    response = client_as(role).post(url("flags", action="scan"), {"as_of": "2021-06-01"}, "application/json")

    assert_status(response, OFFICER_ON_COLLECTION[role])
    if response.status_code == 200:
        assert response.json()["as_of"] == "2021-06-01"
    else:
        assert Flag.objects.count() == before


# --- what a cluster manager may write, by document status --------------------------------------------

EDITABLE = {Workflow.DRAFT: 200, Workflow.RETURNED: 200, Workflow.SUBMITTED: 403, Workflow.ACCEPTED: 403}


def move_to(document: Any, status: str) -> None:
    path = {
        Workflow.DRAFT: [],
        Workflow.SUBMITTED: [Workflow.SUBMITTED],
        Workflow.RETURNED: [Workflow.SUBMITTED, Workflow.RETURNED],
        Workflow.ACCEPTED: [Workflow.SUBMITTED, Workflow.ACCEPTED],
    }[status]
    for step in path:
        cp_services.document_transition(document=document, to=step, comment="Please complete.")


@pytest.mark.parametrize("status", EDITABLE)
@pytest.mark.parametrize("name", ["annual-plans", "annual-reports", "kpi-targets", "kpi-values"])
def test_the_own_manager_writes_plans_reports_and_figures_only_while_editable(client_as, world, name, status):
    resource = resource_named(name)
    target = resource.target(world)
    document = {
        "annual-plans": world.own.plan,
        "annual-reports": world.own.report,
        "kpi-targets": world.own.plan,
        "kpi-values": world.own.report,
    }[name]
    move_to(document, status)
    field, sent, kept = resource.patch
    before = stored(target, field)
    client = client_as("manager")

    response = client.patch(url(name, target.pk), {field: sent}, content_type="application/json")

    assert_status(response, EDITABLE[status])
    assert stored(target, field) == (kept if EDITABLE[status] == 200 else before)
    # Never a delete, not even of their own draft.
    assert_status(client.delete(url(name, target.pk)), 403)
    assert exists(target)


@pytest.mark.parametrize("name", ["kpi-targets", "kpi-values"])
def test_the_own_manager_cannot_add_figures_to_a_submitted_document(client_as, world, name):
    resource = resource_named(name)
    document = world.own.plan if name == "kpi-targets" else world.own.report
    move_to(document, Workflow.SUBMITTED)
    before = resource.model.objects.count()

    response = client_as("manager").post(url(name), resource.create(world), content_type="application/json")

    assert_status(response, 400)
    assert resource.model.objects.count() == before


# --- nothing of another cluster: not as a choice, not through a filter --------------------------------


def test_a_manager_cannot_create_a_kpi_value_for_another_clusters_report(client_as, world):
    before = KpiValue.objects.count()

    response = client_as("manager").post(
        url("kpi-values"),
        {"report": world.other.report.pk, "kpi": world.spare_kpi.pk, "value": "3"},
        content_type="application/json",
    )

    assert_status(response, 400)
    assert "report" in response.json()
    assert not has_word(response.content.decode(), world.other.cluster.name)
    assert KpiValue.objects.count() == before


def test_a_manager_cannot_create_a_target_or_plan_for_another_cluster(client_as, world):
    client = client_as("manager")
    counts = (KpiTarget.objects.count(), AnnualPlan.objects.count(), AnnualReport.objects.count())

    target = client.post(
        url("kpi-targets"),
        {"plan": world.other.plan.pk, "kpi": world.spare_kpi.pk, "value": "3"},
        content_type="application/json",
    )
    plan = client.post(url("annual-plans"), {"cluster": world.other.cluster.pk, "year": 2022}, "application/json")
    report = client.post(url("annual-reports"), {"cluster": world.other.cluster.pk, "year": 2022}, "application/json")

    assert_status(target, 400)
    assert "plan" in target.json()
    for response in (plan, report):
        assert_status(response, 400)
        assert "cluster" in response.json()
    assert (KpiTarget.objects.count(), AnnualPlan.objects.count(), AnnualReport.objects.count()) == counts


def test_a_manager_cannot_move_their_own_draft_or_figure_into_another_cluster(client_as, world):
    client = client_as("manager")

    moved_plan = client.patch(
        url("annual-plans", world.own.plan.pk), {"cluster": world.other.cluster.pk}, "application/json"
    )
    moved_value = client.patch(
        url("kpi-values", world.own.value.pk), {"report": world.other.report.pk}, "application/json"
    )

    assert_status(moved_plan, 400)
    assert "cluster" in moved_plan.json()
    assert stored(world.own.plan, "cluster") == world.own.cluster.pk
    assert_status(moved_value, 400)
    assert "report" in moved_value.json()
    assert stored(world.own.value, "report") == world.own.report.pk


# (resource, filter, the ClusterSlice attribute of the other cluster's object to filter on)
SCOPED_FILTERS = [
    ("organisations", "cluster", "cluster"),
    ("memberships", "cluster", "cluster"),
    ("memberships", "organisation", "organisation"),
    ("pacts", "cluster", "cluster"),
    ("commitments", "cluster", "cluster"),
    ("commitments", "pact", "pact"),
    ("annual-plans", "cluster", "cluster"),
    ("annual-reports", "cluster", "cluster"),
    ("kpi-targets", "cluster", "cluster"),
    ("kpi-targets", "plan", "plan"),
    ("kpi-values", "cluster", "cluster"),
    ("kpi-values", "report", "report"),
    ("evaluations", "cluster", "cluster"),
    ("findings", "evaluation", "evaluation"),
    ("lessons", "cluster", "cluster"),
    ("lessons", "evaluation", "evaluation"),
    ("agreements", "cluster", "cluster"),
    ("agreements", "predecessor", "agreement"),
    ("allocations", "cluster", "cluster"),
    ("allocations", "partner", "cluster"),
    ("projects", "cluster", "cluster"),
    ("projects", "lead_cluster", "cluster"),
    ("flags", "cluster", "cluster"),
    ("flags", "agreement", "agreement"),
]


@pytest.mark.parametrize(("name", "param", "attr"), SCOPED_FILTERS)
def test_filters_never_offer_another_cluster_as_a_choice(client_as, world, name, param, attr):
    choice = getattr(world.other, attr).pk

    response = client_as("manager").get(url(name), {param: choice})

    if response.status_code == 200:
        assert list_ids(response) == set()
    else:
        assert_status(response, 400)
        assert param in response.json()  # "Select a valid choice": not one of theirs
    assert str(world.other.cluster) not in response.content.decode()


@pytest.mark.parametrize(("name", "param", "attr"), SCOPED_FILTERS)
def test_the_same_filters_work_for_an_officer(client_as, world, name, param, attr):
    """So that the manager's refusal above is the scope at work, not a filter that never matches."""
    choice = getattr(world.other, attr).pk
    expected = {resource_named(name).other_target(world).pk}
    if name == "allocations" and param == "partner":
        # A competitiveness reservation names no partners: filter on an inter-cluster project instead.
        project = Allocation.objects.create(budget_year=world.budget_year, purpose="inter_cluster", amount=1000)
        project.partners.set([world.own.cluster, world.other.cluster])
        expected = {project.pk}
    if name == "flags" and param == "agreement":
        # The world's flag is about a report: raise one about the agreement to filter on.
        renewal = Flag.objects.create(
            kind=Flag.Kind.RENEWAL_DUE,
            cluster=world.other.cluster,
            agreement=world.other.agreement,
            subject=f"agreement:{world.other.agreement.pk}",
            message="Renewal due.",
            raised_on=world.other.flag.raised_on,
        )
        expected = {renewal.pk}
    if name == "agreements" and param == "predecessor":
        expected = set()  # nothing extends the other cluster's agreement yet: a valid choice, no rows

    response = client_as("officer").get(url(name), {param: choice})

    assert_status(response, 200)
    assert list_ids(response) == expected


@pytest.mark.parametrize("name", ["annual-plans", "annual-reports", "kpi-values", "agreements", "projects"])
def test_the_browsable_api_shows_a_manager_no_other_cluster(client_as, world, name):
    """The HTML pages render the filter form and the create form with their choices."""
    manager_page = client_as("manager").get(url(name), HTTP_ACCEPT="text/html")
    officer_page = client_as("officer").get(url(name), HTTP_ACCEPT="text/html")

    assert manager_page.status_code == officer_page.status_code == 200
    assert has_word(officer_page.content.decode(), world.other.cluster.name)
    assert not has_word(manager_page.content.decode(), world.other.cluster.name)


# --- projects: a cluster taking part sees the project, and only officers write it ----------------------


@pytest.fixture
def joined_project(world) -> Project:
    """An inter-cluster project the other cluster leads and the manager's cluster takes part in."""
    return factories.ProjectFactory(
        reference="HBC.2024.IC01",
        type=Project.Type.INTER_CLUSTER,
        lead_cluster=world.other.cluster,
        clusters=[world.own.cluster],
        partners=[(world.other.organisation, "lead"), (world.own.organisation, "partner")],
    )


def test_an_inter_cluster_project_is_visible_to_the_manager_of_a_cluster_taking_part(client_as, world, joined_project):
    client = client_as("manager")

    listed = list_ids(client.get(url("projects"), {"page_size": 500}))
    filtered = list_ids(client.get(url("projects"), {"cluster": world.own.cluster.pk}))
    detail = client.get(url("projects", joined_project.pk))

    assert listed == {world.own.project.pk, joined_project.pk}  # not the other cluster's own project
    assert filtered == {world.own.project.pk, joined_project.pk}
    assert_status(detail, 200)
    assert detail.json()["lead_cluster"] == world.other.cluster.pk
    assert detail.json()["clusters"] == [world.own.cluster.pk]
    assert {p["organisation"] for p in detail.json()["partners"]} == {
        world.other.organisation.pk,
        world.own.organisation.pk,
    }


def test_the_manager_of_a_cluster_taking_part_cannot_change_or_delete_the_project(client_as, world, joined_project):
    client = client_as("manager")

    patched = client.patch(url("projects", joined_project.pk), {"title": "Taken over"}, "application/json")
    put = client.put(
        url("projects", joined_project.pk),
        {**client.get(url("projects", joined_project.pk)).json(), "title": "Taken over"},
        "application/json",
    )
    deleted = client.delete(url("projects", joined_project.pk))

    for response in (patched, put, deleted):
        assert_status(response, 403)
    assert stored(joined_project, "title") != "Taken over"
    assert exists(joined_project)


def test_a_manager_of_a_cluster_not_taking_part_gets_a_404_for_the_project(client_as, world, joined_project):
    third = factories.ClusterFactory(name="Flux50", slug="flux50")
    outsider = factories.manager_of(third, username="manager-flux50")
    client = session_client(outsider)

    assert list_ids(client.get(url("projects"))) == set()
    assert_status(client.get(url("projects", joined_project.pk)), 404)
    assert_status(client.patch(url("projects", joined_project.pk), {"title": "X"}, "application/json"), 404)
    assert_status(client.delete(url("projects", joined_project.pk)), 404)
    assert exists(joined_project)


def test_a_project_naming_a_partner_or_cluster_that_does_not_exist_is_a_400(client_as, world):
    """The related ids of a project are checked like every other: an unknown id is a 400 on its field."""
    payload = resource_named("projects").create(world)
    before = Project.objects.count()

    unknown_partner = client_as("officer").post(
        url("projects"), {**payload, "partners": [{"organisation": 999_999, "role": "lead"}]}, "application/json"
    )
    unknown_cluster = client_as("officer").post(
        url("projects"),
        {**payload, "reference": "HBC.2024.0998", "type": "inter_cluster", "clusters": [999_999]},
        "application/json",
    )

    assert_status(unknown_partner, 400)
    assert "organisation" in unknown_partner.json()["partners"]["0"]  # the first partner's field
    assert_status(unknown_cluster, 400)
    assert "clusters" in unknown_cluster.json()
    assert Project.objects.count() == before


# --- authentication ---------------------------------------------------------------------------------


def test_a_token_from_the_token_endpoint_authenticates_and_a_bad_one_does_not(manager, world):
    good = Client(HTTP_AUTHORIZATION=f"Token {token_for(manager.username)}")
    bad = Client(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert world.own.report.pk in list_ids(good.get(url("annual-reports")))
    assert_status(bad.get(url("annual-reports")), 401)


def test_a_wrong_password_gets_no_token(manager):
    response = Client().post(
        f"{API}/auth/token/", {"username": manager.username, "password": "wrong"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert "token" not in response.json()


def test_a_revoked_token_no_longer_authenticates(manager, world):
    token = token_for(manager.username)
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(url("annual-reports")).status_code == 200

    assert client.post(f"{API}/auth/token/revoke/").status_code == 204

    assert_status(client.get(url("annual-reports")), 401)
