"""Every list and detail endpoint of /api/v1/ answers an officer with the demo cluster's data."""

import pytest

from funding.demo import CLUSTERS, DemoSeeder
from funding.services import flags_scan
from tests.api_helpers import RESOURCE_NAMES, seed_project

pytestmark = pytest.mark.django_db

RESOURCES = RESOURCE_NAMES  # every resource of /api/v1/ (tests/api_helpers.py)


@pytest.fixture
def demo(db):
    seeder = DemoSeeder(password="demo-pass-123", log=lambda _line: None)
    medvia = seeder.seed_cluster(CLUSTERS[-1])
    seeder.seed_budget([medvia])
    seed_project(medvia)
    from datetime import date

    flags_scan(as_of=date(2026, 11, 27))


@pytest.mark.parametrize("resource", RESOURCES)
def test_list_and_detail_answer_an_officer(client, officer, demo, resource):
    client.force_login(officer)
    listing = client.get(f"/api/v1/{resource}/")
    assert listing.status_code == 200, listing.content
    body = listing.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] > 0
    first = body["results"][0]
    detail = client.get(f"/api/v1/{resource}/{first['id']}/")
    assert detail.status_code == 200
    assert detail.json() == first
    assert detail.headers["ETag"].startswith('"')
