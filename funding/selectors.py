"""Reads of funding (STYLE.md rule 2): where a cluster's chain of support agreements stands on a day.

The flag scan, the briefing, the dashboard, the cluster page, the API, the admin and the agreements
export read these; none of them works out a cap date, a final term or a renewal window for itself.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet

from clusterpacts.models import Cluster
from core.roles import User, is_reader
from evaluations.models import Evaluation
from funding.models import (
    ONE_DAY,
    Allocation,
    BudgetYear,
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


def agreement_standings(*, clusters: QuerySet[Cluster], as_of: date) -> dict[int, AgreementStanding]:
    """The standing of each cluster's chain on `as_of`, by cluster id. A cluster none of whose agreements
    had started by then has none. Two queries, however many clusters."""
    chains: dict[int, list[SupportAgreement]] = defaultdict(list)
    agreements = SupportAgreement.objects.filter(cluster__in=clusters).known_on(as_of).select_related("cluster")
    for agreement in agreements.order_by("start_date"):
        chains[agreement.cluster_id].append(agreement)
    interim_done: dict[int, list[date]] = defaultdict(list)
    completed = Evaluation.objects.filter(cluster__in=clusters, completed_on__lte=as_of).interim().completed()
    for cluster_id, completed_on in completed.values_list("cluster_id", "completed_on"):
        interim_done[cluster_id].append(completed_on)
    standings = {pk: _standing(chain, interim_done[pk], as_of) for pk, chain in chains.items()}
    return {pk: standing for pk, standing in standings.items() if standing is not None}


def agreement_standing(*, cluster: Cluster, as_of: date) -> AgreementStanding | None:
    """The standing of one cluster's chain on `as_of`; None when none of its agreements had started."""
    return agreement_standings(clusters=Cluster.objects.filter(pk=cluster.pk), as_of=as_of).get(cluster.pk)


def _standing(chain: list[SupportAgreement], interim_done: list[date], as_of: date) -> AgreementStanding | None:
    """`chain`: one cluster's agreements there were on `as_of`, by start date (one chain, without gaps)."""
    started = [agreement for agreement in chain if agreement.start_date <= as_of]
    if not started:
        return None
    agreement, term = started[-1], agreement_term(started[-1])
    running = as_of <= agreement.end_date
    has_successor = any(other.predecessor_id == agreement.pk for other in chain)
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
        last_agreement=chain[-1],
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


@dataclass(frozen=True)
class Reservation:
    cluster: int
    cluster_name: str
    amount: Decimal


@dataclass(frozen=True)
class BudgetYearFigures:
    """One budget year as `user` may see it. `other` and `remaining` need every allocation of the year,
    so they are None for a reader who may not see them all (a cluster manager)."""

    year: int
    envelope: Decimal
    reservations: list[Reservation]
    reserved: Decimal
    inter_cluster: Decimal
    other: Decimal | None
    remaining: Decimal | None
    decided: bool  # the reader sees at least one allocation of the year (decided by `as_of`, if given)


def budget_years(*, user: User, from_year: int | None = None, as_of: date | None = None) -> list[BudgetYearFigures]:
    """Every budget year (from `from_year` on): envelope, the reservations and allocations `user` may see.

    With `as_of`, only the allocations decided by the end of that day count (`Allocation.objects.known_on`):
    one decided later is not there yet; one without a decision day counts from the start of its year.
    """
    years = BudgetYear.objects.for_user(user).order_by("year")
    if from_year is not None:
        years = years.filter(year__gte=from_year)
    visible = Allocation.objects.for_user(user).filter(budget_year__in=years).select_related("cluster")
    if as_of is not None:
        visible = visible.known_on(as_of)
    allocations: dict[int, list[Allocation]] = defaultdict(list)
    for allocation in visible:
        allocations[allocation.budget_year_id].append(allocation)
    sees_all = is_reader(user)
    return [_budget_year(year, allocations[year.pk], sees_all=sees_all) for year in years]


def _budget_year(year: BudgetYear, items: list[Allocation], *, sees_all: bool) -> BudgetYearFigures:
    def total(purpose: str) -> Decimal:
        return sum((a.amount for a in items if a.purpose == purpose), Decimal(0))

    reservations = sorted(
        (
            Reservation(a.cluster.pk, a.cluster.name, a.amount)
            for a in items
            if a.purpose == Allocation.Purpose.COMPETITIVENESS and a.cluster is not None
        ),
        key=lambda r: r.cluster_name,
    )
    allocated = sum((a.amount for a in items), Decimal(0))
    return BudgetYearFigures(
        year=year.year,
        envelope=year.envelope,
        reservations=reservations,
        reserved=sum((r.amount for r in reservations), Decimal(0)),
        inter_cluster=total(Allocation.Purpose.INTER_CLUSTER),
        other=total(Allocation.Purpose.OTHER) if sees_all else None,
        remaining=year.envelope - allocated if sees_all else None,
        decided=bool(items),
    )
