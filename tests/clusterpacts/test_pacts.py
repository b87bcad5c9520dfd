"""Cluster pacts: numbered versions, one signed and current version per cluster, signing dates."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clusterpacts.models import ClusterPact
from clusterpacts.services import entity_save, pact_create, pact_sign
from tests.clusterpacts.admin_forms import admin_post_data, form_errors

pytestmark = pytest.mark.django_db

Status = ClusterPact.Status


def statuses(cluster):
    return list(ClusterPact.objects.filter(cluster=cluster).order_by("version").values_list("version", "status"))


def signed_pact(cluster, signed_on):
    return pact_sign(pact=pact_create(cluster=cluster), signed_on=signed_on)


# --- versions -------------------------------------------------------------------------------------


def test_versions_are_numbered_1_2_3_per_cluster(cluster, other_cluster):
    versions = [pact_create(cluster=cluster).version for _ in range(3)]
    other = pact_create(cluster=other_cluster)

    assert versions == [1, 2, 3]
    assert other.version == 1
    assert statuses(cluster) == [(1, Status.DRAFT), (2, Status.DRAFT), (3, Status.DRAFT)]


def test_a_new_version_follows_the_highest_even_when_signed(cluster):
    signed_pact(cluster, date(2017, 12, 15))

    assert pact_create(cluster=cluster, programme_summary="Year two").version == 2


def test_a_second_pact_with_an_existing_version_number_is_refused(cluster):
    pact_create(cluster=cluster)

    with pytest.raises(ValidationError) as caught:
        entity_save(instance=ClusterPact(cluster=cluster, version=1))

    assert "already has a pact with this version" in " ".join(caught.value.messages)
    assert ClusterPact.objects.count() == 1


# --- signing --------------------------------------------------------------------------------------


def test_signing_a_draft_makes_it_the_signed_version(cluster):
    pact = pact_create(cluster=cluster)

    pact_sign(pact=pact, signed_on=date(2017, 12, 15))

    pact.refresh_from_db()
    assert (pact.status, pact.signed_on) == (Status.SIGNED, date(2017, 12, 15))


def test_signing_a_new_version_supersedes_the_previous_signed_one(cluster):
    first = signed_pact(cluster, date(2017, 12, 15))
    second = signed_pact(cluster, date(2018, 12, 14))
    third = signed_pact(cluster, date(2019, 12, 13))

    assert statuses(cluster) == [(1, Status.SUPERSEDED), (2, Status.SUPERSEDED), (3, Status.SIGNED)]
    assert ClusterPact.objects.filter(cluster=cluster, status=Status.SIGNED).get() == third
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.signed_on, second.signed_on) == (date(2017, 12, 15), date(2018, 12, 14))


def test_signing_in_one_cluster_leaves_the_other_clusters_pact_signed(cluster, other_cluster):
    signed_pact(other_cluster, date(2017, 12, 15))
    signed_pact(cluster, date(2017, 12, 15))
    signed_pact(cluster, date(2018, 12, 14))

    assert statuses(other_cluster) == [(1, Status.SIGNED)]


def test_signing_today_is_allowed(cluster):
    pact = signed_pact(cluster, timezone.localdate())

    assert pact.status == Status.SIGNED


def test_signing_in_the_future_is_refused_on_signed_on_and_keeps_the_draft(cluster):
    pact = pact_create(cluster=cluster)

    with pytest.raises(ValidationError) as caught:
        pact_sign(pact=pact, signed_on=timezone.localdate() + timedelta(days=1))

    assert "signed_on" in caught.value.message_dict
    assert "future" in " ".join(caught.value.message_dict["signed_on"])
    pact.refresh_from_db()
    assert (pact.status, pact.signed_on) == (Status.DRAFT, None)


def test_signing_before_the_current_version_was_signed_is_refused_and_changes_nothing(cluster):
    current = signed_pact(cluster, date(2018, 12, 14))
    draft = pact_create(cluster=cluster)

    with pytest.raises(ValidationError) as caught:
        pact_sign(pact=draft, signed_on=date(2018, 12, 13))

    assert "signed_on" in caught.value.message_dict
    assert "before the current one" in " ".join(caught.value.message_dict["signed_on"])
    assert statuses(cluster) == [(1, Status.SIGNED), (2, Status.DRAFT)]
    current.refresh_from_db()
    assert current.status == Status.SIGNED


def test_signing_on_the_same_day_as_the_current_version_is_allowed(cluster):
    signed_pact(cluster, date(2018, 12, 14))

    signed_pact(cluster, date(2018, 12, 14))

    assert statuses(cluster) == [(1, Status.SUPERSEDED), (2, Status.SIGNED)]


@pytest.mark.parametrize("status", [Status.SIGNED, Status.SUPERSEDED])
def test_signing_a_version_that_is_not_a_draft_is_refused_on_status(cluster, status):
    pact = signed_pact(cluster, date(2017, 12, 15))
    if status == Status.SUPERSEDED:
        signed_pact(cluster, date(2018, 12, 14))
    pact.refresh_from_db()
    before = statuses(cluster)

    with pytest.raises(ValidationError) as caught:
        pact_sign(pact=pact, signed_on=date(2019, 1, 1))

    assert "status" in caught.value.message_dict
    assert "Only a draft" in " ".join(caught.value.message_dict["status"])
    assert statuses(cluster) == before
    pact.refresh_from_db()
    assert pact.signed_on == date(2017, 12, 15)


def test_a_draft_with_a_future_signing_date_is_refused_on_signed_on(cluster):
    pact = pact_create(cluster=cluster)

    with pytest.raises(ValidationError) as caught:
        entity_save(instance=pact, signed_on=timezone.localdate() + timedelta(days=1))

    assert "signed_on" in caught.value.message_dict
    pact.refresh_from_db()
    assert pact.signed_on is None


# --- the admin ------------------------------------------------------------------------------------


def _add_page(officer_client):
    url = reverse("admin:clusterpacts_clusterpact_add")
    page = officer_client.get(url)
    assert page.status_code == 200
    return url, page


def _post_new_pact(officer_client, cluster, signed_on, sign=True):
    url, page = _add_page(officer_client)
    data = admin_post_data(page)
    data.update(cluster=str(cluster.pk), signed_on=signed_on.isoformat(), programme_summary="Next version")
    if sign:
        data["sign"] = "on"
    return officer_client.post(url, data)


def test_admin_adding_a_pact_with_sign_checked_supersedes_the_signed_version(officer_client, cluster):
    signed_pact(cluster, date(2018, 12, 14))

    response = _post_new_pact(officer_client, cluster, date(2019, 12, 13))

    assert response.status_code == 302, form_errors(response)
    assert statuses(cluster) == [(1, Status.SUPERSEDED), (2, Status.SIGNED)]
    new = ClusterPact.objects.get(cluster=cluster, version=2)
    assert (new.signed_on, new.programme_summary) == (date(2019, 12, 13), "Next version")


def test_admin_adding_a_pact_without_sign_creates_the_next_draft(officer_client, cluster):
    signed_pact(cluster, date(2018, 12, 14))

    response = _post_new_pact(officer_client, cluster, date(2019, 12, 13), sign=False)

    assert response.status_code == 302, form_errors(response)
    assert statuses(cluster) == [(1, Status.SIGNED), (2, Status.DRAFT)]


def test_admin_refuses_signing_a_new_pact_in_the_future(officer_client, cluster):
    signed_pact(cluster, date(2018, 12, 14))

    response = _post_new_pact(officer_client, cluster, timezone.localdate() + timedelta(days=1))

    assert response.status_code == 200
    assert "signed_on" in form_errors(response)
    assert statuses(cluster) == [(1, Status.SIGNED)]


def test_admin_refuses_signing_a_new_pact_before_the_current_one(officer_client, cluster):
    signed_pact(cluster, date(2018, 12, 14))

    response = _post_new_pact(officer_client, cluster, date(2018, 12, 1))

    assert response.status_code == 200
    assert "before the current one" in " ".join(form_errors(response)["signed_on"])
    assert statuses(cluster) == [(1, Status.SIGNED)]


def test_admin_signs_a_draft_from_its_change_page(officer_client, cluster):
    signed_pact(cluster, date(2018, 12, 14))
    draft = pact_create(cluster=cluster)
    url = reverse("admin:clusterpacts_clusterpact_change", args=[draft.pk])
    data = admin_post_data(officer_client.get(url))
    data.update(signed_on="2019-12-13", sign="on")

    response = officer_client.post(url, data)

    assert response.status_code == 302, form_errors(response)
    assert statuses(cluster) == [(1, Status.SUPERSEDED), (2, Status.SIGNED)]
