"""No lost update: a form opened before someone else's change does not save over it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from funding.models import SupportAgreement
from funding.services import agreement_save
from tests import factories
from tests.clusterpacts.admin_forms import admin_post_data

pytestmark = pytest.mark.django_db


def admin_client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def agreement(cluster) -> SupportAgreement:
    return SupportAgreement.objects.create(
        cluster=cluster,
        reference="SO-1",
        start_date=date(2017, 1, 1),
        end_date=date(2019, 12, 31),
        chain_start=date(2017, 1, 1),
        amount=Decimal(500_000),
    )


def test_a_stale_admin_change_form_is_refused_with_who_changed_it_and_saves_nothing(officer, agreement):
    olivia = factories.officer(username="olivia", first_name="Olivia", last_name="Officer")
    url = reverse("admin:funding_supportagreement_change", args=[agreement.pk])
    client = admin_client(officer)
    data = admin_post_data(client.get(url))
    agreement._history_user = olivia  # type: ignore[attr-defined]
    agreement_save(agreement=agreement, notes="Olivia's note")

    response = client.post(url, {**data, "notes": "My note"})

    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.non_field_errors())
    assert "Changed by Olivia Officer at " in errors and "reload to see the change" in errors
    agreement.refresh_from_db()
    assert agreement.notes == "Olivia's note"


def test_a_fresh_admin_change_form_saves(officer, agreement):
    url = reverse("admin:funding_supportagreement_change", args=[agreement.pk])
    client = admin_client(officer)
    data = admin_post_data(client.get(url))

    response = client.post(url, {**data, "notes": "My note"})

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    agreement.refresh_from_db()
    assert agreement.notes == "My note"
