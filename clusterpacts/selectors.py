"""Reads across clusterpacts models (STYLE.md rule 2): report and plan slots as of a day, figures from
memberships."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    DecimalField,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, ExtractYear
from django.utils import timezone

from clusterpacts.models import (
    MISSING,
    NOT_SUBMITTED,
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
    default_report_due_on,
    membership_active_on,
    report_overdue,
)
from core.roles import User

# --- report and plan slots: which are due, late, pending or accepted as of a day ------------------


_Document = TypeVar("_Document", AnnualPlan, AnnualReport)
_ClusterRow = tuple[int, str, str, bool]  # id, name, slug, active


def cluster_start_year(path: str = "cluster__started_on") -> Cast:
    """The year the cluster at `path` started, as an integer, to compare a report's or a tally's working year
    with (`year__gte=cluster_start_year()`). PostgreSQL's EXTRACT gives a numeric, against which each row's
    year was cast to numeric too: 8-10 ms more over the 30,000 reports of 3,000 clusters."""
    return Cast(ExtractYear(path), IntegerField())


def end_of_day(day: date) -> datetime:
    """The last instant of `day` in the portal's time zone: what happened by then counts as of that day."""
    return timezone.make_aware(datetime.combine(day, time.max))


def report_status_on(events: Iterable[ReportEvent], as_of: date) -> str:
    """The status a plan or report had at the end of `as_of`, replayed from its workflow steps in order
    (draft before the first one)."""
    status: str = Workflow.DRAFT
    limit = end_of_day(as_of)
    for event in events:
        if event.at <= limit:
            status = event.to_status
    return status


def status_on(subject: str, as_of: date, document: str = "pk") -> Coalesce:
    """`report_status_on` as an SQL expression over the documents of `subject` ("report" or "plan"): the
    status each had at the end of `as_of`, the `to_status` of its last workflow step by then (by time, then
    id, as `report_status_on` reads them), draft before the first one. Computed once per document in the
    database, so that a reader of many documents filters and counts on it without loading a step.
    `document`: the field of the outer query that holds the document's id."""
    last = (
        ReportEvent.objects.filter(**{subject: OuterRef(document)}, at__lte=end_of_day(as_of))
        .order_by("-at", "-id")
        .values("to_status")[:1]
    )
    return Coalesce(Subquery(last), Value(Workflow.DRAFT), output_field=CharField())


def document_statuses_on(
    model: type[AnnualPlan] | type[AnnualReport], documents: QuerySet, *, as_of: date
) -> dict[int, str]:
    """The status each plan or report among `documents` (a queryset of them or of their ids) had at the end
    of `as_of`, by id, replayed as `report_status_on` does: its last workflow step by then, in order. One
    without a step by then is not there: it was a draft. One query, read as plain values, not rows (a
    programme's 30,000 reports have some 60,000 steps)."""
    subject = "report" if model is AnnualReport else "plan"
    steps = ReportEvent.objects.filter(**{f"{subject}__in": documents}, at__lte=end_of_day(as_of))
    status_of: dict[int, str] = {}
    for document_id, to_status in steps.order_by("at", "id").values_list(f"{subject}_id", "to_status"):
        status_of[document_id] = to_status
    return status_of


@dataclass(frozen=True)
class ReportSlot:
    """A cluster's annual report on one working year, as of a day.

    `status` is "missing" (never started), or the report's status at the end of the day replayed from
    its workflow steps: "draft", "submitted", "returned" or "accepted" (a report accepted later shows as
    submitted). `due_on` is the report's own due date, or the default one (a setting) while it is not
    started. `overdue`: not submitted or accepted by the end of the day, and the day is past `due_on`.
    """

    cluster_id: int
    cluster_name: str
    cluster_slug: str
    year: int
    report: AnnualReport | None
    status: str
    due_on: date
    overdue: bool


@dataclass(frozen=True)
class PlanSlot:
    """A cluster's annual plan for one year, as of a day: `status` as for a report slot. DESIGN.md gives
    plans no due date, so a plan slot is never due or overdue: it only says how far the plan had come."""

    cluster_id: int
    cluster_name: str
    cluster_slug: str
    year: int
    plan: AnnualPlan | None
    status: str


@dataclass(frozen=True)
class OverdueReport:
    """An overdue report slot (`ReportSlot.overdue`), without the report's row: `report_id` is None for a
    report never started. What the flag scan raises a flag for and the review queue lists."""

    cluster_id: int
    cluster_name: str
    cluster_slug: str
    year: int
    report_id: int | None
    status: str
    due_on: date


_Found = TypeVar("_Found")


def _replayed(
    model: type[_Document],
    *,
    clusters: QuerySet[Cluster],
    as_of: date,
    span: Callable[[date], range],
    years: Collection[int] | None,
    read: Callable[[QuerySet[_Document]], Iterable[tuple[int, int, int, _Found]]],
) -> Iterator[tuple[_ClusterRow, int, _Found | None, str]]:
    """Each cluster's years (`span` of its start day, narrowed to `years`) with what `read` gives of the
    document of the year (from (pk, cluster id, year, found) rows) and its status at the end of `as_of`,
    in three queries however many clusters."""
    rows = clusters.order_by("name", "pk").values_list("pk", "name", "slug", "active", "started_on")
    documents = model.objects.filter(cluster__in=clusters.values("pk"), year__lte=as_of.year + 1).order_by()
    if years is not None:
        documents = documents.filter(year__in=list(years))
    by_slot = {(cluster_id, year): (pk, found) for pk, cluster_id, year, found in read(documents)}
    status_of = document_statuses_on(model, documents.values("pk"), as_of=as_of)
    for cluster_id, name, slug, active, started_on in rows:
        for year in span(started_on) if started_on else ():
            if years is not None and year not in years:
                continue
            slot = by_slot.get((cluster_id, year))
            if slot is None:
                yield (cluster_id, name, slug, active), year, None, MISSING
            else:
                yield (cluster_id, name, slug, active), year, slot[1], status_of.get(slot[0], Workflow.DRAFT)


def _report_years(
    *,
    clusters: QuerySet[Cluster],
    as_of: date,
    years: Collection[int] | None,
    read: Callable[[QuerySet[AnnualReport]], Iterable[tuple[int, int, int, tuple[_Found, date]]]],
) -> Iterator[tuple[_ClusterRow, int, _Found | None, str, date, bool]]:
    """The rule behind `report_slots` and `overdue_reports`: each working year begun by `as_of`, with what
    `read` gives of its report, the status, the due day and whether it is overdue."""

    def begun(started_on: date) -> range:
        return range(started_on.year, as_of.year + 1) if started_on <= as_of else range(0)

    for cluster, year, found, status in _replayed(
        AnnualReport, clusters=clusters, as_of=as_of, span=begun, years=years, read=read
    ):
        report, due_on = found if found is not None else (None, default_report_due_on(year))
        # An inactive cluster (cluster[3]) is not chased.
        yield cluster, year, report, status, due_on, cluster[3] and report_overdue(status, due_on=due_on, as_of=as_of)


def _report_rows(documents: QuerySet[AnnualReport]) -> Iterator[tuple[int, int, int, tuple[AnnualReport, date]]]:
    for report in documents:
        yield report.pk, report.cluster_id, report.year, (report, report.due_on)


def _report_ids(documents: QuerySet[AnnualReport]) -> Iterator[tuple[int, int, int, tuple[int, date]]]:
    for pk, cluster_id, year, due_on in documents.values_list("pk", "cluster_id", "year", "due_on"):
        yield pk, cluster_id, year, (pk, due_on)


def report_slots(
    *, clusters: QuerySet[Cluster], as_of: date, years: Collection[int] | None = None
) -> list[ReportSlot]:
    """Every working year of `clusters` from the cluster's start up to the last one begun by `as_of`
    (the running year included: its report may be written, and is due the next year), or only those
    of `years`; ordered by cluster name and year. A working year is a calendar year; a cluster owes
    nothing before the day it started, or at all without a start day. An inactive cluster is not
    chased: none of its slots is overdue. Three queries.

    The flag scan, the briefing, the dashboard, the review queue and the cluster page read these (the
    scan and the review queue through `overdue_reports`, the same rule); none of them decides again what
    is due or late.
    """
    return [
        ReportSlot(
            cluster_id=cluster_id,
            cluster_name=name,
            cluster_slug=slug,
            year=year,
            report=report,
            status=status,
            due_on=due_on,
            overdue=overdue,
        )
        for (cluster_id, name, slug, _active), year, report, status, due_on, overdue in _report_years(
            clusters=clusters, as_of=as_of, years=years, read=_report_rows
        )
    ]


def overdue_reports(*, clusters: QuerySet[Cluster], as_of: date) -> list[OverdueReport]:
    """The overdue slots among `clusters` (as `report_slots` has them), ordered by cluster name and year.
    Three queries; the reports are read as plain values, not rows, so that a programme of 30,000 reports
    is scanned in a fraction of a second."""
    return [
        OverdueReport(
            cluster_id=cluster_id,
            cluster_name=name,
            cluster_slug=slug,
            year=year,
            report_id=report_id,
            status=status,
            due_on=due_on,
        )
        for (cluster_id, name, slug, _active), year, report_id, status, due_on, overdue in _report_years(
            clusters=clusters.filter(active=True), as_of=as_of, years=None, read=_report_ids
        )
        if overdue
    ]


# --- the same slots, counted and listed in the database (for readers of many clusters) -----------------


def _slotted(clusters: QuerySet[Cluster], as_of: date, year: int) -> QuerySet[Cluster]:
    """The clusters of `clusters` with a report slot on working year `year` as of `as_of` (`report_slots`'
    span: started by the day, in or before that year; the year begun by the day)."""
    if year > as_of.year:
        return clusters.none()
    return clusters.filter(started_on__lte=as_of, started_on__year__lte=year)


def _overdue_report(as_of: date) -> Q:
    """`report_overdue` of a started report, on `AnnualReport` annotated with `status_as_of`."""
    return Q(cluster__active=True, status_as_of__in=NOT_SUBMITTED - {MISSING}, due_on__lt=as_of)


def _missing_overdue(year: int, as_of: date) -> bool:
    """A slot of `year` never started is overdue on `as_of` (`report_overdue` with the default due day)."""
    return report_overdue(MISSING, due_on=default_report_due_on(year), as_of=as_of)


def report_slot_counts(*, clusters: QuerySet[Cluster], as_of: date, year: int) -> dict[str, int]:
    """How many of the report slots `report_slots(years=[year])` lists are in each state: "overdue" for an
    overdue one, else its status ("missing", "draft", ...), counted in the database in two queries however
    many clusters; states without a slot are left out. The dashboard shows these for a programme of any
    size; `tests/clusterpacts/test_report_slots.py` proves they are the slots' own."""
    slotted = _slotted(clusters, as_of, year)
    reports = (
        AnnualReport.objects.filter(cluster__in=slotted.values("pk"), year=year)
        .annotate(status_as_of=status_on("report", as_of))
        .values("status_as_of")
        .order_by()
        .annotate(all=Count("id"), overdue=Count("id", filter=_overdue_report(as_of)))
    )
    counts: dict[str, int] = defaultdict(int)
    for row in reports:
        counts[row["status_as_of"]] += row["all"] - row["overdue"]
        counts["overdue"] += row["overdue"]
    missing = slotted.exclude(Exists(AnnualReport.objects.filter(cluster=OuterRef("pk"), year=year))).aggregate(
        all=Count("id"), active=Count("id", filter=Q(active=True))
    )
    late = missing["active"] if _missing_overdue(year, as_of) else 0
    counts[MISSING] += missing["all"] - late
    counts["overdue"] += late
    return {state: count for state, count in counts.items() if count}


def kpi_target_tallies(values: QuerySet[KpiValue]) -> QuerySet[KpiValue, dict[str, Any]]:
    """Per report of `values`: `report_id`, `cluster_id`, `year`, how many of its values are `measured` against
    a target and how many `met` it, counted in the database in one query; a report without a measured value
    gives no row. Stored as `KpiTargetTally` (`services.kpi_tallies_refresh`), which the briefing sums.

    A value is measured when its KPI is active and reported (a derived KPI is computed, never "accepted", as
    `KpiPoints.point` says), the cluster's target of that KPI and year is above 0 and, where lower is better,
    the value is above 0 (`KpiDefinition.achievement` gives None otherwise). It met its target when its
    achievement reaches 100 %: `achievement` rounds to a whole percentage (half to even), so from 99.5 % on --
    higher is better, 200 x value >= 199 x target; lower is better, 200 x target >= 199 x value. Targets and
    values are never negative (`KpiDefinition.check_value`)."""
    higher = Q(kpi__direction=KpiDefinition.Direction.HIGHER)
    return (
        values.annotate(
            target=FilteredRelation(
                "cluster__kpi_targets",
                condition=Q(cluster__kpi_targets__kpi=F("kpi"), cluster__kpi_targets__year=F("year")),
            )
        )
        .filter(kpi__active=True, kpi__source=KpiDefinition.Source.REPORTED, target__value__gt=0)
        .filter(higher | Q(value__gt=0))
        # How far the value is from 99.5 % of the target, by direction: a multiple of 0.01 with two decimals,
        # so "> -0.001" is ">= 0" exactly, also where SQLite computes it in floating point.
        .annotate(
            margin=Case(
                When(higher, then=F("value") * 200 - F("target__value") * 199),
                default=F("target__value") * 200 - F("value") * 199,
                output_field=DecimalField(max_digits=20, decimal_places=2),
            )
        )
        .order_by()
        .values("report_id", "cluster_id", "year")
        .annotate(measured=Count("pk"), met=Count("pk", filter=Q(margin__gt=Decimal("-0.001"))))
    )


def accepted_by(as_of: date, subject: str = "report") -> QuerySet[ReportEvent, dict[str, Any]]:
    """The ids (`<subject>_id`) of the reports (or plans) accepted by the end of `as_of`, for a filter
    `<subject>__in=`. Acceptance is final (`WORKFLOW_TRANSITIONS`: no step leaves it), so a document's status
    of the day (`status_on`) is "accepted" exactly when it has an accepted step by then: a semi-join the
    database answers over every document at once, where `status_on` looks up each document's last step."""
    # For `__in` only: the plans' steps have a null report id, and `NOT IN` a list with a null is never true
    # (leave accepted documents out with `~Exists(...)`, as `overdue_slots` does).
    return ReportEvent.objects.filter(to_status=Workflow.ACCEPTED, at__lte=end_of_day(as_of)).values(f"{subject}_id")


def submitted_report_count(*, clusters: QuerySet[Cluster], as_of: date) -> int:
    """How many reports of the slots `report_slots` lists (every working year of `clusters` begun by
    `as_of`) were submitted and not yet accepted or returned at the end of the day: one query over their steps.

    The workflow alternates (`WORKFLOW_TRANSITIONS`: draft -> submitted -> returned -> submitted ... ->
    accepted), so each submission by the day is followed by at most one decision: a report is "submitted"
    on the day (`status_on`) exactly when it has no acceptance and more submissions than returns by then."""
    by_day = Q(events__at__lte=end_of_day(as_of))
    accepted = ReportEvent.objects.filter(
        report=OuterRef("pk"), to_status=Workflow.ACCEPTED, at__lte=end_of_day(as_of)
    )
    return (
        AnnualReport.objects.filter(
            cluster__in=clusters.filter(started_on__lte=as_of).values("pk"),
            year__lte=as_of.year,
            year__gte=cluster_start_year(),
        )
        .exclude(Exists(accepted))  # most reports: left out by an anti-join before their steps are counted
        .annotate(
            submissions=Count("events", filter=by_day & Q(events__to_status=Workflow.SUBMITTED)),
            returns=Count("events", filter=by_day & Q(events__to_status=Workflow.RETURNED)),
        )
        .filter(submissions__gt=F("returns"))
        .count()
    )


class OverdueSlots:
    """The overdue report slots of some clusters (`overdue_slots`), read a page at a time by cluster name and
    year: Django's `Paginator` asks `count()` (one query) and a slice (one query for the page's rows, one for
    its reports)."""

    def __init__(self, rows: QuerySet[Any]) -> None:
        self.rows = rows

    def count(self) -> int:
        return self.rows.count()

    def __getitem__(self, window: slice) -> list[ReportSlot]:
        rows = list(self.rows.order_by("name", "slot_year", "cluster_id")[window])
        reports = AnnualReport.objects.in_bulk([row[6] for row in rows if row[6] is not None])
        return [
            ReportSlot(
                cluster_id=cluster_id,
                cluster_name=name,
                cluster_slug=slug,
                year=slot_year,
                report=reports.get(report_id) if report_id is not None else None,
                status=state,
                due_on=due,
                overdue=True,
            )
            for cluster_id, name, slug, slot_year, state, due, report_id in rows
        ]


def overdue_slots(*, clusters: QuerySet[Cluster], as_of: date, year: int | None = None) -> OverdueSlots:
    """The overdue slots among `clusters` (on working year `year`, or any): the same slots as
    `overdue_reports`, found in the database in one query over every working year (the reports not
    submitted by their due day, and the years never started), so that the review queue lists a page of them
    for a programme of any size."""
    active = clusters.filter(active=True, started_on__lte=as_of)
    first = active.order_by("started_on").values_list("started_on", flat=True).first()
    years = [y for y in range(first.year if first else as_of.year, as_of.year + 1) if year in (None, y)]
    columns = ("cluster_id", "name", "slug", "slot_year", "state", "due", "report_id")

    def never_started(y: int) -> QuerySet[Any]:
        return (
            _slotted(active, as_of, y)
            .exclude(Exists(AnnualReport.objects.filter(cluster=OuterRef("pk"), year=y)))
            .annotate(
                cluster_id=F("pk"),
                slot_year=Value(y, IntegerField()),
                state=Value(MISSING, CharField()),
                due=Value(default_report_due_on(y), DateField()),
                report_id=Value(None, IntegerField()),
            )
            .order_by()
            .values_list(*columns)
        )

    # The reports not submitted by the day (draft or returned), from their steps counted by kind: the workflow
    # alternates (`WORKFLOW_TRANSITIONS`), so such a report has no acceptance and no more submissions than
    # returns by then; one without a submission is a draft. One grouping over the steps, where `status_on`
    # would look up every report's last step (and a cost estimate that far up turns PostgreSQL's JIT on).
    by_day = Q(events__at__lte=end_of_day(as_of))
    accepted = ReportEvent.objects.filter(
        report=OuterRef("pk"), to_status=Workflow.ACCEPTED, at__lte=end_of_day(as_of)
    )
    started = (
        AnnualReport.objects.filter(cluster__in=active.values("pk"), year__lte=as_of.year, due_on__lt=as_of)
        .filter(year__gte=cluster_start_year())
        .exclude(Exists(accepted))  # most reports: left out by an anti-join before their steps are counted
        .annotate(
            submissions=Count("events", filter=by_day & Q(events__to_status=Workflow.SUBMITTED)),
            returns=Count("events", filter=by_day & Q(events__to_status=Workflow.RETURNED)),
        )
        .filter(submissions__lte=F("returns"))
        .annotate(
            status_as_of=Case(
                When(submissions=0, then=Value(Workflow.DRAFT)),
                default=Value(Workflow.RETURNED),
                output_field=CharField(),
            )
        )
    )
    if year is not None:
        started = started.filter(year=year)
    rows = (
        started.annotate(
            name=F("cluster__name"),
            slug=F("cluster__slug"),
            slot_year=F("year"),
            state=F("status_as_of"),
            due=F("due_on"),
            report_id=F("pk"),
        )
        .order_by()
        .values_list(*columns)
    )
    parts = [never_started(y) for y in years if _missing_overdue(y, as_of)]
    return OverdueSlots(rows.union(*parts, all=True) if parts else rows)


def plan_slots(*, clusters: QuerySet[Cluster], as_of: date, years: Collection[int] | None = None) -> list[PlanSlot]:
    """Every year of `clusters` from the cluster's start year up to the year after `as_of` (a plan is
    drafted ahead of its year), or only those of `years`, with the plan's status at the end of the day;
    ordered by cluster name and year. Plans have no due date (DESIGN.md), so nothing here is overdue.
    Three queries."""

    def planned(started_on: date) -> range:
        return range(started_on.year, as_of.year + 2)

    return [
        PlanSlot(cluster_id=cluster_id, cluster_name=name, cluster_slug=slug, year=year, plan=plan, status=status)
        for (cluster_id, name, slug, _active), year, plan, status in _replayed(
            AnnualPlan,
            clusters=clusters,
            as_of=as_of,
            span=planned,
            years=years,
            read=lambda documents: ((plan.pk, plan.cluster_id, plan.year, plan) for plan in documents),
        )
    ]


@dataclass(frozen=True)
class MembershipFigures:
    members: int
    paying: int
    smes: int

    @property
    def sme_share(self) -> Decimal | None:
        """Percentage of SMEs among the members, to two decimals (None without members)."""
        if not self.members:
            return None
        return (Decimal(self.smes) * 100 / Decimal(self.members)).quantize(Decimal("0.01"))


def membership_figures(*, cluster: Cluster, on: date) -> MembershipFigures:
    """Members, paying members and SMEs of `cluster` on a day: derived, never typed in."""
    return membership_figures_on(cluster=cluster, days=[on])[on]


def membership_figures_on(*, cluster: Cluster, days: list[date]) -> dict[date, MembershipFigures]:
    """The same figures on each of several days (e.g. every year end), in one query."""
    counts = membership_figures_of(cluster_ids=[cluster.pk], days=days)
    return {day: counts[cluster.pk, day] for day in days}


def membership_figures_of(
    *, cluster_ids: Collection[int], days: Collection[date]
) -> dict[tuple[int, date], MembershipFigures]:
    """The figures of each of several clusters on each of several days, keyed by (cluster id, day), in
    one query; a cluster without any membership has zeros."""
    ordered = sorted(set(days))
    sme = Q(organisation__kind=Organisation.Kind.SME)
    aggregates: dict[str, Count] = {}
    for n, day in enumerate(ordered):
        active = membership_active_on(day)
        aggregates[f"members_{n}"] = Count("id", filter=active)
        aggregates[f"paying_{n}"] = Count("id", filter=active & Q(paying=True))
        aggregates[f"smes_{n}"] = Count("id", filter=active & sme)
    zero = MembershipFigures(members=0, paying=0, smes=0)
    figures = {(cluster_id, day): zero for cluster_id in cluster_ids for day in ordered}
    if not aggregates or not cluster_ids:
        return figures
    rows = (
        Membership.objects.filter(cluster_id__in=list(cluster_ids))
        .values("cluster_id")
        .order_by("cluster_id")
        .annotate(**aggregates)
    )
    for row in rows:
        for n, day in enumerate(ordered):
            figures[row["cluster_id"], day] = MembershipFigures(
                members=row[f"members_{n}"], paying=row[f"paying_{n}"], smes=row[f"smes_{n}"]
            )
    return figures


# How each derived KPI of the catalogue (source "derived") is read from the membership figures. A derived
# KPI without a line here, nor in a registered source, has no value: it is never typed in instead.
DERIVED_KPIS: dict[str, Callable[[MembershipFigures], Decimal | None]] = {
    "MEM1": lambda figures: Decimal(figures.paying),  # paying members
    "MEM2": lambda figures: figures.sme_share,  # share of SMEs among the members, in %
}


class DerivedBasis(Protocol):
    """The figures another app derives KPIs of one cluster's working year from (funding: the decided
    projects), with what they were counted from (`basis`, shown beside the values)."""

    @property
    def basis(self) -> tuple[Any, ...]: ...

    def value(self, code: str) -> Decimal | None: ...


# A source of derived KPIs: given cluster ids (and, when they are many, the same clusters as a queryset,
# `clusters`, to filter on in a subquery), the day each year is counted to and the KPIs asked (`codes`, None:
# all; a source may leave the others without a value), the figures by (cluster id, year). Registered by the
# app that holds the data (`funding.apps`), so that this app, which may not import it, reads every derived
# KPI through `derived_figures` all the same.
DerivedSource = Callable[..., Mapping[tuple[int, int], DerivedBasis]]
_DERIVED_SOURCES: dict[str, tuple[frozenset[str], DerivedSource]] = {}


def register_derived_source(name: str, codes: Collection[str], source: DerivedSource) -> None:
    """Let `source(cluster_ids=..., on={year: day}, clusters=None, codes=None)` give the value of the KPIs
    `codes` (once per `name`); `codes=` names those asked, None all."""
    _DERIVED_SOURCES[name] = (frozenset(codes), source)


@dataclass(frozen=True)
class DerivedFigures:
    """The figures behind the derived KPIs of one cluster's working year: on `on`, the year's end
    (31 December), or the day asked while the year still runs. The membership figures are here; what a
    registered source derives (the projects) is in `sources`, by the source's name.

    `has_data`: some membership was active that day. Without, the membership KPIs have no value (None,
    never a silent 0) and the report, review and cluster pages warn that they cannot be computed. A KPI of
    another source has its own value (0 projects decided is a value).
    """

    cluster_id: int
    year: int
    on: date
    figures: MembershipFigures
    sources: Mapping[str, DerivedBasis] = field(default_factory=dict)

    @property
    def has_data(self) -> bool:
        return self.figures.members > 0

    @property
    def year_end(self) -> bool:
        return self.on == date(self.year, 12, 31)

    def value(self, code: str) -> Decimal | None:
        compute = DERIVED_KPIS.get(code)
        if compute is not None:
            return compute(self.figures) if self.has_data else None
        for name, (codes, _source) in _DERIVED_SOURCES.items():
            if code in codes and name in self.sources:
                return self.sources[name].value(code)
        return None

    def source_of(self, code: str) -> str | None:
        """Where the derived KPI `code` comes from: "memberships", a registered source's name, or None."""
        if code in DERIVED_KPIS:
            return "memberships"
        return next((name for name, (codes, _source) in _DERIVED_SOURCES.items() if code in codes), None)

    def basis(self, name: str) -> tuple[Any, ...]:
        """What the source `name` counted this year's figures from (e.g. the decided projects)."""
        found = self.sources.get(name)
        return found.basis if found is not None else ()


def derived_figures(
    *,
    cluster_ids: Collection[int],
    years: Collection[int],
    as_of: date | None = None,
    codes: Collection[str] | None = None,
    clusters: QuerySet[Cluster] | None = None,
) -> dict[tuple[int, int], DerivedFigures]:
    """The derived KPIs' figures of each cluster and working year, keyed by (cluster id, year): from the
    memberships active at the year's end, or on `as_of` (default today) for a year that has not ended by
    then (one query), and from each registered source as of the same day (funding's projects: three).
    With `codes`, only what those KPIs are derived from is read (a comparison of MEM1 across 3,000 clusters
    need not count their projects); the other figures are left empty. `clusters`: the same clusters as a
    queryset, when they are thousands, for the sources to filter on in a subquery rather than in a list of ids.

    The one place a derived KPI gets its value: the report and review pages, the cluster page's KPI
    evolution and members, the comparison and the briefing read it; none is stored or typed in.
    """
    as_of = as_of or timezone.localdate()
    on = {year: min(date(year, 12, 31), as_of) for year in years}
    asked = None if codes is None else frozenset(codes)
    if asked is None or asked & DERIVED_KPIS.keys():
        figures = membership_figures_of(cluster_ids=cluster_ids, days=on.values())
    else:
        zero = MembershipFigures(members=0, paying=0, smes=0)
        figures = {(cluster_id, day): zero for cluster_id in cluster_ids for day in on.values()}
    sourced = {
        name: source(cluster_ids=cluster_ids, on=on, clusters=clusters, codes=asked) if cluster_ids and on else {}
        for name, (source_codes, source) in _DERIVED_SOURCES.items()
        if asked is None or asked & source_codes
    }
    return {
        (cluster_id, year): DerivedFigures(
            cluster_id=cluster_id,
            year=year,
            on=day,
            figures=figures[cluster_id, day],
            sources={name: found[cluster_id, year] for name, found in sourced.items() if (cluster_id, year) in found},
        )
        for cluster_id in cluster_ids
        for year, day in on.items()
    }


def derived_figures_of(*, cluster: Cluster, year: int, as_of: date | None = None) -> DerivedFigures:
    """`derived_figures` of one cluster's working year."""
    return derived_figures(cluster_ids=[cluster.pk], years=[year], as_of=as_of)[cluster.pk, year]


@dataclass(frozen=True)
class YearFigures:
    """A cluster's figures of one year beside the year before, each keyed by KPI id; the derived KPIs'
    figures of both years (`derived`, `derived_last_year`), which stand for their values."""

    target: dict[int, Decimal]
    value: dict[int, KpiValue]
    last_year: dict[int, KpiValue]
    derived: DerivedFigures
    derived_last_year: DerivedFigures
    last_year_target: dict[int, Decimal] = field(default_factory=dict)


def figures_by_kpi(
    *, cluster: Cluster, year: int, with_values: bool = True, with_last_target: bool = False
) -> YearFigures:
    """Targets of the year, values of the year (unless `with_values` is off: a plan shows none) and of the
    year before, and the derived figures of both (four queries); with `with_last_target`, the year before's
    targets too (a fifth), which the plan's review sets beside its values."""

    def values(of_year: int) -> dict[int, KpiValue]:
        return {v.kpi_id: v for v in KpiValue.objects.filter(cluster=cluster, year=of_year).select_related("report")}

    def targets(of_year: int) -> dict[int, Decimal]:
        return dict(KpiTarget.objects.filter(cluster=cluster, year=of_year).values_list("kpi_id", "value"))

    derived = derived_figures(cluster_ids=[cluster.pk], years=[year - 1, year])
    return YearFigures(
        target=targets(year),
        value=values(year) if with_values else {},
        last_year=values(year - 1),
        derived=derived[cluster.pk, year],
        derived_last_year=derived[cluster.pk, year - 1],
        last_year_target=targets(year - 1) if with_last_target else {},
    )


@dataclass(frozen=True)
class PactVersion:
    """A pact version signed by a day; `current` for the last one signed by then (the others were
    superseded by that day)."""

    version: int
    signed_on: date
    current: bool


def pact_versions_on(*, clusters: QuerySet[Cluster], as_of: date) -> dict[int, list[PactVersion]]:
    """Each cluster's pact versions signed by the end of `as_of`, oldest first, by cluster id (one query).
    A version signed later, or never, is not there."""
    signed: dict[int, list[tuple[int, date]]] = defaultdict(list)
    pacts = ClusterPact.objects.filter(cluster__in=clusters, signed_on__lte=as_of).order_by("signed_on", "version")
    for cluster_id, version, signed_on in pacts.values_list("cluster_id", "version", "signed_on"):
        signed[cluster_id].append((version, signed_on))
    return {
        cluster_id: [
            PactVersion(version, signed_on, current=n == len(rows) - 1) for n, (version, signed_on) in enumerate(rows)
        ]
        for cluster_id, rows in signed.items()
    }


# --- the review queue ------------------------------------------------------------------------------

PLAN, REPORT = "plan", "report"


@dataclass(frozen=True)
class ReviewItem:
    """A plan or report in the review queue: `kind` is "plan" or "report"."""

    kind: str
    document: AnnualPlan | AnnualReport


class ReviewDocuments:
    """The plans and reports of the review queue, read a page at a time: what waits longest first (by
    submission, never submitted last), then by cluster, the latest year first, plans before reports.

    Django's `Paginator` asks `count()` (one query) and a slice (one query over both tables for the page's
    rows, then one per kind for the documents of the page, with their clusters): the same queries for 10
    documents or 100,000."""

    def __init__(self, sources: list[tuple[str, QuerySet[Any]]]) -> None:
        self.sources = sources

    def _rows(self) -> QuerySet[Any] | None:
        parts = [
            documents.annotate(kind=Value(name, CharField()), cluster_name=F("cluster__name"))
            .order_by()
            .values_list("kind", "pk", "cluster_name", "year", "submitted_at")
            for name, documents in self.sources
        ]
        if not parts:
            return None
        return parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]

    def count(self) -> int:
        rows = self._rows()
        return rows.count() if rows is not None else 0

    def __getitem__(self, window: slice) -> list[ReviewItem]:
        rows = self._rows()
        if rows is None:
            return []
        ordered = rows.order_by(F("submitted_at").asc(nulls_last=True), "cluster_name", "-year", "kind", "pk")
        page = list(ordered[window])
        found = {
            name: documents.select_related("cluster").in_bulk([pk for kind, pk, *_ in page if kind == name])
            for name, documents in self.sources
            if any(kind == name for kind, *_ in page)
        }
        return [ReviewItem(kind=kind, document=found[kind][pk]) for kind, pk, *_ in page]


def review_documents(
    *,
    user: User,
    kind: str | None = None,
    cluster: Cluster | None = None,
    year: int | None = None,
    states: Collection[str] | None = (Workflow.SUBMITTED,),
) -> ReviewDocuments:
    """The plans and reports `user` may see, narrowed in the database to a kind, a cluster, a year and
    states (None: every state), to be read a page at a time (`ReviewDocuments`)."""
    sources: list[tuple[str, QuerySet[Any]]] = []
    for name, model in ((PLAN, AnnualPlan), (REPORT, AnnualReport)):
        if kind not in (None, name):
            continue
        documents = model.objects.for_user(user)
        if cluster is not None:
            documents = documents.filter(cluster=cluster)
        if year is not None:
            documents = documents.filter(year=year)
        if states is not None:
            documents = documents.filter(status__in=list(states))
        sources.append((name, documents))
    return ReviewDocuments(sources)
