"""Reads of funding (STYLE.md rule 2): where a cluster's chain of support agreements stands on a day.

The flag scan, the briefing, the dashboard, the cluster page, the API, the admin and the agreements
export read these; none of them works out a cap date, a final term or a renewal window for itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import ExtractYear

from clusterpacts.models import Cluster, Organisation
from core.roles import User, is_reader
from evaluations.models import Evaluation
from funding.models import (
    ONE_DAY,
    Allocation,
    BudgetYear,
    Project,
    ProjectPartner,
    ProjectQuerySet,
    SupportAgreement,
    cap_date_for,
    ends_the_chain,
    latest_end_for,
)

DAYS_PER_YEAR = Decimal("365.25")


@dataclass(frozen=True)
class AgreementTerm:
    """One agreement under its chain's cap: what follows from its own dates and its chain's start."""

    agreement: SupportAgreement
    cap_date: date  # first start of the chain + 10 years - 1 day
    final_term: bool  # it ends on the cap date, so nothing can extend it
    latest_extension_end: date | None  # the latest end an extension of it may have; None for the final term

    def days_to_cap(self, as_of: date) -> int:
        return (self.cap_date - as_of).days

    def years_left_under_cap(self, as_of: date) -> Decimal:
        """Years from `as_of` up to and including the cap date, to one decimal; 0 once the cap has passed."""
        days = max(0, self.days_to_cap(as_of) + 1)
        return (Decimal(days) / DAYS_PER_YEAR).quantize(Decimal("0.1"))


def agreement_term(agreement: SupportAgreement) -> AgreementTerm:
    """The term of a saved agreement (its chain start is set); no query."""
    cap = cap_date_for(agreement.chain_start)
    final = ends_the_chain(agreement.end_date, cap)
    return AgreementTerm(
        agreement=agreement,
        cap_date=cap,
        final_term=final,
        latest_extension_end=None if final else latest_end_for(agreement.end_date + ONE_DAY, agreement.chain_start),
    )


@dataclass(frozen=True)
class AgreementStanding:
    """Where a cluster's chain of support agreements stands at the end of `as_of`.

    Only what had happened by then counts: an agreement signed later is not there yet (one with no
    signing day always is), nor an interim evaluation completed later.
    """

    as_of: date
    agreement: SupportAgreement  # running on the day, or else the latest started by then
    running: bool  # `agreement` runs on the day (it has not ended)
    chain_start: date
    cap_date: date
    latest_extension_end: date | None  # of an extension of `agreement`; None when it is the final term
    final_term: bool  # the agreement running on the day ends on the cap date
    has_successor: bool  # an extension of `agreement` is there
    last_agreement: SupportAgreement  # the chain's last agreement there is: `agreement` or its extension
    renewal_due: bool  # `agreement` ends within the renewal window (or has ended) and nothing extends it
    evaluation_missing: bool  # renewal due, and no interim evaluation completed in the term for the extension
    cap_approaching: bool  # the cap is within the cap window, or the renewal now due is the last one possible
    days_left_in_term: int  # to the end of `agreement`; negative once it has ended
    days_to_cap: int  # negative once the cap has passed


class _ChainRow(NamedTuple):
    """An agreement of a chain as the standing reads it; `row` holds every column of the agreement and its
    cluster, to make the agreement (with its cluster) of only those the standing returns."""

    pk: int
    start_date: date
    end_date: date
    predecessor_id: int | None
    row: tuple[Any, ...]


_AGREEMENT_COLUMNS = [field.attname for field in SupportAgreement._meta.concrete_fields]
_CLUSTER_COLUMNS = [field.attname for field in Cluster._meta.concrete_fields]


def _agreement_from(row: tuple[Any, ...], db: str) -> SupportAgreement:
    """The agreement of a `_ChainRow.row`, with its cluster, as `select_related("cluster")` would make it."""
    agreement = SupportAgreement.from_db(db, _AGREEMENT_COLUMNS, row[: len(_AGREEMENT_COLUMNS)])
    agreement.cluster = Cluster.from_db(db, _CLUSTER_COLUMNS, row[len(_AGREEMENT_COLUMNS) :])
    return agreement


def agreement_standings(*, clusters: QuerySet[Cluster], as_of: date) -> dict[int, AgreementStanding]:
    """The standing of each cluster's chain on `as_of`, by cluster id. A cluster none of whose agreements
    had started by then has none. Two queries, however many clusters.

    The agreements are read as plain values and only the two a standing holds (the running one and the
    chain's last) are made into model instances: a programme of 3,000 clusters has 12,000 agreements."""
    chains: dict[int, list[_ChainRow]] = defaultdict(list)
    agreements = SupportAgreement.objects.filter(cluster__in=clusters).known_on(as_of).order_by("start_date")
    columns = [*_AGREEMENT_COLUMNS, *(f"cluster__{name}" for name in _CLUSTER_COLUMNS)]
    cluster_at = _AGREEMENT_COLUMNS.index("cluster_id")
    start_at, end_at = _AGREEMENT_COLUMNS.index("start_date"), _AGREEMENT_COLUMNS.index("end_date")
    predecessor_at = _AGREEMENT_COLUMNS.index("predecessor_id")
    for row in agreements.values_list(*columns):
        chains[row[cluster_at]].append(_ChainRow(row[0], row[start_at], row[end_at], row[predecessor_at], row))
    interim_done: dict[int, list[date]] = defaultdict(list)
    completed = Evaluation.objects.filter(cluster__in=clusters, completed_on__lte=as_of).interim().completed()
    for cluster_id, completed_on in completed.order_by().values_list("cluster_id", "completed_on"):
        interim_done[cluster_id].append(completed_on)
    db = agreements.db
    standings = {
        pk: _standing(chain, interim_done[pk], as_of, lambda row: _agreement_from(row, db))
        for pk, chain in chains.items()
    }
    return {pk: standing for pk, standing in standings.items() if standing is not None}


def agreement_standing(*, cluster: Cluster, as_of: date) -> AgreementStanding | None:
    """The standing of one cluster's chain on `as_of`; None when none of its agreements had started."""
    return agreement_standings(clusters=Cluster.objects.filter(pk=cluster.pk), as_of=as_of).get(cluster.pk)


def _standing(
    chain: list[_ChainRow],
    interim_done: list[date],
    as_of: date,
    make: Callable[[tuple[Any, ...]], SupportAgreement],
) -> AgreementStanding | None:
    """`chain`: one cluster's agreements there were on `as_of`, by start date (one chain, without gaps)."""
    started = [link for link in chain if link.start_date <= as_of]
    if not started:
        return None
    current = started[-1]
    agreement = make(current.row)
    term = agreement_term(agreement)
    last = agreement if chain[-1] is current else make(chain[-1].row)
    running = as_of <= agreement.end_date
    has_successor = any(other.predecessor_id == current.pk for other in chain)
    days_left = (agreement.end_date - as_of).days
    # An inactive cluster is not chased: nothing is due for it (the scan raises no flag about it either).
    chased = agreement.cluster.active
    renewal_due = (
        chased and not has_successor and not term.final_term and days_left <= settings.CLUSTERPACTS_RENEWAL_WINDOW_DAYS
    )
    # The evaluation an extension needs: completed after this term started, by the day the extension would start.
    until = min(as_of, agreement.end_date + ONE_DAY)
    evaluated = any(agreement.start_date < day <= until for day in interim_done)
    cap_window = settings.CLUSTERPACTS_CAP_WINDOW_DAYS
    days_to_cap = term.days_to_cap(as_of)
    return AgreementStanding(
        as_of=as_of,
        agreement=agreement,
        running=running,
        chain_start=agreement.chain_start,
        cap_date=term.cap_date,
        latest_extension_end=term.latest_extension_end,
        final_term=running and term.final_term,
        has_successor=has_successor,
        last_agreement=last,
        renewal_due=renewal_due,
        evaluation_missing=renewal_due and not evaluated,
        cap_approaching=chased
        and (
            0 <= days_to_cap <= cap_window or (renewal_due and (term.cap_date - agreement.end_date).days <= cap_window)
        ),
        days_left_in_term=days_left,
        days_to_cap=days_to_cap,
    )


@dataclass(frozen=True)
class RestsOn:
    """The completed interim evaluation an extension rests on (`funding.services._check_extension`)."""

    id: int
    title: str
    completed_on: date


@dataclass(frozen=True)
class ChainLink:
    """One agreement of a chain as of a day: its term and, for an extension, the interim evaluation it rests
    on (the last one completed during its predecessor's term, by the day; None for the first agreement)."""

    term: AgreementTerm
    rests_on: RestsOn | None

    @property
    def agreement(self) -> SupportAgreement:
        return self.term.agreement


def agreement_chains(*, clusters: QuerySet[Cluster], as_of: date) -> dict[int, list[ChainLink]]:
    """Each cluster's chain of agreements signed by the end of `as_of` (also those starting later), by
    start date, by cluster id; a cluster without any has none. Two queries, however many clusters or
    agreements."""
    agreements = SupportAgreement.objects.filter(cluster__in=clusters).known_on(as_of).order_by("start_date")
    completed: dict[int, list[RestsOn]] = defaultdict(list)
    interim = Evaluation.objects.filter(cluster__in=clusters, completed_on__lte=as_of).interim().completed()
    for pk, cluster_id, title, kind, completed_on in interim.order_by("completed_on", "pk").values_list(
        "pk", "cluster_id", "title", "kind", "completed_on"
    ):
        completed[cluster_id].append(RestsOn(pk, title or str(Evaluation.Kind(kind).label), completed_on))
    by_pk = {agreement.pk: agreement for agreement in agreements}
    chains: dict[int, list[ChainLink]] = defaultdict(list)
    for agreement in by_pk.values():
        predecessor = by_pk.get(agreement.predecessor_id) if agreement.predecessor_id else None
        rests_on = None
        if predecessor is not None:
            # The window `_check_extension` requires: after the predecessor started, by the extension's start.
            window = [
                e
                for e in completed[agreement.cluster_id]
                if predecessor.start_date < e.completed_on <= agreement.start_date
            ]
            rests_on = window[-1] if window else None
        chains[agreement.cluster_id].append(ChainLink(agreement_term(agreement), rests_on))
    return dict(chains)


def next_renewal_on(chain: list[ChainLink]) -> date | None:
    """The day the chain's next extension would start: the day after its last agreement ends; None when that
    agreement is the final term (it ends on the cap) or there is no chain."""
    if not chain or chain[-1].term.final_term:
        return None
    return chain[-1].agreement.end_date + ONE_DAY


# --- budget: what a user may see of each year ---------------------------------------------------


def amount_over(decided: Decimal, reserved: Decimal) -> Decimal:
    """How much more was decided than reserved (0 when within it)."""
    return max(Decimal(0), decided - reserved)


@dataclass(frozen=True)
class Reservation:
    """A cluster's reservation of a year and the projects decided against it (`reservation_use`)."""

    cluster: int
    cluster_name: str
    amount: Decimal
    decided: Decimal = Decimal(0)
    projects: int = 0

    @property
    def remaining(self) -> Decimal:
        """What is left of the reservation; negative when more was decided than reserved."""
        return self.amount - self.decided

    @property
    def over(self) -> Decimal:
        """How much more was decided than reserved (0 when within it)."""
        return amount_over(self.decided, self.amount)


@dataclass(frozen=True)
class BudgetYearFigures:
    """One budget year as `user` may see it. `other` and `remaining` need every allocation of the year,
    so they are None for a reader who may not see them all (a cluster manager).

    `reservations` lists the clusters asked for (`budget_years(clusters=)`; all by default); every total
    (`reserved`, `projects_decided`, `reservation_count`) counts every reservation the reader sees."""

    year: int
    envelope: Decimal
    reservations: list[Reservation]
    reserved: Decimal
    inter_cluster: Decimal
    other: Decimal | None
    remaining: Decimal | None
    decided: bool  # the reader sees at least one allocation of the year (decided by `as_of`, if given)
    projects_decided: Decimal = Decimal(0)  # against the reservations the reader sees
    inter_cluster_decided: Decimal = Decimal(0)  # inter-cluster projects, against `inter_cluster`
    inter_cluster_projects: int = 0
    reservation_count: int = 0  # the clusters with a reservation, or a project decided against one, that year

    @property
    def over_reserved(self) -> list[Reservation]:
        """The reservations listed that more was decided against than reserved (`reservations_exceeded`: all)."""
        return [r for r in self.reservations if r.over > 0]

    @property
    def inter_cluster_remaining(self) -> Decimal:
        """What is left of the inter-cluster allocation; negative when more was decided against it."""
        return self.inter_cluster - self.inter_cluster_decided

    @property
    def inter_cluster_over(self) -> Decimal:
        """How much more was decided in inter-cluster projects than allocated to them (0 when within it)."""
        return max(Decimal(0), self.inter_cluster_decided - self.inter_cluster)


def budget_years(
    *,
    user: User,
    from_year: int | None = None,
    as_of: date | None = None,
    clusters: Collection[int] | None = None,
) -> list[BudgetYearFigures]:
    """Every budget year (from `from_year` on): envelope, the reservations and allocations `user` may see.

    With `as_of`, only the allocations decided by the end of that day count (`Allocation.objects.known_on`):
    one decided later is not there yet; one without a decision day counts from the start of its year.
    With `clusters` (ids), only their reservations are listed; the year's totals still count them all.
    The totals are summed in the database: five queries, however many clusters, years or projects.
    """
    years = BudgetYear.objects.for_user(user).order_by("year")
    if from_year is not None:
        years = years.filter(year__gte=from_year)
    visible = _visible_allocations(user, as_of).filter(budget_year__in=years)
    totals: dict[int, dict[str, tuple[Decimal, int]]] = defaultdict(dict)
    for row in visible.values("budget_year_id", "purpose").order_by().annotate(total=Sum("amount"), n=Count("id")):
        totals[row["budget_year_id"]][row["purpose"]] = (row["total"], row["n"])
    listed = visible.filter(purpose=Allocation.Purpose.COMPETITIVENESS)
    if clusters is not None:
        listed = listed.filter(cluster_id__in=list(clusters))
    reserved: dict[int, dict[int, Reservation]] = defaultdict(dict)
    columns = ("budget_year_id", "cluster_id", "cluster__name", "amount")
    for year_id, cluster_id, name, amount in listed.values_list(*columns):
        reserved[year_id][cluster_id] = Reservation(cluster_id, name, amount)
    year_rows = list(years)
    # The years as a subquery, not a list: the same queries whether there are budget years or not.
    year_numbers = years.values("year")
    projects = Project.objects.for_user(user)
    if from_year is not None:  # as the years' subquery says, but on the decision day's index
        projects = projects.filter(decided_on__gte=date(from_year, 1, 1))
    decided = _decided(projects, as_of=as_of, years=year_numbers, clusters=clusters)
    decided_totals = _decided_totals(projects, visible, as_of=as_of, years=year_numbers)
    sees_all = is_reader(user)
    return [
        _budget_year(
            year,
            totals[year.pk],
            reserved[year.pk],
            decided.get(year.year, {}),
            decided_totals.get(year.year, (Decimal(0), 0, Decimal(0), 0)),
            sees_all=sees_all,
        )
        for year in year_rows
    ]


def reservations_exceeded(*, user: User, year: int, as_of: date | None = None) -> list[Reservation]:
    """The reservations of `year` that more was decided against (by the end of `as_of`) than reserved, among
    what `user` sees, by cluster name; a cluster with projects and no reservation counts as a reservation of
    0 (as `budget_years` lists it). Two queries, however many clusters: what was decided per lead cluster, and
    the year's reservations, compared here (a reservation looked up per cluster in SQL cost 100 ms at 3,000)."""
    projects = Project.objects.for_user(user).against_reservations().filter(decided_on__year=year)
    if as_of is not None:
        projects = projects.known_on(as_of)
    decided = (
        projects.order_by()
        .values_list("lead_cluster_id", "lead_cluster__name")
        .annotate(total=Sum("amount"), count=Count("id"))
    )
    reserved = dict(
        _visible_allocations(user, as_of)
        .filter(purpose=Allocation.Purpose.COMPETITIVENESS, budget_year__year=year)
        .order_by()
        .values_list("cluster_id", "amount")
    )
    over = [
        Reservation(cluster, name, reserved.get(cluster, Decimal(0)), total, count)
        for cluster, name, total, count in decided
        if total > reserved.get(cluster, Decimal(0))
    ]
    return sorted(over, key=lambda reservation: (reservation.cluster_name, reservation.cluster))


def _visible_allocations(user: User, as_of: date | None) -> QuerySet[Allocation]:
    """The allocations `user` sees (decided by the end of `as_of`), each once: a manager's are found through
    the inter-cluster partners too, so in a subquery, where a join would count an allocation twice."""
    visible = (
        Allocation.objects.all()
        if is_reader(user)
        else Allocation.objects.filter(pk__in=Allocation.objects.for_user(user).values("pk"))
    )
    return visible.known_on(as_of) if as_of is not None else visible


class _Decided(NamedTuple):
    cluster_name: str
    cluster_active: bool
    amount: Decimal
    projects: int


def _decided(
    projects: ProjectQuerySet,
    *,
    as_of: date | None,
    years: QuerySet | None = None,
    clusters: Collection[int] | None = None,
) -> dict[int, dict[int, _Decided]]:
    """What was decided against each cluster's reservation (of `clusters`, or all), by year and cluster id
    (one query)."""
    rows = projects.against_reservations()
    if as_of is not None:
        rows = rows.known_on(as_of)
    if years is not None:
        rows = rows.filter(decided_on__year__in=years)
    if clusters is not None:
        rows = rows.filter(lead_cluster_id__in=list(clusters))
    grouped = (
        rows.annotate(decided_year=ExtractYear("decided_on"))
        .values("decided_year", "lead_cluster_id", "lead_cluster__name", "lead_cluster__active")
        .order_by()
        .annotate(total=Sum("amount"), count=Count("id"))
        .values_list("decided_year", "lead_cluster_id", "lead_cluster__name", "lead_cluster__active", "total", "count")
    )
    found: dict[int, dict[int, _Decided]] = defaultdict(dict)
    for year, cluster_id, name, active, total, count in grouped:
        found[year][cluster_id] = _Decided(name, active, total, count)
    return found


def _decided_totals(
    projects: ProjectQuerySet, visible: QuerySet[Allocation], *, as_of: date | None, years: QuerySet
) -> dict[int, tuple[Decimal, int, Decimal, int]]:
    """Per year, in one query: what was decided against every reservation, how many clusters had projects
    decided against one without a reservation of that year (each is listed with a reservation of 0), and what
    was decided in inter-cluster projects (amount, projects), against the year's inter-cluster allocation."""
    rows = projects.filter(decided_on__year__in=years)
    if as_of is not None:
        rows = rows.known_on(as_of)
    reserved = visible.filter(
        purpose=Allocation.Purpose.COMPETITIVENESS,
        cluster=OuterRef("lead_cluster_id"),
        budget_year__year=ExtractYear(OuterRef("decided_on")),
    )
    inter = Q(type=Project.Type.INTER_CLUSTER)
    grouped = (
        rows.annotate(decided_year=ExtractYear("decided_on"))
        .values("decided_year")
        .order_by()
        .annotate(
            total=Sum("amount", filter=~inter, default=Decimal(0)),
            unreserved=Count("lead_cluster_id", distinct=True, filter=~inter & ~Q(Exists(reserved))),
            inter_total=Sum("amount", filter=inter, default=Decimal(0)),
            inter_count=Count("id", filter=inter),
        )
    )
    return {
        row["decided_year"]: (row["total"], row["unreserved"], row["inter_total"], row["inter_count"])
        for row in grouped
    }


def _inter_cluster_decided(
    projects: ProjectQuerySet, *, as_of: date | None, years: QuerySet | None = None
) -> dict[int, tuple[Decimal, int]]:
    """What was decided against each year's inter-cluster allocation: (amount, projects) by year (one query)."""
    rows = projects.filter(type=Project.Type.INTER_CLUSTER)
    if as_of is not None:
        rows = rows.known_on(as_of)
    if years is not None:
        rows = rows.filter(decided_on__year__in=years)
    grouped = (
        rows.annotate(decided_year=ExtractYear("decided_on"))
        .values("decided_year")
        .order_by()
        .annotate(total=Sum("amount"), count=Count("id"))
    )
    return {row["decided_year"]: (row["total"], row["count"]) for row in grouped}


def _budget_year(
    year: BudgetYear,
    totals: dict[str, tuple[Decimal, int]],
    listed: dict[int, Reservation],
    decided: dict[int, _Decided],
    decided_total: tuple[Decimal, int, Decimal, int],
    *,
    sees_all: bool,
) -> BudgetYearFigures:
    def total(purpose: str) -> Decimal:
        return totals.get(purpose, (Decimal(0), 0))[0]

    reserved = dict(listed)
    for cluster_id, use in decided.items():
        # A cluster that had projects decided without a reservation shows with a reservation of 0.
        base = reserved.get(cluster_id) or Reservation(cluster_id, use.cluster_name, Decimal(0))
        reserved[cluster_id] = Reservation(base.cluster, base.cluster_name, base.amount, use.amount, use.projects)
    reservations = sorted(reserved.values(), key=lambda r: r.cluster_name)
    allocated = sum((amount for amount, _count in totals.values()), Decimal(0))
    return BudgetYearFigures(
        year=year.year,
        envelope=year.envelope,
        reservations=reservations,
        reserved=total(Allocation.Purpose.COMPETITIVENESS),
        inter_cluster=total(Allocation.Purpose.INTER_CLUSTER),
        other=total(Allocation.Purpose.OTHER) if sees_all else None,
        remaining=year.envelope - allocated if sees_all else None,
        decided=any(count for _amount, count in totals.values()),
        projects_decided=decided_total[0],
        inter_cluster_decided=decided_total[2],
        inter_cluster_projects=decided_total[3],
        reservation_count=totals.get(Allocation.Purpose.COMPETITIVENESS, (Decimal(0), 0))[1] + decided_total[1],
    )


# --- the use of reservations ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReservationUse:
    """One cluster's year: its reservation, what was decided against it, and how much more than reserved."""

    cluster_id: int
    cluster_name: str
    cluster_active: bool
    year: int
    reserved: Decimal
    decided: Decimal
    projects: int

    @property
    def remaining(self) -> Decimal:
        return self.reserved - self.decided

    @property
    def over(self) -> Decimal:
        return amount_over(self.decided, self.reserved)


def reservation_use(
    *, as_of: date, clusters: QuerySet[Cluster] | None = None, over_only: bool = False
) -> dict[tuple[int, int], ReservationUse]:
    """Every cluster's reserved, decided and remaining per year, as of the end of `as_of`, keyed by
    (cluster id, year): the years with a reservation known by then or a project decided by then; with
    `over_only`, only those where more was decided than reserved. Two queries, however many clusters,
    years or projects. The flag scan (`over_only`) and the cluster page read it; the funding overview and
    the briefing read the same figures through `budget_years`."""
    allocations = Allocation.objects.filter(purpose=Allocation.Purpose.COMPETITIVENESS).known_on(as_of)
    projects = Project.objects.all()
    if clusters is not None:
        allocations = allocations.filter(cluster__in=clusters)
        projects = projects.filter(lead_cluster__in=clusters)
    found: dict[tuple[int, int], ReservationUse] = {}
    if over_only:
        # Plain values, and a use made only for the few years over: a programme of 3,000 clusters has
        # some 30,000 cluster years.
        reserved_amount: dict[tuple[int, int], Decimal] = {
            (cluster_id, year): amount
            for cluster_id, year, amount in allocations.order_by().values_list(
                "cluster_id", "budget_year__year", "amount"
            )
        }
        for year, by_cluster in _decided(projects, as_of=as_of).items():
            for cluster_id, use in by_cluster.items():
                amount = reserved_amount.get((cluster_id, year), Decimal(0))
                if amount_over(use.amount, amount):
                    found[cluster_id, year] = ReservationUse(
                        cluster_id, use.cluster_name, use.cluster_active, year, amount, use.amount, use.projects
                    )
        return dict(sorted(found.items(), key=lambda item: (item[0][1], item[1].cluster_name)))
    reserved: dict[tuple[int, int], tuple[str, bool, Decimal]] = {
        (cluster_id, year): (name, active, amount)
        for cluster_id, name, active, year, amount in allocations.values_list(
            "cluster_id", "cluster__name", "cluster__active", "budget_year__year", "amount"
        )
    }
    for year, by_cluster in _decided(projects, as_of=as_of).items():
        for cluster_id, use in by_cluster.items():
            known = reserved.pop((cluster_id, year), None)
            amount = known[2] if known else Decimal(0)
            found[cluster_id, year] = ReservationUse(
                cluster_id, use.cluster_name, use.cluster_active, year, amount, use.amount, use.projects
            )
    for (cluster_id, year), (name, active, amount) in reserved.items():  # nothing decided against these
        found[cluster_id, year] = ReservationUse(cluster_id, name, active, year, amount, Decimal(0), 0)
    return dict(sorted(found.items(), key=lambda item: (item[0][1], item[1].cluster_name)))


# --- the KPIs the projects decide ---------------------------------------------------------------------

# The KPIs of the catalogue the decided projects give their value (source "derived"; registered with
# `clusterpacts.selectors.register_derived_source` when the app is ready). Active actors (CPI1) is not
# among them: it also counts companies with two innovation initiatives, which the portal does not record.
PROJECT_KPI_ORDER = ("CPI3", "PRJ1", "C4", "CPI7", "CPI7BIS", "CPI8")
PROJECT_KPIS = frozenset(PROJECT_KPI_ORDER)
# The project KPIs counted from the companies among the partners; the others need only the projects.
PARTNER_KPIS = frozenset({"C4", "CPI7", "CPI7BIS"})
COMPANY_KINDS = frozenset({Organisation.Kind.COMPANY, Organisation.Kind.SME})
COLLABORATION_COMPANIES = 3


@dataclass(frozen=True)
class ProjectBasis:
    """A project a cluster's derived KPIs of a year were counted from, and which of them it counts in."""

    id: int
    reference: str
    title: str
    type_label: str
    decided_on: date
    amount: Decimal
    companies: int
    counts_in: frozenset[str]

    @property
    def kpi_codes(self) -> list[str]:
        """The KPIs it counts in, in the catalogue's order."""
        return [code for code in PROJECT_KPI_ORDER if code in self.counts_in]


@dataclass(frozen=True)
class ProjectFigures:
    """The project KPIs of one cluster's working year, counted from the projects decided in that year by
    the end of `on` (the year's end, or the day asked while the year runs).

    CPI3 and PRJ1: the projects the cluster leads against its reservation (count, amount); C4: those of its
    projects (led or joined) with at least three companies among their partners; CPI7: the unique companies
    in them; CPI7BIS: the SMEs' share of those companies; CPI8: the inter-cluster projects it takes part in.
    """

    cluster_id: int
    year: int
    on: date
    basis: tuple[ProjectBasis, ...]
    companies: int
    smes: int
    # The partners were not read (only KPIs without them were asked: `PARTNER_KPIS`): those have no value
    # here, never a silent 0, and no project counts in them.
    without_partners: bool = False

    def value(self, code: str) -> Decimal | None:
        def counted(kpi: str) -> list[ProjectBasis]:
            return [project for project in self.basis if kpi in project.counts_in]

        if self.without_partners and code in PARTNER_KPIS:
            return None

        if code == "CPI3":
            return Decimal(len(counted("CPI3")))
        if code == "PRJ1":
            return sum((project.amount for project in counted("PRJ1")), Decimal(0))
        if code == "C4":
            return Decimal(len(counted("C4")))
        if code == "CPI7":
            return Decimal(self.companies)
        if code == "CPI7BIS":
            if not self.companies:
                return None
            return (Decimal(self.smes) * 100 / Decimal(self.companies)).quantize(Decimal("0.01"))
        if code == "CPI8":
            return Decimal(len(counted("CPI8")))
        return None


class _ProjectRow(NamedTuple):
    reference: str
    title: str
    type: str
    lead: int
    decided_on: date
    amount: Decimal


def project_figures(
    *,
    cluster_ids: Collection[int],
    on: dict[int, date],
    clusters: QuerySet | None = None,
    codes: Collection[str] | None = None,
) -> dict[tuple[int, int], ProjectFigures]:
    """`ProjectFigures` of each cluster and year, keyed by (cluster id, year), where `on` gives each year
    the day it is counted to. Two queries (the projects with their other clusters, their partners) whatever
    the clusters, years or projects, and whether there are any. `clusters`: the same clusters as a queryset,
    filtered on in a subquery (3,000 ids as parameters cost Django 100 ms to prepare, four times over).
    `codes`: the KPIs asked; when none of them is counted from the partners (`PARTNER_KPIS`), the partners
    are not read (a comparison of CPI3 across 3,000 clusters: 25,000 partners, 110 ms) and those KPIs are
    left without a value."""
    ids = set(cluster_ids)
    with_partners = codes is None or not PARTNER_KPIS.isdisjoint(codes)
    windows = Q()
    for year, day in on.items():
        windows |= Q(decided_on__gte=date(year, 1, 1), decided_on__lte=day)
    counted = Project.objects.filter(windows).involving(ids if clusters is None else clusters.values("pk"))
    projects: dict[int, _ProjectRow] = {}
    others: dict[int, set[int]] = defaultdict(set)
    for pk, reference, title, kind, lead, decided_on, amount, other in counted.order_by(
        "decided_on", "reference"
    ).values_list("pk", "reference", "title", "type", "lead_cluster_id", "decided_on", "amount", "clusters"):
        projects[pk] = _ProjectRow(reference, title, kind, lead, decided_on, amount)
        if other is not None:
            others[pk].add(other)
    firms_of: dict[int, dict[int, bool]] = defaultdict(dict)
    if with_partners:
        partners = ProjectPartner.objects.filter(
            project__in=counted.values("pk"), organisation__kind__in=COMPANY_KINDS
        ).order_by()  # no ordering: the partners' own sorts by project and name, which a count does not need
        for project_id, organisation_id, kind in partners.values_list(
            "project_id", "organisation_id", "organisation__kind"
        ):
            firms_of[project_id][organisation_id] = kind == Organisation.Kind.SME
    bases: dict[tuple[int, int], list[ProjectBasis]] = defaultdict(list)
    companies: dict[tuple[int, int], dict[int, bool]] = defaultdict(dict)
    type_labels = {kind.value: str(kind.label) for kind in Project.Type}  # translated once, not per project
    for pk, row in projects.items():
        lead, day = row.lead, row.decided_on
        firms = firms_of[pk]
        collaboration = len(firms) >= COLLABORATION_COMPANIES
        inter = row.type == Project.Type.INTER_CLUSTER
        for cluster_id in ({lead} | others[pk]) & ids:
            counts_in = set()
            if cluster_id == lead and not inter:
                counts_in |= {"CPI3", "PRJ1"}
            if collaboration:
                counts_in |= PARTNER_KPIS
                companies[cluster_id, day.year].update(firms)
            if inter:
                counts_in.add("CPI8")
            bases[cluster_id, day.year].append(
                ProjectBasis(
                    id=pk,
                    reference=row.reference,
                    title=row.title,
                    type_label=type_labels[row.type],
                    decided_on=day,
                    amount=row.amount,
                    companies=len(firms),
                    counts_in=frozenset(counts_in),
                )
            )
    # Read with .get: indexing the defaultdicts would make an empty list and dict for each of 3,000 clusters.
    figures = {}
    for cluster_id in ids:
        for year, day in on.items():
            firms = companies.get((cluster_id, year), {})
            figures[cluster_id, year] = ProjectFigures(
                cluster_id=cluster_id,
                year=year,
                on=day,
                basis=tuple(bases.get((cluster_id, year), ())),
                companies=len(firms),
                smes=sum(firms.values()),
                without_partners=not with_partners,
            )
    return figures
