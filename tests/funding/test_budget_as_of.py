"""An allocation decided later is not counted: `budget_years(as_of=...)`, and no decision in the future."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from clusterpacts.models import display_date
from funding.models import Allocation, BudgetYear
from funding.selectors import budget_years
from funding.services import allocation_save
from tests import factories
from tests.factories import BudgetYearFactory
from tests.funding.helpers import refused

pytestmark = pytest.mark.django_db

EIGHT_MILLION = Decimal("8000000.00")
ENVELOPE = Decimal("75000000.00")


@pytest.fixture
def year_2020(db) -> BudgetYear:
    return BudgetYearFactory(year=2020, envelope=ENVELOPE)


def reserve(budget_year, cluster, decided_on=None, amount=EIGHT_MILLION) -> Allocation:
    allocation = Allocation(
        budget_year=budget_year,
        purpose=Allocation.Purpose.COMPETITIVENESS,
        cluster=cluster,
        amount=amount,
        decided_on=decided_on,
    )
    return allocation_save(allocation=allocation)


def figures(user, as_of=None):
    return {row.year: row for row in budget_years(user=user, as_of=as_of)}[2020]


def test_an_allocation_decided_later_is_not_counted_the_day_before(year_2020, cluster, officer):
    reserve(year_2020, cluster, decided_on=date(2020, 3, 10))
    before = figures(officer, as_of=date(2020, 3, 9))
    assert (before.reserved, before.remaining, before.reservations) == (0, ENVELOPE, [])


def test_it_counts_from_the_day_it_was_decided(year_2020, cluster, officer):
    reserve(year_2020, cluster, decided_on=date(2020, 3, 10))
    on_the_day = figures(officer, as_of=date(2020, 3, 10))
    assert on_the_day.reserved == EIGHT_MILLION
    assert on_the_day.remaining == ENVELOPE - EIGHT_MILLION
    assert [r.cluster for r in on_the_day.reservations] == [cluster.pk]


def test_an_allocation_without_a_decision_day_counts_from_the_first_day_of_its_year(year_2020, cluster, officer):
    """Undated, it was decided by the time its year began at the latest: not known years ahead (issue 14)."""
    reserve(year_2020, cluster)
    assert figures(officer, as_of=date(2019, 12, 31)).reserved == 0
    assert figures(officer, as_of=date(2019, 12, 31)).decided is False
    assert figures(officer, as_of=date(2020, 1, 1)).reserved == EIGHT_MILLION
    assert figures(officer, as_of=date(2020, 1, 1)).decided is True


def test_without_a_day_every_allocation_counts(year_2020, cluster, officer):
    reserve(year_2020, cluster, decided_on=date(2020, 3, 10))
    assert figures(officer).reserved == EIGHT_MILLION


def test_a_manager_sees_their_reservation_from_its_decision_day(year_2020, cluster, manager):
    reserve(year_2020, cluster, decided_on=date(2020, 3, 10))
    other = factories.ClusterFactory()
    reserve(year_2020, other, decided_on=date(2020, 3, 1))
    assert figures(manager, as_of=date(2020, 3, 9)).reservations == []
    assert [r.cluster for r in figures(manager, as_of=date(2020, 3, 10)).reservations] == [cluster.pk]


def test_a_decision_in_the_future_is_refused_with_the_day(year_2020, cluster):
    tomorrow = timezone.localdate() + timedelta(days=1)
    with refused("decided_on", "cannot be decided in the future", display_date(tomorrow), models=(Allocation,)):
        reserve(year_2020, cluster, decided_on=tomorrow)


def test_a_decision_today_is_allowed(year_2020, cluster):
    assert reserve(year_2020, cluster, decided_on=timezone.localdate()).pk
