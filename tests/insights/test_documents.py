"""The briefing document answers the five questions of the seed, each under its own numbered heading."""

from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.utils import translation
from docx import Document

from clusterpacts import services as cp
from clusterpacts.models import KpiDefinition
from evaluations.models import Lesson
from evaluations.services import lesson_carry
from funding.services import agreement_create, agreement_extend
from insights.documents import briefing_docx
from insights.selectors import briefing
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(cluster):
    """As of 1 April 2020: an interim evaluation completed in May 2019 whose lesson went into the pact
    signed in December 2019; the 2019 report submitted; the second agreement running; the 2020 budget."""
    evaluation = factories.completed_interim(cluster, date(2019, 5, 31))
    evaluation.title = "Interim evaluation 1"
    evaluation.save()
    pact = cp.pact_sign(pact=cp.pact_create(cluster=cluster), signed_on=date(2019, 12, 15))
    lesson = cp.entity_save(instance=Lesson(evaluation=evaluation, kind="good_practice", text="Roadmaps work."))
    lesson_carry(lesson=lesson, pact=pact)
    report = cp.annual_report_create(cluster=cluster, year=2019)
    cp.kpi_value_set(report=report, kpi=KpiDefinition.objects.get(code="C2"), value=Decimal(12))
    cp.document_transition(document=report, to="submitted", at=datetime(2020, 3, 15, tzinfo=UTC), notify=False)
    first = agreement_create(
        cluster=cluster,
        reference="SO-CAT-1",
        start_date=date(2017, 1, 1),
        end_date=date(2019, 12, 31),
        amount=Decimal(1_500_000),
    )
    agreement_extend(predecessor=first, reference="SO-CAT-2", end_date=date(2022, 12, 31), amount=Decimal(1_500_000))
    factories.BudgetYearFactory(year=2020, envelope=Decimal(75_000_000))


def _answers(as_of: date, user) -> tuple[dict[str, list[str]], list[list[str]]]:
    """The document's bullet lines under each heading of level 1, and the rows of its tables."""
    with translation.override("en"):
        content = briefing_docx(briefing(user=user, as_of=as_of))
    document = Document(BytesIO(content))
    answers: dict[str, list[str]] = {}
    for paragraph in document.paragraphs[1:]:
        if paragraph.style.name == "Heading 1":
            question = paragraph.text
            answers[question] = []
        elif paragraph.style.name == "List Bullet":
            answers[question].append(paragraph.text)
    rows = [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]
    return answers, rows


def test_the_document_answers_the_five_questions_in_order(record, officer):
    answers, rows = _answers(date(2020, 4, 1), officer)

    assert list(answers) == [
        "1. In what stage is each evaluation of the cluster pacts?",
        "2. How do the KPIs evolve, and how are the goals met?",
        "3. What lessons came out, and how are they carried into the pacts?",
        "4. When are the agreements renewed, and which reach the 10-year cap?",
        "5. What budget is foreseen for the coming years?",
    ]
    stages, reports, lessons, renewals, budget = answers.values()
    assert stages == ["Catalisti — Interim evaluation 1 (2017-2018): completed 31/05/2019"]
    assert reports[0].startswith("Catalisti — 2019: submitted")
    # The KPIs' evolution: a column per working year from the start (value / target), then the last one's score.
    assert rows[0] == ["KPI", "2017", "2018", "2019", "Of target 2019"]
    assert [row[3] for row in rows if row[0].startswith("C2 ")] == ["12 (pending) / —"]
    assert lessons == ["Catalisti — good practice: Roadmaps work. (carried into pact version 1 (signed 15/12/2019))"]
    assert renewals == ["Catalisti — SO-CAT-2: 31/12/2022; Cap date: 31/12/2026 (running)"]
    assert budget == [
        "2020 (nothing allocated by this day): Envelope 75,000,000 EUR; Reserved for the clusters 0 EUR; "
        "Inter-cluster projects 0 EUR; Other initiatives 0 EUR; Remaining 75,000,000 EUR"
    ]


def test_the_document_tells_only_what_had_happened_by_its_day(record, officer):
    answers, _rows = _answers(date(2019, 6, 1), officer)

    stages, reports, lessons, renewals, budget = answers.values()
    # The two ended working years were never reported on: overdue, as the page and the JSON say.
    assert reports == ["Catalisti — 2018: not started (overdue), 2017: not started (overdue)"], "2019: not due yet"
    assert stages == ["Catalisti — Interim evaluation 1 (2017-2018): completed 31/05/2019"]
    assert lessons == ["Catalisti — good practice: Roadmaps work. (not yet carried into a pact)"]
    assert renewals == ["Catalisti — SO-CAT-1: 31/12/2019; Cap date: 31/12/2026 (running)"]
    assert [line.split(":")[0] for line in budget] == ["2020 (nothing allocated by this day)"], "a coming year"


def test_a_table_written_as_one_piece_of_xml_is_the_one_python_docx_writes_cell_by_cell():
    from insights.documents import _table

    lines = [["KPI", "2020", "2021 & <after>"], ["C2 Members", " padded ", "1.234 / 5"], ["x", "", "—"]]
    by_cell = Document()
    table = by_cell.add_table(rows=len(lines), cols=3)
    for cells, texts in zip((row.cells for row in table.rows), lines, strict=True):
        for cell, text in zip(cells, texts, strict=True):
            cell.text = text
    at_once = Document()
    _table(at_once, lines)
    assert at_once.tables[0]._tbl.xml == by_cell.tables[0]._tbl.xml
    assert [[cell.text for cell in row.cells] for row in at_once.tables[0].rows] == lines
