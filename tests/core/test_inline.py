"""core/inline.py: to-many rows read in their parent's query as JSON, in their order, into the prefetch cache."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import OuterRef

from clusterpacts.models import Cluster, Organisation
from core.inline import Inline, JsonList, inline_fill, inline_relations
from evaluations.models import Evaluation, Finding
from funding.models import Project
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _json_support_known():
    """SQLite's JSON support is probed once per process, with a few queries, the first time it is needed."""
    assert connection.features.supports_json_field


PARTNERS = Inline(
    "partners",
    ("id", "project_id", "organisation_id", "role", "organisation__name", "organisation__kind"),
    ("role", "organisation__name", "id"),
)
CLUSTERS = Inline("clusters", ("id",), ("name", "id"))


@pytest.fixture
def project(cluster, other_cluster) -> Project:
    third = factories.ClusterFactory(name="Agoria", slug="agoria")
    zeta = factories.OrganisationFactory(name="Zeta NV", kind=Organisation.Kind.SME)
    alpha = factories.OrganisationFactory(name="Alpha BV", kind=Organisation.Kind.COMPANY)
    beta = factories.OrganisationFactory(name="Beta CV", kind=Organisation.Kind.SME)
    return factories.ProjectFactory(
        reference="HBC.2024.0001",
        type=Project.Type.INTER_CLUSTER,
        lead_cluster=cluster,
        clusters=[other_cluster, third],
        partners=[(zeta, "partner"), (alpha, "partner"), (beta, "lead")],
    )


def test_a_json_list_keeps_the_order_of_its_rows_and_is_empty_without_rows(cluster, other_cluster):
    factories.ClusterFactory(name="Agoria", slug="agoria")
    others = Cluster.objects.exclude(pk=OuterRef("pk")).order_by("-name")

    rows = dict(
        Cluster.objects.annotate(names=JsonList(others, "name"), none=JsonList(others.filter(name=""), "name"))
        .values_list("name", "names", "none")
        .values_list("name", "names")
    )
    empty = Cluster.objects.annotate(none=JsonList(others.filter(name=""), "name")).values_list("none", flat=True)

    assert {name: json.loads(names) for name, names in rows.items()} == {
        "Agoria": ["SIM", "Catalisti"],
        "Catalisti": ["SIM", "Agoria"],
        "SIM": ["Catalisti", "Agoria"],
    }
    assert [json.loads(value) for value in empty] == [[], [], []]


def test_inlined_relations_read_as_their_prefetch(django_assert_num_queries, project):
    prefetched = Project.objects.prefetch_related("clusters", "partners__organisation").get(pk=project.pk)

    with django_assert_num_queries(1):
        [inlined] = list(inline_relations(Project.objects.filter(pk=project.pk), [CLUSTERS, PARTNERS]))
        inline_fill([inlined], [CLUSTERS, PARTNERS])
        clusters = [c.pk for c in inlined.clusters.all()]
        partners = [
            (p.pk, p.role, p.organisation_id, p.organisation.name, p.organisation.is_sme)
            for p in inlined.partners.all()
        ]

    assert clusters == [c.pk for c in prefetched.clusters.all()]  # by name: Agoria, SIM
    assert clusters == list(
        Cluster.objects.filter(joined_projects=project).order_by("name").values_list("pk", flat=True)
    )
    assert partners == [
        (p.pk, p.role, p.organisation_id, p.organisation.name, p.organisation.is_sme)
        for p in prefetched.partners.order_by("role", "organisation__name", "id")
    ]
    assert [name for _pk, _role, _org, name, _sme in partners] == ["Beta CV", "Alpha BV", "Zeta NV"]


def test_a_row_without_related_rows_has_an_empty_relation(django_assert_num_queries, cluster):
    lone = factories.ProjectFactory(reference="HBC.2024.0002", lead_cluster=cluster)
    lone.partners.all().delete()

    with django_assert_num_queries(1):
        [inlined] = list(inline_relations(Project.objects.filter(pk=lone.pk), [CLUSTERS, PARTNERS]))
        inline_fill([inlined], [CLUSTERS, PARTNERS])
        assert list(inlined.clusters.all()) == []
        assert list(inlined.partners.all()) == []


def test_a_field_left_out_is_deferred_not_wrong(project):
    [inlined] = list(inline_relations(Project.objects.filter(pk=project.pk), [CLUSTERS]))
    inline_fill([inlined], [CLUSTERS])

    assert sorted(c.name for c in inlined.clusters.all()) == ["Agoria", "SIM"]  # read when asked for


def test_a_prefetch_left_out_of_the_inlined_relations_is_refused():
    with pytest.raises(ImproperlyConfigured, match="partners"):
        inline_relations(Project.objects.prefetch_related("clusters", "partners"), [CLUSTERS])


def test_only_to_many_relations_can_be_inlined():
    with pytest.raises(ImproperlyConfigured, match="lead_cluster"):
        inline_relations(Project.objects.all(), [Inline("lead_cluster", ("id",))])


def test_dates_come_back_as_dates(cluster):
    factories.EvaluationFactory(cluster=cluster, period_start=date(2019, 1, 1), period_end=date(2019, 12, 31))
    dated = Inline("evaluations", ("id", "cluster_id", "period_start"), ("period_start", "id"))

    [inlined] = list(inline_relations(Cluster.objects.filter(pk=cluster.pk), [dated]))
    inline_fill([inlined], [dated])

    assert [e.period_start for e in inlined.evaluations.all()] == [date(2019, 1, 1)]


def test_text_comes_back_as_it_was_written(cluster):
    evaluation = factories.EvaluationFactory(cluster=cluster)
    awkward = 'Quotes " and \' , a back\\slash, a new\nline, a tab\t, accents éèç, 💡 and {"json": [1]}'
    Finding.objects.create(evaluation=evaluation, criterion="membership", assessment="achieved", text=awkward)
    findings = Inline("findings", ("id", "evaluation_id", "criterion", "assessment", "text"), ("criterion", "id"))

    [inlined] = list(inline_relations(Evaluation.objects.filter(pk=evaluation.pk), [findings]))
    inline_fill([inlined], [findings])

    assert [f.text for f in inlined.findings.all()] == [awkward]


def test_fields_json_would_change_are_refused():
    with pytest.raises(ImproperlyConfigured, match="amount"):
        inline_relations(Cluster.objects.all(), [Inline("led_projects", ("id", "amount"))])
    with pytest.raises(ImproperlyConfigured, match="submitted_at"):
        inline_relations(Cluster.objects.all(), [Inline("annual_reports", ("id", "submitted_at"))])
