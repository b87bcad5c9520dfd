"""Memberships: never leave before joining; no overlapping periods of one organisation in one cluster."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clusterpacts.models import Membership, periods_overlap
from clusterpacts.services import membership_save
from tests import factories
from tests.clusterpacts.admin_forms import add_inline_rows, admin_post_data, inline_errors, inline_prefix

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisation(db):
    return factories.OrganisationFactory(name="Acme")


def join(organisation, cluster, joined_on, left_on=None):
    return membership_save(
        membership=Membership(organisation=organisation, cluster=cluster, joined_on=joined_on, left_on=left_on)
    )


# --- leaving and joining --------------------------------------------------------------------------


def test_leaving_before_joining_is_refused_on_left_on_and_not_saved(organisation, cluster):
    with pytest.raises(ValidationError) as caught:
        join(organisation, cluster, date(2020, 5, 1), date(2020, 4, 30))

    assert "left_on" in caught.value.message_dict
    assert "cannot leave" in " ".join(caught.value.message_dict["left_on"])
    assert not Membership.objects.exists()


def test_leaving_on_the_day_of_joining_is_allowed(organisation, cluster):
    membership = join(organisation, cluster, date(2020, 5, 1), date(2020, 5, 1))

    membership.refresh_from_db()
    assert (membership.joined_on, membership.left_on) == (date(2020, 5, 1), date(2020, 5, 1))


def test_setting_a_leaving_date_before_joining_on_a_stored_membership_keeps_it_open(organisation, cluster):
    membership = join(organisation, cluster, date(2020, 5, 1))

    with pytest.raises(ValidationError) as caught:
        membership_save(membership=membership, left_on=date(2019, 12, 31))

    assert "left_on" in caught.value.message_dict
    membership.refresh_from_db()
    assert membership.left_on is None


# --- overlap --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("joined_on", "left_on", "case"),
    [
        (date(2019, 12, 31), None, "starts on the last day of the stored one"),
        (date(2017, 6, 1), date(2018, 1, 1), "ends on the first day of the stored one"),
        (date(2018, 6, 1), date(2018, 9, 1), "lies within the stored one"),
        (date(2017, 1, 1), date(2021, 1, 1), "encloses the stored one"),
        (date(2017, 1, 1), None, "open-ended, starting earlier"),
    ],
)
def test_overlapping_membership_of_one_organisation_in_one_cluster_is_refused(
    organisation, cluster, joined_on, left_on, case
):
    stored = join(organisation, cluster, date(2018, 1, 1), date(2019, 12, 31))

    with pytest.raises(ValidationError) as caught:
        join(organisation, cluster, joined_on, left_on)

    assert "joined_on" in caught.value.message_dict, case
    assert "may not overlap" in " ".join(caught.value.message_dict["joined_on"])
    assert list(Membership.objects.values_list("pk", flat=True)) == [stored.pk]


@pytest.mark.parametrize(
    ("joined_on", "left_on"),
    [(date(2020, 1, 1), None), (date(2016, 1, 1), date(2017, 12, 31))],
    ids=["the day after it ends", "ending the day before it starts"],
)
def test_adjacent_memberships_are_allowed(organisation, cluster, joined_on, left_on):
    join(organisation, cluster, date(2018, 1, 1), date(2019, 12, 31))

    join(organisation, cluster, joined_on, left_on)

    assert Membership.objects.filter(organisation=organisation, cluster=cluster).count() == 2


def test_an_open_ended_membership_overlaps_everything_after_its_start(organisation, cluster):
    join(organisation, cluster, date(2018, 1, 1))

    with pytest.raises(ValidationError) as caught:
        join(organisation, cluster, date(2035, 1, 1), date(2035, 12, 31))

    assert "joined_on" in caught.value.message_dict
    assert Membership.objects.count() == 1


def test_a_period_ending_before_an_open_ended_membership_starts_is_allowed(organisation, cluster):
    join(organisation, cluster, date(2018, 1, 1))

    join(organisation, cluster, date(2016, 1, 1), date(2017, 12, 31))

    assert Membership.objects.count() == 2


def test_the_same_organisation_may_be_a_member_of_another_cluster_at_the_same_time(
    organisation, cluster, other_cluster
):
    join(organisation, cluster, date(2018, 1, 1))

    join(organisation, other_cluster, date(2018, 1, 1))

    assert set(Membership.objects.values_list("cluster__slug", flat=True)) == {"catalisti", "sim"}


def test_another_organisation_may_join_the_same_cluster_in_the_same_period(organisation, cluster):
    join(organisation, cluster, date(2018, 1, 1))

    join(factories.OrganisationFactory(name="Beta"), cluster, date(2018, 1, 1))

    assert Membership.objects.filter(cluster=cluster).count() == 2


def test_saving_a_membership_again_does_not_overlap_with_itself(organisation, cluster):
    membership = join(organisation, cluster, date(2018, 1, 1))

    membership_save(membership=membership, paying=False, left_on=date(2020, 6, 30))

    membership.refresh_from_db()
    assert (membership.paying, membership.left_on) == (False, date(2020, 6, 30))


def test_extending_a_stored_membership_into_a_later_one_is_refused(organisation, cluster):
    first = join(organisation, cluster, date(2018, 1, 1), date(2018, 12, 31))
    join(organisation, cluster, date(2020, 1, 1))

    with pytest.raises(ValidationError) as caught:
        membership_save(membership=first, left_on=date(2020, 1, 1))

    assert "joined_on" in caught.value.message_dict
    first.refresh_from_db()
    assert first.left_on == date(2018, 12, 31)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((date(2018, 1, 1), date(2018, 12, 31)), (date(2019, 1, 1), None), False),
        ((date(2018, 1, 1), date(2019, 1, 1)), (date(2019, 1, 1), None), True),
        ((date(2018, 1, 1), None), (date(2040, 1, 1), date(2040, 2, 1)), True),
        ((date(2018, 1, 1), None), (date(2017, 1, 1), date(2017, 12, 31)), False),
    ],
)
def test_periods_overlap_when_each_starts_before_the_other_ends(a, b, expected):
    assert periods_overlap(*a, *b) is expected
    assert periods_overlap(*b, *a) is expected


def test_active_on_counts_a_member_on_its_first_and_last_day_only(organisation, cluster):
    join(organisation, cluster, date(2018, 1, 1), date(2018, 12, 31))

    assert Membership.objects.active_on(date(2018, 1, 1)).count() == 1
    assert Membership.objects.active_on(date(2018, 12, 31)).count() == 1
    assert Membership.objects.active_on(date(2017, 12, 31)).count() == 0
    assert Membership.objects.active_on(date(2019, 1, 1)).count() == 0


# --- the admin's inline memberships on the cluster page -----------------------------------------


def _cluster_page(officer_client, cluster):
    url = reverse("admin:clusterpacts_cluster_change", args=[cluster.pk])
    page = officer_client.get(url)
    assert page.status_code == 200
    return url, page


def _row(organisation, joined_on, left_on=""):
    return {"id": "", "organisation": str(organisation.pk), "joined_on": joined_on, "left_on": left_on, "paying": "on"}


def test_admin_refuses_two_overlapping_new_memberships_in_one_post(officer_client, cluster, organisation):
    url, page = _cluster_page(officer_client, cluster)
    data = admin_post_data(page)
    add_inline_rows(
        data,
        inline_prefix(page, Membership),
        [_row(organisation, "2018-01-01", "2019-12-31"), _row(organisation, "2019-06-01")],
    )

    response = officer_client.post(url, data)

    assert response.status_code == 200
    assert any("in this list overlap" in message for message in inline_errors(response))
    assert not Membership.objects.exists()


def test_admin_saves_two_adjacent_new_memberships_in_one_post(officer_client, cluster, organisation):
    url, page = _cluster_page(officer_client, cluster)
    data = admin_post_data(page)
    add_inline_rows(
        data,
        inline_prefix(page, Membership),
        [_row(organisation, "2018-01-01", "2019-12-31"), _row(organisation, "2020-01-01")],
    )

    response = officer_client.post(url, data)

    assert response.status_code == 302, inline_errors(response)
    assert list(Membership.objects.order_by("joined_on").values_list("joined_on", "left_on")) == [
        (date(2018, 1, 1), date(2019, 12, 31)),
        (date(2020, 1, 1), None),
    ]


def test_admin_refuses_a_new_membership_overlapping_a_stored_one(officer_client, cluster, organisation):
    join(organisation, cluster, date(2018, 1, 1))
    url, page = _cluster_page(officer_client, cluster)
    data = admin_post_data(page)
    add_inline_rows(data, inline_prefix(page, Membership), [_row(organisation, "2021-01-01", "2021-12-31")])

    response = officer_client.post(url, data)

    assert response.status_code == 200
    assert any("may not overlap" in message for message in inline_errors(response))
    assert Membership.objects.count() == 1


def test_admin_refuses_a_new_membership_that_leaves_before_joining(officer_client, cluster, organisation):
    url, page = _cluster_page(officer_client, cluster)
    data = admin_post_data(page)
    add_inline_rows(data, inline_prefix(page, Membership), [_row(organisation, "2020-05-01", "2020-04-30")])

    response = officer_client.post(url, data)

    assert response.status_code == 200
    assert any("cannot leave" in message for message in inline_errors(response))
    assert not Membership.objects.exists()
