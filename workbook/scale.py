"""Scale data: a consistent programme of thousands of clusters over many working years, for the benchmarks
of issue 16 (`python manage.py generate_scale_data`).

What it holds, per cluster: organisations and memberships (SMEs and others, most paying, some leaving),
signed pact versions with their commitments, an accepted annual plan a year with a target for every active
KPI, an annual report a working year with a value for every reported KPI and its workflow steps (in the last
working year some still submitted, returned or draft, and a few never started), a chain of 3-year support
agreements up to the 10-year cap, each extension resting on an interim evaluation completed during its
predecessor's term (with findings and lessons), a competitiveness reservation a budget year and projects
decided against it (mostly within it, a few over). Per group of clusters (`GROUP_SIZE`) an inter-cluster
allocation a year and inter-cluster projects; per year an envelope that every allocation fits in.

Deterministic: every figure and day is drawn from a `random.Random` seeded with the seed, the aggregate and
the cluster's number (`ScaleData.rng`), so the same options give the same rows, whatever the batch size, and
a change to one aggregate leaves the others' draws alone. Nothing reads the clock: the data stands on
`ScaleOptions.stands_on` (1 December of the year after the last working year) and all of it happened by then.

Fast: the rows are written as plain values (`workbook.bulk`: COPY on PostgreSQL), bypassing the services,
which are for one write at a time; every rule they check holds by construction, and
tests/workbook/test_generate_scale_data.py checks the rules (services, `full_clean`, the history import) on a
small run. No history rows (simple_history) are written: scale data has no change history.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import TypeVar

from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction

from clusterpacts.models import (
    AnnualPlan,
    AnnualReport,
    Cluster,
    ClusterPact,
    Commitment,
    KpiDefinition,
    KpiTarget,
    KpiTargetTally,
    KpiValue,
    Membership,
    Organisation,
    ReportEvent,
    Workflow,
    default_report_due_on,
)
from clusterpacts.services import kpi_tallies_refresh
from evaluations.models import Conclusion, Evaluation, Finding, Lesson, Stage
from funding.models import (
    ONE_DAY,
    Allocation,
    BudgetYear,
    Project,
    ProjectPartner,
    SupportAgreement,
    cap_date_for,
    latest_end_for,
)
from workbook.bulk import Table, reset_sequences

Choice = TypeVar("Choice")
GROUP_SIZE = 25  # clusters per group: the partners of an inter-cluster allocation and of its projects
MILLION = Decimal(1_000_000)
THOUSAND = Decimal(1000)
DOMAINS = (
    "chemie en kunststoffen",
    "materialen",
    "energie",
    "logistiek",
    "agrovoeding",
    "blauwe economie",
    "gezondheidstechnologie",
    "digitale technologie",
    "bouw",
    "textiel",
    "mobiliteit",
    "maakindustrie",
)
MEMBER_KINDS = {
    Organisation.Kind.SME: 58,
    Organisation.Kind.COMPANY: 22,
    Organisation.Kind.KNOWLEDGE_INSTITUTION: 12,
    Organisation.Kind.GOVERNMENT: 4,
    Organisation.Kind.OTHER: 4,
}
PAYING = {  # the chance that a member of a kind pays its membership fee
    Organisation.Kind.SME: 0.9,
    Organisation.Kind.COMPANY: 0.9,
    Organisation.Kind.KNOWLEDGE_INSTITUTION: 0.6,
    Organisation.Kind.GOVERNMENT: 0.3,
    Organisation.Kind.OTHER: 0.3,
}
KIND_NAMES = {
    Organisation.Kind.SME: "Kmo",
    Organisation.Kind.COMPANY: "Bedrijf",
    Organisation.Kind.KNOWLEDGE_INSTITUTION: "Kennisinstelling",
    Organisation.Kind.GOVERNMENT: "Overheid",
    Organisation.Kind.OTHER: "Organisatie",
}
COMPANY_KINDS = frozenset({Organisation.Kind.COMPANY, Organisation.Kind.SME})
# The states the last working year's reports are caught in on the day the data stands on (weights).
LAST_YEAR_STATES = {"accepted": 70, "submitted": 12, "returned": 6, "draft": 8, "missing": 4}
RETURN_REASONS = (
    "De KPI-waarden sluiten niet aan bij de jaarrekening; graag nakijken.",
    "Het verhaal beschrijft de internationale samenwerkingen niet; graag aanvullen.",
    "De bijkomende investeringen zijn niet onderbouwd; graag een toelichting.",
)
PLAN_RETURN_REASON = "Graag de streefwaarden per actie toelichten."
ACTIONS = (
    "roadmapsessies per innovatiedomein, matchmaking tussen leden en kennisinstellingen",
    "projectideeën uitwerken tot ICON- en cSBO-voorstellen, internationale missies",
    "opleidingen voor kmo's, netwerkevenementen en een ledenbevraging",
    "interclusterworkshops, valorisatie van afgeronde projecten, nieuwe leden werven",
)
LESSONS = {
    Lesson.Kind.GOOD_PRACTICE: (
        "Thematische werkgroepen brengen kmo's en kennisinstellingen sneller samen.",
        "Een vaste projectcoach per voorstel verhoogt de slaagkans van projectaanvragen.",
        "Gezamenlijke evenementen met andere clusters trekken nieuwe leden aan.",
    ),
    Lesson.Kind.BOTTLENECK: (
        "Kmo's haken af bij lange aanvraagprocedures.",
        "De rapportering van de impact-KPI's steunt op ramingen van de leden.",
        "Internationale samenwerkingen blijven beperkt tot enkele grote leden.",
    ),
}
FOLLOW_UP = "Opgevolgd in het volgende jaarplan en de volgende versie van het clusterpact."
FINDINGS = {
    Conclusion.LARGELY_ACHIEVED: "De doelstellingen zijn grotendeels gehaald.",
    Conclusion.PARTLY_ACHIEVED: "De doelstellingen zijn gedeeltelijk gehaald.",
    Conclusion.NOT_ACHIEVED: "De doelstellingen zijn niet gehaald.",
}
CONCLUSIONS = {Conclusion.LARGELY_ACHIEVED: 55, Conclusion.PARTLY_ACHIEVED: 35, Conclusion.NOT_ACHIEVED: 10}
EVALUATORS = ("Evaluatiebureau Noord", "Evaluatiebureau Zuid", "Onderzoeksgroep Beleidsevaluatie")
COMMITMENTS = {
    Commitment.Party.CLUSTER_ORGANISATION: "De clusterorganisatie voert het competitiviteitsprogramma uit",
    Commitment.Party.MEMBERS: "De leden cofinancieren de werking en nemen deel aan de projecten",
    Commitment.Party.GOVERNMENT: "De overheid ondersteunt de werking en reserveert projectmiddelen",
}


@dataclass(frozen=True)
class ProjectType:
    """How a type of project decided against a reservation is drawn."""

    weight: int
    months: tuple[int, int]  # how long it runs
    companies: tuple[int, int]  # partners of the lead cluster that are companies
    institutes: tuple[int, int]  # and knowledge institutions


PROJECT_TYPES = {
    Project.Type.ICON: ProjectType(35, (24, 48), (2, 5), (1, 2)),
    Project.Type.CSBO: ProjectType(20, (36, 48), (1, 4), (1, 3)),
    Project.Type.FEASIBILITY: ProjectType(25, (6, 12), (1, 2), (0, 1)),
    Project.Type.TRANSITION: ProjectType(12, (24, 36), (2, 4), (0, 2)),
    Project.Type.OTHER: ProjectType(8, (12, 24), (1, 3), (0, 1)),
}
# A first-year target of a unit: a whole number from `low` to `high`, times `step`.
TARGET_RANGES = {
    KpiDefinition.Unit.COUNT: (5, 60, 1),
    KpiDefinition.Unit.PERCENT: (40, 80, 1),
    KpiDefinition.Unit.EUR: (20, 80, 50_000),
    KpiDefinition.Unit.MEUR: (2, 40, 1),
    KpiDefinition.Unit.FTE: (5, 90, 1),
}
RESERVATION_SHARES = {1: 3, 2: 4, 4: 3, 8: 2}  # eighths of the default reservation a cluster gets a year: weight
CHAIN_DELAYS = {0: 40, 1: 35, 2: 25}  # years from a cluster's start to its first support agreement: weight


@dataclass(frozen=True)
class ScaleOptions:
    clusters: int
    years: int  # working years, the last one being `last_year`
    seed: int
    last_year: int
    batch_size: int = 10_000

    @property
    def first_year(self) -> int:
        return self.last_year - self.years + 1

    @property
    def stands_on(self) -> date:
        """The day the data stands on: everything in it happened by then (a workflow step, a signing, a
        decision); what comes later (the next extension, an evaluation's completion) is not there yet."""
        return date(self.last_year + 1, 12, 1)


def default_last_year(today: date) -> int:
    """The last working year whose data can stand on `today`: last year once 1 December has come, else the
    year before."""
    return today.year - 1 if today >= date(today.year, 12, 1) else today.year - 2


def enterprise_number(base: int) -> str:
    """A valid enterprise number (mod 97) from an 8-digit base starting with 0 or 1, as the KBO issues them."""
    return f"{base:08d}{97 - base % 97:02d}"


def between(rng: random.Random, low: int, high: int) -> int:
    """A whole number from `low` to `high`, as `randint` but cheaper (for the figures drawn by the million)."""
    return low + int(rng.random() * (high - low + 1))


def weighted(rng: random.Random, weights: Mapping[Choice, int]) -> Choice:
    """One of the keys of `weights`, drawn by its weight."""
    return rng.choices(list(weights), list(weights.values()))[0]


@dataclass(frozen=True)
class Term:
    """One support agreement of a cluster's chain, as drawn."""

    start: date
    end: date
    signed_on: date


@dataclass(frozen=True, slots=True)
class Member:
    """A membership as the generator keeps it: the organisation, its kind and the days it existed and was a
    member."""

    organisation: int
    kind: str
    joined_on: date
    left_on: date | None
    founded_on: date | None
    ceased_on: date | None

    def on(self, day: date) -> bool:
        """A member on `day` (joined, not yet left) that existed then: it may be a project's partner."""
        return (
            self.joined_on <= day
            and (self.left_on is None or self.left_on >= day)
            and (self.founded_on is None or self.founded_on <= day)
            and (self.ceased_on is None or self.ceased_on >= day)
        )


@dataclass(frozen=True)
class Pact:
    """A pact version as the lessons need it: which, and when it was signed."""

    pk: int
    signed_on: date


@dataclass
class Outline:
    """One cluster as drawn before anything is written: what more than one aggregate needs to know of it."""

    index: int
    pk: int
    slug: str
    name: str
    group: int
    active: bool
    recognised_on: date
    started_on: date
    reservation: Decimal  # its competitiveness reservation a year
    chain_start: date
    terms: list[Term]  # the agreements registered (signed) by the day the data stands on
    next_term: Term | None  # the extension the chain still needs, not registered yet (None: the cap is reached)
    evaluation_late: bool  # the interim evaluation `next_term` needs is not completed by the day
    members: list[Member] = field(default_factory=list)
    pacts: list[Pact] = field(default_factory=list)


@dataclass(frozen=True)
class Step:
    """A workflow step of a plan or report: a ReportEvent's fields but its document."""

    from_status: str
    to_status: str
    at: datetime
    by_name: str
    comment: str = ""


@dataclass(frozen=True)
class ProjectDraw:
    """A project as drawn: its row, its other clusters and its partners (organisation, role), lead first."""

    values: dict[str, object]
    clusters: list[int]
    partners: list[tuple[int, str]]


class ScaleData:
    """Writes the scale data, aggregate by aggregate (`run`); `log` hears the progress."""

    def __init__(self, options: ScaleOptions, log: Callable[[str], None] = lambda line: None) -> None:
        self.options = options
        self.log = log
        self.tables: dict[type[models.Model], Table] = {}
        self.outlines: list[Outline] = []
        self.kpis = list(KpiDefinition.objects.filter(active=True).order_by("position", "code"))
        self.reported = [kpi for kpi in self.kpis if kpi.source == KpiDefinition.Source.REPORTED]
        self.reservations: dict[tuple[int, int], Decimal] = {}  # (cluster index, year) -> amount
        self.inter_cluster: dict[tuple[int, int], Decimal] = {}  # (group, year) -> amount allocated

    # --- the run -------------------------------------------------------------------------------------------

    def rng(self, aggregate: str, *key: object) -> random.Random:
        """The generator of one aggregate of one cluster (or group, or year): draws elsewhere never shift it."""
        name = ":".join(str(part) for part in (self.options.seed, aggregate, *key))
        return random.Random(name)  # noqa: S311 - test data, not security

    def table(self, model: type[models.Model]) -> Table:
        if model not in self.tables:
            self.tables[model] = Table(model, batch_size=self.options.batch_size)
        return self.tables[model]

    @transaction.atomic
    def run(self) -> dict[str, int]:
        """Write everything in one transaction (all or nothing); returns the rows written per table."""
        steps: list[tuple[str, Callable[[], None]]] = [
            ("clusters", self.clusters),
            ("organisations and memberships", self.organisations),
            ("pacts and commitments", self.pacts),
            ("annual plans and targets", self.plans),
            ("annual reports and values", self.reports),
            ("evaluations and lessons", self.evaluations),
            ("support agreements", self.agreements),
            ("budget years and allocations", self.budget),
            ("projects and partners", self.projects),
        ]
        for label, step in steps:
            before, started = self.written(), time.monotonic()
            step()
            for table in self.tables.values():
                table.flush()
            rows = self.written() - before
            self.log(f"  {label:<32} {rows:>10,} rows {time.monotonic() - started:>8.1f} s")
        reset_sequences(self.tables)
        started = time.monotonic()
        tallied = kpi_tallies_refresh()  # what the services keep with each value and target they write
        self.log(f"  {'KPI target tallies':<32} {tallied:>10,} rows {time.monotonic() - started:>8.1f} s")
        return {
            **{table_label(model): table.count for model, table in self.tables.items()},
            table_label(KpiTargetTally): tallied,
        }

    def written(self) -> int:
        return sum(table.count for table in self.tables.values())

    def at(self, day: date, rng: random.Random) -> datetime:
        """A time in office hours on `day` (in UTC, the same day in Brussels)."""
        return datetime(day.year, day.month, day.day, rng.randint(7, 15), rng.randint(0, 59), tzinfo=UTC)

    def groups(self) -> Iterator[tuple[int, list[Outline]]]:
        for start in range(0, len(self.outlines), GROUP_SIZE):
            yield start // GROUP_SIZE, self.outlines[start : start + GROUP_SIZE]

    # --- clusters ------------------------------------------------------------------------------------------

    def clusters(self) -> None:
        for index in range(self.options.clusters):
            self.outlines.append(self.cluster(index))

    def cluster(self, index: int) -> Outline:
        """A cluster started in the first working year, recognised before, with its chain of support
        agreements: 3-year terms from the chain's start (the cluster's, or one or two years later) up to the
        10-year cap, each registered once signed (20 to 75 days before it starts) by the day the data stands
        on. About one in four chains whose extension is due within the renewal window has not registered it
        yet, and for half of those the interim evaluation it needs is late."""
        rng = self.rng("cluster", index)
        stands_on = self.options.stands_on
        started_on = date(self.options.first_year, 1 if rng.random() < 0.6 else rng.randint(2, 12), 1)
        recognised_on = started_on - timedelta(days=rng.randint(45, 330))
        active = rng.random() >= 0.02
        eighths = weighted(rng, RESERVATION_SHARES)
        reservation = (Decimal(settings.CLUSTERPACTS_DEFAULT_RESERVATION_EUR) * eighths / 8).quantize(Decimal(1))
        chain_start = started_on + relativedelta(years=weighted(rng, CHAIN_DELAYS))
        withhold, late = rng.random() < 0.25, rng.random() < 0.5
        terms: list[Term] = []
        next_term: Term | None = None
        start = chain_start
        while True:
            end = latest_end_for(start, chain_start)
            term = Term(start, end, start - timedelta(days=rng.randint(20, 75)))
            if term.signed_on > stands_on or (terms and withhold and self.renewal_due(term) and start > stands_on):
                next_term = term
                break
            terms.append(term)
            if end >= cap_date_for(chain_start):
                break
            start = end + ONE_DAY
        number, group = f"{index + 1:04d}", index // GROUP_SIZE
        slug, name = f"schaal-{number}", f"Cluster {number}"
        pk = self.table(Cluster).add(
            name=name,
            slug=slug,
            kind=Cluster.Kind.SPEARHEAD if rng.random() < 0.75 else Cluster.Kind.BUSINESS_NETWORK,
            domain=DOMAINS[group % len(DOMAINS)],
            legal_entity=f"{name} vzw",
            enterprise_number=enterprise_number(1_000_000 + index),
            website=f"https://{slug}.example",
            recognised_on=recognised_on,
            started_on=started_on,
            active=active,
            description=f"Schaaldata: cluster {index + 1}, groep {group + 1}.",
        )
        return Outline(
            index=index,
            pk=pk,
            slug=slug,
            name=name,
            group=group,
            active=active,
            recognised_on=recognised_on,
            started_on=started_on,
            reservation=reservation,
            chain_start=chain_start,
            terms=terms,
            next_term=next_term,
            evaluation_late=late and next_term is not None and self.renewal_due(next_term),
        )

    def renewal_due(self, extension: Term) -> bool:
        """The agreement that `extension` would extend ends within the renewal window of the day the data
        stands on (or has ended): the flag scan asks for its renewal."""
        ends = extension.start - ONE_DAY
        return (ends - self.options.stands_on).days <= settings.CLUSTERPACTS_RENEWAL_WINDOW_DAYS

    # --- organisations and memberships ---------------------------------------------------------------------

    def organisations(self) -> None:
        """Each cluster's own members (15 to 45 joining at its start, then up to five a year; about 4 % leave
        a year, and a quarter of the SMEs that leave cease), and up to three companies of the cluster before
        it in its group that join it later. Every organisation has an enterprise number and (but knowledge
        institutions) a founding day before it joined."""
        for outline in self.outlines:
            for member in self.own_members(outline):
                self.table(Organisation).add(
                    name=f"{KIND_NAMES[Organisation.Kind(member.kind)]} {member.organisation:06d} ({outline.name})",
                    kind=member.kind,
                    enterprise_number=enterprise_number(10_000_000 + member.organisation),
                    founded_on=member.founded_on,
                    ceased_on=member.ceased_on,
                )
                outline.members.append(member)
            outline.members += self.guest_members(outline)
            paying = self.rng("paying", outline.index)
            for member in outline.members:
                self.table(Membership).add(
                    organisation_id=member.organisation,
                    cluster_id=outline.pk,
                    joined_on=member.joined_on,
                    left_on=member.left_on,
                    paying=paying.random() < PAYING[Organisation.Kind(member.kind)],
                )

    def own_members(self, outline: Outline) -> list[Member]:
        rng = self.rng("members", outline.index)
        first_pk = self.table(Organisation).count + 1
        members: list[Member] = []

        def join(day: date) -> None:
            kind = weighted(rng, MEMBER_KINDS)
            founded = None
            if kind != Organisation.Kind.KNOWLEDGE_INSTITUTION:
                years = {Organisation.Kind.SME: (1, 25), Organisation.Kind.COMPANY: (8, 60)}.get(kind, (5, 60))
                founded = date(day.year - rng.randint(*years), rng.randint(1, 12), rng.randint(1, 28))
            members.append(Member(first_pk + len(members), kind, day, None, founded, None))

        for _ in range(rng.randint(15, 45)):
            join(outline.started_on)
        for year in range(outline.started_on.year + 1, self.options.stands_on.year + 1):
            for position, member in enumerate(members):
                if member.left_on is None and rng.random() < 0.04:
                    left = date(year, rng.randint(1, 11), rng.randint(1, 28))
                    if left <= member.joined_on:
                        continue
                    # An SME that leaves sometimes leaves as it stops its activity.
                    ceased = left if member.kind == Organisation.Kind.SME and rng.random() < 0.25 else None
                    members[position] = Member(
                        member.organisation, member.kind, member.joined_on, left, member.founded_on, ceased
                    )
            for _ in range(rng.randint(0, 5)):
                join(date(year, rng.randint(1, 11), 1))
        return members

    def guest_members(self, outline: Outline) -> list[Member]:
        if outline.index % GROUP_SIZE == 0:
            return []
        rng = self.rng("guests", outline.index)
        last = self.options.stands_on.year
        candidates = [
            member
            for member in self.outlines[outline.index - 1].members
            if member.kind in COMPANY_KINDS and member.ceased_on is None and member.joined_on.year < last
        ]
        guests = rng.sample(candidates, min(len(candidates), rng.randint(0, 3)))
        return [
            Member(
                guest.organisation,
                guest.kind,
                date(rng.randint(guest.joined_on.year + 1, last), rng.randint(1, 11), 1),
                None,
                guest.founded_on,
                None,
            )
            for guest in guests
        ]

    # --- pacts ---------------------------------------------------------------------------------------------

    def pacts(self) -> None:
        """Version 1 signed in the cluster's first year, then a new version every 31 January after the review of
        that year's plan; the last one signed, the others superseded. A commitment of each party in each."""
        stands_on = self.options.stands_on
        for outline in self.outlines:
            rng = self.rng("pacts", outline.index)
            first = outline.started_on + timedelta(days=rng.randint(60, 330))
            later = [date(year, 1, 31) for year in range(first.year + 1, stands_on.year + 1)]
            days = [first] + [day for day in later if (day - first).days > 180 and day <= stands_on]
            for version, signed_on in enumerate(days, start=1):
                current = version == len(days)
                pk = self.table(ClusterPact).add(
                    cluster_id=outline.pk,
                    version=version,
                    status=ClusterPact.Status.SIGNED if current else ClusterPact.Status.SUPERSEDED,
                    signed_on=signed_on,
                    programme_summary=f"Competitiviteitsprogramma van {outline.name}, versie {version}.",
                )
                outline.pacts.append(Pact(pk, signed_on))
                for party, text in COMMITMENTS.items():
                    self.table(Commitment).add(
                        pact_id=pk,
                        party=party,
                        description=f"{text} (versie {version}).",
                        status=Commitment.Status.IN_PROGRESS if current else Commitment.Status.MET,
                        due_on=date(signed_on.year, 12, 31),
                    )

    # --- annual plans --------------------------------------------------------------------------------------

    def targets(self, outline: Outline, year: int) -> dict[str, Decimal]:
        """A cluster's target for `year` for every active KPI, by code (a report's values are drawn around
        them): counts and amounts growing with the cluster's age, percentages from 40 to 80."""
        rng = self.rng("targets", outline.index, year)
        growth = 1 + Decimal(year - outline.started_on.year) / 10
        found: dict[str, Decimal] = {}
        for kpi in self.kpis:
            low, high, unit = TARGET_RANGES[KpiDefinition.Unit(kpi.unit)]
            base = Decimal(between(rng, low, high)) * unit
            found[kpi.code] = base if kpi.unit == KpiDefinition.Unit.PERCENT else (base * growth).quantize(Decimal(1))
        return found

    def plans(self) -> None:
        """An accepted plan for every year from the cluster's start to the year the data stands in (submitted
        in November of the year before, reviewed one to three weeks later; one in twenty returned once
        first), and for the year after: submitted (45 %) or a draft (25 %) in November. Every plan has a
        target for every active KPI."""
        stands_on = self.options.stands_on
        for outline in self.outlines:
            rng = self.rng("plans", outline.index)
            for year in range(outline.started_on.year, stands_on.year + 2):
                if year <= stands_on.year:
                    submitted = date(year - 1, 11, 10) + timedelta(days=rng.randint(0, 25))
                    submitted = max(submitted, outline.recognised_on + timedelta(days=14))
                    state = "returned once" if rng.random() < 0.05 else "accepted"
                else:
                    submitted = date(year - 1, 11, 1) + timedelta(days=rng.randint(0, 29))
                    state = weighted(rng, {"submitted": 45, "draft": 25, "none": 30})
                if state == "none":
                    continue
                steps = self.plan_steps(outline, state, submitted, rng)
                actions = ACTIONS[(year - outline.started_on.year) % len(ACTIONS)]
                plan = self.put_document(
                    AnnualPlan,
                    steps,
                    cluster_id=outline.pk,
                    year=year,
                    planned_actions=f"Jaarplan {year}: {actions}.",
                )
                for kpi, value in zip(self.kpis, self.targets(outline, year).values(), strict=True):
                    self.table(KpiTarget).add(
                        plan_id=plan, kpi_id=kpi.pk, cluster_id=outline.pk, year=year, value=value
                    )

    def plan_steps(self, outline: Outline, state: str, submitted: date, rng: random.Random) -> list[Step]:
        if state == "draft":
            return []
        manager, officer = self.people(outline, rng)
        steps = [Step(Workflow.DRAFT, Workflow.SUBMITTED, self.at(submitted, rng), manager)]
        if state == "returned once":
            returned = submitted + timedelta(days=rng.randint(5, 10))
            submitted = returned + timedelta(days=rng.randint(3, 10))
            steps += [
                Step(Workflow.SUBMITTED, Workflow.RETURNED, self.at(returned, rng), officer, PLAN_RETURN_REASON),
                Step(Workflow.RETURNED, Workflow.SUBMITTED, self.at(submitted, rng), manager),
            ]
        if state != "submitted":
            accepted = submitted + timedelta(days=rng.randint(7, 21))
            steps.append(Step(Workflow.SUBMITTED, Workflow.ACCEPTED, self.at(accepted, rng), officer))
        return steps

    def people(self, outline: Outline, rng: random.Random) -> tuple[str, str]:
        """Who takes a document's steps, by name (steps of the past, without accounts): the cluster's manager,
        and one of the officers."""
        return f"Manager {outline.name}", f"Dossierbeheerder {rng.randint(1, 12)}"

    def put_document(self, model: type[AnnualPlan] | type[AnnualReport], steps: list[Step], **values: object) -> int:
        """Write a plan or report in the state its steps leave it in, and its steps: as
        `clusterpacts.services.document_step` sets them, the status of the last step, the time of the last
        submission, and the time and comment of the last review."""
        state: dict[str, object] = {"status": Workflow.DRAFT}
        for step in steps:
            state["status"] = step.to_status
            if step.to_status == Workflow.SUBMITTED:
                state["submitted_at"] = step.at
            else:
                state["reviewed_at"], state["review_comment"] = step.at, step.comment
        pk = self.table(model).add(**values, **state)
        subject = "plan_id" if model is AnnualPlan else "report_id"
        for step in steps:
            self.table(ReportEvent).add(
                **{subject: pk},
                from_status=step.from_status,
                to_status=step.to_status,
                at=step.at,
                by_name=step.by_name,
                comment=step.comment,
            )
        return pk

    # --- annual reports ------------------------------------------------------------------------------------

    def reports(self) -> None:
        """A report on every working year, due 31 March of the next year, with a value for every reported KPI
        (82 % to 125 % of its target). The reports before the last working year are accepted (submitted in
        March, a few late, a few returned once first); the last working year's are in every state
        (`LAST_YEAR_STATES`), a few never started."""
        last = self.options.last_year
        for outline in self.outlines:
            rng = self.rng("reports", outline.index)
            for year in range(outline.started_on.year, last + 1):
                state = weighted(rng, LAST_YEAR_STATES) if year == last else "accepted"
                if state == "accepted" and rng.random() < 0.06:
                    state = "returned once"
                if state == "missing":
                    continue
                actions = ACTIONS[(year - outline.started_on.year) % len(ACTIONS)]
                report = self.put_document(
                    AnnualReport,
                    self.report_steps(outline, year, state, rng),
                    cluster_id=outline.pk,
                    year=year,
                    narrative=f"Werkjaar {year} van {outline.name}: {actions}.",
                    due_on=default_report_due_on(year),
                )
                targets = self.targets(outline, year)
                values = self.rng("values", outline.index, year)
                for kpi in self.reported:
                    value = (targets[kpi.code] * between(values, 82, 125) / 100).quantize(Decimal(1))
                    if kpi.unit == KpiDefinition.Unit.PERCENT:
                        value = min(value, Decimal(100))
                    self.table(KpiValue).add(
                        report_id=report, kpi_id=kpi.pk, cluster_id=outline.pk, year=year, value=value
                    )

    def report_steps(self, outline: Outline, year: int, state: str, rng: random.Random) -> list[Step]:
        if state == "draft":
            return []
        manager, officer = self.people(outline, rng)
        late = rng.random() < 0.06
        submitted = date(year + 1, 3, 1) + timedelta(days=rng.randint(31, 75) if late else rng.randint(0, 30))
        if state == "submitted":  # waiting for its review since a day of the spring or the summer
            submitted += timedelta(days=rng.randint(0, 150))
        steps = [Step(Workflow.DRAFT, Workflow.SUBMITTED, self.at(submitted, rng), manager)]
        if state in ("returned once", "returned"):
            returned = submitted + timedelta(days=rng.randint(14, 45))
            reason = RETURN_REASONS[rng.randrange(len(RETURN_REASONS))]
            steps.append(Step(Workflow.SUBMITTED, Workflow.RETURNED, self.at(returned, rng), officer, reason))
            if state == "returned":
                return steps
            submitted = returned + timedelta(days=rng.randint(5, 20))
            steps.append(Step(Workflow.RETURNED, Workflow.SUBMITTED, self.at(submitted, rng), manager))
        if state != "submitted":
            accepted = submitted + timedelta(days=rng.randint(21, 63))
            steps.append(Step(Workflow.SUBMITTED, Workflow.ACCEPTED, self.at(accepted, rng), officer))
        return steps

    # --- evaluations and lessons ---------------------------------------------------------------------------

    def evaluations(self) -> None:
        """An interim evaluation in every term that is (or is to be) extended, completed 10 to 60 days before
        the extension is signed, or as far as it got by the day the data stands on (a late one is completed
        after that day); a final evaluation once a chain has reached its cap. A completed one has a finding
        per criterion and one to three lessons, most carried into the first pact version signed after it was
        completed."""
        stands_on = self.options.stands_on
        for outline in self.outlines:
            rng = self.rng("evaluations", outline.index)
            for term, extension in zip(outline.terms, [*outline.terms[1:], outline.next_term], strict=True):
                if extension is None:
                    continue
                completes_on = extension.signed_on - timedelta(days=rng.randint(10, 60))
                if extension is outline.next_term and outline.evaluation_late:
                    completes_on = max(completes_on, stands_on + timedelta(days=rng.randint(10, 90)))
                title = f"Tussentijdse evaluatie {term.start.year}-{term.end.year}"
                self.evaluation(outline, Evaluation.Kind.INTERIM, title, term.start, completes_on, rng)
            cap = cap_date_for(outline.chain_start)
            if outline.terms and outline.terms[-1].end == cap and cap + timedelta(days=60) <= stands_on:
                title = f"Eindevaluatie {outline.chain_start.year}-{cap.year}"
                completes_on = cap + timedelta(days=rng.randint(60, 240))
                self.evaluation(outline, Evaluation.Kind.FINAL, title, outline.chain_start, completes_on, rng)

    def evaluation(
        self, outline: Outline, kind: str, title: str, period_start: date, completes_on: date, rng: random.Random
    ) -> None:
        """An evaluation registered about seven months before it completes on `completes_on`, at the stage it
        reached by the day the data stands on (with the day of each stage reached); none if it was not even
        registered by then."""
        stands_on = self.options.stands_on
        registered = completes_on - timedelta(days=rng.randint(200, 260))
        if registered > stands_on:
            return
        days = {
            "started_on": registered + timedelta(days=rng.randint(10, 40)),
            "reporting_on": completes_on - timedelta(days=rng.randint(20, 60)),
            "completed_on": completes_on,
        }
        reached = {name: day for name, day in days.items() if day <= stands_on}
        stage = [Stage.PLANNED, Stage.IN_PROGRESS, Stage.REPORTING, Stage.COMPLETED][len(reached)]
        conclusion = weighted(rng, CONCLUSIONS) if stage == Stage.COMPLETED else ""
        pk = self.table(Evaluation).add(
            cluster_id=outline.pk,
            kind=kind,
            title=title,
            period_start=period_start,
            period_end=max(period_start, registered.replace(day=1) - ONE_DAY),
            evaluator=EVALUATORS[rng.randrange(len(EVALUATORS))],
            stage=stage,
            registered_on=registered,
            planned_on=completes_on,
            conclusion=conclusion,
            summary=f"{title} van {outline.name}.",
            **reached,
        )
        if stage != Stage.COMPLETED:
            return
        for criterion in KpiDefinition.Category.values:
            assessment = rng.choice(Conclusion.values) if rng.random() < 0.4 else conclusion
            self.table(Finding).add(
                evaluation_id=pk, criterion=criterion, assessment=assessment, text=FINDINGS[Conclusion(assessment)]
            )
        later = [pact for pact in outline.pacts if pact.signed_on > completes_on]
        first_kind = rng.randrange(2)
        for number in range(rng.randint(1, 3)):
            lesson_kind = list(LESSONS)[(first_kind + number) % 2]
            draw = rng.random()
            carried = later[0].pk if later and draw < 0.65 else None
            status = Lesson.Status.CARRIED if carried else Lesson.Status.CLOSED if draw < 0.8 else Lesson.Status.OPEN
            texts = LESSONS[lesson_kind]
            self.table(Lesson).add(
                evaluation_id=pk,
                kind=lesson_kind,
                text=f"{texts[(number + outline.index) % len(texts)]} ({title}, les {number + 1})",
                follow_up=FOLLOW_UP if carried else "",
                carried_into_id=carried,
                status=status,
            )

    # --- support agreements --------------------------------------------------------------------------------

    def agreements(self) -> None:
        """Each cluster's chain as drawn (`cluster`), every extension naming its predecessor: operating support
        of 250 000 to 500 000 EUR a year."""
        for outline in self.outlines:
            rng = self.rng("agreements", outline.index)
            predecessor = None
            for link, term in enumerate(outline.terms, start=1):
                years = max(1, round((term.end - term.start).days / 365.25))
                predecessor = self.table(SupportAgreement).add(
                    cluster_id=outline.pk,
                    reference=f"SO-{outline.slug.upper()}-{link}",
                    start_date=term.start,
                    end_date=term.end,
                    amount=Decimal(rng.randint(250, 500)) * THOUSAND * years,
                    signed_on=term.signed_on,
                    predecessor_id=predecessor,
                    chain_start=outline.chain_start,
                )

    # --- budget --------------------------------------------------------------------------------------------

    def budget(self) -> None:
        """A budget year from the first working year to the year after the one the data stands in: a
        reservation per cluster (an inactive one's stop after the last working year), decided in October of
        the year before; per group of clusters an inter-cluster allocation, and one for other initiatives,
        decided early in the year (so none yet for the year after). The envelope leaves 2 % to 8 % free."""
        stands_on = self.options.stands_on
        for year in range(self.options.first_year, stands_on.year + 2):
            rng = self.rng("budget", year)
            running = [
                o for o in self.outlines if o.started_on.year <= year and (o.active or year <= self.options.last_year)
            ]
            allocations: list[tuple[dict[str, object], list[int]]] = []
            allocated = Decimal(0)
            for outline in running:
                self.reservations[outline.index, year] = outline.reservation
                reservation = {
                    "purpose": Allocation.Purpose.COMPETITIVENESS,
                    "cluster_id": outline.pk,
                    "amount": outline.reservation,
                    "description": f"Competitiviteitsprogramma {year}",
                    "decided_on": max(date(year - 1, 10, 15), outline.recognised_on),
                }
                allocations.append((reservation, []))
                allocated += outline.reservation
            reserved = allocated
            if date(year, 3, 1) <= stands_on:
                for group, outlines in self.groups():
                    partners = [o for o in outlines if (o.index, year) in self.reservations]
                    if len(partners) < 2:
                        continue
                    share = sum((o.reservation for o in partners), Decimal(0)) * rng.randint(2, 5) / 100
                    amount = max(Decimal(100_000), round_to(share, 10_000))
                    self.inter_cluster[group, year] = amount
                    inter = {
                        "purpose": Allocation.Purpose.INTER_CLUSTER,
                        "amount": amount,
                        "description": f"Interclusterprojecten groep {group + 1} ({year})",
                        "decided_on": date(year, 2, 1),
                    }
                    allocations.append((inter, [o.pk for o in partners]))
                    allocated += amount
                amount = max(MILLION, round_to(reserved * rng.randint(1, 3) / 100, MILLION))
                other = {
                    "purpose": Allocation.Purpose.OTHER,
                    "amount": amount,
                    "description": f"Andere initiatieven {year}",
                    "decided_on": date(year, 3, 1),
                }
                allocations.append((other, []))
                allocated += amount
            margin = allocated * (100 + rng.randint(2, 8)) / 100 / MILLION
            budget_year = self.table(BudgetYear).add(
                year=year,
                envelope=margin.to_integral_value(rounding=ROUND_CEILING) * MILLION,
                notes=f"Begroting {year} (schaaldata).",
            )
            for values, partner_ids in allocations:
                allocation = self.table(Allocation).add(budget_year_id=budget_year, **values)
                for cluster in partner_ids:
                    self.table(Allocation.partners.through).add(allocation_id=allocation, cluster_id=cluster)

    # --- projects ------------------------------------------------------------------------------------------

    def projects(self) -> None:
        """Each cluster's projects of every year with a reservation, decided by the day the data stands on:
        one to three that together take 55 % to 95 % of it (one year in 25, 102 % to 130 %: more than
        reserved, which the flag scan raises); per group and year one to three inter-cluster projects within
        its inter-cluster allocation, led by one of its clusters with one or two others. The partners are
        members of their clusters on the decision day: one lead partner, companies and knowledge
        institutions, now and then a subcontractor."""
        last = self.options.stands_on.year
        for outline in self.outlines:
            for year in range(outline.started_on.year, last + 1):
                if (outline.index, year) in self.reservations:
                    self.put_projects(self.cluster_projects(outline, year))
        for group, outlines in self.groups():
            for year in range(self.options.first_year, last + 1):
                if (group, year) in self.inter_cluster:
                    self.put_projects(self.inter_cluster_projects(group, outlines, year))

    def put_projects(self, projects: list[ProjectDraw]) -> None:
        for draw in projects:
            project = self.table(Project).add(**draw.values)
            for cluster in draw.clusters:
                self.table(Project.clusters.through).add(project_id=project, cluster_id=cluster)
            for organisation, role in draw.partners:
                self.table(ProjectPartner).add(project_id=project, organisation_id=organisation, role=role)

    def project_values(
        self, reference: str, kind: str, title: str, lead: Outline, decided_on: date, amount: Decimal, months: int
    ) -> dict[str, object]:
        """A project decided on `decided_on`, starting on the first of a month one to four months later, with
        its status on the day the data stands on: completed the day after it ended, running from its start,
        decided before; about one in fifty stopped early."""
        rng = self.rng("project", reference)
        stands_on = self.options.stands_on
        start = decided_on.replace(day=1) + relativedelta(months=rng.randint(1, 4))
        end = start + relativedelta(months=months) - ONE_DAY
        stop = start + relativedelta(months=rng.randint(3, max(3, months - 1)))
        if rng.random() < 0.02 and stop <= stands_on and stop < end:
            status, status_on = Project.Status.STOPPED, stop
        elif end + ONE_DAY <= stands_on:
            status, status_on = Project.Status.COMPLETED, end + ONE_DAY
        elif start <= stands_on:
            status, status_on = Project.Status.RUNNING, start
        else:
            status, status_on = Project.Status.DECIDED, decided_on
        return {
            "reference": reference,
            "title": title,
            "type": kind,
            "lead_cluster_id": lead.pk,
            "decided_on": decided_on,
            "amount": amount,
            "start_date": start,
            "end_date": end,
            "status": status,
            "status_on": status_on,
        }

    def cluster_projects(self, outline: Outline, year: int) -> list[ProjectDraw]:
        rng = self.rng("projects", outline.index, year)
        share = rng.randint(102, 130) if rng.random() < 0.04 else rng.randint(55, 95)
        total = round_to(self.reservations[outline.index, year] * share / 100, THOUSAND)
        count = rng.randint(1, 3)
        kinds = rng.choices(list(PROJECT_TYPES), [kind.weight for kind in PROJECT_TYPES.values()], k=count)
        amounts = split(total, [rng.randint(1, 10) for _ in kinds])
        # Decided once the cluster has started (a cluster that starts late in its first year decides none then).
        days = decision_days(year, count, rng, earliest=outline.started_on)
        found = []
        for number, (kind, amount, day) in enumerate(zip(kinds, amounts, days, strict=False), start=1):
            drawn = PROJECT_TYPES[kind]
            values = self.project_values(
                f"P{year}-{outline.slug.upper()}-{number}",
                kind,
                f"{Project.Type(kind).label} {DOMAINS[outline.group % len(DOMAINS)]} {year}-{number} ({outline.name})",
                outline,
                day,
                amount,
                rng.randint(*drawn.months),
            )
            partners = self.partners(outline, day, rng.randint(*drawn.companies), rng.randint(*drawn.institutes), rng)
            if kind == Project.Type.CSBO and rng.random() < 0.5:  # a cSBO project is often led by its institute
                partners = lead_by_institute(partners, outline.members)
            found.append(ProjectDraw(values, [], partners))
        return found

    def partners(
        self, outline: Outline, day: date, companies: int, institutes: int, rng: random.Random, *, lead: bool = True
    ) -> list[tuple[int, str]]:
        """Members of `outline`'s cluster on `day`: up to `companies` companies (the first the lead partner, with
        `lead`), up to `institutes` knowledge institutions, and one time in five a subcontractor."""
        on_day = [member for member in outline.members if member.on(day)]
        firms = [m.organisation for m in on_day if m.kind in COMPANY_KINDS]
        knowledge = [m.organisation for m in on_day if m.kind == Organisation.Kind.KNOWLEDGE_INSTITUTION]
        others = [m.organisation for m in on_day if m.kind in (Organisation.Kind.GOVERNMENT, Organisation.Kind.OTHER)]
        partners = [(o, ProjectPartner.Role.PARTNER.value) for o in rng.sample(firms, min(companies, len(firms)))]
        partners += [
            (o, ProjectPartner.Role.PARTNER.value) for o in rng.sample(knowledge, min(institutes, len(knowledge)))
        ]
        if others and rng.random() < 0.2:
            partners.append((rng.choice(others), ProjectPartner.Role.SUBCONTRACTOR.value))
        if lead and partners:
            partners[0] = (partners[0][0], ProjectPartner.Role.LEAD.value)
        return partners

    def inter_cluster_projects(self, group: int, outlines: list[Outline], year: int) -> list[ProjectDraw]:
        rng = self.rng("inter-cluster", group, year)
        running = [o for o in outlines if (o.index, year) in self.reservations]
        total = round_to(self.inter_cluster[group, year] * rng.randint(50, 95) / 100, THOUSAND)
        count = rng.randint(1, 3)
        amounts = split(total, [rng.randint(1, 10) for _ in range(count)])
        found = []
        for number, (amount, day) in enumerate(zip(amounts, decision_days(year, count, rng), strict=True), start=1):
            started = [o for o in running if o.started_on <= day]
            if len(started) < 2:
                continue
            lead = rng.choice(started)
            others = rng.sample([o for o in started if o is not lead], min(len(started) - 1, rng.randint(1, 2)))
            values = self.project_values(
                f"P{year}-IC{group + 1:03d}-{number}",
                Project.Type.INTER_CLUSTER,
                f"Interclusterproject {year}-{number}, groep {group + 1}",
                lead,
                day,
                amount,
                rng.randint(24, 36),
            )
            partners = self.partners(lead, day, rng.randint(1, 3), rng.randint(0, 1), rng)
            for other in others:
                partners += self.partners(other, day, rng.randint(1, 2), 0, rng, lead=False)
            once: dict[int, str] = {}
            for organisation, role in partners:  # a member of two of the clusters takes part once
                once.setdefault(organisation, role)
            found.append(ProjectDraw(values, [o.pk for o in others], list(once.items())))
        return found


def lead_by_institute(partners: list[tuple[int, str]], members: list[Member]) -> list[tuple[int, str]]:
    """The same partners with the first knowledge institution among them as the lead partner (if any)."""
    kinds = {member.organisation: member.kind for member in members}
    institute = next((o for o, _r in partners if kinds[o] == Organisation.Kind.KNOWLEDGE_INSTITUTION), None)
    if institute is None:
        return partners
    lead, partner = ProjectPartner.Role.LEAD.value, ProjectPartner.Role.PARTNER.value
    return [(o, lead if o == institute else partner if role == lead else role) for o, role in partners]


def round_to(amount: Decimal, unit: Decimal | int) -> Decimal:
    """`amount` rounded to a whole number of `unit`."""
    return (amount / unit).quantize(Decimal(1)) * unit


def split(total: Decimal, weights: list[int]) -> list[Decimal]:
    """`total` in parts by `weights`, each a whole thousand EUR and at least 1 000 EUR; the last takes what is
    left, so that the parts add up to `total` (unless that would leave it less than 1 000 EUR)."""
    parts = [max(THOUSAND, round_to(total * weight / sum(weights), THOUSAND)) for weight in weights]
    parts[-1] = max(THOUSAND, total - sum(parts[:-1], Decimal(0)))
    return parts


def decision_days(year: int, count: int, rng: random.Random, *, earliest: date | None = None) -> list[date]:
    """`count` different days of `year` from 1 February (or `earliest`) to 15 November, in order; fewer when
    there are not that many."""
    first = max(date(year, 2, 1), earliest or date.min)
    days = range(max(0, (date(year, 11, 15) - first).days + 1))
    return sorted(first + timedelta(days=offset) for offset in rng.sample(days, min(count, len(days))))


def table_label(model: type[models.Model]) -> str:
    """How the summary names a table: the model's plural name (a link table: both sides)."""
    if model._meta.auto_created:
        return str(model._meta.db_table).removeprefix("funding_").replace("_", " ")
    return str(model._meta.verbose_name_plural)


# --- what a database holds -------------------------------------------------------------------------------

DOMAIN_APPS = ("clusterpacts", "evaluations", "funding")
MIGRATED = (KpiDefinition,)  # what the migrations load besides the role groups (in auth): the KPI catalogue


def held_rows() -> list[tuple[type[models.Model], int]]:
    """The domain rows a database holds besides what its migrations load, as (model, count), in the apps'
    order: none in a freshly migrated database."""
    found = []
    for label in DOMAIN_APPS:
        for model in apps.get_app_config(label).get_models():
            if model in MIGRATED or model.__name__.startswith("Historical"):
                continue
            count = model._default_manager.count()
            if count:
                found.append((model, count))
    return found


def analyse() -> None:
    """Fresh planner statistics after a bulk load (PostgreSQL): the first benchmark is not planned on an empty
    table's estimates."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def generate(options: ScaleOptions, log: Callable[[str], None] = lambda line: None) -> dict[str, int]:
    """Write the scale data of `options` into an empty database; returns the rows written per table."""
    return ScaleData(options, log).run()
