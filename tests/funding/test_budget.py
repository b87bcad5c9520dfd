"""Budget years and allocations: the envelope, reservations, inter-cluster partners, constraints, admin."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import translation

from core.versions import version_of
from funding.models import Allocation, BudgetYear
from funding.services import allocation_save, budget_year_save
from tests.factories import BudgetYearFactory
from tests.funding.helpers import refused, refused_by_the_database, row_counts

pytestmark = pytest.mark.django_db

COMPETITIVENESS = Allocation.Purpose.COMPETITIVENESS
INTER_CLUSTER = Allocation.Purpose.INTER_CLUSTER
OTHER = Allocation.Purpose.OTHER
TEN_MILLION = Decimal("10000000.00")
EIGHT_MILLION = Decimal("8000000.00")
BUDGET_MODELS = (BudgetYear, Allocation, Allocation.partners.through)


@pytest.fixture
def year_2020(db) -> BudgetYear:
    return BudgetYearFactory(year=2020, envelope=TEN_MILLION)


@pytest.fixture
def reservation(year_2020, cluster) -> Allocation:
    """8 M EUR of the 10 M EUR envelope reserved for the cluster's competitiveness programme."""
    return allocate(year_2020, COMPETITIVENESS, EIGHT_MILLION, cluster=cluster)


def allocate(budget_year, purpose, amount, *, cluster=None, partners=None) -> Allocation:
    return allocation_save(
        allocation=Allocation(budget_year=budget_year, purpose=purpose, cluster=cluster, amount=Decimal(amount)),
        partners=partners,
    )


def refused_allocation(field: str, *fragments: str):
    return refused(field, *fragments, models=BUDGET_MODELS)


# --- the envelope -------------------------------------------------------------------------------------


def test_allocations_exactly_filling_the_envelope_are_allowed(year_2020, reservation):
    allocate(year_2020, OTHER, "2000000.00")

    assert year_2020.allocated == TEN_MILLION
    assert year_2020.remaining == Decimal(0)


def test_an_allocation_one_cent_over_the_envelope_is_refused_with_what_is_left(year_2020, reservation):
    with refused_allocation(
        "amount", "would exceed the envelope", "10,000,000.00 EUR", "only 2,000,000.00 EUR is left"
    ):
        allocate(year_2020, OTHER, "2000000.01")

    assert year_2020.remaining == Decimal("2000000.00")


def test_what_is_left_is_shown_as_the_default_language_writes_amounts(year_2020, reservation):
    with translation.override(settings.LANGUAGE_CODE), refused_allocation("amount", "2.000.000,00 EUR"):
        allocate(year_2020, OTHER, "2000000.01")


def test_a_full_envelope_refuses_even_one_cent(year_2020, reservation):
    allocate(year_2020, OTHER, "2000000.00")

    with refused_allocation("amount", "only 0.00 EUR is left"):
        allocate(year_2020, OTHER, "0.01")


def test_an_allocation_may_grow_to_fill_the_envelope_without_counting_itself_twice(reservation):
    allocation_save(allocation=reservation, amount=TEN_MILLION)

    assert Allocation.objects.get(pk=reservation.pk).amount == TEN_MILLION


def test_growing_an_allocation_past_the_envelope_is_refused(year_2020, reservation):
    allocate(year_2020, OTHER, "1000000.00")

    with refused_allocation("amount", "only 9,000,000.00 EUR is left"):
        allocation_save(allocation=reservation, amount=Decimal("9000000.01"))

    assert Allocation.objects.get(pk=reservation.pk).amount == EIGHT_MILLION


def test_the_envelope_of_one_year_does_not_limit_another(year_2020, reservation, other_cluster):
    year_2021 = BudgetYearFactory(year=2021, envelope=Decimal("5000000.00"))

    allocate(year_2021, COMPETITIVENESS, "5000000.00", cluster=other_cluster)

    assert (year_2020.remaining, year_2021.remaining) == (Decimal("2000000.00"), Decimal(0))


def test_lowering_the_envelope_below_what_is_allocated_is_refused(year_2020, reservation):
    with refused_allocation("envelope", "8,000,000.00 EUR", "2020", "cannot be lower"):
        budget_year_save(budget_year=year_2020, envelope=Decimal("7999999.99"))

    assert BudgetYear.objects.get(pk=year_2020.pk).envelope == TEN_MILLION


def test_lowering_the_envelope_to_exactly_what_is_allocated_is_allowed(year_2020, reservation):
    budget_year_save(budget_year=year_2020, envelope=EIGHT_MILLION)

    stored = BudgetYear.objects.get(pk=year_2020.pk)
    assert stored.envelope == EIGHT_MILLION
    assert stored.remaining == Decimal(0)


def test_an_empty_budget_year_may_have_any_envelope(db):
    budget_year = budget_year_save(budget_year=BudgetYear(year=2024, envelope=Decimal("75000000.00")))

    budget_year_save(budget_year=budget_year, envelope=Decimal(0))

    assert BudgetYear.objects.get(year=2024).envelope == Decimal(0)


# --- remaining: computed, never stored ----------------------------------------------------------------


def test_remaining_is_not_a_stored_column():
    columns = {field.name for field in BudgetYear._meta.concrete_fields}

    assert "remaining" not in columns
    assert "allocated" not in columns


def test_remaining_is_the_envelope_less_the_allocations(year_2020, reservation, other_cluster):
    assert year_2020.remaining == Decimal("2000000.00")

    allocate(year_2020, INTER_CLUSTER, "1500000.00", partners=[reservation.cluster, other_cluster])

    assert year_2020.remaining == Decimal("500000.00")


def test_remaining_follows_a_changed_envelope_at_once(year_2020, reservation):
    BudgetYear.objects.filter(pk=year_2020.pk).update(envelope=Decimal("12000000.00"))

    year_2020.refresh_from_db()
    assert year_2020.remaining == Decimal("4000000.00")


def test_remaining_of_a_year_without_allocations_is_its_envelope(year_2020):
    assert year_2020.remaining == TEN_MILLION


def test_remaining_uses_the_allocated_total_when_annotated(year_2020, reservation):
    annotated = BudgetYear.objects.annotate(allocated_total=Sum("allocations__amount")).get(pk=year_2020.pk)

    assert annotated.remaining == Decimal("2000000.00")


# --- competitiveness-programme reservations -----------------------------------------------------------


def test_a_competitiveness_allocation_names_one_cluster(reservation, cluster):
    stored = Allocation.objects.get(pk=reservation.pk)

    assert stored.cluster == cluster
    assert list(stored.partners.all()) == []


def test_a_competitiveness_allocation_without_a_cluster_is_refused(year_2020):
    with refused_allocation("cluster", "names exactly one cluster"):
        allocate(year_2020, COMPETITIVENESS, "8000000.00")


@pytest.mark.parametrize("purpose", [INTER_CLUSTER, OTHER])
def test_only_a_competitiveness_allocation_names_a_single_cluster(year_2020, cluster, other_cluster, purpose):
    partners = [cluster, other_cluster] if purpose == INTER_CLUSTER else None

    with refused_allocation("cluster", "Only a competitiveness-programme allocation"):
        allocate(year_2020, purpose, "1000000.00", cluster=cluster, partners=partners)


def test_a_second_reservation_for_one_cluster_in_one_year_is_refused(year_2020, reservation, cluster):
    with refused_allocation(NON_FIELD_ERRORS, "already has a competitiveness-programme reservation"):
        allocate(year_2020, COMPETITIVENESS, "1000000.00", cluster=cluster)


def test_the_same_cluster_may_have_a_reservation_in_another_year(reservation, cluster):
    year_2021 = BudgetYearFactory(year=2021, envelope=TEN_MILLION)

    allocate(year_2021, COMPETITIVENESS, EIGHT_MILLION, cluster=cluster)

    assert Allocation.objects.filter(cluster=cluster, purpose=COMPETITIVENESS).count() == 2


def test_two_clusters_each_have_their_reservation_in_one_year(year_2020, reservation, other_cluster):
    allocate(year_2020, COMPETITIVENESS, "2000000.00", cluster=other_cluster)

    assert Allocation.objects.filter(budget_year=year_2020, purpose=COMPETITIVENESS).count() == 2


def test_several_allocations_without_a_cluster_share_a_year(year_2020):
    allocate(year_2020, OTHER, "1000000.00")
    allocate(year_2020, OTHER, "1000000.00")

    assert Allocation.objects.filter(budget_year=year_2020, cluster__isnull=True).count() == 2


# --- inter-cluster projects ---------------------------------------------------------------------------


@pytest.mark.parametrize("partner_count", [0, 1])
def test_an_inter_cluster_project_with_fewer_than_two_clusters_is_refused(year_2020, cluster, partner_count):
    with refused_allocation("partners", "at least two clusters"):
        allocate(year_2020, INTER_CLUSTER, "1000000.00", partners=[cluster][:partner_count])


def test_the_same_cluster_twice_is_one_partner(year_2020, cluster):
    with refused_allocation("partners", "at least two clusters"):
        allocate(year_2020, INTER_CLUSTER, "1000000.00", partners=[cluster, cluster])


def test_an_inter_cluster_project_of_two_clusters_is_allowed(year_2020, cluster, other_cluster):
    allocation = allocate(year_2020, INTER_CLUSTER, "1000000.00", partners=[cluster, other_cluster])

    stored = Allocation.objects.get(pk=allocation.pk)
    assert set(stored.partners.all()) == {cluster, other_cluster}
    assert stored.cluster is None


@pytest.mark.parametrize("purpose", [COMPETITIVENESS, OTHER])
def test_only_an_inter_cluster_project_names_partners(year_2020, cluster, other_cluster, purpose):
    single = cluster if purpose == COMPETITIVENESS else None

    with refused_allocation("partners", "Only an inter-cluster project"):
        allocate(year_2020, purpose, "1000000.00", cluster=single, partners=[cluster, other_cluster])


def test_an_inter_cluster_project_keeps_its_partners_when_its_amount_changes(year_2020, cluster, other_cluster):
    allocation = allocate(year_2020, INTER_CLUSTER, "1000000.00", partners=[cluster, other_cluster])

    allocation_save(allocation=allocation, amount=Decimal("1200000.00"))

    stored = Allocation.objects.get(pk=allocation.pk)
    assert (stored.amount, stored.partners.count()) == (Decimal("1200000.00"), 2)


# --- amounts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["0", "0.00", "-0.01", "-1000.00"])
def test_an_allocation_of_zero_or_less_is_refused(year_2020, amount):
    with refused_allocation("amount", "more than 0 EUR"):
        allocate(year_2020, OTHER, amount)


def test_the_smallest_positive_allocation_is_allowed(year_2020):
    allocation = allocate(year_2020, OTHER, "0.01")

    assert Allocation.objects.get(pk=allocation.pk).amount == Decimal("0.01")


# --- the database holds the rules when the service is bypassed ----------------------------------------
# A user meets each of these through the services, with a clear message (above, and just below); the
# database constraint is the backstop for a write that bypasses them: one test per constraint.


def raw_allocation(budget_year, **overrides) -> Allocation:
    values = {"budget_year": budget_year, "purpose": OTHER, "amount": Decimal("1000.00")}
    return Allocation(**(values | overrides))


def test_the_raw_allocation_used_below_is_valid_for_the_database(year_2020):
    with transaction.atomic():
        raw_allocation(year_2020).save()
        Allocation.objects.bulk_create([raw_allocation(year_2020)])

    assert Allocation.objects.count() == 2


def test_the_database_refuses_an_allocation_of_zero(year_2020):
    with refused_by_the_database(Allocation, "allocation_amount_positive"):
        Allocation.objects.bulk_create([raw_allocation(year_2020), raw_allocation(year_2020, amount=Decimal(0))])

    assert Allocation.objects.count() == 0


@pytest.mark.parametrize(
    ("purpose", "with_cluster"),
    [(COMPETITIVENESS, False), (INTER_CLUSTER, True), (OTHER, True)],
    ids=["competitiveness-without-cluster", "inter-cluster-with-cluster", "other-with-cluster"],
)
def test_the_database_refuses_a_cluster_on_the_wrong_purpose(year_2020, cluster, purpose, with_cluster):
    row = raw_allocation(year_2020, purpose=purpose, cluster=cluster if with_cluster else None)

    with refused_by_the_database(Allocation, "allocation_cluster_only_for_competitiveness"):
        Allocation.objects.bulk_create([row])

    assert Allocation.objects.count() == 0


def test_the_database_refuses_a_second_reservation_for_a_cluster_in_a_year(year_2020, reservation, other_cluster):
    with refused_by_the_database(Allocation, "allocation_one_reservation_per_cluster_year"):
        Allocation.objects.create(
            budget_year=year_2020, purpose=COMPETITIVENESS, cluster=reservation.cluster, amount=1
        )

    # The control: the same row for another cluster is fine, so the refusal came from the unique constraint.
    with transaction.atomic():
        Allocation.objects.create(budget_year=year_2020, purpose=COMPETITIVENESS, cluster=other_cluster, amount=1)
    assert Allocation.objects.filter(cluster=reservation.cluster).count() == 1


def test_a_negative_envelope_is_refused_with_a_clear_message(db):
    with refused(NON_FIELD_ERRORS, "The envelope cannot be negative.", models=BUDGET_MODELS):
        budget_year_save(budget_year=BudgetYear(year=2020, envelope=Decimal("-0.01")))


def test_the_database_refuses_a_negative_envelope(db):
    with refused_by_the_database(BudgetYear, "budget_year_envelope_not_negative"):
        BudgetYear.objects.create(year=2020, envelope=Decimal("-0.01"))

    assert BudgetYear.objects.count() == 0


def test_one_budget_year_twice_is_refused_with_a_clear_message(year_2020):
    with refused("year", "already exists", models=BUDGET_MODELS):
        budget_year_save(budget_year=BudgetYear(year=2020, envelope=TEN_MILLION))


def test_the_database_refuses_one_budget_year_twice(year_2020):
    with refused_by_the_database(BudgetYear, "funding_budgetyear_year_key"):
        BudgetYear.objects.create(year=2020, envelope=TEN_MILLION)

    assert BudgetYear.objects.count() == 1


# --- the admin ----------------------------------------------------------------------------------------


def budget_year_form(budget_year: BudgetYear, rows: list[dict], *, envelope: Decimal | None = None) -> dict:
    """The POST of the budget year change page with its allocation rows (existing rows carry their id)."""
    initial = sum(1 for row in rows if row.get("id"))
    data = {
        "year": str(budget_year.year),
        "envelope": str(envelope if envelope is not None else budget_year.envelope),
        "notes": "",
        "_version": version_of(BudgetYear.objects.get(pk=budget_year.pk)),  # the page as opened now
        "allocations-TOTAL_FORMS": str(len(rows)),
        "allocations-INITIAL_FORMS": str(initial),
        "allocations-MIN_NUM_FORMS": "0",
        "allocations-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        prefix = f"allocations-{index}-"
        data[f"{prefix}id"] = row.get("id", "")
        data[f"{prefix}budget_year"] = str(budget_year.pk)
        data[f"{prefix}purpose"] = row["purpose"]
        data[f"{prefix}cluster"] = row["cluster"].pk if row.get("cluster") else ""
        data[f"{prefix}partners"] = [c.pk for c in row.get("partners", [])]
        data[f"{prefix}amount"] = str(row["amount"])
        data[f"{prefix}description"] = row.get("description", "")
        data[f"{prefix}decided_on"] = ""
        if row.get("DELETE"):
            data[f"{prefix}DELETE"] = "on"
    return data


def row_of(allocation: Allocation, **changes) -> dict:
    row = {
        "id": str(allocation.pk),
        "purpose": allocation.purpose,
        "cluster": allocation.cluster,
        "partners": list(allocation.partners.all()),
        "amount": allocation.amount,
    }
    return row | changes


def change_url(budget_year: BudgetYear) -> str:
    return reverse("admin:funding_budgetyear_change", args=[budget_year.pk])


def page_errors(response) -> str:
    """Every error the admin shows on a redisplayed change form: the form's, each row's, the formset's."""
    context = response.context
    parts = [str(context["adminform"].form.errors)]
    for inline in context["inline_admin_formsets"]:
        parts.append(str(inline.formset.errors))
        parts.append(str(inline.formset.non_form_errors()))
    return " ".join(parts)


def test_the_budget_year_page_has_the_allocation_rows_this_test_fills_in(client, officer, year_2020):
    client.force_login(officer)

    html = client.get(change_url(year_2020)).content.decode()

    for name in ("allocations-TOTAL_FORMS", "allocations-INITIAL_FORMS", "allocations-__prefix__-amount"):
        assert f'name="{name}"' in html


def test_the_admin_saves_allocations_that_exactly_fill_the_envelope(
    client, officer, year_2020, reservation, other_cluster
):
    client.force_login(officer)
    rows = [row_of(reservation), {"purpose": COMPETITIVENESS, "cluster": other_cluster, "amount": "2000000.00"}]

    response = client.post(change_url(year_2020), budget_year_form(year_2020, rows))

    assert response.status_code == 302
    assert Allocation.objects.filter(budget_year=year_2020).count() == 2
    assert BudgetYear.objects.get(pk=year_2020.pk).remaining == Decimal(0)


def test_the_admin_refuses_an_inline_allocation_past_the_envelope(client, officer, year_2020, reservation):
    client.force_login(officer)
    before = row_counts(*BUDGET_MODELS)
    rows = [row_of(reservation), {"purpose": OTHER, "amount": "2000000.01"}]

    response = client.post(change_url(year_2020), budget_year_form(year_2020, rows))

    assert response.status_code == 200
    assert "2,000,000.00 EUR" in page_errors(response)
    assert row_counts(*BUDGET_MODELS) == before


def test_the_admin_refuses_inline_rows_that_fit_one_by_one_but_not_together(client, officer, year_2020):
    client.force_login(officer)
    before = row_counts(*BUDGET_MODELS)
    rows = [{"purpose": OTHER, "amount": "6000000.00"}, {"purpose": OTHER, "amount": "5000000.00"}]

    response = client.post(change_url(year_2020), budget_year_form(year_2020, rows))

    assert response.status_code == 200
    assert "11,000,000.00 EUR" in page_errors(response)
    assert "more than the envelope" in response.content.decode()
    assert row_counts(*BUDGET_MODELS) == before


def test_the_admin_refuses_a_lower_envelope_than_the_allocations(client, officer, year_2020, reservation):
    client.force_login(officer)
    before = row_counts(*BUDGET_MODELS)

    response = client.post(
        change_url(year_2020), budget_year_form(year_2020, [row_of(reservation)], envelope=Decimal("7000000.00"))
    )

    assert response.status_code == 200
    assert "cannot be lower" in str(response.context["adminform"].form.errors["envelope"])
    assert BudgetYear.objects.get(pk=year_2020.pk).envelope == TEN_MILLION
    assert row_counts(*BUDGET_MODELS) == before


def test_the_admin_refuses_a_second_inline_reservation_for_a_cluster(client, officer, year_2020, reservation, cluster):
    client.force_login(officer)
    before = row_counts(*BUDGET_MODELS)
    rows = [row_of(reservation), {"purpose": COMPETITIVENESS, "cluster": cluster, "amount": "1000000.00"}]

    response = client.post(change_url(year_2020), budget_year_form(year_2020, rows))

    assert response.status_code == 200
    assert "duplicate" in page_errors(response)
    assert row_counts(*BUDGET_MODELS) == before


def test_the_admin_refuses_to_swap_two_reservations_in_one_save(client, officer, year_2020, cluster, other_cluster):
    first = allocate(year_2020, COMPETITIVENESS, "1000000.00", cluster=cluster)
    second = allocate(year_2020, COMPETITIVENESS, "2000000.00", cluster=other_cluster)
    client.force_login(officer)
    before = row_counts(*BUDGET_MODELS)
    rows = [row_of(first, cluster=other_cluster), row_of(second, cluster=cluster)]

    response = client.post(change_url(year_2020), budget_year_form(year_2020, rows))

    assert response.status_code == 200
    row_errors = response.context["inline_admin_formsets"][0].formset.errors
    assert all("already has a competitiveness-programme reservation" in str(e["cluster"]) for e in row_errors)
    assert dict(Allocation.objects.values_list("pk", "cluster")) == {first.pk: cluster.pk, second.pk: other_cluster.pk}
    assert row_counts(*BUDGET_MODELS) == before


def test_the_admin_gives_a_reservation_to_a_cluster_whose_own_is_deleted_in_the_same_save(
    client, officer, year_2020, cluster, other_cluster
):
    # In page order the first row would take SIM before SIM's reservation is deleted.
    first = allocate(year_2020, COMPETITIVENESS, "1000000.00", cluster=cluster)
    second = allocate(year_2020, COMPETITIVENESS, "2000000.00", cluster=other_cluster)
    client.force_login(officer)
    rows = [row_of(first, cluster=other_cluster), row_of(second, DELETE=True)]

    response = client.post(change_url(year_2020), budget_year_form(year_2020, rows))

    assert response.status_code == 302
    assert list(Allocation.objects.values_list("pk", "cluster")) == [(first.pk, other_cluster.pk)]


def test_the_admin_refuses_an_inline_inter_cluster_project_with_one_partner(client, officer, year_2020, cluster):
    client.force_login(officer)
    before = row_counts(*BUDGET_MODELS)
    rows = [{"purpose": INTER_CLUSTER, "partners": [cluster], "amount": "1000000.00"}]

    response = client.post(change_url(year_2020), budget_year_form(year_2020, rows))

    assert response.status_code == 200
    assert "at least two clusters" in page_errors(response)
    assert row_counts(*BUDGET_MODELS) == before


def test_the_admin_saves_money_moved_between_rows_of_a_full_envelope(
    client, officer, year_2020, cluster, other_cluster
):
    # 2 + 2 + 4 = 8 of 10 M EUR; the submission makes it 4 + 4 + 2 = 10 M EUR, which fits.
    first = allocate(year_2020, COMPETITIVENESS, "2000000.00", cluster=cluster)
    second = allocate(year_2020, COMPETITIVENESS, "2000000.00", cluster=other_cluster)
    third = allocate(year_2020, OTHER, "4000000.00")
    client.force_login(officer)
    rows = [
        row_of(first, amount="4000000.00"),
        row_of(second, amount="4000000.00"),
        row_of(third, amount="2000000.00"),
    ]

    response = client.post(change_url(year_2020), budget_year_form(year_2020, rows))

    assert response.status_code == 302
    amounts = dict(Allocation.objects.values_list("pk", "amount"))
    assert amounts == {
        first.pk: Decimal("4000000.00"),
        second.pk: Decimal("4000000.00"),
        third.pk: Decimal("2000000.00"),
    }


def allocation_form(budget_year: BudgetYear, purpose: str, amount: str, *, cluster=None, partners=()) -> dict:
    return {
        "budget_year": budget_year.pk,
        "purpose": purpose,
        "cluster": cluster.pk if cluster else "",
        "partners": [c.pk for c in partners],
        "amount": amount,
        "description": "",
        "decided_on": "",
    }


ALLOCATION_ADD = "admin:funding_allocation_add"


def test_the_admin_refuses_an_inter_cluster_allocation_with_one_partner(client, officer, year_2020, cluster):
    client.force_login(officer)
    before = row_counts(*BUDGET_MODELS)

    response = client.post(
        reverse(ALLOCATION_ADD), allocation_form(year_2020, INTER_CLUSTER, "1000000.00", partners=[cluster])
    )

    assert response.status_code == 200
    assert "at least two clusters" in str(response.context["adminform"].form.errors["partners"])
    assert row_counts(*BUDGET_MODELS) == before


def test_the_admin_adds_an_inter_cluster_allocation_with_two_partners(
    client, officer, year_2020, cluster, other_cluster
):
    client.force_login(officer)

    response = client.post(
        reverse(ALLOCATION_ADD),
        allocation_form(year_2020, INTER_CLUSTER, "1000000.00", partners=[cluster, other_cluster]),
    )

    assert response.status_code == 302
    allocation = Allocation.objects.get(budget_year=year_2020)
    assert set(allocation.partners.all()) == {cluster, other_cluster}
    assert allocation.history.first().history_user == officer


def test_the_admin_refuses_an_allocation_past_the_envelope(client, officer, year_2020, reservation):
    client.force_login(officer)
    before = row_counts(*BUDGET_MODELS)

    response = client.post(reverse(ALLOCATION_ADD), allocation_form(year_2020, OTHER, "2000000.01"))

    assert response.status_code == 200
    assert "only 2,000,000.00 EUR is left" in str(response.context["adminform"].form.errors["amount"])
    assert row_counts(*BUDGET_MODELS) == before


def test_the_admin_refuses_a_second_reservation_for_a_cluster(client, officer, year_2020, reservation, cluster):
    client.force_login(officer)
    before = row_counts(*BUDGET_MODELS)

    response = client.post(
        reverse(ALLOCATION_ADD), allocation_form(year_2020, COMPETITIVENESS, "1.00", cluster=cluster)
    )

    assert response.status_code == 200
    assert "already has a competitiveness-programme reservation" in response.content.decode()
    assert row_counts(*BUDGET_MODELS) == before


def test_the_admin_refuses_a_competitiveness_allocation_without_a_cluster(client, officer, year_2020):
    client.force_login(officer)
    before = row_counts(*BUDGET_MODELS)

    response = client.post(reverse(ALLOCATION_ADD), allocation_form(year_2020, COMPETITIVENESS, "1000000.00"))

    assert response.status_code == 200
    assert "names exactly one cluster" in str(response.context["adminform"].form.errors["cluster"])
    assert row_counts(*BUDGET_MODELS) == before


def test_the_admin_shows_every_broken_rule_of_an_allocation_at_once(client, officer, year_2020, cluster):
    client.force_login(officer)
    before = row_counts(*BUDGET_MODELS)

    response = client.post(reverse(ALLOCATION_ADD), allocation_form(year_2020, OTHER, "0", partners=[cluster]))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "more than 0 EUR" in str(errors["amount"])
    assert "Only an inter-cluster project" in str(errors["partners"])
    assert row_counts(*BUDGET_MODELS) == before
