"""Shared builders for the API permission and query-count tests (not collected: no test_ prefix).

`build_world()` makes one object of every API resource in a cluster (a `ClusterSlice`), for the
requesting manager's cluster and for another one; `RESOURCES` says, per endpoint, which object a
test aims at, how to create and change one, and whether a delete is refused by foreign keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Model
from django.test import Client, override_settings

from clusterpacts.models import (
    AnnualPlan,
    AnnualReport,
    Cluster,
    ClusterPact,
    Commitment,
    KpiDefinition,
    KpiTarget,
    KpiValue,
    Membership,
    Organisation,
)
from core.versions import VERSION_FIELD
from evaluations.models import Evaluation, Finding, Lesson
from funding.models import Allocation, BudgetYear, Flag, Project, ProjectPartner, SupportAgreement
from tests import factories

API = "/api/v1"
PASSWORD = "secret-pass-1"


# --- the world: one object of every resource per cluster ----------------------------------------


@dataclass
class ClusterSlice:
    """One object of every cluster-scoped resource, all in `cluster`; plans and reports are drafts."""

    cluster: Cluster
    organisation: Organisation
    membership: Membership
    pact: ClusterPact
    commitment: Commitment
    plan: AnnualPlan
    report: AnnualReport
    target: KpiTarget
    value: KpiValue
    evaluation: Evaluation
    finding: Finding
    lesson: Lesson
    agreement: SupportAgreement
    allocation: Allocation
    project: Project  # led by the cluster, with the slice's organisation as lead partner
    flag: Flag


@dataclass
class World:
    own: ClusterSlice  # in the `cluster` fixture, managed by `manager`
    other: ClusterSlice  # in `other_cluster`, managed by `other_manager`
    kpi: KpiDefinition  # the catalogue row both clusters' figures use
    spare_kpi: KpiDefinition  # a catalogue row no figure uses yet
    budget_year: BudgetYear


def build_slice(cluster: Cluster, kpi: KpiDefinition, budget_year: BudgetYear) -> ClusterSlice:
    organisation = factories.OrganisationFactory()
    membership = factories.MembershipFactory(organisation=organisation, cluster=cluster)
    pact = factories.PactFactory(cluster=cluster, version=1)
    commitment = Commitment.objects.create(pact=pact, party=Commitment.Party.MEMBERS, description="Co-finance")
    plan = factories.AnnualPlanFactory(cluster=cluster, year=2020)
    report = factories.AnnualReportFactory(cluster=cluster, year=2020)
    # Plain ORM rows (set-up, not the rules under test): the services' validation costs a few
    # dozen queries per slice, and the matrix builds a world for every one of its tests.
    target = KpiTarget.objects.create(plan=plan, cluster=cluster, kpi=kpi, year=2020, value=Decimal(10))
    value = KpiValue.objects.create(report=report, cluster=cluster, kpi=kpi, year=2020, value=Decimal(5))
    evaluation = factories.EvaluationFactory(cluster=cluster)
    finding = Finding.objects.create(
        evaluation=evaluation, criterion=KpiDefinition.Category.DIRECT_RESULTS, assessment="partly_achieved"
    )
    lesson = Lesson.objects.create(evaluation=evaluation, kind=Lesson.Kind.GOOD_PRACTICE, text="Share the roadmap")
    agreement = SupportAgreement.objects.create(
        cluster=cluster,
        reference=f"SO-{cluster.slug}-1",
        start_date=date(2017, 1, 1),
        end_date=date(2019, 12, 31),
        chain_start=date(2017, 1, 1),
        amount=Decimal(500_000),
    )
    allocation = Allocation.objects.create(
        budget_year=budget_year, purpose=Allocation.Purpose.COMPETITIVENESS, cluster=cluster, amount=Decimal(8_000_000)
    )
    project = factories.ProjectFactory(
        reference=f"PRJ-{cluster.slug}-1",
        lead_cluster=cluster,
        partners=[(organisation, ProjectPartner.Role.LEAD)],
    )
    flag = Flag.objects.create(
        kind=Flag.Kind.REPORT_OVERDUE,
        cluster=cluster,
        report=report,
        year=2020,
        subject=f"report:{cluster.pk}:2020",
        message="The annual report 2020 is overdue.",
        raised_on=date(2021, 4, 1),
    )
    return ClusterSlice(
        cluster=cluster,
        organisation=organisation,
        membership=membership,
        pact=pact,
        commitment=commitment,
        plan=plan,
        report=report,
        target=target,
        value=value,
        evaluation=evaluation,
        finding=finding,
        lesson=lesson,
        agreement=agreement,
        allocation=allocation,
        project=project,
        flag=flag,
    )


@override_settings(SIMPLE_HISTORY_ENABLED=False)  # set-up rows need no change history; halves the inserts
def build_world(cluster: Cluster, other_cluster: Cluster) -> World:
    kpi = factories.kpi("CPI1")
    budget_year = factories.BudgetYearFactory(year=2020)
    return World(
        own=build_slice(cluster, kpi, budget_year),
        other=build_slice(other_cluster, kpi, budget_year),
        kpi=kpi,
        spare_kpi=factories.kpi("CPI2"),
        budget_year=budget_year,
    )


def seed_project(cluster: Cluster) -> Project:
    """An ICON project of 2024 that `cluster` leads, with two of its members as partners, through the service.

    The demo data holds no projects (yet): the tests that walk every endpoint over the demo add this one."""
    from funding.services import PartnerPut, project_save

    lead, partner = Organisation.objects.filter(memberships__cluster=cluster).distinct().order_by("pk")[:2]
    return project_save(
        project=Project(
            reference=f"TEST.{cluster.slug}.ICON",
            title="Illustrative ICON project",
            type=Project.Type.ICON,
            lead_cluster=cluster,
            decided_on=date(2024, 6, 1),
            amount=Decimal("750000.00"),
            start_date=date(2024, 9, 1),
            end_date=date(2026, 8, 31),
        ),
        clusters=[],
        partners=[PartnerPut(lead, ProjectPartner.Role.LEAD), PartnerPut(partner, ProjectPartner.Role.PARTNER)],
    )


# --- the resources ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """One endpoint under /api/v1/ and what the permission matrix needs to know about it."""

    name: str
    model: type[Model]
    # The ClusterSlice attribute of the object aimed at; None for catalogue rows that belong to no
    # cluster (the KPI catalogue, budget years), which every role sees and only officers write.
    attr: str | None
    create: Callable[[World], dict[str, Any]]
    # (field, value sent in a PATCH, the value then stored)
    patch: tuple[str, Any, Any]
    manager_writable: bool = False
    read_only: bool = False
    # The officer's DELETE is refused with a 400 because other rows still refer to the object.
    protected: bool = False
    # On a manager's create, the field whose choice is another cluster's object (answered with a 400).
    scoped_choice: str = "cluster"

    def target(self, world: World) -> Model:
        if self.attr is None:
            return world.kpi if self.model is KpiDefinition else world.budget_year
        return getattr(world.own, self.attr)

    def other_target(self, world: World) -> Model | None:
        """The same kind of object in the other cluster (None for catalogue rows)."""
        return None if self.attr is None else getattr(world.other, self.attr)

    @property
    def cluster_scoped(self) -> bool:
        return self.attr is not None


def _agreement_extension(world: World) -> dict[str, Any]:
    # A cluster has one chain of agreements: a new one extends the last, after an interim evaluation.
    factories.completed_interim(world.own.cluster, date(2019, 5, 15))
    return {
        "cluster": world.own.cluster.pk,
        "reference": "SO-extension-2",
        "start_date": "2020-01-01",
        "end_date": "2022-12-31",
        "amount": "500000.00",
        "predecessor": world.own.agreement.pk,
    }


RESOURCES: list[Resource] = [
    Resource(
        "clusters",
        Cluster,
        "cluster",
        create=lambda w: {"name": "Flux50", "slug": "flux50"},
        patch=("domain", "chemistry", "chemistry"),
        protected=True,
    ),
    Resource(
        "organisations",
        Organisation,
        "organisation",
        create=lambda w: {"name": "Nieuwe kmo", "kind": "sme"},
        patch=("name", "Renamed NV", "Renamed NV"),
        protected=True,
    ),
    Resource(
        "memberships",
        Membership,
        "membership",
        create=lambda w: {
            "organisation": w.other.organisation.pk,
            "cluster": w.own.cluster.pk,
            "joined_on": "2019-01-01",
        },
        patch=("paying", False, False),
    ),
    Resource(
        "pacts",
        ClusterPact,
        "pact",
        create=lambda w: {"cluster": w.own.cluster.pk, "programme_summary": "Version two"},
        patch=("notes", "Reviewed", "Reviewed"),
    ),
    Resource(
        "commitments",
        Commitment,
        "commitment",
        create=lambda w: {"pact": w.own.pact.pk, "party": "government", "description": "Fund the programme"},
        patch=("description", "Fund the programme", "Fund the programme"),
    ),
    Resource(
        "annual-plans",
        AnnualPlan,
        "plan",
        create=lambda w: {"cluster": w.own.cluster.pk, "year": 2021, "planned_actions": "Roadshow"},
        patch=("planned_actions", "Roadshow", "Roadshow"),
        manager_writable=True,
    ),
    Resource(
        "annual-reports",
        AnnualReport,
        "report",
        create=lambda w: {"cluster": w.own.cluster.pk, "year": 2021, "narrative": "A good year"},
        patch=("narrative", "A good year", "A good year"),
        manager_writable=True,
    ),
    Resource(
        "kpis",
        KpiDefinition,
        None,
        create=lambda w: {
            "code": "NEW1",
            "name_nl": "Nieuw",
            "name_en": "New",
            "unit": "count",
            "category": "direct_results",
        },
        patch=("description", "Counted in December", "Counted in December"),
        protected=True,
    ),
    Resource(
        "kpi-targets",
        KpiTarget,
        "target",
        create=lambda w: {"plan": w.own.plan.pk, "kpi": w.spare_kpi.pk, "value": "12"},
        patch=("value", "11", Decimal(11)),
        manager_writable=True,
        scoped_choice="plan",
    ),
    Resource(
        "kpi-values",
        KpiValue,
        "value",
        create=lambda w: {"report": w.own.report.pk, "kpi": w.spare_kpi.pk, "value": "7"},
        patch=("value", "6", Decimal(6)),
        manager_writable=True,
        scoped_choice="report",
    ),
    Resource(
        "evaluations",
        Evaluation,
        "evaluation",
        create=lambda w: {
            "cluster": w.own.cluster.pk,
            "kind": "ad_hoc",
            "period_start": "2019-01-01",
            "period_end": "2019-12-31",
        },
        patch=("summary", "On track", "On track"),
    ),
    Resource(
        "findings",
        Finding,
        "finding",
        create=lambda w: {"evaluation": w.own.evaluation.pk, "criterion": "membership", "assessment": "not_achieved"},
        patch=("text", "Fewer SMEs than planned", "Fewer SMEs than planned"),
    ),
    Resource(
        "lessons",
        Lesson,
        "lesson",
        create=lambda w: {"evaluation": w.own.evaluation.pk, "kind": "bottleneck", "text": "Slow decisions"},
        patch=("follow_up", "Monthly board", "Monthly board"),
    ),
    Resource(
        "agreements",
        SupportAgreement,
        "agreement",
        create=_agreement_extension,
        patch=("notes", "Signed in Brussels", "Signed in Brussels"),
    ),
    Resource(
        "budget-years",
        BudgetYear,
        None,
        create=lambda w: {"year": 2031, "envelope": "75000000.00"},
        patch=("notes", "Approved by the government", "Approved by the government"),
        protected=True,
    ),
    Resource(
        "allocations",
        Allocation,
        "allocation",
        create=lambda w: {"budget_year": w.budget_year.pk, "purpose": "other", "amount": "1000000.00"},
        patch=("description", "Roadmap", "Roadmap"),
    ),
    Resource(
        "projects",
        Project,
        "project",
        create=lambda w: {
            "reference": "HBC.2024.0999",
            "title": "Recycled composites",
            "type": "icon",
            "lead_cluster": w.own.cluster.pk,
            "decided_on": "2024-06-01",
            "amount": "750000.00",
            "start_date": "2024-09-01",
            "end_date": "2026-08-31",
            "partners": [{"organisation": w.own.organisation.pk, "role": "lead"}],
        },
        patch=("title", "Recycled composites, phase 2", "Recycled composites, phase 2"),
        scoped_choice="lead_cluster",
    ),
    Resource(
        "flags",
        Flag,
        "flag",
        create=lambda w: {"kind": "renewal_due", "cluster": w.own.cluster.pk, "message": "typed in"},
        patch=("message", "typed in", "typed in"),
        read_only=True,
    ),
]

RESOURCE_NAMES = [resource.name for resource in RESOURCES]


def resource_named(name: str) -> Resource:
    return next(resource for resource in RESOURCES if resource.name == name)


# --- clients ----------------------------------------------------------------------------------


DOCUMENT_PAGE = re.compile(r"^/clusters/[^/]+/(plans|reports)/\d+/$|^/review/(plans|reports)/\d+/$")


class ApiClient(Client):
    """A test client that writes as a careful API client does: a PUT, PATCH or DELETE without an
    If-Match first GETs the object and sends its ETag back (the API answers 428 to a write without
    one). A test of If-Match itself passes the header, or uses a plain `Client`."""

    def _with_if_match(self, path: str, headers: dict[str, Any]) -> dict[str, Any]:
        if "HTTP_IF_MATCH" in headers or "If-Match" in (headers.get("headers") or {}):
            return headers
        extra = {key: value for key, value in headers.items() if key.startswith("HTTP_")}
        etag = self.get(path, **extra).headers.get("ETag")
        return {**headers, "HTTP_IF_MATCH": etag} if etag else headers

    def put(self, path: str, *args: Any, **extra: Any) -> Any:  # type: ignore[override]
        return super().put(path, *args, **self._with_if_match(path, extra))

    def post(self, path: str, data: Any = None, *args: Any, **extra: Any) -> Any:  # type: ignore[override]
        """A portal plan, report or review page is posted as a browser posts it: with the version the page
        was opened at (a test of a stale page sends its own, or uses a plain `Client`)."""
        if isinstance(data, dict) and VERSION_FIELD not in data and DOCUMENT_PAGE.match(path):
            page = self.get(path, **{key: value for key, value in extra.items() if key.startswith("HTTP_")})
            found = re.search(rf'name="{VERSION_FIELD}" value="([^"]*)"', page.content.decode())
            if found:
                data = {**data, VERSION_FIELD: found.group(1)}
        return super().post(path, data, *args, **extra)

    def patch(self, path: str, *args: Any, **extra: Any) -> Any:  # type: ignore[override]
        return super().patch(path, *args, **self._with_if_match(path, extra))

    def delete(self, path: str, *args: Any, **extra: Any) -> Any:  # type: ignore[override]
        return super().delete(path, *args, **self._with_if_match(path, extra))


def token_for(username: str, password: str = PASSWORD) -> str:
    """A token from the API's own endpoint, as a client script would get one."""
    response = Client().post(
        f"{API}/auth/token/", {"username": username, "password": password}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"token", "expiry"}
    return body["token"]


def token_client(username: str) -> Client:
    return ApiClient(HTTP_AUTHORIZATION=f"Token {token_for(username)}", HTTP_ACCEPT_LANGUAGE="en")


def session_client(user: Any) -> Client:
    client = ApiClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def list_ids(response: Any) -> set[int]:
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    return {row["id"] for row in body["results"]}
