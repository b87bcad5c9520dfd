"""A stand-in dataset for `bench/scan_and_exports.py` when the programme-scale one is not there.

What the flag scan and the KPI export read, in the proportions of issue 16's dataset (per cluster: 4
agreements, 10 annual reports with their workflow steps and 15 KPI values each, the plans with their
targets, a reservation and a project a year, an interim evaluation per term), written with bulk inserts.
About one cluster in twenty gives the scan something to say (a draft or missing report, a reservation
exceeded, a renewal without its evaluation). Deterministic for a seed. It is not `generate_scale_data`
(issue 16's generator): no organisations, memberships, pacts or lessons, which neither reader touches.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db import transaction

from clusterpacts.models import (
    AnnualPlan,
    AnnualReport,
    Cluster,
    KpiDefinition,
    KpiTarget,
    KpiValue,
    ReportEvent,
    Workflow,
)
from evaluations.models import Evaluation
from funding.models import Allocation, BudgetYear, Project, SupportAgreement, cap_date_for

ONE_DAY = timedelta(days=1)
KPIS_PER_REPORT = 15


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


def _chain(start: date) -> list[tuple[date, date]]:
    """Three full terms, then a last one up to the 10-year cap."""
    cap = cap_date_for(start)
    terms = []
    for n in range(3):
        first = start + relativedelta(years=3 * n)
        terms.append((first, first + relativedelta(years=3) - ONE_DAY))
    terms.append((start + relativedelta(years=9), cap))
    return terms


@transaction.atomic
def fill(*, clusters: int, seed: int = 1, today: date) -> dict[str, int]:
    """Fill an empty, migrated database; return the rows written per table."""
    if Cluster.objects.exists():
        raise SystemExit("the database already holds clusters: give an empty one")
    rng = random.Random(seed)  # noqa: S311 - made-up data, the same for a seed
    this_year = today.year
    kpis = list(KpiDefinition.objects.order_by("position")[:KPIS_PER_REPORT])
    BudgetYear.objects.bulk_create(
        BudgetYear(year=year, envelope=Decimal(10_000_000_000)) for year in range(this_year - 11, this_year + 2)
    )
    budget = dict(BudgetYear.objects.values_list("year", "pk"))
    made = Cluster.objects.bulk_create(
        Cluster(
            name=f"Cluster {n:05d}",
            slug=f"cluster-{n:05d}",
            started_on=date(this_year - 10, 1, 1) + timedelta(days=rng.randint(0, 730)),
            active=rng.random() > 0.03,
        )
        for n in range(clusters)
    )
    counts: dict[str, int] = {"clusters": len(made)}
    chains: list[list[SupportAgreement]] = []
    evaluations: list[Evaluation] = []
    for cluster in made:
        started = cluster.started_on or today
        terms = _chain(started)
        if rng.random() < 0.15:  # the last extension is not there yet
            terms = terms[:3]
        skip_evaluation = rng.random() < 0.3
        chains.append([])
        for n, (start, end) in enumerate(terms):
            signed = start - timedelta(days=30)
            chains[-1].append(
                SupportAgreement(
                    cluster=cluster,
                    reference=f"SO-{cluster.pk}-{n + 1}",
                    start_date=start,
                    end_date=end,
                    amount=Decimal(1_500_000),
                    signed_on=signed if signed <= today else None,
                    chain_start=started,
                )
            )
            completed = start + relativedelta(years=2)
            if completed <= today and not (skip_evaluation and n == len(terms) - 1):
                evaluations.append(
                    Evaluation(
                        cluster=cluster,
                        kind=Evaluation.Kind.INTERIM,
                        period_start=start,
                        period_end=completed,
                        stage="completed",
                        started_on=completed - timedelta(days=90),
                        reporting_on=completed - timedelta(days=30),
                        completed_on=completed,
                        conclusion="largely_achieved",
                    )
                )
    chains_by_cluster = {chain[0].cluster_id: chain for chain in chains}
    # Term by term, so each extension names its predecessor as it is written (one chain per cluster).
    for n in range(4):
        wave = [chain[n] for chain in chains if len(chain) > n]
        for agreement in wave:
            if n:
                agreement.predecessor = chains_by_cluster[agreement.cluster_id][n - 1]
        SupportAgreement.objects.bulk_create(wave, batch_size=2000)
    counts["agreements"] = sum(len(chain) for chain in chains)
    counts["evaluations"] = len(Evaluation.objects.bulk_create(evaluations, batch_size=2000))

    reports: list[AnnualReport] = []
    plans: list[AnnualPlan] = []
    allocations: list[Allocation] = []
    projects: list[Project] = []
    for cluster in made:
        for year in range((cluster.started_on or today).year, this_year + 1):
            plans.append(AnnualPlan(cluster=cluster, year=year, status=Workflow.ACCEPTED))
            decided = min(date(year, 1, 15), today)
            allocations.append(
                Allocation(
                    budget_year_id=budget[year],
                    purpose=Allocation.Purpose.COMPETITIVENESS,
                    cluster=cluster,
                    amount=Decimal(500_000),
                    decided_on=decided,
                )
            )
            over = rng.random() < 0.03
            projects.append(
                Project(
                    reference=f"PRJ-{cluster.pk}-{year}",
                    title=f"Project of {cluster.name} in {year}",
                    type=Project.Type.ICON,
                    lead_cluster=cluster,
                    decided_on=min(date(year, 3, 1), today),
                    amount=Decimal(600_000 if over else 400_000),
                    start_date=date(year, 4, 1),
                    end_date=date(year + 2, 3, 31),
                    status_on=min(date(year, 3, 1), today),
                )
            )
            if year == this_year or rng.random() < 0.02:  # the running year, or never started
                continue
            draw = rng.random()
            status = (
                Workflow.DRAFT
                if draw < 0.02
                else Workflow.RETURNED
                if draw < 0.03
                else Workflow.SUBMITTED
                if draw < 0.06
                else Workflow.ACCEPTED
            )
            comment = "Add the figures of the second half year." if status == Workflow.RETURNED else ""
            reports.append(
                AnnualReport(
                    cluster=cluster, year=year, status=status, review_comment=comment, due_on=date(year + 1, 3, 31)
                )
            )
    AnnualPlan.objects.bulk_create(plans, batch_size=5000)
    AnnualReport.objects.bulk_create(reports, batch_size=5000)
    Allocation.objects.bulk_create(allocations, batch_size=5000)
    Project.objects.bulk_create(projects, batch_size=5000)
    counts.update(plans=len(plans), reports=len(reports), allocations=len(allocations), projects=len(projects))

    events: list[ReportEvent] = []
    for report in reports:
        submitted = _at(report.due_on - timedelta(days=20))
        reviewed = _at(report.due_on + timedelta(days=30))
        if report.status != Workflow.DRAFT:
            events.append(ReportEvent(report=report, from_status=Workflow.DRAFT, to_status="submitted", at=submitted))
        if report.status in (Workflow.ACCEPTED, Workflow.RETURNED):
            events.append(ReportEvent(report=report, from_status="submitted", to_status=report.status, at=reviewed))
    counts["report events"] = len(ReportEvent.objects.bulk_create(events, batch_size=5000))

    def figures(model: type[KpiTarget] | type[KpiValue], documents: list, field: str) -> int:
        written = 0
        batch: list = []
        for document in documents:
            for kpi in kpis:
                value = Decimal(rng.randint(0, 500))
                batch.append(model(cluster_id=document.cluster_id, year=document.year, kpi=kpi, value=value))
                setattr(batch[-1], field, document)
            if len(batch) >= 10_000:
                written += len(model.objects.bulk_create(batch))
                batch = []
        return written + len(model.objects.bulk_create(batch))

    counts["KPI targets"] = figures(KpiTarget, plans, "plan")
    counts["KPI values"] = figures(KpiValue, reports, "report")
    return counts
