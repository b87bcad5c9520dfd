"""The briefing as of 2020-03-01 on the demo data says what the minister's answer to the parliamentary question
says (`../shared/seed/`). Written against facts, not texts or exact demo days, so the demo may be reworded.
(Its own module: the demo data stays loaded until the module ends.)"""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clusterpacts.models import Cluster
from tests.conftest import reload_migrated_data

pytestmark = pytest.mark.django_db

DAY = date(2020, 3, 1)
FIRST_FOUR = {"Catalisti", "SIM", "Flux50", "VIL"}
STARTED_2018 = {"Flanders' FOOD", "De Blauwe Cluster"}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("seed_demo", stdout=StringIO())
        yield dict(Cluster.objects.values_list("name", "pk"))
        call_command("flush", interactive=False, verbosity=0)
        reload_migrated_data()


@pytest.fixture
def body(demo, officer_client) -> dict[str, Any]:
    response = officer_client.get("/api/v1/briefing/", {"as_of": DAY.isoformat()})
    assert response.status_code == 200
    return response.json()


def by_name(body: dict[str, Any], block: str) -> dict[str, dict[str, Any]]:
    return {row["cluster_name"]: row for row in body[block]}


def test_six_clusters_had_started(body):
    assert set(by_name(body, "renewals")) == FIRST_FOUR | STARTED_2018
    assert body["summary_figures"]["clusters"] == 6


def test_the_first_four_completed_their_first_interim_evaluation_in_may_2019_largely_achieved(body):
    for name, row in by_name(body, "evaluations").items():
        completed = [e for e in row["evaluations"] if e["stage"] == "completed"]
        if name in FIRST_FOUR:
            assert [(e["kind"], e["completed_on"][:7], e["conclusion"]) for e in completed] == [
                ("interim", "2019-05", "largely_achieved")
            ], name
        else:
            assert completed == [], name
    assert body["summary_figures"]["evaluations_completed"] == 4


def test_their_extension_rests_on_that_evaluation(body):
    for name in FIRST_FOUR:
        chain = by_name(body, "renewals")[name]["chain"]
        assert chain[0]["start_date"] == "2017-01-01"
        assert [link["rests_on"]["completed_on"][:7] for link in chain[1:]] == ["2019-05"], name


def test_the_two_started_in_2018_have_their_first_working_year_reported(body):
    for name in STARTED_2018:
        reports = {r["year"]: r["status"] for r in by_name(body, "reports")[name]["reports"]}
        assert reports[2018] in ("submitted", "accepted"), name
        kpis = by_name(body, "kpis")[name]["kpis"]
        assert [p["year"] for p in kpis[0]["years"]] == [2018, 2019], "the series starts at their start"
        assert any(k["years"][0]["value"] is not None for k in kpis), name


def test_the_2019_reports_are_still_being_processed(body):
    for name, row in by_name(body, "reports").items():
        report = next(r for r in row["reports"] if r["year"] == 2019)
        assert report["status"] != "accepted", name
        assert report["overdue"] is False, f"{name}: due 31 March 2020"
        kpis = by_name(body, "kpis")[name]["kpis"]
        assert all(k["years"][-1]["status"] != "accepted" for k in kpis), "no 2019 value is official yet"


def test_2020_foresees_75_million_with_8_million_per_cluster(body):
    [year_2020, *later] = body["budget"]
    assert year_2020["year"] == 2020
    assert year_2020["envelope"] == 75_000_000
    assert {r["cluster_name"]: r["amount"] for r in year_2020["reservations"]} == dict.fromkeys(
        FIRST_FOUR | STARTED_2018, 8_000_000
    )
    # Nothing of a later year had been decided by then: at most the next year's envelope, marked as such.
    assert all(not year["decided"] and year["reserved"] == 0 for year in later)
    assert [year["year"] for year in later] in ([], [2021])
    assert body["summary_figures"]["budget_envelope"] == 75_000_000
    assert Decimal(str(body["summary_figures"]["budget_committed"])) >= 48_000_000


def test_the_page_is_quick_and_its_queries_few(demo, officer_client):
    officer_client.get("/insights/briefing/", {"as_of": DAY.isoformat()})  # warm the caches
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        response = officer_client.get("/insights/briefing/", {"as_of": DAY.isoformat()}, HTTP_ACCEPT_LANGUAGE="nl")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    print(f"briefing page as of {DAY}: {elapsed * 1000:.0f} ms, {len(queries)} queries, {len(response.content)} bytes")
    # The session and the user's roles (5), the page of clusters and its detail (20), the summary of the whole
    # programme counted in the database (5: clusters, evaluations, reports, KPI targets, exceeded reservations),
    # the budget's totals (5) and the session saved (3): the same for 7 clusters or 3,000 (test_page_queries.py).
    assert len(queries) <= 36
    assert elapsed < 3, "generous for a shared CI machine; about 0.3 s on a laptop"
    assert "6 speerpuntclusters" in response.text
