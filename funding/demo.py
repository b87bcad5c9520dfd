"""Demo data from the public record (the parliamentary answer in shared/seed and DESIGN.md).

Facts from the record are used as they are; every figure that is not in it is generated
deterministically and marked "illustrative" in its description. Everything is written through the
services, so the demo data obeys every rule the portal enforces. Running it twice changes nothing:
a cluster, budget year or user that exists is left alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
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
from evaluations.models import Conclusion, Evaluation, Finding, Lesson, Stage
from evaluations.services import evaluation_advance, lesson_carry
from funding.models import Allocation, BudgetYear
from funding.services import agreement_create, agreement_extend, allocation_save, budget_year_save

ILLUSTRATIVE = "Illustrative demo figure, not from the public record."
LAST_WORKING_YEAR = 2025
MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class DemoCluster:
    name: str
    slug: str
    domain: str
    recognised_on: date
    started_on: date
    first_pact_signed_on: date
    # Members at the end of each year; the public record gives some of them (see `sources`).
    members: dict[int, int]
    sources: list[str] = field(default_factory=list)
    project_decisions_2024_meur: Decimal | None = None


CLUSTERS = [
    DemoCluster(
        "Catalisti",
        "catalisti",
        "chemistry and plastics",
        date(2016, 3, 4),
        date(2017, 1, 1),
        date(2017, 12, 15),
        {2017: 95, 2018: 108, 2019: 121, 2020: 129, 2021: 136, 2022: 142, 2023: 150, 2024: 156, 2025: 161},
        ["Recognised 2016, started 1 January 2017, pact signed end 2017, first interim evaluation May 2019."],
        Decimal("5.31"),
    ),
    DemoCluster(
        "SIM",
        "sim",
        "materials",
        date(2016, 3, 4),
        date(2017, 1, 1),
        date(2017, 12, 15),
        {2017: 80, 2018: 91, 2019: 99, 2020: 104, 2021: 110, 2022: 117, 2023: 121, 2024: 126, 2025: 130},
        ["Recognised 2016, started 1 January 2017, pact signed end 2017, first interim evaluation May 2019."],
        Decimal("6.2"),
    ),
    DemoCluster(
        "Flux50",
        "flux50",
        "energy",
        date(2016, 3, 4),
        date(2017, 1, 1),
        date(2017, 12, 15),
        {2017: 101, 2018: 124, 2019: 142, 2020: 150, 2021: 158, 2022: 163, 2023: 170, 2024: 176, 2025: 181},
        ["142 companies in 2019 (public record)."],
        Decimal("7.7"),
    ),
    DemoCluster(
        "VIL",
        "vil",
        "logistics",
        date(2016, 3, 4),
        date(2017, 1, 1),
        date(2017, 12, 15),
        {2017: 540, 2018: 585, 2019: 622, 2020: 630, 2021: 641, 2022: 650, 2023: 657, 2024: 663, 2025: 668},
        ["622 members at the end of 2019 (public record)."],
        Decimal("1.1"),
    ),
    DemoCluster(
        "Flanders' FOOD",
        "flanders-food",
        "agrifood",
        date(2017, 11, 1),
        date(2018, 1, 1),
        date(2018, 12, 14),
        {2018: 210, 2019: 228, 2020: 236, 2021: 245, 2022: 251, 2023: 258, 2024: 262, 2025: 267},
        ["Started 1 January 2018 (public record)."],
        Decimal("6.8"),
    ),
    DemoCluster(
        "De Blauwe Cluster",
        "de-blauwe-cluster",
        "blue economy",
        date(2018, 3, 8),
        date(2018, 1, 1),
        date(2019, 2, 15),
        {2018: 118, 2019: 137, 2020: 145, 2021: 151, 2022: 158, 2023: 163, 2024: 169, 2025: 174},
        [
            "Recognised 8 March 2018, started 1 January 2018, pact signed 15 February 2019, "
            "137 members in 2019 (public record)."
        ],
        Decimal("10.1"),
    ),
    DemoCluster(
        "MEDVIA",
        "medvia",
        "health tech",
        date(2020, 12, 1),
        date(2021, 1, 1),
        date(2021, 6, 30),
        {2021: 62, 2022: 75, 2023: 86, 2024: 94, 2025: 101},
        ["Seventh spearhead cluster, from 2021 (public record)."],
        Decimal("2.7"),
    ),
]

ENVELOPES_MEUR = {
    2017: 60,
    2018: 70,
    2019: 72,
    2020: 75,
    2021: 78,
    2022: 78,
    2023: 80,
    2024: 80,
    2025: 82,
    2026: 82,
    2027: 84,
}
INTER_CLUSTER_2024_MEUR = Decimal("14.2")
RESERVATION_EUR = 8 * MILLION


def valid_enterprise_number(serial: int) -> str:
    base = 10_000_000 + serial  # 8 digits, first digit 0 or 1 as the KBO issues them
    return f"{base:08d}{97 - base % 97:02d}"


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


class DemoSeeder:
    def __init__(self, password: str, log: Callable[[str], None]) -> None:
        self.password = password
        self.log = log
        self.kpis = list(KpiDefinition.objects.filter(active=True))
        self.reported = [kpi for kpi in self.kpis if kpi.source == KpiDefinition.Source.REPORTED]

    def run(self) -> None:
        clusters = [self.seed_cluster(spec) for spec in CLUSTERS]
        self.seed_budget(clusters)
        self.seed_users(clusters)

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
                description=" ".join(spec.sources)
                + " Legal entity, enterprise number and member details: illustrative.",
            )
        )
        self.seed_members(cluster, spec, rng)
        pacts = self.seed_pacts(cluster, spec)
        evaluations = self.seed_evaluations(cluster, spec)
        self.seed_lessons(evaluations, pacts)
        self.seed_agreements(cluster, spec)
        self.seed_plans_and_reports(cluster, spec, rng)
        self.log(f"  {spec.name}: created")
        return cluster

    def seed_members(self, cluster: Cluster, spec: DemoCluster, rng: random.Random) -> None:
        """Memberships whose year-end counts are the figures in `spec.members`, with some churn."""
        offset = (CLUSTERS.index(spec) + 1) * 10_000
        organisations: list[Organisation] = []
        memberships: list[Membership] = []
        active: list[int] = []
        previous = 0
        for year in sorted(spec.members):
            target = spec.members[year]
            leaving = rng.sample(active, k=min(len(active), previous // 25))
            for index in leaving:
                memberships[index].left_on = date(year, rng.randint(1, 12), rng.randint(1, 28))
                active.remove(index)
            for _ in range(target - len(active)):
                serial = offset + len(organisations)
                kind = (
                    Organisation.Kind.SME
                    if rng.random() < 0.62
                    else rng.choice([Organisation.Kind.COMPANY, Organisation.Kind.KNOWLEDGE_INSTITUTION])
                )
                if spec.slug == "flux50" and kind == Organisation.Kind.KNOWLEDGE_INSTITUTION:
                    kind = Organisation.Kind.COMPANY  # the record counts 142 companies in 2019
                organisations.append(
                    Organisation(
                        name=f"{spec.name} member {len(organisations) + 1:03d} (illustrative)",
                        kind=kind,
                        enterprise_number=valid_enterprise_number(serial),
                    )
                )
                joined = spec.started_on if year == spec.started_on.year else date(year, rng.randint(1, 12), 1)
                active.append(len(memberships))
                memberships.append(Membership(cluster=cluster, joined_on=joined))
            previous = target
        created = bulk_create_with_history(organisations, Organisation)
        for membership, organisation in zip(memberships, created, strict=True):
            membership.organisation = organisation
        bulk_create_with_history(memberships, Membership)

    def seed_pacts(self, cluster: Cluster, spec: DemoCluster) -> list[ClusterPact]:
        """Version 1 signed on the public date; a new version each year after the plan review."""
        signing_days = [spec.first_pact_signed_on] + [
            date(year, 1, 31) for year in range(spec.first_pact_signed_on.year + 1, 2027)
        ]
        pacts = []
        for number, signed_on in enumerate(signing_days, start=1):
            pact = cp.pact_create(
                cluster=cluster,
                programme_summary=f"Competitiveness programme of {cluster.name} in {spec.domain}, "
                f"version {number}. {ILLUSTRATIVE if number > 1 else ''}".strip(),
            )
            for party, text in (
                (Commitment.Party.CLUSTER_ORGANISATION, "Run the competitiveness programme and report yearly."),
                (Commitment.Party.MEMBERS, "Co-finance the cluster organisation and take part in projects."),
                (Commitment.Party.GOVERNMENT, "Fund operating costs and reserve project means."),
            ):
                status = Commitment.Status.MET if number < len(signing_days) else Commitment.Status.IN_PROGRESS
                cp.entity_save(instance=Commitment(pact=pact, party=party, description=text, status=status))
            pacts.append(cp.pact_sign(pact=pact, signed_on=signed_on))
        return pacts

    # Per start year: (kind, title, period from, period to, stage, stage dates, conclusion).
    # May 2019 for the first four is public; every other date is illustrative.
    EVALUATIONS = {
        2017: [
            (
                "interim",
                "Interim evaluation 1",
                2017,
                2018,
                Stage.COMPLETED,
                (date(2019, 1, 15), date(2019, 4, 1), date(2019, 5, 31)),
                Conclusion.LARGELY_ACHIEVED,
            ),
            (
                "interim",
                "Interim evaluation 2",
                2019,
                2021,
                Stage.COMPLETED,
                (date(2022, 2, 1), date(2022, 5, 2), date(2022, 6, 30)),
                Conclusion.PARTLY_ACHIEVED,
            ),
            (
                "interim",
                "Interim evaluation 3",
                2022,
                2024,
                Stage.COMPLETED,
                (date(2025, 2, 3), date(2025, 5, 5), date(2025, 6, 30)),
                Conclusion.LARGELY_ACHIEVED,
            ),
            ("final", "Final evaluation", 2017, 2025, Stage.IN_PROGRESS, (date(2026, 9, 1),), ""),
        ],
        2018: [
            (
                "interim",
                "Interim evaluation 1",
                2018,
                2019,
                Stage.COMPLETED,
                (date(2020, 2, 3), date(2020, 5, 4), date(2020, 6, 30)),
                Conclusion.LARGELY_ACHIEVED,
            ),
            (
                "interim",
                "Interim evaluation 2",
                2020,
                2022,
                Stage.COMPLETED,
                (date(2023, 2, 1), date(2023, 5, 2), date(2023, 6, 30)),
                Conclusion.PARTLY_ACHIEVED,
            ),
            (
                "interim",
                "Interim evaluation 3",
                2023,
                2025,
                Stage.REPORTING,
                (date(2026, 6, 1), date(2026, 10, 1)),
                "",
            ),
        ],
        2021: [
            (
                "interim",
                "Interim evaluation 1",
                2021,
                2022,
                Stage.COMPLETED,
                (date(2023, 6, 1), date(2023, 8, 1), date(2023, 9, 29)),
                Conclusion.LARGELY_ACHIEVED,
            ),
            ("interim", "Interim evaluation 2", 2023, 2025, Stage.PLANNED, (), ""),
        ],
    }

    def seed_evaluations(self, cluster: Cluster, spec: DemoCluster) -> list[Evaluation]:
        evaluations = []
        public = spec.started_on.year == 2017
        for kind, title, period_from, period_to, stage, dates, conclusion in self.EVALUATIONS[spec.started_on.year]:
            planned_on = dates[-1] if stage == Stage.COMPLETED else date(2026, 12, 15)
            evaluation = cp.entity_save(
                instance=Evaluation(
                    cluster=cluster,
                    kind=kind,
                    title=title,
                    period_start=date(period_from, 1, 1),
                    period_end=date(period_to, 12, 31),
                    evaluator="VLAIO with an external evaluator (illustrative)",
                    planned_on=planned_on,
                    summary=(
                        "Goals largely achieved in direct results, membership (incl. SME reach) and impact on "
                        "companies (public record)."
                        if public and title == "Interim evaluation 1"
                        else ILLUSTRATIVE
                    ),
                )
            )
            for reached, on in zip((Stage.IN_PROGRESS, Stage.REPORTING, Stage.COMPLETED), dates, strict=False):
                evaluation = evaluation_advance(
                    evaluation=evaluation,
                    to=reached,
                    on=on,
                    conclusion=conclusion if reached == Stage.COMPLETED else "",
                )
            if stage == Stage.COMPLETED:
                for criterion in KpiDefinition.Category.values:
                    cp.entity_save(
                        instance=Finding(
                            evaluation=evaluation,
                            criterion=criterion,
                            assessment=conclusion,
                            text="Targets largely met."
                            if conclusion == Conclusion.LARGELY_ACHIEVED
                            else "Targets partly met; see the lessons. (illustrative)",
                        )
                    )
            evaluations.append(evaluation)
        return evaluations

    def seed_lessons(self, evaluations: list[Evaluation], pacts: list[ClusterPact]) -> None:
        texts = [
            (Lesson.Kind.GOOD_PRACTICE, "Roadmap sessions with members sharpen the project pipeline."),
            (Lesson.Kind.BOTTLENECK, "SMEs find the project application burden high."),
        ]
        for evaluation in evaluations:
            if evaluation.stage != Stage.COMPLETED:
                continue
            for kind, text in texts:
                lesson = cp.entity_save(
                    instance=Lesson(
                        evaluation=evaluation,
                        kind=kind,
                        text=f"{text} (illustrative)",
                        follow_up="Taken up in the next pact version."
                        if kind == Lesson.Kind.GOOD_PRACTICE
                        else "Simplified intake form for SMEs.",
                    )
                )
                done = evaluation.completed_on
                later = [p for p in pacts if p.signed_on and done and p.signed_on > done]
                if later:
                    lesson_carry(lesson=lesson, pact=later[0])

    def seed_agreements(self, cluster: Cluster, spec: DemoCluster) -> None:
        """Three-year terms from the start; the last term is cut at the 10-year cap."""
        from funding.models import cap_date_for, term_end_limit

        start = spec.started_on
        cap = cap_date_for(start)
        agreement = None
        number = 1
        while start <= date(2026, 12, 31):
            end = min(term_end_limit(start), cap)
            reference = f"SO-{cluster.slug.upper()}-{number}"
            amount = Decimal(500_000) * (end.year - start.year + 1)
            signed_on = start - timedelta(days=30)
            if agreement is None:
                agreement = agreement_create(
                    cluster=cluster,
                    reference=reference,
                    start_date=start,
                    end_date=end,
                    amount=amount,
                    signed_on=signed_on,
                    notes="Operating support, 500 000 EUR a year (amount illustrative).",
                )
            else:
                agreement = agreement_extend(
                    predecessor=agreement, reference=reference, end_date=end, amount=amount, signed_on=signed_on
                )
            start = end + timedelta(days=1)
            number += 1
            if end == cap:
                break

    def seed_plans_and_reports(self, cluster: Cluster, spec: DemoCluster, rng: random.Random) -> None:
        first = spec.started_on.year
        for year in range(first, 2027):
            plan = cp.annual_plan_create(
                cluster=cluster, year=year, planned_actions=f"Planned actions for {year}. {ILLUSTRATIVE}"
            )
            targets = {}
            for kpi in self.reported:
                targets[kpi.code] = self.demo_target(kpi, year - first, rng)
                cp.kpi_target_set(plan=plan, kpi=kpi, value=targets[kpi.code])
            cp.document_transition(document=plan, to=Workflow.SUBMITTED, at=_at(date(year - 1, 11, 30)), notify=False)
            cp.document_transition(document=plan, to=Workflow.ACCEPTED, at=_at(date(year - 1, 12, 20)), notify=False)
            if year > LAST_WORKING_YEAR:
                continue
            report = cp.annual_report_create(
                cluster=cluster, year=year, narrative=f"Report on working year {year}. {ILLUSTRATIVE}"
            )
            for kpi in self.reported:
                value = self.demo_value(kpi, targets[kpi.code], rng)
                if kpi.code == "PRJ1" and year == 2024 and spec.project_decisions_2024_meur is not None:
                    value = spec.project_decisions_2024_meur * MILLION  # public record
                cp.kpi_value_set(report=report, kpi=kpi, value=value)
            self.advance_report(report, spec)

    def advance_report(self, report: AnnualReport, spec: DemoCluster) -> None:
        year = report.year
        submitted, reviewed = _at(date(year + 1, 3, 15)), _at(date(year + 1, 5, 28))
        if year == LAST_WORKING_YEAR:
            plan = {
                "catalisti": "submitted",
                "sim": "submitted",
                "flux50": "submitted",
                "vil": "submitted",
                "flanders-food": "accepted",
                "de-blauwe-cluster": "returned",
                "medvia": "draft",
            }[spec.slug]
        elif year == 2019:
            plan = "submitted"  # public record: 2019 reports still being processed
        else:
            plan = "accepted"
        if plan == "draft":
            return
        # The demo's history is loaded, not lived: nobody is e-mailed about it.
        cp.document_transition(document=report, to=Workflow.SUBMITTED, at=submitted, notify=False)
        if plan == "accepted":
            cp.document_transition(document=report, to=Workflow.ACCEPTED, at=reviewed, notify=False)
        elif plan == "returned":
            cp.document_transition(
                document=report,
                to=Workflow.RETURNED,
                at=reviewed,
                notify=False,
                comment="CPI7 and CPI7BIS do not match the project list; please correct.",
            )

    @staticmethod
    def demo_target(kpi: KpiDefinition, age: int, rng: random.Random) -> Decimal:
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
    def demo_value(kpi: KpiDefinition, target: Decimal, rng: random.Random) -> Decimal:
        factor = Decimal(rng.randint(82, 125)) / 100
        value = (target * factor).quantize(Decimal("1"))
        if kpi.unit == KpiDefinition.Unit.PERCENT:
            value = min(value, Decimal(100))
        return value

    # --- money and people -------------------------------------------------------------------------

    @transaction.atomic
    def seed_budget(self, clusters: list[Cluster]) -> None:
        for year, envelope in ENVELOPES_MEUR.items():
            if BudgetYear.objects.filter(year=year).exists():
                continue
            budget_year = budget_year_save(
                budget_year=BudgetYear(
                    year=year,
                    envelope=Decimal(envelope) * MILLION,
                    notes="75 M EUR, 8 M EUR reserved per cluster (public record)." if year == 2020 else ILLUSTRATIVE,
                )
            )
            running = [c for c in clusters if c.started_on and c.started_on.year <= year]
            for cluster in running:
                allocation_save(
                    allocation=Allocation(
                        budget_year=budget_year,
                        purpose=Allocation.Purpose.COMPETITIVENESS,
                        cluster=cluster,
                        amount=RESERVATION_EUR,
                        description="Reservation for the competitiveness programme (8 M EUR, public record).",
                    ),
                    partners=[],
                )
            if len(running) >= 2 and year <= 2026:
                inter = INTER_CLUSTER_2024_MEUR * MILLION if year == 2024 else Decimal(6) * MILLION
                allocation_save(
                    allocation=Allocation(
                        budget_year=budget_year,
                        purpose=Allocation.Purpose.INTER_CLUSTER,
                        amount=inter,
                        description="Inter-cluster projects decided in 2024 (public record)."
                        if year == 2024
                        else f"Inter-cluster projects. {ILLUSTRATIVE}",
                    ),
                    partners=running,
                )
                allocation_save(
                    allocation=Allocation(
                        budget_year=budget_year,
                        purpose=Allocation.Purpose.OTHER,
                        amount=Decimal(2) * MILLION,
                        description=f"Other initiatives supporting the cluster policy. {ILLUSTRATIVE}",
                    ),
                    partners=[],
                )

    def seed_users(self, clusters: list[Cluster]) -> None:
        User = get_user_model()
        people = [("officer", OFFICER, True, "Olivia", "Officer"), ("analyst", API_READER, False, "Arne", "Analyst")]
        for username, role, staff, first_name, last_name in people:
            if User.objects.filter(username=username).exists():
                continue
            user = User.objects.create_user(
                username=username,
                password=self.password,
                email=f"{username}@vlaio.example",
                first_name=first_name,
                last_name=last_name,
                is_staff=staff,
            )
            user.groups.add(Group.objects.get(name=role))
        for cluster in clusters:
            username = f"manager-{cluster.slug}"
            if User.objects.filter(username=username).exists():
                continue
            user = User.objects.create_user(
                username=username,
                password=self.password,
                email=f"{username}@cluster.example",
                first_name="Manager",
                last_name=cluster.name,
            )
            cp.cluster_manager_add(user=user, cluster=cluster)
