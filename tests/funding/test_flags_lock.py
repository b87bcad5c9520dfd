"""Two scans at once (two beats, or two workers handed the same task) raise each flag once and queue one
digest: the scan takes a lock (`core.locks.transaction_lock`), so the second waits for the first to commit
and then finds every flag open.

Needs PostgreSQL (DATABASE_URL): its advisory lock is what is tested, and SQLite runs one writing
transaction at a time anyway. Without PostgreSQL the test is skipped, except in CI (CI=true), where it fails.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import date

import pytest
from django.db import connection

from core.locks import lock_key
from core.models import OutboxMessage
from funding import services
from funding.models import Flag
from funding.notifications import notify_officers
from funding.services import SCAN_LOCK, ScanResult, agreement_create, flags_scan
from tests import factories
from tests.needs import require_postgresql

DAY = date(2026, 11, 27)


@pytest.mark.django_db(transaction=True)
def test_two_scans_at_once_raise_each_flag_once_and_queue_one_digest(monkeypatch):
    require_postgresql("the scan's lock, an advisory lock,")
    for n in range(3):  # each: renewal due and evaluation missing, and the 2025 report never started
        cluster = factories.ClusterFactory(name=f"Cluster {n}", slug=f"cluster-{n}", started_on=date(2025, 1, 1))
        agreement_create(
            cluster=cluster,
            reference=f"SO-{n}",
            start_date=date(2024, 1, 1),
            end_date=date(2026, 12, 31),
            amount=1_500_000,
        )

    # Hold each scan between reading the open flags' causes and writing, long enough that without the lock
    # both would find no flag open and both would raise (and queue a digest for) all of them.
    read_causes = services._report_causes
    inside = threading.Barrier(2, timeout=30)

    def slow_report_causes(as_of: date) -> list[services.Cause]:
        causes = read_causes(as_of)
        time.sleep(1.0)
        return causes

    monkeypatch.setattr(services, "_report_causes", slow_report_causes)
    results: list[ScanResult] = []
    errors: list[BaseException] = []

    def scan() -> None:
        try:
            inside.wait()  # both start together
            results.append(flags_scan(as_of=DAY))
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    assert len(results) == 2
    flags = list(Flag.objects.values_list("kind", "subject"))
    assert len(flags) == 9 and Counter(flags).most_common(1)[0][1] == 1, "each flag once"
    raised = sorted(len(result.raised) for result in results)
    assert raised == [0, 9], "the second scan waited for the first and found every flag open"
    assert OutboxMessage.objects.filter(task=notify_officers.name).count() == 1, "one digest"


@pytest.mark.django_db(transaction=True)
def test_the_scan_holds_its_lock_until_it_commits(monkeypatch):
    """While a scan runs, no other connection can take its lock; once it has committed, one can."""
    require_postgresql("the scan's lock, an advisory lock,")
    held: list[bool] = []

    def try_lock() -> None:  # in a thread of its own, so on a connection of its own
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_key(SCAN_LOCK)])
                taken = cursor.fetchone()[0]
                if taken:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_key(SCAN_LOCK)])
                held.append(not taken)
        finally:
            connection.close()

    def probe() -> None:
        thread = threading.Thread(target=try_lock)
        thread.start()
        thread.join(timeout=30)

    read_causes = services._agreement_causes

    def probing(as_of: date) -> list[services.Cause]:
        probe()
        return read_causes(as_of)

    monkeypatch.setattr(services, "_agreement_causes", probing)
    flags_scan(as_of=DAY)
    probe()
    assert held == [True, False]
