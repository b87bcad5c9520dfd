"""Benchmark: importing a large history workbook (issue 13: "memory bounded by a chunk, not by the file;
measure rows per second and peak memory for a workbook of at least 100,000 KPI values").

    .venv/bin/python bench/import_history.py [--values 100000] [--database sqlite|postgres] [--profile]

It writes, deterministically (a fixed seed, fixed years 2001-2024), a workbook in the format of
docs/IMPORT.md with openpyxl's write_only mode: clusters, organisations, memberships, a plan with a
target for every reported KPI of the catalogue and a report with a value for every one of them per
cluster and working year, each report submitted and accepted. Then each measurement runs in a fresh
child process (its peak memory is that process's ru_maxrss, from os.wait4), against a fresh database
(a copy of a freshly migrated SQLite file in a temporary folder, or a PostgreSQL database created from a
freshly migrated template at postgres://postgres@127.0.0.1:5432 and dropped afterwards):

  import        `import_history FILE --no-progress` into an empty database (the time per sheet is taken
                by wrapping Importer.take; nothing else of the importer is touched)
  second import the same file again into that database: nothing changes
  export        `export_history` of what was imported
  dry run       `import_history FILE --dry-run --no-progress` into an empty database
  2x import     the same for a workbook with twice the values: does the peak grow with the file?

and beside them, in the same run and on the same file, the floors:

  (a) reading every cell of the workbook with openpyxl read_only, nothing else: the floor for parsing
  (b) inserting the same KPI values with one raw `executemany` INSERT (SQLite) or one COPY (PostgreSQL)
      into the KPI value table of an empty migrated database: the floor for writing them
  (c) Django started and connected, nothing done: the floor for a process's memory
  (d) writing the workbook (the generator, openpyxl write_only from plain Python values): the floor for
      the export

--profile also runs the import once under cProfile and prints the top 25 functions of the portal's own
code (workbook/, clusterpacts/, core/, funding/) by cumulative time. It exits 1 if the generated workbook
is refused or its second import changes anything. The figures are in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "clusterpacts" / "data" / "kpi-catalogue.csv"
SETTINGS = "config.settings.test"
POSTGRES = "postgres://postgres@127.0.0.1:5432"
FIRST_REPORT_YEAR, LAST_REPORT_YEAR = 2001, 2024  # fixed, so the file is the same whatever the day it is made
ORGANISATIONS, MEMBERSHIPS = 300, 600
SEED = 13


# --- the workbook --------------------------------------------------------------------------------


def reported_kpis() -> list[tuple[str, str]]:
    """(code, unit) of the catalogue's KPIs that clusters report; the derived ones (MEM1, MEM2) are left
    to the portal, which computes them from the memberships."""
    with CATALOGUE.open(encoding="utf-8") as handle:
        return [(row["code"], row["unit"]) for row in csv.DictReader(handle) if row["source"] == "reported"]


def enterprise_number(base: int) -> str:
    """A valid Belgian enterprise number (mod 97) from an 8-digit base, written with dots."""
    digits = f"{base:08d}{97 - base % 97:02d}"
    return f"{digits[:4]}.{digits[4:7]}.{digits[7:]}"


def figure(rng: random.Random, unit: str) -> int | float:
    """A value within its unit: a percentage from 0 to 100, a whole count, a non-negative amount."""
    if unit == "percent":
        return round(rng.uniform(0, 100), 2)
    if unit == "count":
        return rng.randint(0, 400)
    if unit == "eur":
        return rng.randint(0, 5_000_000)
    return round(rng.uniform(0, 250), 2)  # meur, fte


def cluster_years(values: int, kpis: int) -> list[tuple[int, int]]:
    """(cluster number, start year) until the reports hold at least `values` KPI values. A cluster
    starts in 2000-2003 and reports from the year after it started to LAST_REPORT_YEAR."""
    clusters, total = [], 0
    while total < values:
        start = 2000 + len(clusters) % 4
        clusters.append((len(clusters), start))
        total += (LAST_REPORT_YEAR - start) * kpis
    return clusters


def generate(path: Path, values: int) -> dict[str, int]:
    from openpyxl import Workbook

    rng = random.Random(SEED)  # noqa: S311 - a fixed seed for a file that is the same every run
    kpis = reported_kpis()
    clusters = cluster_years(values, len(kpis))
    book = Workbook(write_only=True)
    counts: dict[str, int] = {}

    def sheet(name: str, header: list[str], rows: Any) -> None:
        page = book.create_sheet(name)
        page.append(header)
        count = 0
        for row in rows:
            page.append(row)
            count += 1
        counts[name] = count

    def slug(number: int) -> str:
        return f"cluster-{number:04d}"

    sheet(
        "clusters",
        ["slug", "name", "kind", "domain", "enterprise_number", "recognised_on", "started_on", "active"],
        (
            [
                slug(n),
                f"Cluster {n:04d}",
                "spearhead" if n % 5 == 0 else "business_network",
                f"Domain {n % 17}",
                enterprise_number(10_000_000 + n),
                date(start - 1, 11, 1 + n % 28),
                date(start, 1 + n % 12, 1 + n % 28),
                "yes",
            ]
            for n, start in clusters
        ),
    )
    kinds = ["company", "sme", "sme", "knowledge_institution", "government", "other"]
    sheet(
        "organisations",
        ["enterprise_number", "name", "kind"],
        (
            [enterprise_number(20_000_000 + n), f"Organisation {n:04d}", kinds[n % len(kinds)]]
            for n in range(ORGANISATIONS)
        ),
    )

    def memberships() -> Any:
        starts = dict(clusters)
        for n in range(MEMBERSHIPS):  # organisation n % 300 in cluster (7n) % clusters: every pair once
            cluster = (7 * n) % len(clusters)
            joined = date(starts[cluster] + rng.randint(0, 10), rng.randint(1, 12), rng.randint(1, 28))
            left = date(joined.year + rng.randint(1, 8), 12, 31) if n % 4 == 0 else None
            yield [slug(cluster), enterprise_number(20_000_000 + n % ORGANISATIONS), joined, left, n % 3 != 0]

    sheet("memberships", ["cluster", "organisation", "joined_on", "left_on", "paying"], memberships())

    def years() -> Any:
        for n, start in clusters:
            for year in range(start + 1, LAST_REPORT_YEAR + 1):
                yield n, year

    sheet("plans", ["cluster", "year", "planned_actions"], ([slug(n), y, f"Actions {y} of {n}"] for n, y in years()))
    sheet(
        "targets",
        ["cluster", "year", "kpi", "value"],
        ([slug(n), y, code, figure(rng, unit)] for n, y in years() for code, unit in kpis),
    )
    sheet("reports", ["cluster", "year", "narrative"], ([slug(n), y, f"Report {y} of {n}"] for n, y in years()))
    sheet(
        "values",
        ["cluster", "year", "kpi", "value"],
        ([slug(n), y, code, figure(rng, unit)] for n, y in years() for code, unit in kpis),
    )

    def steps() -> Any:
        for n, year in years():  # submitted in the spring after the working year, accepted a few weeks later
            submitted = date(year + 1, 2 + n % 3, 1 + n % 28)
            accepted = date(year + 1, 5 + n % 3, 1 + n % 28)
            yield ["report", slug(n), year, 1, "submitted", submitted, f"Manager {n % 50}", ""]
            yield ["report", slug(n), year, 2, "accepted", accepted, f"Officer {n % 7}", ""]

    sheet("workflow", ["document", "cluster", "year", "step", "status", "on", "by", "comment"], steps())
    book.save(path)
    return counts


# --- the child processes -------------------------------------------------------------------------


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def child_generate(path: Path, values: int) -> dict[str, Any]:
    started = time.perf_counter()
    counts = generate(path, values)
    return {"seconds": time.perf_counter() - started, "counts": counts, "bytes": path.stat().st_size}


def child_read(path: Path) -> dict[str, Any]:
    """Floor (a): every cell of every sheet, read with openpyxl read_only, and nothing else."""
    from openpyxl import load_workbook

    started = time.perf_counter()
    book = load_workbook(path, read_only=True, data_only=False, keep_links=False)
    rows = cells = 0
    for page in book.worksheets:
        for row in page.iter_rows():
            rows += 1
            for cell in row:
                cells += cell.value is not None
    book.close()
    return {"seconds": time.perf_counter() - started, "rows": rows, "cells": cells}


def child_baseline() -> dict[str, Any]:
    """Floor (c): Django started, connected, one query."""
    started = time.perf_counter()
    django_setup()
    from clusterpacts.models import KpiDefinition

    return {"seconds": time.perf_counter() - started, "kpis": KpiDefinition.objects.count()}


def child_import(path: Path, dry_run: bool) -> dict[str, Any]:
    django_setup()
    from io import StringIO

    from django.core.management import call_command

    from workbook import importer
    from workbook.management.commands import import_history

    sheets: dict[str, float] = {}
    results: list[Any] = []
    take = importer.Importer.take

    def timed_take(self: Any, run: Any) -> None:
        started = time.perf_counter()
        take(self, run)
        sheets[run.sheet.name] = time.perf_counter() - started

    def kept_import(*args: Any, **kwargs: Any) -> Any:
        results.append(importer.import_workbook(*args, **kwargs))
        return results[-1]

    importer.Importer.take = timed_take  # type: ignore[method-assign]
    import_history.import_workbook = kept_import  # type: ignore[assignment]
    out, err = StringIO(), StringIO()
    started = time.perf_counter()
    options = ["--dry-run"] if dry_run else []
    failed = ""
    try:
        call_command("import_history", str(path), "--no-progress", *options, stdout=out, stderr=err)
    except Exception as error:  # a refused file: reported, and the bench fails
        failed = f"{error}\n{err.getvalue()[:2000]}"
    seconds = time.perf_counter() - started
    result = results[0]
    return {
        "seconds": seconds,
        "import_seconds": result.seconds,
        "sheets": sheets,
        "counts": {name: vars(counts) for name, counts in result.counts.items()},
        "rows": sum(counts.total for counts in result.counts.values()),
        "changed": sum(c.created + c.updated for c in result.counts.values()),
        "applied": result.applied,
        "errors": len(result.errors),
        "failed": failed,
    }


def child_export(path: Path) -> dict[str, Any]:
    django_setup()
    from io import StringIO

    from django.core.management import call_command

    from workbook.management.commands import export_history

    written: list[dict[str, int]] = []
    export = export_history.export_workbook

    def kept_export(*args: Any, **kwargs: Any) -> Any:
        written.append(export(*args, **kwargs))
        return written[-1]

    export_history.export_workbook = kept_export  # type: ignore[assignment]
    started = time.perf_counter()
    call_command("export_history", str(path), stdout=StringIO())
    return {"seconds": time.perf_counter() - started, "rows": sum(written[0].values()), "counts": written[0]}


def child_insert(path: Path) -> dict[str, Any]:
    """Floor (b): the values sheet's KPI values, written into the KPI value table by one raw statement.
    Its clusters and reports are put in first with bulk_create (not timed); the values are read from
    the file before the clock starts."""
    django_setup()
    from django.db import connection, transaction
    from openpyxl import load_workbook

    from clusterpacts.models import AnnualReport, Cluster, KpiDefinition, KpiValue

    book = load_workbook(path, read_only=True)
    rows = [tuple(r) for r in book["values"].iter_rows(min_row=2, values_only=True)]
    book.close()
    Cluster.objects.bulk_create([Cluster(slug=s, name=s) for s in sorted({r[0] for r in rows})], batch_size=1000)
    cluster_ids = dict(Cluster.objects.values_list("slug", "id"))
    AnnualReport.objects.bulk_create(
        [
            AnnualReport(cluster_id=cluster_ids[s], year=y, due_on=date(y + 1, 4, 1))
            for s, y in {(r[0], r[1]) for r in rows}
        ],
        batch_size=1000,
    )
    report_ids = {(c, y): pk for c, y, pk in AnnualReport.objects.values_list("cluster_id", "year", "id")}
    kpi_ids = dict(KpiDefinition.objects.values_list("code", "id"))
    records = []
    for slug, year, code, value in rows:
        cluster = cluster_ids[slug]
        records.append((kpi_ids[code], cluster, year, str(Decimal(repr(value))), report_ids[(cluster, year)]))
    table = KpiValue._meta.db_table
    columns = "kpi_id, cluster_id, year, value, report_id"
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from io import StringIO

            data = StringIO("".join("\t".join(map(str, record)) + "\n" for record in records))
            cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", data)
        else:
            insert = f"INSERT INTO {table} ({columns}) VALUES (?, ?, ?, ?, ?)"  # noqa: S608 - the model's own table
            cursor.cursor.executemany(insert, records)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": KpiValue.objects.count(),
        "method": "COPY" if connection.vendor == "postgresql" else "executemany",
    }


def child_profile(path: Path, stats_file: Path) -> dict[str, Any]:
    django_setup()
    import cProfile
    import io
    import pstats

    from django.core.management import call_command

    from workbook import importer

    sheets: dict[str, float] = {}
    take = importer.Importer.take

    def timed_take(self: Any, run: Any) -> None:
        started = time.perf_counter()
        take(self, run)
        sheets[run.sheet.name] = time.perf_counter() - started

    importer.Importer.take = timed_take  # type: ignore[method-assign]
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.runcall(call_command, "import_history", str(path), "--no-progress", stdout=io.StringIO())
    seconds = time.perf_counter() - started
    profiler.dump_stats(stats_file)
    stats = pstats.Stats(str(stats_file))
    own = ("workbook/", "clusterpacts/", "core/", "funding/")
    rows = []
    for (filename, line, name), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        relative = filename.replace(str(ROOT) + "/", "")
        if relative.startswith(own) and "/migrations/" not in relative:
            rows.append((cumtime, tottime, calls, f"{relative}:{line}({name})"))
    rows.sort(reverse=True)
    return {"seconds": seconds, "sheets": sheets, "top": rows[:25]}


# --- the parent: databases, children, the table --------------------------------------------------


class Databases:
    """A freshly migrated template, and from it as many fresh databases as asked for."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind, self.folder, self.made = kind, folder, []
        self.template = f"bench_import_{os.getpid()}_template"
        if kind == "sqlite":
            self.template_url = f"sqlite:///{folder / 'template.sqlite3'}"
        else:
            self.admin("DROP DATABASE IF EXISTS {0}", self.template)
            self.admin("CREATE DATABASE {0}", self.template)
            self.made.append(self.template)
            self.template_url = f"{POSTGRES}/{self.template}"
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"],
            env=child_env(self.template_url),
            check=True,
        )

    def admin(self, statement: str, name: str) -> None:
        import psycopg2

        connection = psycopg2.connect(f"{POSTGRES}/postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement.format(name))
        connection.close()

    def fresh(self, label: str) -> str:
        if self.kind == "sqlite":
            source = self.folder / "template.sqlite3"
            target = self.folder / f"{label}.sqlite3"
            for suffix in ("", "-wal", "-shm"):
                if Path(f"{source}{suffix}").exists():
                    shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
            return f"sqlite:///{target}"
        name = f"bench_import_{os.getpid()}_{label}"
        self.admin("DROP DATABASE IF EXISTS {0}", name)
        self.admin(f"CREATE DATABASE {{0}} TEMPLATE {self.template}", name)
        self.made.append(name)
        return f"{POSTGRES}/{name}"

    def version(self) -> str:
        if self.kind == "sqlite":
            return f"SQLite {sqlite3.sqlite_version}"
        import psycopg2

        connection = psycopg2.connect(f"{POSTGRES}/postgres")
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            found = cursor.fetchone()
        connection.close()
        return f"PostgreSQL {found[0] if found else '?'}"

    def drop(self) -> None:
        for name in reversed(self.made):
            self.admin("DROP DATABASE IF EXISTS {0}", name)


def child_env(url: str | None) -> dict[str, str]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE=SETTINGS, DEBUG="0", PYTHONHASHSEED="0")
    if url:
        env["DATABASE_URL"] = url
    return env


def run_child(folder: Path, label: str, url: str | None, *args: str) -> dict[str, Any]:
    """Run `bench/import_history.py --child ARGS` in a fresh process: its result, wall time and peak RSS."""
    result_file = folder / f"{label}.json"
    log = (folder / f"{label}.log").open("w")
    command = [sys.executable, __file__, "--child", *args, "--result", str(result_file)]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=child_env(url), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    log.close()
    if process.returncode != 0:
        sys.exit(f"{label} failed ({process.returncode}):\n{(folder / f'{label}.log').read_text()[-4000:]}")
    found = json.loads(result_file.read_text())
    found.update(wall=wall, peak_mb=usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux
    print(f"  {label:<16} {wall:8.1f} s wall, peak {found['peak_mb']:7.1f} MB", flush=True)
    return found


def machine(databases: Databases) -> dict[str, str]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory = next(
        line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    import django
    import openpyxl

    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": model,
        "ram": f"{int(memory) / 1024**2:.1f} GiB",
        "python": platform.python_version(),
        "database": databases.version(),
        "django": django.get_version(),
        "openpyxl": openpyxl.__version__,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "date": date.today().isoformat(),  # noqa: DTZ011 - the day the figures were taken, as the machine says
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--values", type=int, default=100_000, help="KPI values in the workbook (default 100000)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--no-double", action="store_true", help="skip the workbook of twice the values")
    parser.add_argument("--profile", action="store_true", help="also profile the import once (cProfile)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (files, logs, profile)")
    parser.add_argument("--json", type=Path, help="write every figure to this file too")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        task, *rest = options.child
        found = {
            "generate": lambda: child_generate(Path(rest[0]), int(rest[1])),
            "read": lambda: child_read(Path(rest[0])),
            "baseline": child_baseline,
            "import": lambda: child_import(Path(rest[0]), dry_run=False),
            "dry-run": lambda: child_import(Path(rest[0]), dry_run=True),
            "export": lambda: child_export(Path(rest[0])),
            "insert": lambda: child_insert(Path(rest[0])),
            "profile": lambda: child_profile(Path(rest[0]), Path(rest[1])),
        }[task]()
        options.result.write_text(json.dumps(found))
        return
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    print(f"Working in {folder} ({options.database}, {options.values} values)", flush=True)
    databases = Databases(options.database, folder)
    figures: dict[str, Any] = {"machine": machine(databases), "values": options.values}
    ok = True
    try:
        file = folder / "history.xlsx"
        figures["generate"] = run_child(folder, "generate", None, "generate", str(file), str(options.values))
        figures["read"] = run_child(folder, "read", None, "read", str(file))
        figures["baseline"] = run_child(folder, "baseline", databases.fresh("baseline"), "baseline")
        imported = databases.fresh("import")
        figures["import"] = run_child(folder, "import", imported, "import", str(file))
        figures["again"] = run_child(folder, "again", imported, "import", str(file))
        figures["export"] = run_child(folder, "export", imported, "export", str(folder / "export.xlsx"))
        figures["dry_run"] = run_child(folder, "dry-run", databases.fresh("dryrun"), "dry-run", str(file))
        figures["insert"] = run_child(folder, "insert", databases.fresh("insert"), "insert", str(file))
        if not options.no_double:
            double = folder / "history-2x.xlsx"
            figures["generate_2x"] = run_child(
                folder, "generate-2x", None, "generate", str(double), str(2 * options.values)
            )
            figures["read_2x"] = run_child(folder, "read-2x", None, "read", str(double))
            figures["import_2x"] = run_child(folder, "import-2x", databases.fresh("import2x"), "import", str(double))
        if options.profile:
            figures["profile"] = run_child(
                folder, "profile", databases.fresh("profile"), "profile", str(file), str(folder / "import.prof")
            )
        for key in ("import", "again", "dry_run", "import_2x"):
            if key in figures and (figures[key]["failed"] or figures[key]["errors"]):
                print(f"{key}: refused: {figures[key]['failed']}")
                ok = False
        if figures["again"]["changed"]:
            print(f"The second import changed {figures['again']['changed']} rows: it should change none.")
            ok = False
    finally:
        databases.drop()
        if not options.keep:
            shutil.rmtree(folder, ignore_errors=True)
    report(figures)
    if options.json:
        options.json.write_text(json.dumps(figures, indent=1, default=str))
    sys.exit(0 if ok else 1)


def report(f: dict[str, Any]) -> None:
    m = f["machine"]
    values = f["generate"]["counts"]["values"]
    rows = f["import"]["rows"]
    print()
    print(f"{m['database']}, {values} KPI values, {rows} rows in all ({f['generate']['bytes'] / 1e6:.1f} MB file)")
    print(f"machine: {m['nproc']} cores ({m['cpu']}), {m['ram']}, Python {m['python']}, load {m['load']}, {m['date']}")

    def line(name: str, value: str, floor: str, ratio: float | None) -> None:
        print(f"| {name} | {value} | {floor} | {'' if ratio is None else f'{ratio:.1f}x'} |")

    def rate(count: int, seconds: float) -> str:
        return f"{count / seconds:,.0f} rows/s"

    imp, again, dry, exp, read, ins, base, gen = (
        f[k] for k in ("import", "again", "dry_run", "export", "read", "insert", "baseline", "generate")
    )
    print("| figure | value | floor | ratio |")
    print("|---|---|---|---|")
    line(
        f"import, {rows} rows",
        f"{imp['import_seconds']:.1f} s, {rate(rows, imp['import_seconds'])} "
        f"({rate(values, imp['import_seconds'])} of KPI values)",
        f"read every cell (a): {read['seconds']:.1f} s, {rate(read['rows'], read['seconds'])}",
        imp["import_seconds"] / read["seconds"],
    )
    line(
        f"import, sheet values ({values} rows)",
        f"{imp['sheets']['values']:.1f} s, {rate(values, imp['sheets']['values'])}",
        f"one {ins['method']} (b): {ins['seconds']:.2f} s, {rate(ins['rows'], ins['seconds'])}",
        imp["sheets"]["values"] / ins["seconds"],
    )
    line(
        "import, peak memory",
        f"{imp['peak_mb']:.0f} MB",
        f"Django process (c) {base['peak_mb']:.0f} MB; read (a) {read['peak_mb']:.0f} MB",
        imp["peak_mb"] / max(base["peak_mb"], read["peak_mb"]),
    )
    if "import_2x" in f:
        i2, r2 = f["import_2x"], f["read_2x"]
        line(
            f"import of 2x ({f['generate_2x']['counts']['values']} values), peak memory",
            f"{i2['peak_mb']:.0f} MB ({i2['peak_mb'] / imp['peak_mb']:.2f}x the 1x peak); "
            f"{i2['import_seconds']:.1f} s, {rate(i2['rows'], i2['import_seconds'])}",
            f"read 2x (a) {r2['peak_mb']:.0f} MB, {r2['seconds']:.1f} s",
            i2["peak_mb"] / max(base["peak_mb"], r2["peak_mb"]),
        )
    line(
        "second import (nothing changes)",
        f"{again['import_seconds']:.1f} s, {rate(again['rows'], again['import_seconds'])}, "
        f"peak {again['peak_mb']:.0f} MB",
        f"read (a) {read['seconds']:.1f} s",
        again["import_seconds"] / read["seconds"],
    )
    line(
        "dry run",
        f"{dry['import_seconds']:.1f} s, {rate(dry['rows'], dry['import_seconds'])}, peak {dry['peak_mb']:.0f} MB",
        f"read (a) {read['seconds']:.1f} s",
        dry["import_seconds"] / read["seconds"],
    )
    line(
        f"export, {exp['rows']} rows",
        f"{exp['seconds']:.1f} s, {rate(exp['rows'], exp['seconds'])}, peak {exp['peak_mb']:.0f} MB",
        f"write the workbook (d) {gen['seconds']:.1f} s, {rate(sum(gen['counts'].values()), gen['seconds'])}, "
        f"peak {gen['peak_mb']:.0f} MB",
        exp["seconds"] / gen["seconds"],
    )
    print()
    print("import, seconds per sheet: " + ", ".join(f"{k} {v:.1f}" for k, v in imp["sheets"].items()))
    print("second import, per sheet: " + ", ".join(f"{k} {v:.1f}" for k, v in again["sheets"].items()))
    print("rows per sheet: " + ", ".join(f"{k} {v}" for k, v in f["generate"]["counts"].items()))
    if "profile" in f:
        p = f["profile"]
        print()
        print(
            f"cProfile of the import ({p['seconds']:.1f} s under the profiler); per sheet: "
            + ", ".join(f"{k} {v:.1f}" for k, v in p["sheets"].items())
        )
        print(f"{'cumulative':>10} {'own':>8} {'calls':>9}  function")
        for cumtime, tottime, calls, name in p["top"]:
            print(f"{cumtime:10.2f} {tottime:8.2f} {calls:9d}  {name}")


if __name__ == "__main__":
    main()
