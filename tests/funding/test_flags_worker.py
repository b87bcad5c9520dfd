"""End to end: a real Celery worker process, connected to a real Redis, runs the scan task and the
flags appear in the real PostgreSQL database, and the digest e-mail is written.

Needs PostgreSQL (DATABASE_URL) and Redis (CELERY_TEST_BROKER_URL, default redis://127.0.0.1:6379/15).
Where they are missing the test is skipped, except in CI (CI=true), where it fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from funding.models import Flag
from funding.services import agreement_create
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this test must run in CI)")
    pytest.skip(reason)


def _require_services() -> None:
    if connection.vendor != "postgresql":
        _unavailable("the worker test needs PostgreSQL (set DATABASE_URL)")
    import redis

    try:
        redis.Redis.from_url(BROKER, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        _unavailable(f"Redis is not reachable at {BROKER}: {error}")


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_scan_and_the_flags_land_in_postgresql(tmp_path):
    _require_services()
    officer = factories.officer(username="officer", email="officer@vlaio.example")
    cluster = factories.ClusterFactory(name="VIL", slug="vil", started_on=None)
    agreement_create(
        cluster=cluster,
        reference="SO-VIL-1",
        start_date=date(2024, 1, 1),
        end_date=date(2026, 12, 31),
        amount=1_500_000,
    )
    assert officer.email and Flag.objects.count() == 0

    queue = f"test-{uuid.uuid4().hex[:12]}"
    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": BROKER,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter and the project's Celery app
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--queues",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        producer = Celery(broker=BROKER)
        producer.send_task("funding.tasks.scan_flags", args=["2026-11-27"], queue=queue)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not (Flag.objects.exists() and _mails(mail_dir)):
            assert worker.poll() is None, f"the worker stopped: {worker.stdout.read() if worker.stdout else ''}"
            time.sleep(0.5)
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0]

    kinds = set(Flag.objects.filter(cluster=cluster).values_list("kind", flat=True))
    assert kinds == {"renewal_due", "evaluation_missing"}, output
    assert set(Flag.objects.values_list("raised_on", flat=True)) == {date(2026, 11, 27)}
    assert not Flag.objects.filter(notified_at__isnull=True).exists()
    mails = _mails(mail_dir)
    assert len(mails) == 1, output
    assert "officer@vlaio.example" in mails[0]
    assert "SO-VIL-1" in mails[0]
    assert "funding.tasks.scan_flags" in output and "succeeded" in output


def _database_url() -> str:
    settings = connection.settings_dict
    user, host, port = settings["USER"], settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


def _mails(directory: Path) -> list[str]:
    if not directory.exists():
        return []
    return [path.read_text(encoding="utf-8") for path in sorted(directory.glob("*.log"))]
