"""Replay is true, the day before and the day of each event (DESIGN.md: "a reader as of a day sees only
what had happened by then").

A small history is built through the services with its real, past days, and (the second run of every
test) exported to the history workbook and imported into an emptied portal (issue 13); then every
reader that takes a day is asked on the day before and the day of each event: the briefing as JSON
(`/api/v1/briefing/?as_of=`), as a page (`/insights/briefing/?as_of=`) and as a Word document
(`/insights/briefing.docx?as_of=`), and the flags `manage.py scan_flags --as-of DAY` raises.
(The dashboard and the cluster page take no day: they answer as of today.)

The history of "Replay Cluster", started 1 January 2018:

- support agreement R-1 (2018-2020) signed 2017-12-15; its extension R-2 (2021-2023) signed 2020-12-01;
- the report on 2018, due 2019-03-31, submitted late on 2019-04-02, accepted 2019-06-03;
- the report on 2019 submitted 2020-02-14 (by a person from before the portal), accepted 2020-05-28;
- 2020's budget: 75 M EUR; the cluster's 8 M EUR reservation decided 2020-03-10;
- an interim evaluation registered 2020-04-01, started 2020-06-01, reporting 2020-09-01, completed
  2020-11-15;
- R-1 ends 2020-12-31, so its renewal is due from 2020-07-04 (180 days) until R-2 is signed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from io import BytesIO, StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from docx import Document

from clusterpacts import services as cp
from clusterpacts.models import AnnualReport, Cluster
from evaluations.models import Evaluation, Stage
from evaluations.services import entity_save, evaluation_advance
from funding.models import Allocation, BudgetYear, Flag
from funding.services import agreement_create, agreement_extend, allocation_save, budget_year_save
from tests import factories
from tests.workbook.files import reimported

pytestmark = pytest.mark.django_db

NAME = "Replay Cluster"
EVALUATION = "Replay interim review"
ENVELOPE = Decimal("75000000")
RESERVATION = Decimal("8000000")
ONE_DAY = timedelta(days=1)

SUBMITTED_2018, ACCEPTED_2018 = date(2019, 4, 2), date(2019, 6, 3)
SUBMITTED_2019, ACCEPTED_2019 = date(2020, 2, 14), date(2020, 5, 28)
DECIDED = date(2020, 3, 10)
REGISTERED, STARTED, REPORTING, COMPLETED = date(2020, 4, 1), date(2020, 6, 1), date(2020, 9, 1), date(2020, 11, 15)
RENEWAL_WINDOW_OPENS = date(2020, 7, 4)  # 180 days before R-1 ends on 2020-12-31
EXTENSION_SIGNED = date(2020, 12, 1)


def at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


@pytest.fixture(params=["services", "imported"])
def history(request, db, tmp_path) -> Cluster:
    """The history built through the services; and the same history exported, the portal emptied and the
    workbook imported (issue 13: replay is as true for an imported history)."""
    cluster = _build_history()
    if request.param == "imported":
        reimported(tmp_path)
        cluster = Cluster.objects.get(slug="replay")
    return cluster


def _build_history() -> Cluster:
    cluster = factories.ClusterFactory(name=NAME, slug="replay", started_on=date(2018, 1, 1))
    first = agreement_create(
        cluster=cluster,
        reference="R-1",
        start_date=date(2018, 1, 1),
        end_date=date(2020, 12, 31),
        amount=Decimal(1_500_000),
        signed_on=date(2017, 12, 15),
    )
    report_2018 = factories.complete_report(cp.annual_report_create(cluster=cluster, year=2018))
    cp.document_submit(document=report_2018, at=at(SUBMITTED_2018))
    cp.annual_report_accept(report=report_2018, at=at(ACCEPTED_2018))

    report_2019 = factories.complete_report(cp.annual_report_create(cluster=cluster, year=2019))
    cp.document_transition(
        document=report_2019, to="submitted", at=at(SUBMITTED_2019, 16), by_name="An Peeters", notify=False
    )
    cp.annual_report_accept(report=report_2019, at=at(ACCEPTED_2019, 9))

    budget_year = budget_year_save(budget_year=BudgetYear(year=2020, envelope=ENVELOPE))
    allocation_save(
        allocation=Allocation(
            budget_year=budget_year,
            purpose=Allocation.Purpose.COMPETITIVENESS,
            cluster=cluster,
            amount=RESERVATION,
            decided_on=DECIDED,
        )
    )

    evaluation = entity_save(
        instance=Evaluation(
            cluster=cluster,
            kind=Evaluation.Kind.INTERIM,
            title=EVALUATION,
            period_start=date(2018, 1, 1),
            period_end=date(2020, 12, 31),
            registered_on=REGISTERED,
        )
    )
    evaluation_advance(evaluation=evaluation, to=Stage.IN_PROGRESS, on=STARTED)
    evaluation_advance(evaluation=evaluation, to=Stage.REPORTING, on=REPORTING)
    evaluation_advance(evaluation=evaluation, to=Stage.COMPLETED, on=COMPLETED, conclusion="largely_achieved")

    agreement_extend(
        predecessor=first,
        reference="R-2",
        end_date=date(2023, 12, 31),
        amount=Decimal(1_500_000),
        signed_on=EXTENSION_SIGNED,
    )
    return cluster


# --- every reader that takes a day, on one day --------------------------------------------------------


@dataclass
class Readings:
    """What each reader shows on one day: the API's JSON, the page's sections, the document's text, the flags."""

    day: date
    api: dict[str, Any]
    page: dict[str, str]  # section id (q1 ... q5) -> its HTML
    docx: str
    flags: set[tuple[str, Any]]  # (kind, working year or agreement reference) of the open flags after the scan

    def cluster_row(self, block: str) -> dict[str, Any]:
        rows = [row for row in self.api[block] if row["cluster_name"] == NAME]
        assert len(rows) == 1, f"{block} as of {self.day}: {self.api[block]}"
        return rows[0]

    def report(self, year: int) -> dict[str, Any]:
        return next(r for r in self.cluster_row("reports")["reports"] if r["year"] == year)

    def page_report_status(self, year: int) -> tuple[str, bool]:
        """The badge the page shows for the report on `year`, and whether it says overdue."""
        line = re.search(rf"<strong>{NAME}</strong>:(.*?)</li>", self.page["q2"], re.S)
        assert line, self.page["q2"]
        item = re.search(rf"{year} <span class=\"badge badge-(\w+)\">.*?</span>(\s*<span class=\"bad\">)?", line[1])
        assert item, line[1]
        return item[1], bool(item[2])

    def docx_report(self, year: int) -> str:
        line = next(line for line in self.docx.splitlines() if line.startswith(f"{NAME} — ") and f"{year}:" in line)
        return re.search(rf"{year}: ([^,]*)", line)[1]  # type: ignore[index]

    def budget(self) -> dict[str, Any]:
        return next(row for row in self.api["budget"] if row["year"] == 2020)


def _sections(html: str) -> dict[str, str]:
    return {
        match[1]: match[2] for match in re.finditer(r'<section aria-labelledby="(q\d)">(.*?)</section>', html, re.S)
    }


def _docx_text(content: bytes) -> str:
    document = Document(BytesIO(content))
    lines = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        lines += [" | ".join(cell.text for cell in row.cells) for row in table.rows]
    return "\n".join(lines)


def read(client, day: date) -> Readings:
    query = {"as_of": day.isoformat()}
    api = client.get("/api/v1/briefing/", query)
    page = client.get("/insights/briefing/", query)
    docx = client.get("/insights/briefing.docx", query)
    assert (api.status_code, page.status_code, docx.status_code) == (200, 200, 200)
    call_command("scan_flags", "--as-of", day.isoformat(), stdout=StringIO())
    flags = {
        (flag.kind, flag.year if flag.kind == Flag.Kind.REPORT_OVERDUE else flag.agreement.reference)
        for flag in Flag.objects.open().filter(cluster__name=NAME).select_related("agreement")
    }
    return Readings(day, api.json(), _sections(page.content.decode()), _docx_text(docx.content), flags)


@pytest.fixture
def reader(history, officer_client):
    return lambda day: read(officer_client, day)


def day_before_and_of(event: date) -> tuple[date, date]:
    return event - ONE_DAY, event


# --- the report on 2018: due 31 March 2019, submitted late ---------------------------------------------


def test_a_report_not_submitted_is_not_overdue_on_its_due_day(reader):
    due_day = reader(date(2019, 3, 31))
    assert due_day.report(2018) == {"year": 2018, "status": "draft", "due_on": "2019-03-31", "overdue": False}
    assert due_day.page_report_status(2018) == ("draft", False)
    assert due_day.docx_report(2018) == "draft"
    assert ("report_overdue", 2018) not in due_day.flags


def test_it_is_overdue_from_the_day_after_until_the_day_it_is_submitted(reader):
    before, of = (reader(day) for day in day_before_and_of(SUBMITTED_2018))
    assert before.report(2018)["status"] == "draft"
    assert before.report(2018)["overdue"] is True
    assert before.page_report_status(2018) == ("draft", True)
    assert before.docx_report(2018) == "draft (overdue)"
    assert ("report_overdue", 2018) in before.flags

    assert of.report(2018)["status"] == "submitted"
    assert of.report(2018)["overdue"] is False
    assert of.page_report_status(2018) == ("submitted", False)
    assert of.docx_report(2018) == "submitted"
    assert ("report_overdue", 2018) not in of.flags


def test_the_report_on_2018_is_accepted_on_its_day(reader):
    before, of = (reader(day) for day in day_before_and_of(ACCEPTED_2018))
    assert (before.report(2018)["status"], of.report(2018)["status"]) == ("submitted", "accepted")
    assert (before.page_report_status(2018)[0], of.page_report_status(2018)[0]) == ("submitted", "accepted")
    assert (before.docx_report(2018), of.docx_report(2018)) == ("submitted", "accepted")


# --- the report on 2019: submitted 14 February, accepted 28 May 2020 ------------------------------------


def kpi_values(readings: Readings) -> list[tuple[Any, bool]]:
    """The reported KPIs' values and whether they are official (the derived ones come from the memberships
    and the projects, which this history has none of: no value from memberships, no project counted)."""
    from clusterpacts.models import KpiDefinition

    row = readings.cluster_row("kpis")
    assert row["year"] == 2019
    derived = set(KpiDefinition.objects.filter(source="derived").values_list("code", flat=True))
    shown = {kpi["code"]: kpi["value"] for kpi in row["kpis"] if kpi["code"] in derived}
    assert shown == {"MEM1": None, "MEM2": None, **dict.fromkeys(["CPI3", "PRJ1", "C4", "CPI7", "CPI8"], 0)} | {
        "CPI7BIS": None
    }
    return [(kpi["value"], kpi["official"]) for kpi in row["kpis"] if kpi["code"] not in derived]


def test_the_day_before_submission_the_report_is_a_draft_and_its_values_are_not_shown(reader):
    before = reader(SUBMITTED_2019 - ONE_DAY)
    assert before.report(2019) == {"year": 2019, "status": "draft", "due_on": "2020-03-31", "overdue": False}
    assert before.page_report_status(2019) == ("draft", False)
    assert before.docx_report(2019) == "draft"
    assert all(value is None for value, _official in kpi_values(before))
    assert '<span class="pending">' not in before.page["q2"]
    assert "(pending)" not in before.docx
    assert ("report_overdue", 2019) not in before.flags


def test_on_submission_day_the_report_is_submitted_and_its_values_pending(reader):
    of = reader(SUBMITTED_2019)
    assert of.report(2019) == {"year": 2019, "status": "submitted", "due_on": "2020-03-31", "overdue": False}
    assert of.page_report_status(2019) == ("submitted", False)
    assert of.docx_report(2019) == "submitted"
    values = kpi_values(of)
    assert values and all(value is not None and not official for value, official in values)
    assert '<span class="pending">' in of.page["q2"]
    assert "(pending)" in of.docx


def test_the_values_stay_pending_until_the_acceptance_day_and_are_official_on_it(reader):
    before, of = (reader(day) for day in day_before_and_of(ACCEPTED_2019))
    assert before.report(2019)["status"] == "submitted"
    assert all(value is not None and not official for value, official in kpi_values(before))
    assert '<span class="pending">' in before.page["q2"]
    assert "(pending)" in before.docx

    assert of.report(2019)["status"] == "accepted"
    assert of.page_report_status(2019) == ("accepted", False)
    assert of.docx_report(2019) == "accepted"
    assert all(value is not None and official for value, official in kpi_values(of))
    assert '<span class="pending">' not in of.page["q2"]
    assert "(pending)" not in of.docx


def test_a_step_taken_in_the_afternoon_counts_on_its_day(history):
    """The submission was at 16:00 on 14 February: as of that day (its end) it has happened."""
    from clusterpacts.selectors import report_slots

    slots = report_slots(clusters=Cluster.objects.filter(pk=history.pk), as_of=SUBMITTED_2019, years=[2019])
    assert [slot.status for slot in slots] == ["submitted"]
    assert AnnualReport.objects.get(cluster=history, year=2019).events.first().actor_name == "An Peeters"


# --- the budget: the reservation decided 10 March 2020 -------------------------------------------------


def test_an_allocation_decided_later_is_not_in_the_budget_figures(reader):
    before, of = (reader(day) for day in day_before_and_of(DECIDED))
    assert before.budget()["reserved"] == 0
    assert before.budget()["remaining"] == float(ENVELOPE)
    assert before.budget()["reservations"] == []
    assert "Reserved for the clusters 0 EUR" in before.docx
    assert "Remaining 75,000,000 EUR" in before.docx
    assert '<td class="num">75,000,000</td></tr>' in before.page["q5"]  # remaining = envelope

    assert of.budget()["reserved"] == float(RESERVATION)
    assert of.budget()["remaining"] == float(ENVELOPE - RESERVATION)
    assert [r["cluster_name"] for r in of.budget()["reservations"]] == [NAME]
    assert "Reserved for the clusters 8,000,000 EUR" in of.docx
    assert "Remaining 67,000,000 EUR" in of.docx
    assert '<td class="num">67,000,000</td></tr>' in of.page["q5"]


# --- the evaluation: registered 1 April 2020, then its stages ------------------------------------------


def evaluations(readings: Readings) -> list[dict[str, Any]]:
    return readings.cluster_row("evaluations")["evaluations"]


def docx_evaluation(readings: Readings) -> str | None:
    prefix = f"{NAME} — {EVALUATION} (2018-2020): "
    return next((line.removeprefix(prefix) for line in readings.docx.splitlines() if line.startswith(prefix)), None)


def test_an_evaluation_registered_later_is_absent(reader):
    before, of = (reader(day) for day in day_before_and_of(REGISTERED))
    assert evaluations(before) == []
    assert EVALUATION not in before.page["q1"]
    assert docx_evaluation(before) is None

    assert [(e["title"], e["stage"], e["completed_on"]) for e in evaluations(of)] == [(EVALUATION, "planned", None)]
    assert EVALUATION in of.page["q1"]
    assert docx_evaluation(of) == "planned"


@pytest.mark.parametrize(
    ("event", "stage_before", "stage_of"),
    [
        (STARTED, "planned", "in_progress"),
        (REPORTING, "in_progress", "reporting"),
        (COMPLETED, "reporting", "completed"),
    ],
)
def test_each_stage_shows_from_the_day_it_was_reached(reader, event, stage_before, stage_of):
    before, of = (reader(day) for day in day_before_and_of(event))
    labels = {"planned": "planned", "in_progress": "in progress", "reporting": "reporting", "completed": "completed"}
    for readings, stage in ((before, stage_before), (of, stage_of)):
        (item,) = evaluations(readings)
        assert item["stage"] == stage
        done = stage == "completed"
        assert (item["completed_on"], item["conclusion"]) == (
            (COMPLETED.isoformat(), "largely_achieved") if done else (None, "")
        )
        row = re.search(rf"<td>{EVALUATION}</td>.*?</tr>", readings.page["q1"], re.S)
        assert row and labels[stage] in row[0]
        assert ("largely achieved" in row[0]) is done
        assert docx_evaluation(readings).startswith(labels[stage])  # type: ignore[union-attr]


def test_the_missing_evaluation_is_flagged_until_the_day_it_is_completed(reader):
    before, of = (reader(day) for day in day_before_and_of(COMPLETED))
    assert ("evaluation_missing", "R-1") in before.flags
    assert ("evaluation_missing", "R-1") not in of.flags
    assert ("renewal_due", "R-1") in of.flags  # still no extension


# --- the agreements: renewal due from 4 July 2020, until the extension is signed 1 December 2020 -------


def renewal(readings: Readings) -> dict[str, Any]:
    return readings.cluster_row("renewals")


def docx_renewal(readings: Readings) -> str:
    line = next(line for line in readings.docx.splitlines() if line.startswith(f"{NAME} — R-"))
    return line.rsplit("(", 1)[1].rstrip(")")


def test_the_renewal_is_due_from_the_window_on(reader):
    before, of = (reader(day) for day in day_before_and_of(RENEWAL_WINDOW_OPENS))
    assert (renewal(before)["state"], renewal(of)["state"]) == ("running", "renewal_due")
    assert (docx_renewal(before), docx_renewal(of)) == ("running", "renewal due")
    assert "renewal due" not in before.page["q4"]
    assert "renewal due" in of.page["q4"]
    assert ("renewal_due", "R-1") not in before.flags
    assert {("renewal_due", "R-1"), ("evaluation_missing", "R-1")} <= of.flags


def test_an_agreement_signed_later_is_not_there_until_its_signing_day(reader):
    before, of = (reader(day) for day in day_before_and_of(EXTENSION_SIGNED))
    assert renewal(before)["agreement"] == "R-1"
    assert renewal(before)["state"] == "renewal_due"
    assert ("renewal_due", "R-1") in before.flags
    assert "renewal due" in before.page["q4"]
    assert docx_renewal(before) == "renewal due"

    assert renewal(of)["agreement"] == "R-1"  # still the running term; its successor is now signed
    assert renewal(of)["state"] == "running"
    assert renewal(of)["renewal_due"] is False
    assert not {flag for flag in of.flags if flag[1] in ("R-1", "R-2")}
    assert "renewal due" not in of.page["q4"]
    assert docx_renewal(of) == "running"


def test_before_the_first_agreement_was_signed_there_is_none(history, officer_client):
    readings = read(officer_client, date(2017, 12, 14))
    # The cluster had not started: the briefing names it nowhere.
    assert all(row["cluster_name"] != NAME for row in readings.api["renewals"])
    assert readings.flags == set()
