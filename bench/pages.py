"""Benchmark: every portal page, the briefing JSON and the .docx, timed beside a floor in the same run (issue
16: each under 300 ms server time at 3,000 clusters, with a query count independent of the data size).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scale3000 .venv/bin/python bench/pages.py [--runs 7]

On the database DATABASE_URL names as it is (the scale data of `make bench`), it logs in an officer (a user
in the officer group; one is made for the run, and removed after it, when there is none) and asks each page
`--runs` times through Django's test Client, each request followed by one to the floor: the constant
`JsonResponse` view of `bench/urls.py` behind the same middleware and session (interleaved, so that both
meet the same load on a shared machine). The time is the server's: the Client's call, no network. The
queries are counted in a request of their own. Prints a markdown table: median ms, the floor's median, the
ratio, the bytes, the queries, and whether the 300 ms target is met.

`--populate N` first fills an EMPTY migrated database with N clusters of synthetic data (bulk inserts:
organisations and memberships, pacts, plans with targets, reports with their workflow steps and KPI
values, evaluations and lessons, agreement chains, budget years, reservations, projects, flags): for a
measurement without `manage.py generate_scale_data`. It refuses a database that already holds clusters.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
os.environ.setdefault("DEBUG", "0")  # no query log in the measured path, as in production

import django  # noqa: E402

django.setup()

import logging  # noqa: E402

logging.getLogger("axes").setLevel(logging.WARNING)  # its login lines would land in the table printed

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import clear_url_caches  # noqa: E402
from django.utils import timezone  # noqa: E402

from clusterpacts.models import (  # noqa: E402
    AnnualPlan,
    AnnualReport,
    Cluster,
    ClusterPact,
    KpiDefinition,
    KpiTarget,
    KpiValue,
    Membership,
    Organisation,
    ReportEvent,
    Workflow,
)
from clusterpacts.services import kpi_tallies_refresh  # noqa: E402
from core.roles import OFFICER  # noqa: E402
from evaluations.models import Evaluation, Lesson  # noqa: E402
from funding.models import Allocation, BudgetYear, Flag, Project, SupportAgreement  # noqa: E402


def install_floor() -> str:
    """The floor: `bench/urls.py`'s constant JSON view (the load benchmark's), in front of the portal's URLs."""
    from django.conf import settings

    settings.ROOT_URLCONF = "bench.urls"
    clear_url_caches()
    return "/bench/constant/"


# --- the synthetic data (--populate) ------------------------------------------------------------------

BATCH = 5000


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


def populate(count: int, *, years: int = 10, seed: int = 1) -> None:
    """`count` clusters with `years` working years each (the last ended one is last year), bulk-inserted."""
    if Cluster.objects.exists():
        raise SystemExit("--populate wants an empty migrated database: this one holds clusters already.")
    rng = random.Random(seed)  # noqa: S311 - synthetic figures, deterministic for a seed
    today = timezone.localdate()
    this_year = today.year
    kpis = list(KpiDefinition.objects.filter(active=True))
    reported = [k for k in kpis if k.source == KpiDefinition.Source.REPORTED]
    started = time.perf_counter()
    with transaction.atomic():
        clusters = Cluster.objects.bulk_create(
            [
                Cluster(
                    name=f"Cluster {n:05d}",
                    slug=f"cluster-{n:05d}",
                    domain=rng.choice(["chemistry", "materials", "energy", "logistics", "food", "blue", "health"]),
                    started_on=date(this_year - years + (n % 4), 1, 1),
                    active=n % 50 != 0,
                )
                for n in range(count)
            ],
            batch_size=BATCH,
        )
        organisations = Organisation.objects.bulk_create(
            [
                Organisation(
                    name=f"Organisation {n}", kind=rng.choice([Organisation.Kind.SME, Organisation.Kind.COMPANY])
                )
                for n in range(max(50, count * 2))
            ],
            batch_size=BATCH,
        )
        Membership.objects.bulk_create(
            [
                Membership(
                    organisation=organisations[(i * 7 + m) % len(organisations)],
                    cluster=cluster,
                    joined_on=cluster.started_on,
                    paying=m % 3 != 0,
                )
                for i, cluster in enumerate(clusters)
                for m in range(5)
            ],
            batch_size=BATCH,
        )
        ClusterPact.objects.bulk_create(
            [
                ClusterPact(
                    cluster=cluster,
                    version=v + 1,
                    status=ClusterPact.Status.SIGNED if v == 1 else ClusterPact.Status.SUPERSEDED,
                    signed_on=date(cluster.started_on.year + 3 * v, 12, 15),
                )
                for cluster in clusters
                for v in range(2)
            ],
            batch_size=BATCH,
        )
        # Plans (accepted) with a target per active KPI; reports with their steps and a value per reported KPI.
        plans = AnnualPlan.objects.bulk_create(
            [
                AnnualPlan(
                    cluster=cluster,
                    year=year,
                    status=Workflow.ACCEPTED,
                    planned_actions="Calls and matchmaking.",
                    submitted_at=_at(date(year - 1, 11, 15)),
                    reviewed_at=_at(date(year - 1, 12, 10)),
                )
                for cluster in clusters
                for year in range(cluster.started_on.year, this_year + 1)
            ],
            batch_size=BATCH,
        )
        events: list[ReportEvent] = []
        for plan in plans:
            events.append(
                ReportEvent(plan=plan, from_status="draft", to_status="submitted", at=_at(date(plan.year - 1, 11, 15)))
            )
            events.append(
                ReportEvent(
                    plan=plan, from_status="submitted", to_status="accepted", at=_at(date(plan.year - 1, 12, 10))
                )
            )
        KpiTarget.objects.bulk_create(
            [
                KpiTarget(
                    cluster_id=plan.cluster_id,
                    plan=plan,
                    kpi=kpi,
                    year=plan.year,
                    value=Decimal(rng.randint(5, 60)),
                )
                for plan in plans
                for kpi in kpis
            ],
            batch_size=BATCH,
        )
        reports: list[AnnualReport] = []
        for cluster in clusters:
            for year in range(cluster.started_on.year, this_year):
                last = year == this_year - 1
                roll = rng.random()
                if last and roll < 0.1:
                    continue  # never started: overdue once its due day has passed
                status = Workflow.ACCEPTED
                if last:
                    status = Workflow.SUBMITTED if roll < 0.5 else (Workflow.DRAFT if roll < 0.6 else status)
                reports.append(
                    AnnualReport(
                        cluster=cluster,
                        year=year,
                        status=status,
                        narrative="What the cluster did.",
                        due_on=date(year + 1, 3, 31),
                        submitted_at=_at(date(year + 1, 3, 15)) if status != Workflow.DRAFT else None,
                        reviewed_at=_at(date(year + 1, 5, 2)) if status == Workflow.ACCEPTED else None,
                    )
                )
        reports = AnnualReport.objects.bulk_create(reports, batch_size=BATCH)
        for report in reports:
            if report.status != Workflow.DRAFT:
                events.append(
                    ReportEvent(
                        report=report, from_status="draft", to_status="submitted", at=_at(date(report.year + 1, 3, 15))
                    )
                )
            if report.status == Workflow.ACCEPTED:
                events.append(
                    ReportEvent(
                        report=report,
                        from_status="submitted",
                        to_status="accepted",
                        at=_at(date(report.year + 1, 5, 2)),
                    )
                )
        ReportEvent.objects.bulk_create(events, batch_size=BATCH)
        KpiValue.objects.bulk_create(
            [
                KpiValue(
                    cluster_id=report.cluster_id,
                    report=report,
                    kpi=kpi,
                    year=report.year,
                    value=Decimal(rng.randint(0, 80)),
                )
                for report in reports
                for kpi in reported
            ],
            batch_size=BATCH,
        )
        kpi_tallies_refresh()  # as the services keep them with each value they write
        evaluations = []
        for cluster in clusters:
            first = cluster.started_on.year
            for n, end in enumerate((first + 2, first + 5)):
                done = date(end + 1, 5, 31)
                evaluations.append(
                    Evaluation(
                        cluster=cluster,
                        kind=Evaluation.Kind.INTERIM,
                        title=f"Interim evaluation {n + 1}",
                        period_start=date(end - 2, 1, 1),
                        period_end=date(end, 12, 31),
                        stage="completed" if done <= today else "in_progress",
                        started_on=date(end + 1, 1, 15),
                        completed_on=done if done <= today else None,
                        conclusion="largely_achieved" if done <= today else "",
                    )
                )
        evaluations = Evaluation.objects.bulk_create(evaluations, batch_size=BATCH)
        Lesson.objects.bulk_create(
            [
                Lesson(evaluation=evaluation, kind=kind, text=f"{kind} of {evaluation.title}.")
                for evaluation in evaluations
                if evaluation.completed_on
                for kind in ("good_practice", "bottleneck")
            ],
            batch_size=BATCH,
        )
        # Agreement chains: three-year terms from the start, the last one ending on the ten-year cap; saved a
        # link at a time (one chain per cluster: only the first agreement has no predecessor).
        chains: list[list[SupportAgreement]] = []
        for cluster in clusters:
            chain_start = cluster.started_on
            cap = date(chain_start.year + 10, 1, 1) - timedelta(days=1)
            start, chain = chain_start, []
            while start <= today + timedelta(days=200) and start <= cap:
                end = min(date(start.year + 3, 1, 1) - timedelta(days=1), cap)
                chain.append(
                    SupportAgreement(
                        cluster=cluster,
                        reference=f"SO-{cluster.slug}-{len(chain) + 1}",
                        start_date=start,
                        end_date=end,
                        amount=Decimal(1_500_000),
                        signed_on=start - timedelta(days=20),
                        chain_start=chain_start,
                    )
                )
                start = end + timedelta(days=1)
            chains.append(chain)
        agreements: list[SupportAgreement] = []
        for link in range(max(len(chain) for chain in chains)):
            level = []
            for chain in chains:
                if len(chain) > link:
                    if link:
                        chain[link].predecessor = chain[link - 1]
                    level.append(chain[link])
            agreements += SupportAgreement.objects.bulk_create(level, batch_size=BATCH)
        budget = BudgetYear.objects.bulk_create(
            [
                BudgetYear(year=year, envelope=Decimal(9_000_000) * count + Decimal(30_000_000))
                for year in range(this_year - years, this_year + 2)
            ]
        )
        allocations = [
            Allocation(
                budget_year=year,
                purpose=Allocation.Purpose.COMPETITIVENESS,
                cluster=cluster,
                amount=Decimal(8_000_000),
                decided_on=date(year.year, 1, 15),
            )
            for year in budget
            if year.year <= this_year
            for cluster in clusters
            if cluster.started_on.year <= year.year
        ]
        allocations += [
            Allocation(
                budget_year=year,
                purpose=purpose,
                amount=Decimal(14_200_000),
                decided_on=date(year.year, 1, 15),
            )
            for year in budget
            if year.year <= this_year
            for purpose in (Allocation.Purpose.INTER_CLUSTER, Allocation.Purpose.OTHER)
        ]
        Allocation.objects.bulk_create(allocations, batch_size=BATCH)
        projects = []
        for i, cluster in enumerate(clusters):
            for year in range(this_year - 3, this_year + 1):
                decided = date(year, 6, 1) if year < this_year else today - timedelta(days=30)
                projects.append(
                    Project(
                        reference=f"P-{cluster.slug}-{year}",
                        title=f"Project of {cluster.name} in {year}",
                        type=Project.Type.ICON,
                        lead_cluster=cluster,
                        decided_on=decided,
                        amount=Decimal(rng.randint(2, 9) * 1_000_000),
                        start_date=decided + timedelta(days=30),
                        end_date=decided + timedelta(days=760),
                        status_on=decided,
                    )
                )
                if i % 10 == 0:
                    projects.append(
                        Project(
                            reference=f"IC-{cluster.slug}-{year}",
                            title=f"Inter-cluster project of {cluster.name} in {year}",
                            type=Project.Type.INTER_CLUSTER,
                            lead_cluster=cluster,
                            decided_on=decided,
                            amount=Decimal(500_000),
                            start_date=decided + timedelta(days=30),
                            end_date=decided + timedelta(days=760),
                            status_on=decided,
                        )
                    )
        projects = Project.objects.bulk_create(projects, batch_size=BATCH)
        by_index = {cluster.pk: n for n, cluster in enumerate(clusters)}
        through = Project.clusters.through
        through.objects.bulk_create(
            [
                through(project_id=p.pk, cluster_id=clusters[(by_index[p.lead_cluster_id] + 1) % count].pk)
                for p in projects
                if p.type == Project.Type.INTER_CLUSTER
            ],
            batch_size=BATCH,
        )
        flags = []
        for agreement in agreements:
            if today <= agreement.end_date <= today + timedelta(days=180):
                flags.append(
                    Flag(
                        kind=Flag.Kind.RENEWAL_DUE,
                        cluster_id=agreement.cluster_id,
                        agreement=agreement,
                        subject=f"agreement:{agreement.pk}",
                        message="Verlenging nodig.",
                        message_en="Renewal due.",
                        raised_on=today,
                        due_on=agreement.end_date,
                    )
                )
        reported_on = {(r.cluster_id, r.year) for r in reports}
        for cluster in clusters:
            if cluster.active and (cluster.pk, this_year - 1) not in reported_on and today > date(this_year, 3, 31):
                flags.append(
                    Flag(
                        kind=Flag.Kind.REPORT_OVERDUE,
                        cluster=cluster,
                        year=this_year - 1,
                        subject=f"report:{cluster.pk}:{this_year - 1}",
                        message="Jaarverslag te laat.",
                        message_en="Annual report overdue.",
                        raised_on=today,
                        due_on=date(this_year, 3, 31),
                    )
                )
        Flag.objects.bulk_create(flags, batch_size=BATCH)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
    print(
        f"populated {count} clusters in {time.perf_counter() - started:.1f} s: {len(reports)} reports, "
        f"{KpiValue.objects.count()} KPI values, {len(agreements)} agreements, {len(flags)} open flags",
        file=sys.stderr,
    )


# --- the measurement ---------------------------------------------------------------------------------


TARGET_MS = 300


def officer_client() -> tuple[Client, Any]:
    """A client logged in as an officer, and the officer made for the run (None when one was there)."""
    users = get_user_model().objects
    officer = users.filter(groups__name=OFFICER, is_active=True).order_by("pk").first()
    made = None
    if officer is None:
        officer = made = users.create_user(username="bench-pages-officer", password=None, is_staff=True)
        officer.groups.add(Group.objects.get(name=OFFICER))
    client = Client(HTTP_ACCEPT_LANGUAGE="nl", HTTP_HOST="localhost")
    client.force_login(officer)
    return client, made


def pages() -> list[tuple[str, str]]:
    cluster = Cluster.objects.order_by("name").values_list("slug", flat=True).first()
    last_year = timezone.localdate().year - 1
    return [
        ("dashboard", "/insights/"),
        ("cluster list", "/clusters/"),
        ("cluster list, a search", "/clusters/?q=1"),
        ("cluster page", f"/clusters/{cluster}/"),
        ("comparison", f"/insights/compare/?kpi=C2&year={last_year}"),
        ("comparison, a KPI of the members", f"/insights/compare/?kpi=MEM1&year={last_year}"),
        ("comparison, a KPI of the projects", f"/insights/compare/?kpi=CPI3&year={last_year}"),
        ("comparison, a KPI of the projects' companies", f"/insights/compare/?kpi=CPI7&year={last_year}"),
        ("funding overview", "/insights/funding/"),
        ("review queue", "/review/"),
        ("review queue, every state", "/review/?state=all"),
        ("briefing page", "/insights/briefing/"),
        ("briefing page, page 2", "/insights/briefing/?page=2"),
        ("briefing page, one cluster", f"/insights/briefing/?cluster={cluster}"),
        ("briefing JSON", "/api/v1/briefing/"),
        ("briefing JSON, detail page 2", "/api/v1/briefing/?detail_page=2"),
        ("briefing .docx", "/insights/briefing.docx"),
    ]


def _timed(client: Client, url: str) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    return elapsed, len(response.content)


def measure(client: Client, url: str, floor: str, runs: int) -> dict[str, float | int]:
    """`url` and the floor, interleaved, `runs` times each after a warm-up; the queries in a request of their own."""
    _timed(client, url)  # warm: templates compiled, caches filled
    _timed(client, floor)
    times, floor_times, size = [], [], 0
    for _ in range(runs):
        elapsed, size = _timed(client, url)
        times.append(elapsed)
        floor_times.append(_timed(client, floor)[0])
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return {
        "ms": round(statistics.median(times), 1),
        "floor_ms": round(statistics.median(floor_times), 1),
        "bytes": size,
        "queries": len(queries),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="requests per page (default 7)")
    parser.add_argument("--populate", type=int, metavar="N", help="fill an empty database with N clusters first")
    parser.add_argument("--only", help="measure only the pages whose name contains this")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if args.populate:
        populate(args.populate)
    floor = install_floor()
    client, made = officer_client()
    results: dict[str, Any] = {"clusters": Cluster.objects.count(), "pages": {}}
    floor_queries = measure(client, floor, floor, 1)["queries"]
    lines = [
        f"{args.runs} requests each as an officer, after one to warm up, each followed by one to the floor: a "
        f"constant `JsonResponse` behind the same middleware and session ({floor_queries} queries: the session "
        f"and the user). Target: under {TARGET_MS} ms, queries independent of the data size "
        "(`tests/insights/test_page_queries.py`).",
        "",
        "| page | median ms | floor median ms | ratio | bytes | queries | under 300 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    try:
        for name, url in pages():
            if args.only and args.only not in name:
                continue
            print(f"... {name}", file=sys.stderr, flush=True)
            figures = measure(client, url, floor, args.runs)
            results["pages"][name] = {"url": url, **figures}
            ratio = figures["ms"] / figures["floor_ms"] if figures["floor_ms"] else 0
            lines.append(
                f"| {name} (`{url}`) | {figures['ms']:.1f} | {figures['floor_ms']:.1f} | {ratio:.0f}x | "
                f"{figures['bytes']:,} | {figures['queries']} | {'yes' if figures['ms'] < TARGET_MS else 'no'} |"
            )
    finally:
        if made is not None:
            made.delete()
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
