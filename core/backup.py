"""Backups and restores of the PostgreSQL database and the uploaded files (issue 12, item 7).

A backup is one folder holding `database.dump` (`pg_dump --format=custom`), `media.tar.gz` (every
file under MEDIA_ROOT) and `manifest.json` (when, which database, the row count of every table, and
the sha256 of every media file). The row counts are taken in the very snapshot pg_dump dumps, so a
restore can be checked against them exactly. See docs/DEPLOYMENT.md (Backups).

The connection settings come from `django.db.connections["default"]` (that is, DATABASE_URL) and
reach pg_dump and pg_restore through PG* environment variables: the password never appears on a
command line, where other users of the machine could read it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tarfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connections, transaction

DUMP_NAME = "database.dump"
MEDIA_NAME = "media.tar.gz"
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1

POSTGRES_ONLY = (
    "Backups are for PostgreSQL (DATABASE_URL=postgres://...); the database here is SQLite ({name}). "
    "For the embedded SQLite database, stop the portal and copy the database file and MEDIA_ROOT "
    "(see docs/DEPLOYMENT.md (Backups))."
)


def _connection() -> Any:
    connection = connections["default"]
    if connection.vendor != "postgresql":
        raise CommandError(POSTGRES_ONLY.format(name=connection.settings_dict["NAME"]))
    return connection


def pg_environment() -> dict[str, str]:
    """The environment for pg_dump/pg_restore: the default connection's settings as PG* variables."""
    connection = _connection()
    params = connection.get_connection_params()
    env = dict(os.environ)
    mapping = {
        "PGDATABASE": params.get("dbname") or params.get("database"),
        "PGUSER": params.get("user"),
        "PGPASSWORD": params.get("password"),
        "PGHOST": params.get("host"),
        "PGPORT": params.get("port"),
        "PGSSLMODE": params.get("sslmode"),
        "PGSSLROOTCERT": params.get("sslrootcert"),
        "PGSSLCERT": params.get("sslcert"),
        "PGSSLKEY": params.get("sslkey"),
    }
    for name, value in mapping.items():
        if value not in (None, ""):
            env[name] = str(value)
        else:
            # A stray PG* variable in the caller's environment must not redirect the dump elsewhere.
            env.pop(name, None)
    return env


def table_names() -> list[str]:
    """Every table in the database's search path (Django's and any other), sorted."""
    connection = _connection()
    with connection.cursor() as cursor:
        return sorted(connection.introspection.table_names(cursor))


def row_counts() -> dict[str, int]:
    connection = _connection()
    counts = {}
    with connection.cursor() as cursor:
        for table in table_names():
            # The table names come from the database's own catalogue, quoted.
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def media_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(name relative to root, path) of every regular file under root, in a stable order."""
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path.relative_to(root).as_posix(), path


def default_backup_folder() -> Path:
    parent = Path(os.environ.get("BACKUP_DIR") or Path(settings.BASE_DIR) / "backups")
    return parent / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def backup(folder: Path) -> dict[str, Any]:
    """Write a backup into `folder` (which must not exist yet, or be empty) and return its manifest."""
    connection = _connection()
    if folder.exists() and any(folder.iterdir()):
        raise CommandError(f"{folder} is not empty; a backup goes into a new folder.")
    folder.mkdir(parents=True, exist_ok=True)
    env = pg_environment()

    # One snapshot for the dump and the row counts: pg_dump joins this transaction's snapshot.
    connection.ensure_connection()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        dump = folder / DUMP_NAME
        result = subprocess.run(  # noqa: S603 -- fixed arguments; pg_dump found on PATH like psql
            ["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={dump}"],  # noqa: S607
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
        counts = row_counts()

    media_root = Path(settings.MEDIA_ROOT)
    files = {}
    with tarfile.open(folder / MEDIA_NAME, "w:gz") as archive:
        for name, path in media_files(media_root):
            files[name] = sha256_of(path)
            archive.add(path, arcname=name, recursive=False)

    manifest = {
        "format": MANIFEST_FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": connection.settings_dict["NAME"],
        "database_dump_sha256": sha256_of(dump),
        "tables": counts,
        "media_root": str(media_root),
        "file_count": len(files),
        "files": files,
    }
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def read_manifest(folder: Path) -> dict[str, Any]:
    for name in (DUMP_NAME, MEDIA_NAME, MANIFEST_NAME):
        if not (folder / name).is_file():
            raise CommandError(f"{folder / name} is missing; is {folder} a backup folder?")
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    if manifest.get("format") != MANIFEST_FORMAT:
        raise CommandError(f"Unknown manifest format {manifest.get('format')!r} in {folder / MANIFEST_NAME}.")
    if sha256_of(folder / DUMP_NAME) != manifest["database_dump_sha256"]:
        raise CommandError(f"{folder / DUMP_NAME} does not match its sha256 in the manifest; it is damaged.")
    return manifest


def restore(folder: Path, *, force: bool = False) -> list[str]:
    """Restore the backup in `folder` into the default database and MEDIA_ROOT, then check both
    against the manifest. Returns the differences found (empty when the restore is exact).

    Refuses, before changing anything, when the database has tables or a media file would be
    overwritten, unless `force`."""
    connection = _connection()
    manifest = read_manifest(folder)
    media_root = Path(settings.MEDIA_ROOT)

    existing = table_names()
    if existing and not force:
        raise CommandError(
            f"The database {connection.settings_dict['NAME']} is not empty ({len(existing)} tables); "
            "restore into an empty database, or pass --force to replace its contents."
        )
    with tarfile.open(folder / MEDIA_NAME, "r:gz") as archive:
        members = archive.getmembers()
    clashes = [member.name for member in members if (media_root / member.name).exists()]
    if clashes and not force:
        raise CommandError(
            f"{len(clashes)} media files already exist in {media_root} (e.g. {clashes[0]}); "
            "restore into an empty media folder, or pass --force to overwrite them."
        )

    command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    if force and existing:
        command += ["--clean", "--if-exists"]
    env = pg_environment()
    command += [f"--dbname={env['PGDATABASE']}", str(folder / DUMP_NAME)]
    connection.close()  # no open transaction of ours in the way of the restore
    # Fixed arguments plus the operator's folder; pg_restore found on PATH like psql.
    result = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        raise CommandError(f"pg_restore failed, nothing was restored: {result.stderr.strip()}")

    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / MEDIA_NAME, "r:gz") as archive:
        # The "data" filter refuses absolute paths, '..', links out of the folder and device files.
        archive.extractall(media_root, filter="data")

    return verify(manifest)


def verify(manifest: dict[str, Any]) -> list[str]:
    """The differences between the database and MEDIA_ROOT now and what the manifest recorded."""
    problems = []
    counts = row_counts()
    for table, expected in sorted(manifest["tables"].items()):
        found = counts.get(table)
        if found != expected:
            problems.append(f"table {table}: {found} rows, the backup had {expected}")
    media_root = Path(settings.MEDIA_ROOT)
    for name, expected in sorted(manifest["files"].items()):
        path = media_root / name
        if not path.is_file():
            problems.append(f"file {name}: missing")
        elif sha256_of(path) != expected:
            problems.append(f"file {name}: sha256 differs from the backup")
    return problems
