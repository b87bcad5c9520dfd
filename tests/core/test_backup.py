"""Backups proven by a restore (issue 12, item 7): `manage.py backup` of the demo data with an
attachment, `manage.py restore` into an empty database and an empty media folder, and every row and
every file is identical.

Everything runs as an operator would: `manage.py` in subprocesses with DATABASE_URL and MEDIA_ROOT
pointing at throwaway databases (`backup_test_<random>_src` / `_dst`) and folders. It needs the
PostgreSQL server of DATABASE_URL; in CI (CI=true) it fails when there is none, locally it skips.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
from psycopg2 import sql

from tests.factories import pdf_bytes

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() == "true"
DATABASE_URL = os.environ.get("DATABASE_URL", "")


def _server_url() -> str:
    """DATABASE_URL with the database name removed, or a skip (a failure in CI) without PostgreSQL."""
    if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
        reason = f"DATABASE_URL is not PostgreSQL ({DATABASE_URL or 'unset'}); the backup test needs PostgreSQL"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: this test must run in CI)")
        pytest.skip(reason)
    parts = urlsplit(DATABASE_URL)
    server = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    try:
        psycopg2.connect(server, connect_timeout=5).close()
    except psycopg2.OperationalError as error:
        if IN_CI:
            pytest.fail(f"PostgreSQL is not reachable at {parts.hostname}:{parts.port}: {error} (CI=true)")
        pytest.skip(f"PostgreSQL is not reachable: {error}")
    return server


def _url_for(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def _admin(server: str, statement: sql.Composable) -> None:
    connection = psycopg2.connect(server)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    """Two new, empty databases on the PostgreSQL server: the source and the restore target."""
    server = _server_url()
    prefix = f"backup_test_{uuid.uuid4().hex[:10]}"
    names = [f"{prefix}_src", f"{prefix}_dst"]
    for name in names:
        _admin(server, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _url_for(server, names[0]), _url_for(server, names[1])
    finally:
        for name in names:
            _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def manage(
    *args: str, database_url: str, media_root: Path, check: bool = True, settings: str = "development"
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        # The development settings as `make backup` uses them (the test settings pin MEDIA_ROOT); the
        # test settings' fast password hasher only for loading the demo data, which touches no file.
        "DJANGO_SETTINGS_MODULE": f"config.settings.{settings}",
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(media_root),
        "DEMO_PASSWORD": "backup-test-password",
        "CELERY_BROKER_URL": "",
    }
    result = subprocess.run(  # noqa: S603 -- our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if check and result.returncode != 0:
        pytest.fail(f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


ADD_ATTACHMENT = """
from django.core.files.uploadedfile import SimpleUploadedFile
from clusterpacts import services
from clusterpacts.models import AnnualReport
report = AnnualReport.objects.filter(status__in=["draft", "returned"]).order_by("pk").first()
assert report is not None, "the demo data has no draft or returned report"
content = open({path!r}, "rb").read()
services.attachment_add(report=report, file=SimpleUploadedFile("evidence.pdf", content), title="Evidence")
"""


def snapshot(database_url: str) -> dict[str, list[str]]:
    """Every table's rows (COPY text, sorted) and every sequence's state, in the public schema."""
    connection = psycopg2.connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            tables = [row[0] for row in cursor.fetchall()]
            contents: dict[str, list[str]] = {}
            for table in tables:
                # COPY's text format escapes newlines inside values: one line is one row.
                buffer = io.BytesIO()
                query = sql.SQL("COPY (SELECT * FROM {}) TO STDOUT").format(sql.Identifier(table))
                cursor.copy_expert(query.as_string(cursor), buffer)
                contents[f"table {table}"] = sorted(buffer.getvalue().decode().splitlines())
            cursor.execute("SELECT sequencename, last_value::text FROM pg_sequences WHERE schemaname = 'public'")
            for name, last_value in cursor.fetchall():
                contents[f"sequence {name}"] = [str(last_value)]
            return contents
    finally:
        connection.close()


def files_in(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def test_backup_then_restore_gives_identical_rows_and_files(databases, tmp_path):
    source_url, target_url = databases
    source_media, target_media = tmp_path / "media-src", tmp_path / "media-dst"
    source_media.mkdir()
    target_media.mkdir()

    manage("migrate", "--noinput", database_url=source_url, media_root=source_media, settings="test")
    manage("seed_demo", database_url=source_url, media_root=source_media, settings="test")
    pdf = tmp_path / "evidence.pdf"
    pdf.write_bytes(pdf_bytes())
    manage("shell", "-c", ADD_ATTACHMENT.format(path=str(pdf)), database_url=source_url, media_root=source_media)

    folder = tmp_path / "backup"
    result = manage("backup", "--to", str(folder), database_url=source_url, media_root=source_media)
    assert "Backed up" in result.stdout
    assert {path.name for path in folder.iterdir()} == {"database.dump", "media.tar.gz", "manifest.json"}

    result = manage("restore", str(folder), database_url=target_url, media_root=target_media)
    assert "verified" in result.stdout, result.stdout

    source, target = snapshot(source_url), snapshot(target_url)
    assert source.keys() == target.keys()
    assert sum(len(rows) for key, rows in source.items() if key.startswith("table ")) > 100, "no demo data?"
    assert any(row for row in source["table clusterpacts_reportattachment"]), "the attachment row is missing"
    differing = [key for key in source if source[key] != target[key]]
    assert differing == []

    source_files = files_in(source_media)
    assert len(source_files) == 1 and next(iter(source_files.values())) == pdf.read_bytes()
    assert files_in(target_media) == source_files

    # A second restore into the now filled database is refused, and changes nothing.
    refused = manage("restore", str(folder), database_url=target_url, media_root=target_media, check=False)
    assert refused.returncode != 0
    assert "not empty" in refused.stderr
    assert snapshot(target_url) == target
