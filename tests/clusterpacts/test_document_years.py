"""A plan is for a year from the cluster's start to next year, a report for a working year from the
cluster's start to this year: one rule (the models' clean), met in the admin, the API and the portal,
each refusing with the same message and creating nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from clusterpacts import services
from clusterpacts.models import AnnualPlan, AnnualReport, KpiTarget, KpiValue, ReportEvent, plan_years, report_years
from tests.funding.helpers import row_counts
from tests.rules import admin_save, admin_url, api, assert_shows, client_for, refusal

pytestmark = pytest.mark.django_db

DOCUMENTS = (AnnualPlan, AnnualReport, KpiTarget, KpiValue, ReportEvent)
MODELS = {"plan": AnnualPlan, "report": AnnualReport}
CREATE = {"plan": services.annual_plan_create, "report": services.annual_report_create}
RESOURCE = {"plan": "annual-plans", "report": "annual-reports"}
PAGE = {"plan": "clusterpacts:plan", "report": "clusterpacts:report"}


def paths(officer: Any, manager: Any, cluster: Any, kind: str, year: int) -> dict[str, Callable[[], Any]]:
    model = MODELS[kind]
    return {
        "admin": lambda: admin_save(officer, admin_url(model, "add"), {"cluster": str(cluster.pk), "year": str(year)}),
        "API": lambda: api(manager, "post", f"{RESOURCE[kind]}/", {"cluster": cluster.pk, "year": year}),
    }


@pytest.mark.parametrize("year", [2005, 2012, 2016])
@pytest.mark.parametrize("kind", ["plan", "report"])
@pytest.mark.parametrize("path", ["admin", "API"])
def test_a_document_before_the_cluster_started_is_refused_naming_its_start_year(
    officer, manager, cluster, kind, path, year
):
    expected = refusal(lambda: CREATE[kind](cluster=cluster, year=year))
    before = row_counts(*DOCUMENTS)

    assert_shows(paths(officer, manager, cluster, kind, year)[path](), expected)

    assert row_counts(*DOCUMENTS) == before
    assert len(expected) == 1
    assert f"{cluster.name} started in 2017" in expected[0]
    assert str(year) in expected[0]


@pytest.mark.parametrize("path", ["admin", "API"])
def test_a_plan_more_than_a_year_ahead_is_refused(officer, manager, cluster, path):
    year = timezone.localdate().year + 2
    expected = refusal(lambda: services.annual_plan_create(cluster=cluster, year=year))
    before = row_counts(*DOCUMENTS)

    assert_shows(paths(officer, manager, cluster, "plan", year)[path](), expected)

    assert row_counts(*DOCUMENTS) == before
    assert expected == [f"An annual plan is drafted at most one year ahead: {year - 1} at the latest, not {year}."]


def test_the_first_and_last_years_are_allowed(cluster):
    this_year = timezone.localdate().year
    assert services.annual_plan_create(cluster=cluster, year=2017).pk
    assert services.annual_plan_create(cluster=cluster, year=this_year + 1).pk
    assert services.annual_report_create(cluster=cluster, year=2017).pk
    assert services.annual_report_create(cluster=cluster, year=this_year).pk


def test_the_years_run_from_the_start_year(cluster):
    this_year = timezone.localdate().year
    assert plan_years(cluster) == range(2017, this_year + 2)
    assert report_years(cluster) == range(2017, this_year + 1)


def test_the_message_is_dutch_by_default(cluster):
    from django.core.exceptions import ValidationError
    from django.utils import translation

    with translation.override("nl"), pytest.raises(ValidationError) as caught:
        services.annual_report_create(cluster=cluster, year=2012)
    message = caught.value.messages[0]
    assert "2017" in message and "2012" in message
    assert "started" not in message


@pytest.mark.parametrize("kind", ["plan", "report"])
@pytest.mark.parametrize("year", [2005, 2016])
def test_the_portal_page_of_a_year_before_the_start_is_404(manager, cluster, kind, year):
    before = row_counts(*DOCUMENTS)
    url = reverse(PAGE[kind], args=[cluster.slug, year])
    client = client_for(manager)

    assert client.get(url).status_code == 404
    assert client.post(url, {"planned_actions": "x", "narrative": "x"}).status_code == 404

    assert row_counts(*DOCUMENTS) == before


@pytest.mark.parametrize("kind", ["plan", "report"])
def test_the_portal_page_of_the_start_year_opens(manager, cluster, kind):
    assert client_for(manager).get(reverse(PAGE[kind], args=[cluster.slug, 2017])).status_code == 200


def test_the_portal_pages_past_the_last_year_are_404(manager, cluster):
    this_year = timezone.localdate().year
    client = client_for(manager)
    assert client.get(reverse(PAGE["plan"], args=[cluster.slug, this_year + 2])).status_code == 404
    assert client.get(reverse(PAGE["report"], args=[cluster.slug, this_year + 1])).status_code == 404
