"""On every day of a year of the demo data, the briefing and the flag scan call the same annual reports
overdue: both read `clusterpacts.selectors.report_slots`. (Its own module: the demo data stays loaded
until the module ends.)"""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from clusterpacts.models import Cluster
from tests.conftest import reload_migrated_data
from tests.insights.test_reports_agree import DAY_AFTER, DUE, briefed_overdue, flagged_overdue

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo data (`funding.demo`), loaded once for the module; the test's own writes are rolled back."""
    with django_db_blocker.unblock():
        call_command("seed_demo", stdout=StringIO())
        yield dict(Cluster.objects.values_list("slug", "pk"))
        call_command("flush", interactive=False, verbosity=0)
        reload_migrated_data()


def test_the_briefing_and_the_scan_call_the_same_reports_overdue_every_day_of_2026(demo):
    # 2026 holds the due date of the reports on 2025: MEDVIA's is submitted late, on 9 April; De Blauwe
    # Cluster's is submitted on 27 March, returned on 6 May (overdue again from then) and submitted again
    # on 22 May; the others are in time. (Today's stored status, all accepted, would call none overdue.)
    overdue_on: dict[date, set[tuple[int, int]]] = {}
    disagreements = []
    day = date(2026, 1, 1)
    while day.year == 2026:
        briefed, flagged = briefed_overdue(day), flagged_overdue(day)
        if briefed != flagged:
            disagreements.append((day, briefed, flagged))
        overdue_on[day] = briefed
        day += timedelta(days=1)

    assert disagreements == []
    medvia, blue = (demo["medvia"], 2025), (demo["de-blauwe-cluster"], 2025)
    assert overdue_on[DUE] == set()
    assert overdue_on[DAY_AFTER] == overdue_on[date(2026, 4, 8)] == {medvia}
    assert overdue_on[date(2026, 4, 9)] == overdue_on[date(2026, 5, 5)] == set()
    assert overdue_on[date(2026, 5, 6)] == overdue_on[date(2026, 5, 21)] == {blue}
    assert overdue_on[date(2026, 5, 22)] == overdue_on[date(2026, 12, 31)] == set()
    assert {day for day, overdue in overdue_on.items() if overdue} == {
        date(2026, 4, 1) + timedelta(days=n) for n in range(8)
    } | {date(2026, 5, 6) + timedelta(days=n) for n in range(16)}
