"""`core.locks.transaction_lock`: one named lock, held to the end of the transaction (PostgreSQL's advisory
lock; on SQLite the IMMEDIATE transaction's write lock does the same). The scan's use of it, two scans at
once, is tested in tests/funding/test_flags_lock.py."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from core.locks import lock_key, transaction_lock


def test_a_name_gives_the_same_64_bit_key_in_every_process():
    assert lock_key("funding.flags_scan") == lock_key("funding.flags_scan")
    assert lock_key("funding.flags_scan") != lock_key("funding.flags_scan2")
    assert -(2**63) <= lock_key("funding.flags_scan") < 2**63
    assert lock_key("funding.flags_scan") == 1499781142010199690  # a hash of the name, not of the process


@pytest.mark.django_db(transaction=True)
def test_the_lock_is_refused_outside_a_transaction():
    with pytest.raises(TransactionManagementError, match="needs a transaction"):
        transaction_lock("anything")


@pytest.mark.django_db
def test_inside_a_transaction_it_takes_postgresqls_advisory_lock_and_nothing_on_sqlite():
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        transaction_lock("anything")
    sql = [query["sql"] for query in queries.captured_queries if "advisory" in query["sql"]]
    if connection.vendor == "postgresql":
        assert sql == [f"SELECT pg_advisory_xact_lock({lock_key('anything')})"]
    else:
        assert sql == []
