"""Annual reports and annual plans: one per cluster and year, the review workflow, and the lock on acceptance."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import product

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from clusterpacts.models import (
    AnnualPlan,
    AnnualReport,
    KpiDefinition,
    KpiTarget,
    KpiValue,
    ReportAttachment,
    ReportEvent,
    Workflow,
    default_report_due_on,
)
from clusterpacts.services import (
    SubmissionRefused,
    annual_plan_create,
    annual_plan_save,
    annual_report_accept,
    annual_report_create,
    annual_report_return,
    annual_report_save,
    annual_report_submit,
    attachment_add,
    document_submit,
    document_transition,
    document_update,
    entity_save,
    figure_key,
    kpi_target_set,
    kpi_value_set,
)
from tests import factories

pytestmark = pytest.mark.django_db

STATES = [Workflow.DRAFT, Workflow.SUBMITTED, Workflow.ACCEPTED, Workflow.RETURNED]
ALLOWED = {
    (Workflow.DRAFT, Workflow.SUBMITTED),
    (Workflow.SUBMITTED, Workflow.ACCEPTED),
    (Workflow.SUBMITTED, Workflow.RETURNED),
    (Workflow.RETURNED, Workflow.SUBMITTED),
}
DISALLOWED = [pair for pair in product(STATES, STATES) if pair not in ALLOWED]
DOCUMENTS = [AnnualReport, AnnualPlan]


def document_in(model, cluster, status, year=2020):
    factory = factories.AnnualReportFactory if model is AnnualReport else factories.AnnualPlanFactory
    document = factory(cluster=cluster, year=year)
    comment = "Please add the KPI sources." if status == Workflow.RETURNED else ""
    model.objects.filter(pk=document.pk).update(status=status, review_comment=comment)
    document.refresh_from_db()
    return document


def events_of(document):
    if isinstance(document, AnnualReport):
        return ReportEvent.objects.filter(report=document)
    return ReportEvent.objects.filter(plan=document)


def pdf(name="report.pdf"):
    return factories.pdf_upload(name)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


# --- creating reports -----------------------------------------------------------------------------


def test_report_for_the_current_working_year_can_be_created(cluster):
    year = timezone.localdate().year

    report = annual_report_create(cluster=cluster, year=year)

    report.refresh_from_db()
    assert (report.cluster, report.year, report.status) == (cluster, year, Workflow.DRAFT)


def test_report_for_a_working_year_that_has_not_started_is_refused_on_year(cluster):
    next_year = timezone.localdate().year + 1

    with pytest.raises(ValidationError) as caught:
        annual_report_create(cluster=cluster, year=next_year)

    assert "year" in caught.value.message_dict
    assert "has not started" in " ".join(caught.value.message_dict["year"])
    assert not AnnualReport.objects.exists()


def test_a_second_report_for_the_same_cluster_and_year_is_refused(cluster):
    first = annual_report_create(cluster=cluster, year=2020, narrative="first")

    with pytest.raises(ValidationError) as caught:
        annual_report_create(cluster=cluster, year=2020, narrative="second")

    assert "already has an annual report" in " ".join(caught.value.messages)
    assert list(AnnualReport.objects.values_list("pk", "narrative")) == [(first.pk, "first")]


def test_reports_of_the_same_year_for_two_clusters_are_both_allowed(cluster, other_cluster):
    annual_report_create(cluster=cluster, year=2020)
    annual_report_create(cluster=other_cluster, year=2020)

    assert AnnualReport.objects.filter(year=2020).count() == 2


def test_report_is_due_on_31_march_of_the_following_year_by_default(cluster):
    report = annual_report_create(cluster=cluster, year=2020)

    report.refresh_from_db()
    assert report.due_on == date(2021, 3, 31)


def test_report_due_date_follows_the_setting(cluster, settings):
    settings.CLUSTERPACTS_REPORT_DUE_MONTH = 4
    settings.CLUSTERPACTS_REPORT_DUE_DAY = 30

    report = annual_report_create(cluster=cluster, year=2020)

    assert report.due_on == date(2021, 4, 30) == default_report_due_on(2020)


def test_report_is_overdue_only_after_its_due_date_while_not_submitted(cluster):
    report = annual_report_create(cluster=cluster, year=2020)

    assert not report.is_overdue(date(2021, 3, 31))
    assert report.is_overdue(date(2021, 4, 1))
    factories.complete_report(report)
    annual_report_submit(report=report)
    assert not report.is_overdue(date(2021, 4, 1))


# --- the workflow ---------------------------------------------------------------------------------


@pytest.mark.parametrize("model", DOCUMENTS, ids=lambda m: m.__name__)
@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_allowed_transition_changes_the_status_and_records_one_event(model, cluster, officer, current, target):
    document = document_in(model, cluster, current)

    document_transition(document=document, to=target, by=officer, comment="Reviewed.")

    document.refresh_from_db()
    assert document.status == target
    event = events_of(document).get()
    assert (event.from_status, event.to_status, event.by, event.comment) == (current, target, officer, "Reviewed.")


@pytest.mark.parametrize("model", DOCUMENTS, ids=lambda m: m.__name__)
@pytest.mark.parametrize(("current", "target"), DISALLOWED)
def test_disallowed_transition_is_refused_on_status_and_changes_nothing(model, cluster, officer, current, target):
    document = document_in(model, cluster, current)
    before = (document.status, document.submitted_at, document.reviewed_at, document.review_comment)

    with pytest.raises(ValidationError) as caught:
        document_transition(document=document, to=target, by=officer, comment="Reviewed.")

    assert "status" in caught.value.message_dict
    assert "cannot move to" in " ".join(caught.value.message_dict["status"])
    document.refresh_from_db()
    assert (document.status, document.submitted_at, document.reviewed_at, document.review_comment) == before
    assert not events_of(document).exists()


@pytest.mark.parametrize("model", DOCUMENTS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("comment", ["", "   ", "\n\t"], ids=["empty", "spaces", "whitespace"])
def test_returning_without_a_comment_is_refused_on_review_comment(model, cluster, officer, comment):
    document = document_in(model, cluster, Workflow.SUBMITTED)

    with pytest.raises(ValidationError) as caught:
        document_transition(document=document, to=Workflow.RETURNED, by=officer, comment=comment)

    assert "review_comment" in caught.value.message_dict
    assert "comment is required" in " ".join(caught.value.message_dict["review_comment"])
    document.refresh_from_db()
    assert (document.status, document.reviewed_at) == (Workflow.SUBMITTED, None)
    assert not events_of(document).exists()


def test_the_full_report_workflow_records_every_step_with_who_when_and_why(cluster, manager, officer):
    report = factories.complete_report(annual_report_create(cluster=cluster, year=2020))
    t1 = timezone.make_aware(datetime(2021, 3, 1, 10, 0))
    t2 = t1 + timedelta(days=5)
    t3 = t2 + timedelta(days=3)
    t4 = t3 + timedelta(days=2)

    annual_report_submit(report=report, by=manager, at=t1)
    assert (report.status, report.submitted_at, report.reviewed_at) == (Workflow.SUBMITTED, t1, None)

    annual_report_return(report=report, by=officer, comment="Add the SME share.", at=t2)
    assert (report.status, report.reviewed_at, report.review_comment) == (Workflow.RETURNED, t2, "Add the SME share.")

    annual_report_submit(report=report, by=manager, at=t3)
    assert (report.status, report.submitted_at) == (Workflow.SUBMITTED, t3)

    annual_report_accept(report=report, by=officer, comment="Thanks.", at=t4)
    report.refresh_from_db()
    assert (report.status, report.submitted_at, report.reviewed_at) == (Workflow.ACCEPTED, t3, t4)

    steps = list(events_of(report).values_list("from_status", "to_status", "by__username", "comment", "at"))
    assert steps == [
        (Workflow.DRAFT, Workflow.SUBMITTED, "manager-catalisti", "", t1),
        (Workflow.SUBMITTED, Workflow.RETURNED, "officer", "Add the SME share.", t2),
        (Workflow.RETURNED, Workflow.SUBMITTED, "manager-catalisti", "", t3),
        (Workflow.SUBMITTED, Workflow.ACCEPTED, "officer", "Thanks.", t4),
    ]


def test_a_step_without_an_explicit_time_is_stamped_now(cluster, manager):
    report = factories.complete_report(annual_report_create(cluster=cluster, year=2020))
    before = timezone.now()

    annual_report_submit(report=report, by=manager)

    report.refresh_from_db()
    assert before <= report.submitted_at <= timezone.now()
    assert events_of(report).get().at == report.submitted_at


def test_the_plan_workflow_records_events_on_the_plan(cluster, manager, officer):
    plan = annual_plan_create(cluster=cluster, year=2021, planned_actions="Two calls.")

    document_transition(document=plan, to=Workflow.SUBMITTED, by=manager)
    document_transition(document=plan, to=Workflow.RETURNED, by=officer, comment="Targets missing.")
    document_transition(document=plan, to=Workflow.SUBMITTED, by=manager)
    document_transition(document=plan, to=Workflow.ACCEPTED, by=officer)

    plan.refresh_from_db()
    assert plan.status == Workflow.ACCEPTED
    assert plan.submitted_at is not None and plan.reviewed_at is not None
    assert list(events_of(plan).values_list("to_status", flat=True)) == [
        Workflow.SUBMITTED,
        Workflow.RETURNED,
        Workflow.SUBMITTED,
        Workflow.ACCEPTED,
    ]
    assert not ReportEvent.objects.filter(report__isnull=False).exists()


# --- only a complete plan or report is submitted ---------------------------------------------------


def codes_but(*given: str) -> list[str]:
    """The active KPI codes in catalogue order, less the ones given a figure."""
    return list(KpiDefinition.objects.filter(active=True).exclude(code__in=given).values_list("code", flat=True))


def reported_codes_but(*given: str) -> list[str]:
    """`codes_but`, less the derived KPIs too (counted from the memberships or projects, never entered)."""
    derived = KpiDefinition.objects.filter(source=KpiDefinition.Source.DERIVED).values_list("code", flat=True)
    return [code for code in codes_but(*given) if code not in set(derived)]


@pytest.mark.parametrize("status", [Workflow.DRAFT, Workflow.RETURNED])
def test_submitting_an_incomplete_report_is_refused_naming_what_is_missing_and_changes_nothing(
    cluster, manager, status
):
    report = document_in(AnnualReport, cluster, status)
    kpi_value_set(report=report, kpi=factories.kpi("CPI1"), value=Decimal(12))
    before = (report.status, report.submitted_at, report.reviewed_at, report.review_comment, report.narrative)

    with pytest.raises(ValidationError) as caught:
        document_submit(document=report, by=manager)

    errors = caught.value.message_dict
    assert set(errors) == {"narrative", NON_FIELD_ERRORS}
    assert "Write the narrative" in " ".join(errors["narrative"])
    # The derived KPIs are computed from the memberships or the projects, never entered, so never missing.
    assert " ".join(errors[NON_FIELD_ERRORS]).endswith(f"missing: {', '.join(reported_codes_but('CPI1'))}.")
    report.refresh_from_db()
    assert (report.status, report.submitted_at, report.reviewed_at, report.review_comment, report.narrative) == before
    assert not events_of(report).exists()
    assert list(KpiValue.objects.values_list("kpi__code", "value")) == [("CPI1", Decimal(12))]


def test_a_report_missing_one_kpi_value_is_refused_on_that_kpi_only(cluster, manager):
    report = factories.complete_report(annual_report_create(cluster=cluster, year=2020))
    KpiValue.objects.filter(report=report, kpi__code="CPI6").delete()

    with pytest.raises(ValidationError) as caught:
        annual_report_submit(report=report, by=manager)

    assert caught.value.message_dict == {
        NON_FIELD_ERRORS: ["Give a value for every KPI before you submit; missing: CPI6."]
    }
    report.refresh_from_db()
    assert report.status == Workflow.DRAFT
    assert not events_of(report).exists()


def test_an_inactive_kpi_needs_no_value_to_submit_a_report(cluster, manager):
    report = factories.complete_report(annual_report_create(cluster=cluster, year=2020))
    KpiValue.objects.filter(report=report, kpi__code="C6").delete()
    entity_save(instance=factories.kpi("C6"), active=False)

    document_submit(document=report, by=manager)

    report.refresh_from_db()
    assert report.status == Workflow.SUBMITTED
    assert events_of(report).get().by == manager


def test_submitting_a_plan_without_a_target_for_every_kpi_is_refused_and_changes_nothing(cluster, manager):
    plan = annual_plan_create(cluster=cluster, year=2021, planned_actions="Two calls.")
    kpi_target_set(plan=plan, kpi=factories.kpi("CPI1"), value=Decimal(40))

    with pytest.raises(ValidationError) as caught:
        document_submit(document=plan, by=manager)

    assert caught.value.messages == [
        f"Give a target for every KPI before you submit; missing: {', '.join(codes_but('CPI1'))}."
    ]
    plan.refresh_from_db()
    assert (plan.status, plan.submitted_at) == (Workflow.DRAFT, None)
    assert not events_of(plan).exists()


@pytest.mark.parametrize("model", DOCUMENTS, ids=lambda m: m.__name__)
def test_a_complete_document_is_submitted_and_records_one_event(model, cluster, manager):
    document = factories.complete(document_in(model, cluster, Workflow.DRAFT, year=2021))

    document_submit(document=document, by=manager)

    document.refresh_from_db()
    assert document.status == Workflow.SUBMITTED and document.submitted_at is not None
    event = events_of(document).get()
    assert (event.from_status, event.to_status, event.by) == (Workflow.DRAFT, Workflow.SUBMITTED, manager)


def test_document_update_cannot_change_the_status(cluster):
    report = annual_report_create(cluster=cluster, year=2020)

    with pytest.raises(ValueError, match="document_transition"):
        document_update(document=report, status=Workflow.ACCEPTED)

    report.refresh_from_db()
    assert report.status == Workflow.DRAFT


# --- an accepted document no longer changes --------------------------------------------------------


@pytest.mark.parametrize("status", [Workflow.DRAFT, Workflow.RETURNED])
def test_an_editable_report_narrative_can_be_updated(cluster, status):
    report = document_in(AnnualReport, cluster, status)

    document_update(document=report, narrative="Revised narrative.")

    report.refresh_from_db()
    assert report.narrative == "Revised narrative."


def test_an_accepted_report_cannot_be_updated(cluster):
    report = document_in(AnnualReport, cluster, Workflow.ACCEPTED)
    AnnualReport.objects.filter(pk=report.pk).update(narrative="Final.")
    report.refresh_from_db()

    with pytest.raises(ValidationError) as caught:
        document_update(document=report, narrative="Changed afterwards.")

    assert "can no longer be changed" in " ".join(caught.value.messages)
    report.refresh_from_db()
    assert report.narrative == "Final."


def test_a_stale_copy_of_a_report_accepted_meanwhile_cannot_be_updated(cluster, officer):
    report = document_in(AnnualReport, cluster, Workflow.SUBMITTED)
    stale = AnnualReport.objects.get(pk=report.pk)
    annual_report_accept(report=report, by=officer)

    with pytest.raises(ValidationError):
        document_update(document=stale, narrative="Sneaked in.")

    report.refresh_from_db()
    assert (report.status, report.narrative) == (Workflow.ACCEPTED, "")


def test_an_accepted_plan_cannot_be_updated(cluster):
    plan = document_in(AnnualPlan, cluster, Workflow.ACCEPTED)

    with pytest.raises(ValidationError) as caught:
        document_update(document=plan, planned_actions="Changed afterwards.")

    assert "can no longer be changed" in " ".join(caught.value.messages)
    plan.refresh_from_db()
    assert plan.planned_actions == ""


def test_kpi_value_of_an_accepted_report_cannot_be_set(cluster):
    report = document_in(AnnualReport, cluster, Workflow.ACCEPTED)

    with pytest.raises(ValidationError):
        kpi_value_set(report=report, kpi=factories.kpi("CPI1"), value=Decimal(12))

    assert not KpiValue.objects.exists()


def test_kpi_value_of_an_accepted_report_cannot_be_changed(cluster, officer):
    report = document_in(AnnualReport, cluster, Workflow.DRAFT)
    kpi_value_set(report=report, kpi=factories.kpi("CPI1"), value=Decimal(12))
    factories.complete_report(report)
    annual_report_submit(report=report)
    annual_report_accept(report=report, by=officer)

    with pytest.raises(ValidationError):
        kpi_value_set(report=report, kpi=factories.kpi("CPI1"), value=Decimal(99))

    assert KpiValue.objects.get(kpi__code="CPI1").value == Decimal(12)


def test_kpi_target_of_an_accepted_plan_cannot_be_set(cluster):
    plan = document_in(AnnualPlan, cluster, Workflow.ACCEPTED)

    with pytest.raises(ValidationError) as caught:
        kpi_target_set(plan=plan, kpi=factories.kpi("CPI1"), value=Decimal(40))

    assert "draft or returned" in " ".join(caught.value.messages)
    assert not KpiTarget.objects.exists()


@pytest.mark.parametrize("status", [Workflow.DRAFT, Workflow.RETURNED])
def test_kpi_target_of_an_editable_plan_is_set_and_then_changed(cluster, status):
    plan = document_in(AnnualPlan, cluster, status, year=2021)

    kpi_target_set(plan=plan, kpi=factories.kpi("CPI1"), value=Decimal(40))
    kpi_target_set(plan=plan, kpi=factories.kpi("CPI1"), value=Decimal(45))

    target = KpiTarget.objects.get()
    assert (target.plan, target.cluster, target.year, target.value) == (plan, cluster, 2021, Decimal(45))


def test_attachment_is_added_to_a_draft_report(cluster):
    report = document_in(AnnualReport, cluster, Workflow.DRAFT)

    attachment = attachment_add(report=report, file=pdf(), title="Annex")

    attachment.refresh_from_db()
    assert attachment.report == report
    assert attachment.file.name.startswith("reports/catalisti/2020/")


def test_attachment_cannot_be_added_to_an_accepted_report(cluster):
    report = document_in(AnnualReport, cluster, Workflow.ACCEPTED)

    with pytest.raises(ValidationError) as caught:
        attachment_add(report=report, file=pdf(), title="Late annex")

    assert "draft or returned" in " ".join(caught.value.messages)
    assert not ReportAttachment.objects.exists()


def test_attachment_cannot_be_added_through_a_stale_copy_of_a_report_accepted_meanwhile(cluster, officer):
    report = document_in(AnnualReport, cluster, Workflow.SUBMITTED)
    stale = AnnualReport.objects.get(pk=report.pk)
    annual_report_return(report=report, by=officer, comment="Add the annex.")
    factories.complete_report(report)
    annual_report_submit(report=report)
    annual_report_accept(report=report, by=officer)
    stale.status = Workflow.RETURNED  # what the manager's page last showed

    with pytest.raises(ValidationError):
        attachment_add(report=stale, file=pdf(), title="Late annex")

    assert not ReportAttachment.objects.exists()


def test_kpi_value_cannot_be_set_through_a_stale_copy_of_a_report_accepted_meanwhile(cluster, officer):
    report = document_in(AnnualReport, cluster, Workflow.SUBMITTED)
    stale = AnnualReport.objects.get(pk=report.pk)
    stale.status = Workflow.RETURNED
    annual_report_accept(report=report, by=officer)

    with pytest.raises(ValidationError):
        kpi_value_set(report=stale, kpi=factories.kpi("CPI1"), value=Decimal(5))

    assert not KpiValue.objects.exists()


@pytest.mark.parametrize(
    ("content", "name"),
    [(b"PK\x03\x04 not a pdf", "report.pdf"), (b"", "empty.pdf")],
    ids=["not a pdf by content", "empty"],
)
def test_attachment_that_is_not_a_pdf_is_refused_on_file(cluster, content, name):
    report = document_in(AnnualReport, cluster, Workflow.DRAFT)

    with pytest.raises(ValidationError) as caught:
        attachment_add(report=report, file=SimpleUploadedFile(name, content), title="Annex")

    assert "file" in caught.value.message_dict
    assert not ReportAttachment.objects.exists()


# --- annual plans ---------------------------------------------------------------------------------


def test_a_second_plan_for_the_same_cluster_and_year_is_refused(cluster):
    annual_plan_create(cluster=cluster, year=2021, planned_actions="first")

    with pytest.raises(ValidationError) as caught:
        annual_plan_create(cluster=cluster, year=2021, planned_actions="second")

    assert "already has an annual plan" in " ".join(caught.value.messages)
    assert list(AnnualPlan.objects.values_list("planned_actions", flat=True)) == ["first"]


def test_a_working_year_out_of_range_is_refused_before_any_date_arithmetic(cluster):
    from clusterpacts.services import annual_report_create

    with pytest.raises(ValidationError) as caught:
        annual_report_create(cluster=cluster, year=9999)
    assert "between 2000 and 2100" in " ".join(caught.value.message_dict["year"])
    assert not AnnualReport.objects.exists()


def test_submitting_an_already_submitted_report_says_so_before_what_it_misses(cluster, manager):
    report = document_in(AnnualReport, cluster, Workflow.SUBMITTED)  # seeded incomplete, past the check
    with pytest.raises(ValidationError) as caught:
        document_submit(document=report, by=manager)
    assert set(caught.value.message_dict) == {"status"}
    assert "cannot move to" in " ".join(caught.value.message_dict["status"])


# --- the portal's whole-document saves ------------------------------------------------------------


def test_saving_a_report_sets_the_figures_given_removes_those_emptied_and_leaves_the_rest(cluster, manager):
    report = annual_report_create(cluster=cluster, year=2020, narrative="Draft.")
    kpi_value_set(report=report, kpi=factories.kpi("C2"), value=Decimal(4))
    kpi_value_set(report=report, kpi=factories.kpi("CPI1"), value=Decimal(12))

    saved = annual_report_save(
        cluster=cluster,
        year=2020,
        narrative="Revised.",
        figures={factories.kpi("C2"): None, factories.kpi("C6"): Decimal(40)},
        attachment=pdf(),
        attachment_title="Annex",
        by=manager,
    )

    assert saved.pk == report.pk
    assert AnnualReport.objects.get(pk=report.pk).narrative == "Revised."
    values = dict(KpiValue.objects.filter(report=report).values_list("kpi__code", "value"))
    assert values == {"CPI1": Decimal(12), "C6": Decimal(40)}, "C2 emptied, C6 set, CPI1 not given: left alone"
    assert list(ReportAttachment.objects.values_list("title", flat=True)) == ["Annex"]
    assert saved.status == Workflow.DRAFT


def test_saving_a_document_refuses_each_figure_under_its_kpi_and_saves_nothing(cluster):
    plan = annual_plan_create(cluster=cluster, year=2021, planned_actions="Plan.")
    kpi_target_set(plan=plan, kpi=factories.kpi("CPI1"), value=Decimal(30))
    c6, c2, cpi1 = factories.kpi("C6"), factories.kpi("C2"), factories.kpi("CPI1")

    with pytest.raises(ValidationError) as caught:
        annual_plan_save(
            cluster=cluster,
            year=2021,
            planned_actions="Changed.",
            figures={c6: Decimal(150), c2: Decimal("2.5"), cpi1: None},
        )

    assert caught.value.message_dict == {
        figure_key(c6): ["C6 is a percentage: enter a value from 0 to 100, not 150."],
        figure_key(c2): ["C2 is a count: enter a whole number of 0 or more, not 2.5."],
        NON_FIELD_ERRORS: ["Some values were refused; see the fields marked below."],
    }
    assert AnnualPlan.objects.get(pk=plan.pk).planned_actions == "Plan."
    assert dict(KpiTarget.objects.values_list("kpi__code", "value")) == {"CPI1": Decimal(30)}, "not even CPI1 went"


def test_a_plan_that_cannot_be_submitted_is_kept_as_a_draft_and_the_refusal_says_why(cluster, manager):
    with pytest.raises(SubmissionRefused) as caught:
        annual_plan_save(
            cluster=cluster,
            year=2021,
            planned_actions="Plan.",
            figures={factories.kpi("CPI1"): Decimal(30)},
            submit=True,
            by=manager,
        )

    assert caught.value.messages == [
        f"Give a target for every KPI before you submit; missing: {', '.join(codes_but('CPI1'))}."
    ]
    plan = AnnualPlan.objects.get()
    assert caught.value.document == plan
    assert (plan.status, plan.planned_actions) == (Workflow.DRAFT, "Plan."), "the draft is not lost"
    assert dict(KpiTarget.objects.values_list("kpi__code", "value")) == {"CPI1": Decimal(30)}
    assert not events_of(plan).exists()

    figures = {kpi: factories.FIGURE_BY_UNIT[kpi.unit] for kpi in KpiDefinition.objects.filter(active=True)}
    plan = annual_plan_save(
        cluster=cluster, year=2021, planned_actions="Plan.", figures=figures, submit=True, by=manager
    )

    assert plan.status == Workflow.SUBMITTED
    assert ReportEvent.objects.get(plan=plan).by == manager


# --- planned actions: a plan is submitted with them (issue 14) --------------------------------------


@pytest.mark.parametrize("actions", ["", "  \n\t "])
def test_submitting_a_plan_without_planned_actions_is_refused_on_them_and_changes_nothing(cluster, manager, actions):
    plan = factories.complete_plan(annual_plan_create(cluster=cluster, year=2021, planned_actions="Calls."))
    document_update(document=plan, planned_actions=actions)
    targets = dict(KpiTarget.objects.filter(plan=plan).values_list("kpi__code", "value"))

    with pytest.raises(ValidationError) as caught:
        document_submit(document=plan, by=manager)

    assert caught.value.message_dict == {
        "planned_actions": ["Describe the planned actions before you submit the plan."]
    }
    plan.refresh_from_db()
    assert (plan.status, plan.submitted_at, plan.planned_actions) == (Workflow.DRAFT, None, actions)
    assert dict(KpiTarget.objects.filter(plan=plan).values_list("kpi__code", "value")) == targets
    assert not events_of(plan).exists()


def test_a_plan_missing_actions_and_targets_is_refused_for_both_at_once(cluster, manager):
    plan = annual_plan_create(cluster=cluster, year=2021)
    kpi_target_set(plan=plan, kpi=factories.kpi("CPI1"), value=Decimal(40))

    with pytest.raises(ValidationError) as caught:
        document_submit(document=plan, by=manager)

    assert caught.value.message_dict == {
        "planned_actions": ["Describe the planned actions before you submit the plan."],
        NON_FIELD_ERRORS: [f"Give a target for every KPI before you submit; missing: {', '.join(codes_but('CPI1'))}."],
    }
    missing = caught.value.error_dict[NON_FIELD_ERRORS][0]
    assert (missing.code, missing.params["missing"]) == ("targets_missing", codes_but("CPI1"))
    assert not events_of(plan).exists()


def test_a_refused_target_and_what_the_submission_misses_come_in_one_refusal_and_nothing_is_saved(cluster, manager):
    c6 = factories.kpi("C6")

    with pytest.raises(ValidationError) as caught:
        annual_plan_save(
            cluster=cluster, year=2021, planned_actions=" ", figures={c6: Decimal(150)}, submit=True, by=manager
        )

    errors = caught.value.message_dict
    assert errors[figure_key(c6)] == ["C6 is a percentage: enter a value from 0 to 100, not 150."]
    assert errors["planned_actions"] == ["Describe the planned actions before you submit the plan."]
    assert errors[NON_FIELD_ERRORS] == [
        "Some values were refused; see the fields marked below.",
        f"Give a target for every KPI before you submit; missing: {', '.join(codes_but())}.",
    ]
    assert not isinstance(caught.value, SubmissionRefused), "the content itself was refused"
    assert not AnnualPlan.objects.exists()
    assert not KpiTarget.objects.exists()


def test_saving_a_report_with_a_file_that_is_not_a_pdf_is_refused_on_file_and_saves_nothing(cluster):
    with pytest.raises(ValidationError) as caught:
        annual_report_save(
            cluster=cluster,
            year=2020,
            narrative="Text.",
            figures={},
            attachment=SimpleUploadedFile("photo.png", b"\x89PNG\r\n"),
        )

    assert list(caught.value.message_dict) == ["file"]
    assert not AnnualReport.objects.exists()
