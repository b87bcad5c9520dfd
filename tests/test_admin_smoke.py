"""Every admin changelist, add page and change page loads for a VLAIO officer (staff, not superuser)."""

import pytest
from django.contrib import admin
from django.urls import reverse

from funding.demo import CLUSTERS, DemoSeeder
from tests.api_helpers import seed_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    """One demo cluster (MEDVIA, the smallest) with everything it has, the budget years, and a project."""
    seeder = DemoSeeder(password="demo-pass-123", log=lambda _line: None)
    medvia = seeder.seed_cluster(CLUSTERS[-1])
    seeder.seed_budget([medvia])
    seed_project(medvia)


def _registered():
    return [
        model for model in admin.site._registry if model._meta.app_label in {"clusterpacts", "evaluations", "funding"}
    ]


@pytest.mark.parametrize("model", _registered(), ids=lambda m: m._meta.label)
def test_changelist_add_and_change_pages_load_for_an_officer(client, officer, demo, model):
    client.force_login(officer)
    opts = model._meta
    changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    model_admin = admin.site._registry[model]
    request = changelist.wsgi_request
    if model_admin.has_add_permission(request):
        assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 200
    obj = model.objects.order_by("pk").first()
    if obj is not None:
        change = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
        assert change.status_code == 200
        history = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk]))
        assert history.status_code == 200


def test_an_officer_can_search_users_to_link_a_cluster_manager(client, officer):
    from tests.factories import UserFactory

    UserFactory(username="new-manager")
    client.force_login(officer)
    response = client.get(
        "/admin/autocomplete/",
        {"term": "new-man", "app_label": "clusterpacts", "model_name": "clustermanager", "field_name": "user"},
    )
    assert response.status_code == 200
    assert [row["text"] for row in response.json()["results"]] == ["new-manager"]


def test_an_officer_cannot_change_user_accounts(client, officer):
    client.force_login(officer)
    assert client.get(f"/admin/auth/user/{officer.pk}/change/").status_code in (200, 403)
    response = client.post(f"/admin/auth/user/{officer.pk}/change/", {"username": "officer", "is_superuser": "on"})
    officer.refresh_from_db()
    assert response.status_code == 403
    assert not officer.is_superuser


def test_an_api_reader_has_no_admin_access(client, reader):
    client.force_login(reader)
    response = client.get("/admin/")
    assert response.status_code == 302  # not staff: sent to the admin login
