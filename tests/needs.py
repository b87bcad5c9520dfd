"""What a test needs from outside the Python process: present, or the test is skipped -- except in CI
(CI=true), where a missing service fails the test instead (README, "Tests")."""

from __future__ import annotations

import os

import pytest
from django.db import connection

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_postgresql(what: str) -> None:
    """Skip (fail in CI) unless the tests run on PostgreSQL; `what` says what of PostgreSQL is tested."""
    if connection.vendor == "postgresql":
        return
    reason = f"{what} is PostgreSQL's: set DATABASE_URL to a PostgreSQL database"
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this test must run in CI)")
    pytest.skip(reason)
