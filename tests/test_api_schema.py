"""The OpenAPI schema at /api/schema/ and the docs at /api/docs/: the schema validates, every path in it
answers an officer as documented, the enums hold exactly the domain's values, every operation documents
its errors, and the docs page needs nothing from another host."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import jsonschema
import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone
from drf_spectacular.validation import validate_schema
from knox.models import get_token_model

from funding.demo import CLUSTERS, DemoSeeder
from funding.services import flags_scan
from tests.api_helpers import seed_project

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
# The only operation anyone may call without credentials: obtaining a token.
PUBLIC = {("post", "/api/v1/auth/token/")}


@pytest.fixture
def schema(client) -> dict[str, Any]:
    response = client.get("/api/schema/?format=json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.json()


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


@pytest.fixture
def world(db, officer) -> None:
    """One demo cluster (MEDVIA) with everything it has, its budget years, a project, and the flags of today."""
    seeder = DemoSeeder(password="demo-pass-123", log=lambda _line: None)
    medvia = seeder.seed_cluster(CLUSTERS[-1])
    seeder.seed_budget([medvia])
    seed_project(medvia)
    flags_scan(as_of=timezone.localdate())


def token_client(user: Any) -> Client:
    token = get_token_model().objects.create(user=user)[1]
    return Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT_LANGUAGE="en")


# --- the schema as a document --------------------------------------------------------------------


def test_the_schema_is_openapi_3_and_validates(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # raises on any violation of the OpenAPI 3 specification
    assert schema["info"]["title"] == "Clusterpact portal API"
    assert all(path.startswith("/api/v1/") for path in schema["paths"])


def test_the_schema_lists_every_resource_and_action(schema):
    resources = {
        "clusters",
        "organisations",
        "memberships",
        "pacts",
        "commitments",
        "annual-plans",
        "annual-reports",
        "kpis",
        "kpi-targets",
        "kpi-values",
        "evaluations",
        "findings",
        "lessons",
        "agreements",
        "budget-years",
        "allocations",
        "projects",
        "flags",
    }
    paths = set(schema["paths"])
    for resource in resources:
        assert {f"/api/v1/{resource}/", f"/api/v1/{resource}/{{id}}/"} <= paths, resource
    for action in (
        "/api/v1/annual-reports/{id}/submit/",
        "/api/v1/annual-reports/{id}/accept/",
        "/api/v1/annual-reports/{id}/return/",
        "/api/v1/annual-plans/{id}/submit/",
        "/api/v1/pacts/{id}/sign/",
        "/api/v1/evaluations/{id}/advance/",
        "/api/v1/flags/scan/",
        "/api/v1/auth/token/",
        "/api/v1/auth/token/revoke/",
        "/api/v1/auth/token/revoke-all/",
    ):
        assert "post" in schema["paths"][action], action
    # Flags are raised by the scan, never typed in: read-only.
    assert set(schema["paths"]["/api/v1/flags/"]) & set(METHODS) == {"get"}


ENUMS = {
    "FlagKindEnum": [
        "renewal_due",
        "evaluation_missing",
        "cap_approaching",
        "final_term",
        "report_overdue",
        "reservation_exceeded",
    ],
    "EvaluationStageEnum": ["planned", "in_progress", "reporting", "completed"],
    "EvaluationKindEnum": ["interim", "final", "ad_hoc"],
    "WorkflowStatusEnum": ["draft", "submitted", "accepted", "returned"],
    "ConclusionEnum": ["largely_achieved", "partly_achieved", "not_achieved"],
    "PactStatusEnum": ["draft", "signed", "superseded"],
    "PurposeEnum": ["competitiveness", "inter_cluster", "other"],
    "LessonKindEnum": ["good_practice", "bottleneck"],
    "KpiCategoryEnum": ["direct_results", "membership", "company_impact"],
    "ProjectTypeEnum": ["icon", "csbo", "feasibility", "inter_cluster", "transition", "other"],
    "ProjectStatusEnum": ["decided", "running", "completed", "stopped"],
    "ProjectPartnerRoleEnum": ["lead", "partner", "subcontractor"],
}


@pytest.mark.parametrize(("name", "values"), ENUMS.items(), ids=list(ENUMS))
def test_each_enum_has_exactly_the_domain_values(schema, name, values):
    enum = schema["components"]["schemas"][name]

    assert enum["enum"] == values
    assert enum.get("description"), f"{name} does not say what its values mean"


def ref_of(prop: dict[str, Any]) -> str:
    """The component a property refers to, directly or through allOf/oneOf (nullable, blank)."""
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    refs = [ref_of(part) for part in prop.get("allOf", []) + prop.get("oneOf", []) if "$ref" in part]
    return next((ref for ref in refs if ref not in ("NullEnum", "BlankEnum")), "")


def test_evaluations_and_flags_use_those_enums(schema):
    components = schema["components"]["schemas"]

    assert ref_of(components["Evaluation"]["properties"]["stage"]) == "EvaluationStageEnum"
    assert ref_of(components["Evaluation"]["properties"]["kind"]) == "EvaluationKindEnum"
    assert ref_of(components["Flag"]["properties"]["kind"]) == "FlagKindEnum"
    assert ref_of(components["AnnualReport"]["properties"]["status"]) == "WorkflowStatusEnum"
    resolved_on = components["Flag"]["properties"]["resolved_on"]
    assert (resolved_on["format"], resolved_on.get("nullable")) == ("date", True)


def test_agreements_expose_the_chain_fields_and_a_read_only_cap_date(schema):
    components = schema["components"]["schemas"]
    agreement, request = components["Agreement"]["properties"], components["AgreementRequest"]["properties"]

    for name in ("start_date", "end_date", "cap_date"):
        assert agreement[name]["format"] == "date", name
    assert agreement["predecessor"]["type"] == "integer"
    assert agreement["cluster"]["type"] == "integer"
    assert agreement["cap_date"]["readOnly"] is True
    assert agreement["amount"]["type"] == "number"  # decimals are numbers, not strings
    assert "cap_date" not in request
    assert {"cluster", "start_date", "end_date", "predecessor"} <= set(request)


def test_projects_document_their_enums_nested_partners_and_read_only_year(schema):
    components = schema["components"]["schemas"]
    project, request = components["Project"]["properties"], components["ProjectRequest"]["properties"]
    partner = components["ProjectPartner"]["properties"]
    partner_request = components["ProjectPartnerRequest"]["properties"]

    assert ref_of(project["type"]) == "ProjectTypeEnum"
    assert ref_of(project["status"]) == "ProjectStatusEnum"
    assert ref_of(partner["role"]) == "ProjectPartnerRoleEnum"
    assert project["clusters"]["items"]["type"] == "integer"
    assert ref_of(project["partners"]["items"]) == "ProjectPartner"
    assert ref_of(request["partners"]["items"]) == "ProjectPartnerRequest"
    assert project["year"]["readOnly"] is True
    assert project["amount"]["type"] == "number"
    assert "year" not in request
    assert set(partner) == {"organisation", "organisation_name", "role", "sme"}
    assert set(partner_request) == {"organisation", "role"}  # the name and the SME kind are read-only


@pytest.mark.parametrize("document", ["annual-reports", "annual-plans"])
@pytest.mark.parametrize("action", ["submit", "accept", "return"])
def test_workflow_actions_document_the_document_they_answer(schema, document, action):
    operation = schema["paths"][f"/api/v1/{document}/{{id}}/{action}/"]["post"]
    component = {"annual-reports": "AnnualReport", "annual-plans": "AnnualPlan"}[document]

    assert ref_of(operation["responses"]["200"]["content"]["application/json"]["schema"]) == component


def test_the_flag_scan_documents_what_it_raised_and_resolved(schema):
    operation = schema["paths"]["/api/v1/flags/scan/"]["post"]
    result = ref_of(operation["responses"]["200"]["content"]["application/json"]["schema"])
    properties = schema["components"]["schemas"][result]["properties"]

    assert set(properties) == {"as_of", "raised", "resolved"}
    assert ref_of(properties["raised"]["items"]) == ref_of(properties["resolved"]["items"]) == "Flag"
    request = operation["requestBody"]["content"]["application/json"]["schema"]
    assert "as_of" in schema["components"]["schemas"][ref_of(request)]["properties"]


# GET endpoints without an id that are documents, not paginated lists.
NOT_LISTS = {"/api/v1/briefing/"}


def test_every_operation_documents_401_and_every_write_400(schema):
    for method, path, operation in operations(schema):
        responses = set(operation["responses"])
        where = f"{method.upper()} {path}"
        if (method, path) in PUBLIC:
            assert not operation.get("security"), where
            assert {"400", "429"} <= responses, where
            continue
        assert operation.get("security"), where
        assert {"401", "403", "429"} <= responses, where
        if method in ("post", "put", "patch", "delete"):
            assert "400" in responses, where
        if method in ("put", "patch", "delete"):
            assert "412" in responses, where  # a stale If-Match
        if "{id}" in path:
            assert "404" in responses, where
        if method == "get" and "{" not in path and path not in NOT_LISTS:
            assert {"400", "404"} <= responses, where  # a bad filter value, a page past the end


def test_every_operation_parameter_and_error_response_is_described(schema):
    for method, path, operation in operations(schema):
        where = f"{method.upper()} {path}"
        assert operation.get("description") or operation.get("summary"), where
        for parameter in operation.get("parameters", []):
            assert parameter.get("description"), f"{where}: parameter {parameter['name']}"
        for code, response in operation["responses"].items():
            if int(code) >= 400:
                assert response.get("description"), f"{where}: response {code}"


def test_lists_document_pagination_ordering_and_their_filters(schema):
    def parameters(path: str) -> set[str]:
        return {parameter["name"] for parameter in schema["paths"][path]["get"].get("parameters", [])}

    for method, path, _operation in operations(schema):
        if method == "get" and "{" not in path and path not in NOT_LISTS:
            assert {"page", "page_size", "ordering"} <= parameters(path), path
    assert {"running_on", "cluster", "predecessor"} <= parameters("/api/v1/agreements/")
    assert {"active_on", "cluster", "organisation"} <= parameters("/api/v1/memberships/")
    assert {"open", "kind", "cluster"} <= parameters("/api/v1/flags/")
    assert {"cluster", "year", "status"} <= parameters("/api/v1/annual-reports/")
    assert {"kind", "stage", "cluster"} <= parameters("/api/v1/evaluations/")
    assert {"year", "purpose", "cluster", "partner"} <= parameters("/api/v1/allocations/")
    assert {
        "cluster",
        "lead_cluster",
        "type",
        "year",
        "status",
        "decided_on__gte",
        "decided_on__lte",
    } <= parameters("/api/v1/projects/")
    assert "500" in next(
        p["description"] for p in schema["paths"]["/api/v1/clusters/"]["get"]["parameters"] if p["name"] == "page_size"
    )


# --- every path answers ----------------------------------------------------------------------------


def json_schema(node: Any) -> Any:
    """OpenAPI 3.0's schema dialect (JSON Schema draft 4 and `nullable`) as JSON Schema draft 4."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: json_schema(value) for key, value in node.items()}
    if "oneOf" in converted:
        # A blank URL is documented as "a URI or an empty string": one of them once "uri" is checked,
        # which this validator cannot do (no rfc3987 installed), so "" would match both.
        converted["anyOf"] = converted.pop("oneOf")
    if converted.pop("nullable", False):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def check_body(schema: dict[str, Any], operation: dict[str, Any], status: int, body: Any) -> None:
    documented = operation["responses"].get(str(status))
    assert documented is not None, f"{status} is not documented"
    content = documented.get("content", {}).get("application/json")
    if content is None:
        return
    document = {"components": json_schema(schema["components"]), **json_schema(content["schema"])}
    validator = jsonschema.Draft4Validator(document, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    validator.validate(body)  # dates in "date" format are checked to be ISO dates


def test_every_documented_get_answers_an_officer_as_documented(schema, world, officer):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(officer)
    first_ids: dict[str, int] = {}
    problems = []
    answered = 0

    for method, path, operation in operations(schema):
        if method != "get":
            continue
        if "{id}" in path:
            collection = path.split("{id}")[0]
            if collection not in first_ids:
                listing = client.get(collection).json()
                assert listing["results"], f"the seeded world has no row for {collection}"
                first_ids[collection] = listing["results"][0]["id"]
            url = path.replace("{id}", str(first_ids[collection]))
        else:
            url = path
        response = client.get(url)
        answered += 1
        if response.status_code != 200:
            problems.append(f"GET {url}: {response.status_code} {response.content[:200]!r}")
            continue
        try:
            check_body(schema, operation, 200, response.json())
        except (AssertionError, jsonschema.ValidationError) as error:
            problems.append(f"GET {url}: {str(error)[:500]}")
        if "{id}" in path:
            assert response.headers["ETag"].startswith('"'), url

    assert problems == []
    assert answered == sum(1 for method, _path, _operation in operations(schema) if method == "get")


def test_every_documented_post_is_routed_and_answers_as_documented(schema, world, officer):
    """Each POST, with an empty body, reaches its view: never 404/405, never a 5xx, a documented code."""
    client = token_client(officer)
    ids = {}
    problems = []
    posts = [(path, operation) for method, path, operation in operations(schema) if method == "post"]
    # The revoke actions last: they end the token they are called with.
    posts.sort(key=lambda item: "/revoke" in item[0])

    for path, operation in posts:
        url = path
        if "{id}" in path:
            collection = path.split("{id}")[0]
            ids.setdefault(collection, client.get(collection).json()["results"][0]["id"])
            url = path.replace("{id}", str(ids[collection]))
        if "/revoke" in path:
            client = token_client(officer)
        response = client.post(url, {}, content_type="application/json")
        body = response.json() if response.content else None
        if response.status_code in (404, 405) or response.status_code >= 500:
            problems.append(f"POST {url}: {response.status_code} {body}")
        elif str(response.status_code) not in operation["responses"]:
            problems.append(f"POST {url}: {response.status_code} is not documented")
        elif body is not None:
            try:
                check_body(schema, operation, response.status_code, body)
            except jsonschema.ValidationError as error:
                problems.append(f"POST {url}: {str(error)[:500]}")

    assert problems == []


def test_an_id_that_is_not_a_number_is_a_json_404(world, officer):
    client = Client()
    client.force_login(officer)

    for url in ("/api/v1/clusters/1.5/", "/api/v1/clusters/abc/", "/api/v1/annual-reports/0.5/submit/"):
        response = client.get(url) if "submit" not in url else client.post(url)
        assert response.status_code == 404, url
        assert response.headers["Content-Type"] == "application/json", url
        assert "detail" in response.json()


# --- the docs page ---------------------------------------------------------------------------------


class Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def test_the_docs_page_renders_swagger_ui_from_local_assets_only(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="swagger-ui"' in html
    # The start-up script is a file of its own (no inline script for the CSP to allow); it names the schema.
    script = client.get("/api/docs/?script=").content.decode()
    assert "/api/schema/" in script
    # Nothing from another host: no absolute URL anywhere in the page or its script.
    assert re.findall(r"https?://", html + script) == []
    assets = Assets()
    assets.feed(html)
    assert any(url.endswith("swagger-ui-bundle.js") for url in assets.urls)
    assert "/api/docs/?script=" in assets.urls
    for url in assets.urls:
        if url == "/api/docs/?script=":
            continue
        assert url.startswith(settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/static/"), url
        assert finders.find(url.split("/static/", 1)[1]), f"{url} is not a vendored static file"


def test_the_schema_and_docs_need_no_login_but_the_api_does(client):
    assert client.get("/api/schema/?format=json").status_code == 200
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/api/v1/clusters/").status_code == 401
