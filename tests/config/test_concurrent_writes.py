"""Several clients writing at once through the API of a running portal: nobody gets a 5xx, no write is lost.

The portal runs in its own process (`manage.py runserver`, a thread per request, each with its own database
connection) on a database of its own: a SQLite file, as the embedded default of `make run`, and PostgreSQL
when DATABASE_URL points at one (CI). Before SQLite was set up for several writers, 158 of 240 such requests
answered 500 "database is locked".
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENTS, WRITES_EACH = 6, 20
SETUP = """
from datetime import date
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from clusterpacts.models import Cluster
from core.roles import OFFICER
from evaluations.models import Evaluation
user = get_user_model().objects.create_user("officer", password="concurrent-writes-1")
user.groups.add(Group.objects.get(name=OFFICER))
cluster = Cluster.objects.create(name="Catalisti", slug="catalisti", started_on=date(2017, 1, 1))
evaluation = Evaluation.objects.create(
    cluster=cluster, stage="completed", period_start=date(2017, 1, 1), period_end=date(2018, 12, 31),
    started_on=date(2019, 1, 10), reporting_on=date(2019, 3, 1), completed_on=date(2019, 5, 15),
    conclusion="largely_achieved",
)
print(evaluation.pk)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_database() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'portal.sqlite3'}"
        return
    base = _postgres_database()
    if base is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs this test against PostgreSQL: set DATABASE_URL")
        pytest.skip("DATABASE_URL does not point at PostgreSQL")
    import psycopg2

    name = f"concurrency_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(base.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def portal(database_url):
    """A portal process on its own database, with an officer and a completed evaluation; yields (url, id)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.development",
        "CELERY_BROKER_URL": "",
        "API_THROTTLE_USER": "100000/minute",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)  # noqa: S603
    created = subprocess.run(  # noqa: S603 - our own manage.py
        [*manage, "shell", "-c", SETUP], env=env, cwd=ROOT, check=True, capture_output=True
    )
    evaluation_id = int(created.stdout.decode().strip().splitlines()[-1])
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - our own manage.py
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=1)  # noqa: S310 - our own local server
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        yield url, evaluation_id
    finally:
        server.terminate()
        server.wait(timeout=10)


def _call(
    url: str, method: str, token: str | None = None, body: dict | None = None, if_match: str | None = None
) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    if if_match:
        headers["If-Match"] = if_match
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - our own local server
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, {}


def _etag(url: str, token: str) -> str:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - our own local server
        return response.headers["ETag"]


def test_concurrent_api_writes_all_succeed_and_none_is_lost(portal):
    url, evaluation_id = portal
    status, body = _call(
        f"{url}/api/v1/auth/token/", "POST", body={"username": "officer", "password": "concurrent-writes-1"}
    )
    assert status == 200
    token = body["token"]

    def client(number: int) -> list[int]:
        statuses = []
        for write in range(WRITES_EACH):
            lesson = {"evaluation": evaluation_id, "kind": "good_practice", "text": f"client {number}, write {write}"}
            created, body = _call(f"{url}/api/v1/lessons/", "POST", token, lesson)
            statuses.append(created)
            if created == 201:
                # As a careful client writes: the ETag of a GET as If-Match (without it: 428).
                lesson_url = f"{url}/api/v1/lessons/{body['id']}/"
                etag = _etag(lesson_url, token)
                changed, _ = _call(lesson_url, "PATCH", token, {"follow_up": "done"}, if_match=etag)
                statuses.append(changed)
        return statuses

    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = [status for result in pool.map(client, range(CLIENTS)) for status in result]

    assert len(statuses) == 2 * CLIENTS * WRITES_EACH
    assert [s for s in statuses if s >= 500] == [], "no request fails because another one is writing"
    assert set(statuses) == {200, 201}
    status, listed = _call(f"{url}/api/v1/lessons/?page_size=500", "GET", token)
    assert listed["count"] == CLIENTS * WRITES_EACH, "every write is there"
    assert {lesson["follow_up"] for lesson in listed["results"]} == {"done"}
