"""generate_scale_data: a small run has the expected rows, is the same run after run, is refused on a database
that holds anything and with production settings, and keeps every rule of the portal (the models' own checks,
the services' checks across rows, the workflow's order, the envelopes), so that the flag scan, the briefing,
the history export, and the history import of that export, work on it."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, Model

from clusterpacts.models import (
    EDITABLE_STATES,
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
    ReportEvent,
    Workflow,
    check_step_date,
    check_transition,
)
from evaluations.models import Evaluation, Finding, Lesson, Stage
from funding.models import Allocation, BudgetYear, Flag, Project, ProjectPartner, SupportAgreement
from funding.selectors import agreement_standings, budget_years
from funding.services import PartnerPut, agreement_check, flags_scan, project_check
from insights.selectors import briefing
from tests import factories
from workbook.exporter import export_workbook
from workbook.importer import import_workbook

LAST_YEAR = 2025
AS_OF = date(2026, 12, 1)  # the day the data stands on: 1 December after the last working year
CLUSTERS, YEARS = 12, 10
OPTIONS = ["--clusters", str(CLUSTERS), "--years", str(YEARS), "--seed", "1", "--last-year", str(LAST_YEAR)]
WRITTEN: list[type[Model]] = [
    Cluster,
    Organisation,
    Membership,
    ClusterPact,
    Commitment,
    AnnualPlan,
    KpiTarget,
    AnnualReport,
    KpiValue,
    ReportEvent,
    Evaluation,
    Finding,
    Lesson,
    SupportAgreement,
    BudgetYear,
    Allocation,
    Allocation.partners.through,
    Project,
    Project.clusters.through,
    ProjectPartner,
]


def generate(*options: str) -> str:
    out = StringIO()
    call_command("generate_scale_data", *(options or OPTIONS), stdout=out)
    return out.getvalue()


@pytest.fixture
def generated(db):
    return generate()


def _counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in WRITTEN}


def _digest() -> str:
    """Every row of every table written, keys included, in key order."""
    digest = hashlib.sha256()
    for model in WRITTEN:
        for row in model._default_manager.order_by("pk").values_list():
            digest.update(repr(row).encode())
    return digest.hexdigest()


# --- what it writes -------------------------------------------------------------------------------------


def test_a_small_run_writes_every_aggregate_at_the_expected_size(generated):
    reported = KpiDefinition.objects.filter(active=True, source=KpiDefinition.Source.REPORTED).count()
    active = KpiDefinition.objects.filter(active=True).count()
    assert Cluster.objects.count() == CLUSTERS
    assert set(Cluster.objects.values_list("started_on__year", flat=True)) == {LAST_YEAR - YEARS + 1}
    # A report on every working year, but a few of the last one never started; a value for every reported KPI.
    reports = Counter(AnnualReport.objects.values_list("year", flat=True))
    assert all(reports[year] == CLUSTERS for year in range(LAST_YEAR - YEARS + 1, LAST_YEAR))
    assert 0 < reports[LAST_YEAR] <= CLUSTERS and set(reports) == set(range(LAST_YEAR - YEARS + 1, LAST_YEAR + 1))
    assert KpiValue.objects.count() == AnnualReport.objects.count() * reported
    assert not KpiValue.objects.filter(kpi__source=KpiDefinition.Source.DERIVED).exists()  # derived: never stored
    # A plan on every year up to the next one (some on the year after), with a target for every active KPI.
    assert KpiTarget.objects.count() == AnnualPlan.objects.count() * active
    per_cluster = AnnualPlan.objects.values("cluster").annotate(n=Count("id")).values_list("n", flat=True)
    assert set(per_cluster) <= {YEARS + 1, YEARS + 2}
    assert ClusterPact.objects.filter(status=ClusterPact.Status.SIGNED).count() == CLUSTERS
    assert Commitment.objects.count() == ClusterPact.objects.count() * 3
    # A chain of agreements per cluster, of about four links over ten years.
    chains = Counter(SupportAgreement.objects.values_list("cluster", flat=True))
    assert len(chains) == CLUSTERS and set(chains.values()) <= {3, 4}
    assert SupportAgreement.objects.filter(predecessor__isnull=True).count() == CLUSTERS
    assert Evaluation.objects.filter(kind=Evaluation.Kind.INTERIM, stage=Stage.COMPLETED).count() >= (
        SupportAgreement.objects.filter(predecessor__isnull=False).count()
    )
    assert Finding.objects.count() == Evaluation.objects.filter(stage=Stage.COMPLETED).count() * 3
    assert Lesson.objects.filter(status=Lesson.Status.CARRIED).exists()
    # Members: some SMEs, some not paying, some left; organisations shared by two clusters.
    assert Organisation.objects.filter(kind=Organisation.Kind.SME).exists()
    assert (
        Membership.objects.filter(paying=False).exists() and Membership.objects.filter(left_on__isnull=False).exists()
    )
    assert Membership.objects.count() > Organisation.objects.count()
    # Money: a budget year a year, a reservation per cluster and year, inter-cluster allocations with partners.
    assert BudgetYear.objects.count() == YEARS + 2
    assert Allocation.objects.filter(purpose=Allocation.Purpose.COMPETITIVENESS).count() >= CLUSTERS * (YEARS + 1)
    assert (
        Allocation.partners.through.objects.count() >= 2 * Allocation.objects.filter(purpose="inter_cluster").count()
    )
    assert set(Project.objects.values_list("type", flat=True)) == set(Project.Type.values)
    assert ProjectPartner.objects.filter(role=ProjectPartner.Role.LEAD).count() <= Project.objects.count()
    assert Flag.objects.count() == 0  # flags are the scan's, never written here
    for aggregate in ("clusters", "organisations and memberships", "annual reports and values", "projects"):
        assert aggregate in generated
    assert "Written" in generated and f"{CLUSTERS} clusters, working years 2016-2025" in generated


def test_the_same_options_write_the_same_rows(db):
    with transaction.atomic():
        generate()
        first = _digest()
        transaction.set_rollback(True)
    assert Cluster.objects.count() == 0
    generate("--batch-size", "7", *OPTIONS)  # the batch size changes nothing but the statements
    assert _digest() == first


def test_another_seed_writes_other_rows(db):
    with transaction.atomic():
        generate()
        first = _digest()
        transaction.set_rollback(True)
    generate(*OPTIONS[:-4], "--seed", "2", "--last-year", str(LAST_YEAR))
    assert _digest() != first


# --- refusals -----------------------------------------------------------------------------------------------


def test_it_refuses_a_database_that_holds_data_and_changes_nothing(generated):
    before = _counts()
    with pytest.raises(CommandError, match=rf"already holds {CLUSTERS} clusters, .*nothing was written"):
        generate()
    assert _counts() == before


def test_it_refuses_a_database_with_a_single_budget_year(db):
    factories.BudgetYearFactory(year=2020)
    with pytest.raises(CommandError, match="already holds 1 budget year\\. "):
        generate()
    assert Cluster.objects.count() == 0 and BudgetYear.objects.count() == 1


def test_it_refuses_to_run_with_production_settings(db, settings):
    settings.CLUSTERPACTS_ALLOW_DEMO_DATA = False
    with pytest.raises(CommandError, match="production"):
        generate()
    assert _counts() == {name: 0 for name in _counts()}


def test_it_refuses_a_last_year_whose_data_would_stand_in_the_future(db):
    with pytest.raises(CommandError, match="after today"):
        generate("--clusters", "2", "--last-year", "2100")
    assert Cluster.objects.count() == 0


# --- the rules hold -----------------------------------------------------------------------------------------


def _sample(model: type[Model], size: int = 40) -> list[Model]:
    """Rows spread over the whole table."""
    rows = list(model._default_manager.order_by("pk"))
    return rows[:: max(1, len(rows) // size)]


def test_a_sample_of_every_model_passes_its_own_checks(generated):
    for model in WRITTEN:
        if model._meta.auto_created:
            continue
        for row in _sample(model):
            document = getattr(row, "plan", None) or getattr(row, "report", None) if model is not ReportEvent else None
            if isinstance(row, AnnualPlan | AnnualReport):
                document = row
            if document is not None and document.status not in EDITABLE_STATES:
                # An accepted or submitted document (and its figures) can no longer change, which is what its
                # clean() says; its fields and constraints still hold.
                row.clean_fields()
                row.validate_unique()
                row.validate_constraints()
                if isinstance(row, KpiTarget | KpiValue):
                    row.kpi.check_value(row.value)
                continue
            try:
                row.full_clean()
            except ValidationError as error:  # pragma: no cover - the message says which row
                pytest.fail(f"{model.__name__} {row.pk}: {error}")


def test_every_agreement_passes_the_agreement_rules(generated):
    agreements = SupportAgreement.objects.select_related("predecessor", "cluster")
    for agreement in agreements:
        agreement_check(agreement=agreement)
        agreement.full_clean()
        assert agreement.chain_start == (
            agreement.predecessor.chain_start if agreement.predecessor else agreement.start_date
        )
        assert agreement.signed_on <= AS_OF
    # One chain per cluster, each a few links long, some reaching the cap.
    assert any(agreement.is_final_term for agreement in agreements)


def test_every_project_passes_the_project_rules(generated):
    for project in Project.objects.prefetch_related("clusters", "partners__organisation"):
        partners = [PartnerPut(p.organisation, p.role) for p in project.partners.all()]
        project_check(project=project, clusters=list(project.clusters.all()), partners=partners)
        project.full_clean()
        assert sum(p.role == ProjectPartner.Role.LEAD for p in partners) == 1
        assert project.decided_on <= AS_OF and project.status_on <= AS_OF


def test_workflow_steps_replay_in_order_within_their_window(generated):
    documents = [*AnnualPlan.objects.all(), *AnnualReport.objects.all()]
    for document in documents:
        status, previous, submitted_at, reviewed = Workflow.DRAFT, None, None, (None, "")
        for step in document.events.order_by("at", "id"):
            assert step.from_status == status
            check_transition(status, step.to_status, step.comment, plan=isinstance(document, AnnualPlan))
            check_step_date(document, step.at, previous_at=previous)
            assert step.at.date() <= AS_OF and step.by_name
            if step.to_status == Workflow.SUBMITTED:
                submitted_at = step.at
            else:
                reviewed = (step.at, step.comment)
            status, previous = step.to_status, step.at
        assert (document.status, document.submitted_at) == (status, submitted_at)
        assert (document.reviewed_at, document.review_comment) == reviewed
    assert {report.due_on for report in AnnualReport.objects.all()} <= {date(y, 3, 31) for y in range(2017, 2027)}
    last = Counter(AnnualReport.objects.filter(year=LAST_YEAR).values_list("status", flat=True))
    assert last[Workflow.ACCEPTED] > 0 and sum(last.values()) > last[Workflow.ACCEPTED]


def test_allocations_stay_within_their_envelopes(generated):
    officer = factories.officer()
    for year in budget_years(user=officer):
        assert year.remaining is not None and year.remaining >= 0, year.year
        assert year.reservations and year.inter_cluster_remaining >= 0
    over = [r for year in budget_years(user=officer) for r in year.over_reserved]
    assert over, "a few reservations have more decided against them than reserved"
    assert len(over) < CLUSTERS * YEARS / 5
    for allocation in _sample(Allocation):
        allocation.full_clean()
        Allocation.check_partners(allocation.purpose, allocation.partners.all())


def test_the_flag_scan_raises_a_reasonable_number_of_flags_and_a_second_run_nothing(generated):
    result = flags_scan(as_of=AS_OF)
    kinds = Counter(flag.kind for flag in result.raised)
    assert 0 < len(result.raised) <= 3 * CLUSTERS
    assert {Flag.Kind.REPORT_OVERDUE, Flag.Kind.RESERVATION_EXCEEDED, Flag.Kind.CAP_APPROACHING} <= set(kinds)
    assert flags_scan(as_of=AS_OF).raised == []
    standings = agreement_standings(clusters=Cluster.objects.all(), as_of=AS_OF)
    assert len(standings) == CLUSTERS


def test_the_briefing_and_the_history_export_read_it(generated, tmp_path):
    officer = factories.officer()
    answer = briefing(user=officer, as_of=AS_OF, page_size=CLUSTERS)  # every cluster's detail on one page
    assert answer["summary"] and len(answer["renewals"]) == CLUSTERS
    written = export_workbook(tmp_path / "history.xlsx")
    assert written["values"] == KpiValue.objects.count()
    assert written["projects"] == Project.objects.count()


def test_its_export_imports_into_an_empty_portal_as_it_was(db, tmp_path):
    """The history import takes every row through the services: each rule the generator keeps by
    construction is checked once more, the one way the portal writes."""
    path = tmp_path / "history.xlsx"
    small = ("--clusters", "5", "--years", "4", "--seed", "3", "--last-year", str(LAST_YEAR))
    with transaction.atomic():
        generate(*small)
        counts = _counts()
        export_workbook(path)
        transaction.set_rollback(True)
    result = import_workbook(path)
    assert [(e.sheet, e.row, e.column, e.message) for e in result.errors] == []
    imported = _counts()
    assert imported == counts
    assert sum(KpiValue.objects.values_list("value", flat=True), Decimal(0)) > 0
