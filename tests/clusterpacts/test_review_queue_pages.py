"""The review queue of a large programme (issue 16): plans and reports a page at a time, what waits longest
first across the pages; the overdue reports a page at a time too; with many clusters, the cluster is typed."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from clusterpacts import forms, services, views
from clusterpacts.models import AnnualReport, Cluster, ReportEvent, Workflow
from tests import factories

pytestmark = pytest.mark.django_db

QUEUE = reverse("clusterpacts:review")
YEAR = timezone.localdate().year - 1


@pytest.fixture
def waiting(monkeypatch) -> list[AnnualReport]:
    """Five reports submitted a day apart (the oldest first), each of its own cluster; pages of 2."""
    monkeypatch.setattr(views, "REVIEW_PAGE_SIZE", 2)
    monkeypatch.setattr(views, "OVERDUE_PAGE_SIZE", 2)
    reports = []
    for n, name in enumerate(["Echo", "Delta", "Charlie", "Bravo", "Alfa"]):
        cluster = factories.ClusterFactory(name=name, slug=name.lower(), started_on=date(YEAR, 1, 1))
        report = services.annual_report_create(cluster=cluster, year=YEAR, narrative="Done.")
        report.status, report.submitted_at = Workflow.SUBMITTED, timezone.make_aware(datetime(YEAR, 6, 1, 10 + n))
        report.save()
        ReportEvent.objects.create(report=report, from_status="draft", to_status="submitted", at=report.submitted_at)
        reports.append(report)
    return reports


def names(response) -> list[str]:
    return [item.document.cluster.name for item in response.context["items"]]


def test_the_queue_shows_a_page_what_waits_longest_first_and_counts_them_all(officer_client, waiting):
    first = officer_client.get(QUEUE)
    assert names(first) == ["Echo", "Delta"], "submitted first, shown first"
    assert '<span class="count">5</span>' in first.text
    assert 'aria-label="Pages of the plans and reports"' in first.text
    assert names(officer_client.get(QUEUE, {"page": 3})) == ["Alfa"]
    assert names(officer_client.get(QUEUE, {"page": 2, "state": "all"})) == ["Charlie", "Bravo"]


def test_the_overdue_reports_go_a_page_at_a_time_keeping_the_filters(officer_client, monkeypatch):
    monkeypatch.setattr(views, "OVERDUE_PAGE_SIZE", 2)
    for name in ["Alfa", "Bravo", "Charlie"]:
        factories.ClusterFactory(name=name, slug=name.lower(), started_on=date(YEAR - 1, 1, 1))
    response = officer_client.get(QUEUE, {"kind": "report", "overdue_page": 2})
    overdue = response.context["overdue"]
    assert response.context["overdue_pager"].count == 6, "two ended working years of three clusters, never started"
    assert [(slot.cluster_name, slot.year) for slot in overdue] == [("Bravo", YEAR - 1), ("Bravo", YEAR)]
    nav = response.text.split('aria-label="Pages of the overdue reports"')[1].split("</nav>")[0]
    assert 'href="?kind=report" rel="prev"' in nav and 'href="?kind=report&amp;overdue_page=3" rel="next"' in nav


def test_with_many_clusters_the_cluster_is_typed_by_name_or_short_name(officer_client, waiting, monkeypatch):
    monkeypatch.setattr(forms, "CLUSTER_CHOICES_LIMIT", 3)
    page = officer_client.get(QUEUE).text
    assert 'type="search" name="cluster"' in page and '<option value="alfa"' not in page
    assert names(officer_client.get(QUEUE, {"cluster": "Charlie"})) == ["Charlie"]
    assert names(officer_client.get(QUEUE, {"cluster": "bravo"})) == ["Bravo"]
    unknown = officer_client.get(QUEUE, {"cluster": "Zulu"})
    assert "Select a valid choice" in unknown.text


def test_with_few_clusters_they_are_listed(officer_client, waiting):
    assert '<option value="alfa">Alfa</option>' in officer_client.get(QUEUE).text
    assert Cluster.objects.count() <= forms.CLUSTER_CHOICES_LIMIT
