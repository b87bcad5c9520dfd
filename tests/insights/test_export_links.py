"""Every table an officer reads can be taken to Excel from where it is shown, filtered like the page."""

import re
from datetime import date

import pytest
from django.utils import timezone

from tests import factories

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def links(html: str) -> list[str]:
    return [href.replace("&amp;", "&") for href in re.findall(r'href="(/insights/exports/[^"]+)"', html)]


def test_the_briefing_links_each_question_to_its_table_filtered_to_the_day(client, officer, cluster):
    client.force_login(officer)
    response = client.get("/insights/briefing/", {"as_of": "2020-04-01"}, HTTP_ACCEPT_LANGUAGE="en")
    hrefs = links(response.text)
    # Every download carries the page's day and replays it (tests/insights/test_briefing_as_of.py).
    for dataset in ("evaluations", "kpi-values", "lessons", "agreements", "allocations", "projects"):
        for fmt in ("xlsx", "csv"):
            assert f"/insights/exports/{dataset}.{fmt}?as_of=2020-04-01" in hrefs

    for href in hrefs:
        download = client.get(href)
        assert download.status_code == 200, href
        assert download["Content-Type"].startswith(XLSX if ".xlsx" in href else "text/csv"), href


def test_no_download_of_the_briefing_says_it_is_todays_data(client, officer):
    client.force_login(officer)
    response = client.get("/insights/briefing/", {"as_of": "2020-04-01"}, HTTP_ACCEPT_LANGUAGE="en")
    assert links(response.text)
    assert "the data as it stands today" not in response.text


def test_the_cluster_page_links_its_tables_filtered_to_the_cluster(client, manager, cluster, other_cluster):
    factories.EvaluationFactory(cluster=cluster, title="Own evaluation")
    factories.EvaluationFactory(cluster=other_cluster, title="Someone else's evaluation")
    factories.ProjectFactory(lead_cluster=cluster)
    client.force_login(manager)
    hrefs = links(client.get(f"/clusters/{cluster.slug}/").text)
    query = f"?cluster={cluster.pk}"
    for dataset in ("agreements", "kpi-values", "evaluations", "lessons", "projects"):
        assert (
            f"/insights/exports/{dataset}.xlsx{query}" in hrefs and f"/insights/exports/{dataset}.csv{query}" in hrefs
        )
    rows = b"".join(client.get(f"/insights/exports/evaluations.csv{query}").streaming_content).decode()
    assert "Own evaluation" in rows and "Someone else's evaluation" not in rows


def test_the_dashboard_links_the_agreements_ending_in_its_window(client, officer, cluster):
    from funding.models import SupportAgreement

    today = timezone.localdate()
    start = date(today.year - 1, 1, 1)
    SupportAgreement.objects.create(
        cluster=cluster,
        reference="SO-1",
        start_date=start,
        end_date=date(today.year + 1, 12, 31),
        amount=1,
        chain_start=start,
    )
    client.force_login(officer)
    hrefs = links(client.get("/insights/").text)
    [href] = [h for h in hrefs if h.startswith("/insights/exports/agreements.xlsx")]
    assert f"end_date__gte={today.isoformat()}" in href
    assert "SO-1" in b"".join(client.get(href.replace(".xlsx", ".csv")).streaming_content).decode()
