"""Projects decided against the reservations: their rules, what they use of a reservation, the flag when a
year's decisions exceed it, and the project KPIs they count (issue 15)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from clusterpacts.models import Cluster, Organisation
from clusterpacts.selectors import derived_figures
from funding.models import Allocation, Flag, Project, ProjectPartner
from funding.selectors import budget_years, project_figures, reservation_use
from funding.services import PartnerPut, allocation_save, flags_scan, project_save
from tests import factories
from tests.factories import BudgetYearFactory, OrganisationFactory, ProjectFactory
from tests.funding.helpers import refused, refused_by_the_database, shown

pytestmark = pytest.mark.django_db

PROJECT_MODELS = (Project, Project.clusters.through, ProjectPartner)
EIGHT_MILLION = Decimal("8000000.00")
LEAD, PARTNER, SUBCONTRACTOR = ProjectPartner.Role.LEAD, ProjectPartner.Role.PARTNER, ProjectPartner.Role.SUBCONTRACTOR


def project_fields(cluster: Cluster, **overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "reference": "HBC.2024.0001",
        "title": "Circular plastics pilot",
        "type": Project.Type.ICON,
        "lead_cluster": cluster,
        "decided_on": date(2024, 6, 1),
        "amount": Decimal("1500000.00"),
        "start_date": date(2024, 9, 1),
        "end_date": date(2026, 8, 31),
    }
    fields.update(overrides)
    return fields


def save(cluster: Cluster, *, clusters=None, partners=None, **overrides: object) -> Project:
    return project_save(
        project=Project(), clusters=clusters, partners=partners, **project_fields(cluster, **overrides)
    )


def reserve(year: int, cluster: Cluster, amount: Decimal = EIGHT_MILLION, **fields: object) -> Allocation:
    budget = BudgetYearFactory(year=year, envelope=Decimal("75000000.00"))
    return allocation_save(
        allocation=Allocation(
            budget_year=budget, purpose=Allocation.Purpose.COMPETITIVENESS, cluster=cluster, amount=amount, **fields
        )
    )


# --- the rules, where the data enters ------------------------------------------------------------------


def test_a_project_is_saved_with_its_partners_and_status_since_its_decision(cluster):
    firm, lab = OrganisationFactory(), OrganisationFactory(kind=Organisation.Kind.KNOWLEDGE_INSTITUTION)

    project = save(cluster, partners=[PartnerPut(firm, LEAD), PartnerPut(lab, SUBCONTRACTOR)])

    assert (project.status, project.status_on, project.year) == (Project.Status.DECIDED, date(2024, 6, 1), 2024)
    assert sorted(project.partners.values_list("organisation__name", "role")) == sorted(
        [(firm.name, LEAD), (lab.name, SUBCONTRACTOR)]
    )
    assert project.history.count() == 1


def test_an_inter_cluster_project_without_another_cluster_is_refused(cluster):
    with refused("clusters", "at least two clusters", models=PROJECT_MODELS):
        save(cluster, type=Project.Type.INTER_CLUSTER, clusters=[])


def test_an_inter_cluster_project_naming_only_its_lead_again_is_refused(cluster):
    with refused("clusters", "The lead cluster is not one of the other clusters", models=PROJECT_MODELS):
        save(cluster, type=Project.Type.INTER_CLUSTER, clusters=[cluster])


def test_an_inter_cluster_project_has_its_lead_and_the_other_clusters(cluster, other_cluster):
    project = save(cluster, type=Project.Type.INTER_CLUSTER, clusters=[other_cluster])

    assert list(project.clusters.all()) == [other_cluster]


def test_another_project_naming_other_clusters_is_refused(cluster, other_cluster):
    with refused("clusters", "Only an inter-cluster project names other clusters", models=PROJECT_MODELS):
        save(cluster, type=Project.Type.CSBO, clusters=[other_cluster])


@pytest.mark.parametrize("amount", ["0", "-1"])
def test_an_amount_of_0_or_less_is_refused(cluster, amount):
    with refused("amount", "more than 0 EUR", models=PROJECT_MODELS):
        save(cluster, amount=Decimal(amount))


@pytest.mark.parametrize("end", [date(2024, 9, 1), date(2024, 8, 31)], ids=["same day", "before"])
def test_a_project_that_does_not_end_after_it_starts_is_refused(cluster, end):
    with refused("end_date", "A project ends after it starts", shown(end), models=PROJECT_MODELS):
        save(cluster, end_date=end)


def test_a_partner_founded_after_the_decision_day_is_refused(cluster):
    late = OrganisationFactory(name="Late Start NV", founded_on=date(2024, 7, 1))

    with refused(
        "partners",
        "Late Start NV did not exist yet on the decision day",
        shown(date(2024, 7, 1)),
        models=PROJECT_MODELS,
    ):
        save(cluster, partners=[PartnerPut(late, LEAD)])


def test_a_partner_that_ceased_before_the_decision_day_is_refused(cluster):
    gone = OrganisationFactory(name="Gone BV", founded_on=date(2010, 1, 1), ceased_on=date(2023, 12, 31))

    with refused("partners", "Gone BV no longer existed on the decision day", models=PROJECT_MODELS):
        save(cluster, partners=[PartnerPut(gone, PARTNER)])


def test_a_partner_founded_on_the_decision_day_exists_on_it(cluster):
    fresh = OrganisationFactory(founded_on=date(2024, 6, 1))

    assert save(cluster, partners=[PartnerPut(fresh, LEAD)]).partners.count() == 1


def test_the_same_organisation_twice_and_two_lead_partners_are_refused_together(cluster):
    firm, other = OrganisationFactory(name="Twice NV"), OrganisationFactory()

    with refused("partners", "Twice NV is named twice", "one lead partner", models=PROJECT_MODELS):
        save(cluster, partners=[PartnerPut(firm, LEAD), PartnerPut(firm, PARTNER), PartnerPut(other, LEAD)])


def test_a_decision_in_the_future_is_refused(cluster):
    tomorrow = timezone.localdate().replace(year=timezone.localdate().year + 1)
    with refused("decided_on", "cannot be decided in the future", models=PROJECT_MODELS):
        save(cluster, decided_on=tomorrow, start_date=tomorrow, end_date=tomorrow.replace(year=tomorrow.year + 1))


def test_a_status_dated_before_the_decision_is_refused(cluster):
    with refused("status_on", "cannot date from before its decision", models=PROJECT_MODELS):
        save(cluster, status=Project.Status.RUNNING, status_on=date(2024, 5, 31))


def test_every_broken_rule_is_reported_at_once(cluster, other_cluster):
    before = Project.objects.count()
    with pytest.raises(ValidationError) as caught:
        save(cluster, clusters=[other_cluster], amount=Decimal(0), end_date=date(2024, 1, 1))
    assert set(caught.value.message_dict) == {"clusters", "amount", "end_date"}
    assert Project.objects.count() == before


def test_a_duplicate_reference_is_refused_with_the_field_named(cluster):
    save(cluster)
    with refused("reference", "already exists", models=PROJECT_MODELS):
        save(cluster, title="Another")


def test_changing_the_partners_replaces_them_and_hands_over_the_lead(cluster):
    first, second, third = OrganisationFactory(), OrganisationFactory(), OrganisationFactory()
    project = save(cluster, partners=[PartnerPut(first, LEAD), PartnerPut(second, PARTNER)])

    project_save(project=project, partners=[PartnerPut(second, LEAD), PartnerPut(third, SUBCONTRACTOR)])

    assert dict(project.partners.values_list("organisation_id", "role")) == {second.pk: LEAD, third.pk: SUBCONTRACTOR}
    project_save(project=project, title="Renamed")  # partners not named: kept
    assert project.partners.count() == 2


@pytest.mark.parametrize(
    ("constraint", "fields"),
    [
        ("project_amount_positive", {"amount": Decimal(0)}),
        ("project_ends_after_start", {"end_date": date(2024, 9, 1)}),
        ("project_status_after_decision", {"status_on": date(2024, 1, 1)}),
    ],
)
def test_the_database_holds_the_rules_of_the_row_too(cluster, constraint, fields):
    values = {**project_fields(cluster), "status_on": date(2024, 6, 1), **fields}
    with refused_by_the_database(Project, constraint):
        Project.objects.create(**values)


def test_the_database_keeps_one_lead_partner(cluster):
    project = ProjectFactory(lead_cluster=cluster, partners=[(OrganisationFactory(), LEAD)])
    with refused_by_the_database(ProjectPartner, "project_one_lead_partner"):
        ProjectPartner.objects.create(project=project, organisation=OrganisationFactory(), role=LEAD)


def test_an_organisation_cannot_cease_before_it_was_founded():
    before = Organisation.objects.count()
    with refused("ceased_on", "cannot cease before it was founded", models=(Organisation,)):
        OrganisationFactory.build(founded_on=date(2020, 1, 1), ceased_on=date(2019, 1, 1)).full_clean()
    assert Organisation.objects.count() == before


# --- the status on a day ---------------------------------------------------------------------------------


def test_the_status_on_a_day_follows_the_decision_the_start_and_the_day_the_status_took_effect(cluster):
    project = ProjectFactory(
        lead_cluster=cluster,
        decided_on=date(2021, 3, 1),
        start_date=date(2021, 6, 1),
        end_date=date(2023, 5, 31),
        status=Project.Status.COMPLETED,
        status_on=date(2023, 6, 30),
    )
    assert project.status_on_day(date(2021, 2, 28)) is None
    assert project.status_on_day(date(2021, 3, 1)) == Project.Status.DECIDED
    assert project.status_on_day(date(2021, 6, 1)) == Project.Status.RUNNING
    assert project.status_on_day(date(2023, 6, 30)) == Project.Status.COMPLETED


# --- what a user may see ------------------------------------------------------------------------------


def test_a_cluster_manager_sees_the_projects_their_cluster_leads_or_joins_only(cluster, other_cluster):
    third = factories.ClusterFactory()
    own = ProjectFactory(lead_cluster=cluster)
    joined = ProjectFactory(lead_cluster=other_cluster, type=Project.Type.INTER_CLUSTER, clusters=[cluster, third])
    ProjectFactory(lead_cluster=other_cluster)
    manager = factories.manager_of(cluster)

    assert set(Project.objects.for_user(manager)) == {own, joined}
    assert Project.objects.for_user(factories.officer()).count() == 3
    assert not Project.objects.for_user(factories.UserFactory()).exists()


# --- the use of the reservations -------------------------------------------------------------------------


def test_reserved_decided_and_remaining_per_cluster_and_year_as_of_a_day(cluster, other_cluster):
    reserve(2024, cluster)
    ProjectFactory(lead_cluster=cluster, decided_on=date(2024, 3, 1), amount=Decimal("3000000.00"))
    ProjectFactory(lead_cluster=cluster, decided_on=date(2024, 11, 1), amount=Decimal("2310000.00"))
    # Inter-cluster: out of the inter-cluster allocation, never the lead's reservation.
    ProjectFactory(
        lead_cluster=cluster,
        type=Project.Type.INTER_CLUSTER,
        clusters=[other_cluster],
        decided_on=date(2024, 5, 1),
        amount=Decimal("700000.00"),
    )
    officer = factories.officer()

    (mid_year,) = budget_years(user=officer, as_of=date(2024, 6, 30))
    (year_end,) = budget_years(user=officer, as_of=date(2024, 12, 31))

    assert [(r.cluster_name, r.amount, r.decided, r.remaining) for r in mid_year.reservations] == [
        (cluster.name, EIGHT_MILLION, Decimal("3000000.00"), Decimal("5000000.00"))
    ]
    (reservation,) = year_end.reservations
    assert (reservation.decided, reservation.projects, reservation.remaining, reservation.over) == (
        Decimal("5310000.00"),
        2,
        Decimal("2690000.00"),
        Decimal(0),
    )
    assert (year_end.inter_cluster_decided, year_end.inter_cluster_projects) == (Decimal("700000.00"), 1)
    assert year_end.projects_decided == Decimal("5310000.00")


def test_decisions_above_the_reservation_are_allowed_and_show_the_amount_over(cluster):
    reserve(2024, cluster)
    project = save(cluster, amount=Decimal("10100000.00"))

    assert Project.objects.filter(pk=project.pk).exists()
    use = reservation_use(as_of=date(2024, 12, 31))[cluster.pk, 2024]
    assert (use.reserved, use.decided, use.remaining, use.over) == (
        EIGHT_MILLION,
        Decimal("10100000.00"),
        Decimal("-2100000.00"),
        Decimal("2100000.00"),
    )


def test_a_cluster_manager_sees_the_use_of_their_own_reservation_only(cluster, other_cluster):
    reserve(2024, cluster)
    allocation_save(
        allocation=Allocation(
            budget_year=BudgetYearFactory._meta.model.objects.get(year=2024),
            purpose=Allocation.Purpose.COMPETITIVENESS,
            cluster=other_cluster,
            amount=EIGHT_MILLION,
        )
    )
    ProjectFactory(lead_cluster=cluster, amount=Decimal("1000000.00"))
    ProjectFactory(lead_cluster=other_cluster, amount=Decimal("9000000.00"))

    (year,) = budget_years(user=factories.manager_of(cluster), as_of=date(2024, 12, 31))

    assert [(r.cluster_name, r.decided) for r in year.reservations] == [(cluster.name, Decimal("1000000.00"))]
    assert year.over_reserved == []


def test_the_use_of_reservations_costs_the_same_queries_for_one_and_many_projects(
    cluster, other_cluster, django_assert_num_queries
):
    reserve(2024, cluster)
    ProjectFactory(lead_cluster=cluster)
    with django_assert_num_queries(2):
        reservation_use(as_of=date(2024, 12, 31))
    for n in range(5):
        ProjectFactory(lead_cluster=other_cluster if n % 2 else cluster, decided_on=date(2023 - n, 5, 1))
    with django_assert_num_queries(2):
        assert len(reservation_use(as_of=date(2024, 12, 31))) == 6


# --- the flag ----------------------------------------------------------------------------------------------


def test_the_scan_flags_a_reservation_exceeded_with_the_amount_over_once_and_clears_it_when_gone(cluster):
    reserve(2024, cluster)
    first = ProjectFactory(lead_cluster=cluster, decided_on=date(2024, 4, 1), amount=Decimal("6000000.00"))
    ProjectFactory(lead_cluster=cluster, decided_on=date(2024, 10, 1), amount=Decimal("4100000.00"))

    assert not [f for f in flags_scan(as_of=date(2024, 9, 30)).raised if f.kind == Flag.Kind.RESERVATION_EXCEEDED]
    raised = [f for f in flags_scan(as_of=date(2024, 12, 31)).raised if f.kind == Flag.Kind.RESERVATION_EXCEEDED]
    assert [(f.cluster, f.year, f.subject) for f in raised] == [(cluster, 2024, f"reservation:{cluster.pk}:2024")]
    assert raised[0].message_en == (
        f"{cluster.name}: the projects decided in 2024 (10,100,000.00 EUR) exceed its reservation of "
        "8,000,000.00 EUR by 2,100,000.00 EUR."
    )
    assert flags_scan(as_of=date(2024, 12, 31)).raised == []  # once
    assert Flag.objects.filter(kind=Flag.Kind.RESERVATION_EXCEEDED).count() == 1

    project_save(project=first, amount=Decimal("3900000.00"))
    resolved = flags_scan(as_of=date(2025, 1, 15)).resolved
    assert [f.kind for f in resolved] == [Flag.Kind.RESERVATION_EXCEEDED]


def test_an_inactive_cluster_over_its_reservation_is_not_chased(cluster):
    reserve(2024, cluster)
    ProjectFactory(lead_cluster=cluster, amount=Decimal("9000000.00"))
    Cluster.objects.filter(pk=cluster.pk).update(active=False)

    flags_scan(as_of=date(2024, 12, 31))

    assert not Flag.objects.filter(kind=Flag.Kind.RESERVATION_EXCEEDED).exists()


# --- the KPIs the projects decide ----------------------------------------------------------------------------


def test_the_project_kpis_are_counted_from_the_projects_decided_by_the_end_of_the_year(cluster, other_cluster):
    smes = [OrganisationFactory(kind=Organisation.Kind.SME) for _ in range(3)]
    large = OrganisationFactory(kind=Organisation.Kind.COMPANY)
    lab = OrganisationFactory(kind=Organisation.Kind.KNOWLEDGE_INSTITUTION)
    # A collaboration of four companies (three SMEs), led by the cluster against its reservation.
    ProjectFactory(
        lead_cluster=cluster,
        decided_on=date(2024, 2, 1),
        amount=Decimal("2000000.00"),
        partners=[(large, LEAD), (smes[0], PARTNER), (smes[1], PARTNER), (smes[2], PARTNER), (lab, SUBCONTRACTOR)],
    )
    # Two companies and a lab: not a collaboration of at least three companies.
    ProjectFactory(
        lead_cluster=cluster,
        type=Project.Type.FEASIBILITY,
        decided_on=date(2024, 7, 1),
        amount=Decimal("150000.00"),
        partners=[(smes[0], LEAD), (large, PARTNER), (lab, PARTNER)],
    )
    # An inter-cluster project another cluster leads, with the same three SMEs: the cluster takes part.
    ProjectFactory(
        lead_cluster=other_cluster,
        type=Project.Type.INTER_CLUSTER,
        clusters=[cluster],
        decided_on=date(2024, 9, 1),
        amount=Decimal("900000.00"),
        partners=[(smes[0], LEAD), (smes[1], PARTNER), (smes[2], PARTNER)],
    )
    # Decided in 2025: not in 2024's figures.
    ProjectFactory(lead_cluster=cluster, decided_on=date(2025, 1, 5), amount=Decimal("500000.00"))

    figures = derived_figures(cluster_ids=[cluster.pk, other_cluster.pk], years=[2024], as_of=date(2025, 6, 1))
    ours, theirs = figures[cluster.pk, 2024], figures[other_cluster.pk, 2024]

    assert {code: ours.value(code) for code in ("CPI3", "PRJ1", "C4", "CPI7", "CPI7BIS", "CPI8")} == {
        "CPI3": 2,
        "PRJ1": Decimal("2150000.00"),
        "C4": 2,  # its own collaboration and the inter-cluster one
        "CPI7": 4,  # the large company and the three SMEs, each once
        "CPI7BIS": Decimal("75.00"),
        "CPI8": 1,
    }
    # The inter-cluster project counts for its lead as a participation, never against its reservation.
    assert (theirs.value("CPI3"), theirs.value("PRJ1"), theirs.value("CPI8"), theirs.value("C4")) == (0, 0, 1, 1)
    assert [p.reference for p in ours.basis("projects")] == [
        p.reference for p in Project.objects.filter(decided_on__year=2024).order_by("decided_on")
    ]


def test_the_clusters_as_a_queryset_are_filtered_in_a_subquery_and_count_what_their_ids_count(cluster, other_cluster):
    """The comparison passes thousands of clusters as a queryset: the projects are filtered on it in a
    subquery (no cluster id among the parameters), and the figures are the ones the ids give."""
    ProjectFactory(lead_cluster=cluster, decided_on=date(2024, 3, 1), amount=Decimal("100.00"))
    ProjectFactory(
        lead_cluster=other_cluster,
        type=Project.Type.INTER_CLUSTER,
        clusters=[cluster],
        decided_on=date(2024, 4, 1),
        amount=Decimal("300.00"),
    )
    ProjectFactory(lead_cluster=other_cluster, decided_on=date(2024, 5, 1), amount=Decimal("700.00"))
    on = {2024: date(2024, 12, 31)}
    codes = ("CPI3", "PRJ1", "CPI8")

    def values(figures: dict) -> dict:
        return {key: [f.value(code) for code in codes] for key, f in figures.items()}

    params: list[object] = []

    def record(execute, sql, sql_params, many, context):
        params.extend(sql_params or ())
        return execute(sql, sql_params, many, context)

    by_ids = project_figures(cluster_ids=[cluster.pk], on=on)
    with connection.execute_wrapper(record):
        by_queryset = project_figures(
            cluster_ids=[cluster.pk], on=on, clusters=Cluster.objects.filter(slug=cluster.slug)
        )
    assert cluster.slug in params and cluster.pk not in params
    assert values(by_queryset) == values(by_ids) == {(cluster.pk, 2024): [1, Decimal("100.00"), 1]}
    assert [p.reference for p in by_queryset[cluster.pk, 2024].basis] == [
        p.reference for p in by_ids[cluster.pk, 2024].basis
    ]


def test_kpis_asked_without_the_partners_do_not_read_them_and_leave_those_kpis_without_a_value(
    cluster, django_assert_num_queries
):
    """A comparison of CPI3 across thousands of clusters need not read their projects' partners: the counts of
    the projects are the same as with every KPI asked, and the partners' KPIs have no value (never a silent 0)."""
    companies = [OrganisationFactory(kind=Organisation.Kind.SME) for _ in range(3)]
    ProjectFactory(
        lead_cluster=cluster,
        decided_on=date(2024, 3, 1),
        amount=Decimal("100.00"),
        partners=[(companies[0], LEAD), (companies[1], PARTNER), (companies[2], PARTNER)],
    )
    on = {2024: date(2024, 12, 31)}
    every = project_figures(cluster_ids=[cluster.pk], on=on)[cluster.pk, 2024]
    with django_assert_num_queries(1):
        some = project_figures(cluster_ids=[cluster.pk], on=on, codes={"CPI3"})[cluster.pk, 2024]

    assert (
        [some.value(code) for code in ("CPI3", "PRJ1", "CPI8")]
        == [every.value(code) for code in ("CPI3", "PRJ1", "CPI8")]
        == [1, Decimal("100.00"), 0]
    )
    assert [every.value(code) for code in ("C4", "CPI7", "CPI7BIS")] == [1, 3, Decimal("100.00")]
    assert [some.value(code) for code in ("C4", "CPI7", "CPI7BIS")] == [None, None, None]


def test_as_of_a_day_in_the_year_only_the_projects_decided_by_then_count(cluster):
    ProjectFactory(lead_cluster=cluster, decided_on=date(2024, 2, 1), amount=Decimal("100.00"))
    ProjectFactory(lead_cluster=cluster, decided_on=date(2024, 8, 1), amount=Decimal("200.00"))

    mid = derived_figures(cluster_ids=[cluster.pk], years=[2024], as_of=date(2024, 6, 30))[cluster.pk, 2024]

    assert (mid.value("CPI3"), mid.value("PRJ1")) == (1, Decimal("100.00"))
    assert mid.value("CPI7BIS") is None  # no collaboration: no share, never a silent 0
