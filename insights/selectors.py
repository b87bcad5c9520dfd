"""The briefing: the five questions of the parliamentary question, answered from the data as of a day.

Every figure is replayed as of `as_of`: a report accepted later shows as submitted (its workflow
steps are stored with their times), an evaluation completed later shows in its earlier stage (each
stage keeps the day it was reached), an agreement or pact signed later is not there yet. The
number of queries does not depend on the number of clusters.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Required, TypedDict

from django.db.models import Q, QuerySet

from clusterpacts.models import (
    Cluster,
    ClusterPact,
    KpiDefinition,
    KpiTarget,
    KpiValue,
    ReportEvent,
    Workflow,
)
from clusterpacts.selectors import (
    DerivedFigures,
    ReportSlot,
    derived_figures,
    report_slots,
    report_status_on,
)
from core.roles import User
from evaluations.models import Evaluation, Lesson, Stage
from funding.selectors import AgreementStanding, BudgetYearFigures, agreement_standings, budget_years

# --- what the briefing answers, block by block ------------------------------------------------------


class EvaluationItem(TypedDict):
    id: int
    title: str
    kind: str
    period_start: date
    period_end: date
    stage: str
    completed_on: date | None
    conclusion: str


class EvaluationsRow(TypedDict):
    cluster: int
    cluster_name: str
    evaluations: list[EvaluationItem]


class ReportItem(TypedDict):
    year: int
    status: str
    due_on: date
    overdue: bool


class ReportsRow(TypedDict):
    cluster: int
    cluster_name: str
    reports: list[ReportItem]


class KpiItem(TypedDict):
    code: str
    name: str
    unit: str
    target: Decimal | None
    value: Decimal | None
    official: bool
    achievement: Decimal | None


class KpisRow(TypedDict):
    cluster: int
    cluster_name: str
    year: int
    kpis: list[KpiItem]


class LessonItem(TypedDict):
    kind: str
    text: str
    follow_up: str
    evaluation: int
    carried_into_version: int | None
    carried_into_signed_on: date | None


class LessonsRow(TypedDict):
    cluster: int
    cluster_name: str
    lessons: list[LessonItem]


class RenewalRow(TypedDict, total=False):
    cluster: Required[int]
    cluster_name: Required[str]
    agreement: Required[str | None]  # None: no agreement had started by the day (and nothing else is said)
    start_date: date
    end_date: date
    cap_date: date
    final_term: bool
    renewal_due: bool
    reaches_cap_within_a_year: bool
    state: str


class Briefing(TypedDict):
    as_of: date
    evaluations: list[EvaluationsRow]
    reports: list[ReportsRow]
    kpis: list[KpisRow]
    lessons: list[LessonsRow]
    renewals: list[RenewalRow]
    budget: list[BudgetYearFigures]


class KpiPoint(TypedDict):
    year: int
    target: Decimal | None
    value: Decimal | None
    status: str | None  # "accepted", "pending" (submitted), "derived" (from the memberships), or None (no figure)
    achievement: Decimal | None


class KpiSeries(TypedDict):
    kpi: KpiDefinition
    years: list[KpiPoint]


class ClusterSeries(TypedDict):
    cluster: int
    cluster_name: str
    slug: str
    years: list[KpiPoint]


def briefing(*, user: User, as_of: date, clusters: QuerySet[Cluster] | None = None) -> Briefing:
    """The five questions as of `as_of`, for what `user` may see (narrowed to `clusters` if given).

    Every block reads only the user's clusters: a cluster manager's briefing names no other cluster
    and no amount that is not theirs (the budget's reservations are their own; what the envelope has
    left, and the other initiatives, are left out for them).
    """
    scoped = Cluster.objects.for_user(user) if clusters is None else clusters & Cluster.objects.for_user(user)
    started = list(scoped.filter(Q(started_on__isnull=True) | Q(started_on__lte=as_of)).order_by("name"))
    ids = [c.pk for c in started]
    return Briefing(
        as_of=as_of,
        evaluations=_evaluations(started, ids, as_of),
        reports=_reports(started, ids, as_of),
        kpis=_kpis(started, ids, as_of),
        lessons=_lessons(started, ids, as_of),
        renewals=_renewals(started, ids, as_of),
        budget=budget_years(user=user, from_year=as_of.year, as_of=as_of),
    )


def _evaluations(clusters: list[Cluster], ids: list[int], as_of: date) -> list[EvaluationsRow]:
    by_cluster: dict[int, list[Evaluation]] = defaultdict(list)
    known = Q(registered_on__lte=as_of) | Q(registered_on__isnull=True, period_start__lte=as_of)
    for evaluation in Evaluation.objects.filter(known, cluster_id__in=ids).order_by("period_start"):
        by_cluster[evaluation.cluster_id].append(evaluation)
    rows = []
    for cluster in clusters:
        items = []
        for evaluation in by_cluster[cluster.pk]:
            stage = evaluation.stage_on(as_of)
            completed = stage == Stage.COMPLETED
            items.append(
                EvaluationItem(
                    id=evaluation.pk,
                    title=evaluation.title or evaluation.get_kind_display(),
                    kind=evaluation.kind,
                    period_start=evaluation.period_start,
                    period_end=evaluation.period_end,
                    stage=stage,
                    completed_on=evaluation.completed_on if completed else None,
                    conclusion=evaluation.conclusion if completed else "",
                )
            )
        rows.append(EvaluationsRow(cluster=cluster.pk, cluster_name=cluster.name, evaluations=items))
    return rows


def _last_working_year(as_of: date) -> int:
    return as_of.year - 1


def _reports(clusters: list[Cluster], ids: list[int], as_of: date) -> list[ReportsRow]:
    """The report slots of the last two working years, the last first (`clusterpacts.selectors.report_slots`)."""
    last = _last_working_year(as_of)
    slots: dict[int, list[ReportSlot]] = defaultdict(list)
    for slot in report_slots(clusters=Cluster.objects.filter(pk__in=ids), as_of=as_of, years=(last - 1, last)):
        slots[slot.cluster_id].insert(0, slot)
    return [
        ReportsRow(
            cluster=cluster.pk,
            cluster_name=cluster.name,
            reports=[
                ReportItem(year=slot.year, status=slot.status, due_on=slot.due_on, overdue=slot.overdue)
                for slot in slots[cluster.pk]
            ],
        )
        for cluster in clusters
    ]


def _kpis(clusters: list[Cluster], ids: list[int], as_of: date) -> list[KpisRow]:
    """For the last working year: target, value and achievement per KPI; only accepted values are official."""
    year = _last_working_year(as_of)
    kpis = list(KpiDefinition.objects.filter(active=True).order_by("position", "code"))
    targets = {(t.cluster_id, t.kpi_id): t.value for t in KpiTarget.objects.filter(cluster_id__in=ids, year=year)}
    values = list(KpiValue.objects.filter(cluster_id__in=ids, year=year))
    events: dict[int, list[ReportEvent]] = defaultdict(list)
    for event in ReportEvent.objects.filter(report_id__in={v.report_id for v in values}).order_by("at", "id"):
        events[event.report_id].append(event)
    by_key = {(v.cluster_id, v.kpi_id): v for v in values}
    # The derived KPIs come from the memberships at the year's end, not from what a report holds.
    derived = derived_figures(cluster_ids=ids, years=[year], as_of=as_of) if any(k.is_derived for k in kpis) else {}
    rows = []
    for cluster in clusters:
        items = []
        for kpi in kpis:
            if kpi.is_derived:
                shown = derived[cluster.pk, year].value(kpi.code)
                status = "accepted" if shown is not None else None  # computed, so official, never pending
            else:
                value = by_key.get((cluster.pk, kpi.pk))
                status = report_status_on(events[value.report_id], as_of) if value else None
                shown = value.value if value and status in ("submitted", "accepted") else None
            target = targets.get((cluster.pk, kpi.pk))
            items.append(
                KpiItem(
                    code=kpi.code,
                    name=kpi.name,
                    unit=kpi.unit,
                    target=target,
                    value=shown,
                    official=status == "accepted",
                    achievement=kpi.achievement(shown, target),
                )
            )
        rows.append(KpisRow(cluster=cluster.pk, cluster_name=cluster.name, year=year, kpis=items))
    return rows


def _lessons(clusters: list[Cluster], ids: list[int], as_of: date) -> list[LessonsRow]:
    lessons = (
        Lesson.objects.filter(evaluation__cluster_id__in=ids, evaluation__completed_on__lte=as_of)
        .select_related("evaluation", "carried_into")
        .order_by("evaluation__completed_on", "kind", "id")
    )
    by_cluster: dict[int, list[LessonItem]] = defaultdict(list)
    for lesson in lessons:
        pact: ClusterPact | None = lesson.carried_into
        carried = pact is not None and pact.signed_on is not None and pact.signed_on <= as_of
        by_cluster[lesson.evaluation.cluster_id].append(
            LessonItem(
                kind=lesson.kind,
                text=lesson.text,
                follow_up=lesson.follow_up,
                evaluation=lesson.evaluation_id,
                carried_into_version=pact.version if pact and carried else None,
                carried_into_signed_on=pact.signed_on if pact and carried else None,
            )
        )
    return [
        LessonsRow(cluster=cluster.pk, cluster_name=cluster.name, lessons=by_cluster[cluster.pk])
        for cluster in clusters
    ]


def _renewals(clusters: list[Cluster], ids: list[int], as_of: date) -> list[RenewalRow]:
    standings = agreement_standings(clusters=Cluster.objects.filter(pk__in=ids), as_of=as_of)
    rows = []
    for cluster in clusters:
        standing = standings.get(cluster.pk)
        if standing is None:
            rows.append(RenewalRow(cluster=cluster.pk, cluster_name=cluster.name, agreement=None))
            continue
        rows.append(
            RenewalRow(
                cluster=cluster.pk,
                cluster_name=cluster.name,
                agreement=standing.agreement.reference,
                start_date=standing.agreement.start_date,
                end_date=standing.agreement.end_date,
                cap_date=standing.cap_date,
                final_term=standing.final_term,
                renewal_due=standing.renewal_due,
                # The scan's "cap approaching": the cap is within the cap window (a setting, a year by
                # default), or the renewal now due is the last one possible.
                reaches_cap_within_a_year=standing.cap_approaching,
                state=renewal_state(standing),
            )
        )
    return rows


def renewal_state(standing: AgreementStanding) -> str:
    """What the briefing says of a chain on its day: in its final term, renewal due, running, or ended
    (on the cap, or for an inactive cluster that is no longer chased)."""
    if standing.final_term:
        return "final_term"
    if standing.renewal_due:
        return "renewal_due"
    return "running" if standing.running else "ended"


# --- one cluster over the years (the cluster page) -------------------------------------------------


class KpiPoints:
    """Targets and reported values of some clusters, KPIs and years, read in two queries (three with a
    derived KPI).

    Values of reports still in draft or returned are not figures yet and are left out; a submitted
    report's values are pending until an officer accepts them. A derived KPI's value is computed from the
    memberships at the year's end (`clusterpacts.selectors.derived_figures`, status "derived"), whatever
    a report holds for it. Achievement respects the KPI's direction.
    """

    def __init__(self, *, cluster_ids: list[int], kpis: list[KpiDefinition], years: list[int]) -> None:
        scope = {"cluster_id__in": cluster_ids, "kpi__in": kpis, "year__in": years}
        self.targets = {(t.cluster_id, t.kpi_id, t.year): t.value for t in KpiTarget.objects.filter(**scope)}
        self.values = {
            (v.cluster_id, v.kpi_id, v.year): (v.value, v.report.status)
            for v in KpiValue.objects.filter(
                **scope, report__status__in=(Workflow.SUBMITTED, Workflow.ACCEPTED)
            ).select_related("report")
        }
        self.derived: dict[tuple[int, int], DerivedFigures] = (
            derived_figures(cluster_ids=cluster_ids, years=years) if any(k.is_derived for k in kpis) else {}
        )

    def point(self, cluster_id: int, kpi: KpiDefinition, year: int) -> KpiPoint:
        target = self.targets.get((cluster_id, kpi.pk, year))
        if kpi.is_derived:
            value = self.derived[cluster_id, year].value(kpi.code)
            status = "derived" if value is not None else None
        else:
            value, stored = self.values.get((cluster_id, kpi.pk, year), (None, None))
            status = "accepted" if stored == Workflow.ACCEPTED else ("pending" if stored else None)
        return KpiPoint(
            year=year, target=target, value=value, status=status, achievement=kpi.achievement(value, target)
        )


def kpi_evolution(*, cluster: Cluster, years: list[int]) -> list[KpiSeries]:
    """For every active KPI of one cluster: target, value and achievement per year."""
    kpis = list(KpiDefinition.objects.filter(active=True).order_by("position", "code"))
    points = KpiPoints(cluster_ids=[cluster.pk], kpis=kpis, years=years)
    return [KpiSeries(kpi=kpi, years=[points.point(cluster.pk, kpi, year) for year in years]) for kpi in kpis]


def kpi_comparison(*, clusters: list[Cluster], kpi: KpiDefinition, years: list[int]) -> list[ClusterSeries]:
    """One KPI across clusters: target, value and achievement per cluster and year."""
    points = KpiPoints(cluster_ids=[c.pk for c in clusters], kpis=[kpi], years=years)
    return [
        ClusterSeries(
            cluster=cluster.pk,
            cluster_name=cluster.name,
            slug=cluster.slug,
            years=[points.point(cluster.pk, kpi, year) for year in years],
        )
        for cluster in clusters
    ]


def members_by_year(*, cluster: Cluster, years: list[int], today: date) -> list[DerivedFigures]:
    """Members, paying members and SME share at each year's end (today for the running year): the
    figures the derived KPIs are computed from (`clusterpacts.selectors.derived_figures`)."""
    derived = derived_figures(cluster_ids=[cluster.pk], years=years, as_of=today)
    return [derived[cluster.pk, year] for year in years]
