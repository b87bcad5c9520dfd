"""The briefing as it stood that day, for all five questions (issue 14), the day before and the day of each
event of a small history built through the services with its past days (the history of
`test_replay_dates.py`, plus a pact signed twice and a lesson carried into the second version):

- the report on 2018 accepted 2019-06-03; the report on 2019 submitted 2020-02-14, accepted 2020-05-28;
- the 2020 reservation decided 2020-03-10;
- the interim evaluation completed 2020-11-15, its lesson carried into pact version 2, signed 2021-01-29;
- the extension R-2 signed 2020-12-01, resting on that evaluation.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest

from clusterpacts import services as cp
from clusterpacts.models import Cluster, KpiDefinition
from evaluations.models import Evaluation, Lesson
from evaluations.services import entity_save, lesson_carry
from insights.selectors import briefing
from tests import factories
from tests.insights.test_replay_dates import (
    ACCEPTED_2018,
    ACCEPTED_2019,
    COMPLETED,
    DECIDED,
    EXTENSION_SIGNED,
    NAME,
    ONE_DAY,
    RESERVATION,
    SUBMITTED_2019,
    _build_history,
)

pytestmark = pytest.mark.django_db

PACT_1_SIGNED, PACT_2_SIGNED = date(2018, 2, 1), date(2021, 1, 29)
LESSON = "Roadmaps sharpen the pipeline."


@pytest.fixture
def history(db) -> Cluster:
    cluster = _build_history()
    first = cp.pact_create(cluster=cluster)
    cp.pact_sign(pact=first, signed_on=PACT_1_SIGNED)
    evaluation = Evaluation.objects.get(cluster=cluster)
    lesson = entity_save(instance=Lesson(evaluation=evaluation, kind=Lesson.Kind.GOOD_PRACTICE, text=LESSON))
    second = cp.pact_create(cluster=cluster)
    cp.pact_sign(pact=second, signed_on=PACT_2_SIGNED)
    lesson_carry(lesson=lesson, pact=second)
    return cluster


@pytest.fixture
def as_of(history, officer_client):
    def get(day: date, language: str = "en") -> dict[str, Any]:
        response = officer_client.get("/api/v1/briefing/", {"as_of": day.isoformat()}, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        return response.json()

    return get


def row(body: dict[str, Any], block: str) -> dict[str, Any]:
    return next(r for r in body[block] if r["cluster_name"] == NAME)


def series(body: dict[str, Any], code: str) -> list[tuple[int, Any, str | None]]:
    kpi = next(k for k in row(body, "kpis")["kpis"] if k["code"] == code)
    return [(p["year"], p["value"], p["status"]) for p in kpi["years"]]


# --- question 2: the KPIs' evolution -------------------------------------------------------------------


def test_every_working_year_since_the_start_is_in_the_series_up_to_the_last_ended_one(as_of):
    assert [year for year, *_ in series(as_of(date(2019, 6, 3)), "C2")] == [2018]
    assert [year for year, *_ in series(as_of(date(2020, 6, 1)), "C2")] == [2018, 2019]
    assert [year for year, *_ in series(as_of(date(2023, 6, 1)), "C2")] == [2018, 2019, 2020, 2021, 2022]


def test_a_year_is_pending_until_its_report_is_accepted_and_official_from_that_day(as_of):
    before, of = as_of(ACCEPTED_2018 - ONE_DAY), as_of(ACCEPTED_2018)
    assert series(before, "C2")[0][2] == "pending"
    assert series(of, "C2")[0][2] == "accepted"

    before, of = as_of(SUBMITTED_2019 - ONE_DAY), as_of(SUBMITTED_2019)
    assert series(before, "C2")[1][1:] == (None, None), "a draft's values are no figures yet"
    assert series(of, "C2")[1][2] == "pending"
    assert series(as_of(ACCEPTED_2019 - ONE_DAY), "C2")[1][2] == "pending"
    values = [value for _year, value, _status in series(of, "C2")]
    assert series(as_of(ACCEPTED_2019), "C2") == [(2018, values[0], "accepted"), (2019, values[1], "accepted")]


def test_the_page_draws_a_chart_per_kpi_and_marks_pending_values(history, officer_client):
    page = officer_client.get("/insights/briefing/", {"as_of": SUBMITTED_2019.isoformat()}, HTTP_ACCEPT_LANGUAGE="en")
    q2 = page.text.split('<section aria-labelledby="q2">')[1].split("</section>")[0]
    kpis = KpiDefinition.objects.filter(active=True).count()
    assert q2.count('<svg class="chart spark"') == kpis
    assert 'class="bar-pending"' in q2 and 'class="bar"' in q2  # 2019 pending, 2018 official
    assert '<span class="pending">' in q2


def test_the_queries_do_not_grow_with_the_years(history, officer, django_assert_max_num_queries):
    """As of 2019 the series holds one year, as of 2030 twelve: the same queries."""
    user = type(officer).objects.get(pk=officer.pk)
    with django_assert_max_num_queries(30) as short:
        briefing(user=user, as_of=date(2019, 6, 1))
    user = type(officer).objects.get(pk=officer.pk)
    with django_assert_max_num_queries(len(short.captured_queries)) as long:
        body = briefing(user=user, as_of=date(2030, 6, 1))
    assert len(body["kpis"][0]["kpis"][0]["years"]) == 12
    assert len(long.captured_queries) == len(short.captured_queries)


# --- question 4: the chain, the evaluation each extension rests on, pact versions --------------------


def test_the_extension_joins_the_chain_on_its_signing_day_with_the_evaluation_it_rests_on(as_of, history):
    before, of = row(as_of(EXTENSION_SIGNED - ONE_DAY), "renewals"), row(as_of(EXTENSION_SIGNED), "renewals")
    assert before["first_start"] == of["first_start"] == "2018-01-01"
    assert [(a["reference"], a["extends"], a["rests_on"]) for a in before["chain"]] == [("R-1", None, None)]
    assert before["next_renewal_on"] == "2021-01-01"
    evaluation = Evaluation.objects.get(cluster=history)
    assert [(a["reference"], a["extends"], a["rests_on"]) for a in of["chain"]] == [
        ("R-1", None, None),
        ("R-2", "R-1", {"id": evaluation.pk, "title": evaluation.title, "completed_on": COMPLETED.isoformat()}),
    ]
    assert of["next_renewal_on"] == "2024-01-01"
    assert of["cap_date"] == "2027-12-31"


def test_the_page_and_document_tell_the_chain(history, officer_client):
    from tests.insights.test_replay_dates import _docx_text

    query = {"as_of": EXTENSION_SIGNED.isoformat()}
    page = officer_client.get("/insights/briefing/", query, HTTP_ACCEPT_LANGUAGE="en").text
    assert "extends R-1, on the basis of the interim evaluation" in page
    docx = _docx_text(officer_client.get("/insights/briefing.docx", query, HTTP_ACCEPT_LANGUAGE="en").content)
    assert "R-2 01/01/2021 \u2013 31/12/2023 (on the basis of the interim evaluation" in docx
    assert "Next extension from 01/01/2024" in docx


def test_a_pact_version_counts_from_its_signing_day(as_of):
    before, of = row(as_of(PACT_2_SIGNED - ONE_DAY), "renewals"), row(as_of(PACT_2_SIGNED), "renewals")
    assert before["pacts"] == [{"version": 1, "signed_on": PACT_1_SIGNED.isoformat(), "current": True}]
    assert [(p["version"], p["current"]) for p in of["pacts"]] == [(1, False), (2, True)]
    assert row(as_of(PACT_1_SIGNED - ONE_DAY), "renewals")["pacts"] == []


# --- questions 1 and 3: evaluations and lessons as they stood ----------------------------------------


def test_a_lesson_appears_with_its_evaluation_and_is_carried_only_once_the_pact_is_signed(as_of):
    assert row(as_of(COMPLETED - ONE_DAY), "lessons")["lessons"] == []
    of = row(as_of(COMPLETED), "lessons")["lessons"]
    assert [(lesson["text"], lesson["carried_into_version"]) for lesson in of] == [(LESSON, None)]
    assert row(as_of(PACT_2_SIGNED - ONE_DAY), "lessons")["lessons"][0]["carried_into_version"] is None
    carried = row(as_of(PACT_2_SIGNED), "lessons")["lessons"][0]
    assert (carried["carried_into_version"], carried["carried_into_signed_on"]) == (2, PACT_2_SIGNED.isoformat())


# --- question 5: the budget as decided by then -------------------------------------------------------


def test_later_budget_years_appear_only_once_something_of_them_is_decided(history, officer):
    year_2026 = factories.BudgetYearFactory(year=2026, envelope=Decimal(80_000_000))
    factories.BudgetYearFactory(year=2021, envelope=Decimal(78_000_000))
    from funding.models import Allocation
    from funding.services import allocation_save

    allocation_save(
        allocation=Allocation(
            budget_year=year_2026,
            purpose=Allocation.Purpose.COMPETITIVENESS,
            cluster=history,
            amount=RESERVATION,
            decided_on=date(2021, 6, 1),
        )
    )

    def years(day: date) -> list[tuple[int, bool]]:
        return [(y.year, y.decided) for y in briefing(user=officer, as_of=day)["budget"]]

    assert years(DECIDED - ONE_DAY) == [(2020, False), (2021, False)], "2026: nothing decided of it yet"
    assert years(DECIDED) == [(2020, True), (2021, False)]
    assert years(date(2021, 5, 31)) == [(2021, False)]
    assert years(date(2021, 6, 1)) == [(2021, False), (2026, True)]


# --- the summary -----------------------------------------------------------------------------------


def test_the_summary_counts_what_had_happened_by_the_day(as_of):
    figures = {day: as_of(day)["summary_figures"] for day in (SUBMITTED_2019 - ONE_DAY, SUBMITTED_2019)}
    assert figures[SUBMITTED_2019 - ONE_DAY]["reports_pending"] == 0
    assert figures[SUBMITTED_2019]["reports_pending"] == 1
    assert as_of(ACCEPTED_2019)["summary_figures"]["reports_pending"] == 0
    assert as_of(COMPLETED - ONE_DAY)["summary_figures"]["evaluations_completed"] == 0
    assert as_of(COMPLETED)["summary_figures"]["evaluations_completed"] == 1
    before, of = as_of(DECIDED - ONE_DAY)["summary_figures"], as_of(DECIDED)["summary_figures"]
    assert (before["budget_committed"], of["budget_committed"]) == (0, float(RESERVATION))


def test_the_summary_counts_the_targets_met_among_those_with_an_accepted_value(as_of, history):
    from clusterpacts.models import KpiTarget, KpiValue

    c2 = KpiDefinition.objects.get(code="C2")
    value = {v.year: v.value for v in KpiValue.objects.filter(cluster=history, kpi=c2)}
    cp.kpi_figure_save(figure=KpiTarget(cluster=history, kpi=c2, year=2018, value=value[2018]))  # met
    cp.kpi_figure_save(figure=KpiTarget(cluster=history, kpi=c2, year=2019, value=value[2019] + 1000))  # not met
    figures = as_of(ACCEPTED_2019 - ONE_DAY)["summary_figures"]
    assert (figures["kpi_targets_met"], figures["kpi_targets_measured"]) == (1, 1), "2019 is still pending"
    figures = as_of(ACCEPTED_2019)["summary_figures"]
    assert (figures["kpi_targets_met"], figures["kpi_targets_measured"]) == (1, 2)


def test_the_summary_is_one_paragraph_in_the_readers_language(as_of, history, officer_client):
    from tests.insights.test_replay_dates import _docx_text

    dutch = as_of(DECIDED, "nl")["summary"]
    assert dutch.startswith("Op 10 maart 2020 volgt de portal 1 speerpuntcluster.")
    assert "Voor 2020 is 75 M EUR voorzien, waarvan 8 M EUR vastgelegd." in dutch
    assert as_of(DECIDED, "en")["summary"].startswith("On 10 March 2020 the portal follows 1 spearhead cluster.")
    page = officer_client.get("/insights/briefing/", {"as_of": DECIDED.isoformat()}, HTTP_ACCEPT_LANGUAGE="nl")
    assert f'<p class="briefing-summary" id="summary">{dutch}</p>' in page.text
    docx = officer_client.get("/insights/briefing.docx", {"as_of": DECIDED.isoformat()}, HTTP_ACCEPT_LANGUAGE="nl")
    assert _docx_text(docx.content).splitlines()[1] == dutch


# --- the exports linked from the page carry its day -------------------------------------------------


def export(client, dataset: str, day: date) -> list[dict[str, str]]:
    response = client.get(f"/insights/exports/{dataset}.csv", {"as_of": day.isoformat()})
    assert response.status_code == 200
    assert f"{dataset}-{day.isoformat()}.csv" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode().lstrip("\ufeff")
    return list(csv.DictReader(StringIO(text)))


def test_the_kpi_values_export_replays_pending_and_official(history, officer_client):
    def year_2019(day: date) -> set[str]:
        return {r["official"] for r in export(officer_client, "kpi-values", day) if r["year"] == "2019"}

    assert year_2019(SUBMITTED_2019 - ONE_DAY) == set(), "a draft's values are not exported as of then"
    assert year_2019(SUBMITTED_2019) == year_2019(ACCEPTED_2019 - ONE_DAY) == {"False"}
    assert year_2019(ACCEPTED_2019) == {"True"}


def test_the_other_exports_replay_the_day(history, officer_client):
    def stage(day: date) -> list[tuple[str, str, str]]:
        return [(r["stage"], r["completed_on"], r["conclusion"]) for r in export(officer_client, "evaluations", day)]

    assert stage(COMPLETED - ONE_DAY) == [("reporting", "", "")]
    assert stage(COMPLETED) == [("completed", COMPLETED.isoformat(), "largely_achieved")]

    def references(day: date) -> list[str]:
        return [r["reference"] for r in export(officer_client, "agreements", day)]

    assert (references(EXTENSION_SIGNED - ONE_DAY), references(EXTENSION_SIGNED)) == (["R-1"], ["R-1", "R-2"])

    def allocations(day: date) -> int:
        return len(export(officer_client, "allocations", day))

    assert (allocations(DECIDED - ONE_DAY), allocations(DECIDED)) == (0, 1)

    def lessons(day: date) -> list[tuple[str, str]]:
        return [(r["status"], r["carried_into_version"]) for r in export(officer_client, "lessons", day)]

    assert lessons(COMPLETED - ONE_DAY) == []
    assert lessons(PACT_2_SIGNED - ONE_DAY) == [("open", "")]
    assert lessons(PACT_2_SIGNED) == [("carried", "2")]


def test_an_export_refuses_a_bad_day(officer_client):
    assert officer_client.get("/insights/exports/evaluations.csv", {"as_of": "2020-13-01"}).status_code == 400


def test_a_managers_briefing_and_exports_name_only_their_cluster(history, client, manager, cluster):
    client.force_login(manager)
    body = client.get("/api/v1/briefing/", {"as_of": "2021-06-01"}).json()
    assert {r["cluster_name"] for r in body["renewals"]} <= {cluster.name}
    assert NAME not in body["summary"] and body["summary_figures"]["clusters"] <= 1
    assert all(r["cluster"] == cluster.name for r in export(client, "agreements", date(2021, 6, 1)))
