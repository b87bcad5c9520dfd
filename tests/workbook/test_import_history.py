"""`import_history` and `export_history` (docs/IMPORT.md): every rule through the services, all or nothing
with every refusal at once, idempotent, and an export that round-trips cell for cell."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook

from clusterpacts.models import (
    AnnualReport,
    Cluster,
    KpiValue,
    Membership,
    Organisation,
    ReportEvent,
    Workflow,
    format_enterprise_number,
)
from funding.models import Allocation, BudgetYear, Project, ProjectPartner, SupportAgreement
from tests import factories
from tests.workbook.files import write_workbook
from workbook.exporter import export_workbook
from workbook.importer import import_workbook
from workbook.management.commands.build_demo_workbook import build_demo_workbook
from workbook.paths import DEMO_WORKBOOK
from workbook.results import ImportResult

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

N1, N2, N3 = (factories.valid_enterprise_number(n) for n in (11, 12, 13))

CLUSTERS = [
    ["slug", "name", "kind", "enterprise_number", "started_on"],
    ["alpha", "Alpha", "spearhead", N1, "2018-01-01"],
]
ORGANISATIONS = [["enterprise_number", "name", "kind"], [N2, "Org Two", "sme"], [N3, "Org Three", "company"]]
MEMBERSHIPS = [["cluster", "organisation", "joined_on"], ["alpha", N2, "2018-01-01"], ["alpha", N3, "01-06-2019"]]
REPORTS = [["cluster", "year", "narrative"], ["alpha", 2019, "What we did in 2019."]]
VALUES = [["cluster", "year", "kpi", "value"], ["alpha", 2019, "PRJ1", "1.250.000,50"]]
WORKFLOW = [
    ["document", "cluster", "year", "step", "status", "on", "by", "comment"],
    ["report", "alpha", 2019, 1, "submitted", "2020-02-14", "Jan Peeters", ""],
    ["report", "alpha", 2019, 2, "accepted", "28-05-2020", "Jan Peeters", ""],
]
BUDGET = [["year", "envelope"], [2020, "20.000.000"]]
ALLOCATIONS = [
    ["year", "purpose", "cluster", "amount", "description", "decided_on"],
    [2020, "competitiveness", "alpha", 8_000_000, "", "2020-03-10"],
]
AGREEMENTS = [
    ["reference", "cluster", "start_date", "end_date", "amount", "signed_on", "predecessor"],
    ["SO-A-2", "alpha", "2021-01-01", "2023-12-31", 1_500_000, "2020-12-01", "SO-A-1"],
    ["SO-A-1", "alpha", "2018-01-01", "2020-12-31", 1_500_000, "2017-12-01", ""],
]
EVALUATIONS = [
    [
        "cluster", "kind", "period_start", "period_end", "stage", "registered_on", "started_on", "reporting_on",
        "completed_on", "conclusion",
    ],
    [
        "alpha", "interim", "2018-01-01", "2019-12-31", "completed", "2020-04-01", "2020-05-01", "2020-08-01",
        "2020-09-30", "largely_achieved",
    ],
]  # fmt: skip

HISTORY = {
    # In an order the importer must not depend on: the sheets are taken in dependency order.
    "values": VALUES,
    "workflow": WORKFLOW,
    "reports": REPORTS,
    "allocations": ALLOCATIONS,
    "budget_years": BUDGET,
    "agreements": AGREEMENTS,
    "evaluations": EVALUATIONS,
    "memberships": MEMBERSHIPS,
    "organisations": ORGANISATIONS,
    "clusters": CLUSTERS,
}


def _import(
    tmp_path: Path, sheets: dict[str, list[list[Any]]], *, dry_run: bool = False, **kwargs: Any
) -> ImportResult:
    return import_workbook(write_workbook(tmp_path / "history.xlsx", sheets), dry_run=dry_run, **kwargs)


def _errors(result: ImportResult) -> list[tuple[str, int, str]]:
    return [(error.sheet, error.row, error.column) for error in result.errors]


def _nothing_saved() -> None:
    assert not Cluster.objects.filter(slug="alpha").exists()
    assert not Organisation.objects.filter(enterprise_number__in=[N2, N3]).exists()
    assert not AnnualReport.objects.exists()
    assert not BudgetYear.objects.exists()


# --- a whole history ------------------------------------------------------------------------------


def test_a_history_is_imported_with_its_dates_in_dependency_order(tmp_path):
    result = _import(tmp_path, HISTORY)

    assert result.errors == []
    assert result.applied
    assert list(result.counts) == [
        "clusters", "organisations", "memberships", "reports", "values", "workflow",
        "evaluations", "agreements", "budget_years", "allocations",
    ]  # fmt: skip
    assert result.counts["organisations"].created == 2
    report = AnnualReport.objects.get(cluster__slug="alpha", year=2019)
    assert report.status == Workflow.ACCEPTED
    steps = list(report.events.order_by("at"))
    assert [(timezone.localdate(s.at), s.to_status, s.by_name) for s in steps] == [
        (date(2020, 2, 14), Workflow.SUBMITTED, "Jan Peeters"),
        (date(2020, 5, 28), Workflow.ACCEPTED, "Jan Peeters"),
    ]
    assert KpiValue.objects.get(report=report).value == Decimal("1250000.50")
    assert Membership.objects.get(organisation__enterprise_number=N3).joined_on == date(2019, 6, 1)
    assert SupportAgreement.objects.get(reference="SO-A-2").predecessor.reference == "SO-A-1"
    assert Allocation.objects.get().decided_on == date(2020, 3, 10)


def test_importing_the_same_file_twice_changes_nothing_the_second_time(tmp_path):
    first = _import(tmp_path, HISTORY)
    assert first.changed > 0 and first.applied
    events = ReportEvent.objects.count()

    again = _import(tmp_path, HISTORY)

    assert again.errors == []
    assert again.changed == 0
    assert all(c.unchanged == c.total for c in again.counts.values())
    assert ReportEvent.objects.count() == events


def test_a_changed_cell_updates_its_row_and_the_history_says_imported_by_whom(tmp_path):
    officer = factories.officer(username="ines")
    _import(tmp_path, HISTORY)
    changed = dict(HISTORY, organisations=[ORGANISATIONS[0], [N2, "Org Two renamed", "sme"], ORGANISATIONS[2]])

    result = import_workbook(write_workbook(tmp_path / "fix-2024.xlsx", changed), user=officer)

    assert result.counts["organisations"].updated == 1
    assert result.counts["organisations"].unchanged == 1
    assert result.changed == 1
    organisation = Organisation.objects.get(enterprise_number=N2)
    assert organisation.name == "Org Two renamed"
    last = organisation.history.latest("history_date")
    assert last.history_user == officer
    assert "fix-2024.xlsx" in last.history_change_reason


def test_a_dry_run_saves_nothing(tmp_path):
    result = _import(tmp_path, HISTORY, dry_run=True)

    assert result.errors == [] and not result.applied
    assert result.counts["clusters"].created == 1
    _nothing_saved()


def test_rows_may_refer_to_what_the_portal_holds_by_slug_or_enterprise_number(tmp_path):
    _import(tmp_path, {"clusters": CLUSTERS, "organisations": ORGANISATIONS})
    other = factories.valid_enterprise_number(14)

    result = _import(
        tmp_path,
        {
            "clusters": [CLUSTERS[0], ["beta", "Beta", "spearhead", other, "2019-01-01"]],
            "memberships": [MEMBERSHIPS[0], [N1, "BE " + N2, "2018-01-01"], ["beta", N3, "2019-02-01"]],
        },
    )

    assert result.errors == []
    assert result.counts["memberships"].created == 2
    assert Membership.objects.filter(cluster__slug="alpha", organisation__enterprise_number=N2).exists()


def test_a_csv_folder_is_read_like_the_workbook(tmp_path):
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "clusters.csv").write_text("slug;naam;ondernemingsnummer\nalpha;Alpha;" + N1 + "\n", encoding="utf-8")
    (folder / "begrotingsjaren.csv").write_text('jaar,enveloppe\n2020,"12.500.000,00"\n', encoding="utf-8")

    result = import_workbook(folder)

    assert result.errors == []
    assert Cluster.objects.get(slug="alpha").enterprise_number == N1
    assert BudgetYear.objects.get(year=2020).envelope == Decimal("12500000")


# --- every refusal at once, nothing saved ---------------------------------------------------------


def test_every_refused_row_is_listed_at_once_and_nothing_is_saved(tmp_path):
    bad = dict(HISTORY)
    bad["organisations"] = [ORGANISATIONS[0], ["0123.456.789", "Bad number", "sme"], ORGANISATIONS[2]]
    bad["values"] = [VALUES[0], ["alpha", 2019, "NOPE", 3]]
    bad["budget_years"] = [BUDGET[0], [2020, "twenty"]]
    bad["memberships"] = [*MEMBERSHIPS, ["omega", N2, "2019-01-01"]]

    result = _import(tmp_path, bad)

    assert not result.applied
    found = _errors(result)
    assert ("organisations", 2, "enterprise_number") in found
    assert ("values", 2, "kpi") in found
    assert ("budget_years", 2, "envelope") in found
    assert ("memberships", 4, "cluster") in found
    assert result.counts["organisations"].refused == 1 and result.counts["organisations"].created == 1
    messages = " ".join(error.message for error in result.errors)
    assert "check digits" in messages and "NOPE" in messages and "omega" in messages
    _nothing_saved()


@pytest.mark.parametrize(
    ("sheets", "where", "words"),
    [
        pytest.param(
            {"clusters": [CLUSTERS[0], ["alpha", "Alpha", "spearhead", N1, "31-02-2018"]]},
            ("clusters", 2, "started_on"),
            "not a date",
            id="date-that-is-not-a-date",
        ),
        pytest.param(
            {"clusters": [CLUSTERS[0], CLUSTERS[1], ["alpha", "Alpha bis", "spearhead", "", ""]]},
            ("clusters", 3, ""),
            "Row 2",
            id="duplicate-key",
        ),
        pytest.param(
            {"clusters": [["slug", "name", "colour"], ["alpha", "Alpha", "blue"]]},
            ("clusters", 1, "colour"),
            "Unknown column",
            id="unknown-column",
        ),
        pytest.param(
            {"clusters": [["name", "started_on"], ["Alpha", "2018-01-01"]]},
            ("clusters", 1, "slug"),
            "no column",
            id="missing-key-column",
        ),
        pytest.param(
            {"clustres": CLUSTERS},
            ("clustres", 0, ""),
            "Unknown sheet",
            id="unknown-sheet",
        ),
        pytest.param(
            {"clusters": CLUSTERS, "values": [VALUES[0], ["alpha", 2019, "PRJ1", 5]]},
            ("values", 2, "year"),
            "reports",
            id="value-without-its-report",
        ),
        pytest.param(
            {"clusters": [CLUSTERS[0], ["alpha", "Alpha", "cluster of sorts", N1, "2018-01-01"]]},
            ("clusters", 2, "kind"),
            "spearhead",
            id="unknown-choice",
        ),
    ],
)
def test_a_bad_cell_or_sheet_is_refused_with_where_and_what(tmp_path, sheets, where, words):
    result = _import(tmp_path, sheets)

    assert where in _errors(result)
    assert any(words in error.message for error in result.errors)
    assert not result.applied
    assert not Cluster.objects.exists()


def test_formulas_and_error_values_are_refused_never_evaluated(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = "budget_years"
    sheet.append(["year", "envelope", "notes"])
    sheet.append([2020, "=1000000*8", "ok"])
    sheet.append([2021, 5_000_000, '=HYPERLINK("http://evil.example")'])
    sheet.append([2022, 5_000_000, "#N/A"])
    sheet["B4"].data_type = "e"  # an error value as Excel stores it
    sheet["B4"].value = "#DIV/0!"
    path = tmp_path / "formulas.xlsx"
    book.save(path)

    result = import_workbook(path)

    assert ("budget_years", 2, "envelope") in _errors(result)
    assert ("budget_years", 3, "notes") in _errors(result)
    assert ("budget_years", 4, "envelope") in _errors(result)
    assert any("formula" in e.message for e in result.errors)
    assert any("error value" in e.message for e in result.errors)
    assert not BudgetYear.objects.exists()


@pytest.mark.parametrize(
    "content",
    [b"%PDF-1.4 not a workbook", b"year,envelope\n2020,1\n", b"PK\x03\x04 broken zip"],
    ids=["pdf", "csv-text", "broken-zip"],
)
def test_a_file_that_is_not_a_workbook_is_refused_as_a_whole(tmp_path, content):
    path = tmp_path / "history.xlsx"
    path.write_bytes(content)

    result = import_workbook(path)

    assert _errors(result) == [("", 0, "")]
    assert "not an Excel workbook" in result.errors[0].message
    assert result.counts == {}


# --- the domain's rules hold, as in the portal ----------------------------------------------------


def _with_steps(*steps: list[Any]) -> dict[str, Any]:
    return dict(HISTORY, workflow=[WORKFLOW[0], *steps])


@pytest.mark.parametrize(
    ("steps", "where", "words"),
    [
        pytest.param(
            [["report", "alpha", 2019, 1, "accepted", "2020-05-28", "", ""]],
            ("workflow", 2, "status"),
            "cannot move",
            id="accepted-before-submitted",
        ),
        pytest.param(
            [
                ["report", "alpha", 2019, 1, "submitted", "2020-05-28", "", ""],
                ["report", "alpha", 2019, 2, "accepted", "2020-02-14", "", ""],
            ],
            ("workflow", 3, "on"),
            "",
            id="accepted-before-it-was-submitted",
        ),
        pytest.param(
            [["report", "alpha", 2019, 1, "submitted", (date.today() + timedelta(days=3)).isoformat(), "", ""]],
            ("workflow", 2, "on"),
            "future",
            id="in-the-future",
        ),
        pytest.param(
            [
                ["report", "alpha", 2019, 1, "submitted", "2020-02-14", "", ""],
                ["report", "alpha", 2019, 2, "returned", "2020-03-01", "", ""],
            ],
            ("workflow", 3, "comment"),
            "comment",
            id="returned-without-comment",
        ),
        pytest.param(
            [["report", "alpha", 2019, 2, "submitted", "2020-02-14", "", ""]],
            ("workflow", 2, "step"),
            "missing",
            id="a-step-missing",
        ),
    ],
)
def test_the_workflow_order_holds(tmp_path, steps, where, words):
    result = _import(tmp_path, _with_steps(*steps))

    assert where in _errors(result), result.errors
    assert any(words in error.message for error in result.errors)
    _nothing_saved()


def test_the_agreement_and_budget_rules_hold(tmp_path):
    bad = dict(HISTORY)
    bad["agreements"] = [AGREEMENTS[0], ["SO-A-1", "alpha", "2018-01-01", "2021-12-31", 1_500_000, "2017-12-01", ""]]
    bad["allocations"] = [*ALLOCATIONS, [2020, "other", "", 12_500_000, "Too much", ""]]

    result = _import(tmp_path, bad)

    assert ("agreements", 2, "end_date") in _errors(result)
    assert ("allocations", 3, "amount") in _errors(result)
    assert any("envelope" in error.message for error in result.errors)
    _nothing_saved()


def test_memberships_may_not_overlap_within_the_file_or_with_the_portal(tmp_path):
    _import(tmp_path, {"clusters": CLUSTERS, "organisations": ORGANISATIONS, "memberships": MEMBERSHIPS})
    rows = [
        MEMBERSHIPS[0],
        ["alpha", N2, "2019-03-01"],  # N2 is a member from 2018-01-01 with no end: overlaps
        ["alpha", N3, "2017-01-01", "2017-12-31"],  # before N3 joined in 2019: fine
        ["alpha", N3, "2017-06-01"],  # overlaps the row above, and N3's membership from 2019
        ["alpha", N3, "2016-05-01", "2016-04-30"],  # leaves before joining
    ]
    rows[0] = [*rows[0], "left_on"]

    result = _import(tmp_path, {"memberships": rows})

    assert ("memberships", 2, "joined_on") in _errors(result)
    assert ("memberships", 4, "joined_on") in _errors(result)
    assert ("memberships", 5, "left_on") in _errors(result)
    assert result.counts["memberships"].created == 1
    assert any("may not overlap" in error.message for error in result.errors)
    assert Membership.objects.count() == 2


def test_an_accepted_reports_values_cannot_be_changed_by_a_later_file(tmp_path):
    _import(tmp_path, HISTORY)
    changed = dict(HISTORY, values=[VALUES[0], ["alpha", 2019, "PRJ1", 99]])

    result = _import(tmp_path, changed)

    assert ("values", 2, "value") in _errors(result)
    assert KpiValue.objects.get().value == Decimal("1250000.50")


def test_a_step_already_held_cannot_become_another_or_disappear(tmp_path):
    _import(tmp_path, HISTORY)

    shorter = _import(tmp_path, _with_steps(WORKFLOW[1]))
    assert ("workflow", 2, "step") in _errors(shorter)
    corrected = _import(
        tmp_path, _with_steps(WORKFLOW[1], ["report", "alpha", 2019, 2, "accepted", "2020-05-29", "Jan Peeters", ""])
    )

    assert corrected.errors == []
    assert corrected.counts["workflow"].updated == 1
    report = AnnualReport.objects.get()
    assert timezone.localdate(report.reviewed_at) == date(2020, 5, 29)


# --- projects and their partners ------------------------------------------------------------------

N4 = factories.valid_enterprise_number(15)
PROJECT_COLUMNS = [
    "reference", "title", "type", "lead_cluster", "other_clusters", "decided_on", "amount", "start_date",
    "end_date", "status", "status_since",
]  # fmt: skip
PROJECTS = [
    PROJECT_COLUMNS,
    ["HBC.2020.0101", "Recyclage", "icon", "alpha", "", "2020-06-15", "1.250.000", "2020-09-01", "2022-08-31",
     "completed", "2022-09-01"],
    ["HBC.2020.0901", "Samen", "inter-cluster project", "alpha", "beta", "15-07-2020", 900_000, "2020-10-01",
     "2022-09-30", "running", "2020-10-01"],
    ["HBC.2021.0102", "Haalbaarheid", "feasibility study", "alpha", "", "2021-03-01", 80_000, "2021-04-01",
     "2021-12-31", "", ""],
]  # fmt: skip
PARTNERS = [
    ["project", "organisation", "role"],
    ["HBC.2020.0101", N2, "lead"],
    ["HBC.2020.0101", N3, "partner"],
    ["HBC.2020.0901", N3, "lead partner"],
    ["HBC.2020.0901", N4, ""],
    ["HBC.2021.0102", N2, "lead"],
]
PROJECT_HISTORY = {
    "clusters": [*CLUSTERS, ["beta", "Beta", "spearhead", factories.valid_enterprise_number(16), "2018-01-01"]],
    "organisations": [
        ["enterprise_number", "name", "kind", "founded_on", "ceased_on"],
        [N2, "Org Two", "sme", "2009-05-04", ""],
        [N3, "Org Three", "company", "", ""],
        [N4, "Org Four", "knowledge_institution", "1425-12-09", ""],
    ],
    "projects": PROJECTS,
    "project_partners": PARTNERS,
}


def _nothing_of_projects_saved() -> None:
    assert not Project.objects.exists()
    assert not ProjectPartner.objects.exists()
    assert not Cluster.objects.exists()
    assert not Organisation.objects.exists()


def test_projects_and_their_partners_are_imported_with_their_days(tmp_path):
    result = _import(tmp_path, PROJECT_HISTORY)

    assert result.errors == []
    assert result.applied
    assert result.counts["projects"].created == 3
    assert result.counts["project_partners"].created == 5
    icon = Project.objects.get(reference="HBC.2020.0101")
    assert (icon.type, icon.lead_cluster.slug, icon.amount) == ("icon", "alpha", Decimal("1250000"))
    assert (icon.status, icon.status_on) == (Project.Status.COMPLETED, date(2022, 9, 1))
    inter = Project.objects.get(reference="HBC.2020.0901")
    assert inter.type == Project.Type.INTER_CLUSTER
    assert inter.decided_on == date(2020, 7, 15)
    assert list(inter.clusters.values_list("slug", flat=True)) == ["beta"]
    assert dict(inter.partners.values_list("organisation__enterprise_number", "role")) == {
        N3: ProjectPartner.Role.LEAD,
        N4: ProjectPartner.Role.PARTNER,  # an empty role: a partner
    }
    study = Project.objects.get(reference="HBC.2021.0102")
    assert (study.type, study.status, study.status_on) == ("feasibility", Project.Status.DECIDED, date(2021, 3, 1))
    assert Organisation.objects.get(enterprise_number=N2).founded_on == date(2009, 5, 4)
    assert Organisation.objects.get(enterprise_number=N3).founded_on is None


def test_importing_projects_twice_changes_nothing_the_second_time(tmp_path):
    assert _import(tmp_path, PROJECT_HISTORY).applied
    history = Project.history.count(), ProjectPartner.history.count()

    again = _import(tmp_path, PROJECT_HISTORY)

    assert again.errors == []
    assert again.changed == 0
    assert again.counts["projects"].unchanged == 3
    assert again.counts["project_partners"].unchanged == 5
    assert (Project.history.count(), ProjectPartner.history.count()) == history


def test_a_later_file_changes_a_project_and_adds_partners_but_removes_none(tmp_path):
    _import(tmp_path, PROJECT_HISTORY)
    changed = dict(
        PROJECT_HISTORY,
        projects=[PROJECTS[0], [*PROJECTS[1][:6], "1.300.000", *PROJECTS[1][7:]]],
        project_partners=[PARTNERS[0], ["HBC.2020.0101", N4, "subcontractor"]],
    )

    result = _import(tmp_path, changed)

    assert result.errors == []
    assert result.counts["projects"].updated == 1
    assert result.counts["project_partners"].created == 1
    icon = Project.objects.get(reference="HBC.2020.0101")
    assert icon.amount == Decimal("1300000")
    assert "history.xlsx" in icon.history.latest("history_date").history_change_reason
    assert dict(icon.partners.values_list("organisation__enterprise_number", "role")) == {
        N2: "lead",
        N3: "partner",
        N4: "subcontractor",
    }


def test_an_older_workbook_without_the_days_of_organisations_leaves_them_alone(tmp_path):
    _import(tmp_path, PROJECT_HISTORY)
    older = {"organisations": [["enterprise_number", "name", "kind"], [N2, "Org Two", "sme"]]}

    result = _import(tmp_path, older)

    assert result.errors == []
    assert result.counts["organisations"].unchanged == 1
    assert Organisation.objects.get(enterprise_number=N2).founded_on == date(2009, 5, 4)


def test_a_project_that_breaks_a_rule_is_refused_with_the_rules_words_and_nothing_is_saved(tmp_path):
    bad = dict(PROJECT_HISTORY)
    # An inter-cluster project of one cluster; a partner founded after the project was decided.
    bad["projects"] = [*PROJECTS, [*PROJECTS[2][:4], "", *PROJECTS[2][5:]]]
    bad["projects"][4][0] = "HBC.2020.0902"
    organisations = list(PROJECT_HISTORY["organisations"])
    organisations[2] = [N3, "Org Three", "company", "2020-08-01", ""]
    bad["organisations"] = organisations

    result = _import(tmp_path, bad)

    assert not result.applied
    errors = {(e.sheet, e.row, e.column): e.message for e in result.errors}
    assert "at least two clusters" in errors["projects", 5, "other_clusters"]
    assert "Org Three did not exist yet on the decision day" in errors["project_partners", 3, "organisation"]
    # HBC.2020.0901 was decided on 15 July 2020, before Org Three was founded, too; the other rows stand.
    assert "did not exist yet" in errors["project_partners", 4, "organisation"]
    assert ("project_partners", 2, "") in errors  # its project's partners are taken together
    assert result.counts["projects"].refused == 1 and result.counts["projects"].created == 3
    _nothing_of_projects_saved()


def test_two_lead_partners_are_refused_on_the_rows_that_name_them(tmp_path):
    _import(tmp_path, PROJECT_HISTORY)

    result = _import(tmp_path, {"project_partners": [PARTNERS[0], ["HBC.2020.0101", N4, "lead"]]})

    assert _errors(result) == [("project_partners", 2, "role")]
    assert "one lead partner" in result.errors[0].message
    assert not ProjectPartner.objects.filter(project__reference="HBC.2020.0101", organisation__enterprise_number=N4)


def test_a_handed_over_lead_is_taken_with_the_other_rows_of_its_project(tmp_path):
    _import(tmp_path, PROJECT_HISTORY)
    handover = [PARTNERS[0], ["HBC.2020.0101", N4, "lead"], ["HBC.2020.0101", N2, "partner"]]

    result = _import(tmp_path, {"project_partners": handover})

    assert result.errors == []
    assert result.counts["project_partners"].created == 1 and result.counts["project_partners"].updated == 1
    icon = Project.objects.get(reference="HBC.2020.0101")
    assert icon.partners.get(role="lead").organisation.enterprise_number == N4


def test_partners_of_an_unknown_or_refused_project_are_refused_naming_it(tmp_path):
    bad = dict(PROJECT_HISTORY)
    bad["projects"] = [PROJECTS[0], [*PROJECTS[1][:5], "2030-01-01", *PROJECTS[1][6:]]]  # decided in the future
    bad["project_partners"] = [*PARTNERS[:3], ["HBC.1999.0001", N2, "lead"]]

    result = _import(tmp_path, bad)

    errors = {(e.sheet, e.row, e.column): e.message for e in result.errors}
    assert "future" in errors["projects", 2, "decided_on"]
    assert "refused on the sheet of projects (row 2)" in errors["project_partners", 2, "project"]
    assert "Unknown project “HBC.1999.0001”" in errors["project_partners", 4, "project"]
    _nothing_of_projects_saved()


def test_the_template_and_the_export_have_the_sheets_of_projects(tmp_path):
    path = tmp_path / "template.xlsx"
    with translation.override("nl"):
        export_workbook(path, empty=True)
    book = load_workbook(path)
    assert book.sheetnames[-2:] == ["projecten", "projectpartners"]
    assert [cell.value for cell in book["projecten"][1]] == [
        "referentie", "titel", "soort", "trekkende_cluster", "andere_clusters", "beslist_op", "bedrag",
        "begindatum", "einddatum", "status", "status_sinds",
    ]  # fmt: skip
    assert [cell.value for cell in book["organisaties"][1]][-2:] == ["opgericht_op", "stopgezet_op"]
    _import(tmp_path, PROJECT_HISTORY)

    export_workbook(tmp_path / "export.xlsx")

    exported = _cells(tmp_path / "export.xlsx")
    assert exported["projects"][2] == (
        "HBC.2020.0901", "Samen", "inter_cluster", "alpha", "beta", datetime(2020, 7, 15), 900_000,
        datetime(2020, 10, 1), datetime(2022, 9, 30), "running", datetime(2020, 10, 1),
    )  # fmt: skip
    two, three, four = (format_enterprise_number(number) for number in (N2, N3, N4))
    assert exported["project_partners"][1:] == [
        ("HBC.2020.0101", two, "lead"),
        ("HBC.2020.0101", three, "partner"),
        ("HBC.2020.0901", three, "lead"),
        ("HBC.2020.0901", four, "partner"),
        ("HBC.2021.0102", two, "lead"),
    ]


# --- the command --------------------------------------------------------------------------------


def test_the_command_reports_counts_and_every_refusal_then_fails(tmp_path):
    path = write_workbook(
        tmp_path / "bad.xlsx", {"clusters": [CLUSTERS[0], ["alpha", "Alpha", "spearhead", "0123", ""]]}
    )
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match="1 refusal"):
        call_command("import_history", str(path), "--language", "en", "--no-progress", stdout=out, stderr=err)

    assert "clusters" in out.getvalue()
    assert "row 2" in err.getvalue() and "enterprise_number" in err.getvalue()
    assert not Cluster.objects.exists()


def test_the_command_dry_run_then_import(tmp_path):
    path = write_workbook(tmp_path / "history.xlsx", HISTORY)
    out = StringIO()

    call_command("import_history", str(path), "--dry-run", "--language", "en", "--no-progress", stdout=out)
    assert "nothing was saved" in out.getvalue()
    _nothing_saved()

    call_command("import_history", str(path), "--language", "en", "--no-progress", stdout=out)
    assert AnnualReport.objects.get().status == Workflow.ACCEPTED


def test_messages_come_in_dutch_with_dutch_headers(tmp_path):
    path = write_workbook(
        tmp_path / "geschiedenis.xlsx",
        {"clusters": [["slug", "naam", "ondernemingsnummer"], ["alpha", "Alpha", "0123.456.789"]]},
    )
    err = StringIO()

    with pytest.raises(CommandError):
        call_command("import_history", str(path), "--no-progress", stdout=StringIO(), stderr=err)

    assert "ondernemingsnummer" in err.getvalue()
    assert "rij 2" in err.getvalue() and "de controlecijfers kloppen niet" in err.getvalue()
    assert "check digits" not in err.getvalue(), "no English left in a Dutch answer"


# --- the round trip on the demo data --------------------------------------------------------------


def _cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(path)
    return {name: list(book[name].values) for name in book.sheetnames}


def test_the_bundled_demo_round_trips_cell_for_cell_and_is_what_the_demo_data_builds(tmp_path):
    """export, import into an empty portal, export again: the same workbook, cell for cell. The first export
    is `build_demo_workbook`'s (the demo data written through the services, then rolled back), which must
    also be the bundled workbook that `seed_demo` imports."""
    first = tmp_path / "first.xlsx"
    build_demo_workbook(first)
    assert not Cluster.objects.exists()  # the build leaves the database as it was: empty

    result = import_workbook(first)
    assert result.errors == []
    second = tmp_path / "second.xlsx"
    with translation.override("nl"):
        export_workbook(second)

    assert _cells(second) == _cells(first)
    assert sum(len(rows) for rows in _cells(first).values()) > 5000
    assert _cells(DEMO_WORKBOOK) == _cells(first), "run `make demo-workbook` after changing the demo data"
    # (Importing it again changes nothing: tests/test_seed_demo.py runs seed_demo twice.)
