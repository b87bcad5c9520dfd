"""A named lock held until the end of the current transaction: work that must never run twice at once
(the daily flag scan, started by two beats or two workers) takes it first.

On PostgreSQL it is a transaction-level advisory lock (`pg_advisory_xact_lock`): a second transaction
asking for the same name waits until the first commits or rolls back, then goes on and sees what the
first wrote. Nothing has to release it, so an error or a killed worker never leaves it held. On SQLite
there is nothing to take: every transaction of the portal begins IMMEDIATE (`config/settings/base.py`),
so it already holds the database's one write lock, which serialises them the same way.
"""

from __future__ import annotations

import hashlib

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.transaction import TransactionManagementError


def lock_key(name: str) -> int:
    """The advisory lock's key for `name`: a signed 64-bit number, the same in every process and release
    (a hash, so two names share a key only by a 1 in 2**64 chance)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def transaction_lock(name: str, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Wait for, then hold until the transaction ends, the lock called `name`. Call it inside
    `transaction.atomic()`, before reading what the work decides on; outside a transaction it is refused,
    as the lock would be gone at once."""
    connection = connections[using]
    if not connection.in_atomic_block:
        raise TransactionManagementError(f"transaction_lock({name!r}) needs a transaction: call it in atomic().")
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(name)])
