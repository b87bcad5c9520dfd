"""The briefing answers the seed's five questions as of a day: replayed, not as things are now."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clusterpacts.models import KpiDefinition
from clusterpacts.services import annual_report_create, document_transition, kpi_value_set
from evaluations.services import evaluation_advance
from insights.selectors import briefing
from tests import factories

pytestmark = pytest.mark.django_db


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@pytest.fixture
def history(cluster, officer, manager):
    """A 2019 report submitted on 15 March 2020 and accepted on 28 May 2020; an evaluation completed
    on 31 May 2019 after starting in January."""
    report = annual_report_create(cluster=cluster, year=2019, narrative="2019")
    kpi_value_set(report=report, kpi=KpiDefinition.objects.get(code="C2"), value=Decimal(12))
    document_transition(document=report, to="submitted", by=manager, at=at(date(2020, 3, 15)), notify=False)
    document_transition(document=report, to="accepted", by=officer, at=at(date(2020, 5, 28)), notify=False)
    evaluation = factories.EvaluationFactory(cluster=cluster, period_start=date(2017, 1, 1))
    evaluation_advance(evaluation=evaluation, to="in_progress", on=date(2019, 1, 15))
    evaluation_advance(evaluation=evaluation, to="completed", on=date(2019, 5, 31), conclusion="largely_achieved")
    return report


def _for(rows, cluster):
    return next(row for row in rows if row["cluster"] == cluster.pk)


def test_a_report_accepted_after_as_of_shows_as_submitted_and_its_values_as_pending(cluster, history, officer):
    before = briefing(user=officer, as_of=date(2020, 4, 1))
    after = briefing(user=officer, as_of=date(2020, 6, 1))
    status = {b["as_of"]: _for(b["reports"], cluster)["reports"][0] for b in (before, after)}
    assert status[date(2020, 4, 1)]["status"] == "submitted"
    assert status[date(2020, 6, 1)]["status"] == "accepted"
    c2 = {b["as_of"]: next(k for k in _for(b["kpis"], cluster)["kpis"] if k["code"] == "C2") for b in (before, after)}
    assert c2[date(2020, 4, 1)]["official"] is False and c2[date(2020, 4, 1)]["value"] == Decimal(12)
    assert c2[date(2020, 6, 1)]["official"] is True
    before_submission = briefing(user=officer, as_of=date(2020, 3, 1))
    assert _for(before_submission["reports"], cluster)["reports"][0]["status"] == "draft"
    assert next(k for k in _for(before_submission["kpis"], cluster)["kpis"] if k["code"] == "C2")["value"] is None


def test_an_evaluation_completed_after_as_of_shows_in_its_earlier_stage(cluster, history, officer):
    stages = {
        day: [e["stage"] for e in _for(briefing(user=officer, as_of=day)["evaluations"], cluster)["evaluations"]]
        for day in (date(2018, 12, 1), date(2019, 3, 1), date(2019, 6, 1))
    }
    assert stages == {
        date(2018, 12, 1): ["planned"],
        date(2019, 3, 1): ["in_progress"],
        date(2019, 6, 1): ["completed"],
    }


def test_the_json_briefing_has_the_documented_keys_and_iso_dates(client, officer, cluster, history):
    client.force_login(officer)
    response = client.get("/api/v1/briefing/", {"as_of": "2020-04-01"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "as_of",
        "summary",
        "summary_figures",
        "detail",
        "evaluations",
        "reports",
        "kpis",
        "lessons",
        "renewals",
        "budget",
    }
    assert body["as_of"] == "2020-04-01"
    assert body["detail"] == {
        "page": 1,
        "pages": 1,
        "page_size": 10,
        "clusters": 1,
        "first": 1,
        "last": 1,
        "chosen": False,
    }
    row = _for(body["reports"], cluster)
    assert row["cluster_name"] == cluster.name and row["reports"][0] == {
        "year": 2019,
        "status": "submitted",
        "due_on": "2020-03-31",
        "overdue": False,
    }


def _json_schema(node):
    """OpenAPI 3.0's `nullable` as JSON Schema's null type, so jsonschema can check a response."""
    if isinstance(node, dict):
        node = {key: _json_schema(value) for key, value in node.items()}
        if node.pop("nullable", False) and "type" in node:
            node["type"] = [node["type"], "null"]
        for bound in ("Maximum", "Minimum"):  # 3.0 flags a bound exclusive with a boolean
            if node.get(f"exclusive{bound}") is True:
                node[f"exclusive{bound}"] = node.pop(bound.lower())
        return node
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    return node


def test_the_json_briefing_matches_its_schema(client, officer, cluster, history):
    import jsonschema

    client.force_login(officer)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    body = client.get("/api/v1/briefing/", {"as_of": "2020-04-01"}).json()
    assert "Briefing" in schema["components"]["schemas"]
    jsonschema.validate(
        body, _json_schema({"$ref": "#/components/schemas/Briefing", "components": schema["components"]})
    )
    body["reports"][0]["reports"][0]["status"] = "lost"  # the check would notice a wrong value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            body, _json_schema({"$ref": "#/components/schemas/Briefing", "components": schema["components"]})
        )


def test_a_bad_as_of_is_a_400_and_anonymous_is_401(client, officer):
    assert client.get("/api/v1/briefing/").status_code == 401
    client.force_login(officer)
    assert client.get("/api/v1/briefing/", {"as_of": "2020-13-01"}).status_code == 400


def test_a_manager_gets_a_briefing_of_their_own_cluster_only(client, manager, cluster, other_cluster):
    client.force_login(manager)
    body = client.get("/api/v1/briefing/").json()
    assert {row["cluster"] for row in body["renewals"]} == {cluster.pk}


def test_the_briefing_page_answers_in_dutch_as_of_the_chosen_day(client, officer, cluster, history):
    client.force_login(officer)
    response = client.get("/insights/briefing/", {"as_of": "2020-04-01"}, HTTP_ACCEPT_LANGUAGE="nl")
    assert response.status_code == 200
    assert "ingediend" in response.text  # the 2019 report, submitted then, accepted only later
    assert "1 april 2020" in response.text


def _queries(count: int, officer) -> int:
    for _ in range(count):
        cluster = factories.ClusterFactory()
        report = annual_report_create(cluster=cluster, year=2019, narrative="x")
        kpi_value_set(report=report, kpi=KpiDefinition.objects.get(code="C2"), value=Decimal(3))
        document_transition(document=report, to="submitted", at=at(date(2020, 3, 1)), notify=False)
        factories.EvaluationFactory(cluster=cluster)
    user = type(officer).objects.get(pk=officer.pk)  # a fresh user, as each request has: its roles not yet read
    with CaptureQueriesContext(connection) as captured:
        briefing(user=user, as_of=date(2020, 4, 1))
    return len(captured)


def test_the_number_of_queries_does_not_grow_with_the_clusters(officer):
    seven = _queries(7, officer)
    forty = _queries(33, officer)  # 40 in all
    assert seven == forty


def test_the_word_document_holds_the_briefing_as_of_its_day(client, officer, cluster, history):
    from io import BytesIO

    from docx import Document

    client.force_login(officer)
    response = client.get("/insights/briefing.docx", {"as_of": "2020-04-01"}, HTTP_ACCEPT_LANGUAGE="nl")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument")
    assert "clusterpacten-briefing-2020-04-01.docx" in response["Content-Disposition"]
    document = Document(BytesIO(response.content))
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    assert "1 april 2020" in document.paragraphs[0].text
    assert f"{cluster.name} — 2019: ingediend" in text  # accepted only on 28 May 2020
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert "12 (in behandeling) / —" in cells
    assert document.paragraphs[1].text == response_json_summary(client)


def response_json_summary(client) -> str:
    return client.get("/api/v1/briefing/", {"as_of": "2020-04-01"}, HTTP_ACCEPT_LANGUAGE="nl").json()["summary"]


def test_the_word_document_is_scoped_like_the_page(client, other_manager, cluster, history):
    from io import BytesIO

    from docx import Document

    client.force_login(other_manager)
    response = client.get("/insights/briefing.docx", {"as_of": "2020-04-01"})
    text = "\n".join(p.text for p in Document(BytesIO(response.content)).paragraphs)
    assert cluster.name not in text


def test_anonymous_users_are_sent_to_login_for_the_page_and_the_document(client):
    for url in ("/insights/briefing/", "/insights/briefing.docx"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_the_briefing_page_charts_the_budget_of_the_years_from_as_of(client, officer):
    for year, envelope in ((2019, "72000000"), (2020, "75000000"), (2021, "78000000")):
        factories.BudgetYearFactory(year=year, envelope=Decimal(envelope))
    client.force_login(officer)
    response = client.get("/insights/briefing/", {"as_of": "2020-04-01"}, HTTP_ACCEPT_LANGUAGE="en")
    chart = response.text.split('id="budget-chart"')[1].split("</figure>")[0]
    assert [label for label in ("2019", "2020", "2021") if f">{label}</text>" in chart] == ["2020", "2021"]
    assert chart.count('class="bar-remaining"') == 2, "nothing allocated yet: all of each envelope remains"
    assert "2020 Remaining: 75.0 M" in chart


def test_the_briefing_page_has_no_budget_chart_without_budget_years(client, officer):
    client.force_login(officer)
    response = client.get("/insights/briefing/", {"as_of": "2020-04-01"})
    assert response.status_code == 200
    assert 'id="budget-chart"' not in response.text


def test_an_evaluation_appears_in_the_briefing_from_the_day_it_was_registered(cluster, officer):
    from clusterpacts.models import Cluster

    registered = factories.EvaluationFactory(
        cluster=cluster, title="Registered", period_start=date(2017, 1, 1), registered_on=date(2019, 3, 1)
    )
    factories.EvaluationFactory(cluster=cluster, title="Unregistered", period_start=date(2018, 1, 1))

    def titles(day: date) -> list[str]:
        rows = briefing(user=officer, clusters=Cluster.objects.filter(pk=cluster.pk), as_of=day)["evaluations"]
        return [e["title"] for e in _for(rows, cluster)["evaluations"]]

    assert titles(date(2017, 6, 1)) == [], "before either was known"
    assert titles(date(2019, 2, 28)) == ["Unregistered"], "no registration day: known from its period's start"
    assert titles(date(2019, 3, 1)) == ["Registered", "Unregistered"]
    assert registered.stage_on(date(2019, 3, 1)) == "planned"
