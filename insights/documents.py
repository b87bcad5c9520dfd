"""The briefing as a Word document, headed by its date, ready to paste into a parliamentary reply."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn

from funding.selectors import BudgetYearFigures
from insights.numbers import NumberFormat
from insights.selectors import Briefing, EvaluationsRow, KpisRow, LessonsRow, RenewalRow, ReportsRow

STAGES = {"planned": "planned", "in_progress": "in progress", "reporting": "reporting", "completed": "completed"}


def _amount(value: Decimal | None) -> str:
    return "—" if value is None else f"{number_format(value, decimal_pos=0, force_grouping=True)} EUR"


class _Styled:
    """Paragraphs in a named style, the style's id looked up once per document: python-docx looks a style up
    by name through every style of the document for each paragraph, most of a long briefing's time."""

    def __init__(self, document: DocxDocument) -> None:
        self.document = document
        self.ids: dict[str, str] = {}

    def __call__(self, text: str, style: str) -> None:
        if style not in self.ids:
            self.ids[style] = self.document.styles[style].style_id
        paragraph = self.document.add_paragraph(text)
        paragraph._p.style = self.ids[style]  # the id python-docx would set, found once

    def heading(self, text: str, level: int) -> None:
        self(text, "Title" if level == 0 else f"Heading {level}")


def briefing_docx(data: Briefing) -> bytes:
    """Render `insights.selectors.briefing()` in the active language."""
    document = Document()
    styled = _Styled(document)
    day = date_format(data["as_of"], "j F Y")
    styled.heading(_("Cluster pacts: the situation on %(day)s") % {"day": day}, 0)
    document.add_paragraph(data["summary"])
    scope = detail_scope(data)
    if scope:
        document.add_paragraph(scope)
    _evaluation_stages(styled, data["evaluations"])
    _kpis(styled, data["reports"], data["kpis"])
    _lessons(styled, data["lessons"])
    _renewals(styled, data["renewals"])
    _budget(styled, data["budget"])
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def detail_scope(data: Briefing) -> str:
    """What the per-cluster answers detail when not every cluster (a page of them, or the one asked for); ""
    when they detail every cluster."""
    detail = data["detail"]
    if detail["chosen"]:
        names = ", ".join(row["cluster_name"] for row in data["renewals"])
        return _("The answers below detail %(name)s only; the summary above counts every cluster.") % {"name": names}
    if detail["pages"] <= 1:
        return ""
    return _(
        "The answers below detail clusters %(first)s–%(last)s of %(count)s, by name (page %(page)s of "  # noqa: RUF001
        "%(pages)s); the summary above and the budget's totals count them all."
    ) % {
        "first": detail["first"],
        "last": detail["last"],
        "count": detail["clusters"],
        "page": detail["page"],
        "pages": detail["pages"],
    }


def _evaluation_stages(styled: _Styled, clusters: list[EvaluationsRow]) -> None:
    styled.heading("1. " + _("In what stage is each evaluation of the cluster pacts?"), 1)
    for row in clusters:
        for evaluation in row["evaluations"]:
            stage = _(STAGES[evaluation["stage"]])
            if evaluation["completed_on"]:
                stage += " " + date_format(evaluation["completed_on"], "SHORT_DATE_FORMAT")
            styled(
                f"{row['cluster_name']} — {evaluation['title']} "
                f"({evaluation['period_start']:%Y}-{evaluation['period_end']:%Y}): {stage}",
                "List Bullet",
            )


def _kpis(styled: _Styled, reports: list[ReportsRow], kpis: list[KpisRow]) -> None:
    """Where each cluster's reports stand, then a table of the KPIs of its latest working year."""
    number, pending = NumberFormat(), _("pending")  # the separators of the language looked up once
    styled.heading("2. " + _("How do the KPIs evolve, and how are the goals met?"), 1)
    for reported in reports:
        stand = ", ".join(
            f"{report['year']}: {_('not started') if report['status'] == 'missing' else _(report['status'])}"
            + (f" ({_('overdue')})" if report["overdue"] else "")
            for report in reported["reports"]
        )
        styled(f"{reported['cluster_name']} — {stand}", "List Bullet")
    for row in kpis:
        years = [point["year"] for point in row["kpis"][0]["years"]] if row["kpis"] else []
        if not years:
            continue
        styled.heading(
            f"{row['cluster_name']} — "
            + _("KPI evolution %(first)s–%(last)s: value / target")  # noqa: RUF001 - the en dash of a year range
            % {"first": years[0], "last": years[-1]},
            2,
        )
        lines = [[_("KPI"), *(str(year) for year in years), _("Of target") + f" {row['year']}"]]
        for kpi in row["kpis"]:
            texts = [f"{kpi['code']} {kpi['name']}"]
            for point in kpi["years"]:
                value = number(point["value"])
                if point["status"] == "pending":
                    value += f" ({pending})"
                texts.append(f"{value} / {number(point['target'])}")
            texts.append("—" if kpi["achievement"] is None else f"{kpi['achievement']} %")
            lines.append(texts)
        _table(styled.document, lines)


def _table(document: DocxDocument, lines: list[list[str]]) -> None:
    """A table of `lines` (the first its header), the rows written as one piece of XML: python-docx finds
    each cell of `cell.text` by an XPath query, most of a long briefing's time. The same cells as it writes:
    each of the grid's width, a paragraph with one run of the text."""
    table = document.add_table(rows=0, cols=len(lines[0]))
    widths = [column.get(qn("w:w")) for column in table._tbl.tblGrid.gridCol_lst]  # in twips, as written

    def run(text: str) -> str:
        if not text:
            return "<w:r/>"
        space = ' xml:space="preserve"' if text != text.strip() else ""
        return f"<w:r><w:t{space}>{escape(text)}</w:t></w:r>"

    rows = "".join(
        "<w:tr>"
        + "".join(
            f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/></w:tcPr><w:p>{run(text)}</w:p></w:tc>'
            for text, width in zip(texts, widths, strict=True)
        )
        + "</w:tr>"
        for texts in lines
    )
    table._tbl.extend(list(parse_xml(f"<w:tbl {nsdecls('w')}>{rows}</w:tbl>")))


def _lessons(styled: _Styled, clusters: list[LessonsRow]) -> None:
    styled.heading("3. " + _("What lessons came out, and how are they carried into the pacts?"), 1)
    for row in clusters:
        for lesson in row["lessons"]:
            signed_on = lesson["carried_into_signed_on"]
            where = (
                _("carried into pact version %(version)s (signed %(day)s)")
                % {"version": lesson["carried_into_version"], "day": date_format(signed_on, "SHORT_DATE_FORMAT")}
                if signed_on is not None
                else _("not yet carried into a pact")
            )
            kind = _("good practice") if lesson["kind"] == "good_practice" else _("bottleneck")
            styled(f"{row['cluster_name']} — {kind}: {lesson['text']} ({where})", "List Bullet")


def _renewals(styled: _Styled, clusters: list[RenewalRow]) -> None:
    styled.heading("4. " + _("When are the agreements renewed, and which reach the 10-year cap?"), 1)

    def short(day: Any) -> str:
        return date_format(day, "SHORT_DATE_FORMAT")

    for row in clusters:
        if row.get("agreement"):
            state = {
                "final_term": _("final term: ends on the cap"),
                "renewal_due": _("renewal due"),
                "running": _("running"),
                "ended": _("ended"),
            }[row["state"]]
            styled(
                f"{row['cluster_name']} — {row['agreement']}: "
                f"{short(row['end_date'])}; {_('Cap date')}: "
                f"{short(row['cap_date'])} ({state})",
                "List Bullet",
            )
        if not (row["chain"] or row["pacts"]):
            continue
        links = []
        for link in row["chain"]:
            text = f"{link['reference']} {short(link['start_date'])} \u2013 {short(link['end_date'])}"
            if link["extends"] and link["rests_on"]:
                text += (
                    " ("
                    + _("on the basis of the interim evaluation “%(title)s” completed %(day)s")
                    % {
                        "title": link["rests_on"]["title"],
                        "day": short(link["rests_on"]["completed_on"]),
                    }
                    + ")"
                )
            links.append(text)
        parts = []
        if row["first_start"]:
            parts.append(_("first start %(day)s") % {"day": short(row["first_start"])})
        if links:
            parts.append(_("Agreements") + ": " + "; ".join(links))
        if row["next_renewal_on"]:
            parts.append(_("Next extension from") + " " + short(row["next_renewal_on"]))
        if row["pacts"]:
            parts.append(
                _("Pact versions signed")
                + ": "
                + ", ".join(
                    _("version %(version)s (%(day)s)") % {"version": p["version"], "day": short(p["signed_on"])}
                    for p in row["pacts"]
                )
            )
        styled(f"{row['cluster_name']}: " + ". ".join(parts), "List Bullet 2")


def _budget(styled: _Styled, years: list[BudgetYearFigures]) -> None:
    styled.heading("5. " + _("What budget is foreseen for the coming years?"), 1)
    for year in years:
        undecided = "" if year.decided else f" ({_('nothing allocated by this day')})"
        styled(
            f"{year.year}{undecided}: {_('Envelope')} {_amount(year.envelope)}; {_('Reserved for the clusters')} "
            f"{_amount(year.reserved)}; {_('Inter-cluster projects')} {_amount(year.inter_cluster)}; "
            f"{_('Other initiatives')} {_amount(year.other)}; {_('Remaining')} {_amount(year.remaining)}",
            "List Bullet",
        )
    for year in years:
        _reservations(styled, year)


def _remaining(remaining: Decimal, over: Decimal) -> str:
    """What is left, or how much more was decided (as the pages mark it)."""
    return _("%(amount)s over") % {"amount": _amount(over)} if over else _amount(remaining)


def _reservations(styled: _Styled, year: BudgetYearFigures) -> None:
    """A year's reservations with the projects decided against them by the day, and the inter-cluster
    allocation with its projects (as the page's table, `insights/partials/reservations.html`)."""
    inter = bool(year.inter_cluster or year.inter_cluster_projects)
    if not (year.reservations or inter):
        return
    styled.heading(_("%(year)s: reservations and projects decided against them") % {"year": year.year}, 2)
    table = styled.document.add_table(rows=1, cols=5)
    titles = [_("Cluster"), _("Reserved"), _("Decided"), _("Projects"), _("Remaining")]
    for cell, title in zip(table.rows[0].cells, titles, strict=True):
        cell.text = title
    lines = [
        (r.cluster_name, r.amount, r.decided, r.projects, _remaining(r.remaining, r.over)) for r in year.reservations
    ]
    if inter:
        lines.append(
            (
                _("Inter-cluster allocation"),
                year.inter_cluster,
                year.inter_cluster_decided,
                year.inter_cluster_projects,
                _remaining(year.inter_cluster_remaining, year.inter_cluster_over),
            )
        )
    for name, reserved, decided, count, remaining in lines:
        cells = table.add_row().cells
        for cell, text in zip(cells, (name, _amount(reserved), _amount(decided), str(count), remaining), strict=True):
            cell.text = text
