"""`make bench`: every figure of docs/PERFORMANCE.md beside its floor, measured in the same run on the same
data, and the table written into docs/PERFORMANCE.md (between its `bench:start` and `bench:end` markers;
the rest of the file is prose kept by hand).

    make bench                                  # 3,000 clusters, 10 years, in PostgreSQL database scale3000
    make bench CLUSTERS=300 BENCH_DB=scale300   # smaller, quicker

The database is created and filled by `manage.py generate_scale_data` when it does not exist yet (or holds
no cluster); an existing one is measured as it is. Each part is a script of its own in bench/, which prints
a markdown section; a part that fails leaves its error in the table instead of its figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PERFORMANCE = ROOT / "docs" / "PERFORMANCE.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
SERVER = "postgres://postgres@127.0.0.1:5432"

# Each part: its title, the script, its arguments, how long it may take, and the line its table starts
# with (what the script prints before it is progress).
PARTS = [
    ("Pages and the briefing (server time through the test client)", "pages.py", [], 1800, ""),
    ("API lists (100 rows with a filter, token authentication)", "api_lists.py", [], 1800, ""),
    ("Flag scan and exports", "scan_and_exports.py", [], 3600, ""),
    ("Requests per second under gunicorn", "gunicorn_load.py", [], 900, ""),
    (
        "History import and export (a generated workbook of 100,000 KPI values, its own databases)",
        "import_history.py",
        ["--values", "100000", "--database", "postgres"],
        3600,
        "PostgreSQL ",
    ),
]


def _run(args: list[str], env: dict[str, str], timeout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)


def _database(name: str, clusters: int, years: int, env: dict[str, str]) -> str:
    """The database to measure: created and filled with the scale data when missing or empty."""
    import psycopg2

    url = f"{SERVER}/{name}"
    connection = psycopg2.connect(f"{SERVER}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not cursor.fetchone():
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    env = {**env, "DATABASE_URL": url}
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
    filled = _run(
        [*manage, "shell", "-c", "from clusterpacts.models import Cluster; print(Cluster.objects.count())"], env, 120
    )
    if filled.stdout.strip().splitlines()[-1:] == ["0"]:
        started = time.monotonic()
        command = [*manage, "generate_scale_data", "--clusters", str(clusters), "--years", str(years), "--seed", "1"]
        subprocess.run(command, env=env, cwd=ROOT, check=True)
        print(f"scale data generated in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return url


def _machine(env: dict[str, str]) -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), platform.processor())
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    memory = next((line.split()[1] for line in meminfo if line.startswith("MemTotal")), "0")
    server = _run(["psql", env["DATABASE_URL"], "-tAc", "SHOW server_version"], env, 30).stdout.strip()
    commit = _run(["git", "rev-parse", "--short", "HEAD"], env, 30).stdout.strip()
    return (
        f"{os.cpu_count()} cores ({cpu}), {int(memory) // 1024 // 1024} GiB RAM, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}; PostgreSQL {server or '?'}; commit {commit}"
    )


def _sizes(env: dict[str, str]) -> str:
    script = (
        "from clusterpacts.models import Cluster, AnnualReport, KpiValue; from funding.models import "
        "SupportAgreement, Project; print(Cluster.objects.count(), SupportAgreement.objects.count(), "
        "AnnualReport.objects.count(), KpiValue.objects.count(), Project.objects.count())"
    )
    out = _run([sys.executable, "manage.py", "shell", "-c", script], env, 300).stdout.split()[-5:]
    names = ("clusters", "agreements", "annual reports", "KPI values", "projects")
    return ", ".join(f"{int(count):,} {name}" for count, name in zip(out, names, strict=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DB", "scale3000"))
    parser.add_argument("--clusters", type=int, default=int(os.environ.get("CLUSTERS", "3000")))
    parser.add_argument("--years", type=int, default=int(os.environ.get("YEARS", "10")))
    parser.add_argument("--only", help="run only the parts whose script name contains this")
    parser.add_argument("--no-write", action="store_true", help="print the table, leave docs/PERFORMANCE.md")
    args = parser.parse_args()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.development", "PYTHONPATH": str(ROOT)}
    env["DATABASE_URL"] = _database(args.database, args.clusters, args.years, env)

    command = f"make bench BENCH_DB={args.database}" + (f" CLUSTERS={args.clusters}" if args.clusters != 3000 else "")
    lines = [
        START,
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{command}` on {_machine(env)}.",
        "",
        f"Data: {_sizes(env)} (`manage.py generate_scale_data --clusters {args.clusters} --years {args.years} "
        "--seed 1`).",
        "",
    ]
    for title, script, extra, timeout, table_starts in PARTS:
        if args.only and args.only not in script:
            continue
        print(f"... {title}", file=sys.stderr)
        invocation = " ".join(["python", f"bench/{script}", *extra])
        lines += [f"### {title}", "", f"`DATABASE_URL=… {invocation}`", ""]
        path = ROOT / "bench" / script
        if not path.exists():
            lines += [f"Not measured: bench/{script} is missing.", ""]
            continue
        started = time.monotonic()
        try:
            result = _run([sys.executable, str(path), *extra], env, timeout)
        except subprocess.TimeoutExpired:
            lines += [f"Not measured: bench/{script} took more than {timeout} s.", ""]
            continue
        if result.returncode:
            error = "\n".join(result.stderr.strip().splitlines()[-5:])
            lines += [f"Not measured: bench/{script} failed:", "", "```", error, "```", ""]
            continue
        output = result.stdout.strip()
        if table_starts and table_starts in output:
            output = output[output.index("\n" + table_starts) + 1 :] if ("\n" + table_starts) in output else output
        lines += [output, "", f"({time.monotonic() - started:.0f} s)", ""]
    lines.append(END)
    block = "\n".join(lines)
    print(block)
    if args.no_write or args.only:
        return
    text = PERFORMANCE.read_text()
    if START in text and END in text:
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text = text.replace("\n", f"\n\n## At scale (issue 16)\n\n{block}\n", 1)
    PERFORMANCE.write_text(text)
    print(f"written: {PERFORMANCE.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
