"""Benchmark: the flag scan and the export of every KPI value, beside floors measured in the same run (issue 16).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scale3000 .venv/bin/python bench/scan_and_exports.py
        [--as-of YYYY-MM-DD] [--only scan|exports] [--generate CLUSTERS]

On the PostgreSQL database DATABASE_URL names (issue 16's generated programme; with --generate, an empty
migrated database is first filled by `manage.py generate_scale_data --clusters N`), each figure is
taken in a fresh child process, so its peak memory (ru_maxrss) is its own:

  scan, first run   `flags_scan` with no flag open (the open flags are set aside first and put back at the
                    end, so the database is left as it was); seconds and queries, up to and including the
                    commit and handing the officers' digest to the broker (an in-memory one: nothing is sent)
  scan, second run  the same day again: nothing to change, so it must only read
  floor             the SELECTs the second run issued, sent as they are through the bare cursor with
                    fetchall(): the time the database takes to find and ship the rows the scan decides on,
                    which no Python implementation of the same reads can go under; for the first run, plus one
                    multi-row INSERT of the same flags (psycopg2's execute_values, rolled back)
  CSV export        `insights.exports.csv_stream` of the kpi-values dataset as an officer, every row
  Excel export      `insights.exports.xlsx_file` of the same
  floor (CSV)       `COPY (SELECT the same columns, joined and ordered in SQL) TO STDOUT WITH CSV`
  floor (Excel)     the same rows read with a bare cursor and written by openpyxl's write-only workbook
  floor (memory)    Django started and connected, one query: a process's own memory

It prints a markdown table. The scan's targets (issue 16): under 2 s with a query count that does not grow
with the rows, and a second run that writes nothing; the CSV export at 50,000 rows/s or more under 200 MB.

Measured 2026-12-02 on scale3000 (3,000 clusters, 11,519 agreements, 29,891 reports, 269,019 KPI values),
2 shared cores under a load average of 3-4, before -> after the changes of issue 16: scan first run
4.73 s -> 1.83 s (floor 0.55 s; 4,464 flags, 15 queries either way), second run 4.46 s -> 1.21 s (floor
0.37 s, 0 writes); CSV 24,244 -> 80,060 rows/s (COPY 176,000-252,000 rows/s), peak 95 -> 86 MB (Django
connected: 71 MB); Excel 9,876 -> 9,593 rows/s (openpyxl's floor here 9,000-15,000 rows/s, noisy), peak
104 -> 96 MB. On a stand-in of 3,000 clusters (419,130 values, before generate_scale_data): CSV 10,910 -> 75,429
rows/s, Excel 4,254 -> 8,462 rows/s. The CSV and the flags (both languages) are the same, byte for byte,
before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = "config.settings.test"

# The kpi-values dataset's columns, joined and ordered in SQL: what the CSV export writes, for the floor.
KPI_VALUES_SQL = """
SELECT c.name, v.year, k.code, k.name_nl, k.unit, t.value, v.value, r.status = 'accepted'
FROM clusterpacts_kpivalue v
JOIN clusterpacts_cluster c ON c.id = v.cluster_id
JOIN clusterpacts_kpidefinition k ON k.id = v.kpi_id
JOIN clusterpacts_annualreport r ON r.id = v.report_id
LEFT JOIN clusterpacts_kpitarget t ON t.cluster_id = v.cluster_id AND t.kpi_id = v.kpi_id AND t.year = v.year
ORDER BY c.name, v.year, k.position
"""


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    import django

    django.setup()
    from config.celery import app

    # The digest is handed to an in-memory broker: the scan pays for queueing it, nothing is sent.
    app.conf.update(task_always_eager=False, broker_url="memory://")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reader() -> Any:
    """An officer (a superuser who is not saved: `for_user` asks no group of it)."""
    from django.contrib.auth import get_user_model

    return get_user_model()(username="bench", is_superuser=True, is_active=True)


# --- children: each prints one JSON object -------------------------------------------------------------


def child_scan(as_of: date) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from core.models import OutboxMessage
    from funding.models import Flag
    from funding.services import flags_scan

    fields = [field.attname for field in Flag._meta.concrete_fields]
    kept = list(Flag.objects.order_by("pk").values_list(*fields))
    outbox_before = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    Flag.objects.all().delete()
    try:
        runs = {}
        for run in ("first", "second"):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                result = flags_scan(as_of=as_of)
                seconds = time.perf_counter() - started
            statements = [query["sql"] for query in queries.captured_queries]
            runs[run] = {
                "seconds": seconds,
                "queries": sum(1 for sql in statements if not sql.startswith(("BEGIN", "COMMIT"))),
                "writes": sum(1 for sql in statements if sql.startswith(("INSERT", "UPDATE", "DELETE"))),
                "raised": len(result.raised),
                "resolved": len(result.resolved),
            }
            if run == "second":
                selects = [sql for sql in statements if sql.startswith("SELECT") and "advisory" not in sql]
        flags = Flag.objects.count()
        # Floor: the second run's reads, bare.
        with transaction.atomic(), connection.cursor() as cursor:
            started = time.perf_counter()
            for sql in selects:
                cursor.execute(sql)
                cursor.fetchall()
            select_floor = time.perf_counter() - started
        # Floor for the first run's writes: the same flags in one multi-row INSERT, rolled back.
        from psycopg2.extras import execute_values

        written = [field for field in fields if field != "id"]
        rows = list(Flag.objects.values_list(*written))
        insert_floor = 0.0
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM funding_flag")
                started = time.perf_counter()
                execute_values(
                    cursor.cursor,
                    f"INSERT INTO funding_flag ({', '.join(written)}) VALUES %s",  # noqa: S608 - the model's columns
                    rows,
                    page_size=len(rows) or 1,
                )
                insert_floor = time.perf_counter() - started
            transaction.set_rollback(True)
    finally:
        # Put the database back as it was: the flags that were there, and no digest of this run.
        with transaction.atomic():
            Flag.objects.all().delete()
            Flag.objects.bulk_create(Flag(**dict(zip(fields, row, strict=True))) for row in kept)
            OutboxMessage.objects.filter(pk__gt=outbox_before).delete()
    return {
        **{f"{run}_{key}": value for run, figures in runs.items() for key, value in figures.items()},
        "flags": flags,
        "select_floor": select_floor,
        "insert_floor": insert_floor,
        "select_queries": len(selects),
        "peak_mb": peak_mb(),
    }


def child_export(fmt: str) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from insights.exports import DATASETS, csv_stream, xlsx_file

    spec = DATASETS["kpi-values"]
    queryset = spec.queryset(reader())
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        if fmt == "csv":
            size, rows = 0, -2  # the BOM and the header are not rows
            for chunk in csv_stream(spec, queryset):
                size += len(chunk)
                rows += 1
        else:
            handle = xlsx_file(spec, queryset)
            size = handle.seek(0, 2)
            handle.close()
        seconds = time.perf_counter() - started
    if fmt == "xlsx":
        from clusterpacts.models import KpiValue

        rows = KpiValue.objects.count()
    return {"rows": rows, "seconds": seconds, "bytes": size, "queries": len(queries), "peak_mb": peak_mb()}


class _Sink:
    """A file that keeps nothing: COPY writes into it."""

    def __init__(self) -> None:
        self.size = 0
        self.lines = 0

    def write(self, data: str | bytes) -> int:
        self.size += len(data)
        self.lines += data.count("\n" if isinstance(data, str) else b"\n")
        return len(data)


def child_copy() -> dict[str, Any]:
    from django.db import connection

    sink = _Sink()
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.cursor.copy_expert(f"COPY ({KPI_VALUES_SQL}) TO STDOUT WITH CSV", sink)
        seconds = time.perf_counter() - started
    return {"rows": sink.lines, "seconds": seconds, "bytes": sink.size, "peak_mb": peak_mb()}


def child_xlsx_floor() -> dict[str, Any]:
    import tempfile

    from django.db import connection, transaction
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("kpi-values")
    rows = 0
    started = time.perf_counter()
    with transaction.atomic(), connection.connection.cursor(name="bench_floor") as cursor:
        cursor.itersize = 2000
        cursor.execute(KPI_VALUES_SQL)
        for row in cursor:
            sheet.append([float(cell) if hasattr(cell, "as_tuple") else cell for cell in row])
            rows += 1
    with tempfile.TemporaryFile() as handle:
        workbook.save(handle)
        size = handle.tell()
    return {"rows": rows, "seconds": time.perf_counter() - started, "bytes": size, "peak_mb": peak_mb()}


def child_idle() -> dict[str, Any]:
    from clusterpacts.models import Cluster

    Cluster.objects.exists()
    return {"peak_mb": peak_mb()}


CHILDREN = {
    "scan": lambda args: child_scan(args.as_of),
    "csv": lambda args: child_export("csv"),
    "xlsx": lambda args: child_export("xlsx"),
    "copy": lambda args: child_copy(),
    "xlsx-floor": lambda args: child_xlsx_floor(),
    "idle": lambda args: child_idle(),
}


# --- the parent ---------------------------------------------------------------------------------------


def run_child(name: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", name, "--as-of", args.as_of.isoformat()]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode:
        sys.exit(f"{name} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def generate(clusters: int, as_of: date) -> None:
    django_setup()
    from django.core.management import call_command

    from clusterpacts.models import Cluster

    call_command("migrate", verbosity=0)
    if Cluster.objects.exists():
        print(f"The database holds clusters already: --generate {clusters} left it as it is.")
        return
    # The one generator of scale data (workbook/scale.py), as make bench uses.
    call_command("generate_scale_data", clusters=clusters, years=10, seed=1)


def rate(figures: dict[str, Any]) -> str:
    return f"{figures['rows'] / figures['seconds']:,.0f} rows/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date.today())  # noqa: DTZ011
    parser.add_argument("--only", choices=["scan", "exports"])
    parser.add_argument("--generate", type=int, metavar="CLUSTERS")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit(
            "Set DATABASE_URL to the PostgreSQL database to measure (e.g. postgres://postgres@127.0.0.1/scale3000)."
        )
    if args.child:
        django_setup()
        print(json.dumps(CHILDREN[args.child](args), default=str))
        return
    if args.generate:
        generate(args.generate, args.as_of)

    lines = [
        "| figure | value | floor | ratio |",
        "|---|---|---|---|",
    ]
    if args.only in (None, "scan"):
        scan = run_child("scan", args)
        floor_first = scan["select_floor"] + scan["insert_floor"]
        lines += [
            f"| flag scan, first run ({scan['first_raised']:,} flags raised) | {scan['first_seconds']:.2f} s, "
            f"{scan['first_queries']} queries | {floor_first:.2f} s (the reads {scan['select_floor']:.2f} s + one "
            f"INSERT of the flags {scan['insert_floor']:.2f} s) | {scan['first_seconds'] / floor_first:.1f}x |",
            f"| flag scan, second run (nothing to change) | {scan['second_seconds']:.2f} s, "
            f"{scan['second_queries']} queries, {scan['second_writes']} writes | {scan['select_floor']:.2f} s "
            f"({scan['select_queries']} bare SELECTs) | {scan['second_seconds'] / scan['select_floor']:.1f}x |",
        ]
    if args.only in (None, "exports"):
        idle = run_child("idle", args)
        csv_, copy = run_child("csv", args), run_child("copy", args)
        xlsx, xlsx_floor = run_child("xlsx", args), run_child("xlsx-floor", args)
        lines += [
            f"| CSV export, {csv_['rows']:,} KPI values | {rate(csv_)} ({csv_['seconds']:.1f} s, "
            f"{csv_['queries']} queries) | COPY: {rate(copy)} ({copy['seconds']:.1f} s) | "
            f"{csv_['seconds'] / copy['seconds']:.1f}x |",
            f"| CSV export, peak memory | {csv_['peak_mb']:.0f} MB | Django connected: {idle['peak_mb']:.0f} MB; "
            f"COPY {copy['peak_mb']:.0f} MB | {csv_['peak_mb'] / idle['peak_mb']:.1f}x |",
            f"| Excel export, {xlsx['rows']:,} KPI values | {rate(xlsx)} ({xlsx['seconds']:.1f} s, "
            f"{xlsx['queries']} queries) | openpyxl write-only from a bare cursor: {rate(xlsx_floor)} | "
            f"{xlsx['seconds'] / xlsx_floor['seconds']:.1f}x |",
            f"| Excel export, peak memory | {xlsx['peak_mb']:.0f} MB | {xlsx_floor['peak_mb']:.0f} MB | "
            f"{xlsx['peak_mb'] / xlsx_floor['peak_mb']:.1f}x |",
        ]
    print("\n".join(lines))
    load = os.getloadavg()
    machine = f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}"
    print(
        f"\n{date.today().isoformat()}, {machine}, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}; "  # noqa: DTZ011
        f"as of {args.as_of.isoformat()}"
    )


if __name__ == "__main__":
    main()
