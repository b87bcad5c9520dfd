"""The briefing: the five questions of the parliamentary question, answered from the data as of a day.

Every figure is replayed as of `as_of`: a report accepted later shows as submitted (its workflow
steps are stored with their times), an evaluation completed later shows in its earlier stage (each
stage keeps the day it was reached), an agreement or pact signed later is not there yet. The
number of queries does not depend on the number of clusters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple, Required, TypedDict

from django.db.models import Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext, ngettext

from clusterpacts.models import (
    AnnualReport,
    Cluster,
    ClusterPact,
    KpiDefinition,
    KpiTarget,
    KpiTargetTally,
    KpiValue,
    Workflow,
)
from clusterpacts.selectors import (
    DerivedFigures,
    ReportSlot,
    accepted_by,
    cluster_start_year,
    derived_figures,
    pact_versions_on,
    report_slots,
    status_on,
    submitted_report_count,
)
from core.roles import User
from evaluations.models import Evaluation, Lesson, Stage
from funding.models import Project
from funding.selectors import (
    AgreementStanding,
    BudgetYearFigures,
    ReservationUse,
    agreement_chains,
    agreement_standings,
    budget_years,
    next_renewal_on,
    reservation_use,
    reservations_exceeded,
)

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
    """A KPI of one cluster: the figures of the last working year, and `years`, every working year from the
    cluster's start to the last one ended by the day (its evolution)."""

    code: str
    name: str
    unit: str
    target: Decimal | None
    value: Decimal | None
    official: bool
    achievement: Decimal | None
    years: list[KpiPoint]


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
    evaluation_title: str
    carried_into_version: int | None
    carried_into_signed_on: date | None


class LessonsRow(TypedDict):
    cluster: int
    cluster_name: str
    lessons: list[LessonItem]


class EvaluationRef(TypedDict):
    id: int
    title: str
    completed_on: date


class ChainItem(TypedDict):
    reference: str
    start_date: date
    end_date: date
    signed_on: date | None
    extends: str | None  # the predecessor's reference; None for the chain's first agreement
    rests_on: EvaluationRef | None  # the completed interim evaluation that allowed the extension


class PactItem(TypedDict):
    version: int
    signed_on: date
    current: bool


class RenewalRow(TypedDict, total=False):
    cluster: Required[int]
    cluster_name: Required[str]
    agreement: Required[str | None]  # None: no agreement had started by the day (the chain may list one to come)
    first_start: Required[date | None]
    chain: Required[list[ChainItem]]  # signed by the day, by start date (an extension signed ahead included)
    pacts: Required[list[PactItem]]  # versions signed by the day
    next_renewal_on: Required[date | None]  # the day an extension of the chain's last agreement would start
    start_date: date
    end_date: date
    cap_date: date
    final_term: bool
    renewal_due: bool
    reaches_cap_within_a_year: bool
    state: str


class ExceededItem(TypedDict):
    cluster: int
    cluster_name: str
    over: Decimal  # decided in projects by the day beyond the reservation


class SummaryFigures(TypedDict):
    clusters: int  # started by the day, in the reader's scope: every figure below counts them all
    evaluations_completed: int
    reports_pending: int  # submitted, not accepted by the day
    kpi_targets_met: int
    kpi_targets_measured: int  # points with a target and an accepted value
    budget_year: int | None  # the day's year, when it has a budget
    budget_envelope: Decimal | None
    budget_committed: Decimal | None  # what the reader sees allocated of it by the day
    projects_decided: Decimal | None  # decided in projects of that year by the day, against the reservations
    inter_cluster_decided: Decimal | None  # and against the inter-cluster allocation
    reservations_exceeded: list[ExceededItem]  # the first EXCEEDED_LISTED of that year more was decided against
    reservations_exceeded_count: int  # how many there are in all


class BriefingDetail(TypedDict):
    """Which clusters the per-cluster blocks (evaluations, reports, KPIs, lessons, renewals, reservations)
    detail: a page of `page_size` of the `clusters` the detail runs over, by name."""

    page: int
    pages: int
    page_size: int
    clusters: int
    first: int  # the position of the page's first cluster (1-based; 0 without any)
    last: int
    chosen: bool  # the detail is of clusters asked for by name, not of the whole programme


class Briefing(TypedDict):
    as_of: date
    summary: str
    summary_figures: SummaryFigures
    detail: BriefingDetail
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


# The briefing details this many clusters a page (10 by default, at most 100); the summary counts them all: a
# page of a KPI table for every cluster and year runs to some 45 kB of HTML per cluster.
BRIEFING_PAGE_SIZE = 10
BRIEFING_MAX_PAGE_SIZE = 100
# The summary names at most this many exceeded reservations (and says how many more there are).
EXCEEDED_LISTED = 10


def briefing(
    *,
    user: User,
    as_of: date,
    clusters: QuerySet[Cluster] | None = None,
    detail_of: QuerySet[Cluster] | None = None,
    page: int = 1,
    page_size: int | None = None,
) -> Briefing:
    """The five questions as of `as_of`, for what `user` may see (narrowed to `clusters` if given), with a
    summary paragraph in the active language.

    The summary answers for the whole programme with aggregates counted in the database (clusters,
    evaluations completed, reports pending, KPI targets met, the year's budget). The per-cluster blocks
    detail one page of `page_size` clusters by name (`page`, the nearest when out of range), or of the
    clusters of `detail_of`: a programme of 3,000 clusters is answered a page at a time, one of 7 on its
    first page (`page_size`: `BRIEFING_PAGE_SIZE` by default). The budget's totals count every reservation;
    its reservations listed are the page's.

    Every block reads only the user's clusters: a cluster manager's briefing names no other cluster
    and no amount that is not theirs (the budget's reservations are their own; what the envelope has
    left, and the other initiatives, are left out for them). The number of queries depends neither on
    the number of clusters nor on the number of years.
    """
    scoped = Cluster.objects.for_user(user) if clusters is None else clusters & Cluster.objects.for_user(user)
    programme = scoped.filter(Q(started_on__isnull=True) | Q(started_on__lte=as_of))
    detailed = programme if detail_of is None else programme & detail_of
    count = detailed.count()
    page_size = max(1, min(page_size or BRIEFING_PAGE_SIZE, BRIEFING_MAX_PAGE_SIZE))
    pages = max(1, -(-count // page_size))
    page = max(1, min(page, pages))
    offset = (page - 1) * page_size
    started = list(detailed.order_by("name", "pk")[offset : offset + page_size])
    ids = [c.pk for c in started]
    slots = report_slots(clusters=Cluster.objects.filter(pk__in=ids), as_of=as_of)
    budget = [
        year
        for year in budget_years(user=user, from_year=as_of.year, as_of=as_of, clusters=ids)
        # The day's year and the next (its budget in preparation) by their envelope, marked when nothing of
        # them was decided yet; a later year only once something of it had been decided by the day.
        if year.year <= as_of.year + 1 or year.decided
    ]
    figures = summary_figures(
        user=user, clusters=programme, budget=budget, as_of=as_of, count=count if detail_of is None else None
    )
    return Briefing(
        as_of=as_of,
        summary=summary_text(figures, as_of),
        summary_figures=figures,
        detail=BriefingDetail(
            page=page,
            pages=pages,
            page_size=page_size,
            clusters=count,
            first=offset + 1 if started else 0,
            last=offset + len(started),
            chosen=detail_of is not None,
        ),
        evaluations=_evaluations(started, ids, as_of),
        reports=_reports(started, slots, as_of),
        kpis=_kpis(started, as_of),
        lessons=_lessons(started, ids, as_of),
        renewals=_renewals(started, ids, as_of),
        budget=budget,
    )


def summary_figures(
    *, user: User, clusters: QuerySet[Cluster], budget: list[BudgetYearFigures], as_of: date, count: int | None = None
) -> SummaryFigures:
    """The figures of the opening paragraph for `clusters` (started by the day, in scope), counted in the
    database whatever their number: the evaluations completed by the day (`Evaluation.stage_on`), the
    reports submitted and not accepted by then (their status replayed, `status_on`), the KPI targets met of
    those with an accepted value (`kpi_targets_met`), and the day's budget year from `budget`. `count`: the
    number of `clusters`, when the caller has counted them already."""
    completed = (
        Evaluation.objects.known_on(as_of).filter(cluster__in=clusters.values("pk"), completed_on__lte=as_of).count()
    )
    met, measured = kpi_targets_met(clusters=clusters, as_of=as_of)
    year = next((y for y in budget if y.year == as_of.year), None)
    committed = None
    exceeded: list[ExceededItem] = []
    exceeded_count = 0
    if year is not None:
        committed = year.reserved + year.inter_cluster + (year.other or Decimal(0))
        over = reservations_exceeded(user=user, year=year.year, as_of=as_of)
        exceeded = [
            ExceededItem(cluster=r.cluster, cluster_name=r.cluster_name, over=r.over) for r in over[:EXCEEDED_LISTED]
        ]
        exceeded_count = len(over)
    return SummaryFigures(
        clusters=clusters.count() if count is None else count,
        evaluations_completed=completed,
        reports_pending=submitted_report_count(clusters=clusters, as_of=as_of),
        kpi_targets_met=met,
        kpi_targets_measured=measured,
        budget_year=year.year if year else None,
        budget_envelope=year.envelope if year else None,
        budget_committed=committed,
        projects_decided=year.projects_decided if year else None,
        inter_cluster_decided=year.inter_cluster_decided if year else None,
        reservations_exceeded=exceeded,
        reservations_exceeded_count=exceeded_count,
    )


def kpi_targets_met(*, clusters: QuerySet[Cluster], as_of: date) -> tuple[int, int]:
    """(met, measured): of the points of the briefing's KPI evolution (every active reported KPI of each
    cluster, every working year from its start to the last one ended by the day) with an accepted value by
    the day (`accepted_by`) and a target to measure it against, how many reached 100 % -- the sum of the
    stored tallies of the reports accepted by the day (`KpiTargetTally`; what counts as measured and met is
    `clusterpacts.selectors.kpi_target_tallies`), one query over some 30,000 rows at 3,000 clusters."""
    last = as_of.year - 1
    totals = (
        KpiTargetTally.objects.filter(cluster__in=clusters.values("pk"), year__lte=last, report__in=accepted_by(as_of))
        # The evolution runs from the cluster's start year (the last working year only without a start day).
        .filter(Q(year__gte=cluster_start_year()) | Q(cluster__started_on__isnull=True, year=last))
        .aggregate(measured=Sum("measured", default=0), met=Sum("met", default=0))
    )
    return totals["met"], totals["measured"]


def _millions(amount: Decimal) -> str:
    """75 M EUR, 8 M EUR, 14,2 M EUR: how a reply states an amount (one that would round to 0 M EUR, in full:
    20.000 EUR)."""
    if 0 < abs(amount) < Decimal(50_000):
        return number_format(amount, decimal_pos=0, use_l10n=True, force_grouping=True) + " EUR"
    million = amount / Decimal(1_000_000)
    whole = million == million.to_integral_value()
    return number_format(million, decimal_pos=0 if whole else 1, use_l10n=True, force_grouping=True) + " M EUR"


def summary_text(figures: SummaryFigures, as_of: date) -> str:
    """The briefing in one paragraph, in the active language, to open a reply with."""
    day = date_format(as_of, "j F Y")
    parts = [
        ngettext(
            "On %(day)s the portal follows %(count)s spearhead cluster.",
            "On %(day)s the portal follows %(count)s spearhead clusters.",
            figures["clusters"],
        )
        % {"day": day, "count": figures["clusters"]},
        ngettext(
            "%(count)s evaluation of the cluster pacts has been completed.",
            "%(count)s evaluations of the cluster pacts have been completed.",
            figures["evaluations_completed"],
        )
        % {"count": figures["evaluations_completed"]},
        ngettext(
            "%(count)s annual report has been submitted and is still being processed.",
            "%(count)s annual reports have been submitted and are still being processed.",
            figures["reports_pending"],
        )
        % {"count": figures["reports_pending"]},
    ]
    if figures["kpi_targets_measured"]:
        parts.append(
            gettext("Of the %(measured)s KPI targets with an accepted value, %(met)s were met.")
            % {"measured": figures["kpi_targets_measured"], "met": figures["kpi_targets_met"]}
        )
    if figures["budget_year"] is not None and figures["budget_envelope"] is not None:
        parts.append(
            gettext("For %(year)s, %(envelope)s is foreseen, of which %(committed)s has been committed.")
            % {
                "year": figures["budget_year"],
                "envelope": _millions(figures["budget_envelope"]),
                "committed": _millions(figures["budget_committed"] or Decimal(0)),
            }
        )
        decided = figures["projects_decided"] or Decimal(0)
        inter = figures["inter_cluster_decided"] or Decimal(0)
        if decided or inter:
            parts.append(
                gettext(
                    "Projects worth %(decided)s were decided against the clusters' reservations of %(year)s, and "
                    "%(inter)s against the inter-cluster allocation."
                )
                % {"year": figures["budget_year"], "decided": _millions(decided), "inter": _millions(inter)}
            )
        else:
            parts.append(gettext("No project of %(year)s has been decided yet.") % {"year": figures["budget_year"]})
        exceeded = figures["reservations_exceeded"]
        if exceeded:
            named = "; ".join(
                gettext("%(cluster)s by %(over)s") % {"cluster": e["cluster_name"], "over": _millions(e["over"])}
                for e in exceeded
            )
            count = max(figures["reservations_exceeded_count"], len(exceeded))
            if count > len(exceeded):
                # A large programme: the first ones by name, and how many more (the detail lists them all).
                named += "; " + ngettext("and %(count)s other", "and %(count)s others", count - len(exceeded)) % {
                    "count": count - len(exceeded)
                }
            parts.append(
                ngettext(
                    "%(count)s reservation was exceeded: %(list)s.",
                    "%(count)s reservations were exceeded: %(list)s.",
                    count,
                )
                % {"count": count, "list": named}
            )
    return " ".join(parts)


def _evaluations(clusters: list[Cluster], ids: list[int], as_of: date) -> list[EvaluationsRow]:
    by_cluster: dict[int, list[Evaluation]] = defaultdict(list)
    for evaluation in Evaluation.objects.known_on(as_of).filter(cluster_id__in=ids).order_by("period_start"):
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


def _reports(clusters: list[Cluster], slots: list[ReportSlot], as_of: date) -> list[ReportsRow]:
    """The report slots of the last two working years, the last first (`clusterpacts.selectors.report_slots`)."""
    last = _last_working_year(as_of)
    by_cluster: dict[int, list[ReportSlot]] = defaultdict(list)
    for slot in slots:
        if slot.year in (last - 1, last):
            by_cluster[slot.cluster_id].insert(0, slot)
    return [
        ReportsRow(
            cluster=cluster.pk,
            cluster_name=cluster.name,
            reports=[
                ReportItem(year=slot.year, status=slot.status, due_on=slot.due_on, overdue=slot.overdue)
                for slot in by_cluster[cluster.pk]
            ],
        )
        for cluster in clusters
    ]


def _kpis(clusters: list[Cluster], as_of: date) -> list[KpisRow]:
    """Per cluster and KPI: target, value and achievement of every working year from the cluster's start to
    the last one ended by the day (`KpiPoints`, replayed as of the day), and of the last one on its own."""
    last = _last_working_year(as_of)
    first = min((c.started_on.year for c in clusters if c.started_on), default=last)
    kpis = list(KpiDefinition.objects.filter(active=True).order_by("position", "code"))
    points = KpiPoints(
        cluster_ids=[c.pk for c in clusters], kpis=kpis, years=list(range(min(first, last), last + 1)), as_of=as_of
    )
    rows = []
    for cluster in clusters:
        years = range(cluster.started_on.year if cluster.started_on else last, last + 1)
        items = []
        for kpi in kpis:
            series = [points.point(cluster.pk, kpi, year) for year in years]
            latest = points.point(cluster.pk, kpi, last)
            items.append(
                KpiItem(
                    code=kpi.code,
                    name=kpi.name,
                    unit=kpi.unit,
                    target=latest["target"],
                    value=latest["value"],
                    official=latest["status"] in ("accepted", "derived"),  # computed: official, never pending
                    achievement=latest["achievement"],
                    years=series,
                )
            )
        rows.append(KpisRow(cluster=cluster.pk, cluster_name=cluster.name, year=last, kpis=items))
    return rows


def _lessons(clusters: list[Cluster], ids: list[int], as_of: date) -> list[LessonsRow]:
    lessons = (
        Lesson.objects.filter(evaluation__cluster_id__in=ids, evaluation__completed_on__lte=as_of)
        .select_related("evaluation", "carried_into")
        .order_by("evaluation__completed_on", "kind", "id")
    )
    by_cluster: dict[int, list[LessonItem]] = defaultdict(list)
    for lesson in lessons:
        pact: ClusterPact | None = lesson.carried_into_on(as_of)
        by_cluster[lesson.evaluation.cluster_id].append(
            LessonItem(
                kind=lesson.kind,
                text=lesson.text,
                follow_up=lesson.follow_up,
                evaluation=lesson.evaluation_id,
                evaluation_title=lesson.evaluation.title or lesson.evaluation.get_kind_display(),
                carried_into_version=pact.version if pact else None,
                carried_into_signed_on=pact.signed_on if pact else None,
            )
        )
    return [
        LessonsRow(cluster=cluster.pk, cluster_name=cluster.name, lessons=by_cluster[cluster.pk])
        for cluster in clusters
    ]


def _renewals(clusters: list[Cluster], ids: list[int], as_of: date) -> list[RenewalRow]:
    """Per cluster: the chain of agreements signed by the day (each extension with the interim evaluation it
    rests on), where the running one stands (`funding.selectors.agreement_standings`), the next renewal and
    the cap date, and the pact versions signed by the day."""
    scope = Cluster.objects.filter(pk__in=ids)
    standings = agreement_standings(clusters=scope, as_of=as_of)
    chains = agreement_chains(clusters=scope, as_of=as_of)
    pacts = pact_versions_on(clusters=scope, as_of=as_of)
    rows = []
    for cluster in clusters:
        chain = chains.get(cluster.pk, [])
        by_pk = {link.agreement.pk: link.agreement.reference for link in chain}
        row = RenewalRow(
            cluster=cluster.pk,
            cluster_name=cluster.name,
            agreement=None,
            first_start=chain[0].agreement.chain_start if chain else None,
            chain=[
                ChainItem(
                    reference=link.agreement.reference,
                    start_date=link.agreement.start_date,
                    end_date=link.agreement.end_date,
                    signed_on=link.agreement.signed_on,
                    extends=by_pk.get(link.agreement.predecessor_id) if link.agreement.predecessor_id else None,
                    rests_on=EvaluationRef(
                        id=link.rests_on.id, title=link.rests_on.title, completed_on=link.rests_on.completed_on
                    )
                    if link.rests_on
                    else None,
                )
                for link in chain
            ],
            pacts=[
                PactItem(version=p.version, signed_on=p.signed_on, current=p.current)
                for p in pacts.get(cluster.pk, [])
            ],
            next_renewal_on=next_renewal_on(chain),
        )
        standing = standings.get(cluster.pk)
        if standing is not None:
            row["agreement"] = standing.agreement.reference
            row["start_date"] = standing.agreement.start_date
            row["end_date"] = standing.agreement.end_date
            row["cap_date"] = standing.cap_date
            row["final_term"] = standing.final_term
            row["renewal_due"] = standing.renewal_due
            # The scan's "cap approaching": the cap is within the cap window (a setting, a year by default),
            # or the renewal now due is the last one possible.
            row["reaches_cap_within_a_year"] = standing.cap_approaching
            row["state"] = renewal_state(standing)
        rows.append(row)
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
    """Targets and reported values of some clusters, KPIs and years as of a day, read in three queries (more
    with a derived KPI), as plain figures (no model instance per value).

    A value counts by the status its report had at the end of `as_of`, replayed from the report's workflow
    steps in the database (`status_on`, as `report_slots` does): a report submitted by then is pending, one accepted
    by then is official; a draft or returned report's values are not figures yet and are left out. A derived
    KPI's value is computed from the memberships at the year's end, or on `as_of` while that year runs
    (`clusterpacts.selectors.derived_figures`, status "derived"), whatever a report holds for it.
    Achievement respects the KPI's direction. The briefing, the cluster page and the comparison read this.
    """

    def __init__(
        self,
        *,
        cluster_ids: list[int],
        kpis: list[KpiDefinition],
        years: list[int],
        as_of: date | None = None,
        clusters: QuerySet[Cluster] | None = None,
    ) -> None:
        """`clusters`: the same clusters as a queryset, to filter on in a subquery rather than a list of
        thousands of ids (each a parameter Django prepares)."""
        as_of = as_of or timezone.localdate()
        in_scope = clusters.values("pk") if clusters is not None else cluster_ids
        scope = {"cluster_id__in": in_scope, "kpi__in": kpis, "year__in": years}
        self.targets: dict[tuple[int, int, int], Decimal] = {
            (cluster_id, kpi_id, year): value
            for cluster_id, kpi_id, year, value in KpiTarget.objects.filter(**scope)
            .order_by()
            .values_list("cluster_id", "kpi_id", "year", "value")
        }
        # Each report's status of the day once (`status_on`, in the database), not once per value.
        status = dict(
            AnnualReport.objects.filter(pk__in=KpiValue.objects.filter(**scope).values("report_id"))
            .annotate(status_as_of=status_on("report", as_of))
            .filter(status_as_of__in=(Workflow.SUBMITTED, Workflow.ACCEPTED))
            .order_by()
            .values_list("pk", "status_as_of")
        )
        self.values: dict[tuple[int, int, int], tuple[Decimal, str]] = {
            (cluster_id, kpi_id, year): (value, status[report_id])
            for cluster_id, kpi_id, year, value, report_id in KpiValue.objects.filter(**scope)
            .order_by()
            .values_list("cluster_id", "kpi_id", "year", "value", "report_id")
            if report_id in status
        }
        self.derived: dict[tuple[int, int], DerivedFigures] = (
            derived_figures(
                cluster_ids=cluster_ids,
                years=years,
                as_of=as_of,
                codes=[k.code for k in kpis if k.is_derived],
                clusters=clusters,
            )
            if any(k.is_derived for k in kpis)
            else {}
        )

    def point(self, cluster_id: int, kpi: KpiDefinition, year: int) -> KpiPoint:
        target = self.targets.get((cluster_id, kpi.pk, year))
        if kpi.is_derived:
            derived = self.derived.get((cluster_id, year))  # a year not asked for has no figure
            value = derived.value(kpi.code) if derived is not None else None
            status = "derived" if value is not None else None
        else:
            value, stored = self.values.get((cluster_id, kpi.pk, year), (None, None))
            status = "accepted" if stored == Workflow.ACCEPTED else ("pending" if stored else None)
        return KpiPoint(
            year=year, target=target, value=value, status=status, achievement=kpi.achievement(value, target)
        )


def kpi_evolution(*, cluster: Cluster, years: list[int], as_of: date | None = None) -> list[KpiSeries]:
    """For every active KPI of one cluster: target, value and achievement per year, as of a day (today)."""
    kpis = list(KpiDefinition.objects.filter(active=True).order_by("position", "code"))
    points = KpiPoints(cluster_ids=[cluster.pk], kpis=kpis, years=years, as_of=as_of)
    return [KpiSeries(kpi=kpi, years=[points.point(cluster.pk, kpi, year) for year in years]) for kpi in kpis]


class ClusterRef(NamedTuple):
    """What the comparison names a cluster by: a row of `values_list("pk", "name", "slug")`, lighter than a
    model instance when every cluster of a large programme is ranked."""

    pk: int
    name: str
    slug: str


def kpi_comparison(
    *,
    clusters: Sequence[Cluster | ClusterRef],
    kpi: KpiDefinition,
    years: list[int],
    as_of: date | None = None,
    scope: QuerySet[Cluster] | None = None,
) -> list[ClusterSeries]:
    """One KPI across clusters: target, value and achievement per cluster and year, as of a day (today).
    `scope`: a queryset of the same clusters, when they are many (`KpiPoints(clusters=)`)."""
    points = KpiPoints(cluster_ids=[c.pk for c in clusters], kpis=[kpi], years=years, as_of=as_of, clusters=scope)
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


# --- one cluster's projects (the cluster page) ---------------------------------------------------------


@dataclass(frozen=True)
class ClusterProject:
    """A project as one of its clusters sees it on a day."""

    project: Project
    leads: bool  # the cluster leads it; otherwise it is one of the other clusters of an inter-cluster project
    lead_name: str
    other_names: list[str]  # the project's clusters besides the lead and this one, by name
    status: str  # on the day (`Project.status_on_day`)

    @property
    def status_label(self) -> str:
        return str(Project.Status(self.status).label)


@dataclass(frozen=True)
class ClusterProjectYear:
    """A year of a cluster's projects: those decided in it that the cluster leads or takes part in, and its
    reservation of the year with what was decided against it (None: neither a reservation nor a project
    against one)."""

    year: int
    use: ReservationUse | None
    projects: list[ClusterProject]


def cluster_projects(*, user: User, cluster: Cluster, as_of: date) -> list[ClusterProjectYear]:
    """The projects `cluster` leads or takes part in, decided by the end of `as_of`, by year (the latest
    first), each year with the cluster's reservation and what was decided against it
    (`funding.selectors.reservation_use`). Scoped to what `user` may see. Four queries, however many
    projects or years."""
    scope = Cluster.objects.filter(pk=cluster.pk)
    uses = {year: use for (_cluster, year), use in reservation_use(as_of=as_of, clusters=scope).items()}
    projects = (
        Project.objects.for_user(user)
        .involving([cluster.pk])
        .known_on(as_of)
        .select_related("lead_cluster")
        .prefetch_related(Prefetch("clusters", queryset=Cluster.objects.only("pk", "name").order_by("name")))
        .order_by("-decided_on", "reference")
    )
    by_year: dict[int, list[ClusterProject]] = defaultdict(list)
    for project in projects:
        by_year[project.year].append(
            ClusterProject(
                project=project,
                leads=project.lead_cluster_id == cluster.pk,
                lead_name=project.lead_cluster.name,
                other_names=[c.name for c in project.clusters.all() if c.pk != cluster.pk],
                status=project.status_on_day(as_of) or Project.Status.DECIDED,
            )
        )
    years = sorted(set(uses) | set(by_year), reverse=True)
    return [ClusterProjectYear(year=year, use=uses.get(year), projects=by_year.get(year, [])) for year in years]
