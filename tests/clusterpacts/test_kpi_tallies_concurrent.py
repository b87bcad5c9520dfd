"""Two writers of one report's figures at once (an officer changing a target, an import putting values) leave
the report's stored tally equal to what the committed figures give: a refresh locks the reports it counts
(`services.kpi_tallies_refresh`), so the second waits for the first to commit and counts what it wrote.

Needs PostgreSQL (DATABASE_URL): its row locks are what is tested, and SQLite runs one writing transaction at
a time anyway. Without PostgreSQL the test is skipped, except in CI (CI=true), where it fails.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, transaction

from clusterpacts import services as cp
from clusterpacts.models import KpiTargetTally, KpiValue
from clusterpacts.selectors import kpi_target_tallies
from tests import factories
from tests.needs import require_postgresql


@pytest.mark.django_db(transaction=True)
def test_a_target_and_a_value_written_at_once_leave_the_tally_of_both():
    require_postgresql("the refresh's lock, a row lock,")
    cluster = factories.ClusterFactory(name="Concurrent", slug="concurrent")
    plan = factories.AnnualPlanFactory(cluster=cluster, year=2020)
    report = factories.AnnualReportFactory(cluster=cluster, year=2020)
    c2 = factories.kpi("C2")
    cp.kpi_target_set(plan=plan, kpi=c2, value=Decimal(200))
    cp.kpi_value_set(report=report, kpi=c2, value=Decimal(100))  # 50 %: measured, not met

    target_written, value_done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def change_target() -> None:
        try:
            with transaction.atomic():
                cp.kpi_target_set(plan=plan, kpi=c2, value=Decimal(100))  # now met
                target_written.set()
                value_done.wait(timeout=2)  # the other writer runs meanwhile (it waits for this commit)
        except BaseException as error:
            errors.append(error)
        finally:
            close_old_connections()

    def put_value() -> None:
        try:
            target_written.wait(timeout=10)
            # 150: 75 % of the old target, met of the new one.
            cp.kpi_figures_put([cp.FigurePut(document=report, kpi=c2, value=Decimal(150))])
        except BaseException as error:
            errors.append(error)
        finally:
            value_done.set()
            close_old_connections()

    threads = [threading.Thread(target=change_target), threading.Thread(target=put_value)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    counted = {r["report_id"]: (r["measured"], r["met"]) for r in kpi_target_tallies(KpiValue.objects.all())}
    assert counted == {report.pk: (1, 1)}
    assert {t.report_id: (t.measured, t.met) for t in KpiTargetTally.objects.all()} == counted
