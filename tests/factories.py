"""factory_boy factories for the domain. They create rows through the ORM (fast, for setting up);
tests of the rules themselves go through the services."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, PdfObject, TextStringObject

from clusterpacts import services
from clusterpacts.models import (
    AnnualPlan,
    AnnualReport,
    Cluster,
    ClusterManager,
    ClusterPact,
    KpiDefinition,
    KpiTarget,
    Membership,
    Organisation,
)
from core.roles import API_READER, CLUSTER_MANAGER, OFFICER
from evaluations.models import Evaluation
from funding.models import BudgetYear, Project, ProjectPartner


def valid_enterprise_number(serial: int) -> str:
    base = 10_000_000 + serial
    return f"{base:08d}{97 - base % 97:02d}"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-1")

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))
        if create:
            self.save()


def officer(**kwargs: object):
    return UserFactory(role=OFFICER, is_staff=True, **kwargs)


def reader(**kwargs: object):
    return UserFactory(role=API_READER, **kwargs)


def manager_of(cluster: Cluster, **kwargs: object):
    user = UserFactory(role=CLUSTER_MANAGER, **kwargs)
    ClusterManager.objects.create(user=user, cluster=cluster)
    return user


class ClusterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cluster

    name = factory.Sequence(lambda n: f"Cluster {n}")
    slug = factory.Sequence(lambda n: f"cluster-{n}")
    domain = "testing"
    started_on = date(2017, 1, 1)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = Organisation.Kind.SME
    enterprise_number = factory.Sequence(lambda n: valid_enterprise_number(500_000 + n))


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organisation = factory.SubFactory(OrganisationFactory)
    cluster = factory.SubFactory(ClusterFactory)
    joined_on = date(2018, 1, 1)


class ProjectFactory(factory.django.DjangoModelFactory):
    """A project decided against its lead cluster's reservation (an ICON project of 2024 by default)."""

    class Meta:
        model = Project
        skip_postgeneration_save = True

    reference = factory.Sequence(lambda n: f"HBC.2024.{n:04d}")
    title = factory.Sequence(lambda n: f"Project {n}")
    type = Project.Type.ICON
    lead_cluster = factory.SubFactory(ClusterFactory)
    decided_on = date(2024, 6, 1)
    amount = Decimal("1000000.00")
    start_date = date(2024, 9, 1)
    end_date = date(2026, 8, 31)
    status = Project.Status.DECIDED
    status_on = factory.LazyAttribute(lambda o: o.decided_on)

    @factory.post_generation
    def clusters(self, create: bool, extracted: list[Cluster] | None, **kwargs: object) -> None:
        """`clusters=[...]`: the other clusters of an inter-cluster project."""
        if create and extracted:
            self.clusters.set(extracted)

    @factory.post_generation
    def partners(self, create: bool, extracted: list[tuple[Organisation, str]] | None, **kwargs: object) -> None:
        """`partners=[(organisation, role), ...]`."""
        for organisation, role in extracted or []:
            ProjectPartner.objects.create(project=self, organisation=organisation, role=role)


class PactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClusterPact

    cluster = factory.SubFactory(ClusterFactory)
    version = factory.Sequence(lambda n: n + 1)


class AnnualPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnnualPlan

    cluster = factory.SubFactory(ClusterFactory)
    year = 2020


class AnnualReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnnualReport

    cluster = factory.SubFactory(ClusterFactory)
    year = 2020
    due_on = factory.LazyAttribute(lambda o: date(o.year + 1, 3, 31))


class EvaluationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Evaluation

    cluster = factory.SubFactory(ClusterFactory)
    kind = Evaluation.Kind.INTERIM
    period_start = date(2017, 1, 1)
    period_end = date(2018, 12, 31)


def completed_interim(cluster: Cluster, completed_on: date) -> Evaluation:
    """An interim evaluation of `cluster` completed on `completed_on` (stages on the same day)."""
    return EvaluationFactory(
        cluster=cluster,
        stage="completed",
        started_on=completed_on,
        reporting_on=completed_on,
        completed_on=completed_on,
        conclusion="largely_achieved",
    )


class BudgetYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BudgetYear
        django_get_or_create = ("year",)

    year = 2020
    envelope = Decimal("75000000")


def kpi(code: str) -> KpiDefinition:
    return KpiDefinition.objects.get(code=code)


# --- complete plans and reports (a plan or report is submitted only once complete) ----------------

# A valid figure per unit (KpiDefinition.check_value): percentages 0-100, counts whole and >= 0.
FIGURE_BY_UNIT = {
    KpiDefinition.Unit.COUNT: Decimal(10),
    KpiDefinition.Unit.PERCENT: Decimal(50),
    KpiDefinition.Unit.EUR: Decimal(250_000),
    KpiDefinition.Unit.MEUR: Decimal("1.5"),
    KpiDefinition.Unit.FTE: Decimal(4),
}


def complete_report(report: AnnualReport, narrative: str | None = None) -> AnnualReport:
    """Make `report` complete for `services.document_submit`, through the services: a narrative (the
    given one, else a default one if it has none) and a value for every active reported KPI it has no value
    for yet (the derived ones are computed, never entered). Values and narrative the test already set stay."""
    if narrative is not None or not report.narrative.strip():
        services.document_update(document=report, narrative=narrative or "What the cluster did this year.")
    reported = KpiDefinition.objects.filter(active=True, source=KpiDefinition.Source.REPORTED)
    for definition in reported.exclude(values__report=report):
        services.kpi_value_set(report=report, kpi=definition, value=FIGURE_BY_UNIT[definition.unit])
    return report


def complete_plan(plan: AnnualPlan) -> AnnualPlan:
    """Make `plan` complete for `services.document_submit`, through the services: planned actions (a
    default text if it has none) and a target for every active KPI it has no target for yet. Targets the
    test already set stay as they are, including one the cluster already has for the plan's year outside
    the plan (it joins the plan with its value)."""
    if not plan.planned_actions.strip():
        services.document_update(document=plan, planned_actions="Two calls and a matchmaking day.")
    for definition in KpiDefinition.objects.filter(active=True).exclude(targets__plan=plan):
        existing = KpiTarget.objects.filter(cluster_id=plan.cluster_id, kpi=definition, year=plan.year).first()
        value = existing.value if existing else FIGURE_BY_UNIT[definition.unit]
        services.kpi_target_set(plan=plan, kpi=definition, value=value)
    return plan


def complete(document: AnnualPlan | AnnualReport) -> AnnualPlan | AnnualReport:
    """`complete_plan` or `complete_report`, whichever `document` is."""
    return complete_plan(document) if isinstance(document, AnnualPlan) else complete_report(document)


# --- uploads ---------------------------------------------------------------------------------------


def pdf_bytes(
    *,
    javascript: str | None = None,
    launch: str | None = None,
    embedded: bytes | None = None,
    password: str | None = None,
) -> bytes:
    """A real one-page PDF made with pypdf; optionally with an /OpenAction that runs `javascript` or
    launches the program `launch`, an embedded file, or encrypted with `password` (the hostile
    variants the upload check refuses)."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    action: dict[str, PdfObject] = {}
    if javascript is not None:
        action = {"/S": NameObject("/JavaScript"), "/JS": TextStringObject(javascript)}
    if launch is not None:
        action = {"/S": NameObject("/Launch"), "/F": TextStringObject(launch)}
    if action:
        opened = DictionaryObject({NameObject(key): value for key, value in action.items()})
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(opened)
    if embedded is not None:
        writer.add_attachment("payload.txt", embedded)
    if password is not None:
        writer.encrypt(password)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_upload(name: str = "report.pdf", content: bytes | None = None) -> SimpleUploadedFile:
    """An uploaded file as the browser sends it: a valid PDF unless `content` says otherwise."""
    return SimpleUploadedFile(name, pdf_bytes() if content is None else content, content_type="application/pdf")
