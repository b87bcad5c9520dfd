"""The PostgreSQL connection's settings (issue 16): JIT off unless the operator turns it on."""

from __future__ import annotations

import pytest
from django.db import connection

from config.settings.base import postgres_options


def test_a_postgresql_connection_is_opened_without_jit_unless_asked(monkeypatch):
    monkeypatch.delenv("POSTGRES_JIT", raising=False)
    database = postgres_options({"ENGINE": "django.db.backends.postgresql", "OPTIONS": {"sslmode": "require"}})
    assert database["OPTIONS"] == {"sslmode": "require", "options": "-c jit=off"}
    monkeypatch.setenv("POSTGRES_JIT", "on")
    assert postgres_options({"ENGINE": "django.db.backends.postgresql"})["OPTIONS"] == {"options": "-c jit=on"}
    assert "OPTIONS" not in postgres_options({"ENGINE": "django.db.backends.sqlite3"})


@pytest.mark.django_db
def test_the_database_the_portal_runs_on_has_jit_off():
    if connection.vendor != "postgresql":
        pytest.skip("JIT is PostgreSQL's")  # CI runs this on PostgreSQL
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
