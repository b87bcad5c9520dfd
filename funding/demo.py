"""Demo data from the public record: the facts are in data/demo.toml, this module writes them.

`seed_demo` loads the demo history through the importer from the workbook this module builds
(`build_demo_workbook` writes workbook/data/demo-history.xlsx), then adds the demo users with `seed_users`.

The data file says which figures come from the record (the parliamentary answer in shared/seed and
DESIGN.md) and marks every other one "(illustratief)"; the texts are Dutch. What it does not list
(member organisations, KPI targets and values) is drawn from a random generator seeded with the
cluster's slug, the days of the yearly plans and reports from one seeded with the slug and "days", the
organisations' founding days from one seeded with the slug and "founded", and the projects from one
seeded with the slug and "projects", so every run gives the same data (and a change to one of them
leaves the others alone).
Everything is written through the services, so the demo data obeys every rule the portal enforces.
Running it twice changes nothing: a cluster, budget year or user that exists is left alone.
"""

from __future__ import annotations

import dataclasses
import random
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from clusterpacts import services as cp
from clusterpacts.models import (
    AnnualReport,
    Cluster,
    ClusterPact,
    Commitment,
    KpiDefinition,
    Membership,
    Organisation,
    Workflow,
)
from core.roles import API_READER, OFFICER
from evaluations.models import STAGE_ORDER, Evaluation, Finding, Lesson, Stage
from evaluations.services import evaluation_advance, lesson_carry
from funding.models import Allocation, BudgetYear, Project, ProjectPartner, cap_date_for, latest_end_for
from funding.services import (
    PartnerPut,
    agreement_create,
    agreement_extend,
    allocation_save,
    budget_year_save,
    project_save,
)

DATA = Path(__file__).resolve().parent / "data" / "demo.toml"
RECORD: dict[str, Any] = tomllib.loads(DATA.read_text("utf-8"))

ILLUSTRATIVE: str = RECORD["illustrative"]
PUBLIC: str = RECORD["public"]
TEXTS: dict[str, str] = RECORD["texts"]
PLANS: dict[str, Any] = RECORD["plans"]
REPORTS: dict[str, Any] = RECORD["reports"]
LAST_WORKING_YEAR: int = RECORD["last_working_year"]
HORIZON: int = RECORD["horizon"]
BUDGET: dict[str, Any] = RECORD["budget"]
PROJECTS: dict[str, Any] = RECORD["projects"]
PROJECT_TYPES: dict[str, dict[str, Any]] = PROJECTS["types"]
INTER_CLUSTER: dict[str, Any] = PROJECTS["inter_cluster"]
MILLION = Decimal(1_000_000)
ROLES = {"officer": OFFICER, "api_reader": API_READER}


@dataclass(frozen=True)
class DemoCluster:
    name: str
    slug: str
    domain: str
    recognised_on: date
    started_on: date
    first_pact_signed_on: date
    members: dict[int, int]  # members at the end of each year; the record gives some (`members_public`)
    members_public: tuple[int, ...]
    sources: tuple[str, ...]
    targets_met: dict[int, str]  # working years whose targets the record says were met ("met" / "largely")
    project_decisions_2024_meur: Decimal  # decided against its reservation in 2024 (public record)
    project_themes: tuple[str, ...]  # what its illustrative projects are about, in turn
    companies_only: bool = False  # the record counts the members as companies

    @classmethod
    def from_record(cls, row: dict[str, Any]) -> DemoCluster:
        fields = dict(
            row,
            members={int(year): count for year, count in row["members"].items()},
            members_public=tuple(row["members_public"]),
            sources=tuple(row["sources"]),
            targets_met={int(year): how for year, how in row["targets_met"].items()},
            project_decisions_2024_meur=Decimal(row["project_decisions_2024_meur"]),
            project_themes=tuple(row["project_themes"]),
        )
        return cls(**fields)


@dataclass(frozen=True)
class DemoEvaluation:
    kind: str
    title: str
    years: list[int]  # the first and the last year it covers
    stage: str
    registered_on: date  # the day it was decided and registered, before it started
    dates: list[date]  # the days it went in progress, to reporting and was completed, as far as it got
    summary: str
    planned_on: date | None = None  # the planned completion of one not completed yet
    conclusion: str = ""
    public: bool = False  # its conclusion, days and summary are from the record
    round: int = 0  # which set of lessons it yields when completed

    @property
    def marker(self) -> str:
        return PUBLIC if self.public else ILLUSTRATIVE


CLUSTERS = [DemoCluster.from_record(row) for row in RECORD["cluster"]]


def evaluations_for(spec: DemoCluster) -> list[DemoEvaluation]:
    return [DemoEvaluation(**row) for row in RECORD["evaluations"][f"started_{spec.started_on.year}"]]


def manager_username(slug: str) -> str:
    return f"manager-{slug}"


def demo_usernames() -> list[str]:
    return [person["username"] for person in RECORD["users"]] + [manager_username(spec.slug) for spec in CLUSTERS]


def valid_enterprise_number(serial: int) -> str:
    base = 10_000_000 + serial  # 8 digits, first digit 0 or 1 as the KBO issues them
    return f"{base:08d}{97 - base % 97:02d}"


def agreement_terms(start: date) -> Iterator[tuple[date, date]]:
    """Three-year terms from `start` up to the horizon; the last one is cut at the 10-year cap."""
    chain_start, cap = start, cap_date_for(start)
    while start <= date(HORIZON, 12, 31):
        end = latest_end_for(start, chain_start)
        yield start, end
        if end == cap:
            return
        start = end + timedelta(days=1)


def pact_signing_days(spec: DemoCluster) -> list[date]:
    """Version 1 on the record's day; then one each year on 31 January, after the review of that year's
    plan, from the first 31 January at least half a year after version 1 (a pact signed in December
    already holds the next year's plan)."""
    first = spec.first_pact_signed_on
    later = [date(year, 1, 31) for year in range(first.year + 1, HORIZON + 1)]
    return [first] + [day for day in later if (day - first).days > 180]


def plan_days(spec: DemoCluster, year: int, days: random.Random) -> tuple[date, date]:
    """When the plan on `year` was submitted (second half of November of the year before; a cluster's
    first plan two weeks after its recognition when that is later) and accepted (one to three weeks on)."""
    submitted = date(year - 1, 11, 12) + timedelta(days=days.randint(0, 18))
    submitted = max(submitted, spec.recognised_on + timedelta(days=14))
    return submitted, submitted + timedelta(days=days.randint(7, 21))


def report_steps(spec: DemoCluster, year: int, days: random.Random) -> list[dict[str, Any]]:
    """The workflow steps of the report on working year `year`, each with its day.

    Submitted in March of the next year and accepted five to nine weeks later; the reports on 2019 in
    February 2020 and accepted from May (public record: still being processed on 1 March 2020); the
    ones in the data file's `reports.steps` as it says. Two days are always drawn, so that an exception
    changes no other report's days.
    """
    submitted = date(year + 1, 3, 1) + timedelta(days=days.randint(0, 27))
    reviewed = submitted + timedelta(days=days.randint(35, 63))
    if year == REPORTS["processing_year"]:
        weeks = (reviewed - submitted).days - 35
        submitted = REPORTS["processing_submitted_from"] + timedelta(days=(submitted.day - 1) % 22)
        reviewed = REPORTS["processing_accepted_from"] + timedelta(days=weeks)
    for special in REPORTS["steps"]:
        if (special["cluster"], special["year"]) == (spec.slug, year):
            return special["steps"]
    return [{"status": Workflow.SUBMITTED, "on": submitted}, {"status": Workflow.ACCEPTED, "on": reviewed}]


def report_narrative(spec: DemoCluster, year: int) -> str:
    """The narrative of the report on `year`: its facts from the record marked as such, the rest illustrative."""
    texts = REPORTS["narrative"]
    public: list[str] = []
    illustrative: list[str] = []
    count = spec.members[year]
    member_line = texts["companies" if spec.companies_only else "members"].format(year=year, count=count)
    (public if year in spec.members_public else illustrative).append(member_line)
    met = spec.targets_met.get(year)
    if met:
        public.append(texts[met])
    if year == 2024:
        meur = f"{spec.project_decisions_2024_meur}".replace(".", ",")
        public.append(texts["decided_2024"].format(meur=meur))
    age = year - spec.started_on.year
    illustrative.append(texts["first"] if age == 0 else texts["activities"][(age - 1) % len(texts["activities"])])
    parts = [texts["opening"].format(name=spec.name, year=year)]
    if public:
        parts += [*public, PUBLIC]
    return " ".join([*parts, *illustrative, ILLUSTRATIVE])


def planned_actions(spec: DemoCluster, year: int) -> str:
    age = year - spec.started_on.year
    actions = PLANS["first"] if age == 0 else PLANS["actions"][(age - 1) % len(PLANS["actions"])]
    return f"Jaarplan {year}: {actions} {ILLUSTRATIVE}"


def founded_before(kind: str, joined: date, days: random.Random) -> date | None:
    """An illustrative founding day, years before the organisation joined its cluster: an SME 1 to 25 years,
    a larger company 8 to 60; a knowledge institution's is left unknown."""
    if kind == Organisation.Kind.KNOWLEDGE_INSTITUTION:
        return None
    years = days.randint(1, 25) if kind == Organisation.Kind.SME else days.randint(8, 60)
    return date(joined.year - years, days.randint(1, 12), days.randint(1, 28))


# --- projects ---------------------------------------------------------------------------------------

COMPANY_KINDS = (Organisation.Kind.COMPANY, Organisation.Kind.SME)
THOUSAND = Decimal(1000)


@dataclass(frozen=True)
class DemoProject:
    """One illustrative project as `project_save` takes it."""

    reference: str
    title: str
    type: str
    lead_cluster: Cluster
    clusters: list[Cluster]
    decided_on: date
    amount: Decimal
    start_date: date
    end_date: date
    status: str
    status_on: date
    partners: list[PartnerPut]


@dataclass(frozen=True)
class Member:
    """A member organisation of a cluster, and the days it was one."""

    organisation: Organisation
    joined_on: date
    left_on: date | None

    def on(self, day: date) -> bool:
        """A member on `day` (from the day it joins up to the day it leaves) that existed then."""
        active = self.joined_on <= day and (self.left_on is None or self.left_on >= day)
        return active and self.organisation.exists_on(day)


def months_later(day: date, months: int) -> date:
    """The first day of the month `months` after the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def project_count(total: Decimal, per_project: int, rng: random.Random, least: int) -> int:
    """How many projects share `total`: about one per `per_project` EUR, `least` to 5."""
    return max(least, min(5, round(total / per_project) + rng.randint(0, 1)))


def decision_days(year: int, window: list[str], count: int, rng: random.Random) -> list[date]:
    """`count` different days of `year` within `window` (["MM-DD", "MM-DD"]), in order."""
    first, last = (date.fromisoformat(f"{year}-{month_day}") for month_day in window)
    offsets = rng.sample(range((last - first).days + 1), count)
    return sorted(first + timedelta(days=offset) for offset in offsets)


def _thousands(amount: Decimal) -> Decimal:
    return (amount / THOUSAND).quantize(Decimal(1)) * THOUSAND


def project_amounts(total: Decimal, kinds: list[str], rng: random.Random) -> list[Decimal]:
    """The amounts of projects of `kinds` (in thousands of EUR) that add up to `total` to the euro: a small
    type keeps an amount drawn from its range, the large ones share what is left in proportion to theirs
    (the last one takes the rest)."""
    draws = [Decimal(rng.randint(*PROJECT_TYPES[kind]["eur"])) for kind in kinds]
    large = [i for i, kind in enumerate(kinds) if PROJECT_TYPES[kind]["large"]]
    amounts = [_thousands(draw) for draw in draws]
    left = total - sum((amounts[i] for i in range(len(kinds)) if i not in large), Decimal(0))
    weight = sum((draws[i] for i in large), Decimal(0))
    for i in large:
        amounts[i] = _thousands(left * draws[i] / weight)
    amounts[large[-1]] += total - sum(amounts, Decimal(0))
    return amounts


def project_kinds(total: Decimal, rng: random.Random) -> list[str]:
    """The types of a cluster's projects of a year that share `total`: a large one first, then any; small
    ones are left out while they would leave the large ones less than 400 000 EUR each."""
    names = list(PROJECT_TYPES)
    large = [name for name in names if PROJECT_TYPES[name]["large"]]
    count = project_count(total, PROJECTS["eur_a_project"], rng, least=2)
    first = rng.choices(large, weights=[PROJECT_TYPES[name]["weight"] for name in large])[0]
    kinds = [first, *rng.choices(names, weights=[PROJECT_TYPES[name]["weight"] for name in names], k=count - 1)]
    while True:
        small = [kind for kind in kinds if not PROJECT_TYPES[kind]["large"]]
        smallest_share = Decimal(400_000) * (len(kinds) - len(small))
        if not small or total - sum(Decimal(PROJECT_TYPES[k]["eur"][1]) for k in small) >= smallest_share:
            return kinds
        kinds.remove(small[-1])


def project_status(decided_on: date, start: date, end: date) -> tuple[str, date]:
    """The status as known on the demo's today, and the day it took it: completed the day after its end,
    running from its start, decided before."""
    known_on: date = PROJECTS["status_known_on"]
    if end + timedelta(days=1) <= known_on:
        return Project.Status.COMPLETED, end + timedelta(days=1)
    if start <= known_on:
        return Project.Status.RUNNING, start
    return Project.Status.DECIDED, decided_on


def project_partners(kind: dict[str, Any], members: list[Organisation], rng: random.Random) -> list[PartnerPut]:
    """The partners of a project of type `kind`, from the cluster's members on the decision day: the lead
    partner of the kind the type asks for (another when the cluster has none), companies and knowledge
    institutions. Both counts are always drawn, so that a cluster without knowledge institutions changes
    no later draw."""
    firms = [o for o in members if o.kind in COMPANY_KINDS]
    institutes = [o for o in members if o.kind == Organisation.Kind.KNOWLEDGE_INSTITUTION]
    wanted_firms, wanted_institutes = rng.randint(*kind["companies"]), rng.randint(*kind["knowledge"])
    firms = rng.sample(firms, min(wanted_firms, len(firms)))
    institutes = rng.sample(institutes, min(wanted_institutes, len(institutes)))
    lead = firms[0]
    if kind["lead"] == "knowledge_institution" and institutes:
        lead = institutes[0]
    elif kind["lead"] == "sme":
        lead = next((o for o in firms if o.kind == Organisation.Kind.SME), lead)
    partners = [PartnerPut(lead, ProjectPartner.Role.LEAD)]
    partners += [PartnerPut(o, ProjectPartner.Role.PARTNER) for o in firms if o != lead]
    partners += [PartnerPut(o, kind["knowledge_role"]) for o in institutes if o != lead]
    return partners


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


def _allocate(
    budget_year: BudgetYear,
    purpose: str,
    meur: int | str,
    description: str,
    decided_on: date,
    *,
    cluster: Cluster | None = None,
    partners: Iterable[Cluster] = (),
) -> None:
    allocation = Allocation(
        budget_year=budget_year,
        purpose=purpose,
        cluster=cluster,
        amount=Decimal(meur) * MILLION,
        description=description,
        decided_on=decided_on,
    )
    allocation_save(allocation=allocation, partners=list(partners))


class DemoSeeder:
    def __init__(self, password: str, log: Callable[[str], None]) -> None:
        self.password = password
        self.log = log
        self.kpis = list(KpiDefinition.objects.filter(active=True))
        self.reported = [kpi for kpi in self.kpis if kpi.source == KpiDefinition.Source.REPORTED]

    def run(self) -> None:
        self.seed_users(self.seed_history())

    def seed_history(self) -> list[Cluster]:
        """Everything but the users: what the bundled demo workbook holds (`build_demo_workbook`)."""
        clusters = [self.seed_cluster(spec) for spec in CLUSTERS]
        self.seed_budget(clusters)
        self.seed_projects(clusters)
        return clusters

    # --- one cluster ------------------------------------------------------------------------------

    @transaction.atomic
    def seed_cluster(self, spec: DemoCluster) -> Cluster:
        existing = Cluster.objects.filter(slug=spec.slug).first()
        if existing:
            self.log(f"  {spec.name}: exists, left alone")
            return existing
        rng = random.Random(spec.slug)  # noqa: S311 - demo figures, not security
        cluster = cp.entity_save(
            instance=Cluster(
                name=spec.name,
                slug=spec.slug,
                domain=spec.domain,
                legal_entity=f"{spec.name} vzw",
                enterprise_number=valid_enterprise_number(9_000_000 + CLUSTERS.index(spec)),
                recognised_on=spec.recognised_on,
                started_on=spec.started_on,
                description=" ".join([*spec.sources, TEXTS["cluster_details"]]),
            )
        )
        self.seed_members(cluster, spec, rng)
        pacts = self.seed_pacts(cluster, spec)
        planned = evaluations_for(spec)
        evaluations = [self.seed_evaluation(cluster, each) for each in planned]
        self.seed_lessons(evaluations, planned, pacts)
        self.seed_agreements(cluster, spec)
        days = random.Random(f"{spec.slug}:days")  # noqa: S311 - demo days, not security
        for year in range(spec.started_on.year, HORIZON + 1):
            self.seed_year(cluster, spec, year, rng, days)
        # The plan on the next year, waiting for review, from a cluster whose support may run into it.
        waiting = PLANS["waiting_year"]
        if cap_date_for(spec.started_on) >= date(waiting, 1, 1):
            self.seed_plan(cluster, spec, waiting, rng, days, accepted=False)
        self.log(f"  {spec.name}: created")
        return cluster

    def seed_members(self, cluster: Cluster, spec: DemoCluster, rng: random.Random) -> None:
        """Memberships whose year-end counts are the figures in `spec.members`, with some churn."""
        organisations: list[Organisation] = []
        memberships: list[Membership] = []
        active: list[int] = []
        previous = 0
        # The days the organisations were founded (and some ceased) from a generator of their own, so that
        # the members and figures drawn from `rng` stay as they were.
        days = random.Random(f"{spec.slug}:founded")  # noqa: S311 - demo days, not security
        for year, target in sorted(spec.members.items()):
            for index in rng.sample(active, k=min(len(active), previous // 25)):
                left_on = date(year, rng.randint(1, 12), rng.randint(1, 28))
                memberships[index].left_on = left_on
                active.remove(index)
                if organisations[index].kind == Organisation.Kind.SME and days.random() < 0.25:
                    organisations[index].ceased_on = left_on  # it left the cluster as it stopped its activity
            for _ in range(target - len(active)):
                organisation = self.member(spec, len(organisations), rng)
                joined = spec.started_on if year == spec.started_on.year else date(year, rng.randint(1, 12), 1)
                organisation.founded_on = founded_before(organisation.kind, joined, days)
                organisations.append(organisation)
                active.append(len(memberships))
                memberships.append(Membership(cluster=cluster, joined_on=joined))
            previous = target
        created = bulk_create_with_history(organisations, Organisation)
        for membership, organisation in zip(memberships, created, strict=True):
            membership.organisation = organisation
        bulk_create_with_history(memberships, Membership)

    @staticmethod
    def member(spec: DemoCluster, number: int, rng: random.Random) -> Organisation:
        """The cluster's member organisation `number` (from 0): about 62 % of them SMEs."""
        kind = (
            Organisation.Kind.SME
            if rng.random() < 0.62
            else rng.choice([Organisation.Kind.COMPANY, Organisation.Kind.KNOWLEDGE_INSTITUTION])
        )
        if spec.companies_only and kind == Organisation.Kind.KNOWLEDGE_INSTITUTION:
            kind = Organisation.Kind.COMPANY
        return Organisation(
            name=TEXTS["member"].format(name=spec.name, number=number + 1),
            kind=kind,
            enterprise_number=valid_enterprise_number((CLUSTERS.index(spec) + 1) * 10_000 + number),
        )

    def seed_pacts(self, cluster: Cluster, spec: DemoCluster) -> list[ClusterPact]:
        """Version 1 signed on the public date; a new version each year after the plan review."""
        signing_days = pact_signing_days(spec)
        pacts = []
        for number, signed_on in enumerate(signing_days, start=1):
            summary = TEXTS["programme"].format(name=spec.name, domain=spec.domain, version=number)
            if number > 1:
                summary = f"{summary} {TEXTS['programme_update'].format(year=signed_on.year)} {ILLUSTRATIVE}"
            pact = cp.pact_create(cluster=cluster, programme_summary=summary)
            status = Commitment.Status.MET if number < len(signing_days) else Commitment.Status.IN_PROGRESS
            for party, text in RECORD["pact"]["commitments"].items():
                cp.entity_save(instance=Commitment(pact=pact, party=party, description=text, status=status))
            pacts.append(cp.pact_sign(pact=pact, signed_on=signed_on))
        return pacts

    def seed_evaluation(self, cluster: Cluster, planned: DemoEvaluation) -> Evaluation:
        """An evaluation taken through its stages on the planned days; a completed one with its findings."""
        completed = planned.stage == Stage.COMPLETED
        evaluation = cp.entity_save(
            instance=Evaluation(
                cluster=cluster,
                kind=planned.kind,
                title=planned.title,
                period_start=date(planned.years[0], 1, 1),
                period_end=date(planned.years[-1], 12, 31),
                evaluator=RECORD["evaluations"]["evaluator"],
                registered_on=planned.registered_on,
                planned_on=planned.dates[-1] if completed else planned.planned_on,
                summary=f"{planned.summary} {planned.marker}",
            )
        )
        for reached, on in zip(STAGE_ORDER[1:], planned.dates, strict=False):
            conclusion = planned.conclusion if reached == Stage.COMPLETED else ""
            evaluation = evaluation_advance(evaluation=evaluation, to=reached, on=on, conclusion=conclusion)
        if completed:
            texts = RECORD["evaluations"]["findings"][planned.conclusion]
            for criterion in KpiDefinition.Category.values:
                text = f"{texts[criterion]} {planned.marker}"
                finding = Finding(evaluation=evaluation, criterion=criterion, assessment=planned.conclusion, text=text)
                cp.entity_save(instance=finding)
        return evaluation

    def seed_lessons(
        self, evaluations: list[Evaluation], planned: list[DemoEvaluation], pacts: list[ClusterPact]
    ) -> None:
        """The lessons of every completed evaluation (by its round), carried into the first pact signed after it."""
        for evaluation, plan in zip(evaluations, planned, strict=True):
            if evaluation.stage != Stage.COMPLETED:
                continue
            for lesson in RECORD["lessons"]:
                if lesson["round"] != plan.round:
                    continue
                fields = {
                    "kind": lesson["kind"],
                    "text": f"{lesson['text']} {ILLUSTRATIVE}",
                    "follow_up": lesson["follow_up"],
                }
                saved = cp.entity_save(instance=Lesson(evaluation=evaluation, **fields))
                done = evaluation.completed_on
                later = [p for p in pacts if p.signed_on and done and p.signed_on > done]
                if later:
                    lesson_carry(lesson=saved, pact=later[0])

    def seed_agreements(self, cluster: Cluster, spec: DemoCluster) -> None:
        terms = RECORD["agreements"]
        agreement = None
        for number, (start, end) in enumerate(agreement_terms(spec.started_on), start=1):
            fields: dict[str, Any] = {
                "reference": f"SO-{cluster.slug.upper()}-{number}",
                "end_date": end,
                "amount": Decimal(terms["eur_a_year"]) * (end.year - start.year + 1),
                "signed_on": start - timedelta(days=terms["signed_days_before_start"]),
            }
            if agreement is None:
                agreement = agreement_create(cluster=cluster, start_date=start, notes=terms["notes"], **fields)
            else:
                agreement = agreement_extend(predecessor=agreement, **fields)

    def seed_year(
        self, cluster: Cluster, spec: DemoCluster, year: int, rng: random.Random, days: random.Random
    ) -> None:
        """The accepted annual plan of `year` with its KPI targets, and up to the last working year its report."""
        targets = self.seed_plan(cluster, spec, year, rng, days, accepted=True)
        if year <= LAST_WORKING_YEAR:
            self.seed_report(cluster, spec, year, targets, rng, days)
        elif year == REPORTS["draft_year"] and spec.slug in REPORTS["drafts"]:
            cp.annual_report_create(cluster=cluster, year=year, narrative=REPORTS["draft"].format(year=year))

    def seed_plan(
        self,
        cluster: Cluster,
        spec: DemoCluster,
        year: int,
        rng: random.Random,
        days: random.Random,
        *,
        accepted: bool,
    ) -> dict[str, Decimal]:
        """The plan on `year` with its KPI targets, submitted, and accepted unless it is still waiting."""
        plan = cp.annual_plan_create(cluster=cluster, year=year, planned_actions=planned_actions(spec, year))
        targets = {}
        for kpi in self.reported:
            targets[kpi.code] = self.demo_target(kpi, year - spec.started_on.year, rng)
            cp.kpi_target_set(plan=plan, kpi=kpi, value=targets[kpi.code])
        # The derived KPIs get their target too (a plan is complete with a target for every KPI), from a
        # generator of their own, so the figures drawn above stay what they were.
        derived_rng = random.Random(f"derived-targets:{spec.slug}:{year}")  # noqa: S311 - demo figures
        for kpi in self.kpis:
            if kpi.is_derived:
                cp.kpi_target_set(plan=plan, kpi=kpi, value=self.derived_target(kpi, spec, year, derived_rng))
        submitted, reviewed = plan_days(spec, year, days)
        # The demo's history is loaded, not lived: nobody is e-mailed about it.
        cp.document_transition(document=plan, to=Workflow.SUBMITTED, at=_at(submitted), notify=False)
        if accepted:
            cp.document_transition(document=plan, to=Workflow.ACCEPTED, at=_at(reviewed), notify=False)
        return targets

    def seed_report(
        self,
        cluster: Cluster,
        spec: DemoCluster,
        year: int,
        targets: dict[str, Decimal],
        rng: random.Random,
        days: random.Random,
    ) -> None:
        report = cp.annual_report_create(cluster=cluster, year=year, narrative=report_narrative(spec, year))
        for kpi in self.reported:  # PRJ1 and the other project KPIs are counted from the projects
            value = self.demo_value(kpi, targets[kpi.code], rng, spec.targets_met.get(year))
            cp.kpi_value_set(report=report, kpi=kpi, value=value)
        self.advance_report(report, report_steps(spec, year, days))

    @staticmethod
    def advance_report(report: AnnualReport, steps: list[dict[str, Any]]) -> None:
        """Take the report through `steps`, each on its day."""
        for step in steps:
            at, comment = _at(step["on"]), step.get("comment", "")
            cp.document_transition(document=report, to=step["status"], at=at, notify=False, comment=comment)

    @staticmethod
    def demo_target(kpi: KpiDefinition, age: int, rng: random.Random) -> Decimal:
        # A figure is drawn for every unit, whatever the KPI's: the generator's sequence, and with it
        # every later figure of the cluster, stays the same when a unit is added or changes.
        base = {
            KpiDefinition.Unit.COUNT: Decimal(rng.randint(8, 60)),
            KpiDefinition.Unit.PERCENT: Decimal(rng.randint(55, 80)),
            KpiDefinition.Unit.EUR: Decimal(rng.randint(30, 80)) * 100_000,
            KpiDefinition.Unit.MEUR: Decimal(rng.randint(5, 40)),
            KpiDefinition.Unit.FTE: Decimal(rng.randint(10, 90)),
        }[KpiDefinition.Unit(kpi.unit)]
        if kpi.unit == KpiDefinition.Unit.PERCENT:
            return base
        return (base * (1 + Decimal(age) / 10)).quantize(Decimal("1"))

    @staticmethod
    def derived_target(kpi: KpiDefinition, spec: DemoCluster, year: int, rng: random.Random) -> Decimal:
        """A plausible ambition for a KPI the portal counts (illustrative): paying members near the cluster's
        size, a few projects decided for most of the 8 M EUR reservation, a share of SMEs of 55 % to 75 %."""
        members = spec.members.get(year) or spec.members.get(year - 1) or max(spec.members.values())
        counts = {
            "MEM1": Decimal(members) * Decimal(rng.randint(80, 95)) / 100,
            "CPI3": Decimal(rng.randint(2, 4)),
            "PRJ1": Decimal(rng.randint(50, 80)) * 100_000,
            "C4": Decimal(rng.randint(1, 3)),
            "CPI7": Decimal(rng.randint(6, 14)),
            "CPI8": Decimal(rng.randint(1, 2)),
        }
        if kpi.unit == KpiDefinition.Unit.PERCENT:
            return Decimal(rng.randint(55, 75))
        return counts.get(kpi.code, Decimal(rng.randint(1, 5))).quantize(Decimal("1"))

    @staticmethod
    def demo_value(kpi: KpiDefinition, target: Decimal, rng: random.Random, met: str | None = None) -> Decimal:
        """The value reported against `target`: 82 % to 125 % of it; in a year the record says its targets
        were met, 100 % to 125 % ("met") or 94 % to 125 % ("largely"), from the same draw."""
        factor = Decimal(rng.randint(82, 125)) / 100
        floor = {"met": Decimal("1.00"), "largely": Decimal("0.94")}.get(met or "")
        if floor is not None:
            factor = floor + (factor - Decimal("0.82")) * (Decimal("1.25") - floor) / Decimal("0.43")
        value = (target * factor).quantize(Decimal("1"))
        if kpi.unit == KpiDefinition.Unit.PERCENT:
            value = min(value, Decimal(100))
        return value

    # --- money and people -------------------------------------------------------------------------

    @transaction.atomic
    def seed_budget(self, clusters: list[Cluster]) -> None:
        for year, envelope in BUDGET["envelopes_meur"].items():
            if not BudgetYear.objects.filter(year=int(year)).exists():
                self.seed_budget_year(int(year), Decimal(envelope) * MILLION, clusters)

    def seed_budget_year(self, year: int, envelope: Decimal, clusters: list[Cluster]) -> None:
        """The envelope, a reservation per running cluster, inter-cluster projects and other initiatives.

        The reservations are decided in the budget of the year before (a cluster recognised later: on
        its recognition), the rest during the year (`budget.*_decided`)."""
        public = BUDGET["public"].get(str(year), {})
        notes = public.get("notes", BUDGET["notes"])
        budget_year = budget_year_save(budget_year=BudgetYear(year=year, envelope=envelope, notes=notes))
        running = [c for c in clusters if c.started_on and c.started_on.year <= year]
        in_budget = date.fromisoformat(f"{year - 1}-{BUDGET['reservations_decided']}")
        text = BUDGET["reservation"] if year <= BUDGET["reservation_public_until"] else BUDGET["reservation_later"]
        for cluster in running:
            decided = max(in_budget, cluster.recognised_on or in_budget)
            meur = BUDGET["reservation_meur"]
            _allocate(budget_year, Allocation.Purpose.COMPETITIVENESS, meur, text, decided, cluster=cluster)
        if len(running) < 2 or year > HORIZON:
            return
        decided = date.fromisoformat(f"{year}-{BUDGET['others_decided']}")
        inter_meur = public.get("inter_cluster_meur", BUDGET["inter_cluster_meur"])
        inter = public.get("inter_cluster", BUDGET["inter_cluster"])
        _allocate(budget_year, Allocation.Purpose.INTER_CLUSTER, inter_meur, inter, decided, partners=running)
        _allocate(budget_year, Allocation.Purpose.OTHER, BUDGET["other_meur"], BUDGET["other"], decided)

    # --- projects ----------------------------------------------------------------------------------

    @transaction.atomic
    def seed_projects(self, clusters: list[Cluster]) -> None:
        """Every cluster's projects and the inter-cluster projects, through `funding.services.project_save`
        (every rule of a project holds); a project whose reference exists is left alone."""
        held = set(Project.objects.values_list("reference", flat=True))
        members = self.members_of(clusters)
        planned: list[DemoProject] = []
        for cluster in clusters:
            spec = next(spec for spec in CLUSTERS if spec.slug == cluster.slug)
            planned += self.cluster_projects(cluster, spec, members[cluster.pk])
        planned += self.inter_cluster_projects(clusters, members)
        for project in planned:
            if project.reference in held:
                continue
            project_save(
                project=Project(
                    reference=project.reference,
                    title=project.title,
                    type=project.type,
                    lead_cluster=project.lead_cluster,
                    decided_on=project.decided_on,
                    amount=project.amount,
                    start_date=project.start_date,
                    end_date=project.end_date,
                    status=project.status,
                    status_on=project.status_on,
                ),
                clusters=project.clusters,
                partners=project.partners,
            )

    @staticmethod
    def members_of(clusters: list[Cluster]) -> dict[int, list[Member]]:
        """Each cluster's members with their days, in the order of their enterprise numbers."""
        found: dict[int, list[Member]] = {cluster.pk: [] for cluster in clusters}
        for membership in (
            Membership.objects.filter(cluster__in=clusters)
            .select_related("organisation")
            .order_by("organisation__enterprise_number", "joined_on")
        ):
            found[membership.cluster_id].append(
                Member(membership.organisation, membership.joined_on, membership.left_on)
            )
        return found

    def cluster_projects(self, cluster: Cluster, spec: DemoCluster, members: list[Member]) -> list[DemoProject]:
        """The projects the cluster decided against its reservation, year by year: in 2024 the public total,
        in the other years a share of the reservation."""
        rng = random.Random(f"{spec.slug}:projects")  # noqa: S311 - demo figures, not security
        reservations = dict(
            Allocation.objects.filter(cluster=cluster, purpose=Allocation.Purpose.COMPETITIVENESS).values_list(
                "budget_year__year", "amount"
            )
        )
        stopped = PROJECTS["stopped"]
        projects: list[DemoProject] = []
        for year in range(spec.started_on.year, LAST_WORKING_YEAR + 1):
            share = Decimal(rng.randint(*PROJECTS["share_of_reservation"])) / 100
            total = (reservations[year] * share / 10_000).quantize(Decimal(1)) * 10_000
            if year == 2024:
                total = spec.project_decisions_2024_meur * MILLION  # public record
            kinds = project_kinds(total, rng)
            amounts = project_amounts(total, kinds, rng)
            days = decision_days(year, PROJECTS["cluster_decided"], len(kinds), rng)
            year_projects = []
            for number, (kind, amount, decided_on) in enumerate(zip(kinds, amounts, days, strict=True), start=1):
                theme = spec.project_themes[len(projects) % len(spec.project_themes)]
                start = months_later(decided_on, rng.randint(*PROJECTS["start_months"]))
                months = rng.randint(*PROJECT_TYPES[kind]["months"])
                if year == LAST_WORKING_YEAR and spec.slug in PROJECTS["postponed"] and number == len(kinds):
                    decided_on = max(decided_on, PROJECTS["postponed_decided_from"])
                    start = PROJECTS["postponed_start"]
                end = months_later(start, months) - timedelta(days=1)
                status, status_on = project_status(decided_on, start, end)
                on_day = [member.organisation for member in members if member.on(decided_on)]
                project = DemoProject(
                    reference=PROJECTS["reference"].format(
                        year=year, number=(CLUSTERS.index(spec) + 1) * 100 + number
                    ),
                    title=self.project_title(PROJECT_TYPES[kind]["label"], theme),
                    type=kind,
                    lead_cluster=cluster,
                    clusters=[],
                    decided_on=decided_on,
                    amount=amount,
                    start_date=start,
                    end_date=end,
                    status=status,
                    status_on=status_on,
                    partners=project_partners(PROJECT_TYPES[kind], on_day, rng),
                )
                year_projects.append(project)
                projects.append(project)
            if (spec.slug, year) == (stopped["cluster"], stopped["year"]):
                longest = max(year_projects, key=lambda p: p.end_date - p.start_date)
                projects[projects.index(longest)] = dataclasses.replace(
                    longest,
                    status=Project.Status.STOPPED,
                    status_on=months_later(longest.start_date, stopped["months"]),
                )
        return projects

    def inter_cluster_projects(self, clusters: list[Cluster], members: dict[int, list[Member]]) -> list[DemoProject]:
        """The inter-cluster projects of every year with two clusters running: in 2024 the public total, in
        the other years a share of the inter-cluster allocation."""
        rng = random.Random("inter-cluster:projects")  # noqa: S311 - demo figures, not security
        spec = INTER_CLUSTER
        allocations = dict(
            Allocation.objects.filter(purpose=Allocation.Purpose.INTER_CLUSTER).values_list(
                "budget_year__year", "amount"
            )
        )
        projects: list[DemoProject] = []
        for year in range(min(c.started_on.year for c in clusters if c.started_on), LAST_WORKING_YEAR + 1):
            running = [c for c in clusters if c.started_on and c.started_on.year <= year]
            if year not in allocations or len(running) < 2:
                continue
            share = Decimal(rng.randint(*spec["share_of_allocation"])) / 100
            total = (allocations[year] * share / 10_000).quantize(Decimal(1)) * 10_000
            public = BUDGET["public"].get(str(year), {}).get("inter_cluster_meur")
            if public:
                total = Decimal(public) * MILLION  # public record
            count = project_count(total, spec["eur_a_project"], rng, least=1)
            draws = [Decimal(rng.randint(*spec["eur"])) for _ in range(count)]
            amounts = [_thousands(total * draw / sum(draws)) for draw in draws]
            amounts[-1] += total - sum(amounts)
            for number, (amount, decided_on) in enumerate(
                zip(amounts, decision_days(year, spec["decided"], count, rng), strict=True), start=1
            ):
                lead = rng.choice(running)
                others = rng.sample([c for c in running if c != lead], rng.randint(1, 2))
                partners = self.inter_cluster_partners(lead, others, members, decided_on, rng)
                start = months_later(decided_on, rng.randint(*PROJECTS["start_months"]))
                end = months_later(start, rng.randint(*spec["months"])) - timedelta(days=1)
                status, status_on = project_status(decided_on, start, end)
                projects.append(
                    DemoProject(
                        reference=PROJECTS["reference"].format(year=year, number=900 + number),
                        title=self.project_title(spec["label"], spec["themes"][len(projects) % len(spec["themes"])]),
                        type=Project.Type.INTER_CLUSTER,
                        lead_cluster=lead,
                        clusters=others,
                        decided_on=decided_on,
                        amount=amount,
                        start_date=start,
                        end_date=end,
                        status=status,
                        status_on=status_on,
                        partners=partners,
                    )
                )
        return projects

    @staticmethod
    def inter_cluster_partners(
        lead: Cluster, others: list[Cluster], members: dict[int, list[Member]], day: date, rng: random.Random
    ) -> list[PartnerPut]:
        """Companies of the lead cluster (the first of them the lead partner) and of each other cluster, and
        a knowledge institution of the lead cluster or none: members on the decision day."""
        spec = INTER_CLUSTER
        partners: list[PartnerPut] = []
        for cluster in [lead, *others]:
            on_day = [member.organisation for member in members[cluster.pk] if member.on(day)]
            firms = [o for o in on_day if o.kind in COMPANY_KINDS]
            wanted = spec["lead_cluster_companies" if cluster == lead else "other_cluster_companies"]
            partners += [PartnerPut(o, ProjectPartner.Role.PARTNER) for o in rng.sample(firms, rng.randint(*wanted))]
            if cluster == lead:
                partners[0] = PartnerPut(partners[0].organisation, ProjectPartner.Role.LEAD)
                institutes = [o for o in on_day if o.kind == Organisation.Kind.KNOWLEDGE_INSTITUTION]
                wanted_institutes = rng.randint(*spec["knowledge"])
                knowledge = rng.sample(institutes, min(wanted_institutes, len(institutes)))
                partners += [PartnerPut(o, ProjectPartner.Role.PARTNER) for o in knowledge]
        return partners

    @staticmethod
    def project_title(label: str, theme: str) -> str:
        return f"{PROJECTS['title'].format(label=label, theme=theme)} {ILLUSTRATIVE}"

    def seed_users(self, clusters: list[Cluster]) -> None:
        for person in RECORD["users"]:
            names = person["first_name"], person["last_name"]
            user = self.new_user(person["username"], "vlaio.example", *names, staff=person["staff"])
            if user:
                user.groups.add(Group.objects.get(name=ROLES[person["role"]]))
        for cluster in clusters:
            user = self.new_user(manager_username(cluster.slug), "cluster.example", "Manager", cluster.name)
            if user:
                cp.cluster_manager_add(user=user, cluster=cluster)

    def new_user(
        self, username: str, domain: str, first_name: str, last_name: str, *, staff: bool = False
    ) -> AbstractUser | None:
        """A new demo user, or None when one of that name exists (it is left alone)."""
        users = get_user_model().objects
        if users.filter(username=username).exists():
            return None
        return users.create_user(
            username=username,
            password=self.password,
            email=f"{username}@{domain}",
            first_name=first_name,
            last_name=last_name,
            is_staff=staff,
        )
